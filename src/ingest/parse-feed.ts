// Format dispatch and XML parsing of a publisher's document, on the way to ParsedFeed. Nothing
// downstream sees rss-parser's or xml2js's shapes.
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
// The RSS/Atom mapping lives in map-xml-feed.ts, the schedule hints in feed-schedule.ts.
import Parser from 'rss-parser';
import type { ParsedFeed } from '../domain.js';
import { TributaryError } from '../errors.js';
import { parseJsonFeed } from './json-feed.js';
import { mapXmlFeed } from './map-xml-feed.js';
import { decodeHtmlEntities, escapeHtml, printableText } from './sanitize-html.js';
import { isElement, localPart, type XmlElement, type XmlParse } from './xml-element.js';

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
  return mapXmlFeed(parsed, opts.url);
}

const FEED_ROOTS = new Set(['rss', 'feed', 'rdf:RDF']);

// ---------------------------------------------------------------------------------------------
// XML parsing

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
// Sniffing, repair and errors

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
