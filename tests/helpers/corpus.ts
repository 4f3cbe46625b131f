// The shared feed corpus (../shared/corpus beside the repository: feed documents from other parsers'
// test suites, see its README) and readers for what upstream expects of each document: feedparser's
// `Expect:` Python expressions and the expected-model JSON of gofeed, feed-rs, rss-parser and
// feedsmith. Pure apart from file reads; used by tests/integration/corpus.test.ts.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { ParsedFeed } from '../../src/domain.js';
import { htmlToText } from '../../src/ingest/sanitize-html.js';

// ---------------------------------------------------------------------------------------------
// Locating and reading

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** ../shared/corpus relative to the repository root (never an absolute path: CI clones elsewhere). */
export const CORPUS_DIR = path.resolve(REPO_ROOT, '..', 'shared', 'corpus');
export const MANIFEST = path.join(CORPUS_DIR, 'manifest.tsv');
export const corpusPresent = (): boolean => existsSync(MANIFEST);

export interface ManifestRow {
  /** Relative to the corpus folder: feeds/<suite>/... */
  readonly path: string;
  /** The top-level folder under feeds/ (feedparser, gofeed, ...). */
  readonly suite: string;
  readonly format: string;
  readonly wellFormed: boolean;
  /** item/entry count from a recovering parse; null when the file could not be read. */
  readonly items: number | null;
  readonly features: readonly string[];
  readonly expectedOutcome: string;
}

export function readManifest(): ManifestRow[] {
  const lines = readFileSync(MANIFEST, 'utf8').split('\n');
  const header = lines[0]?.split('\t') ?? [];
  if (header.join(',') !== 'path,format,well_formed,size_bytes,items,features,expected_outcome') {
    throw new Error(`${MANIFEST}: unexpected columns ${header.join(', ')}`);
  }
  return lines
    .slice(1)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [file = '', format = '', wellFormed = '', , items = '', features = '', expectedOutcome = ''] = line.split('\t');
      return {
        path: file,
        suite: file.split('/')[1] ?? '',
        format,
        wellFormed: wellFormed === 'yes',
        items: items === '' ? null : Number(items),
        features: features === '' ? [] : features.split(','),
        expectedOutcome,
      };
    });
}

/**
 * The document's bytes as the fetcher would hand them to decodeBody. A few are stored gzip-compressed
 * (upstream serves them with Content-Encoding: gzip, which the HTTP layer undoes before decoding), so
 * those are decompressed here.
 */
export function documentBytes(row: ManifestRow): Uint8Array {
  const bytes = readFileSync(path.join(CORPUS_DIR, row.path));
  return bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
}

/**
 * Content-Location as the base URI is RFC 2616 behaviour that RFC 9110 §8.7 dropped, and the fetcher
 * does not apply it: expectations of documents served with it assume a base we deliberately ignore.
 */
export function servedWithContentLocation(row: ManifestRow): boolean {
  return /serve with HTTP headers:.*Content-Location/i.test(row.expectedOutcome);
}

/** feedparser's http_* cases hold only when served with the Content-Type its harness sends. */
export function contentTypeFor(row: ManifestRow): string | null {
  return /serve with HTTP headers: Content-type:\s*([^|]+)/i.exec(row.expectedOutcome)?.[1]?.trim() ?? null;
}

/**
 * The URL the document is parsed as coming from. Where upstream's expectations depend on it, the
 * URL its harness used (feedparser serves tests at http://127.0.0.1:8097/<path>, the W3C validator
 * at http://www.feedvalidator.org/testcases/<path>, miniflux names it per test); elsewhere a
 * reserved .invalid host. Nothing is ever fetched from these.
 */
export function documentUrl(row: ManifestRow): string {
  const inRepo = row.path.split('/').slice(2).join('/');
  if (row.suite === 'feedparser') return `http://127.0.0.1:8097/${inRepo}`;
  if (row.suite === 'feedvalidator') return `http://www.feedvalidator.org/${inRepo}`;
  const miniflux = /feed URL passed to parser: ([^)\s]+)/.exec(row.expectedOutcome)?.[1];
  if (miniflux && /^https?:\/\//.test(miniflux)) return miniflux;
  return `https://corpus.invalid/${row.path.split('/').map(encodeURIComponent).join('/')}`;
}

// ---------------------------------------------------------------------------------------------
// Field comparison

export interface FieldCheck {
  readonly field: string;
  readonly ok: boolean;
  readonly expected: string;
  readonly actual: string;
}

const collapse = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** Plain text against an upstream value that may be text or HTML. */
function sameText(actual: string | null, expected: string): boolean {
  if (actual === null) return collapse(expected) === '' || htmlToText(expected) === '';
  const ours = collapse(actual);
  return ours === collapse(expected) || ours === htmlToText(expected);
}

/** feedparser writes an author as "name (email)"; we keep the name. */
function sameAuthor(actual: string | null, expected: string): boolean {
  const strip = (s: string): string => s.replace(/\s*\([^()]*@[^()]*\)\s*$/, '');
  return sameText(actual === null ? null : strip(actual), strip(expected));
}

/** Our HTML fragment (item titles) against an upstream value that may be text or HTML. */
function sameHtml(actual: string | null, expected: string): boolean {
  if (actual === null) return collapse(expected) === '';
  return collapse(actual) === collapse(expected) || sameText(htmlToText(actual), expected);
}

/**
 * URLs compared resolved. Some models keep relative references as written (feedsmith, feed-rs):
 * those match when they resolve to our absolute URL against itself, i.e. when ours is that
 * reference resolved against some base (xml:base, the channel link) upstream did not apply.
 */
function sameUrl(actual: string | null, expected: string, base: string): boolean {
  if (actual === null) return expected.trim() === '';
  try {
    const ours = new URL(actual).href;
    return ours === new URL(expected.trim(), base).href || ours === new URL(expected.trim(), ours).href;
  } catch {
    return actual === expected;
  }
}

const show = (v: unknown): string => (v === null || v === undefined ? 'null' : v instanceof Date ? v.toISOString() : String(v));

function check(field: string, ok: boolean, expected: unknown, actual: unknown): FieldCheck {
  return { field, ok, expected: show(expected), actual: show(actual) };
}

/** Upstream read the bytes with the wrong charset (rss-parser's encoding.rss): nothing to compare. */
const misdecoded = (expected: string): boolean => expected.includes('\uFFFD');

// ---------------------------------------------------------------------------------------------
// gofeed, feed-rs, rss-parser and feedsmith: expected models as JSON

/** The expected-output file a manifest row points to, for the JSON-model suites; else null. */
export function expectedJsonPath(row: ManifestRow): string | null {
  const m = /^(?:gofeed expected output|feed-rs expected model|rss-parser output JSON|feedsmith parse output): (feeds\/\S+\.json)/.exec(row.expectedOutcome);
  return m?.[1] ? path.join(CORPUS_DIR, m[1]) : null;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A text field in any of the models: a string, or feed-rs's {content}, or {value}. */
function textOf(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (isObject(v)) return textOf(v['content'] ?? v['value']);
  return null;
}

/** The alternate link: `link` as a string, else the first alternate (or rel-less) of `links`. */
function linkOf(node: Json): string | null {
  if (typeof node['link'] === 'string' && node['link'].trim() !== '') return node['link'];
  const links = Array.isArray(node['links']) ? node['links'] : [];
  for (const l of links) {
    if (typeof l === 'string' && l.trim() !== '') return l;
    if (isObject(l) && typeof l['href'] === 'string') {
      const rel = typeof l['rel'] === 'string' ? l['rel'] : 'alternate';
      if (rel === 'alternate') return l['href'];
    }
  }
  return null;
}

/**
 * Compare a parsed feed with an upstream model, field by field, for what both models share: the
 * feed's title and link, the item count, and each item's title and link. Fields the upstream model
 * leaves out or empty are not compared.
 */
export function compareWithModel(suite: string, model: unknown, feed: ParsedFeed, base: string): FieldCheck[] {
  const root = suite === 'rss-parser' && isObject(model) ? model['feed'] : model;
  if (!isObject(root)) return [];
  const checks: FieldCheck[] = [];
  const title = textOf(root['title']);
  if (title !== null && title.trim() !== '' && !misdecoded(title)) checks.push(check('feed.title', sameText(feed.title, title), title, feed.title));
  const link = linkOf(root);
  if (link !== null) checks.push(check('feed.link', sameUrl(feed.homeUrl, link, base), link, feed.homeUrl));
  const items = Array.isArray(root['items']) ? root['items'] : Array.isArray(root['entries']) ? root['entries'] : null;
  if (items === null) return checks;
  checks.push(check('items.length', items.length === feed.items.length, items.length, feed.items.length));
  items.forEach((expected, i) => {
    const ours = feed.items[i];
    if (!isObject(expected) || ours === undefined) return;
    const t = textOf(expected['title']);
    if (t !== null && t.trim() !== '' && !misdecoded(t)) checks.push(check(`items[${i}].title`, sameHtml(ours.title, t), t, ours.title));
    const l = linkOf(expected);
    if (l !== null) checks.push(check(`items[${i}].link`, sameUrl(ours.link, l, base), l, ours.link));
  });
  return checks;
}

// ---------------------------------------------------------------------------------------------
// feedparser: `Expect:` Python expressions

/** One `path == literal` clause: feed['title'] == u'Example', entries[0]['updated_parsed'] == (2004, ...). */
export interface ExpectClause {
  readonly path: readonly (string | number)[];
  readonly expected: string | number | readonly number[];
}

/** The expression of a feedparser row ("Expect: ..." as the manifest copied it), else null. */
export function feedparserExpression(row: ManifestRow): string | null {
  const m = /^feedparser header comment: Expect:\s*(.*?)\s*(?:\[Description:|$)/.exec(row.expectedOutcome);
  return m?.[1]?.trim() || null;
}

type Token = { kind: 'str'; value: string } | { kind: 'num'; value: number } | { kind: 'name'; value: string } | { kind: 'op'; value: string };

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0', '\n': '' };

/** Python tokens, enough for feedparser's expectations; null for anything outside that subset. */
function tokenize(expr: string): Token[] | null {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const rest = expr.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const str = /^([uUbBrR]{0,2})('''|"""|'|")/.exec(rest);
    if (str) {
      const raw = /r/i.test(str[1] ?? '');
      const quote = str[2] ?? "'";
      let j = i + str[0].length;
      let value = '';
      for (;;) {
        if (j >= expr.length) return null;
        if (expr.startsWith(quote, j)) {
          j += quote.length;
          break;
        }
        const c = expr[j] ?? '';
        if (c !== '\\' || raw) {
          value += c;
          j++;
          continue;
        }
        const e = expr[j + 1] ?? '';
        const hex = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
        if (hex > 0) {
          const digits = expr.slice(j + 2, j + 2 + hex);
          if (!new RegExp(`^[0-9a-fA-F]{${hex}}$`).test(digits)) return null;
          value += String.fromCodePoint(Number.parseInt(digits, 16));
          j += 2 + hex;
        } else if (ESCAPES[e] !== undefined) {
          value += ESCAPES[e];
          j += 2;
        } else {
          value += `\\${e}`; // Python keeps unknown escapes as written
          j += 2;
        }
      }
      tokens.push({ kind: 'str', value });
      i = j;
      continue;
    }
    const num = /^-?\d+(?:\.\d+)?/.exec(rest);
    if (num) {
      tokens.push({ kind: 'num', value: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_]\w*/.exec(rest);
    if (name) {
      tokens.push({ kind: 'name', value: name[0] });
      i += name[0].length;
      continue;
    }
    const op = /^(?:==|!=|[[\](),.+{}:<>%*])/.exec(rest);
    if (!op) return null;
    tokens.push({ kind: 'op', value: op[0] });
    i += op[0].length;
  }
  return tokens;
}

/**
 * The simple forms of a feedparser expectation: clauses joined by `and`, each `bozo`, `not bozo` (not
 * checked: we have no bozo bit), a bare number (always true), or `<path> == <literal>` where the path
 * starts at feed, entries, version or encoding and the literal is a string, a number or a tuple of
 * numbers (feedparser's time tuples). Returns null for anything else (or, chained ==, calls, +, len,
 * dict literals, `is`, `in`): those expectations count as unchecked.
 */
export function parseExpectation(expr: string): ExpectClause[] | null {
  const tokens = tokenize(expr);
  if (tokens === null) return null;
  const clauses: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (t.kind === 'op' && '([{'.includes(t.value)) depth++;
    if (t.kind === 'op' && ')]}'.includes(t.value)) depth--;
    if (depth === 0 && t.kind === 'name' && t.value === 'and') clauses.push([]);
    else clauses[clauses.length - 1]?.push(t);
  }
  const out: ExpectClause[] = [];
  for (let clause of clauses) {
    if (clause[0]?.kind === 'op' && clause[0].value === '(' && clause.at(-1)?.kind === 'op' && clause.at(-1)?.value === ')') clause = clause.slice(1, -1);
    const words = clause.map((t) => (t.kind === 'name' ? t.value : t.kind === 'op' ? t.value : '')).join(' ');
    if (words === 'bozo' || words === 'not bozo') continue;
    if (clause.length === 1 && clause[0]?.kind === 'num') continue;
    const parsed = parseComparison(clause);
    if (parsed === null) return null;
    out.push(parsed);
  }
  return out;
}

function parseComparison(tokens: Token[]): ExpectClause | null {
  const eq = tokens.findIndex((t) => t.kind === 'op' && t.value === '==');
  if (eq <= 0 || tokens.slice(eq + 1).some((t) => t.kind === 'op' && t.value === '==')) return null;
  const lhs = tokens.slice(0, eq);
  const rhs = tokens.slice(eq + 1);
  const head = lhs[0];
  if (head?.kind !== 'name' || !['feed', 'entries', 'version', 'encoding'].includes(head.value)) return null;
  const pathParts: (string | number)[] = [head.value];
  for (let i = 1; i < lhs.length; ) {
    const [a, b, c] = [lhs[i], lhs[i + 1], lhs[i + 2]];
    if (a?.kind === 'op' && a.value === '[' && (b?.kind === 'str' || b?.kind === 'num') && c?.kind === 'op' && c.value === ']') {
      pathParts.push(b.value);
      i += 3;
    } else if (a?.kind === 'op' && a.value === '.' && b?.kind === 'name') {
      pathParts.push(b.value);
      i += 2;
    } else {
      return null;
    }
  }
  if (rhs.length === 1 && (rhs[0]?.kind === 'str' || rhs[0]?.kind === 'num')) return { path: pathParts, expected: rhs[0].value };
  // A tuple of numbers: ( n , n , ... )
  if (rhs[0]?.kind === 'op' && rhs[0].value === '(' && rhs.at(-1)?.kind === 'op' && rhs.at(-1)?.value === ')') {
    const inner = rhs.slice(1, -1);
    const nums: number[] = [];
    for (let i = 0; i < inner.length; i++) {
      const t = inner[i];
      if (i % 2 === 0 && t?.kind === 'num') nums.push(t.value);
      else if (i % 2 === 1 && t?.kind === 'op' && t.value === ',') continue;
      else return null;
    }
    return { path: pathParts, expected: nums };
  }
  return null;
}

const DATE_FIELDS = new Set(['published_parsed', 'updated_parsed', 'issued_parsed', 'created_parsed', 'modified_parsed', 'date_parsed']);

/**
 * Check one feedparser clause against our parse; null when the clause names a field our model does
 * not have (feed subtitle, enclosures, sanitised content, ...): the whole expectation is then unchecked.
 */
export function checkClause(clause: ExpectClause, feed: ParsedFeed, base: string): FieldCheck | null {
  const { path: p, expected } = clause;
  const name = p.map((x) => (typeof x === 'number' ? `[${x}]` : `.${x}`)).join('').slice(1);
  if (p[0] === 'version' && typeof expected === 'string') {
    const format = expected.startsWith('rss') ? 'rss' : expected.startsWith('atom') ? 'atom' : expected.startsWith('json') ? 'json' : null;
    return format === null ? null : check(name, feed.format === format, format, feed.format);
  }
  if (p[0] === 'feed') {
    const key = p.slice(1).join('.');
    if (typeof expected !== 'string') return null;
    if (key === 'title' || key === 'title_detail.value') return check(name, sameText(feed.title, expected), expected, feed.title);
    if (key === 'link') return check(name, sameUrl(feed.homeUrl, expected, base), expected, feed.homeUrl);
    return null;
  }
  if (p[0] !== 'entries' || typeof p[1] !== 'number') return null;
  const item = feed.items[p[1]];
  const key = p.slice(2).join('.');
  const supported = ['title', 'title_detail.value', 'link', 'id', 'author', 'author_detail.name'].includes(key) || /^tags\.\d+\.term$/.test(key) || DATE_FIELDS.has(key);
  if (!supported) return null;
  if (item === undefined) return check(name, false, expected, `no item ${p[1]}`);
  if (DATE_FIELDS.has(key)) {
    if (!Array.isArray(expected) || expected.length < 6) return null;
    const [y = 0, mo = 1, d = 1, h = 0, mi = 0, s = 0] = expected;
    const want = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
    const ok = [item.publishedAt, item.updatedAt].some((date) => date?.getTime() === want.getTime());
    return check(name, ok, want, `${show(item.publishedAt)} / ${show(item.updatedAt)}`);
  }
  if (typeof expected !== 'string') return null;
  if (key === 'title' || key === 'title_detail.value') return check(name, sameHtml(item.title, expected), expected, item.title);
  if (key === 'link') return check(name, sameUrl(item.link, expected, base), expected, item.link);
  // feedparser resolves a relative id against the base like a link; we keep ids as written.
  if (key === 'id') return check(name, item.guid === expected.trim() || sameUrl(item.guid === null ? null : new URL(item.guid, base).href, expected, base), expected, item.guid);
  if (key === 'author' || key === 'author_detail.name') return check(name, sameAuthor(item.author, expected), expected, item.author);
  const tag = Number(p[3]);
  return check(name, item.categories[tag] !== undefined && sameText(item.categories[tag] ?? null, expected), expected, item.categories[tag]);
}
