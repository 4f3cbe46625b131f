// OPML subscription lists (http://opml.org/spec2.opml) in and out: parseOpml reads the outlines a
// feed reader exports, renderOpml writes the river's sources for one to import, and
// appendFeedsToYaml adds feeds to a feeds.yaml text without disturbing the rest of it. Pure
// string -> value functions; deciding what to import is commands/import-opml.ts's job, serving
// the export http/opml-routes.ts's.
//
// XML goes through xml2js over sax (rss-parser's own parser, so no new dependency), strict first.
// sax never expands entities declared in a DOCTYPE, internal or external: a reference to one is a
// parse error, so no file is read and no entity bomb grows. Exports from real readers are often
// sloppy ("News & Politics" with a bare ampersand, HTML entities), so a document the strict parse
// rejects gets the feed pipeline's text-level repairs (lenient-xml.ts, which drops the DOCTYPE) and
// one more try, as feeds do.

import { createRequire } from 'node:module';
import { Document, isAlias, isMap, isScalar, isSeq, parseDocument, visit, type Node, type Pair } from 'yaml';
import { TributaryError } from './errors.js';
import { repairXml } from './ingest/lenient-xml.js';

/** One feed subscription found in an OPML document, as written there (nothing validated yet). */
export interface OpmlSubscription {
  /** The outline's `text` (what the reader showed), else its `title`; null when both are blank. */
  readonly title: string | null;
  /** `xmlUrl`, trimmed; may be anything, the importer decides what it accepts. */
  readonly xmlUrl: string;
  /** `htmlUrl`, trimmed; null when absent or blank. */
  readonly htmlUrl: string | null;
  /** Names of the folders (outlines without xmlUrl) it is nested in, outermost first. */
  readonly folders: readonly string[];
  /** OPML 2.0 `category`: comma-separated; entries without inner slashes are tags. */
  readonly categories: readonly string[];
}

/** An outline that claims to be a feed (type="rss") but cannot be one, or that was not read. */
export interface OpmlProblem {
  readonly title: string | null;
  readonly reason: string;
}

export type OpmlEntry = ({ readonly kind: 'feed' } & OpmlSubscription) | ({ readonly kind: 'problem' } & OpmlProblem);

export interface OpmlDocument {
  /** The head's <title>, when given. */
  readonly title: string | null;
  /**
   * Feeds and problems in document order, duplicates included (deciding what is a duplicate is the
   * importer's job). Outlines that are neither (notes, links, folders) are not listed.
   */
  readonly entries: readonly OpmlEntry[];
}

/**
 * Outlines nested deeper than this are not read (and said so): no reader nests folders that deep,
 * and a feed thirty folders down would get thirty tags. The walk is iterative either way, so a
 * hostile document cannot exhaust the stack.
 */
export const MAX_OUTLINE_DEPTH = 32;

/** Reads an OPML document; throws TributaryError('parse') naming what is wrong and where. */
export function parseOpml(text: string): OpmlDocument {
  const source = text.replace(/^\uFEFF/, '');
  if (source.trim() === '') throw new TributaryError('parse', 'the OPML file is empty');
  let root: XmlNode;
  try {
    root = parseXml(source);
  } catch (strictError) {
    const repaired = repairXml(source);
    // Nothing to repair: the strict parser's message is the one that explains the problem.
    if (repaired.repairs.length === 0) throw opmlSyntaxError(strictError);
    try {
      root = parseXml(repaired.text);
    } catch {
      throw opmlSyntaxError(strictError);
    }
  }
  if (root['#name'] !== 'opml') {
    throw new TributaryError('parse', `not an OPML document: the root element is <${String(root['#name'])}>, expected <opml>`);
  }
  const head = children(root, 'head')[0];
  const body = children(root, 'body')[0];
  if (body === undefined) throw new TributaryError('parse', 'not an OPML document: <opml> has no <body>');
  const title = head ? blankToNull(textOf(children(head, 'title')[0])) : null;

  const entries: OpmlEntry[] = [];
  // Depth-first in document order, with an explicit stack (reversed pushes keep the order).
  const stack: { node: XmlNode; folders: string[]; depth: number }[] = children(body, 'outline')
    .reverse()
    .map((node) => ({ node, folders: [], depth: 1 }));
  while (stack.length > 0) {
    const { node, folders, depth } = stack.pop()!;
    const attrs = attributes(node);
    const name = blankToNull(attrs.get('text')) ?? blankToNull(attrs.get('title'));
    const xmlUrl = attrs.get('xmlurl')?.trim() ?? '';
    const nested = children(node, 'outline');
    if (xmlUrl !== '') {
      entries.push({
        kind: 'feed',
        title: name,
        xmlUrl,
        htmlUrl: blankToNull(attrs.get('htmlurl')),
        folders,
        categories: splitCategories(attrs.get('category')),
      });
    } else if (attrs.get('type')?.trim().toLowerCase() === 'rss') {
      entries.push({ kind: 'problem', title: name, reason: 'an outline of type "rss" without an xmlUrl' });
    }
    if (nested.length === 0) continue;
    if (depth >= MAX_OUTLINE_DEPTH) {
      entries.push({ kind: 'problem', title: name, reason: `the outlines inside it are nested deeper than ${MAX_OUTLINE_DEPTH} levels and were not read` });
      continue;
    }
    // A folder's name becomes a tag of everything inside it; an unnamed folder adds none. A feed
    // outline with children (rare) is not a folder: its children keep the enclosing folders.
    const inner = xmlUrl === '' && name !== null ? [...folders, name] : folders;
    for (const child of nested.reverse()) stack.push({ node: child, folders: inner, depth: depth + 1 });
  }
  return { title, entries };
}

/** OPML 2.0 `category`: "a comma-separated list of slash-delimited category strings"; a tag has no slash. */
function splitCategories(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((c) => c.trim().replace(/^\/+|\/+$/g, ''))
    .filter((c) => c !== '' && !c.includes('/'));
}

// ---------------------------------------------------------------------------------------------
// Writing

export interface OpmlHead {
  readonly title: string;
  /** OPML 2.0 dateCreated (RFC 822 date-time, written as Date.toUTCString gives it). */
  readonly dateCreated: Date;
}

export interface OpmlOutline {
  /** What a reader shows: the publisher's name, else the feed's title, else the source id. */
  readonly title: string;
  readonly xmlUrl: string;
  readonly htmlUrl: string | null;
  readonly tags: readonly string[];
}

/**
 * An OPML 2.0 subscription list: one flat `type="rss"` outline per feed, tags as `category` (the
 * spec's way to carry tags: slash-free category strings). Flat rather than folders because a feed
 * may carry several tags and a folder tree would list it once per tag. Every value is escaped for
 * a double-quoted attribute; characters XML 1.0 cannot carry are dropped.
 */
export function renderOpml(head: OpmlHead, outlines: readonly OpmlOutline[]): string {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<opml version="2.0">',
    '  <head>',
    `    <title>${escapeXml(head.title)}</title>`,
    `    <dateCreated>${head.dateCreated.toUTCString()}</dateCreated>`,
    '    <docs>http://opml.org/spec2.opml</docs>',
    '  </head>',
    '  <body>',
  ];
  for (const o of outlines) {
    const attrs: [string, string | null][] = [
      ['type', 'rss'],
      ['text', o.title],
      ['title', o.title],
      ['xmlUrl', o.xmlUrl],
      ['htmlUrl', o.htmlUrl],
      // A comma inside a tag would split it on import; such a tag is written without its commas.
      ['category', o.tags.length ? o.tags.map((t) => t.replaceAll(',', ' ').trim()).join(',') : null],
    ];
    const written = attrs.filter((a): a is [string, string] => a[1] !== null).map(([k, v]) => `${k}="${escapeXml(v)}"`);
    lines.push(`    <outline ${written.join(' ')}/>`);
  }
  lines.push('  </body>', '</opml>', '');
  return lines.join('\n');
}

// XML 1.0 §2.2 Char excludes most C0 controls, U+FFFE/U+FFFF and lone surrogates.
const XML_ILLEGAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes for element content and double-quoted attributes alike; TAB/LF/CR as references so attribute normalisation keeps them. */
function escapeXml(s: string): string {
  return s
    .replace(XML_ILLEGAL, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

// ---------------------------------------------------------------------------------------------
// Adding feeds to feeds.yaml

/** A feeds.yaml entry to add; null and empty fields are left out. */
export interface NewFeedEntry {
  readonly id: string;
  readonly url: string;
  readonly name: string | null;
  readonly homepage: string | null;
  readonly tags: readonly string[];
}

/**
 * Appends entries to the `feeds:` list of a feeds.yaml text. The document is read with yaml's
 * Document API only to find where the list ends and how it is indented; the new entries are then
 * spliced into the original text, so every other byte (comments, blank lines, quoting, key order,
 * flow lists) stays exactly as written. Re-serialising the whole Document would not: it re-indents
 * comments and re-spaces flow collections. The entries follow the list's own layout (indentation,
 * blank lines between entries, CRLF). A flow list (`feeds: []`) becomes a block list, its existing
 * entries written out in block style (comments inside the brackets are not kept).
 * The caller validates the text before and after (a document without a `feeds:` list throws).
 */
export function appendFeedsToYaml(text: string, entries: readonly NewFeedEntry[]): string {
  if (entries.length === 0) return text;
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const doc = parseDocument(text, { keepSourceTokens: false });
  const pair = isMap(doc.contents)
    ? (doc.contents.items as Pair[]).find((p) => isScalar(p.key) && p.key.value === 'feeds')
    : undefined;
  const seq = pair?.value;
  const values = entries.map(entryValue);
  if (pair === undefined || !isScalar(pair.key) || !pair.key.range) {
    throw new TributaryError('config', 'feeds.yaml has no "feeds:" list to add to');
  }
  if (isAlias(seq)) throw new TributaryError('config', '"feeds:" is an alias (*name); add the feeds to the anchored list by hand');
  if (!isSeq(seq) || !seq.range) throw new TributaryError('config', '"feeds:" is not a list; write "feeds: []" for an empty one');

  if (!seq.flow && seq.items.length > 0) {
    const items = seq.items as Node[];
    const last = items[items.length - 1]!;
    const dash = text.lastIndexOf('-', last.range![0] - 1);
    const dashCol = dash - lineStart(text, dash);
    // The column of the entries' keys relative to the dash ("- id" is 2, "-   id" is 4).
    const sameLine = !text.slice(dash, last.range![0]).includes('\n');
    const itemIndent = sameLine ? Math.max(2, last.range![0] - dash) : 2;
    let at = endOfLine(text, last.range![1]);
    // Comment lines indented deeper than the dash still belong to the last entry (a commented-out
    // key, a note): the new entries go after them. A comment at the dash's column or less, a
    // blank line or the next key ends the list.
    while (at < text.length) {
      const nl = text.indexOf('\n', at);
      const next = nl === -1 ? text.length : nl + 1;
      const m = /^([ \t]*)#/.exec(text.slice(at, next));
      if (!m || m[1]!.length <= dashCol) break;
      at = next;
    }
    // Entries separated by blank lines get their blank line too.
    const prev = items.length >= 2 ? items[items.length - 2]! : null;
    const blank = prev !== null && /(^|\n)[ \t]*\r?\n/.test(text.slice(endOfLine(text, prev.range![1]), lineStart(text, dash)));
    const sep = blank ? eol : '';
    const lead = (at > 0 && text[at - 1] !== '\n' ? eol : '') + sep;
    const block = values.map((v) => renderEntry(v, dashCol, itemIndent, eol)).join(sep);
    return text.slice(0, at) + lead + block + text.slice(at);
  }

  // A flow list: `feeds: []` (or entries in brackets). The brackets go, the list is written as a
  // block under the key, after whatever followed on the key's line (a comment stays there).
  const keyCol = pair.key.range[0] - lineStart(text, pair.key.range[0]);
  const existing = (seq.items as Node[]).map((n) => n.toJS(doc) as unknown);
  let from = seq.range[0];
  while (from > 0 && (text[from - 1] === ' ' || text[from - 1] === '\t')) from -= 1;
  const withoutFlow = text.slice(0, from) + text.slice(seq.range[1]);
  const at = endOfLine(withoutFlow, from);
  const lead = at > 0 && withoutFlow[at - 1] !== '\n' ? eol : '';
  const block = [...existing, ...values].map((v) => renderEntry(v, keyCol + 2, 2, eol)).join('');
  return withoutFlow.slice(0, at) + lead + block + withoutFlow.slice(at);
}

function entryValue(e: NewFeedEntry): Record<string, unknown> {
  const v: Record<string, unknown> = { id: e.id, url: e.url };
  if (e.name !== null) v['name'] = e.name;
  if (e.homepage !== null) v['homepage'] = e.homepage;
  if (e.tags.length > 0) v['tags'] = [...e.tags];
  return v;
}

/**
 * One list entry in block style at the given indentation, lists inside it in flow style
 * (`tags: [news, us]`, as the example feeds.yaml writes them). yaml's stringifier decides the
 * quoting, so a name such as `Politics: the blog` or `yes` comes out quoted.
 */
function renderEntry(value: unknown, dashCol: number, itemIndent: number, eol: string): string {
  const doc = new Document(value);
  visit(doc, {
    Seq(_, node) {
      node.flow = true;
    },
  });
  const lines = doc.toString({ lineWidth: 0, flowCollectionPadding: false }).replace(/\n$/, '').split('\n');
  const pad = ' '.repeat(dashCol);
  return lines.map((line, i) => pad + (i === 0 ? `-${' '.repeat(itemIndent - 1)}` : ' '.repeat(itemIndent)) + line).join(eol) + eol;
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** The offset just after the line break ending the line `offset` is on (or the text's end). */
function endOfLine(text: string, offset: number): number {
  if (offset > 0 && text[offset - 1] === '\n') return offset;
  const nl = text.indexOf('\n', offset);
  return nl === -1 ? text.length : nl + 1;
}

/**
 * A feeds.yaml id from a title: lower-case ASCII letters and digits joined by "-", accents folded
 * ("Café Müller" -> "cafe-muller"); '' when nothing is left (a title in a non-Latin script, say).
 * Kept short enough that a "-NN" suffix still fits the 64 characters an id may have.
 */
export function slugId(text: string): string {
  const slug = text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    // Latin letters that NFKD does not decompose into a base letter and a mark.
    .replace(/[æøœßđłþ]/g, (c) => LETTERS[c] ?? '')
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return cutAtWord(slug, 56);
}

/** At most `max` characters, cut after a whole word when there is one to cut after. */
function cutAtWord(slug: string, max: number): string {
  if (slug.length <= max) return slug;
  const cut = slug.slice(0, max + 1);
  const lastBreak = cut.lastIndexOf('-');
  return lastBreak > 0 ? cut.slice(0, lastBreak) : slug.slice(0, max);
}

const LETTERS: Readonly<Record<string, string>> = { æ: 'ae', ø: 'o', œ: 'oe', ß: 'ss', đ: 'd', ł: 'l', þ: 'th' };

/** `base`, else `base-2`, `base-3`, ... whichever is not taken yet. */
export function uniqueId(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}-${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

// ---------------------------------------------------------------------------------------------
// xml2js

/** An element as xml2js builds it with explicitChildren + preserveChildrenOrder. */
interface XmlNode {
  '#name'?: string;
  $?: Record<string, string>;
  $$?: XmlNode[];
  _?: string;
}

interface Xml2jsParser {
  parseString(xml: string, cb: (err: Error | null, result: Record<string, XmlNode> | null) => void): void;
}

// xml2js ships no types and is not imported anywhere else directly; createRequire keeps it a plain
// CommonJS load with the one constructor typed here.
const require = createRequire(import.meta.url);
const xml2js = require('xml2js') as { Parser: new (options: Record<string, unknown>) => Xml2jsParser };

function parseXml(xml: string): XmlNode {
  const parser = new xml2js.Parser({
    strict: true,
    async: false,
    explicitChildren: true,
    preserveChildrenOrder: true,
    explicitRoot: true,
  });
  let result: Record<string, XmlNode> | null = null;
  let error: Error | null = null;
  let done = false;
  // With async: false the callback runs before parseString returns. xml2js may call it twice after
  // an error; the first call is the one that counts.
  parser.parseString(xml, (err, out) => {
    if (done) return;
    done = true;
    error = err;
    result = out;
  });
  if (error) throw error;
  const root = result === null ? undefined : Object.values(result as Record<string, XmlNode>)[0];
  if (root === undefined) throw new Error('no root element');
  return root;
}

function opmlSyntaxError(err: unknown): TributaryError {
  // sax reports "Message\nLine: 3\nColumn: 17\nChar: x" with 0-based lines.
  const msg = err instanceof Error ? err.message : String(err);
  const [first = 'not well-formed XML'] = msg.split('\n');
  const line = /Line: (\d+)/.exec(msg);
  const col = /Column: (\d+)/.exec(msg);
  const where = line && col ? ` at line ${Number(line[1]) + 1}, column ${col[1]}` : '';
  return new TributaryError('parse', `the OPML file is not well-formed XML${where}: ${first.toLowerCase()}`, { cause: err });
}

function children(node: XmlNode, name: string): XmlNode[] {
  return (node.$$ ?? []).filter((c) => c['#name'] === name);
}

function textOf(node: XmlNode | undefined): string {
  if (node === undefined) return '';
  return typeof node._ === 'string' ? node._ : '';
}

/** Attribute names folded to lower case: exporters write xmlUrl, xmlurl and XMLURL alike. */
function attributes(node: XmlNode): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(node.$ ?? {})) if (!out.has(k.toLowerCase())) out.set(k.toLowerCase(), v);
  return out;
}

function blankToNull(s: string | undefined): string | null {
  const t = s?.replace(/\s+/g, ' ').trim();
  return t ? t : null;
}
