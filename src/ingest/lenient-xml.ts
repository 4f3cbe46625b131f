// The lenient path for feed XML that strict parsing rejected: text-level repairs of the breakage
// common in real feeds, applied to a copy that parse-feed.ts re-parses once. Also the one scan of
// the element structure that both the nesting limit and the truncation repair use.
//
// Pure string -> string functions; nothing here parses XML into a tree. Every repair is linear in
// the document's length (each pattern stops at the next '<' or matches to the end), so what a
// hostile document costs here grows with its size and nothing else.
//
// What is never done: expanding entities declared in a DOCTYPE (internal or external, so no file
// reads, no network, no billion laughs). The DOCTYPE is dropped and references to its entities
// become literal text ("&xxe;").
import { decodeHtmlEntities } from './sanitize-html.js';

/** The kinds of breakage repairXml fixes, in the order it applies them. */
export type XmlRepair =
  | 'control-characters' // characters XML 1.0 §2.2 does not allow, raw or as &#N; references
  | 'leading-junk' // text, a BOM, a PHP warning or a comment before the XML declaration / root
  | 'doctype' // a DOCTYPE (its entity declarations are never expanded)
  | 'encoding-declaration' // encoding="..." in the XML declaration (the text is already decoded)
  | 'html-entities' // &nbsp; &eacute; ... (HTML named entities, not defined in XML)
  | 'bare-ampersands' // '&' that does not start a reference ("a=1&b=2", "Q&A")
  | 'truncated' // the document ends inside an element (cut download, missing final '>')
  | 'unbalanced-html'; // unclosed <br>/<img> or a stray close tag in unescaped HTML

export interface RepairedXml {
  readonly text: string;
  /** What was changed; empty when the repairs found nothing to do (re-parsing would be futile). */
  readonly repairs: readonly XmlRepair[];
}

/**
 * Rewrite a feed document that is not well-formed XML into one that is, for the breakage real feeds
 * show. Conservative by design: it never guesses at structure in the middle of a document (a
 * mismatched close tag stays an error), only at its edges (leading junk, a cut-off end).
 */
export function repairXml(xml: string): RepairedXml {
  const repairs: XmlRepair[] = [];
  let text = xml;
  const apply = (kind: XmlRepair, next: string): void => {
    if (next !== text) {
      repairs.push(kind);
      text = next;
    }
  };
  // Control characters first: NULs of a UTF-16/32 body read as UTF-8 would hide the declaration.
  apply('control-characters', stripControlCharacters(text));
  apply('leading-junk', stripLeadingJunk(text));
  apply('doctype', stripDoctype(text));
  apply('encoding-declaration', stripEncodingDeclaration(text));
  const entities = repairEntities(text);
  if (entities.named) repairs.push('html-entities');
  if (entities.bare) repairs.push('bare-ampersands');
  text = entities.text;
  apply('truncated', closeTruncated(text));
  apply('unbalanced-html', rebalanceHtml(text));
  return { text, repairs };
}

// ---------------------------------------------------------------------------------------------
// Prolog

const XML_DECLARATION = /<\?xml\s/;
/** A feed's root start tag (RSS, Atom, RDF, possibly prefixed), as a cue that markup has begun. */
const FEED_ROOT_TAG = /<(?:[A-Za-z_][\w.-]*:)?(?:rss|feed|RDF|entry)[\s>/]/;

/**
 * Drop whatever precedes the document proper: a BOM, whitespace, server junk such as a PHP warning
 * ("<br /><b>Warning</b>: ... <?xml ..."), or a comment before the XML declaration (XML 1.0 §2.8
 * only allows the declaration first). An XML declaration is trusted as the start only when no feed
 * root tag comes before it, so an article quoting "<?xml ...?>" inside CDATA is left alone.
 */
export function stripLeadingJunk(xml: string): string {
  const decl = xml.search(XML_DECLARATION);
  if (decl > 0 && !FEED_ROOT_TAG.test(xml.slice(0, decl))) return xml.slice(decl);
  if (decl === 0 || xml.startsWith('<')) return xml;
  const root = xml.search(FEED_ROOT_TAG);
  if (root >= 0) return xml.slice(root);
  const markup = xml.search(/<[A-Za-z_!?]/);
  return markup > 0 ? xml.slice(markup) : xml;
}

/**
 * Remove a DOCTYPE declaration, internal subset included. Feeds gain nothing from DTDs: RSS 0.91's
 * is what once made &nbsp; legal there (those names are handled by repairEntities instead), and
 * an internal subset is exactly where entity bombs and external entities (SYSTEM "file:///...")
 * live. Without it, references to its entities are no longer declared and become literal text.
 */
export function stripDoctype(xml: string): string {
  const m = DOCTYPE.exec(xml);
  if (!m) return xml;
  // Only in the prolog: a "<!DOCTYPE html>" inside an item's CDATA is content, not ours to touch.
  const firstElement = xml.search(/<[A-Za-z_]/);
  if (firstElement !== -1 && m.index > firstElement) return xml;
  return xml.slice(0, m.index) + xml.slice(m.index + m[0].length);
}

const DOCTYPE = /<!DOCTYPE[^>[]*(?:\[[^\]]*\]?)?[^>]*>?/i;

/**
 * Drop the encoding pseudo-attribute of the XML declaration (XML 1.0 §4.3.3). The parser is given
 * a JS string that read-response.ts has already decoded (BOM, charset parameter, declaration), so
 * the declaration can only mislead: a feed that says ISO-8859-1 but was served as UTF-8, or names
 * an encoding nobody knows ("bogus", "x-fake").
 */
export function stripEncodingDeclaration(xml: string): string {
  return xml.replace(/^(<\?xml\b[^>]*?)\s+encoding\s*=\s*(?:"[^"]*"|'[^']*'|[^\s?>]*)/, '$1');
}

// ---------------------------------------------------------------------------------------------
// Characters

// XML 1.0 §2.2: Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
// Vertical tab and form feed are whitespace in HTML and text, so they become a space; the other C0
// controls, U+FFFE/U+FFFF and lone surrogates (a UTF-16 body cut mid-pair) carry nothing and go.
const ILLEGAL_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const NUMERIC_REFERENCE = /&#(?:([0-9]{1,10})|[xX]([0-9A-Fa-f]{1,8}));/g;

/**
 * The first character XML 1.0 does not allow, raw (numeric references are the parser's to reject).
 * sax, under rss-parser, lets raw control characters through, so parse-feed.ts asks this first and
 * treats a hit as a strict failure: the lenient path then strips them, instead of a backspace or NUL
 * reaching titles and the database.
 */
export function firstIllegalCharacter(xml: string): { readonly code: number; readonly at: number } | null {
  const m = new RegExp(ILLEGAL_CHAR.source).exec(xml);
  return m ? { code: m[0].charCodeAt(0), at: m.index } : null;
}

/** Remove characters XML 1.0 does not allow, raw or written as numeric character references. */
export function stripControlCharacters(xml: string): string {
  const raw = xml.replace(ILLEGAL_CHAR, (c) => (c === '\u000b' || c === '\u000c' ? ' ' : ''));
  if (!raw.includes('&#')) return raw;
  return raw.replace(NUMERIC_REFERENCE, (m, dec?: string, hex?: string) => {
    const code = dec !== undefined ? Number(dec) : Number.parseInt(hex ?? '', 16);
    if (isXmlChar(code)) return m;
    return code === 0x0b || code === 0x0c ? ' ' : '';
  });
}

function isXmlChar(code: number): boolean {
  return (
    code === 0x9 || code === 0xa || code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

const XML_ENTITIES = new Set(['amp', 'lt', 'gt', 'quot', 'apos']);

// CDATA sections and comments are copied as they are ('&' is literal there); elsewhere an '&'
// either starts a reference (named, decimal, hex) or is a bare ampersand.
const AMPERSAND_OR_SKIPPED =
  /(<!\[CDATA\[[\s\S]*?(?:\]\]>|$)|<!--[\s\S]*?(?:-->|$))|&(?:([A-Za-z][A-Za-z0-9]{0,31});|(#[0-9]{1,10};|#[xX][0-9A-Fa-f]{1,8};))?/g;

/**
 * HTML named entities -> numeric character references, and bare '&' -> '&amp;'.
 *
 * Which names: the whole HTML5 list (over 2,000 names), through sanitize-html's decoder (htmlparser2's
 * table, already a dependency), rather than a hand-kept Latin-1 + typographic subset: feeds carry
 * whatever their CMS's HTML escaper emits (&hellip;, &rsquo;, &mdash;, &eacute;, &Ccedil;, math
 * and Greek names in science feeds), and a subset would silently turn the rest into something else.
 * A name HTML does not define either (&xxe;, &lol9;, a typo) is kept as literal text ("&amp;name;"),
 * which is what browsers show for an unknown reference; U+FFFD or dropping it would lose the only
 * clue to what the publisher meant.
 */
export function repairEntities(xml: string): { text: string; named: boolean; bare: boolean } {
  let named = false;
  let bare = false;
  const cache = new Map<string, string>();
  const text = xml.replace(AMPERSAND_OR_SKIPPED, (m, skipped?: string, name?: string, numeric?: string) => {
    if (skipped !== undefined || numeric !== undefined) return m;
    if (name === undefined) {
      bare = true;
      return '&amp;';
    }
    if (XML_ENTITIES.has(name)) return m;
    named = true;
    let repl = cache.get(name);
    if (repl === undefined) {
      const decoded = decodeHtmlEntities(m);
      repl = decoded === m ? `&amp;${name};` : [...decoded].map((ch) => `&#${ch.codePointAt(0)};`).join('');
      cache.set(name, repl);
    }
    return repl;
  });
  return { text, named, bare };
}

// ---------------------------------------------------------------------------------------------
// Element structure

// One token per match: CDATA, comment, processing instruction, DOCTYPE, close tag (group 1) or
// start/empty tag (group 2). Attribute values cannot contain '<' (XML 1.0 §3.1), so every branch
// stops at the next '<' or runs to the end of the text: the scan is linear whatever the input.
const TOKEN =
  /<!\[CDATA\[[\s\S]*?(?:\]\]>|$)|<!--[\s\S]*?(?:-->|$)|<\?[\s\S]*?(?:\?>|$)|<!DOCTYPE[^>[]*(?:\[[^\]]*\]?)?[^>]*>?|<\/([A-Za-z_][\w.:-]*)\s*>|<([A-Za-z_][\w.:-]*)(?:[^<>"']|"[^"<]*"|'[^'<]*')*>/gi;

interface OpenElement {
  readonly name: string;
  /** Offsets of its start tag: where it begins and just past its '>'. */
  readonly at: number;
  readonly end: number;
}

interface Span {
  readonly at: number;
  readonly end: number;
}

/**
 * How deep elements may nest. libxml2 refuses more than 256 levels by default for the same reason:
 * xml2js rebuilds the element's whole path each time an element closes, so the cost of a document
 * grows with depth times size (a 350 KB document of 50,000 nested elements took 70 s). Real feeds
 * stay far below: 16 levels is the deepest in the 5,119-document corpus.
 */
export const MAX_NESTING_DEPTH = 256;

/**
 * The same cost summed over the document: each element's depth, added up. Within the depth limit a
 * 5 MB document of 1.4 million empty elements 250 levels down still took 24 s; this bounds that
 * work to well under a second. The largest XML feed in the corpus (a 1.6 MB podcast) needs 43,000.
 */
export const MAX_NESTING_WORK = 10_000_000;

export interface ElementScan {
  /** Deepest element nesting seen (the scan stops once it passes a limit). */
  readonly maxDepth: number;
  /** Which limit the document passes, if any: MAX_NESTING_DEPTH or MAX_NESTING_WORK. */
  readonly overLimit: 'depth' | 'work' | null;
  /** Elements still open at the end of the text, outermost first. */
  readonly open: readonly OpenElement[];
  /** Elements never closed themselves, closed by the close tag of an element around them. */
  readonly implicitlyClosed: readonly OpenElement[];
  /** Close tags that match no open element. */
  readonly strayCloseTags: readonly Span[];
  /** Where an incomplete construct at the very end starts ("</rss", "<![CD", "<item attr="), else null. */
  readonly incompleteTailAt: number | null;
}

/**
 * Scan the element structure without building a tree. A close tag that does not match the innermost
 * open element closes the nearest matching one, HTML-style, and the ones it skipped are recorded
 * as implicitly closed; a close tag matching nothing is recorded as stray. Stops as soon as nesting
 * passes a limit, which also bounds the work per close tag.
 */
export function scanElements(xml: string, depthLimit = MAX_NESTING_DEPTH, workLimit = MAX_NESTING_WORK): ElementScan {
  const open: OpenElement[] = [];
  const implicitlyClosed: OpenElement[] = [];
  const strayCloseTags: Span[] = [];
  let maxDepth = 0;
  let work = 0;
  let end = 0;
  let incompleteTailAt: number | null = null;
  const pattern = new RegExp(TOKEN.source, TOKEN.flags);
  for (let m = pattern.exec(xml); m !== null; m = pattern.exec(xml)) {
    end = pattern.lastIndex;
    const [token, closing, opening] = m;
    if (opening !== undefined) {
      work += open.length + 1;
      if (work > workLimit) return { maxDepth, overLimit: 'work', open, implicitlyClosed, strayCloseTags, incompleteTailAt };
      if (token.endsWith('/>')) continue;
      open.push({ name: opening, at: m.index, end });
      maxDepth = Math.max(maxDepth, open.length);
      if (open.length > depthLimit) return { maxDepth, overLimit: 'depth', open, implicitlyClosed, strayCloseTags, incompleteTailAt };
    } else if (closing !== undefined) {
      let i = open.length - 1;
      while (i >= 0 && open[i]?.name !== closing) i--;
      if (i < 0) {
        strayCloseTags.push({ at: m.index, end });
      } else {
        implicitlyClosed.push(...open.slice(i + 1));
        open.length = i;
      }
    } else if (isUnterminated(token)) {
      incompleteTailAt = m.index; // a CDATA section, comment or PI the text ends inside
      break;
    }
  }
  if (incompleteTailAt === null) {
    // A '<' after the last complete token that never got its '>': "</rss", "<item attr=".
    const lastLt = xml.lastIndexOf('<');
    if (lastLt >= end && !xml.includes('>', lastLt)) incompleteTailAt = lastLt;
  }
  const stillOpen = incompleteTailAt === null ? open : open.filter((e) => e.at < (incompleteTailAt ?? 0));
  return { maxDepth, overLimit: null, open: stillOpen, implicitlyClosed, strayCloseTags, incompleteTailAt };
}

/** A CDATA section, comment or processing instruction that TOKEN ran to the end of the text. */
function isUnterminated(token: string): boolean {
  if (token.startsWith('<![CDATA[')) return !token.endsWith(']]>') || token.length < 12;
  if (token.startsWith('<!--')) return !token.endsWith('-->') || token.length < 7;
  if (token.startsWith('<?')) return !token.endsWith('?>') || token.length < 4;
  return false;
}

/** HTML void elements (HTML §13.1.2), minus <link>, which RSS uses with content. */
const VOID_ELEMENTS = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'meta', 'param', 'source', 'track', 'wbr']);

/**
 * Unescaped HTML inside RSS <description> is the other classic: `<br>` and `<img ...>` written as
 * HTML, never closed, or a stray `</div>` left over by a template. When those are the only faults,
 * void elements become empty-element tags and stray close tags are dropped, which changes no
 * structure. If any other element was left open, the nesting is ambiguous (did the publisher mean
 * the next items to be inside it?) and nothing is touched: the document stays an error.
 */
export function rebalanceHtml(xml: string): string {
  const scan = scanElements(xml);
  if (scan.overLimit !== null || scan.incompleteTailAt !== null || scan.open.length > 0) return xml;
  if (!scan.implicitlyClosed.every((e) => VOID_ELEMENTS.has(e.name.toLowerCase()))) return xml;
  const edits = [
    ...scan.implicitlyClosed.map((e) => ({ at: e.end - 1, end: e.end, text: '/>' })),
    ...scan.strayCloseTags.map((t) => ({ ...t, text: '' })),
  ].sort((a, b) => a.at - b.at);
  if (edits.length === 0) return xml;
  let out = '';
  let pos = 0;
  for (const edit of edits) {
    out += xml.slice(pos, edit.at) + edit.text;
    pos = edit.end;
  }
  return out + xml.slice(pos);
}

/** Items and entries: a cut-off one is dropped whole rather than kept with a half title or link. */
const ITEM_ELEMENTS = /^(?:[\w.-]+:)?(?:item|entry)$/;

/**
 * Close a document that ends inside elements: drop an incomplete last tag or section, drop the item
 * or entry that was cut off (a truncated <link> would otherwise become a wrong story URL), then
 * close what is still open, innermost first. A complete document comes back unchanged.
 */
export function closeTruncated(xml: string): string {
  const scan = scanElements(xml);
  if (scan.overLimit !== null || (scan.open.length === 0 && scan.incompleteTailAt === null)) return xml;
  let open = [...scan.open];
  let cut = scan.incompleteTailAt ?? xml.length;
  const cutItem = open.findIndex((e) => ITEM_ELEMENTS.test(e.name));
  if (cutItem >= 0) {
    cut = Math.min(cut, open[cutItem]?.at ?? cut);
    open = open.slice(0, cutItem);
  }
  if (open.length === 0) return xml.slice(0, cut); // nothing of the root survives: leave it to fail
  return xml.slice(0, cut).trimEnd() + open.reverse().map((e) => `</${e.name}>`).join('');
}
