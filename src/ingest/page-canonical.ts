// The canonical URL an HTML page declares for itself: `<link rel="canonical" href="...">` in its
// head (RFC 6596). Pure: the page is fetched elsewhere (resolve-canonical.ts).
//
// Why a head-only scan of our own instead of a DOM query: a canonical only counts in the head
// (RFC 6596 §3 puts it in the "HTML head"; search engines ignore one in the body, where comments,
// widgets and embedded posts can carry someone else's), and where the head ends is decided by the
// HTML parsing rules (WHATWG HTML §13.2.6.4.4 "in head", §13.2.6.4.6 "after head"), not by where
// `</head>` is written: the first <img>, <div> or stray text ends it. node-html-parser builds a
// lenient tree that drops or re-nests misplaced elements (an unclosed <b> in a <title> loses the
// <head> element; a <body> after an unclosed <head> vanishes), so it cannot say which links were in
// the head. The scan below follows those rules for the tokens that matter (comments, raw-text
// elements, tags and their quoted attributes) and stops where a browser's head would end.
// node-html-parser is still used for what it does exactly: decoding character references in
// attribute values with the attribute rules (`&amp;` decoded, `?a=1&copy=2` left alone).
//
// Why not og:url as a fallback: it is meant to be the canonical too, but in the wild it is often
// templated from the request URL (tracking parameters and all: no better than the feed's link) or
// set to the site's home page on every article (which would merge every story of the site into
// one). The item's own cleaned link is a safer identity than a guess from og:url.
import { parse, type HTMLElement } from 'node-html-parser';

/** Only the start of a page is read: the head comes first, and a page's canonical with it. */
export const MAX_SCAN_CHARS = 256 * 1024;

/** Longer "URLs" are junk (or an attack on our storage), not a story's address. */
const MAX_CANONICAL_LENGTH = 4096;

/**
 * The absolute http(s) URL the page at `pageUrl` declares as its canonical, or null when it
 * declares none we can use. Rules:
 * - only `<link>` elements in the document head count (see above), found in the first
 *   MAX_SCAN_CHARS characters; `rel` is a space-separated token list, compared ASCII
 *   case-insensitively (`rel="Canonical alternate"` counts, `rel="canonicalize"` does not);
 * - the first such link with an href attribute decides; when its href is empty or not a usable
 *   URL the answer is null (later links are not consulted: a page that declares junk first has
 *   no trustworthy canonical);
 * - the href is resolved against the first `<base href>` in the head (itself resolved against the
 *   page URL; ignored unless http(s)), else against `pageUrl`, which must be the URL the page was
 *   finally served from (after redirects);
 * - the result must be http(s) with a host and no credentials; its fragment is dropped
 *   (RFC 3986 §3.5: never part of the resource);
 * - a canonical pointing at a site's root (`https://host/`) is ignored unless the page is a root
 *   itself: "every article's canonical is the home page" is a common template bug, and trusting it
 *   would merge every story of a site into one;
 * - a canonical on another host is kept: an aggregator's page naming the publisher's URL is the
 *   point of resolving canonicals.
 * Throws a RangeError when `pageUrl` is not an absolute http(s) URL (a caller's bug, not the page's).
 */
export function canonicalFromHtml(html: string, pageUrl: string): string | null {
  const page = parsePageUrl(pageUrl);
  const head = scanHead(html.length > MAX_SCAN_CHARS ? html.slice(0, MAX_SCAN_CHARS) : html);
  const canonical = head.find((tag) => tag.name === 'link' && tag.attrs.has('href') && relTokens(tag.attrs.get('rel')).includes('canonical'));
  if (canonical === undefined) return null;
  return usableCanonical(canonical.attrs.get('href') ?? '', documentBase(head, page), page);
}

function parsePageUrl(pageUrl: string): URL {
  let page: URL;
  try {
    page = new URL(pageUrl);
  } catch (cause) {
    throw new RangeError(`canonicalFromHtml: pageUrl "${pageUrl}" is not an absolute URL`, { cause });
  }
  if (!isHttp(page)) throw new RangeError(`canonicalFromHtml: pageUrl "${pageUrl}" is not an http(s) URL`);
  return page;
}

/** The document's base URL (WHATWG HTML §2.4.1): the first <base> with an href, when it parses to
 * an http(s) URL; else the page's own URL. */
function documentBase(head: readonly HeadTag[], page: URL): URL {
  const base = head.find((tag) => tag.name === 'base' && tag.attrs.has('href'));
  if (base === undefined) return page;
  try {
    const url = new URL(decodeAttributeValue(base.attrs.get('href') ?? ''), page);
    return isHttp(url) ? url : page;
  } catch {
    return page;
  }
}

function usableCanonical(rawHref: string, base: URL, page: URL): string | null {
  // The URL parser strips leading and trailing whitespace and control characters itself.
  const href = decodeAttributeValue(rawHref).trim();
  if (href === '') return null;
  let url: URL;
  try {
    url = new URL(href, base);
  } catch {
    return null;
  }
  if (!isHttp(url) || url.hostname === '' || url.username !== '' || url.password !== '') return null;
  url.hash = '';
  if (url.href.length > MAX_CANONICAL_LENGTH) return null;
  if (isSiteRoot(url) && !isSiteRoot(page)) return null;
  return url.href;
}

function isHttp(url: URL): boolean {
  return url.protocol === 'http:' || url.protocol === 'https:';
}

function isSiteRoot(url: URL): boolean {
  return url.pathname === '/' && url.search === '';
}

/** rel is a set of space-separated tokens (WHATWG HTML §4.6.7), ASCII case-insensitive. */
function relTokens(rel: string | undefined): string[] {
  if (rel === undefined) return [];
  return asciiLower(decodeAttributeValue(rel))
    .split(/[\t\n\f\r ]+/)
    .filter((t) => t !== '');
}

/** Character references in an attribute value, decoded by the attribute rules (WHATWG HTML
 * §13.2.5.72-73): a legacy entity without ";" followed by "=" or an alphanumeric stays as written. */
function decodeAttributeValue(raw: string): string {
  if (!raw.includes('&')) return raw;
  // Re-quoted with &quot; so any value, whatever quotes it held, round-trips through the parser.
  const el = parse(`<a x="${raw.replaceAll('"', '&quot;')}"></a>`).firstChild as HTMLElement | null;
  return el?.getAttribute('x') ?? raw;
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

// ---------------------------------------------------------------------------------------------
// The head scan

interface HeadTag {
  readonly name: 'link' | 'base';
  /** Lower-cased attribute names -> raw (undecoded) values; the first of duplicates wins (§13.2.5.33). */
  readonly attrs: ReadonlyMap<string, string>;
}

/** Elements the "in head" insertion mode keeps in the head; any other start tag opens the body. */
const HEAD_ELEMENTS: ReadonlySet<string> = new Set(['html', 'head', 'base', 'basefont', 'bgsound', 'link', 'meta']);

/** Elements whose content is text up to their end tag, not markup (script, style, ...): what is
 * inside them ("<link rel=canonical>" in a script string) is no tag. Title is RCDATA, which for our
 * purpose is the same. noscript counts because pages are parsed with scripting on, as browsers and
 * search engines do; template content is inert, never part of the document. */
const TEXT_ELEMENTS: ReadonlySet<string> = new Set(['title', 'script', 'style', 'noscript', 'noframes', 'template']);

/** End tags that end the head: </head> does not (a link after it still goes into the head,
 * §13.2.6.4.6), but </body>, </html> and </br> open the body. */
const BODY_END_TAGS: ReadonlySet<string> = new Set(['body', 'html', 'br']);

/**
 * The <link> and <base> tags of the document head, in order. The head ends at the first start tag
 * of an element that cannot be in it (body, div, img, svg, a custom element...), at non-whitespace
 * text, at </body>, </html> or </br>, or where the text ends (an unterminated comment or tag).
 */
function scanHead(text: string): HeadTag[] {
  const tags: HeadTag[] = [];
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a byte order mark is not text
  while (i < n) {
    const lt = text.indexOf('<', i);
    // Text between tags: whitespace is ignored; anything else starts the body.
    if (hasNonWhitespace(text, i, lt < 0 ? n : lt) || lt < 0) return tags;
    const next = text.charAt(lt + 1);
    if (text.startsWith('<!--', lt)) {
      i = commentEnd(text, lt);
    } else if (next === '!' || next === '?') {
      // <!DOCTYPE ...>, <![CDATA[...]]> and <?xml ...?> are a doctype or bogus comments up to ">".
      i = after(text, '>', lt);
    } else if (next === '/') {
      const tag = readTag(text, lt + 2);
      if (tag === null) return tags;
      if (BODY_END_TAGS.has(tag.name)) return tags;
      i = tag.end; // any other end tag (including </head>) is ignored here
    } else if (isAsciiLetter(next)) {
      const tag = readTag(text, lt + 1);
      if (tag === null) return tags;
      if (tag.name === 'link' || tag.name === 'base') tags.push({ name: tag.name, attrs: tag.attrs });
      if (TEXT_ELEMENTS.has(tag.name)) i = afterEndTag(text, tag.name, tag.end);
      else if (HEAD_ELEMENTS.has(tag.name)) i = tag.end;
      else return tags;
    } else {
      // "<" not starting a tag ("a < b") is text.
      return tags;
    }
    if (i < 0) return tags;
  }
  return tags;
}

interface RawTag {
  /** Tag name, ASCII lower-cased. */
  readonly name: string;
  readonly attrs: Map<string, string>;
  /** Index just past the closing ">". */
  readonly end: number;
}

/**
 * A tag from its name (at `start`, just past "<" or "</") to its ">", following the tokenizer's
 * attribute states (§13.2.5.32-42): quotes only matter right after "=", a ">" inside a quoted value
 * does not end the tag, an unquoted value runs to whitespace or ">" (so `href=/a/>` keeps its
 * slash). Null when the text ends first.
 */
function readTag(text: string, start: number): RawTag | null {
  const n = text.length;
  let pos = start;
  while (pos < n && !isTagNameEnd(text.charCodeAt(pos))) pos++;
  const name = asciiLower(text.slice(start, pos));
  const attrs = new Map<string, string>();
  for (;;) {
    while (pos < n && (isWhitespace(text.charCodeAt(pos)) || text[pos] === '/')) pos++;
    if (pos >= n) return null;
    if (text[pos] === '>') return { name, attrs, end: pos + 1 };
    // An attribute name may begin with "=" (a parse error the tokenizer keeps as part of the name).
    const nameStart = pos++;
    while (pos < n && !isTagNameEnd(text.charCodeAt(pos)) && text[pos] !== '=') pos++;
    const attrName = asciiLower(text.slice(nameStart, pos));
    while (pos < n && isWhitespace(text.charCodeAt(pos))) pos++;
    let value = '';
    if (text[pos] === '=') {
      pos++;
      while (pos < n && isWhitespace(text.charCodeAt(pos))) pos++;
      const quote = text[pos];
      if (quote === '"' || quote === "'") {
        const close = text.indexOf(quote, pos + 1);
        if (close < 0) return null;
        value = text.slice(pos + 1, close);
        pos = close + 1;
      } else {
        const valueStart = pos;
        while (pos < n && !isWhitespace(text.charCodeAt(pos)) && text[pos] !== '>') pos++;
        value = text.slice(valueStart, pos);
      }
    }
    if (!attrs.has(attrName)) attrs.set(attrName, value);
  }
}

/** Past the end of a comment starting at `start` ("<!--"): "-->" or "--!>" close it, and so do
 * the abrupt "<!-->" and "<!--->" (§13.2.5.43-52). -1 when it never ends. */
function commentEnd(text: string, start: number): number {
  if (text.startsWith('<!-->', start)) return start + 5;
  if (text.startsWith('<!--->', start)) return start + 6;
  const a = text.indexOf('-->', start + 4);
  const b = text.indexOf('--!>', start + 4);
  if (a < 0 && b < 0) return -1;
  if (b < 0 || (a >= 0 && a < b)) return a + 3;
  return b + 4;
}

/** Past the end tag of a text element (e.g. "</script >"), matched ASCII case-insensitively.
 * -1 when it never comes. */
function afterEndTag(text: string, name: string, from: number): number {
  const endTag = new RegExp(`</${name}[\\t\\n\\f\\r />]`, 'gi');
  endTag.lastIndex = from;
  const match = endTag.exec(text);
  return match === null ? -1 : after(text, '>', match.index);
}

function after(text: string, char: string, from: number): number {
  const at = text.indexOf(char, from);
  return at < 0 ? -1 : at + 1;
}

function hasNonWhitespace(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isWhitespace(text.charCodeAt(i))) return true;
  return false;
}

/** ASCII whitespace as HTML defines it: tab, LF, FF, CR, space. */
function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d;
}

function isTagNameEnd(code: number): boolean {
  return isWhitespace(code) || code === 0x2f /* / */ || code === 0x3e /* > */;
}

function isAsciiLetter(char: string): boolean {
  return /^[A-Za-z]$/.test(char);
}
