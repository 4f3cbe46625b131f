// JSON Feed 1.0 and 1.1 (https://www.jsonfeed.org/version/1.1/) to ParsedFeed. The document is
// untrusted JSON: every field is type-checked, wrong types are ignored rather than trusted.
import type { Enclosure, ParsedFeed, ParsedItem } from '../domain.js';
import { TributaryError } from '../errors.js';
import { EMPTY_SCHEDULE } from './feed-schedule.js';
import { parseDate } from './parse-date.js';
import { escapeHtml, printableText } from './sanitize-html.js';

// Version URLs as published, and as found in the wild (http://, trailing slash, a bare "1.1"). A
// later 1.x keeps 1.0 compatibility by the spec's own rule, so any 1.x is read; 2 and up are not.
const VERSION = /^(?:https?:\/\/(?:www\.)?jsonfeed\.org\/version\/)?1(?:\.\d+)?\/?$/i;

type Json = Record<string, unknown>;

/** Parse a JSON Feed document. Throws TributaryError('parse') naming what is wrong. */
export function parseJsonFeed(body: string, feedUrl: string): ParsedFeed {
  let doc: unknown;
  try {
    doc = JSON.parse(body.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new TributaryError('parse', `invalid JSON Feed: ${printableText(err instanceof Error ? err.message : String(err))}`, {
      subject: feedUrl,
      cause: err,
    });
  }
  if (!isObject(doc)) {
    throw new TributaryError('parse', 'invalid JSON Feed: the document is not a JSON object', { subject: feedUrl });
  }
  const version = doc['version'];
  if (typeof version !== 'string') {
    throw new TributaryError('parse', 'invalid JSON Feed: "version" is missing', { subject: feedUrl });
  }
  if (!VERSION.test(version.trim())) {
    throw new TributaryError('parse', `invalid JSON Feed: unsupported "version" ${JSON.stringify(version)}`, { subject: feedUrl });
  }
  const items = doc['items'];
  if (!Array.isArray(items)) {
    throw new TributaryError('parse', 'invalid JSON Feed: "items" is missing or not an array', { subject: feedUrl });
  }
  const feedAuthor = authorName(doc);
  return {
    format: 'json',
    title: stringField(doc, 'title'),
    homeUrl: resolveHttpUrl(stringField(doc, 'home_page_url'), feedUrl),
    items: items.filter(isObject).map((item) => parseItem(item, feedUrl, feedAuthor)),
    // JSON Feed has no polling hints (no ttl, no skip hours): the planner goes by HTTP alone.
    schedule: EMPTY_SCHEDULE,
  };
}

function parseItem(item: Json, feedUrl: string, feedAuthor: string | null): ParsedItem {
  const id = item['id'];
  // The spec says id is a string; numbers are common and unambiguous, so they are accepted too.
  const guid = typeof id === 'string' ? id.trim() || null : typeof id === 'number' && Number.isFinite(id) ? String(id) : null;
  const title = stringField(item, 'title');
  const contentHtml = stringField(item, 'content_html');
  const contentText = stringField(item, 'content_text');
  const summary = stringField(item, 'summary');
  const tags = item['tags'];
  const enclosures = parseAttachments(item['attachments'], feedUrl);
  return {
    guid,
    // ParsedItem.title is an HTML fragment throughout (RSS titles are HTML); JSON Feed titles are text.
    title: title === null ? null : escapeHtml(title),
    // url is the item's own page; external_url is what a link-blog post points at, so it is only
    // the fallback when the item has no page of its own.
    link: resolveHttpUrl(stringField(item, 'url'), feedUrl) ?? resolveHttpUrl(stringField(item, 'external_url'), feedUrl),
    origLink: null,
    author: authorName(item) ?? feedAuthor,
    publishedAt: parseDate(stringField(item, 'date_published')),
    updatedAt: parseDate(stringField(item, 'date_modified')),
    summaryHtml: summary === null ? null : escapeHtml(summary),
    contentHtml: contentHtml ?? (contentText === null ? null : textToHtml(contentText)),
    categories: Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [],
    origin: null,
    enclosures,
    // `image` is "the main image for the item"; `banner_image` one "to use as a banner" (1.1, Items).
    image:
      resolveHttpUrl(stringField(item, 'image'), feedUrl) ??
      resolveHttpUrl(stringField(item, 'banner_image'), feedUrl) ??
      enclosures.find((e) => e.type?.startsWith('image/'))?.url ??
      null,
  };
}

/** A gallery of hundreds is not something to republish: the first few are kept (as for XML feeds). */
const MAX_ATTACHMENTS = 10;

/**
 * `attachments` (1.1, "Attachments"): objects with `url` and `mime_type` (both required) and an
 * optional `size_in_bytes`. Entries without a usable http(s) url are skipped; a wrong mime_type or
 * size only loses that field. Duplicate URLs merge, keeping what each says.
 */
function parseAttachments(value: unknown, feedUrl: string): Enclosure[] {
  if (!Array.isArray(value)) return [];
  const out: Enclosure[] = [];
  for (const attachment of value.filter(isObject)) {
    const url = resolveHttpUrl(stringField(attachment, 'url'), feedUrl);
    if (url === null) continue;
    const type = mimeType(stringField(attachment, 'mime_type'));
    const size = attachment['size_in_bytes'];
    const length = typeof size === 'number' && Number.isSafeInteger(size) && size > 0 ? size : null;
    const at = out.findIndex((e) => e.url === url);
    const known = out[at];
    if (known) out[at] = { url, type: known.type ?? type, length: known.length ?? length };
    else if (out.length < MAX_ATTACHMENTS) out.push({ url, type, length });
  }
  return out;
}

// RFC 6838 §4.2 restricted names; parameters (`; codecs=…`) are dropped.
const MIME_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/;

function mimeType(raw: string | null): string | null {
  const type = (raw ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return MIME_TYPE.test(type) ? type : null;
}

/** 1.1 `authors` (array) or 1.0 `author` (object): the names, joined. */
function authorName(obj: Json): string | null {
  const list = Array.isArray(obj['authors']) ? obj['authors'] : isObject(obj['author']) ? [obj['author']] : [];
  const names = list
    .filter(isObject)
    .map((a) => stringField(a, 'name'))
    .filter((n): n is string => n !== null)
    .map((n) => n.replace(/\s+/g, ' ').trim());
  return names.length > 0 ? names.join(', ') : null;
}

/** content_text is plain text: escape it, and keep its paragraphs and line breaks visible. */
function textToHtml(text: string): string {
  return text
    .trim()
    .split(/\r?\n\s*\r?\n/)
    .map((para) => `<p>${escapeHtml(para.trim()).replace(/\r?\n/g, '<br>')}</p>`)
    .join('');
}

function stringField(obj: Json, key: string): string | null {
  const v = obj[key];
  return typeof v === 'string' && v.trim() !== '' ? v : null;
}

function resolveHttpUrl(ref: string | null, base: string): string | null {
  if (ref === null) return null;
  try {
    const url = new URL(ref.trim(), base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
