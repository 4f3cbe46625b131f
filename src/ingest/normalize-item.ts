// ParsedItem -> NormalizedItem: decide the story's identity, sanitise its HTML, settle its dates,
// fingerprint its title and text for near-duplicate grouping. Pure: the clock comes in as ctx.now.
import { createHash } from 'node:crypto';
import type { Enclosure, NormalizedItem, OriginRef, ParsedItem } from '../domain.js';
import { canonicalUrl } from './canonical-url.js';
import { identityKeyFor } from './identity.js';
import { escapeHtml, htmlToText, sanitizeHtml } from './sanitize-html.js';
import { simhash } from './simhash.js';
import { titleKey } from './title-key.js';

// refresh-source.ts imports storyIdFor from here; the identity rules themselves live in identity.ts.
export { storyIdFor } from './identity.js';

export interface NormalizeContext {
  readonly sourceId: string;
  readonly feedUrl: string;
  readonly now: Date;
  /**
   * The original story's URL, when the item is an aggregator's republication and the original was
   * found (dc:source, the page's rel=canonical, an attribution link). The story's canonical URL and
   * identity come from it; the item's `link` stays what the feed published. Ignored when it is not
   * an absolute http(s) URL.
   */
  readonly originalUrl?: string | null;
}

/** A date further ahead than this is a publisher's clock or time-zone error, not a scheduled story. */
const FUTURE_TOLERANCE_MS = 24 * 60 * 60 * 1000;
const MAX_CATEGORIES = 20;
const DERIVED_TITLE_CHARS = 80;
const DERIVED_SUMMARY_CHARS = 400;
const MAX_ENCLOSURES = 10;
/** Longer is not a link anyone publishes on purpose, and every byte is stored and republished. */
const MAX_URL_CHARS = 2048;

/** Normalise one parsed item. Null when it has nothing to identify it by (no link, guid or title). */
export function normalizeItem(item: ParsedItem, ctx: NormalizeContext): NormalizedItem | null {
  // In order: the original story an aggregator republished; FeedBurner's origLink (it rewrites
  // links to its click tracker and keeps the publisher's URL there); the item's own link.
  const canonical =
    (ctx.originalUrl ? canonicalUrl(ctx.originalUrl) : null) ??
    (item.origLink ? canonicalUrl(item.origLink) : null) ??
    (item.link ? canonicalUrl(item.link) : null);
  const guid = stripControls(item.guid).trim() || null;
  const titleText = htmlToText(stripControls(item.title));
  // Base for relative URLs in the HTML: the page the story was published at, else the feed.
  const base = item.link ?? ctx.feedUrl;

  const content = nonEmpty(item.contentHtml ? sanitizeHtml(stripControls(item.contentHtml), base) : '');
  const summary =
    nonEmpty(item.summaryHtml ? sanitizeHtml(stripControls(item.summaryHtml), base) : '') ??
    // No summary: a plain-text excerpt of the content (cutting HTML would leave broken markup).
    (content ? nonEmpty(escapeHtml(truncate(htmlToText(content), DERIVED_SUMMARY_CHARS))) : null);
  const bodyText = htmlToText(content ?? summary);

  // The canonical URL, else the guid, else the title (identity.ts: the rules are versioned).
  const identityKey = identityKeyFor({ canonicalUrl: canonical, sourceId: ctx.sourceId, guid, title: titleText });
  if (identityKey === null) return null;

  const title = titleText || truncate(htmlToText(summary ?? content), DERIVED_TITLE_CHARS) || '(untitled)';
  return {
    identityKey,
    canonicalUrl: canonical,
    guid,
    link: item.link,
    title,
    author: nonEmpty(htmlToText(stripControls(item.author))),
    summary,
    content,
    publishedAt: clampFuture(item.publishedAt, ctx.now),
    updatedAt: clampFuture(item.updatedAt, ctx.now),
    categories: cleanCategories(item.categories),
    origin: cleanOrigin(item.origin),
    // Text only, whitespace collapsed: re-indented markup, re-ordered attributes or a tracking
    // parameter changed inside a link are not edits a reader would notice.
    contentHash: sha256Hex(`${title}\n${bodyText}`),
    titleKey: titleKey(title),
    // The text only: papers carrying one wire story dress its headline differently, and the title
    // has its own key. A story with no text gets EMPTY_SIMHASH (all zeros): nothing to compare.
    simhash: simhash(bodyText),
    // Not part of contentHash: a changed enclosure or image is not an edit of the story's text.
    enclosures: cleanEnclosures(item.enclosures ?? [], base),
    image: cleanMediaUrl(item.image, base),
  };
}

/**
 * Enclosures as they are stored and republished: absolute http(s) URLs only (a `javascript:` or
 * `data:` URL must never reach a reader's enclosure handler), a MIME type only when it is one, a
 * length only when it is a positive whole number; duplicates merged; at most 10.
 */
export function cleanEnclosures(enclosures: readonly Enclosure[], base: string | null = null): Enclosure[] {
  const out: Enclosure[] = [];
  for (const e of enclosures) {
    const url = cleanMediaUrl(e.url, base);
    if (url === null) continue;
    const type = cleanMimeType(e.type);
    const length = typeof e.length === 'number' && Number.isSafeInteger(e.length) && e.length > 0 ? e.length : null;
    const at = out.findIndex((known) => known.url === url);
    const known = out[at];
    if (known) out[at] = { url, type: known.type ?? type, length: known.length ?? length };
    else if (out.length < MAX_ENCLOSURES) out.push({ url, type, length });
  }
  return out;
}

/** An absolute http(s) URL (resolved against `base` when relative), else null. */
export function cleanMediaUrl(raw: string | null | undefined, base: string | null = null): string | null {
  const trimmed = stripControls(raw).trim();
  if (trimmed === '' || trimmed.length > MAX_URL_CHARS) return null;
  try {
    const url = base === null ? new URL(trimmed) : new URL(trimmed, base);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.href.length <= MAX_URL_CHARS ? url.href : null;
  } catch {
    return null;
  }
}

// RFC 6838 §4.2 restricted names.
const MIME_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/;

function cleanMimeType(raw: string | null | undefined): string | null {
  const type = (stripControls(raw).split(';')[0] ?? '').trim().toLowerCase();
  return MIME_TYPE.test(type) ? type : null;
}

function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

function clampFuture(date: Date | null, now: Date): Date | null {
  if (!date || Number.isNaN(date.getTime())) return null;
  return date.getTime() - now.getTime() > FUTURE_TOLERANCE_MS ? new Date(now.getTime()) : date;
}

/** Trimmed, whitespace collapsed, de-duplicated ignoring case (first spelling wins), at most 20. */
function cleanCategories(categories: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of categories) {
    const c = htmlToText(stripControls(raw));
    const key = c.toLowerCase();
    if (!c || seen.has(key)) continue;
    seen.add(key);
    out.push(c);
    if (out.length === MAX_CATEGORIES) break;
  }
  return out;
}

function cleanOrigin(origin: OriginRef | null): OriginRef | null {
  if (!origin) return null;
  const name = nonEmpty(htmlToText(stripControls(origin.name)));
  const url = stripControls(origin.url).trim() || null;
  const id = stripControls(origin.id).trim() || null;
  return name === null && url === null && id === null ? null : { name, url, id };
}

/**
 * Remove control characters other than tab, newline and carriage return. XML 1.0 forbids them, but
 * JSON Feed strings and character references can carry them, and PostgreSQL rejects NUL in text.
 */
function stripControls(s: string | null | undefined): string {
  return s ? s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '') : '';
}

/** Cut at a word boundary near `max` characters, marking the cut with an ellipsis. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

function nonEmpty(s: string | null | undefined): string | null {
  return s && s.trim() !== '' ? s : null;
}
