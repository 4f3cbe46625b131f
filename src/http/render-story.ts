import type { ContentPolicy, Story } from '../domain.js';
import type { FeedFormat, RiverMeta } from './render-feed.js';
import { cleanOptional, cleanText, safeUrl } from './render-text.js';

// What the three renderers share: one cleaned view of the river and of each story, with the
// identity, attribution and content-policy rules decided once so RSS, Atom and JSON Feed never
// disagree.
//
// Content policy (feeds.yaml `content`, the policy of the source whose text is stored) is applied
// here, by what the view carries; renderers write what they are given:
//   full     content = the full text, else the summary (the fullest text there is); summary = summary
//   summary  summary only; content = null
//   none     no text at all: title, link, dates, attribution
// Whatever the policy, the entry links to the canonical URL at the publisher (url below).

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

/** Another publisher of the same story (a member of its cluster). */
export interface AlsoPublishedView {
  /** The publisher's name (else its address, else "Unknown publisher"). */
  readonly name: string;
  /** The story's canonical URL at that publisher; null for a link-less story. */
  readonly url: string | null;
  /** The publisher's home page. */
  readonly publisherUrl: string | null;
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
  /** HTML the entry may carry as its summary/description (null under policy none). */
  readonly summary: string | null;
  /** HTML the entry may carry as its content (policy full only; the summary when there is no full text). */
  readonly content: string | null;
  readonly contentPolicy: ContentPolicy;
  readonly categories: readonly string[];
  /** The story's cluster's other members, earliest first. */
  readonly alsoPublishedBy: readonly AlsoPublishedView[];
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
  const text = applyContentPolicy(story.contentPolicy, cleanOptional(story.summary), cleanOptional(story.content));
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
    summary: text.summary,
    content: text.content,
    contentPolicy: story.contentPolicy,
    categories: story.categories.map((c) => cleanOptional(c)).filter((c): c is string => c !== null),
    alsoPublishedBy: story.alsoPublishedBy.map((other) => {
      const otherPublisherUrl = optionalUrl(other.publisher.url);
      return {
        name: cleanOptional(other.publisher.name) ?? otherPublisherUrl ?? 'Unknown publisher',
        url: optionalUrl(other.url),
        publisherUrl: otherPublisherUrl,
      };
    }),
  };
}

/** What of the stored text an entry carries under each policy (see the top of this file). */
export function applyContentPolicy(
  policy: ContentPolicy,
  summary: string | null,
  content: string | null,
): { summary: string | null; content: string | null } {
  switch (policy) {
    case 'full':
      return { summary, content: content ?? summary };
    case 'summary':
      return { summary, content: null };
    case 'none':
      return { summary: null, content: null };
    default: {
      const never: never = policy;
      throw new TypeError(`cannot render feed: unknown content policy ${JSON.stringify(never)}`);
    }
  }
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
