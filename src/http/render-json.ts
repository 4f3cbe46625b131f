import type { RiverView, StoryView } from './render-story.js';
import { htmlToPlainText } from './render-text.js';

// JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/). Built here rather than with `feed`'s json1(),
// which writes version 1 with the deprecated singular `author`, puts HTML in `summary` (plain text
// in the spec) and only when content exists, so post-processing would have replaced most of it.

export const JSON_FEED_VERSION = 'https://jsonfeed.org/version/1.1';

export interface JsonFeedAuthor {
  name: string;
  url?: string;
}

/** Tributary's item extension (JSON Feed §"Extensions": custom keys start with an underscore). */
export interface TributaryExtension {
  /** The original publisher's name. */
  publisher: string;
  publisher_url: string | null;
  publisher_feed: string | null;
  /** Ids of the configured sources whose feeds carried the story. */
  via: string[];
}

export interface JsonFeedItem {
  id: string;
  url?: string;
  title: string;
  content_html: string;
  summary?: string;
  date_published: string;
  date_modified: string;
  authors: JsonFeedAuthor[];
  /** Deprecated in 1.1 (replaced by `authors`), kept so JSON Feed 1.0 readers still see a byline. */
  author: JsonFeedAuthor;
  tags?: string[];
  _tributary: TributaryExtension;
}

export interface JsonFeedDocument {
  version: typeof JSON_FEED_VERSION;
  title: string;
  home_page_url: string;
  feed_url: string;
  description?: string;
  items: JsonFeedItem[];
}

export function renderJsonFeed(river: RiverView, stories: readonly StoryView[]): string {
  const doc: JsonFeedDocument = {
    version: JSON_FEED_VERSION,
    title: river.title,
    home_page_url: river.homeUrl,
    feed_url: river.selfUrl,
    ...(river.description === null ? {} : { description: river.description }),
    items: stories.map(jsonFeedItem),
  };
  return JSON.stringify(doc, null, 2);
}

function jsonFeedItem(story: StoryView): JsonFeedItem {
  const { publisher } = story;
  const publisherAuthor: JsonFeedAuthor = { name: publisher.name, ...(publisher.url === null ? {} : { url: publisher.url }) };
  // The story's own author first, then the publisher it appeared at (unless they are the same name).
  const authors = story.author === null || story.author === publisher.name ? [publisherAuthor] : [{ name: story.author }, publisherAuthor];
  const summary = story.summary === null ? '' : htmlToPlainText(story.summary);
  return {
    id: story.id,
    ...(story.url === null ? {} : { url: story.url }),
    title: story.title,
    // The spec requires content_html or content_text on every item; an empty string satisfies it.
    content_html: story.content ?? story.summary ?? '',
    ...(summary === '' ? {} : { summary }),
    date_published: story.publishedAt.toISOString(),
    date_modified: story.updatedAt.toISOString(),
    authors,
    author: authors[0] as JsonFeedAuthor,
    ...(story.categories.length === 0 ? {} : { tags: [...story.categories] }),
    _tributary: {
      publisher: publisher.name,
      publisher_url: publisher.url,
      publisher_feed: publisher.feedUrl,
      via: [...story.via],
    },
  };
}
