import type { Story } from '../domain.js';
import type { FeedFormat, RiverMeta } from './render-feed.js';
import { cleanOptional, cleanText, safeUrl } from './render-text.js';

// What the three renderers share: one cleaned view of the river and of each story, with the
// identity and attribution rules decided once so RSS, Atom and JSON Feed never disagree.

/**
 * Tag URI (RFC 4151) prefix for stories without a link. The id is derived from the story's
 * identity key, never a database serial, so a reader sees the same entry after a re-import.
 */
export const STORY_TAG_PREFIX = 'tag:tributary,2025:';

export interface PublisherView {
  readonly name: string;
  readonly url: string | null;
  readonly feedUrl: string | null;
}

export interface StoryView {
  /** Atom id / JSON Feed id / RSS guid: the canonical URL, else the tag URI. */
  readonly id: string;
  /** Canonical URL, null for link-less stories. */
  readonly url: string | null;
  readonly title: string;
  /** The story's own author, if it named one. */
  readonly author: string | null;
  /** The byline to show: the author, else the publisher. */
  readonly byline: string;
  readonly publisher: PublisherView;
  readonly via: readonly string[];
  readonly publishedAt: Date;
  readonly updatedAt: Date;
  /** HTML. */
  readonly summary: string | null;
  /** HTML. */
  readonly content: string | null;
  readonly categories: readonly string[];
}

export interface RiverView {
  readonly title: string;
  readonly description: string | null;
  readonly selfUrl: string;
  readonly homeUrl: string;
  readonly alternates: Partial<Record<FeedFormat, string>>;
  readonly updated: Date;
  readonly generator: string;
}

export function viewRiver(river: RiverMeta): RiverView {
  const alternates: Partial<Record<FeedFormat, string>> = {};
  for (const [format, url] of Object.entries(river.alternates) as [FeedFormat, string | undefined][]) {
    if (url) alternates[format] = safeUrl(url);
  }
  return {
    title: cleanText(river.title),
    description: cleanOptional(river.description),
    selfUrl: safeUrl(river.selfUrl),
    homeUrl: safeUrl(river.homeUrl),
    alternates,
    updated: validDate(river.updated, 'river.updated'),
    generator: cleanText(river.generator),
  };
}

export function viewStory(story: Story): StoryView {
  const where = `story ${story.id}`;
  const url = optionalUrl(story.url);
  const publisherUrl = optionalUrl(story.publisher.url);
  const author = cleanOptional(story.author);
  // A publisher always has a name in the domain; if it was blank, its address is the next best
  // attribution, and Atom (RFC 4287 §4.1.2) needs some author name on every entry.
  const publisherName = cleanOptional(story.publisher.name) ?? publisherUrl ?? 'Unknown publisher';
  return {
    id: url ?? STORY_TAG_PREFIX + encodeURIComponent(cleanText(story.id)),
    url,
    title: cleanText(story.title).trim(),
    author,
    byline: author ?? publisherName,
    publisher: { name: publisherName, url: publisherUrl, feedUrl: optionalUrl(story.publisher.feedUrl) },
    via: story.via.map(cleanText),
    publishedAt: validDate(story.publishedAt, `${where}: publishedAt`),
    updatedAt: validDate(story.updatedAt, `${where}: updatedAt`),
    summary: cleanOptional(story.summary),
    content: cleanOptional(story.content),
    categories: story.categories.map((c) => cleanOptional(c)).filter((c): c is string => c !== null),
  };
}

function optionalUrl(url: string | null): string | null {
  if (url === null) return null;
  const safe = safeUrl(url);
  return safe === '' ? null : safe;
}

/** An Invalid Date would throw deep inside toISOString(); fail here instead, naming the field. */
function validDate(date: Date, what: string): Date {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new RangeError(`cannot render feed: ${what} is not a valid date (${String(date)})`);
  }
  return date;
}
