// ParsedItem -> NormalizedItem: decide the story's identity, sanitise its HTML, settle its dates.
// Pure: the clock comes in as ctx.now.
import { createHash } from 'node:crypto';
import type { NormalizedItem, OriginRef, ParsedItem } from '../domain.js';
import { canonicalUrl } from './canonical-url.js';
import { escapeHtml, htmlToText, sanitizeHtml } from './sanitize-html.js';

export interface NormalizeContext {
  readonly sourceId: string;
  readonly feedUrl: string;
  readonly now: Date;
}

/** A date further ahead than this is a publisher's clock or time-zone error, not a scheduled story. */
const FUTURE_TOLERANCE_MS = 24 * 60 * 60 * 1000;
const MAX_CATEGORIES = 20;
const DERIVED_TITLE_CHARS = 80;
const DERIVED_SUMMARY_CHARS = 400;
/**
 * Longer guids are hashed in the identity key: a key must fit a B-tree index entry (PostgreSQL caps
 * those near 2.7 kB), and some feeds put whole URLs with long query strings or even text in <guid>.
 */
const MAX_GUID_KEY_CHARS = 500;

/** Normalise one parsed item. Null when it has nothing to identify it by (no link, guid or title). */
export function normalizeItem(item: ParsedItem, ctx: NormalizeContext): NormalizedItem | null {
  // FeedBurner rewrites links to its click tracker and keeps the publisher's URL in origLink.
  const canonical = (item.origLink ? canonicalUrl(item.origLink) : null) ?? (item.link ? canonicalUrl(item.link) : null);
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

  let identityKey: string;
  if (canonical) identityKey = `url:${canonical}`;
  else if (guid) identityKey = `guid:${ctx.sourceId}:${guid.length > MAX_GUID_KEY_CHARS ? `sha256:${sha256Hex(guid)}` : guid}`;
  // Neither link nor guid: the title is all that tells this item apart within its feed.
  else if (titleText) identityKey = `guid:${ctx.sourceId}:title:${sha256Hex(titleText)}`;
  else return null;

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
  };
}

/**
 * The public story id: the first 20 characters of the lower-case, unpadded base32 (RFC 4648 §6) of
 * SHA-256(identityKey), i.e. 100 bits. Part of the identity contract: ids appear in published feeds
 * and API URLs, so this function must never change.
 */
export function storyIdFor(identityKey: string): string {
  const digest = createHash('sha256').update(identityKey, 'utf8').digest();
  return base32(digest).slice(0, 20);
}

const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
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
