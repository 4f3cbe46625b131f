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
  /** The other publishers of the same story (its cluster's other members), earliest first. */
  also_published_by: TributaryAlsoPublished[];
}

export interface TributaryAlsoPublished {
  /** The publisher's name. */
  name: string;
  /** The story at that publisher (its canonical URL); null for a link-less story. */
  url: string | null;
  /** The publisher's home page. */
  publisher_url: string | null;
}

/** JSON Feed 1.1 "Attachments": url and mime_type are required. */
export interface JsonFeedAttachment {
  url: string;
  mime_type: string;
  size_in_bytes?: number;
}

/** JSON Feed 1.1 "Subscribing to Feeds": a hub to subscribe to for real-time updates. */
export interface JsonFeedHub {
  type: string;
  url: string;
}

export interface JsonFeedItem {
  id: string;
  url?: string;
  title: string;
  /** Exactly one of content_html and content_text is present (see jsonFeedItem). */
  content_html?: string;
  content_text?: string;
  summary?: string;
  date_published: string;
  date_modified: string;
  authors: JsonFeedAuthor[];
  /** Deprecated in 1.1 (replaced by `authors`), kept so JSON Feed 1.0 readers still see a byline. */
  author: JsonFeedAuthor;
  tags?: string[];
  image?: string;
  attachments?: JsonFeedAttachment[];
  _tributary: TributaryExtension;
}

export interface JsonFeedDocument {
  version: typeof JSON_FEED_VERSION;
  title: string;
  home_page_url: string;
  feed_url: string;
  description?: string;
  /** RFC 5005's rel="next" in JSON Feed terms: the next (older) page of this river. */
  next_url?: string;
  hubs?: JsonFeedHub[];
  items: JsonFeedItem[];
}

export function renderJsonFeed(river: RiverView, stories: readonly StoryView[]): string {
  const doc: JsonFeedDocument = {
    version: JSON_FEED_VERSION,
    title: river.title,
    home_page_url: river.homeUrl,
    feed_url: river.selfUrl,
    ...(river.description === null ? {} : { description: river.description }),
    ...(river.links.next === null ? {} : { next_url: river.links.next }),
    ...(river.links.hub === null ? {} : { hubs: [{ type: 'WebSub', url: river.links.hub }] }),
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
  // The view already applied the content policy: `full` gives the full text (else the summary),
  // `summary` the summary, `none` nothing. JSON Feed 1.1 ("Items"): "content_html and content_text
  // are each optional strings — but one or the other must be present". With no text to give (policy
  // none, or a story that has none) the item says so with an empty content_text: present, valid,
  // and it claims no HTML.
  // The footer, when there is one, ends the content (it is only set when there is content).
  const html = story.content === null ? story.summary : story.content + (story.footer ?? '');
  return {
    id: story.id,
    ...(story.url === null ? {} : { url: story.url }),
    title: story.title,
    ...(html === null ? { content_text: '' } : { content_html: html }),
    ...(summary === '' ? {} : { summary }),
    date_published: story.publishedAt.toISOString(),
    date_modified: story.updatedAt.toISOString(),
    authors,
    author: authors[0] as JsonFeedAuthor,
    ...(story.categories.length === 0 ? {} : { tags: [...story.categories] }),
    ...(story.image === null ? {} : { image: story.image }),
    ...(story.enclosures.length === 0
      ? {}
      : {
          attachments: story.enclosures.map((e) => ({ url: e.url, mime_type: e.type, ...(e.length === null ? {} : { size_in_bytes: e.length }) })),
        }),
    // Exactly these five keys (the contract): the original publisher first, then how the
    // story reached the river.
    _tributary: {
      publisher: publisher.name,
      publisher_url: publisher.url,
      publisher_feed: publisher.feedUrl,
      via: [...story.via],
      also_published_by: story.alsoPublishedBy.map((other) => ({ name: other.name, url: other.url, publisher_url: other.publisherUrl })),
    },
  };
}
