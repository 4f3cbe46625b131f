// Format dispatch and mapping from a publisher's document to ParsedFeed. Nothing downstream sees
// rss-parser's or xml2js's shapes.
//
// XML goes through rss-parser's parseString (never its network methods: fetching is ours). Its own
// mapping is lossy for what we need (xml:base, link rel, Atom categories and text-construct types,
// the order of mixed XHTML content) and it throws on some valid feeds (one bad Atom date, a <link>
// without attributes). So we configure its xml2js parser to also keep each element's children in
// document order (explicitChildren + preserveChildrenOrder + charsAsChildren), read the raw elements
// it hands back through customFields with keepArray, and use xml2js's documented `validator` hook
// (called as each element closes) to flatten text constructs and catch non-feeds early.
// rss-parser (xml2js over sax) never resolves DTD entities, external or internal, so a hostile
// document cannot read files or expand entities without bound ("Invalid character entity" instead).
import Parser from 'rss-parser';
import type { OriginRef, ParsedFeed, ParsedItem } from '../domain.js';
import { TributaryError } from '../errors.js';
import { parseJsonFeed } from './json-feed.js';
import { parseDate } from './parse-date.js';
import { decodeHtmlEntities, escapeHtml, htmlToText, printableText, resolveHtmlUrls } from './sanitize-html.js';

export interface ParseFeedOptions {
  /** The URL the document came from (after redirects): base of relative links, subject of errors. */
  readonly url: string;
  readonly contentType?: string | null;
}

/**
 * Parse a decoded feed document: RSS 0.9x/1.0/2.0, Atom 0.3/1.0 or JSON Feed 1.x.
 * ParsedItem.title, summaryHtml and contentHtml are HTML fragments (Atom text constructs of type
 * "text" are escaped); ParsedFeed.title and ParsedItem.author are plain text. Links are absolute.
 * Throws TributaryError('parse') for anything that is not a readable feed.
 */
export async function parseFeed(body: string, opts: ParseFeedOptions): Promise<ParsedFeed> {
  const text = body.replace(/^\uFEFF/, '').trimStart();
  // The first character decides, before the Content-Type: servers often label feeds wrongly.
  if (text.startsWith('{')) return parseJsonFeed(text, opts.url);
  if (!text.startsWith('<')) {
    if (/json/i.test(opts.contentType ?? '') && text !== '') return parseJsonFeed(text, opts.url);
    throw notAFeed(text === '' ? 'the document is empty' : 'the document is neither XML nor JSON', opts.url);
  }
  const root = sniffRoot(text);
  if (root.html) throw notAFeed('it is an HTML page', opts.url);
  if (root.name !== null && !FEED_ROOTS.has(root.name)) {
    throw notAFeed(`the root element is <${root.name}>, not <rss>, <feed> or <rdf:RDF>`, opts.url);
  }
  let parsed: XmlParse;
  try {
    parsed = await parseXml(text, opts.url);
  } catch (err) {
    // HTML entities (&nbsp;) and bare ampersands are the commonest breakage of real feeds; XML has
    // neither, so retry once with them rewritten as numeric references / &amp;.
    if (!(err instanceof Error) || !/entity/i.test(err.message)) throw toParseError(err, opts.url);
    try {
      parsed = await parseXml(repairEntities(text), opts.url);
    } catch {
      throw toParseError(err, opts.url); // report the original problem, not the repaired one's
    }
  }
  return parsed.rootName === 'feed' ? atomFeed(parsed, opts.url) : rssFeed(parsed, opts.url);
}

const FEED_ROOTS = new Set(['rss', 'feed', 'rdf:RDF']);

// ---------------------------------------------------------------------------------------------
// XML parsing

/** An element as xml2js builds it: attributes in `$`, own text in `_`, ordered children in `$$`. */
interface XmlElement {
  $?: Record<string, string>;
  _?: string;
  $$?: unknown[];
  '#name'?: string;
  [child: string]: unknown;
}

interface XmlParse {
  rootName: string;
  root: XmlElement;
  items: XmlElement[];
}

/** Item/entry elements read from rss-parser's output (copied raw, as arrays, via customFields). */
const ITEM_FIELDS = [
  '$', 'title', 'dc:title', 'link', 'atom:link', 'guid', 'id', 'description', 'content:encoded', 'summary',
  'content', 'pubDate', 'dc:date', 'published', 'issued', 'created', 'updated', 'modified', 'atom:updated',
  'dcterms:modified', 'dc:creator', 'author', 'category', 'dc:subject', 'source', 'feedburner:origLink',
] as const;
const RAW = 'raw:';

/** Parents whose children are feed metadata (as opposed to markup inside XHTML content). */
const METADATA_PARENTS = new Set(['feed', 'entry', 'channel', 'item', 'source', 'rss', 'rdf:RDF']);
/** Elements that hold text, HTML or XHTML. Flattened to a string as they close. */
const TEXT_CONSTRUCTS = new Set(['title', 'subtitle', 'tagline', 'rights', 'copyright', 'summary', 'content', 'description', 'content:encoded', 'info']);

async function parseXml(xml: string, url: string): Promise<XmlParse> {
  let root: XmlElement | null = null;
  let rootName = '';
  const validator = (xpath: string, _existing: unknown, node: unknown): unknown => {
    if (!isElement(node)) return node;
    const path = xpath.split('/'); // ['', 'rss', 'channel', 'item', 'title']
    const name = path[path.length - 1] ?? '';
    const parent = path[path.length - 2] ?? '';
    if (path.length === 2) {
      root = node;
      rootName = name;
      // rss-parser reads channel[0] without checking; say what is wrong instead of a TypeError.
      if ((name === 'rss' || name === 'rdf:RDF') && !Array.isArray(node['channel'])) {
        throw notAFeed(`<${name}> has no <channel>`, url);
      }
      return node;
    }
    if (!METADATA_PARENTS.has(parent)) return node;
    // rss-parser's Atom link picker reads link.$.rel and throws when a <link> has no attributes.
    if (name === 'link' && node.$ === undefined) node.$ = {};
    return TEXT_CONSTRUCTS.has(name) ? flattenTextConstruct(node) : node;
  };
  const parser = new Parser<Record<string, unknown>, Record<string, unknown>>({
    defaultRSS: 2, // <rss> without a version attribute is read as RSS 2.0, which it almost always is
    xml2js: { explicitChildren: true, preserveChildrenOrder: true, charsAsChildren: true, includeWhiteChars: true, validator },
    customFields: { item: ITEM_FIELDS.map((f) => [f, RAW + f, { keepArray: true }]) },
  });
  // xml2js parses synchronously (async: false), so the promise is settled once parseString returns.
  // If a parser bug ever left it pending, racing it against the next macrotask turns a silent hang of
  // the refresh loop into a parse error.
  const pending = Symbol('pending');
  const output = await Promise.race([
    parser.parseString(xml),
    new Promise<typeof pending>((resolve) => setImmediate(() => resolve(pending))),
  ]);
  if (output === pending) throw new TributaryError('parse', 'the XML parser did not finish', { subject: url });
  if (root === null) throw notAFeed('no root element', url);
  const items = output.items.map((item) => {
    const element: Record<string, unknown> = {};
    for (const f of ITEM_FIELDS) if (item[RAW + f] !== undefined) element[f] = item[RAW + f];
    return element as XmlElement;
  });
  return { rootName, root, items };
}

/**
 * Replace a text construct's children with one string: its text, or for XHTML (Atom type="xhtml",
 * Atom 0.3 mode="xml") and for markup left unescaped in RSS, its children serialised as HTML (type
 * becomes "html"). This also keeps rss-parser's content builder away from the ordered-children keys.
 */
function flattenTextConstruct(node: XmlElement): XmlElement {
  const attrs = { ...(node.$ ?? {}) };
  const children = node.$$ ?? [];
  const hasElements = children.some((c) => isElement(c) && c['#name'] !== '__text__');
  const out: XmlElement = { '#name': node['#name'] };
  if (hasElements) {
    const type = (attrs['type'] ?? '').toLowerCase();
    const isXhtml = type === 'xhtml' || type === 'application/xhtml+xml' || attrs['mode'] === 'xml';
    // RFC 4287 §3.1.1.3: XHTML content is wrapped in one xhtml:div that is not part of the content.
    const elements = children.filter((c): c is XmlElement => isElement(c) && c['#name'] !== '__text__');
    const only = elements.length === 1 ? elements[0] : undefined;
    const inner = isXhtml && only && localPart(only['#name'] ?? '').toLowerCase() === 'div' ? (only.$$ ?? []) : children;
    out._ = serializeXhtml(inner);
    attrs['type'] = 'html';
    delete attrs['mode'];
  } else if (typeof node._ === 'string') {
    out._ = node._;
  }
  if (Object.keys(attrs).length > 0) out.$ = attrs;
  return out;
}

const VOID_ELEMENTS = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']);

function serializeXhtml(children: readonly unknown[]): string {
  let out = '';
  for (const child of children) {
    if (!isElement(child)) continue;
    const name = child['#name'];
    if (name === '__text__') {
      out += escapeHtml(child._ ?? '');
      continue;
    }
    if (typeof name !== 'string') continue;
    const tag = localPart(name);
    let attrs = '';
    for (const [k, v] of Object.entries(child.$ ?? {})) {
      // Namespace declarations and prefixed (xml:*, foreign) attributes mean nothing in HTML.
      if (k === 'xmlns' || k.includes(':')) continue;
      attrs += ` ${k}="${escapeHtml(String(v))}"`;
    }
    out += VOID_ELEMENTS.has(tag) ? `<${tag}${attrs}>` : `<${tag}${attrs}>${serializeXhtml(child.$$ ?? [])}</${tag}>`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// RSS 0.9x, 1.0 (RDF) and 2.0

function rssFeed({ rootName, root, items }: XmlParse, feedUrl: string): ParsedFeed {
  const channel = first(root, 'channel') ?? {};
  const rootBase = withBase({ url: feedUrl, explicit: false }, root);
  const channelBase = withBase(rootBase, channel);
  const homeUrl = httpUrl(rssLink(channel), channelBase.url);
  // Relative item links resolve against xml:base when one is declared, else against the channel's
  // own link (RSS has no base of its own; publishers mean their site), else the feed URL.
  const itemParent = rootName === 'rdf:RDF' ? rootBase : channelBase;
  const itemBase = itemParent.explicit ? itemParent : { url: homeUrl ?? itemParent.url, explicit: false };
  return {
    format: 'rss',
    title: plainText(rssTitle(first(channel, 'title'))),
    homeUrl,
    items: items.map((item) => rssItem(item, itemBase)),
  };
}

function rssItem(node: XmlElement, parentBase: Base): ParsedItem {
  const base = withBase(parentBase, node);
  const guidNode = first(node, 'guid');
  const guid = text(guidNode).trim() || node.$?.['rdf:about']?.trim() || null;
  // RSS 2.0: a guid is the item's permalink unless isPermaLink="false".
  const permalink = guidNode && attr(guidNode, 'isPermaLink')?.toLowerCase() !== 'false' ? httpUrl(text(guidNode), null) : null;
  const source = first(node, 'source');
  return {
    guid,
    title: rssTitle(first(node, 'title')) ?? rssTitle(first(node, 'dc:title')),
    link: httpUrl(rssLink(node), base.url) ?? permalink ?? pickLink(all(node, 'atom:link'), base),
    origLink: httpUrl(text(first(node, 'feedburner:origLink')), base.url),
    author: authorText(text(first(node, 'dc:creator'))) ?? authorText(text(first(node, 'author'))),
    publishedAt: dateOf(node, 'pubDate') ?? dateOf(node, 'dc:date'),
    updatedAt: dateOf(node, 'atom:updated') ?? dateOf(node, 'dcterms:modified'),
    summaryHtml: htmlOf(first(node, 'description'), base),
    contentHtml: htmlOf(first(node, 'content:encoded'), base),
    categories: [...all(node, 'category').map(text), ...all(node, 'dc:subject').map(text)],
    origin: source ? origin(plainText(text(source)), httpUrl(attr(source, 'url') ?? '', base.url), null) : null,
  };
}

/**
 * RSS says a title is text, yet many feeds put HTML in it (`1930ft<sup>2</sup>`, `Q&amp;amp;A`).
 * Like feedparser, read it as HTML only when it looks like HTML (a known inline tag or an entity), so
 * a literal "a <review>" title keeps its words.
 */
function rssTitle(node: XmlElement | undefined): string | null {
  const raw = text(node).trim();
  if (!raw) return null;
  return LOOKS_LIKE_HTML.test(raw) ? raw : escapeHtml(raw);
}

const LOOKS_LIKE_HTML =
  /<\/?(?:a|abbr|b|big|br|cite|code|del|dfn|em|font|i|img|ins|kbd|mark|p|q|s|samp|small|span|strike|strong|sub|sup|time|tt|u|var)\b[^>]*>|&(?:#\d+|#x[0-9a-f]+|[a-z][a-z0-9]*);/i;

/**
 * RSS <link> holds the URL as text. Some feeds also (or instead) put Atom-style links in the RSS
 * namespace (`<link rel="self" href="…"/>`): the first text link wins, else an alternate href.
 */
function rssLink(node: XmlElement): string {
  const links = all(node, 'link');
  const withText = links.find((l) => text(l).trim() !== '');
  if (withText) return text(withText).trim();
  const alternate = links.find((l) => (attr(l, 'rel') ?? 'alternate').trim().toLowerCase() === 'alternate' && attr(l, 'href'));
  return alternate ? (attr(alternate, 'href') ?? '') : '';
}

// ---------------------------------------------------------------------------------------------
// Atom 1.0 (RFC 4287) and 0.3

function atomFeed({ root, items }: XmlParse, feedUrl: string): ParsedFeed {
  const base = withBase({ url: feedUrl, explicit: false }, root);
  const feedAuthor = personName(first(root, 'author'));
  return {
    format: 'atom',
    title: plainText(textConstruct(first(root, 'title'))),
    homeUrl: pickLink(all(root, 'link'), base),
    items: items.map((entry) => atomEntry(entry, base, feedAuthor)),
  };
}

function atomEntry(node: XmlElement, parentBase: Base, feedAuthor: string | null): ParsedItem {
  const base = withBase(parentBase, node);
  const content = first(node, 'content');
  const updatedAt = dateOf(node, 'updated') ?? dateOf(node, 'modified');
  return {
    guid: text(first(node, 'id')).trim() || null,
    title: textConstruct(first(node, 'title')),
    link: pickLink(all(node, 'link'), base),
    origLink: httpUrl(text(first(node, 'feedburner:origLink')), base.url),
    // RFC 4287 §4.2.1: an entry without an author inherits the feed's.
    author: personName(first(node, 'author')) ?? authorText(text(first(node, 'dc:creator'))) ?? feedAuthor,
    // Atom requires <updated> but not <published>: an entry that only says when it was last updated
    // is dated by that, rather than by when we first saw it.
    publishedAt: dateOf(node, 'published') ?? dateOf(node, 'issued') ?? dateOf(node, 'created') ?? updatedAt,
    updatedAt,
    summaryHtml: constructHtml(first(node, 'summary'), base),
    // Out-of-line content (src=) is a link to elsewhere, not content.
    contentHtml: content && attr(content, 'src') === undefined ? constructHtml(content, base) : null,
    categories: [...all(node, 'category').map((c) => attr(c, 'term') ?? text(c)), ...all(node, 'dc:subject').map(text)],
    origin: atomSource(first(node, 'source'), base),
  };
}

/** Atom <source> (RFC 4287 §4.2.11): the feed an entry was copied from. */
function atomSource(source: XmlElement | undefined, parentBase: Base): OriginRef | null {
  if (!source) return null;
  const base = withBase(parentBase, source);
  const links = all(source, 'link');
  // Prefer the origin's feed URL (rel=self), matching what RSS <source url> gives.
  const url = pickLink(links, base, 'self') ?? pickLink(links, base);
  return origin(plainText(textConstruct(first(source, 'title'))), url, text(first(source, 'id')).trim() || null);
}

/**
 * The entry's page among its links: rel="alternate" (the default when rel is absent, RFC 4287
 * §4.2.7.2), preferring an HTML type. rel=self/replies/enclosure/edit/related never qualify.
 */
function pickLink(links: readonly XmlElement[], base: Base, rel = 'alternate'): string | null {
  const candidates = links.filter((l) => (attr(l, 'rel') ?? 'alternate').trim().toLowerCase() === rel && attr(l, 'href'));
  const html = candidates.find((l) => /html/i.test(attr(l, 'type') ?? 'text/html')) ?? candidates[0];
  if (!html) return null;
  return httpUrl(attr(html, 'href') ?? '', withBase(base, html).url);
}

function personName(person: XmlElement | undefined): string | null {
  return person ? authorText(text(first(person, 'name'))) : null;
}

/** An Atom text construct (or RSS text element) as an HTML fragment; null when absent or empty. */
function textConstruct(node: XmlElement | undefined): string | null {
  if (!node) return null;
  const type = (attr(node, 'type') ?? '').toLowerCase();
  const mode = attr(node, 'mode');
  const raw = text(node);
  if (mode === 'base64') return null; // Atom 0.3 binary content: nothing we can show
  if (type === 'html' || type === 'text/html') return nonEmpty(raw.trim());
  if (mode === 'escaped' && type !== 'text/plain') return nonEmpty(raw.trim());
  if (type.includes('/') && !type.startsWith('text/')) return null; // some other media type
  return nonEmpty(escapeHtml(raw.trim())); // "text" (the default): escape into HTML
}

function constructHtml(node: XmlElement | undefined, base: Base): string | null {
  const html = textConstruct(node);
  if (html === null || !node) return html;
  const own = withBase(base, node);
  return own.explicit ? resolveHtmlUrls(html, own.url) : html;
}

/** RSS description/content:encoded: HTML by convention (RSS 2.0 spec, "entity-encoded HTML"). */
function htmlOf(node: XmlElement | undefined, base: Base): string | null {
  if (!node) return null;
  const html = nonEmpty(text(node).trim());
  if (html === null) return null;
  const own = withBase(base, node);
  // With an explicit xml:base only we know the base; without one, normalize-item resolves against
  // the item link, which is what RSS publishers write relative URLs against.
  return own.explicit ? resolveHtmlUrls(html, own.url) : html;
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

/** The base URI in scope (XML Base, RFC 3986 §5.1) and whether a document declared it. */
interface Base {
  readonly url: string;
  readonly explicit: boolean;
}

/**
 * Apply an element's xml:base, resolved against the enclosing base (nested bases compose). rss-parser
 * drops xml:base from its own output; we read it from the raw attributes (`$`) that the root (via the
 * validator), each item (via customFields) and each child element carry, walking down in document
 * order, so no second parse or regex scan of the document is needed.
 */
function withBase(base: Base, node: XmlElement): Base {
  const declared = node.$?.['xml:base'];
  if (declared === undefined) return base;
  try {
    return { url: new URL(declared.trim(), base.url).href, explicit: true };
  } catch {
    return base;
  }
}

function httpUrl(ref: string, base: string | null): string | null {
  const trimmed = ref.trim();
  if (!trimmed) return null;
  try {
    const url = base === null ? new URL(trimmed) : new URL(trimmed, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

function origin(name: string | null, url: string | null, id: string | null): OriginRef | null {
  return name === null && url === null && id === null ? null : { name, url, id };
}

function dateOf(node: XmlElement, name: string): Date | null {
  return parseDate(text(first(node, name)));
}

/** RSS <author> is "email (Name)" (RSS 2.0 spec); keep the name when there is one. */
function authorText(raw: string): string | null {
  const named = /^\s*\S+@\S+\s*\((.+)\)\s*$/.exec(raw);
  return plainText(named?.[1] ?? raw);
}

function plainText(html: string | null): string | null {
  return html === null ? null : nonEmpty(htmlToText(html));
}

function nonEmpty(s: string): string | null {
  return s.trim() === '' ? null : s;
}

function isElement(v: unknown): v is XmlElement {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function all(node: XmlElement, name: string): XmlElement[] {
  const v = node[name];
  if (!Array.isArray(v)) return [];
  // xml2js collapses a text-only element to its string; make every child an element again.
  return v.map((c): XmlElement => (typeof c === 'string' ? { _: c } : isElement(c) ? c : {}));
}

function first(node: XmlElement, name: string): XmlElement | undefined {
  return all(node, name)[0];
}

function text(node: XmlElement | undefined): string {
  return node && typeof node._ === 'string' ? node._ : '';
}

function attr(node: XmlElement, name: string): string | undefined {
  const v = node.$?.[name];
  return typeof v === 'string' ? v : undefined;
}

function localPart(name: string): string {
  const colon = name.indexOf(':');
  return colon === -1 ? name : name.slice(colon + 1);
}

/** Root element name and whether the document is HTML, from the prolog, without parsing. */
function sniffRoot(xml: string): { name: string | null; html: boolean } {
  let i = 0;
  for (;;) {
    while (i < xml.length && /\s/.test(xml[i] ?? '')) i++;
    if (xml.startsWith('<?', i)) {
      const end = xml.indexOf('?>', i);
      if (end === -1) return { name: null, html: false };
      i = end + 2;
    } else if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i);
      if (end === -1) return { name: null, html: false };
      i = end + 3;
    } else if (xml.slice(i, i + 9).toUpperCase() === '<!DOCTYPE') {
      const m = /^<!DOCTYPE\s+([^\s>[]+)/i.exec(xml.slice(i, i + 200));
      if (m?.[1]?.toLowerCase() === 'html') return { name: 'html', html: true };
      const subset = xml.indexOf('[', i);
      const close = xml.indexOf('>', i);
      if (close === -1) return { name: null, html: false };
      // An internal subset ([...]) may contain '>' itself: skip past its closing "]".
      const end = subset !== -1 && subset < close ? xml.indexOf('>', xml.indexOf(']', subset)) : close;
      if (end === -1) return { name: null, html: false };
      i = end + 1;
    } else {
      const m = /^<([A-Za-z_][\w.:-]*)/.exec(xml.slice(i, i + 100));
      const name = m?.[1] ?? null;
      return { name, html: name?.toLowerCase() === 'html' };
    }
  }
}

const XML_ENTITIES = new Set(['amp', 'lt', 'gt', 'quot', 'apos']);

/** HTML named entities -> numeric character references; stray '&' -> '&amp;'. */
function repairEntities(xml: string): string {
  const cache = new Map<string, string>();
  return xml.replace(/&(?:([A-Za-z][A-Za-z0-9]{0,31});|(#[0-9]{1,7};|#x[0-9A-Fa-f]{1,6};))?/g, (m, name?: string, numeric?: string) => {
    if (numeric !== undefined) return m;
    if (name === undefined) return '&amp;';
    if (XML_ENTITIES.has(name)) return m;
    let repl = cache.get(name);
    if (repl === undefined) {
      const decoded = decodeHtmlEntities(m);
      repl = decoded === m ? `&amp;${name};` : [...decoded].map((ch) => `&#${ch.codePointAt(0)};`).join('');
      cache.set(name, repl);
    }
    return repl;
  });
}

function notAFeed(why: string, url: string): TributaryError {
  return new TributaryError('parse', `not a feed: ${why}`, { subject: url });
}

function toParseError(err: unknown, url: string): TributaryError {
  if (err instanceof TributaryError) return err;
  const lines = (err instanceof Error ? err.message : String(err)).split('\n').map((l) => l.trim());
  const message = printableText(lines.filter(Boolean).join(', '));
  if (/not recognized as RSS/i.test(message)) return new TributaryError('parse', `not a feed: ${message}`, { subject: url, cause: err });
  return new TributaryError('parse', `malformed feed XML: ${message}`, { subject: url, cause: err });
}
