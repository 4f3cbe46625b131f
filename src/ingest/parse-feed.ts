// Format dispatch and XML parsing of a publisher's document, on the way to ParsedFeed. Nothing
// downstream sees rss-parser's or xml2js's shapes.
//
// XML goes through rss-parser's parseString (never its network methods: fetching is ours). Its own
// mapping is lossy for what we need (xml:base, link rel, Atom categories and text-construct types,
// the order of mixed XHTML content) and it throws on some valid feeds (one bad Atom date, a <link>
// without attributes). So we configure its xml2js parser to also keep each element's children in
// document order (explicitChildren + preserveChildrenOrder + charsAsChildren), read the raw elements
// it hands back through customFields with keepArray, and use xml2js's documented `validator` hook
// (called as each element closes) to flatten text constructs and give rss-parser the shapes it
// assumes. rss-parser (xml2js over sax) never resolves DTD entities, external or internal, so a
// hostile document cannot read files or expand entities without bound ("Invalid character entity"
// instead); the lenient path then drops the DOCTYPE and keeps such references as literal text.
//
// Order: JSON or XML by the first character; nesting limits (before any parse); a strict parse;
// only if that fails, one re-parse of a copy repaired by lenient-xml.ts. The RSS/Atom mapping lives
// in map-xml-feed.ts, the schedule hints in feed-schedule.ts.
import Parser from 'rss-parser';
import type { ParsedFeed } from '../domain.js';
import { TributaryError } from '../errors.js';
import { parseJsonFeed } from './json-feed.js';
import { firstIllegalCharacter, MAX_NESTING_DEPTH, repairXml, scanElements } from './lenient-xml.js';
import { mapXmlFeed } from './map-xml-feed.js';
import { escapeHtml, printableText } from './sanitize-html.js';
import { isElement, localPart, type XmlElement, type XmlParse } from './xml-element.js';

export interface ParseFeedOptions {
  /** The URL the document came from (after redirects): base of relative links, subject of errors. */
  readonly url: string;
  readonly contentType?: string | null;
}

/**
 * Parse a decoded feed document: RSS 0.9x/1.0/2.0, Atom 0.3/1.0 (feed or entry document) or JSON
 * Feed 1.x. ParsedItem.title, summaryHtml and contentHtml are HTML fragments (Atom text constructs of
 * type "text" are escaped); ParsedFeed.title and ParsedItem.author are plain text. Links are absolute.
 * Throws TributaryError('parse') for anything that is not a readable feed.
 */
export async function parseFeed(body: string, opts: ParseFeedOptions): Promise<ParsedFeed> {
  const text = body.replace(/^\uFEFF/, '').trimStart();
  // The first character decides, before the Content-Type: servers often label feeds wrongly.
  if (text.startsWith('{')) return parseJsonFeed(text, opts.url);
  if (text === '') throw notAFeed('the document is empty', opts.url);
  if (!text.startsWith('<') && /json/i.test(opts.contentType ?? '')) return parseJsonFeed(text, opts.url);
  // Safety limits, not leniency: checked before any parse, repaired or not (see lenient-xml.ts).
  const limit = scanElements(text).overLimit;
  if (limit !== null) {
    const why = limit === 'depth' ? `elements nested deeper than ${MAX_NESTING_DEPTH} levels` : `elements nested too deeply for the document's size`;
    throw new TributaryError('parse', `malformed feed XML: ${why}`, { subject: opts.url });
  }
  try {
    return await parseXmlFeed(text, opts.url);
  } catch (err) {
    const strictError = toParseError(err, opts.url);
    // The lenient path, only for documents strict XML rejected: repair a copy once and re-parse it.
    // A document the repairs do not change would fail the same way again.
    const repaired = repairXml(text);
    if (repaired.repairs.length === 0) throw strictError;
    try {
      return await parseXmlFeed(repaired.text, opts.url);
    } catch {
      throw strictError; // report the document's own problem, not the repaired copy's
    }
  }
}

/** Strict parse of an XML feed document, after sniffing what its root says it is. */
async function parseXmlFeed(text: string, url: string): Promise<ParsedFeed> {
  if (!text.startsWith('<')) throw notAFeed('the document is neither XML nor JSON', url);
  const root = sniffRoot(text);
  if (root.html) throw notAFeed('it is an HTML page', url);
  const illegal = firstIllegalCharacter(text);
  if (illegal !== null) {
    const code = illegal.code.toString(16).toUpperCase().padStart(4, '0');
    throw new TributaryError('parse', `malformed feed XML: character U+${code} at offset ${illegal.at} is not allowed in XML`, { subject: url });
  }
  const vocabulary = feedVocabulary(root, text);
  // An Atom Entry Document (RFC 4287 §4.1.2) is read as a feed of that one entry.
  const entryDocument = vocabulary.rootName === 'entry' && ATOM_NAMESPACES.has(vocabulary.namespace);
  if (root.name !== null && !FEED_ROOTS.has(vocabulary.rootName) && !entryDocument) {
    throw notAFeed(`the root element is <${root.name}>, not <rss>, <feed> or <rdf:RDF>`, url);
  }
  const xml = entryDocument ? wrapEntry(text, root.at, vocabulary.namespace) : text;
  return mapXmlFeed(await parseXml(xml, url, vocabulary.stripPrefixes), url);
}

const FEED_ROOTS = new Set(['rss', 'feed', 'rdf:RDF']);

// The namespaces whose elements make up a feed format. Feeds almost always use them as the default
// namespace; when a document binds one to a prefix instead (<atom:feed xmlns:atom=...>, RSS 1.0 as
// <rss:channel>), that prefix is dropped from element names so the rest of the pipeline sees the
// usual names. Namespaces Recommendation §6: the prefix is only a stand-in for the namespace name.
const ATOM_NAMESPACES = new Set(['http://www.w3.org/2005/Atom', 'http://purl.org/atom/ns#']);
const RDF_FEED_NAMESPACES = new Set(['http://purl.org/rss/1.0/', 'http://my.netscape.com/rdf/simple/0.9/']);
const RSS_NAMESPACES = new Set(['http://backend.userland.com/rss2', 'http://backend.userland.com/rss', 'http://blogs.law.harvard.edu/tech/rss']);
const FEED_NAMESPACES = new Set([...ATOM_NAMESPACES, ...RDF_FEED_NAMESPACES, ...RSS_NAMESPACES]);

interface FeedVocabulary {
  /** The root element's name as the mapping knows it (prefix of a feed namespace dropped). */
  readonly rootName: string;
  /** The root element's namespace, '' when it has none. */
  readonly namespace: string;
  /** Prefixes bound to the feed's own namespace, dropped from element names while parsing. */
  readonly stripPrefixes: ReadonlySet<string>;
}

/**
 * Which prefixes stand for the feed's own vocabulary: those bound to the root's namespace when that
 * is a feed namespace (and for RDF roots those bound to RSS 1.0 / 0.90), wherever in the document
 * they are declared (some generators declare xmlns:p0="...Atom" on each entry). A prefix bound to
 * another format's namespace (atom: inside RSS 2.0) is left alone: there it marks an extension
 * element, not the feed's own. So is a prefix bound to different namespaces in different places.
 */
function feedVocabulary(root: SniffedRoot, xml: string): FeedVocabulary {
  const name = root.name ?? '';
  const colon = name.indexOf(':');
  const prefix = colon === -1 ? '' : name.slice(0, colon);
  const namespace = root.namespaces.get(prefix) ?? '';
  const bindings = new Map<string, Set<string>>();
  for (const m of xml.matchAll(/\sxmlns:([\w.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    const p = m[1] ?? '';
    bindings.set(p, (bindings.get(p) ?? new Set()).add((m[2] ?? m[3] ?? '').trim()));
  }
  const stripPrefixes = new Set<string>();
  for (const [p, uris] of bindings) {
    const [uri = ''] = uris;
    if (uris.size !== 1 || !FEED_NAMESPACES.has(uri)) continue;
    if (uri === namespace || (name === 'rdf:RDF' && RDF_FEED_NAMESPACES.has(uri))) stripPrefixes.add(p);
  }
  const rootName = prefix !== '' && stripPrefixes.has(prefix) ? name.slice(colon + 1) : name;
  return { rootName, namespace, stripPrefixes };
}

/** Put an entry document's root inside a <feed> of its namespace, so it parses as a one-entry feed. */
function wrapEntry(xml: string, rootAt: number, namespace: string): string {
  return `${xml.slice(0, rootAt)}<feed xmlns="${escapeHtml(namespace)}">${xml.slice(rootAt)}</feed>`;
}

// ---------------------------------------------------------------------------------------------
// XML parsing

/** Item/entry elements read from rss-parser's output (copied raw, as arrays, via customFields). */
const ITEM_FIELDS = [
  '$', 'title', 'dc:title', 'link', 'atom:link', 'guid', 'id', 'description', 'content:encoded', 'summary',
  'content', 'pubDate', 'dc:date', 'published', 'issued', 'created', 'updated', 'modified', 'atom:updated',
  'dcterms:modified', 'dc:creator', 'author', 'category', 'dc:subject', 'source', 'feedburner:origLink',
  'dc:source', // read by map-xml-feed.ts for aggregators' attribution (issue #4)
] as const;
const RAW = 'raw:';

/** Parents whose children are feed metadata (as opposed to markup inside XHTML content). */
const METADATA_PARENTS = new Set(['feed', 'entry', 'channel', 'item', 'source', 'rss', 'rdf:RDF']);
/** Elements that hold text, HTML or XHTML. Flattened to a string as they close. */
const TEXT_CONSTRUCTS = new Set(['title', 'subtitle', 'tagline', 'rights', 'copyright', 'summary', 'content', 'description', 'content:encoded', 'info']);

async function parseXml(xml: string, url: string, stripPrefixes: ReadonlySet<string>): Promise<XmlParse> {
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
      // rss-parser reads channel[0] without checking. A channel-less <rss> or <rdf:RDF> is still an
      // RSS document (feedparser and gofeed read it as one): give it an empty channel, holding any
      // items placed directly under <rss> (RSS 1.0 keeps items outside the channel anyway).
      if ((name === 'rss' || name === 'rdf:RDF') && !Array.isArray(node['channel'])) {
        node['channel'] = [name === 'rss' ? { item: Array.isArray(node['item']) ? node['item'] : [] } : {}];
      }
      return node;
    }
    if (!METADATA_PARENTS.has(parent)) return node;
    // rss-parser's Atom link picker reads link.$.rel and throws when a <link> has no attributes.
    if (name === 'link' && node.$ === undefined) node.$ = {};
    return TEXT_CONSTRUCTS.has(name) ? flattenTextConstruct(node) : node;
  };
  const dropPrefix = (tag: string): string => {
    const colon = tag.indexOf(':');
    return colon > 0 && stripPrefixes.has(tag.slice(0, colon)) ? tag.slice(colon + 1) : tag;
  };
  const parser = new Parser<Record<string, unknown>, Record<string, unknown>>({
    defaultRSS: 2, // <rss> without a version attribute is read as RSS 2.0, which it almost always is
    xml2js: {
      explicitChildren: true,
      preserveChildrenOrder: true,
      charsAsChildren: true,
      includeWhiteChars: true,
      validator,
      ...(stripPrefixes.size > 0 ? { tagNameProcessors: [dropPrefix] } : {}),
    },
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
  const type = (attrs['type'] ?? '').toLowerCase();
  const isXhtml = type === 'xhtml' || type === 'application/xhtml+xml' || attrs['mode'] === 'xml';
  if (hasElements) {
    // RFC 4287 §3.1.1.3: XHTML content is wrapped in one xhtml:div that is not part of the content.
    const elements = children.filter((c): c is XmlElement => isElement(c) && c['#name'] !== '__text__');
    const only = elements.length === 1 ? elements[0] : undefined;
    const inner = isXhtml && only && localPart(only['#name'] ?? '').toLowerCase() === 'div' ? (only.$$ ?? []) : children;
    out._ = serializeXhtml(inner);
    attrs['type'] = 'html';
    delete attrs['mode'];
  } else if (typeof node._ === 'string') {
    // XHTML that is only text (Atom 0.3 type="application/xhtml+xml" mode="xml" around "&#x41;") is
    // that text, as HTML; left typed as XHTML it would read as an unknown media type and be dropped.
    out._ = isXhtml ? escapeHtml(node._) : node._;
    if (isXhtml) {
      attrs['type'] = 'html';
      delete attrs['mode'];
    }
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
// Sniffing and errors

interface SniffedRoot {
  /** The root element's qualified name; null when the prolog never ends or no element follows. */
  readonly name: string | null;
  readonly html: boolean;
  /** Offset of the root's start tag. */
  readonly at: number;
  /** Namespace declarations on the root start tag: prefix ('' for the default) -> namespace name. */
  readonly namespaces: ReadonlyMap<string, string>;
}

/** Root element, its namespace declarations and whether the document is HTML, from the prolog, without parsing. */
function sniffRoot(xml: string): SniffedRoot {
  const none = (): SniffedRoot => ({ name: null, html: false, at: 0, namespaces: new Map() });
  let i = 0;
  for (;;) {
    while (i < xml.length && /\s/.test(xml[i] ?? '')) i++;
    if (xml.startsWith('<?', i)) {
      const end = xml.indexOf('?>', i);
      if (end === -1) return none();
      i = end + 2;
    } else if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i);
      if (end === -1) return none();
      i = end + 3;
    } else if (xml.slice(i, i + 9).toUpperCase() === '<!DOCTYPE') {
      const m = /^<!DOCTYPE\s+([^\s>[]+)/i.exec(xml.slice(i, i + 200));
      if (m?.[1]?.toLowerCase() === 'html') return { ...none(), name: 'html', html: true };
      const subset = xml.indexOf('[', i);
      const close = xml.indexOf('>', i);
      if (close === -1) return none();
      // An internal subset ([...]) may contain '>' itself: skip past its closing "]".
      const end = subset !== -1 && subset < close ? xml.indexOf('>', xml.indexOf(']', subset)) : close;
      if (end === -1) return none();
      i = end + 1;
    } else {
      const m = /^<([A-Za-z_][\w.:-]*)/.exec(xml.slice(i, i + 100));
      const name = m?.[1] ?? null;
      const tagEnd = xml.indexOf('>', i);
      return { name, html: name?.toLowerCase() === 'html', at: i, namespaces: namespaceDeclarations(xml.slice(i, tagEnd === -1 ? undefined : tagEnd)) };
    }
  }
}

function namespaceDeclarations(startTag: string): Map<string, string> {
  const namespaces = new Map<string, string>();
  for (const m of startTag.matchAll(/\sxmlns(?::([\w.-]+))?\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    namespaces.set(m[1] ?? '', (m[2] ?? m[3] ?? '').trim());
  }
  return namespaces;
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
