// The river's three outputs are valid and faithful, judged by readers that share no code with the
// renderers (issue #5, "Valid, faithful output"):
// - the strict checker of the W3C Feed Validation Service's rules (tests/helpers/validate-feed.ts)
//   reports no errors; its warnings are printed and must be of the kinds the README justifies;
// - Python's feedparser (Debian's python3-feedparser) reads each without its bozo bit;
// - every story the API lists (one per cluster, as the feeds show them) comes back from each format
//   with the same id, title, link, author, publisher, dates and categories.
// For three rivers built for real (tests/helpers/corpus-river.ts): ~30 documents of the shared
// real-world corpus, and the end-to-end fixtures of the river and identity tests.
//
// The checker itself is tested first, on documents that break each rule it enforces.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusPresent, MANIFEST } from '../helpers/corpus.js';
import { startCorpusRiver, startFixtureRiver, type RiverUnderTest } from '../helpers/corpus-river.js';
import {
  feedparserPython,
  NS,
  parseStrictXml,
  parseWithFeedparser,
  validateFeed,
  type FeedKind,
  type FeedparserEntry,
  type FeedparserResult,
  type RuleName,
} from '../helpers/validate-feed.js';

const hasFeedparser = feedparserPython() !== null;
if (!hasFeedparser) console.warn('feed-validity: python3-feedparser is not installed (apt-get install python3-feedparser); the feedparser checks are skipped');
const hasCorpus = corpusPresent();
if (!hasCorpus) console.warn(`feed-validity: the corpus river is skipped: ${MANIFEST} not found (../shared/corpus is absent, as on a fresh clone)`);

// ---------------------------------------------------------------------------------------------
// The checker catches what it should

const SELF = '<atom:link href="http://river.test/feed.xml" rel="self" type="application/rss+xml"/>';
const rss = (items: string, channel = SELF, root = 'version="2.0"'): string =>
  `<?xml version="1.0" encoding="utf-8"?>\n<rss ${root} xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/">\n<channel><title>River</title><link>http://river.test/</link><description>d</description>${channel}\n${items}\n</channel></rss>`;
const item = (inner: string): string =>
  `<item><title>T</title><link>https://pub.example/a</link><guid isPermaLink="true">https://pub.example/a</guid><pubDate>Sat, 01 Mar 2025 10:00:00 GMT</pubDate>${inner}</item>`;
const atom = (entries: string, feed = '<author><name>R</name></author>'): string =>
  `<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><id>http://river.test/</id><title>River</title><updated>2025-03-01T10:00:00Z</updated><link rel="self" href="http://river.test/feed.atom"/>${feed}\n${entries}\n</feed>`;
const entry = (inner: string, id = 'https://pub.example/a'): string =>
  `<entry><id>${id}</id><title>T</title><updated>2025-03-01T10:00:00Z</updated><link rel="alternate" href="https://pub.example/a"/>${inner}</entry>`;
const json = (items: unknown[], top: Record<string, unknown> = {}): string =>
  JSON.stringify({ version: 'https://jsonfeed.org/version/1.1', title: 'River', home_page_url: 'http://river.test/', feed_url: 'http://river.test/feed.json', ...top, items });
const jsonItem = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ id: 'https://pub.example/a', url: 'https://pub.example/a', title: 'T', content_html: '<p>x</p>', date_published: '2025-03-01T10:00:00Z', ...extra });

interface CheckerCase {
  readonly name: string;
  readonly kind: FeedKind;
  readonly doc: string;
  /** The rule the document breaks; null for a valid document. */
  readonly error: RuleName | null;
}

const CHECKER_CASES: readonly CheckerCase[] = [
  {
    name: 'valid RSS',
    kind: 'rss',
    doc: rss(
      item(
        '<dc:creator>Lois</dc:creator><source url="https://pub.example/rss">Pub</source><enclosure url="https://pub.example/a.mp3" length="0" type="audio/mpeg"/>' +
          '<media:content url="https://pub.example/a.mp3" type="audio/mpeg" medium="audio" fileSize="12"/><media:thumbnail url="https://pub.example/a.jpg"/>',
      ),
    ),
    error: null,
  },
  { name: 'valid Atom', kind: 'atom', doc: atom(entry('<source><id>https://pub.example/feed</id><title>Pub</title><updated>2025-03-01T10:00:00Z</updated></source>')), error: null },
  { name: 'valid JSON Feed', kind: 'json', doc: json([jsonItem({ authors: [{ name: 'Lois' }], _tributary: { publisher: 'Pub' } })]), error: null },
  // XML 1.0
  { name: 'an unclosed element', kind: 'rss', doc: rss(item('<category>x')), error: 'NotWellFormed' },
  { name: 'a control character', kind: 'rss', doc: rss(item('<category>a\u0001b</category>')), error: 'IllegalCharacter' },
  { name: 'a reference to a control character', kind: 'rss', doc: rss(item('<category>a&#1;b</category>')), error: 'IllegalCharacter' },
  { name: 'an HTML entity outside CDATA', kind: 'rss', doc: rss(item('<category>a&nbsp;b</category>')), error: 'NotWellFormed' },
  { name: 'a bare ampersand', kind: 'rss', doc: rss(item('<category>Tom & Jerry</category>')), error: 'NotWellFormed' },
  { name: 'an undeclared prefix', kind: 'rss', doc: rss(item('<itunes:author>x</itunes:author>')), error: 'NotWellFormed' },
  { name: 'a repeated attribute', kind: 'rss', doc: rss(item('<source url="https://a.example/" url="https://b.example/">P</source>')), error: 'NotWellFormed' },
  { name: '"]]>" in text', kind: 'rss', doc: rss(item('<category>a]]>b</category>')), error: 'NotWellFormed' },
  { name: 'a second root element', kind: 'rss', doc: `${rss(item(''))}<rss/>`, error: 'NotWellFormed' },
  { name: 'an XML 1.1 document', kind: 'rss', doc: rss(item('')).replace('version="1.0"', 'version="1.1"'), error: 'BadXmlVersion' },
  { name: 'a DOCTYPE', kind: 'rss', doc: rss(item('')).replace('<rss', '<!DOCTYPE rss>\n<rss'), error: 'InvalidDoctype' },
  // RSS 2.0
  { name: 'RSS 0.91', kind: 'rss', doc: rss(item(''), SELF, 'version="0.91"'), error: 'InvalidRSSVersion' },
  { name: 'a channel without description', kind: 'rss', doc: rss(item('')).replace('<description>d</description>', ''), error: 'MissingElement' },
  { name: 'two titles in an item', kind: 'rss', doc: rss(item('<title>again</title>')), error: 'DuplicateElement' },
  { name: 'an item without title or description', kind: 'rss', doc: rss('<item><link>https://pub.example/a</link></item>'), error: 'ItemMustContainTitleOrDescription' },
  { name: 'an element RSS does not define', kind: 'rss', doc: rss(item('<creator>x</creator>')), error: 'UndefinedElement' },
  { name: 'an ISO date in pubDate', kind: 'rss', doc: rss(item('')).replace('Sat, 01 Mar 2025 10:00:00 GMT', '2025-03-01T10:00:00Z'), error: 'InvalidRFC2822Date' },
  { name: 'the wrong day of the week', kind: 'rss', doc: rss(item('')).replace('Sat, 01 Mar', 'Mon, 01 Mar'), error: 'IncorrectDOW' },
  { name: 'a permalink guid that is not a URL', kind: 'rss', doc: rss('<item><title>T</title><guid>abc-123</guid></item>'), error: 'InvalidHttpGUID' },
  { name: 'a tag: guid as permalink', kind: 'rss', doc: rss('<item><title>T</title><guid isPermaLink="true">tag:river.test,2025:1</guid></item>'), error: 'InvalidPermalink' },
  { name: 'isPermaLink="yes"', kind: 'rss', doc: rss('<item><title>T</title><guid isPermaLink="yes">https://pub.example/a</guid></item>'), error: 'InvalidBooleanAttribute' },
  { name: 'a guid used twice', kind: 'rss', doc: rss(item('') + item('')), error: 'DuplicateValue' },
  { name: 'a source without url', kind: 'rss', doc: rss(item('<source>Pub</source>')), error: 'MissingAttribute' },
  { name: 'an enclosure without type', kind: 'rss', doc: rss(item('<enclosure url="https://pub.example/a.mp3" length="1"/>')), error: 'MissingAttribute' },
  { name: 'an enclosure length that is not a number', kind: 'rss', doc: rss(item('<enclosure url="https://pub.example/a.mp3" length="big" type="audio/mpeg"/>')), error: 'InvalidIntegerAttribute' },
  { name: 'an author that is only a name', kind: 'rss', doc: rss(item('<author>Lois Lane</author>')), error: 'InvalidContact' },
  { name: 'no atom:link rel=self', kind: 'rss', doc: rss(item(''), ''), error: 'MissingAtomSelfLink' },
  { name: 'a self link without type', kind: 'rss', doc: rss(item(''), '<atom:link href="http://river.test/feed.xml" rel="self"/>'), error: 'MissingTypeAttr' },
  { name: 'a link with raw non-ASCII', kind: 'rss', doc: rss(item('')).replaceAll('https://pub.example/a', 'https://pub.example/ä'), error: 'UriNotIri' },
  { name: 'a link with a space', kind: 'rss', doc: rss(item('')).replaceAll('https://pub.example/a', 'https://pub.example/a b'), error: 'InvalidUriChar' },
  { name: 'a relative link', kind: 'rss', doc: rss(item('')).replaceAll('https://pub.example/a', '/a'), error: 'InvalidFullLink' },
  // Media RSS
  { name: 'media:content medium="picture"', kind: 'rss', doc: rss(item('<media:content url="https://pub.example/a.jpg" medium="picture"/>')), error: 'InvalidMediaMedium' },
  { name: 'media:content fileSize="0"', kind: 'rss', doc: rss(item('<media:content url="https://pub.example/a.jpg" fileSize="0"/>')), error: 'InvalidPositiveInteger' },
  { name: 'media:thumbnail without url', kind: 'rss', doc: rss(item('<media:thumbnail width="10"/>')), error: 'MissingAttribute' },
  { name: 'Media RSS without the namespace\'s slash', kind: 'rss', doc: rss(item('<m:content xmlns:m="http://search.yahoo.com/mrss" url="https://pub.example/a.jpg"/>')), error: 'MediaRssNamespace' },
  { name: 'a media:group of one', kind: 'rss', doc: rss(item('<media:group><media:content url="https://pub.example/a.jpg"/></media:group>')), error: 'MediaGroupWithoutAlternatives' },
  // Atom 1.0
  { name: 'a feed without id', kind: 'atom', doc: atom(entry('')).replace('<id>http://river.test/</id>', ''), error: 'MissingElement' },
  { name: 'an entry without updated', kind: 'atom', doc: atom(entry('').replace('<updated>2025-03-01T10:00:00Z</updated>', '')), error: 'MissingElement' },
  { name: 'an entry without author in a feed without one', kind: 'atom', doc: atom(entry(''), ''), error: 'MissingAuthor' },
  { name: 'two alternate links of one type', kind: 'atom', doc: atom(entry('<link href="https://pub.example/b"/>')), error: 'DuplicateAtomLink' },
  { name: 'a link without href', kind: 'atom', doc: atom(entry('<link rel="related"/>')), error: 'MissingHref' },
  { name: 'a relative href without xml:base', kind: 'atom', doc: atom(entry('<link rel="related" href="/b"/>')), error: 'RelativeUri' },
  { name: 'an id that is not absolute', kind: 'atom', doc: atom(entry('', 'story-7')), error: 'InvalidIRI' },
  { name: 'a malformed tag URI', kind: 'atom', doc: atom(entry('', 'tag:river,xx:1')), error: 'InvalidTAG' },
  { name: 'a date without time zone', kind: 'atom', doc: atom(entry('<published>2025-03-01T10:00:00</published>')), error: 'InvalidRFC3339Date' },
  { name: 'a lowercase t in a date', kind: 'atom', doc: atom(entry('<published>2025-03-01t10:00:00Z</published>')), error: 'InvalidRFC3339Date' },
  { name: 'an entry with neither content nor alternate link', kind: 'atom', doc: atom('<entry><id>https://pub.example/a</id><title>T</title><updated>2025-03-01T10:00:00Z</updated></entry>'), error: 'MissingContentOrAlternate' },
  { name: 'content by src without summary', kind: 'atom', doc: atom(entry('<content src="https://pub.example/a.html" type="text/html"/>')), error: 'MissingSummary' },
  { name: 'a text construct of type text/plain', kind: 'atom', doc: atom(entry('<summary type="text/plain">x</summary>')), error: 'InvalidTextType' },
  { name: 'markup inside type="html"', kind: 'atom', doc: atom(entry('<summary type="html"><b>x</b></summary>')), error: 'NotInline' },
  { name: 'xhtml content without its div', kind: 'atom', doc: atom(entry('<content type="xhtml"><p xmlns="http://www.w3.org/1999/xhtml">x</p></content>')), error: 'MissingXhtmlDiv' },
  { name: 'an entry inside atom:source', kind: 'atom', doc: atom(entry(`<source><id>https://pub.example/feed</id><title>P</title><updated>2025-03-01T10:00:00Z</updated>${entry('')}</source>`)), error: 'InvalidSource' },
  { name: 'two entries with one id', kind: 'atom', doc: atom(entry('') + entry('')), error: 'DuplicateIds' },
  { name: 'a feed without self link', kind: 'atom', doc: atom(entry('')).replace('<link rel="self" href="http://river.test/feed.atom"/>', ''), error: 'MissingSelf' },
  { name: 'a person without name', kind: 'atom', doc: atom(entry('<author><uri>https://pub.example/</uri></author>')), error: 'MissingElement' },
  // JSON Feed 1.1
  { name: 'not JSON', kind: 'json', doc: '{"version": ', error: 'JsonSyntax' },
  { name: 'a repeated key', kind: 'json', doc: json([jsonItem()]).replace('"title":"River"', '"title":"River","title":"Again"'), error: 'JsonSyntax' },
  { name: 'version 1', kind: 'json', doc: json([jsonItem()], { version: 'https://jsonfeed.org/version/1' }), error: 'JsonVersion' },
  { name: 'no title', kind: 'json', doc: json([jsonItem()], { title: undefined }), error: 'JsonRequired' },
  { name: 'a numeric id', kind: 'json', doc: json([jsonItem({ id: 7 })]), error: 'JsonType' },
  { name: 'an item with no content', kind: 'json', doc: json([jsonItem({ content_html: undefined })]), error: 'JsonContent' },
  { name: 'a date that is not RFC 3339', kind: 'json', doc: json([jsonItem({ date_published: 'Sat, 01 Mar 2025 10:00:00 GMT' })]), error: 'JsonDate' },
  { name: 'a relative url', kind: 'json', doc: json([jsonItem({ url: '/a' })]), error: 'JsonUrl' },
  { name: 'an author with no fields', kind: 'json', doc: json([jsonItem({ authors: [{}] })]), error: 'JsonAuthor' },
  { name: 'an attachment without mime_type', kind: 'json', doc: json([jsonItem({ attachments: [{ url: 'https://pub.example/a.mp3' }] })]), error: 'JsonAttachment' },
  { name: 'a custom key without underscore', kind: 'json', doc: json([jsonItem({ publisher: 'Pub' })]), error: 'JsonExtensionKey' },
  { name: 'two items with one id', kind: 'json', doc: json([jsonItem(), jsonItem()]), error: 'JsonDuplicateId' },
];

describe('the strict checker', () => {
  it.each(CHECKER_CASES)('$name: $error', ({ kind, doc, error }) => {
    const { errors } = validateFeed(kind, doc);
    if (error === null) expect(errors).toEqual([]);
    else expect(errors.map((e) => e.split(' ')[0]), errors.join('\n')).toContain(error);
  });

  it.each([
    { name: 'author and dc:creator together', kind: 'rss' as const, doc: rss(item('<author>l@pub.example (Lois)</author><dc:creator>Lois</dc:creator>')), warning: 'DuplicateItemSemantics' },
    { name: 'script in a description', kind: 'rss' as const, doc: rss(item('<description><![CDATA[<p onclick="x()">a</p><script>b</script>]]></description>')), warning: 'SecurityRisk' },
    { name: 'a relative link in HTML', kind: 'atom' as const, doc: atom(entry('<summary type="html">&lt;a href="/x"&gt;x&lt;/a&gt;</summary>')), warning: 'ContainsRelRef' },
    { name: 'the deprecated author of JSON Feed 1.0', kind: 'json' as const, doc: json([jsonItem({ author: { name: 'Lois' } })]), warning: 'JsonDeprecated' },
    { name: 'a C1 control character', kind: 'rss' as const, doc: rss(item('<category>a\u0085b</category>')), warning: 'BadCharacters' },
  ])('warns: $name', ({ kind, doc, warning }) => {
    const { errors, warnings } = validateFeed(kind, doc);
    expect(errors).toEqual([]);
    expect(warnings.map((w) => w.split(' ')[0])).toContain(warning);
  });

  it('rejects bytes that are not UTF-8, naming the rule', () => {
    const bytes = Buffer.concat([Buffer.from(rss(item('')).slice(0, 200)), Buffer.from([0xc3, 0x28])]);
    expect(validateFeed('rss', bytes).errors[0]).toMatch(/^UnicodeError /);
  });

  it('says where: line and element', () => {
    const [error] = validateFeed('rss', rss(item('<author>Lois Lane</author>'))).errors;
    expect(error).toMatch(/^InvalidContact at <author> line 4: "Lois Lane" is not an e-mail address \[RSS 2\.0/);
  });
});

describe.skipIf(!hasFeedparser)('python feedparser, as the checks below use it', () => {
  it.each([
    { name: 'RSS 2.0', kind: 'rss' as const, doc: rss(item('<dc:creator>Lois</dc:creator>')), version: 'rss20', bozo: false },
    { name: 'Atom 1.0', kind: 'atom' as const, doc: atom(entry('')), version: 'atom10', bozo: false },
    { name: 'JSON Feed 1.1', kind: 'json' as const, doc: json([jsonItem()]), version: 'json11', bozo: false },
    { name: 'ill-formed RSS', kind: 'rss' as const, doc: rss(item('<category>Tom & Jerry</category>')), version: 'rss20', bozo: true },
    { name: 'JSON with a repeated key', kind: 'json' as const, doc: json([jsonItem()]).replace('"title":"River"', '"title":"River","title":"x"'), version: '', bozo: true },
  ])('$name: version $version, bozo $bozo', async ({ kind, doc, version, bozo }) => {
    const result = await parseWithFeedparser(kind, doc);
    expect(result.bozo, result.bozo_exception ?? '').toBe(bozo);
    expect(result.version).toBe(version);
  });
});

// ---------------------------------------------------------------------------------------------
// The rivers

/** What /api/items?collapse=true says of a story (the fields the feeds must carry). */
interface ApiStory {
  id: string;
  title: string;
  url: string | null;
  guid: string | null;
  author: string | null;
  publisher: { name: string; url: string | null; feed_url: string | null };
  published_at: string;
  updated_at: string;
  categories: string[];
  content_policy: string;
  enclosures?: { url: string }[];
}

interface Output {
  readonly kind: FeedKind;
  readonly path: string;
  readonly contentType: string;
  readonly body: Buffer;
}

const OUTPUTS: readonly { kind: FeedKind; path: string; contentType: RegExp; version: string }[] = [
  { kind: 'rss', path: '/feed.xml', contentType: /^application\/rss\+xml; charset=utf-8$/, version: 'rss20' },
  { kind: 'atom', path: '/feed.atom', contentType: /^application\/atom\+xml; charset=utf-8$/, version: 'atom10' },
  { kind: 'json', path: '/feed.json', contentType: /^application\/feed\+json; charset=utf-8$/, version: 'json11' },
];

/**
 * Warnings the river knowingly emits, each justified in the README ("Validity"). Any other kind
 * fails the test, so a new one is either fixed or documented there.
 */
const KNOWN_WARNINGS: ReadonlySet<RuleName> = new Set<RuleName>([
  // A publisher name or title that literally contains entity-like text or tags (a JSON Feed titled
  // "Blog &#8211; InfluxData") is kept as the publisher wrote it, in plain-text elements.
  'ContainsHTML',
  // An Atom entry with neither a link nor text (policy `none`, or a publisher that sent only a
  // title) carries an empty <content>: RFC 4287 §4.1.2 wants content or an alternate link.
  'NotBlank',
  // JSON Feed 1.1 deprecates `author`; it stays beside `authors` for JSON Feed 1.0 readers.
  'JsonDeprecated',
]);

const collapse = (s: string): string => s.replace(/\s+/g, ' ').trim();
// What XML 1.0 cannot carry (and the river therefore drops) is not compared.
// eslint-disable-next-line no-control-regex
const xmlSafe = (s: string): string => s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '');
const norm = (s: string | null | undefined): string => collapse(xmlSafe(s ?? ''));

/**
 * The byline a reader should show: the story's author as a name (RSS "addr (Name)" and RFC 5322
 * "Name <addr>" forms reduced to the name), else the publisher.
 */
function expectedByline(story: ApiStory): string {
  const author = norm(story.author);
  const rssForm = /^\S+@\S+\s+\((.+)\)$/.exec(author);
  const mailForm = /^(.+?)\s*<\S+@\S+>$/.exec(author);
  return norm(rssForm?.[1] ?? mailForm?.[1] ?? author) || expectedPublisher(story);
}

function expectedPublisher(story: ApiStory): string {
  return norm(story.publisher.name) || story.publisher.url || 'Unknown publisher';
}

/** The entry of a story: by its URL when it has one, else by an id derived from its identity. */
function findEntry(byId: Map<string, FeedparserEntry>, story: ApiStory): FeedparserEntry | undefined {
  if (story.url !== null) return byId.get(story.url);
  for (const [id, e] of byId) if (id.endsWith(encodeURIComponent(story.id)) || (story.guid !== null && id === story.guid)) return e;
  return undefined;
}

function alternateLink(kind: FeedKind, e: FeedparserEntry): string | null {
  if (kind === 'atom') return e.links.find((l) => (l.rel ?? 'alternate') === 'alternate')?.href ?? null;
  return e.link;
}

/** Every difference between a story and its entry, as readable lines (empty when faithful). */
function compareStory(kind: FeedKind, story: ApiStory, e: FeedparserEntry): string[] {
  const diffs: string[] = [];
  const same = (field: string, expected: unknown, actual: unknown): void => {
    if (JSON.stringify(expected) !== JSON.stringify(actual)) diffs.push(`${field}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  };
  same('id is not a database serial', false, /^\d+$/.test(e.id ?? ''));
  if (story.url !== null) same('id', story.url, e.id);
  same('title', norm(story.title), norm(e.title_text));
  same('link', story.url, alternateLink(kind, e));
  same('author', expectedByline(story), norm(e.authors[0]?.name ?? e.author));
  const publisher = expectedPublisher(story);
  if (kind === 'json') {
    const ext = e.extensions['_tributary'] as { publisher?: string; publisher_url?: string | null; publisher_feed?: string | null } | undefined;
    same('_tributary.publisher', publisher, norm(ext?.publisher));
    same('_tributary.publisher_url', story.publisher.url, ext?.publisher_url ?? null);
    same('_tributary.publisher_feed', story.publisher.feed_url, ext?.publisher_feed ?? null);
  } else if (kind === 'atom') {
    same('source.title', publisher, norm(e.source?.title));
    same('source self', story.publisher.feed_url, e.source?.links.find((l) => l.rel === 'self')?.href ?? null);
    same('source alternate', story.publisher.url, e.source?.links.find((l) => l.rel === 'alternate')?.href ?? null);
  } else if (story.publisher.feed_url !== null || story.publisher.url !== null) {
    same('source', publisher, norm(e.source?.title));
    same('source url', story.publisher.feed_url ?? story.publisher.url, e.source?.href ?? null);
  }
  // RSS dates are whole seconds (RFC 822); feedparser gives JSON Feed dates as written.
  const seconds = (iso: string | null): number | null => (iso === null || Number.isNaN(Date.parse(iso)) ? null : Math.floor(Date.parse(iso) / 1000));
  same('published', seconds(story.published_at), seconds(kind === 'json' ? e.published : e.published_iso));
  if (kind !== 'rss') same('updated', seconds(story.updated_at), seconds(kind === 'json' ? e.updated : e.updated_iso));
  same('categories', story.categories.map(norm).filter(Boolean).sort(), e.tags.map(norm).sort());
  for (const enclosure of story.enclosures ?? []) {
    if (!e.enclosures.some((x) => x.href === enclosure.url) && !(kind === 'rss' && e.enclosures.length === 1)) diffs.push(`enclosure ${enclosure.url} missing`);
  }
  return diffs;
}

/**
 * The RFC 5005 archive page an output links to as rel="prev-archive" (JSON Feed: next_url), on the
 * running river (the link names the public base_url); null when the output has none.
 */
function archiveLink(kind: FeedKind, body: Buffer, river: RiverUnderTest): string | null {
  let href: string | null | undefined;
  if (kind === 'json') href = (JSON.parse(body.toString('utf8')) as { next_url?: string }).next_url;
  else {
    const root = parseStrictXml(body.toString('utf8'));
    const container = kind === 'rss' ? root.children.find((c) => c.kind === 'element' && c.local === 'channel') : root;
    const links = container?.kind === 'element' ? container.children.filter((c) => c.kind === 'element' && c.ns === NS.atom && c.local === 'link') : [];
    href = links.map((l) => (l.kind === 'element' ? l : null)).find((l) => l?.attributes.some((a) => a.local === 'rel' && a.value === 'prev-archive'))?.attributes.find((a) => a.local === 'href')?.value;
  }
  if (!href) return null;
  const url = new URL(href);
  return `${river.url}${url.pathname}${url.search}`;
}

interface RiverCase {
  readonly name: string;
  readonly start: () => Promise<RiverUnderTest | null>;
}

const RIVERS: readonly RiverCase[] = [
  ...(hasCorpus ? [{ name: 'the corpus river', start: () => startCorpusRiver() }] : []),
  { name: 'the river fixtures', start: () => startFixtureRiver('river') },
  { name: 'the identity fixtures', start: () => startFixtureRiver('identity') },
];

describe.each(RIVERS)('$name', ({ start }) => {
  let river: RiverUnderTest;
  let stories: ApiStory[] = [];
  const outputs = new Map<FeedKind, Output>();
  const parsed = new Map<FeedKind, FeedparserResult>();
  const archives = new Map<FeedKind, { url: string; status: number; body: Buffer }>();

  beforeAll(async () => {
    const started = await start();
    if (started === null) throw new Error('river not started');
    river = started;
    const api = await fetch(`${river.url}/api/items?collapse=true&limit=500`);
    expect(api.status).toBe(200);
    stories = ((await api.json()) as { items: ApiStory[]; next_cursor: string | null }).items;
    for (const o of OUTPUTS) {
      const res = await fetch(`${river.url}${o.path}?limit=500`);
      expect(res.status, o.path).toBe(200);
      outputs.set(o.kind, { kind: o.kind, path: o.path, contentType: res.headers.get('content-type') ?? '', body: Buffer.from(await res.arrayBuffer()) });
      if (hasFeedparser) parsed.set(o.kind, await parseWithFeedparser(o.kind, outputs.get(o.kind)!.body));
      const archive = archiveLink(o.kind, outputs.get(o.kind)!.body, river);
      if (archive !== null) {
        const page = await fetch(archive);
        archives.set(o.kind, { url: archive, status: page.status, body: Buffer.from(await page.arrayBuffer()) });
      }
    }
  }, 240_000);

  afterAll(async () => {
    await river?.close();
  });

  it('stores every source it fetched (no source fails)', () => {
    const failed = river.fetchOutput.split('\n').filter((line) => /^\S+\s+failed\s/.test(line));
    expect(failed).toEqual([]);
    expect(river.fetchOutput).toMatch(/ 0 failed,/);
  });

  it('has stories to check, fewer than one page of 500', () => {
    expect(stories.length).toBeGreaterThan(5);
    expect(stories.length).toBeLessThan(500);
  });

  describe.each(OUTPUTS)('$path', ({ kind, contentType, version }) => {
    it('is served with its media type and UTF-8', () => {
      expect(outputs.get(kind)?.contentType).toMatch(contentType);
    });

    it('has no errors by the W3C validator rules; its warnings are the known kinds', () => {
      const { errors, warnings } = validateFeed(kind, outputs.get(kind)!.body);
      const byRule = new Map<string, number>();
      for (const w of warnings) byRule.set(w.split(' ')[0] ?? '', (byRule.get(w.split(' ')[0] ?? '') ?? 0) + 1);
      console.log(`${river.name} ${outputs.get(kind)?.path}: ${errors.length} errors, ${warnings.length} warnings ${JSON.stringify(Object.fromEntries(byRule))}` + (warnings.length ? `\n  e.g. ${[...new Map(warnings.map((w) => [w.split(' ')[0], w])).values()].map((w) => w.slice(0, 240)).join('\n  e.g. ')}` : ''));
      expect(errors.slice(0, 20)).toEqual([]);
      expect([...byRule.keys()].filter((rule) => !KNOWN_WARNINGS.has(rule as RuleName))).toEqual([]);
    });

    it.skipIf(!hasFeedparser)(`reads in feedparser without bozo, as ${version}, with the river's title`, () => {
      const result = parsed.get(kind)!;
      expect(result.bozo_exception).toBeNull();
      expect(result.bozo).toBe(false);
      expect(result.version).toBe(version);
      expect(norm(result.feed.title)).toBe(norm(river.title));
      expect(result.entries).toHaveLength(stories.length);
    });

    it.skipIf(!hasFeedparser)('round-trips every story: id, title, link, author, publisher, dates, categories', () => {
      const entries = parsed.get(kind)!.entries;
      const byId = new Map(entries.map((e) => [e.id ?? '', e]));
      expect(byId.size, 'ids are unique').toBe(entries.length);
      const problems: string[] = [];
      for (const story of stories) {
        const e = findEntry(byId, story);
        if (e === undefined) {
          problems.push(`${story.id} ${JSON.stringify(story.title)}: no entry`);
          continue;
        }
        for (const d of compareStory(kind, story, e)) problems.push(`${story.url ?? story.id}: ${d}`);
      }
      expect(problems.slice(0, 30), `${problems.length} differences`).toEqual([]);
    });
  });

  describe.each(OUTPUTS)('$path archive page (RFC 5005 prev-archive)', ({ kind, version }) => {
    it('is valid and reads without bozo, when the river has one', async (ctx) => {
      const archive = archives.get(kind);
      if (archive === undefined) return ctx.skip('no prev-archive link: the river fits on its newest page');
      expect(archive.status, archive.url).toBe(200);
      const { errors } = validateFeed(kind, archive.body);
      expect(errors.slice(0, 20), archive.url).toEqual([]);
      if (!hasFeedparser) return;
      const result = await parseWithFeedparser(kind, archive.body);
      expect(result.bozo_exception).toBeNull();
      expect(result.version).toBe(version);
      expect(result.entries.length).toBeGreaterThan(0);
    });
  });

  it.each(OUTPUTS)('named rivers, per-source and per-tag feeds are valid too ($path)', async ({ kind, path, version }) => {
    const extension = path.slice('/feed'.length);
    const others = river.feedPaths.filter((p) => p !== '/feed');
    expect(others.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const p of others) {
      const url = `${river.url}${p}${extension}`;
      const res = await fetch(url);
      if (res.status !== 200) {
        problems.push(`${p}${extension}: HTTP ${res.status}`);
        continue;
      }
      const body = Buffer.from(await res.arrayBuffer());
      const { errors, warnings } = validateFeed(kind, body);
      problems.push(...errors.slice(0, 5).map((e) => `${p}${extension}: ${e}`));
      const unknown = [...new Set(warnings.map((w) => w.split(' ')[0] as RuleName))].filter((rule) => !KNOWN_WARNINGS.has(rule));
      if (unknown.length) problems.push(`${p}${extension}: warnings ${unknown.join(', ')}`);
      if (hasFeedparser) {
        const result = await parseWithFeedparser(kind, body);
        if (result.bozo || result.version !== version) problems.push(`${p}${extension}: feedparser ${result.version} bozo=${result.bozo} ${result.bozo_exception ?? ''}`);
        if (result.entries.length === 0) problems.push(`${p}${extension}: no entries`);
      }
    }
    expect(problems).toEqual([]);
  });

  it.skipIf(!hasFeedparser)('gives each story the same id in all three formats', () => {
    const ids = OUTPUTS.map((o) => parsed.get(o.kind)!.entries.map((e) => e.id).sort());
    expect(ids[1]).toEqual(ids[0]);
    expect(ids[2]).toEqual(ids[0]);
  });
});
