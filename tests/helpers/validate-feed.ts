// Validators for the river's output that share nothing with the code that wrote it (the `feed`
// package, xml-js, our renderers): what a feed reader or the W3C Feed Validation Service would see.
//
// 1. validateFeed(kind, body): a strict checker of the W3C Feed Validation Service's rules that matter
//    for what Tributary emits, on a strict XML 1.0 parser written here (well-formedness, legal
//    characters, namespaces). Each rule carries the validator's message name (its documentation is at
//    https://validator.w3.org/feed/docs/error/<Name>.html, or /warning/ for warnings) and the spec
//    section it enforces. Errors are what the validator reports as errors, plus a few that Tributary
//    promises on top (marked "Tributary"); warnings are what it reports as warnings.
// 2. parseWithFeedparser(kind, body): Python's feedparser (Debian's python3-feedparser), the reader
//    library most aggregators descend from, run in a child process. It reports a bozo bit for any
//    document it had to recover. Debian's feedparser (6.0.x) has no JSON Feed reader yet, so JSON Feed
//    is read by the same script with Python's json module (strict: duplicate keys, NaN and invalid
//    UTF-8 are bozo) and mapped to feedparser's entry shape.
//
// The checker is test code, but reads like a validator: one section per format, a rule per check.
import { spawn, spawnSync } from 'node:child_process';

export type FeedKind = 'rss' | 'atom' | 'json';

export interface FeedValidation {
  readonly errors: string[];
  readonly warnings: string[];
}

// ---------------------------------------------------------------------------------------------
// Rules

type Level = 'error' | 'warning';

/** Every rule: its level and the reference it enforces. Names follow the W3C validator's messages. */
const RULES = {
  // XML 1.0 (Fifth Edition) and Namespaces in XML 1.0. The validator reports all of these as SAXError.
  NotWellFormed: ['error', 'XML 1.0 §2.1 well-formed documents; Namespaces in XML 1.0 §7 (W3C: SAXError)'],
  IllegalCharacter: ['error', 'XML 1.0 §2.2 Char production (W3C: SAXError)'],
  UnicodeError: ['error', 'XML 1.0 §4.3.3 character encoding in entities; RFC 3629 (W3C: UnicodeError)'],
  BadXmlVersion: ['error', 'XML 1.0 §2.8 VersionInfo (W3C: BadXmlVersion)'],
  InvalidDoctype: ['error', 'Tributary emits no DTD: undeclared entities cannot be checked (W3C: InvalidDoctype)'],
  BadCharacters: ['warning', 'C1 controls or U+FFFD in text usually mean mis-decoded bytes (W3C: BadCharacters)'],
  // RSS 2.0 (https://www.rssboard.org/rss-specification).
  InvalidRSSVersion: ['error', 'RSS 2.0 "the <rss> element has a mandatory attribute version" = 2.0 (W3C: InvalidRSSVersion)'],
  MissingElement: ['error', 'required element (RSS 2.0 "Required channel elements"; RFC 4287 §4.1.1, §4.1.2, §3.2.1) (W3C: MissingElement)'],
  DuplicateElement: ['error', 'element allowed once (RSS 2.0 element tables; RFC 4287 §4.1.1, §4.1.2 "MUST NOT contain more than one") (W3C: DuplicateElement)'],
  UndefinedElement: ['error', 'element not defined by the format in its own namespace (W3C: UndefinedElement)'],
  ItemMustContainTitleOrDescription: ['error', 'RSS 2.0 "Elements of <item>": at least one of title or description (W3C)'],
  InvalidFullLink: ['error', 'an absolute URI is required (RFC 3986 §4.3; RSS 2.0 link/comments/docs) (W3C: InvalidFullLink)'],
  InvalidUriChar: ['error', 'character not allowed unescaped in a URI (RFC 3986 §2) (W3C: InvalidUriChar)'],
  UriNotIri: ['error', 'RSS 2.0 URLs must be ASCII URIs; non-ASCII must be percent-encoded (RFC 3987 §3.1) (W3C: UriNotIri)'],
  InvalidRFC2822Date: ['error', 'RSS 2.0 dates are RFC 822 date-times (RFC 2822 §3.3) (W3C: InvalidRFC2822Date)'],
  IncorrectDOW: ['error', 'RFC 2822 §3.3 the day-of-week must match the date (W3C: IncorrectDOW)'],
  InvalidHttpGUID: ['error', 'RSS 2.0 <guid>: isPermaLink="true" (the default) means the guid is a URL (W3C: InvalidHttpGUID)'],
  InvalidPermalink: ['error', 'RSS 2.0 <guid>: a tag: or urn:uuid: guid cannot be a permalink (W3C: InvalidPermalink)'],
  InvalidBooleanAttribute: ['error', 'RSS 2.0 <guid isPermaLink> is "true" or "false" (W3C: InvalidBooleanAttribute)'],
  DuplicateValue: ['error', 'RSS 2.0 <guid> "uniquely identifies the item" within the channel (W3C: DuplicateValue)'],
  MissingAttribute: ['error', 'required attribute (RSS 2.0 <source url>, <enclosure url length type>; RFC 4287 §4.2.2.1 term, §4.2.7.1 href) (W3C: MissingAttribute)'],
  InvalidURLAttribute: ['error', 'RSS 2.0 <source url>/<enclosure url> is an http(s) URL (W3C: InvalidURLAttribute)'],
  InvalidIntegerAttribute: ['error', 'RSS 2.0 <enclosure length> is a number of bytes; RFC 4287 §4.2.7.6 (W3C: InvalidIntegerAttribute)'],
  InvalidInteger: ['error', 'RSS 2.0 <ttl> is a number of minutes (W3C: InvalidInteger)'],
  InvalidMIMEType: ['error', 'a MIME media type (RFC 2045 §5.1; RFC 4287 §4.2.7.3, §4.1.3.1) (W3C: InvalidMIMEType)'],
  InvalidContact: ['error', 'RSS 2.0 <author> is "the email address of the author" (W3C: InvalidContact)'],
  MissingAtomSelfLink: ['error', 'Tributary: an atom:link rel="self" with its type, as the RSS Best Practices Profile asks (W3C warns: MissingAtomSelfLink)'],
  MissingTypeAttr: ['error', 'Tributary: the self link says its media type so readers know what it points to (W3C warns: MissingTypeAttr)'],
  ImplausibleDate: ['warning', 'a date before 1990 or more than ten minutes in the future (W3C: ImplausibleDate)'],
  NotBlank: ['warning', 'element or attribute should not be blank (W3C: NotBlank / AttrNotBlank)'],
  DuplicateItemSemantics: ['warning', 'the same fact written twice, e.g. <author> and <dc:creator> (W3C: DuplicateItemSemantics)'],
  ContainsHTML: ['warning', 'plain-text element containing HTML tags or entity references (W3C: ContainsHTML / ContainsUndeclaredHTML)'],
  NeedDescriptionBeforeContent: ['warning', 'RSS Best Practices Profile: content:encoded alongside a description (W3C: NeedDescriptionBeforeContent)'],
  MissingGuid: ['warning', 'RSS Best Practices Profile: every item should have a guid (W3C: MissingGuid)'],
  SecurityRisk: ['warning', 'HTML element or attribute readers strip as unsafe: script, iframe, on* ... (W3C: SecurityRisk / SecurityRiskAttr / DangerousStyleAttr)'],
  NotHtml: ['warning', 'tag in HTML content that is not HTML (W3C: NotHtml)'],
  ContainsRelRef: ['warning', 'relative URL in HTML content: readers resolve it against their own base (W3C: ContainsRelRef)'],
  // Atom 1.0 (RFC 4287).
  MissingAuthor: ['error', 'RFC 4287 §4.1.1/§4.1.2: an author in the feed, or in every entry or its source (W3C: MissingElement author)'],
  DuplicateAtomLink: ['error', 'RFC 4287 §4.1.1/§4.1.2: at most one rel="alternate" link per type and hreflang (W3C: DuplicateAtomLink)'],
  MissingHref: ['error', 'RFC 4287 §4.2.7.1: atom:link MUST have href (W3C: MissingHref)'],
  InvalidIRI: ['error', 'RFC 4287 §4.2.6 atom:id / §3.2.2 uri / §4.2.7.1 href: an IRI (RFC 3987) (W3C: InvalidIRI)'],
  InvalidTAG: ['error', 'RFC 4151 §2.1 tag URI syntax (W3C: InvalidTAG)'],
  InvalidRFC3339Date: ['error', 'RFC 4287 §3.3: date-time of RFC 3339 §5.6, uppercase T and Z (W3C: InvalidRFC3339Date)'],
  MissingContentOrAlternate: ['error', 'RFC 4287 §4.1.2: an entry without content needs a rel="alternate" link (W3C)'],
  MissingSummary: ['error', 'RFC 4287 §4.1.2: summary required when content has src or is not text (W3C: MissingSummary)'],
  InvalidTextType: ['error', 'RFC 4287 §3.1.1: text construct type is text, html or xhtml (W3C: InvalidTextType)'],
  MissingXhtmlDiv: ['error', 'RFC 4287 §3.1.1.3 / §4.1.3.3: xhtml content is a single xhtml:div (W3C: MissingXhtmlDiv)'],
  NotInline: ['error', 'RFC 4287 §3.1.1.1/§3.1.1.2 and §4.1.3.3: text and html MUST NOT contain child elements; src content MUST be empty (W3C: UndefinedElement)'],
  RelativeUri: ['error', 'Tributary: no relative reference without an absolute xml:base in scope (RFC 4287 §2, RFC 3986 §5.1): re-aggregated entries lose the document base (W3C: RelativeSelf / ContainsRelRef)'],
  MissingSelf: ['error', 'Tributary: RFC 4287 §4.1.1 "atom:feed elements SHOULD contain one atom:link element with a rel attribute value of self" (W3C warns: MissingSelf)'],
  DuplicateIds: ['error', 'Tributary: each story once, under one id (RFC 4287 §4.1.1 allows a repeated id only for versions of one entry) (W3C: DuplicateIds / DuplicateEntries)'],
  InvalidSource: ['error', 'RFC 4287 §4.2.11: atom:source holds feed metadata, never entries (W3C: UndefinedElement)'],
  MissingSourceElement: ['warning', 'RFC 4287 §4.2.11: a source should keep the origin feed\'s id, title and updated (W3C: MissingSourceElement)'],
  UnregisteredAtomLinkRel: ['warning', 'RFC 4287 §4.2.7.2: rel is a registered name or an IRI (W3C: UnregisteredAtomLinkRel)'],
  FeedHistoryRelInEntry: ['warning', 'RFC 5005 paging relations belong on feeds, not entries (W3C: FeedHistoryRelInEntry)'],
  // Media RSS 1.5.1 (https://www.rssboard.org/media-rss), as the W3C validator checks it (media.py),
  // in RSS items and Atom entries alike.
  MediaRssNamespace: ['error', 'Media RSS elements belong to http://search.yahoo.com/mrss/ (with the slash) (W3C: MediaRssNamespace)'],
  InvalidMediaMedium: ['error', 'Media RSS <media:content medium> is image, audio, video, document or executable (W3C: InvalidMediaMedium)'],
  InvalidMediaExpression: ['error', 'Media RSS <media:content expression> is sample, full or nonstop (W3C: InvalidMediaExpression)'],
  InvalidMediaTextType: ['error', 'Media RSS <media:title>/<media:description> type is plain or html (W3C: InvalidMediaTextType)'],
  InvalidPositiveInteger: ['error', 'Media RSS fileSize, width and height are positive integers (W3C: InvalidPositiveInteger)'],
  InvalidFloat: ['error', 'Media RSS bitrate, duration, framerate and samplingrate are numbers (W3C: InvalidFloat)'],
  InvalidNPTTime: ['error', 'Media RSS <media:thumbnail time> is an RFC 2326 normal play time (W3C: InvalidNPTTime)'],
  InvalidTrueFalse: ['error', 'Media RSS <media:content isDefault> is true or false (W3C: InvalidTrueFalse)'],
  MediaGroupWithoutAlternatives: ['error', 'Media RSS <media:group> holds two or more media:content alternatives (W3C: MediaGroupWithoutAlternatives)'],
  // JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/). The W3C validator does not check JSON Feed;
  // these follow the spec's own words (the section is named in each message).
  JsonSyntax: ['error', 'JSON Feed 1.1: the document is JSON (RFC 8259), UTF-8, no duplicate keys (RFC 8259 §4 SHOULD be unique)'],
  JsonVersion: ['error', 'JSON Feed 1.1 "version (required, string) is the URL of the version of the format" = https://jsonfeed.org/version/1.1'],
  JsonRequired: ['error', 'JSON Feed 1.1: required member (top-level title and items; item id)'],
  JsonType: ['error', 'JSON Feed 1.1: member of the wrong JSON type'],
  JsonUrl: ['error', 'JSON Feed 1.1: URL members hold absolute URLs (Tributary: readers have no base to resolve against)'],
  JsonDate: ['error', 'JSON Feed 1.1 "date_published (optional, string) specifies the date in RFC 3339 format"'],
  JsonContent: ['error', 'JSON Feed 1.1 "content_html and content_text are each optional strings — but one or the other must be present"'],
  JsonAuthor: ['error', 'JSON Feed 1.1 "authors": objects, each with at least one of name, url, avatar'],
  JsonAttachment: ['error', 'JSON Feed 1.1 "attachments": each with url and mime_type (required)'],
  JsonExtensionKey: ['error', 'JSON Feed 1.1 "Extensions": custom keys start with an underscore followed by a letter'],
  JsonDuplicateId: ['error', 'Tributary: each story once, under one id (JSON Feed 1.1: id is "unique for that item for that feed over time")'],
  JsonDeprecated: ['warning', 'JSON Feed 1.1 "author (optional, object, deprecated)" in favour of authors'],
  JsonMissingFeedUrl: ['warning', 'JSON Feed 1.1 "feed_url (optional but strongly recommended, string)"'],
} as const satisfies Record<string, readonly [Level, string]>;

export type RuleName = keyof typeof RULES;

class Report {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];
  add(rule: RuleName, where: string, detail: string): void {
    const [level, reference] = RULES[rule];
    const message = `${rule} at ${where}: ${detail} [${reference}]`;
    (level === 'error' ? this.errors : this.warnings).push(message);
  }
  result(): FeedValidation {
    return { errors: this.errors, warnings: this.warnings };
  }
}

/** Validates a river output. Bytes are checked as UTF-8 first (what we declare and serve). */
export function validateFeed(kind: FeedKind, body: string | Uint8Array): FeedValidation {
  const report = new Report();
  let text: string;
  if (typeof body === 'string') text = body;
  else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch (err) {
      report.add('UnicodeError', 'document', `not valid UTF-8 (${(err as Error).message})`);
      return report.result();
    }
  }
  if (kind === 'json') {
    validateJsonFeed(text, report);
    return report.result();
  }
  let root: XmlElement;
  try {
    root = parseStrictXml(text);
  } catch (err) {
    if (!(err instanceof XmlError)) throw err;
    report.add(err.rule, `line ${err.line}, column ${err.column}`, err.message);
    return report.result();
  }
  scanBadCharacters(root, report);
  checkMediaRss(root, report);
  if (kind === 'rss') validateRss(root, report);
  else validateAtom(root, report);
  return report.result();
}

// ---------------------------------------------------------------------------------------------
// A strict XML 1.0 + Namespaces parser. Stops at the first well-formedness error, as XML 1.0 §1.2
// says a conforming processor must ("fatal error"); feed readers built on expat do the same.

export const NS = {
  xml: 'http://www.w3.org/XML/1998/namespace',
  xmlns: 'http://www.w3.org/2000/xmlns/',
  atom: 'http://www.w3.org/2005/Atom',
  xhtml: 'http://www.w3.org/1999/xhtml',
  dc: 'http://purl.org/dc/elements/1.1/',
  media: 'http://search.yahoo.com/mrss/',
  content: 'http://purl.org/rss/1.0/modules/content/',
} as const;

export interface XmlAttribute {
  readonly qname: string;
  readonly local: string;
  readonly ns: string | null;
  readonly value: string;
}

export interface XmlElement {
  readonly kind: 'element';
  readonly qname: string;
  readonly local: string;
  readonly ns: string | null;
  readonly attributes: readonly XmlAttribute[];
  readonly children: (XmlElement | XmlText)[];
  readonly line: number;
  /** The absolute xml:base in scope (XML Base §4.2), null when none is. */
  readonly base: string | null;
}

export interface XmlText {
  readonly kind: 'text';
  readonly value: string;
}

export class XmlError extends Error {
  constructor(
    readonly rule: RuleName,
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
}

// XML 1.0 §2.2: Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
const ILLEGAL_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
// XML 1.0 §2.3 NameStartChar / NameChar (namespaces forbid ':' inside local names; checked apart).
const NAME_START = ':A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME = new RegExp(`[${NAME_START}][${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040]*`, 'uy');
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

/** Parses a whole document; throws XmlError on the first well-formedness error. */
export function parseStrictXml(doc: string): XmlElement {
  const lineStarts = [0];
  for (let i = 0; i < doc.length; i++) if (doc.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const locate = (pos: number): { line: number; column: number } => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= pos) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: pos - (lineStarts[lo] ?? 0) + 1 };
  };
  const fail = (rule: RuleName, message: string, at: number): never => {
    const { line, column } = locate(at);
    throw new XmlError(rule, message, line, column);
  };

  const illegal = ILLEGAL_CHAR.exec(doc);
  if (illegal) {
    const cp = illegal[0].codePointAt(0) ?? 0;
    fail('IllegalCharacter', `U+${cp.toString(16).toUpperCase().padStart(4, '0')} is not an XML 1.0 character`, illegal.index);
  }

  let pos = doc.charCodeAt(0) === 0xfeff ? 1 : 0;
  const startsWith = (s: string): boolean => doc.startsWith(s, pos);
  const skipSpace = (): boolean => {
    const from = pos;
    while (pos < doc.length && ' \t\r\n'.includes(doc[pos] ?? '')) pos++;
    return pos > from;
  };
  const readName = (): string => {
    NAME.lastIndex = pos;
    const m = NAME.exec(doc);
    if (!m) return fail('NotWellFormed', `expected a name, found ${JSON.stringify(doc.slice(pos, pos + 10))}`, pos);
    pos += m[0].length;
    return m[0];
  };
  const expect = (s: string, what: string): void => {
    if (!startsWith(s)) fail('NotWellFormed', `expected ${what}`, pos);
    pos += s.length;
  };
  /** Replaces references in character data or an attribute value (XML 1.0 §4.1, §4.6). */
  const decode = (raw: string, at: number): string =>
    raw.replace(/&([^;&\s]*);?/g, (whole, body: string, offset: number) => {
      if (!whole.endsWith(';')) return fail('NotWellFormed', `"&" not starting a reference (write &amp;)`, at + offset);
      if (/^#[0-9]+$/.test(body) || /^#x[0-9a-fA-F]+$/.test(body)) {
        const cp = body[1] === 'x' ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
        const ch = cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
        if (ch === '' || ILLEGAL_CHAR.test(ch)) fail('IllegalCharacter', `character reference &${body}; is not an XML 1.0 character (§4.1 WFC: Legal Character)`, at + offset);
        return ch;
      }
      const value = PREDEFINED[body];
      if (value === undefined) return fail('NotWellFormed', `undefined entity &${body}; (§4.1 WFC: Entity Declared; only the five predefined ones exist without a DTD)`, at + offset);
      return value;
    });

  // Prolog: XMLDecl? Misc* (doctypedecl Misc*)?   (§2.8)
  if (startsWith('<?xml') && /[\s?]/.test(doc[pos + 5] ?? '')) {
    const end = doc.indexOf('?>', pos);
    if (end < 0) fail('NotWellFormed', 'unterminated XML declaration', pos);
    const decl = doc.slice(pos, end);
    const version = /\sversion\s*=\s*(["'])(.*?)\1/.exec(decl)?.[2];
    if (version === undefined) fail('NotWellFormed', 'XML declaration without version', pos);
    if (version !== '1.0') fail('BadXmlVersion', `version ${JSON.stringify(version)}: only XML 1.0 is read by feed readers`, pos);
    const encoding = /\sencoding\s*=\s*(["'])(.*?)\1/.exec(decl)?.[2];
    if (encoding !== undefined && !/^utf-?8$/i.test(encoding)) fail('UnicodeError', `declares encoding ${JSON.stringify(encoding)} but the body is UTF-8`, pos);
    pos = end + 2;
  }
  const misc = (): boolean => {
    if (skipSpace()) return true;
    if (startsWith('<!--')) return readComment(), true;
    if (startsWith('<?')) return readPi(), true;
    return false;
  };
  const readComment = (): void => {
    const end = doc.indexOf('-->', pos + 4);
    if (end < 0) fail('NotWellFormed', 'unterminated comment', pos);
    const body = doc.slice(pos + 4, end);
    if (body.includes('--') || body.endsWith('-')) fail('NotWellFormed', '"--" inside a comment (§2.5)', pos);
    pos = end + 3;
  };
  const readPi = (): void => {
    const start = pos;
    pos += 2;
    const target = readName();
    if (/^xml$/i.test(target)) fail('NotWellFormed', 'XML declaration not at the start of the document (§2.8)', start);
    const end = doc.indexOf('?>', pos);
    if (end < 0) fail('NotWellFormed', 'unterminated processing instruction', start);
    pos = end + 2;
  };
  while (misc());
  if (startsWith('<!DOCTYPE')) fail('InvalidDoctype', 'document type declaration', pos);
  if (!startsWith('<')) fail('NotWellFormed', 'no root element', pos);

  type Scope = ReadonlyMap<string, string>;
  const initialScope: Scope = new Map([['xml', NS.xml], ['xmlns', NS.xmlns]]);

  const readElement = (scope: Scope, parentBase: string | null): XmlElement => {
    const start = pos;
    expect('<', '"<"');
    const qname = readName();
    const raw: { name: string; value: string; at: number }[] = [];
    for (;;) {
      const hadSpace = skipSpace();
      if (startsWith('/>') || startsWith('>')) break;
      if (!hadSpace) fail('NotWellFormed', `expected whitespace before an attribute in <${qname}>`, pos);
      const at = pos;
      const name = readName();
      skipSpace();
      expect('=', `"=" after attribute ${name}`);
      skipSpace();
      const quote = doc[pos];
      if (quote !== '"' && quote !== "'") return fail('NotWellFormed', `attribute ${name} value not quoted`, pos);
      const end = doc.indexOf(quote, pos + 1);
      if (end < 0) fail('NotWellFormed', `unterminated value of attribute ${name}`, pos);
      const value = doc.slice(pos + 1, end);
      if (value.includes('<')) fail('NotWellFormed', `"<" in the value of attribute ${name} (§3.1 WFC: No < in Attribute Values)`, pos);
      if (raw.some((a) => a.name === name)) fail('NotWellFormed', `attribute ${name} given twice on <${qname}> (§3.1 WFC: Unique Att Spec)`, at);
      // §3.3.3 attribute-value normalisation: literal whitespace characters become spaces.
      raw.push({ name, value: decode(value.replace(/[\t\n\r]/g, ' '), pos + 1), at });
      pos = end + 1;
    }
    // Namespace declarations first (Namespaces §3), then names resolved against them.
    const own = new Map(scope);
    for (const a of raw) {
      if (a.name === 'xmlns') own.set('', a.value);
      else if (a.name.startsWith('xmlns:')) {
        const prefix = a.name.slice(6);
        if (a.value === '') fail('NotWellFormed', `xmlns:${prefix}="" undeclares a prefix, which XML 1.0 namespaces forbid (§5)`, a.at);
        if (prefix === 'xmlns' || (prefix === 'xml') !== (a.value === NS.xml)) fail('NotWellFormed', `reserved prefix or namespace misused in xmlns:${prefix}`, a.at);
        own.set(prefix, a.value);
      }
    }
    const split = (name: string, isElement: boolean, at: number): { prefix: string | null; local: string; ns: string | null } => {
      const parts = name.split(':');
      if (parts.length > 2 || parts.some((p) => p === '')) fail('NotWellFormed', `${name} is not a QName (Namespaces §4)`, at);
      if (parts.length === 1) return { prefix: null, local: name, ns: isElement ? own.get('') || null : null };
      const [prefix = '', local = ''] = parts;
      const ns = own.get(prefix);
      if (ns === undefined) fail('NotWellFormed', `prefix ${prefix}: is not declared (Namespaces §5 "Namespace constraint: Prefix Declared")`, at);
      return { prefix, local, ns: ns ?? null };
    };
    const el = split(qname, true, start);
    const attributes: XmlAttribute[] = [];
    const seen = new Set<string>();
    for (const a of raw) {
      if (a.name === 'xmlns' || a.name.startsWith('xmlns:')) continue;
      const n = split(a.name, false, a.at);
      const key = `${n.ns ?? ''} ${n.local}`;
      if (seen.has(key)) fail('NotWellFormed', `attribute ${a.name} repeats an expanded name (Namespaces §6.3)`, a.at);
      seen.add(key);
      attributes.push({ qname: a.name, local: n.local, ns: n.ns, value: a.value });
    }
    const xmlBase = attributes.find((a) => a.ns === NS.xml && a.local === 'base')?.value;
    let base = parentBase;
    if (xmlBase !== undefined) {
      try {
        base = new URL(xmlBase, parentBase ?? undefined).href;
      } catch {
        base = null;
      }
    }
    const element: XmlElement = { kind: 'element', qname, local: el.local, ns: el.ns, attributes, children: [], line: locate(start).line, base };
    if (startsWith('/>')) {
      pos += 2;
      return element;
    }
    pos += 1;
    // content ::= CharData? ((element | Reference | CDSect | PI | Comment) CharData?)*   (§3.1)
    let text = '';
    const flush = (): void => {
      if (text !== '') element.children.push({ kind: 'text', value: text });
      text = '';
    };
    for (;;) {
      if (pos >= doc.length) fail('NotWellFormed', `<${qname}> (line ${element.line}) is never closed`, pos);
      const lt = doc.indexOf('<', pos);
      const chunkEnd = lt < 0 ? doc.length : lt;
      if (chunkEnd > pos) {
        const chunk = doc.slice(pos, chunkEnd);
        const cdataEnd = chunk.indexOf(']]>');
        if (cdataEnd >= 0) fail('NotWellFormed', '"]]>" in character data (§2.4)', pos + cdataEnd);
        text += decode(chunk, pos);
        pos = chunkEnd;
        continue;
      }
      if (startsWith('</')) {
        pos += 2;
        const closing = readName();
        if (closing !== qname) fail('NotWellFormed', `</${closing}> closes <${qname}> opened on line ${element.line} (§3 WFC: Element Type Match)`, pos);
        skipSpace();
        expect('>', '">"');
        flush();
        return element;
      }
      if (startsWith('<![CDATA[')) {
        const end = doc.indexOf(']]>', pos);
        if (end < 0) fail('NotWellFormed', 'unterminated CDATA section', pos);
        text += doc.slice(pos + 9, end);
        pos = end + 3;
        continue;
      }
      if (startsWith('<!--')) {
        readComment();
        continue;
      }
      if (startsWith('<?')) {
        readPi();
        continue;
      }
      flush();
      element.children.push(readElement(own, base));
    }
  };

  const root = readElement(initialScope, null);
  while (misc());
  if (pos < doc.length) fail('NotWellFormed', 'content after the root element (§2.1 document production)', pos);
  return root;
}

function scanBadCharacters(el: XmlElement, report: Report): void {
  for (const child of el.children) {
    if (child.kind === 'element') scanBadCharacters(child, report);
    else if (/[\u0080-\u009F\uFFFD]/.test(child.value)) report.add('BadCharacters', where(el), 'C1 control character or U+FFFD in text');
  }
}

// ---------------------------------------------------------------------------------------------
// Tree helpers

const where = (el: XmlElement): string => `<${el.qname}> line ${el.line}`;
const kids = (el: XmlElement, ns: string | null, local?: string): XmlElement[] =>
  el.children.filter((c): c is XmlElement => c.kind === 'element' && c.ns === ns && (local === undefined || c.local === local));
const elementsOf = (el: XmlElement): XmlElement[] => el.children.filter((c): c is XmlElement => c.kind === 'element');
const textOf = (el: XmlElement): string => el.children.map((c) => (c.kind === 'text' ? c.value : '')).join('');
const attr = (el: XmlElement, local: string, ns: string | null = null): string | undefined =>
  el.attributes.find((a) => a.local === local && a.ns === ns)?.value;

function once(parent: XmlElement, ns: string | null, names: readonly string[], report: Report): void {
  for (const name of names) {
    const found = kids(parent, ns, name);
    if (found.length > 1) report.add('DuplicateElement', where(found[1] as XmlElement), `<${parent.qname}> may contain one <${name}>, found ${found.length}`);
  }
}

function required(parent: XmlElement, ns: string | null, names: readonly string[], report: Report): void {
  for (const name of names) {
    if (kids(parent, ns, name).length === 0) report.add('MissingElement', where(parent), `<${parent.qname}> must contain <${name}>`);
  }
}

// ---------------------------------------------------------------------------------------------
// URIs, dates, MIME types, addresses

// RFC 2396/3986 characters that may appear unescaped (the validator's urichars_re).
const URI_CHARS = /^[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,#]$/;
const SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;
// RFC 4151 §2.1 (as the validator's tag_re).
const TAG_URI = /^tag:([a-z0-9\-._]+?@)?[a-z0-9.-]+?,\d{4}(-\d{2}(-\d{2})?)?:[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,]*(#[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,]*)?$/;
// RFC 2045 §5.1 type/subtype with parameters (the validator's mime_re).
const MIME = /^[^\s()<>,;:\\"/[\]?=]+\/[^\s()<>,;:\\"/[\]?=]+(\s*;\s*[^\s()<>,;:\\"/[\]?=]+=("(\\"|[^"])*"|[^\s()<>,;:\\"/[\]?=]+))*$/;

/**
 * An absolute URI (iri: non-ASCII allowed, as in an IRI, RFC 3987). Returns the rule broken, or null.
 * http(s) URIs must have an authority (RFC 9110 §4.2.1); tag: URIs must follow RFC 4151.
 */
function uriProblem(value: string, options: { iri: boolean; httpOnly?: boolean }): { rule: RuleName; detail: string } | null {
  if (value.trim() === '') return { rule: 'InvalidFullLink', detail: 'empty URI' };
  if (!SCHEME.test(value)) return { rule: 'InvalidFullLink', detail: `${JSON.stringify(value)} is not absolute (no scheme)` };
  for (const ch of value) {
    if (ch.codePointAt(0)! >= 0x80) {
      if (!options.iri) return { rule: 'UriNotIri', detail: `${JSON.stringify(value)} has the non-ASCII character ${JSON.stringify(ch)}` };
    } else if (!URI_CHARS.test(ch)) {
      return { rule: 'InvalidUriChar', detail: `${JSON.stringify(value)} has ${JSON.stringify(ch)} unescaped` };
    }
  }
  const scheme = value.slice(0, value.indexOf(':')).toLowerCase();
  if (scheme === 'tag' && !TAG_URI.test(value)) return { rule: 'InvalidTAG', detail: `${JSON.stringify(value)} is not a tag URI` };
  if (options.httpOnly && scheme !== 'http' && scheme !== 'https') return { rule: 'InvalidURLAttribute', detail: `${JSON.stringify(value)} is not an http(s) URL` };
  if ((scheme === 'http' || scheme === 'https') && !/^\w+:\/\/[^/]/.test(value)) return { rule: 'InvalidFullLink', detail: `${JSON.stringify(value)} has no host` };
  return null;
}

function checkUri(report: Report, at: string, value: string, options: { iri: boolean; httpOnly?: boolean; rule?: RuleName }): void {
  const problem = uriProblem(value, options);
  if (problem) report.add(problem.rule === 'InvalidFullLink' && options.rule ? options.rule : problem.rule, at, problem.detail);
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
// RFC 2822 §3.3 as the validator's rfc2822_re: 4-digit year, named or numeric zone.
const RFC2822 = /^(?:(Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d\d?) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d\d):(\d\d)(?::(\d\d))? ([+-]?\d\d[03]0|UT|GMT|EST|EDT|CST|CDT|MST|MDT|PST|PDT|Z)$/;

function checkRfc2822(report: Report, el: XmlElement): void {
  const value = textOf(el).trim();
  const m = RFC2822.exec(value);
  if (!m) return report.add('InvalidRFC2822Date', where(el), `${JSON.stringify(value)} is not an RFC 822 date-time`);
  const [, dow, day, month, year, hour, minute, second] = m;
  const date = new Date(Date.UTC(Number(year), MONTHS.indexOf(month ?? ''), Number(day)));
  if (date.getUTCDate() !== Number(day) || Number(hour) > 23 || Number(minute) > 59 || Number(second ?? 0) > 60) {
    return report.add('InvalidRFC2822Date', where(el), `${JSON.stringify(value)} is not a real date or time`);
  }
  if (dow !== undefined && DAYS[date.getUTCDay()] !== dow) return report.add('IncorrectDOW', where(el), `${JSON.stringify(value)}: that date is a ${DAYS[date.getUTCDay()]}`);
  checkPlausible(report, where(el), value, Date.parse(value));
}

/** The validator's implausible_822 / implausible_8601: before 1990, or over ten minutes ahead. */
function checkPlausible(report: Report, at: string, value: string, time: number): void {
  if (Number.isNaN(time)) return;
  if (time < Date.UTC(1990, 0, 1) || time > Date.now() + 10 * 60_000) report.add('ImplausibleDate', at, JSON.stringify(value));
}

// RFC 3339 §5.6 date-time; RFC 4287 §3.3 requires uppercase T and Z.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$/;

/** Null when valid, else why not. */
export function rfc3339Problem(value: string): string | null {
  const m = RFC3339.exec(value);
  if (!m) return `${JSON.stringify(value)} is not an RFC 3339 date-time`;
  const [, y, mo, d, h, mi, s, , , oh, om] = m.map((x) => (x === undefined ? undefined : Number(x)));
  const date = new Date(Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 0));
  if (date.getUTCMonth() !== (mo ?? 0) - 1 || date.getUTCDate() !== d) return `${JSON.stringify(value)}: no such date`;
  if ((h ?? 0) > 23 || (mi ?? 0) > 59 || (s ?? 0) > 60 || (oh ?? 0) > 23 || (om ?? 0) > 59) return `${JSON.stringify(value)}: no such time`;
  return null;
}

function checkRfc3339(report: Report, el: XmlElement): void {
  const value = textOf(el).trim();
  const problem = rfc3339Problem(value);
  if (problem) report.add('InvalidRFC3339Date', where(el), problem);
  else checkPlausible(report, where(el), value, Date.parse(value));
}

// RFC 5322 §3.4.1 addr-spec, as the validator's email_re (the W3C validator accepts "addr (Name)").
const EMAIL = /^[A-Z0-9_\-+.']+@(([0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|(([A-Z0-9-]+\.)+))([A-Z0-9][-A-Z0-9]*)$/i;

// ---------------------------------------------------------------------------------------------
// HTML carried in a feed (RSS description, Atom html constructs, JSON content_html)

// The validator's HTMLValidator.acceptable_elements / acceptable_attributes (validators.py), abridged
// to HTML proper; anything else is what it reports as SecurityRisk.
const SAFE_ELEMENTS = new Set(
  'a abbr acronym address area article aside audio b bdi big blockquote br button canvas caption center cite code col colgroup command data datagrid datalist dd del details dfn dialog dir div dl dt em eventsource fieldset figcaption figure footer font form header h1 h2 h3 h4 h5 h6 hgroup hr i img input ins keygen kbd label legend li m main map mark menu meter multicol nav nextid ol output optgroup option p picture pre progress q rp rt ruby s samp section select small sound source spacer span strike strong sub summary sup table tbody td template textarea time tfoot th thead tr track tt u ul var video noscript wbr'.split(' '),
);
const HTML_ELEMENTS = new Set([...SAFE_ELEMENTS, ...'applet base basefont body embed frame frameset head html iframe isindex link meta noframes object param script style title xmp plaintext listing comment slot'.split(' ')]);
const SAFE_ATTRIBUTES = new Set(
  'abbr accept accept-charset accesskey action align allow allowfullscreen alt as autoplay autocapitalize autocomplete autofocus axis background balance bgcolor bgproperties border bordercolor bordercolordark bordercolorlight bottompadding cellpadding cellspacing ch challenge char charoff choff charset checked cite class clear color cols colspan compact contenteditable coords crossorigin data datafld datapagesize datasrc datetime decoding default delay dir dirname disabled download draggable dynsrc enctype end enterkeyhint face for form formenctype frame galleryimg gutter headers height hidefocus hidden high href hreflang hspace icon id inputmode is ismap itemid itemprop itemref itemscope itemtype kind keytype label lang leftspacing loading list longdesc loop loopcount loopend loopstart low lowsrc max maxlength media method min minlength multiple muted name nohref nonce noshade nowrap open optimum pattern ping placeholder playsinline point-size poster preload prompt pqg radiogroup readonly referrerpolicy rel repeat-max repeat-min replace required rev reversed rightspacing rows rowspan rules scope selected shape size sizes span spellcheck src srclang srcset start step summary suppress tabindex target template title toppadding translate type unselectable usemap urn valign value variable volume vspace vrml width wrap xml:lang xmlns'.split(' '),
);
const HTML_TAG = /<([a-zA-Z][a-zA-Z0-9:-]*)((?:\s+[^\s=>/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*\/?>/g;
const HTML_ATTR = /([^\s=>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;

function checkHtml(report: Report, at: string, html: string): void {
  const risky = new Set<string>();
  const foreign = new Set<string>();
  const relative = new Set<string>();
  for (const tag of html.matchAll(HTML_TAG)) {
    const name = (tag[1] ?? '').toLowerCase();
    if (!HTML_ELEMENTS.has(name)) foreign.add(name);
    else if (!SAFE_ELEMENTS.has(name)) risky.add(`<${name}>`);
    for (const a of (tag[2] ?? '').matchAll(HTML_ATTR)) {
      const attrName = (a[1] ?? '').toLowerCase();
      const value = a[2] ?? a[3] ?? a[4] ?? '';
      if (attrName === 'style' && /url\s*\(|expression\s*\(|javascript:|behavior\s*:|@import/i.test(value)) risky.add(`style="${value.slice(0, 40)}"`);
      else if (attrName !== 'style' && !SAFE_ATTRIBUTES.has(attrName) && !attrName.startsWith('data-')) risky.add(`${attrName}=`);
      if ((attrName === 'href' || attrName === 'src') && /^\s*(javascript|vbscript):/i.test(value)) risky.add(`${attrName}="${value.slice(0, 30)}"`);
      if (((name === 'a' && attrName === 'href') || (name === 'img' && attrName === 'src')) && value.trim() !== '' && !/^\s*[a-zA-Z][\w+.-]*:/.test(value) && !value.trim().startsWith('#')) {
        relative.add(value.trim());
      }
    }
  }
  if (risky.size) report.add('SecurityRisk', at, [...risky].slice(0, 5).join(', '));
  if (foreign.size) report.add('NotHtml', at, [...foreign].slice(0, 5).map((t) => `<${t}>`).join(', '));
  if (relative.size) report.add('ContainsRelRef', at, [...relative].slice(0, 3).map((u) => JSON.stringify(u)).join(', '));
}

/** The validator's nonhtml check: an end tag of an HTML element, or an entity reference, in plain text. */
function looksLikeHtml(text: string): string | null {
  for (const m of text.matchAll(/<\/(\w+)>/g)) if (HTML_ELEMENTS.has((m[1] ?? '').toLowerCase())) return m[0];
  return /&(#?\w+);/.exec(text)?.[0] ?? null;
}

// ---------------------------------------------------------------------------------------------
// RSS 2.0

const RSS_CHANNEL = new Set(['title', 'link', 'description', 'language', 'copyright', 'managingEditor', 'webMaster', 'pubDate', 'lastBuildDate', 'category', 'generator', 'docs', 'cloud', 'ttl', 'image', 'rating', 'textInput', 'skipHours', 'skipDays', 'item']);
const RSS_ITEM = new Set(['title', 'link', 'description', 'author', 'category', 'comments', 'enclosure', 'guid', 'pubDate', 'source']);
const RSS_CHANNEL_ONCE = ['title', 'link', 'description', 'language', 'copyright', 'managingEditor', 'webMaster', 'pubDate', 'lastBuildDate', 'generator', 'docs', 'cloud', 'ttl', 'image', 'rating', 'textInput', 'skipHours', 'skipDays'];
const RSS_ITEM_ONCE = ['title', 'link', 'description', 'author', 'comments', 'enclosure', 'guid', 'pubDate', 'source'];

function validateRss(root: XmlElement, report: Report): void {
  if (root.local !== 'rss' || root.ns !== null) return report.add('UndefinedElement', where(root), `root element is <${root.qname}>, not <rss>`);
  if (attr(root, 'version') !== '2.0') report.add('InvalidRSSVersion', where(root), `version=${JSON.stringify(attr(root, 'version') ?? null)}`);
  const channels = kids(root, null, 'channel');
  if (channels.length !== 1) return report.add(channels.length ? 'DuplicateElement' : 'MissingElement', where(root), `<rss> must contain exactly one <channel>, found ${channels.length}`);
  const channel = channels[0] as XmlElement;
  required(channel, null, ['title', 'link', 'description'], report);
  once(channel, null, RSS_CHANNEL_ONCE, report);
  for (const el of kids(channel, null)) {
    if (!RSS_CHANNEL.has(el.local)) report.add('UndefinedElement', where(el), `<${el.local}> is not an RSS 2.0 channel element`);
  }
  for (const link of kids(channel, null, 'link')) checkUri(report, where(link), textOf(link).trim(), { iri: false });
  for (const docs of kids(channel, null, 'docs')) checkUri(report, where(docs), textOf(docs).trim(), { iri: false });
  for (const d of [...kids(channel, null, 'pubDate'), ...kids(channel, null, 'lastBuildDate')]) checkRfc2822(report, d);
  for (const ttl of kids(channel, null, 'ttl')) if (!/^\d+$/.test(textOf(ttl).trim())) report.add('InvalidInteger', where(ttl), `${JSON.stringify(textOf(ttl))} is not a number of minutes`);
  for (const t of kids(channel, null, 'title')) checkPlainText(report, t);

  // atom:link in the channel (RSS Best Practices Profile "atom:link"), checked as Atom links.
  const atomLinks = kids(channel, NS.atom, 'link');
  for (const link of atomLinks) checkAtomLink(report, link, 'feed');
  const self = atomLinks.filter((l) => attr(l, 'rel') === 'self');
  if (self.length === 0) report.add('MissingAtomSelfLink', where(channel), 'no <atom:link rel="self">');
  for (const s of self) if (attr(s, 'type') === undefined) report.add('MissingTypeAttr', where(s), 'rel="self" link without type');
  for (const el of kids(channel, NS.atom)) if (el.local !== 'link') report.add('UndefinedElement', where(el), `atom:${el.local} in an RSS channel`);

  const guids = new Map<string, number>();
  for (const item of kids(channel, null, 'item')) validateRssItem(item, report, guids);
}

function validateRssItem(item: XmlElement, report: Report, guids: Map<string, number>): void {
  const at = where(item);
  once(item, null, RSS_ITEM_ONCE, report);
  for (const el of kids(item, null)) if (!RSS_ITEM.has(el.local)) report.add('UndefinedElement', where(el), `<${el.local}> is not an RSS 2.0 item element`);
  const titles = kids(item, null, 'title');
  const descriptions = kids(item, null, 'description');
  if (titles.length === 0 && descriptions.length === 0) report.add('ItemMustContainTitleOrDescription', at, 'neither <title> nor <description>');
  for (const t of titles) checkPlainText(report, t);
  for (const link of kids(item, null, 'link')) checkUri(report, where(link), textOf(link).trim(), { iri: false });
  for (const comments of kids(item, null, 'comments')) checkUri(report, where(comments), textOf(comments).trim(), { iri: false });
  for (const d of kids(item, null, 'pubDate')) checkRfc2822(report, d);
  for (const d of descriptions) checkHtml(report, where(d), textOf(d));
  const encoded = kids(item, NS.content, 'encoded');
  for (const c of encoded) checkHtml(report, where(c), textOf(c));
  if (encoded.length > 0 && descriptions.length === 0) report.add('NeedDescriptionBeforeContent', at, 'content:encoded without a description');

  const guidEls = kids(item, null, 'guid');
  if (guidEls.length === 0) report.add('MissingGuid', at, 'no <guid>');
  for (const guid of guidEls) {
    const value = textOf(guid).trim();
    const isPermaLink = attr(guid, 'isPermaLink');
    if (isPermaLink !== undefined && isPermaLink !== 'true' && isPermaLink !== 'false') report.add('InvalidBooleanAttribute', where(guid), `isPermaLink=${JSON.stringify(isPermaLink)}`);
    if (value === '') report.add('NotBlank', where(guid), 'empty guid');
    if (isPermaLink !== 'false') {
      const problem = uriProblem(value, { iri: false });
      if (problem) report.add(problem.rule === 'InvalidFullLink' ? 'InvalidHttpGUID' : problem.rule, where(guid), problem.detail);
      else if (/^(tag|urn:uuid):/i.test(value)) report.add('InvalidPermalink', where(guid), `${JSON.stringify(value)} is not a permalink`);
    }
    const first = guids.get(value);
    if (first !== undefined) report.add('DuplicateValue', where(guid), `guid ${JSON.stringify(value)} already used by the item on line ${first}`);
    else guids.set(value, item.line);
  }
  for (const author of kids(item, null, 'author')) {
    // "lawyer@boyer.net (Lawyer Boyer)": the address, then an optional name in parentheses.
    const address = textOf(author).trim().replace(/^mailto:/, '').replace(/\s*\(.*\)$/, '');
    if (!EMAIL.test(address)) report.add('InvalidContact', where(author), `${JSON.stringify(textOf(author))} is not an e-mail address`);
    if (kids(item, NS.dc, 'creator').length > 0) report.add('DuplicateItemSemantics', where(author), '<author> and <dc:creator> in one item');
  }
  if (kids(item, NS.dc, 'date').length > 0 && kids(item, null, 'pubDate').length > 0) report.add('DuplicateItemSemantics', at, '<pubDate> and <dc:date> in one item');
  for (const c of kids(item, null, 'category')) {
    if (textOf(c).trim() === '') report.add('NotBlank', where(c), 'empty category');
    checkPlainText(report, c);
  }
  for (const source of kids(item, null, 'source')) {
    const url = attr(source, 'url');
    if (url === undefined) report.add('MissingAttribute', where(source), '<source> without url');
    else checkUri(report, where(source), url, { iri: false });
    if (textOf(source).trim() === '') report.add('NotBlank', where(source), 'a <source> names its channel');
    checkPlainText(report, source);
  }
  for (const enclosure of kids(item, null, 'enclosure')) {
    const [url, length, type] = ['url', 'length', 'type'].map((n) => attr(enclosure, n));
    if (url === undefined) report.add('MissingAttribute', where(enclosure), '<enclosure> without url');
    else checkUri(report, where(enclosure), url, { iri: false, httpOnly: true });
    if (length === undefined) report.add('MissingAttribute', where(enclosure), '<enclosure> without length');
    else if (!/^\d+$/.test(length)) report.add('InvalidIntegerAttribute', where(enclosure), `length=${JSON.stringify(length)}`);
    if (type === undefined) report.add('MissingAttribute', where(enclosure), '<enclosure> without type');
    else if (!MIME.test(type)) report.add('InvalidMIMEType', where(enclosure), `type=${JSON.stringify(type)}`);
  }
  for (const el of elementsOf(item)) {
    if (el.ns === NS.atom && el.local === 'link') checkAtomLink(report, el, 'entry');
  }
}

/** RSS text elements are plain text (the validator's nonhtml). */
function checkPlainText(report: Report, el: XmlElement): void {
  for (const child of elementsOf(el)) report.add('UndefinedElement', where(child), `child element in <${el.qname}>, which holds text`);
  const html = looksLikeHtml(textOf(el));
  if (html) report.add('ContainsHTML', where(el), `${JSON.stringify(html)} in text`);
}

// ---------------------------------------------------------------------------------------------
// Atom 1.0 (RFC 4287)

const ATOM_FEED = new Set(['author', 'category', 'contributor', 'generator', 'icon', 'id', 'link', 'logo', 'rights', 'subtitle', 'title', 'updated', 'entry']);
const ATOM_FEED_ONCE = ['generator', 'icon', 'id', 'logo', 'rights', 'subtitle', 'title', 'updated'];
const ATOM_ENTRY = new Set(['author', 'category', 'content', 'contributor', 'id', 'link', 'published', 'rights', 'source', 'summary', 'title', 'updated']);
const ATOM_ENTRY_ONCE = ['content', 'id', 'published', 'rights', 'source', 'summary', 'title', 'updated'];
// The IANA link relations registry (as the validator's link.validRelations).
const LINK_RELATIONS = new Set(['alternate', 'current', 'describedby', 'edit', 'edit-media', 'enclosure', 'first', 'hub', 'last', 'license', 'next', 'next-archive', 'payment', 'prev-archive', 'previous', 'related', 'replies', 'search', 'self', 'service', 'up', 'via']);
const PAGING_RELATIONS = new Set(['current', 'first', 'last', 'next', 'next-archive', 'prev-archive', 'previous']);

function validateAtom(root: XmlElement, report: Report): void {
  if (root.local !== 'feed' || root.ns !== NS.atom) return report.add('UndefinedElement', where(root), `root element is <${root.qname}> in ${root.ns ?? 'no namespace'}, not Atom's <feed>`);
  required(root, NS.atom, ['id', 'title', 'updated'], report);
  once(root, NS.atom, ATOM_FEED_ONCE, report);
  checkAtomMetadata(root, report, ATOM_FEED, 'feed');
  if (!kids(root, NS.atom, 'link').some((l) => attr(l, 'rel') === 'self')) report.add('MissingSelf', where(root), 'no <link rel="self">');

  const feedHasAuthor = kids(root, NS.atom, 'author').length > 0;
  const ids = new Map<string, number>();
  for (const entry of kids(root, NS.atom, 'entry')) {
    validateAtomEntry(entry, report, feedHasAuthor);
    const id = kids(entry, NS.atom, 'id')[0];
    if (!id) continue;
    const value = textOf(id).trim();
    const first = ids.get(value);
    if (first !== undefined) report.add('DuplicateIds', where(id), `id ${JSON.stringify(value)} already used by the entry on line ${first}`);
    else ids.set(value, entry.line);
  }
}

/** What feed, entry and source share: element names, ids, dates, text and person constructs, links. */
function checkAtomMetadata(el: XmlElement, report: Report, allowed: ReadonlySet<string>, context: 'feed' | 'entry' | 'source'): void {
  for (const child of kids(el, NS.atom)) {
    if (!allowed.has(child.local)) {
      report.add(context === 'source' && child.local === 'entry' ? 'InvalidSource' : 'UndefinedElement', where(child), `atom:${child.local} is not allowed in atom:${el.local}`);
    }
  }
  for (const id of kids(el, NS.atom, 'id')) checkAtomUri(report, id, textOf(id).trim());
  for (const d of [...kids(el, NS.atom, 'updated'), ...kids(el, NS.atom, 'published')]) checkRfc3339(report, d);
  for (const name of ['title', 'subtitle', 'rights', 'summary']) for (const t of kids(el, NS.atom, name)) checkTextConstruct(report, t);
  for (const name of ['author', 'contributor']) for (const p of kids(el, NS.atom, name)) checkPerson(report, p);
  for (const link of kids(el, NS.atom, 'link')) checkAtomLink(report, link, context);
  for (const c of kids(el, NS.atom, 'category')) {
    if (attr(c, 'term') === undefined) report.add('MissingAttribute', where(c), 'atom:category without term (§4.2.2.1)');
    const scheme = attr(c, 'scheme');
    if (scheme !== undefined) checkAtomUri(report, c, scheme);
  }
  for (const name of ['icon', 'logo']) for (const i of kids(el, NS.atom, name)) checkAtomUri(report, i, textOf(i).trim());
  for (const g of kids(el, NS.atom, 'generator')) {
    const uri = attr(g, 'uri');
    if (uri !== undefined) checkAtomUri(report, g, uri);
  }
  // Alternate links: at most one per (type, hreflang) (§4.1.1 feed, §4.1.2 entry).
  const alternates = new Set<string>();
  for (const link of kids(el, NS.atom, 'link')) {
    if ((attr(link, 'rel') ?? 'alternate') !== 'alternate') continue;
    const key = `${attr(link, 'type') ?? ''}|${attr(link, 'hreflang') ?? ''}`;
    if (alternates.has(key)) report.add('DuplicateAtomLink', where(link), `second rel="alternate" link with type=${JSON.stringify(attr(link, 'type') ?? null)} hreflang=${JSON.stringify(attr(link, 'hreflang') ?? null)}`);
    alternates.add(key);
  }
}

function validateAtomEntry(entry: XmlElement, report: Report, feedHasAuthor: boolean): void {
  const at = where(entry);
  required(entry, NS.atom, ['id', 'title', 'updated'], report);
  once(entry, NS.atom, ATOM_ENTRY_ONCE, report);
  checkAtomMetadata(entry, report, ATOM_ENTRY, 'entry');

  const sources = kids(entry, NS.atom, 'source');
  const sourceHasAuthor = sources.some((s) => kids(s, NS.atom, 'author').length > 0);
  if (!feedHasAuthor && !sourceHasAuthor && kids(entry, NS.atom, 'author').length === 0) report.add('MissingAuthor', at, 'entry without atom:author, and neither its feed nor its source has one');

  const contents = kids(entry, NS.atom, 'content');
  const hasAlternate = kids(entry, NS.atom, 'link').some((l) => (attr(l, 'rel') ?? 'alternate') === 'alternate');
  if (contents.length === 0 && !hasAlternate) report.add('MissingContentOrAlternate', at, 'no atom:content and no rel="alternate" link');
  for (const content of contents) {
    checkContent(report, content);
    const type = attr(content, 'type') ?? 'text';
    const textual = ['text', 'html', 'xhtml'].includes(type) || /(\+xml|\/xml)$/.test(type) || type.startsWith('text/');
    if ((attr(content, 'src') !== undefined || !textual) && kids(entry, NS.atom, 'summary').length === 0) {
      report.add('MissingSummary', where(content), 'content with src, or not text, needs an atom:summary');
    }
  }
  for (const source of sources) {
    checkAtomMetadata(source, report, new Set([...ATOM_FEED].filter((n) => n !== 'entry')), 'source');
    once(source, NS.atom, ATOM_FEED_ONCE, report);
    const missing = ['id', 'title', 'updated'].filter((n) => kids(source, NS.atom, n).length === 0);
    if (missing.length) report.add('MissingSourceElement', where(source), `atom:source without ${missing.join(', ')}`);
  }
}

function checkAtomUri(report: Report, el: XmlElement, value: string): void {
  const problem = uriProblem(value, { iri: true });
  if (problem) report.add(problem.rule === 'InvalidFullLink' ? 'InvalidIRI' : problem.rule, where(el), problem.detail);
}

/** An IRI reference that must resolve: absolute, or relative under an absolute xml:base. */
function checkAtomReference(report: Report, el: XmlElement, value: string, what: string): void {
  if (SCHEME.test(value)) return checkAtomUri(report, el, value);
  if (el.base === null) return report.add('RelativeUri', where(el), `${what} ${JSON.stringify(value)} is relative and no xml:base is in scope`);
  try {
    checkAtomUri(report, el, new URL(value, el.base).href);
  } catch {
    report.add('InvalidIRI', where(el), `${what} ${JSON.stringify(value)} does not resolve against ${el.base}`);
  }
}

function checkAtomLink(report: Report, link: XmlElement, context: 'feed' | 'entry' | 'source'): void {
  const href = attr(link, 'href');
  if (href === undefined) report.add('MissingHref', where(link), 'atom:link without href');
  else checkAtomReference(report, link, href, 'href');
  const rel = attr(link, 'rel');
  if (rel !== undefined) {
    const name = rel.replace(/^http:\/\/www\.iana\.org\/assignments\/relation\//, '');
    if (!LINK_RELATIONS.has(name) && uriProblem(name, { iri: true }) !== null) report.add('UnregisteredAtomLinkRel', where(link), `rel=${JSON.stringify(rel)}`);
    if (context === 'entry' && PAGING_RELATIONS.has(name)) report.add('FeedHistoryRelInEntry', where(link), `rel=${JSON.stringify(rel)} on an entry`);
  }
  const type = attr(link, 'type');
  if (type !== undefined && !MIME.test(type)) report.add('InvalidMIMEType', where(link), `type=${JSON.stringify(type)}`);
  const length = attr(link, 'length');
  if (length !== undefined && !/^\d+$/.test(length)) report.add('InvalidIntegerAttribute', where(link), `length=${JSON.stringify(length)}`);
  const title = attr(link, 'title');
  if (title !== undefined && looksLikeHtml(title)) report.add('ContainsHTML', where(link), `title ${JSON.stringify(title)}`);
}

/** §3.1 text constructs: title, subtitle, summary, rights. */
function checkTextConstruct(report: Report, el: XmlElement): void {
  const type = attr(el, 'type') ?? 'text';
  if (!['text', 'html', 'xhtml'].includes(type)) return report.add('InvalidTextType', where(el), `type=${JSON.stringify(type)}`);
  checkTextBody(report, el, type);
}

/** §4.1.3 atom:content: a text construct's types, or a MIME type, or out-of-line with src. */
function checkContent(report: Report, el: XmlElement): void {
  const type = attr(el, 'type') ?? 'text';
  const src = attr(el, 'src');
  if (src !== undefined) {
    checkAtomReference(report, el, src, 'src');
    if (el.children.some((c) => c.kind === 'element' || c.value.trim() !== '')) report.add('NotInline', where(el), 'content with src must be empty (§4.1.3.2)');
    if (attr(el, 'type') !== undefined && !MIME.test(type)) report.add('InvalidMIMEType', where(el), `type=${JSON.stringify(type)}`);
    return;
  }
  if (['text', 'html', 'xhtml'].includes(type)) return checkTextBody(report, el, type);
  if (!MIME.test(type)) report.add('InvalidMIMEType', where(el), `type=${JSON.stringify(type)}`);
}

function checkTextBody(report: Report, el: XmlElement, type: string): void {
  const elements = elementsOf(el);
  if (type === 'xhtml') {
    const stray = el.children.some((c) => c.kind === 'text' && c.value.trim() !== '');
    if (elements.length !== 1 || elements[0]?.ns !== NS.xhtml || elements[0].local !== 'div' || stray) {
      report.add('MissingXhtmlDiv', where(el), 'type="xhtml" content must be one xhtml:div');
    }
    return;
  }
  if (elements.length > 0) return report.add('NotInline', where(el), `type="${type}" must not contain child elements (found <${elements[0]?.qname}>)`);
  const value = textOf(el);
  if (value.trim() === '') report.add('NotBlank', where(el), `empty ${el.local}`);
  if (type === 'html') checkHtml(report, where(el), value);
  else {
    const html = looksLikeHtml(value);
    if (html) report.add('ContainsHTML', where(el), `type="text" with ${JSON.stringify(html)}`);
  }
}

/** §3.2 person constructs: one name; at most one uri (an IRI) and one email (addr-spec). */
function checkPerson(report: Report, person: XmlElement): void {
  const names = kids(person, NS.atom, 'name');
  if (names.length === 0) report.add('MissingElement', where(person), `atom:${person.local} must contain atom:name (§3.2.1)`);
  once(person, NS.atom, ['name', 'uri', 'email'], report);
  for (const n of names) if (textOf(n).trim() === '') report.add('NotBlank', where(n), 'empty name');
  for (const uri of kids(person, NS.atom, 'uri')) checkAtomReference(report, uri, textOf(uri).trim(), 'uri');
  for (const email of kids(person, NS.atom, 'email')) if (!EMAIL.test(textOf(email).trim())) report.add('InvalidContact', where(email), `${JSON.stringify(textOf(email))} is not an addr-spec (§3.2.3)`);
  for (const child of kids(person, NS.atom)) if (!['name', 'uri', 'email'].includes(child.local)) report.add('UndefinedElement', where(child), `atom:${child.local} in a person construct`);
}

// ---------------------------------------------------------------------------------------------
// Media RSS (the validator's media.py), wherever its elements appear

const MEDIA_WRONG_NAMESPACES = new Set(['http://search.yahoo.com/mrss', 'http://tools.search.yahoo.com/mrss/', 'http://search.yahoo.com/mrss/rss']);
const NPT = /^(now|\d+(\.\d+)?|\d+:\d\d:\d\d(\.\d+)?)$/;

function checkMediaRss(el: XmlElement, report: Report): void {
  if (el.ns !== null && MEDIA_WRONG_NAMESPACES.has(el.ns)) report.add('MediaRssNamespace', where(el), `namespace ${el.ns}`);
  if (el.ns === NS.media) checkMediaElement(el, report);
  for (const child of elementsOf(el)) checkMediaRss(child, report);
}

function checkMediaElement(el: XmlElement, report: Report): void {
  const at = where(el);
  const positive = (name: string): void => {
    const v = attr(el, name);
    if (v !== undefined && !/^[1-9]\d*$/.test(v.trim())) report.add('InvalidPositiveInteger', at, `${name}=${JSON.stringify(v)}`);
  };
  const float = (name: string): void => {
    const v = attr(el, name);
    if (v !== undefined && !/^\d+\.?\d*/.test(v)) report.add('InvalidFloat', at, `${name}=${JSON.stringify(v)}`);
  };
  const url = (isRequired: boolean): void => {
    const v = attr(el, 'url');
    if (v === undefined) {
      if (isRequired) report.add('MissingAttribute', at, `<${el.qname}> without url`);
    } else checkUri(report, at, v, { iri: false });
  };
  switch (el.local) {
    case 'content': {
      url(false);
      for (const n of ['fileSize', 'height', 'width']) positive(n);
      for (const n of ['bitrate', 'duration', 'framerate', 'samplingrate']) float(n);
      const medium = attr(el, 'medium');
      if (medium !== undefined && !['image', 'audio', 'video', 'document', 'executable'].includes(medium)) report.add('InvalidMediaMedium', at, `medium=${JSON.stringify(medium)}`);
      const expression = attr(el, 'expression');
      if (expression !== undefined && !['sample', 'full', 'nonstop'].includes(expression)) report.add('InvalidMediaExpression', at, `expression=${JSON.stringify(expression)}`);
      const isDefault = attr(el, 'isDefault');
      if (isDefault !== undefined && !['true', 'false'].includes(isDefault.toLowerCase())) report.add('InvalidTrueFalse', at, `isDefault=${JSON.stringify(isDefault)}`);
      const type = attr(el, 'type');
      if (type !== undefined && !MIME.test(type)) report.add('InvalidMIMEType', at, `type=${JSON.stringify(type)}`);
      return;
    }
    case 'thumbnail': {
      url(true);
      for (const n of ['height', 'width']) positive(n);
      const time = attr(el, 'time');
      if (time !== undefined && !NPT.test(time)) report.add('InvalidNPTTime', at, `time=${JSON.stringify(time)}`);
      return;
    }
    case 'player':
      url(true);
      for (const n of ['height', 'width']) positive(n);
      return;
    case 'title':
    case 'description':
    case 'text': {
      const type = attr(el, 'type');
      if (type !== undefined && type !== 'plain' && type !== 'html') report.add('InvalidMediaTextType', at, `type=${JSON.stringify(type)}`);
      if (type === 'html') checkHtml(report, at, textOf(el));
      return;
    }
    case 'group':
      if (kids(el, NS.media, 'content').length < 2) report.add('MediaGroupWithoutAlternatives', at, 'fewer than two media:content');
      return;
    default:
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// JSON Feed 1.1

export const JSON_FEED_VERSION_URL = 'https://jsonfeed.org/version/1.1';

const JSON_TOP = new Set(['version', 'title', 'home_page_url', 'feed_url', 'description', 'user_comment', 'next_url', 'icon', 'favicon', 'authors', 'author', 'language', 'expired', 'hubs', 'items']);
const JSON_ITEM = new Set(['id', 'url', 'external_url', 'title', 'content_html', 'content_text', 'summary', 'image', 'banner_image', 'date_published', 'date_modified', 'authors', 'author', 'tags', 'language', 'attachments']);
const JSON_AUTHOR = new Set(['name', 'url', 'avatar']);
const JSON_ATTACHMENT = new Set(['url', 'mime_type', 'title', 'size_in_bytes', 'duration_in_seconds']);
const JSON_HUB = new Set(['type', 'url']);

type JsonObject = Record<string, unknown>;
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function validateJsonFeed(text: string, report: Report): void {
  const duplicate = findDuplicateKey(text);
  if (duplicate) report.add('JsonSyntax', 'document', `key ${JSON.stringify(duplicate)} appears twice in one object`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return report.add('JsonSyntax', 'document', (err as Error).message);
  }
  if (!isObject(doc)) return report.add('JsonType', 'document', 'top level is not an object');
  checkKeys(report, 'feed', doc, JSON_TOP);
  if (doc['version'] !== JSON_FEED_VERSION_URL) report.add('JsonVersion', 'feed.version', `${JSON.stringify(doc['version'] ?? null)}`);
  jsonString(report, 'feed.title', doc['title'], true);
  for (const key of ['home_page_url', 'feed_url', 'next_url', 'icon', 'favicon']) jsonUrl(report, `feed.${key}`, doc[key]);
  for (const key of ['description', 'user_comment', 'language']) jsonString(report, `feed.${key}`, doc[key], false);
  if (doc['feed_url'] === undefined) report.add('JsonMissingFeedUrl', 'feed', 'no feed_url');
  if (doc['expired'] !== undefined && typeof doc['expired'] !== 'boolean') report.add('JsonType', 'feed.expired', 'not a boolean');
  jsonAuthors(report, 'feed', doc);
  if (doc['hubs'] !== undefined) {
    if (!Array.isArray(doc['hubs'])) report.add('JsonType', 'feed.hubs', 'not an array');
    else doc['hubs'].forEach((hub, i) => {
      if (!isObject(hub)) return report.add('JsonType', `feed.hubs[${i}]`, 'not an object');
      checkKeys(report, `feed.hubs[${i}]`, hub, JSON_HUB);
      jsonString(report, `feed.hubs[${i}].type`, hub['type'], true);
      jsonUrl(report, `feed.hubs[${i}].url`, hub['url'], true);
    });
  }
  const items = doc['items'];
  if (items === undefined) return report.add('JsonRequired', 'feed', 'no items');
  if (!Array.isArray(items)) return report.add('JsonType', 'feed.items', 'not an array');
  const ids = new Map<string, number>();
  items.forEach((item, i) => {
    const at = `items[${i}]`;
    if (!isObject(item)) return report.add('JsonType', at, 'not an object');
    checkKeys(report, at, item, JSON_ITEM);
    const id = item['id'];
    if (id === undefined) report.add('JsonRequired', at, 'no id');
    else if (typeof id !== 'string') report.add('JsonType', `${at}.id`, `${JSON.stringify(id)} is not a string ("id (required, string)")`);
    else if (id.trim() === '') report.add('JsonRequired', `${at}.id`, 'empty id');
    else {
      const first = ids.get(id);
      if (first !== undefined) report.add('JsonDuplicateId', `${at}.id`, `${JSON.stringify(id)} already used by items[${first}]`);
      else ids.set(id, i);
    }
    for (const key of ['url', 'external_url', 'image', 'banner_image']) jsonUrl(report, `${at}.${key}`, item[key]);
    for (const key of ['title', 'content_html', 'content_text', 'summary', 'language']) jsonString(report, `${at}.${key}`, item[key], false);
    if (item['content_html'] === undefined && item['content_text'] === undefined) report.add('JsonContent', at, 'neither content_html nor content_text');
    if (typeof item['content_html'] === 'string') checkHtml(report, `${at}.content_html`, item['content_html']);
    for (const key of ['date_published', 'date_modified']) {
      const value = item[key];
      if (value === undefined) continue;
      if (typeof value !== 'string') report.add('JsonType', `${at}.${key}`, 'not a string');
      else {
        const problem = rfc3339Problem(value);
        if (problem) report.add('JsonDate', `${at}.${key}`, problem);
        else checkPlausible(report, `${at}.${key}`, value, Date.parse(value));
      }
    }
    jsonAuthors(report, at, item);
    const tags = item['tags'];
    if (tags !== undefined && (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string'))) report.add('JsonType', `${at}.tags`, 'not an array of strings');
    const attachments = item['attachments'];
    if (attachments !== undefined) {
      if (!Array.isArray(attachments)) report.add('JsonType', `${at}.attachments`, 'not an array');
      else attachments.forEach((a, j) => {
        const where = `${at}.attachments[${j}]`;
        if (!isObject(a)) return report.add('JsonType', where, 'not an object');
        checkKeys(report, where, a, JSON_ATTACHMENT);
        if (a['url'] === undefined || a['mime_type'] === undefined) report.add('JsonAttachment', where, 'url and mime_type are required');
        jsonUrl(report, `${where}.url`, a['url']);
        if (a['mime_type'] !== undefined && (typeof a['mime_type'] !== 'string' || !MIME.test(a['mime_type']))) report.add('JsonAttachment', `${where}.mime_type`, `${JSON.stringify(a['mime_type'])} is not a MIME type`);
        for (const key of ['size_in_bytes', 'duration_in_seconds']) {
          if (a[key] !== undefined && (typeof a[key] !== 'number' || (a[key] as number) < 0)) report.add('JsonType', `${where}.${key}`, 'not a non-negative number');
        }
      });
    }
  });
}

/** Keys the spec does not define must be extensions: "_" then a letter (JSON Feed 1.1 "Extensions"). */
function checkKeys(report: Report, at: string, obj: JsonObject, known: ReadonlySet<string>): void {
  for (const key of Object.keys(obj)) {
    if (known.has(key)) continue;
    if (!/^_[A-Za-z]/.test(key)) report.add('JsonExtensionKey', `${at}.${key}`, 'unknown key that is not an extension');
  }
}

function jsonString(report: Report, at: string, value: unknown, isRequired: boolean): void {
  if (value === undefined) {
    if (isRequired) report.add('JsonRequired', at, 'missing');
    return;
  }
  if (typeof value !== 'string') report.add('JsonType', at, `${JSON.stringify(value)} is not a string`);
}

function jsonUrl(report: Report, at: string, value: unknown, isRequired = false): void {
  jsonString(report, at, value, isRequired);
  if (typeof value !== 'string') return;
  const problem = uriProblem(value, { iri: true });
  if (problem) report.add('JsonUrl', at, problem.detail);
}

function jsonAuthors(report: Report, at: string, obj: JsonObject): void {
  const check = (where: string, a: unknown): void => {
    if (!isObject(a)) return report.add('JsonAuthor', where, 'not an object');
    checkKeys(report, where, a, JSON_AUTHOR);
    if (a['name'] === undefined && a['url'] === undefined && a['avatar'] === undefined) report.add('JsonAuthor', where, 'none of name, url, avatar');
    jsonString(report, `${where}.name`, a['name'], false);
    jsonUrl(report, `${where}.url`, a['url']);
    jsonUrl(report, `${where}.avatar`, a['avatar']);
  };
  const authors = obj['authors'];
  if (authors !== undefined) {
    if (!Array.isArray(authors)) report.add('JsonType', `${at}.authors`, 'not an array');
    else authors.forEach((a, i) => check(`${at}.authors[${i}]`, a));
  }
  if (obj['author'] !== undefined) {
    report.add('JsonDeprecated', `${at}.author`, '"author" is deprecated in 1.1 (kept for JSON Feed 1.0 readers)');
    check(`${at}.author`, obj['author']);
  }
}

/** JSON.parse keeps the last of two equal keys silently; a strict reader may not. Finds the first repeat. */
function findDuplicateKey(text: string): string | null {
  const stack: Set<string>[] = [];
  const token = /"(?:[^"\\]|\\.)*"|[{}[\]:,]/g;
  let previous: string | null = null;
  const kinds: ('object' | 'array')[] = [];
  for (const m of text.matchAll(token)) {
    const t = m[0];
    if (t === '{') {
      stack.push(new Set());
      kinds.push('object');
    } else if (t === '[') kinds.push('array');
    else if (t === '}') {
      stack.pop();
      kinds.pop();
    } else if (t === ']') kinds.pop();
    else if (t === ':' && previous !== null && kinds.at(-1) === 'object') {
      const keys = stack.at(-1);
      const key = JSON.parse(previous) as string;
      if (keys?.has(key)) return key;
      keys?.add(key);
    }
    previous = t.startsWith('"') ? t : null;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Python feedparser

/** An entry as feedparser reads it (JSON Feed mapped to the same shape by the script). */
export interface FeedparserEntry {
  id: string | null;
  title: string | null;
  /** The title as a reader shows it: HTML-typed titles unescaped to text. */
  title_text: string | null;
  title_type: string | null;
  link: string | null;
  links: { rel: string | null; href: string | null; type: string | null; title: string | null }[];
  author: string | null;
  authors: { name: string | null; email: string | null; href: string | null }[];
  published: string | null;
  /** ISO 8601 UTC from feedparser's parsed date, null when it could not read the date. */
  published_iso: string | null;
  updated: string | null;
  updated_iso: string | null;
  tags: string[];
  enclosures: { href: string | null; type: string | null; length: string | null }[];
  source: { title: string | null; href: string | null; id: string | null; updated: string | null; links: { rel: string | null; href: string | null }[] } | null;
  summary: string | null;
  content: { type: string | null; value: string }[];
  /** JSON Feed only: the item's underscore extension objects. */
  extensions: Record<string, unknown>;
}

export interface FeedparserResult {
  bozo: boolean;
  bozo_exception: string | null;
  /** rss20, atom10, json11, ... ('' when unrecognised). */
  version: string;
  encoding: string | null;
  feed: { title: string | null; link: string | null; id: string | null; links: { rel: string | null; href: string | null; type: string | null }[] };
  entries: FeedparserEntry[];
}

const FEEDPARSER_SCRIPT = String.raw`
import sys, json, html, calendar

kind = sys.argv[1]
data = sys.stdin.buffer.read()

def iso(parsed):
    if not parsed:
        return None
    import datetime
    return datetime.datetime.fromtimestamp(calendar.timegm(parsed), tz=datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')

def text_of(value, detail):
    if value is None:
        return None
    if detail and detail.get('type') in ('text/html', 'application/xhtml+xml'):
        return html.unescape(value)
    return value

def link_list(links):
    return [{'rel': l.get('rel'), 'href': l.get('href'), 'type': l.get('type'), 'title': l.get('title')} for l in (links or [])]

def xml_result():
    import feedparser
    d = feedparser.parse(data, response_headers={'content-type': 'application/atom+xml' if kind == 'atom' else 'application/rss+xml'})
    entries = []
    for e in d.entries:
        src = e.get('source')
        entries.append({
            'id': e.get('id'),
            'title': e.get('title'),
            'title_text': text_of(e.get('title'), e.get('title_detail')),
            'title_type': (e.get('title_detail') or {}).get('type'),
            'link': e.get('link'),
            'links': link_list(e.get('links')),
            'author': e.get('author'),
            'authors': [{'name': a.get('name'), 'email': a.get('email'), 'href': a.get('href')} for a in (e.get('authors') or [])],
            'published': e.get('published'),
            'published_iso': iso(e.get('published_parsed')),
            'updated': e.get('updated'),
            'updated_iso': iso(e.get('updated_parsed')),
            'tags': [t.get('term') for t in (e.get('tags') or [])],
            'enclosures': [{'href': x.get('href'), 'type': x.get('type'), 'length': x.get('length')} for x in (e.get('enclosures') or [])],
            'source': None if src is None else {
                'title': src.get('title'), 'href': src.get('href'), 'id': src.get('id'), 'updated': src.get('updated'),
                'links': [{'rel': l.get('rel'), 'href': l.get('href')} for l in (src.get('links') or [])],
            },
            'summary': e.get('summary'),
            'content': [{'type': c.get('type'), 'value': c.get('value')} for c in (e.get('content') or [])],
            'extensions': {},
        })
    return {
        'bozo': bool(d.get('bozo')),
        'bozo_exception': None if not d.get('bozo') else repr(d.get('bozo_exception')),
        'version': d.get('version') or '',
        'encoding': d.get('encoding'),
        'feed': {'title': d.feed.get('title'), 'link': d.feed.get('link'), 'id': d.feed.get('id'),
                 'links': [{'rel': l.get('rel'), 'href': l.get('href'), 'type': l.get('type')} for l in (d.feed.get('links') or [])]},
        'entries': entries,
    }

def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError('duplicate key in object')
    return dict(pairs)

def reject_constant(name):
    raise ValueError('not JSON: ' + name)

def json_result():
    empty = {'bozo': True, 'version': '', 'encoding': 'utf-8', 'feed': {'title': None, 'link': None, 'id': None, 'links': []}, 'entries': []}
    try:
        doc = json.loads(data.decode('utf-8'), object_pairs_hook=no_duplicates, parse_constant=reject_constant)
    except Exception as err:
        return dict(empty, bozo_exception=repr(err))
    if not isinstance(doc, dict) or not isinstance(doc.get('items'), list):
        return dict(empty, bozo_exception='not a JSON Feed: no items list')
    versions = {'https://jsonfeed.org/version/1': 'json1', 'https://jsonfeed.org/version/1.1': 'json11'}
    def person(a):
        return {'name': a.get('name'), 'email': None, 'href': a.get('url')} if isinstance(a, dict) else {'name': None, 'email': None, 'href': None}
    entries = []
    for item in doc['items']:
        if not isinstance(item, dict):
            return dict(empty, bozo_exception='item is not an object')
        authors = [person(a) for a in (item.get('authors') or ([item['author']] if 'author' in item else []))]
        content = []
        if 'content_html' in item: content.append({'type': 'text/html', 'value': item['content_html']})
        if 'content_text' in item: content.append({'type': 'text/plain', 'value': item['content_text']})
        entries.append({
            'id': item.get('id'), 'title': item.get('title'), 'title_text': item.get('title'), 'title_type': 'text/plain',
            'link': item.get('url'), 'links': [{'rel': 'alternate', 'href': item.get('url'), 'type': None, 'title': None}] if 'url' in item else [],
            'author': authors[0]['name'] if authors else None, 'authors': authors,
            'published': item.get('date_published'), 'published_iso': None,
            'updated': item.get('date_modified'), 'updated_iso': None,
            'tags': list(item.get('tags') or []),
            'enclosures': [{'href': a.get('url'), 'type': a.get('mime_type'), 'length': None if a.get('size_in_bytes') is None else str(a.get('size_in_bytes'))} for a in (item.get('attachments') or [])],
            'source': None, 'summary': item.get('summary'), 'content': content,
            'extensions': {k: v for k, v in item.items() if k.startswith('_')},
        })
    version = versions.get(doc.get('version'), '')
    return {
        'bozo': version == '', 'bozo_exception': None if version else 'unknown version ' + repr(doc.get('version')),
        'version': version, 'encoding': 'utf-8',
        'feed': {'title': doc.get('title'), 'link': doc.get('home_page_url'), 'id': doc.get('feed_url'),
                 'links': [{'rel': 'self', 'href': doc.get('feed_url'), 'type': 'application/feed+json'}] if doc.get('feed_url') else []},
        'entries': entries,
    }

json.dump(json_result() if kind == 'json' else xml_result(), sys.stdout)
`;

let python: string | null | undefined;

/**
 * The Python interpreter that has feedparser (Debian's python3-feedparser installs into the system
 * Python, /usr/bin/python3, which a pyenv or venv python3 on PATH may hide); null when none has it.
 */
export function feedparserPython(): string | null {
  if (python !== undefined) return python;
  python = null;
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    const probe = spawnSync(candidate, ['-c', 'import feedparser'], { stdio: 'ignore' });
    if (probe.status === 0) {
      python = candidate;
      break;
    }
  }
  return python;
}

/** Reads a river output with Python's feedparser; rejects when Python fails or is absent. */
export function parseWithFeedparser(kind: FeedKind, body: string | Uint8Array): Promise<FeedparserResult> {
  const interpreter = feedparserPython();
  if (interpreter === null) return Promise.reject(new Error('python3-feedparser is not installed'));
  return new Promise((resolve, reject) => {
    const child = spawn(interpreter, ['-c', FEEDPARSER_SCRIPT, kind], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`feedparser (${interpreter}) exited with ${code}: ${Buffer.concat(err).toString('utf8').slice(-2000)}`));
      try {
        resolve(JSON.parse(Buffer.concat(out).toString('utf8')) as FeedparserResult);
      } catch (e) {
        reject(new Error(`feedparser printed no JSON: ${(e as Error).message}`));
      }
    });
    child.stdin.end(typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
  });
}
