import type { ContentPolicy, Enclosure, Story } from '../domain.js';
import type { FeedFormat, RiverMeta } from './render-feed.js';
import { cleanOptional, cleanText, escapeAttr, escapeText, safeUrl } from './render-text.js';

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

export interface EnclosureView {
  readonly url: string;
  /**
   * Always a MIME type, because RSS <enclosure> and JSON Feed attachments require one: the one the
   * publisher gave, else one guessed from the file name, else application/octet-stream.
   */
  readonly type: string;
  /** Bytes; null when unknown (RSS then writes 0, its "unknown"; Atom and JSON Feed leave it out). */
  readonly length: number | null;
  /** Media RSS `medium`, from the type: image, audio or video; null for anything else. */
  readonly medium: 'image' | 'audio' | 'video' | null;
}

export interface StoryView {
  /** Atom id / JSON Feed id / RSS guid: the canonical URL, else the tag URI. */
  readonly id: string;
  /** Canonical URL, null for link-less stories. */
  readonly url: string | null;
  readonly title: string;
  /** The story's own author, if it named one (the name, without an e-mail address it carried). */
  readonly author: string | null;
  /** The author's e-mail address, when the author string carried a well-formed one next to a name. */
  readonly authorEmail: string | null;
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
  readonly enclosures: readonly EnclosureView[];
  /** The story's image (absolute http(s)). */
  readonly image: string | null;
  /**
   * "Originally published by X" as an HTML paragraph, to end the entry's content with: set when the
   * river asks for footers, the policy is `full` and there is content to end.
   */
  readonly footer: string | null;
}

export interface RiverView {
  readonly title: string;
  readonly description: string | null;
  readonly selfUrl: string;
  readonly homeUrl: string;
  readonly alternates: Partial<Record<FeedFormat, string>>;
  readonly updated: Date;
  readonly generator: string;
  readonly links: {
    readonly next: string | null;
    readonly prevArchive: string | null;
    readonly current: string | null;
    readonly hub: string | null;
  };
  /** Whole minutes, at least 1 (RSS <ttl> is a positive integer); null when not given. */
  readonly ttlMinutes: number | null;
  readonly footer: boolean;
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
    links: {
      next: optionalUrl(river.links?.next ?? null),
      prevArchive: optionalUrl(river.links?.prevArchive ?? null),
      current: optionalUrl(river.links?.current ?? null),
      hub: optionalUrl(river.links?.hub ?? null),
    },
    ttlMinutes: ttl(river.ttlMinutes),
    footer: river.footer === true,
  };
}

export interface ViewStoryOptions {
  /** The river asks for "Originally published by X" footers (RiverMeta.footer). */
  readonly footer?: boolean;
}

export function viewStory(story: Story, options: ViewStoryOptions = {}): StoryView {
  const where = `story ${story.id}`;
  const url = optionalUrl(story.url);
  const publisherUrl = optionalUrl(story.publisher.url);
  const { name: author, email: authorEmail } = splitAuthor(cleanOptional(story.author));
  // A publisher always has a name in the domain; if it was blank, its address is the next best
  // attribution, and Atom (RFC 4287 §4.1.2) needs some author name on every entry.
  const publisherName = cleanOptional(story.publisher.name) ?? publisherUrl ?? 'Unknown publisher';
  const text = applyContentPolicy(story.contentPolicy, cleanOptional(story.summary), cleanOptional(story.content));
  const publisher: PublisherView = { name: publisherName, url: publisherUrl, feedUrl: optionalUrl(story.publisher.feedUrl) };
  return {
    id: url ?? STORY_TAG_PREFIX + encodeURIComponent(cleanText(story.id)),
    url,
    title: cleanText(story.title).trim(),
    author,
    authorEmail,
    byline: author ?? publisherName,
    publisher,
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
    // `??`: Story objects built before issue #5 (fixtures, callers mid-change) may lack the fields.
    enclosures: viewEnclosures(story.enclosures ?? []),
    image: optionalHttpUrl(story.image ?? null),
    footer: options.footer === true && story.contentPolicy === 'full' && text.content !== null ? footerHtml(publisher, url) : null,
  };
}

/**
 * The footer line of the issue: "Originally published by <a href=publisher>Publisher</a>", linked
 * to the publisher's site, else to the story there, else plain. Escaped here: the name is text.
 */
export function footerHtml(publisher: PublisherView, storyUrl: string | null): string {
  const name = escapeText(publisher.name);
  const href = publisher.url ?? storyUrl;
  return `<p>Originally published by ${href === null ? name : `<a href="${escapeAttr(href)}">${name}</a>`}</p>`;
}

// The addr-spec shape the W3C validator accepts (feedvalidator validators.py, addr_spec): an
// address it would reject must not be written into RSS <author> or Atom <email>.
const EMAIL = /^[A-Z0-9_+.'-]+@(?:(?:[0-9]{1,3}\.){3}|(?:[A-Z0-9-]+\.)+)[A-Z0-9][A-Z0-9-]*$/i;

/**
 * "jane@example.com (Jane Doe)" (RSS 2.0's form) and "Jane Doe <jane@example.com>" (RFC 5322's)
 * become the name and the address; anything else is a name. A bare address stays the name, with no
 * separate address: RSS <author> wants a name beside it (W3C: MissingRealName).
 */
export function splitAuthor(author: string | null): { name: string | null; email: string | null } {
  if (author === null) return { name: null, email: null };
  const rss = /^(\S+)\s*\((.+)\)$/.exec(author);
  const rfc5322 = /^(.+?)\s*<([^<>\s]+)>$/.exec(author);
  const [email, name] = rss ? [rss[1], rss[2]] : rfc5322 ? [rfc5322[2], rfc5322[1]] : [undefined, undefined];
  const cleanName = name?.replace(/^["'\s]+|["'\s]+$/g, '');
  if (email === undefined || !EMAIL.test(email) || !cleanName) return { name: author, email: null };
  return { name: cleanName, email };
}

// Common file name extensions, for enclosures whose publisher gave no type.
const GUESSED_TYPES: Readonly<Record<string, string>> = {
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  opus: 'audio/opus',
  wav: 'audio/wav',
  flac: 'audio/flac',
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  mov: 'video/quicktime',
  webm: 'video/webm',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  svg: 'image/svg+xml',
  pdf: 'application/pdf',
  epub: 'application/epub+zip',
};

// RFC 6838 §4.2 restricted names: what the W3C validator's mime_re accepts, and no more.
const MIME_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/;

function viewEnclosures(enclosures: readonly Enclosure[]): EnclosureView[] {
  const out: EnclosureView[] = [];
  for (const e of enclosures) {
    const url = optionalHttpUrl(e.url);
    if (url === null || out.some((known) => known.url === url)) continue;
    const given = e.type === null ? '' : cleanText(e.type).trim().toLowerCase();
    const type = MIME_TYPE.test(given) ? given : (guessType(url) ?? 'application/octet-stream');
    const length = typeof e.length === 'number' && Number.isSafeInteger(e.length) && e.length > 0 ? e.length : null;
    const major = type.slice(0, type.indexOf('/'));
    out.push({ url, type, length, medium: major === 'image' || major === 'audio' || major === 'video' ? major : null });
  }
  return out;
}

function guessType(url: string): string | null {
  const ext = /\.([a-z0-9]{1,5})$/i.exec(new URL(url).pathname)?.[1]?.toLowerCase();
  return ext === undefined ? null : (GUESSED_TYPES[ext] ?? null);
}

/** safeUrl for media: only absolute http(s) URLs reach a reader's enclosure or image handling. */
function optionalHttpUrl(url: string | null): string | null {
  const safe = url === null ? null : optionalUrl(url);
  if (safe === null) return null;
  try {
    const protocol = new URL(safe).protocol;
    return protocol === 'http:' || protocol === 'https:' ? safe : null;
  } catch {
    return null;
  }
}

/** RSS <ttl> is a positive whole number of minutes; a fraction rounds up. */
function ttl(minutes: number | undefined): number | null {
  if (minutes === undefined) return null;
  if (!Number.isFinite(minutes) || minutes < 0) {
    throw new RangeError(`cannot render feed: river.ttlMinutes must be a non-negative number of minutes (${String(minutes)})`);
  }
  return Math.max(1, Math.ceil(minutes));
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
