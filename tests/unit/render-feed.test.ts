import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import Parser from 'rss-parser';
import { describe, expect, it } from 'vitest';
import type { AlsoPublished, ContentPolicy, Enclosure, Publisher, Story } from '../../src/domain.js';
import { FEED_CONTENT_TYPES, renderFeed, type FeedFormat, type RiverMeta } from '../../src/http/render-feed.js';
import { splitAuthor } from '../../src/http/render-story.js';
import { cleanText, htmlToPlainText, safeUrl } from '../../src/http/render-text.js';

// Every output is read back with an independent parser: rss-parser (xml2js/sax, strict mode) for
// RSS and Atom, JSON.parse for JSON Feed, and (when Debian's python3-feedparser is installed)
// Python's feedparser for RSS and Atom. The W3C Feed Validation Service's rules that apply to what
// we emit are checked over every output by w3cViolations (below), written from feedvalidator's
// source (github.com/w3c/feedvalidator). Expected values are written out literally per case, not
// recomputed with the renderer's own helpers.

// ---------------------------------------------------------------------------------------------
// Sample river and stories

const river: RiverMeta = {
  title: 'Morning River & Friends',
  description: 'Everything <fit> to read',
  selfUrl: 'https://river.example.com/feed.xml?tag=news&lang=en',
  homeUrl: 'https://river.example.com/',
  alternates: {
    rss: 'https://river.example.com/feed.xml?tag=news&lang=en',
    atom: 'https://river.example.com/feed.atom?tag=news&lang=en',
    json: 'https://river.example.com/feed.json?tag=news&lang=en',
  },
  updated: new Date('2025-03-04T05:06:07Z'),
  generator: 'Tributary 0.1.0',
};

const daily: Publisher = {
  name: 'The Daily Planet',
  url: 'https://planet.example/',
  sourceId: 'planet',
  feedUrl: 'https://planet.example/rss?format=full&v=2',
};

function story(overrides: Partial<Story> & Pick<Story, 'id' | 'title'>): Story {
  return {
    url: null,
    publisher: daily,
    via: ['planet'],
    author: null,
    publishedAt: new Date('2025-03-01T10:00:00Z'),
    updatedAt: new Date('2025-03-01T10:00:00Z'),
    summary: null,
    content: null,
    tags: [],
    categories: [],
    guid: null,
    clusterId: null,
    alsoPublishedBy: [],
    // `full` unless a case says otherwise: the text the story has is what the entry carries.
    contentPolicy: 'full',
    enclosures: [],
    image: null,
    ...overrides,
  };
}

const HOSTILE_TITLE = 'Tom & Jerry <b>"quoted" \'single\'</b> ]]> twice ]]>\u0000\u0007\u001B\u000B done 😀 𝕏 AT&amp;T';
const HOSTILE_CONTENT = '<p>a]]>b</p>]]></content:encoded></content><evil>1</evil><![CDATA[tail';

const full = story({
  id: 'a1b2c3',
  title: 'Council approves river park',
  url: 'https://planet.example/news/river-park?id=7&ref=home',
  via: ['planet', 'aggregator'],
  author: 'Lois Lane',
  publishedAt: new Date('2025-03-02T08:30:00Z'),
  updatedAt: new Date('2025-03-02T09:45:00Z'),
  summary: '<p>The council <em>approved</em> the park &amp; the bridge.</p><p>Works start in May.</p>',
  content: '<p>Full text of the story.</p>',
  categories: ['Local', 'Parks & Recreation'],
  guid: 'planet-7',
});

const linkless = story({
  id: 'guid-9f8e',
  title: 'Notice without a link',
  url: null,
  author: null,
  summary: null,
  content: null,
});

const hostile = story({
  id: 'h0st1le',
  title: HOSTILE_TITLE,
  url: 'https://planet.example/a?x=1&y=<2>&z="3"',
  author: 'Ann "The Hammer" <ann@example> & co\u0001',
  publisher: { ...daily, name: 'Smith & Sons <Press> "Daily"', feedUrl: 'https://smith.example/feed?a=1&b=2' },
  summary: 'Sum ]]> one ]]> two & <b>bold</b>\u0008',
  content: HOSTILE_CONTENT,
  categories: ['A & B', 'x<y>"z"', 'tab\there', '\u0002'],
});

const noFeedUrl = story({
  id: 'nf1',
  title: 'Publisher without a feed URL',
  url: 'https://blog.example/post/1',
  publisher: { name: 'A Blog', url: 'https://blog.example/', sourceId: null, feedUrl: null },
  author: 'Blogger',
  summary: '<p>Short.</p>',
});

const noAddress = story({
  id: 'na1',
  title: 'Publisher known only by name',
  url: 'https://nowhere.example/item',
  publisher: { name: 'Anonymous Wire', url: null, sourceId: null, feedUrl: null },
});

/** What readers must see for each story, written out by hand. */
interface Expected {
  readonly name: string;
  readonly story: Story;
  readonly title: string;
  readonly link: string | undefined;
  readonly id: string;
  readonly isPermaLink: 'true' | 'false';
  readonly byline: string;
  readonly publisher: string;
  /** RSS <source url>. */
  readonly sourceUrl: string | null;
  /** Atom <source><id>. */
  readonly sourceId: string;
  readonly sourceSelf: string | null;
  readonly sourceAlternate: string | null;
  readonly categories: readonly string[];
  readonly summaryHtml: string | null;
  readonly contentHtml: string | null;
  readonly summaryText: string | null;
  readonly authors: readonly { name: string; url?: string }[];
}

const cases: readonly Expected[] = [
  {
    name: 'story with everything',
    story: full,
    title: 'Council approves river park',
    link: 'https://planet.example/news/river-park?id=7&ref=home',
    id: 'https://planet.example/news/river-park?id=7&ref=home',
    isPermaLink: 'true',
    byline: 'Lois Lane',
    publisher: 'The Daily Planet',
    sourceUrl: 'https://planet.example/rss?format=full&v=2',
    sourceId: 'https://planet.example/rss?format=full&v=2',
    sourceSelf: 'https://planet.example/rss?format=full&v=2',
    sourceAlternate: 'https://planet.example/',
    categories: ['Local', 'Parks & Recreation'],
    summaryHtml: '<p>The council <em>approved</em> the park &amp; the bridge.</p><p>Works start in May.</p>',
    contentHtml: '<p>Full text of the story.</p>',
    summaryText: 'The council approved the park & the bridge. Works start in May.',
    authors: [{ name: 'Lois Lane' }, { name: 'The Daily Planet', url: 'https://planet.example/' }],
  },
  {
    name: 'link-less story',
    story: linkless,
    title: 'Notice without a link',
    link: undefined,
    id: 'tag:tributary,2025:guid-9f8e',
    isPermaLink: 'false',
    byline: 'The Daily Planet',
    publisher: 'The Daily Planet',
    sourceUrl: 'https://planet.example/rss?format=full&v=2',
    sourceId: 'https://planet.example/rss?format=full&v=2',
    sourceSelf: 'https://planet.example/rss?format=full&v=2',
    sourceAlternate: 'https://planet.example/',
    categories: [],
    summaryHtml: null,
    contentHtml: null,
    summaryText: null,
    authors: [{ name: 'The Daily Planet', url: 'https://planet.example/' }],
  },
  {
    name: 'hostile characters everywhere',
    story: hostile,
    title: 'Tom & Jerry <b>"quoted" \'single\'</b> ]]> twice ]]> done 😀 𝕏 AT&amp;T',
    link: 'https://planet.example/a?x=1&y=%3C2%3E&z=%223%22',
    id: 'https://planet.example/a?x=1&y=%3C2%3E&z=%223%22',
    isPermaLink: 'true',
    byline: 'Ann "The Hammer" <ann@example> & co',
    publisher: 'Smith & Sons <Press> "Daily"',
    sourceUrl: 'https://smith.example/feed?a=1&b=2',
    sourceId: 'https://smith.example/feed?a=1&b=2',
    sourceSelf: 'https://smith.example/feed?a=1&b=2',
    sourceAlternate: 'https://planet.example/',
    categories: ['A & B', 'x<y>"z"', 'tab\there'],
    // `]]>` becomes `]]&gt;`: the same HTML, and it can no longer close a CDATA section.
    summaryHtml: 'Sum ]]&gt; one ]]&gt; two & <b>bold</b>',
    contentHtml: '<p>a]]&gt;b</p>]]&gt;</content:encoded></content><evil>1</evil><![CDATA[tail',
    summaryText: 'Sum ]]> one ]]> two & bold',
    authors: [
      { name: 'Ann "The Hammer" <ann@example> & co' },
      { name: 'Smith & Sons <Press> "Daily"', url: 'https://planet.example/' },
    ],
  },
  {
    name: 'publisher without a feed URL',
    story: noFeedUrl,
    title: 'Publisher without a feed URL',
    link: 'https://blog.example/post/1',
    id: 'https://blog.example/post/1',
    isPermaLink: 'true',
    byline: 'Blogger',
    publisher: 'A Blog',
    sourceUrl: 'https://blog.example/',
    sourceId: 'https://blog.example/',
    sourceSelf: null,
    sourceAlternate: 'https://blog.example/',
    categories: [],
    summaryHtml: '<p>Short.</p>',
    // Policy full and no full text: the summary is the fullest text there is, carried as content.
    contentHtml: '<p>Short.</p>',
    summaryText: 'Short.',
    authors: [{ name: 'Blogger' }, { name: 'A Blog', url: 'https://blog.example/' }],
  },
  {
    name: 'publisher with no address at all',
    story: noAddress,
    title: 'Publisher known only by name',
    link: 'https://nowhere.example/item',
    id: 'https://nowhere.example/item',
    isPermaLink: 'true',
    byline: 'Anonymous Wire',
    publisher: 'Anonymous Wire',
    sourceUrl: null,
    sourceId: 'tag:tributary,2025:publisher:Anonymous%20Wire',
    sourceSelf: null,
    sourceAlternate: null,
    categories: [],
    summaryHtml: null,
    contentHtml: null,
    summaryText: null,
    authors: [{ name: 'Anonymous Wire' }],
  },
];

const stories = cases.map((c) => c.story);
const indexed = cases.map((c, index) => ({ ...c, index }));

// ---------------------------------------------------------------------------------------------
// Independent parsing

type XmlNode = string | { _?: string; $?: Record<string, string>; [child: string]: unknown };

interface RawItem {
  guids?: XmlNode[];
  sources?: XmlNode[];
  links?: XmlNode[];
  categoryEls?: XmlNode[];
  authors?: { name?: string[] }[];
  summaryEls?: XmlNode[];
  contentEls?: XmlNode[];
  published?: string;
  updated?: string;
  'content:encoded'?: string;
  evil?: unknown;
}

interface RawFeed {
  /** RSS <atom:link> elements. */
  atomLinks?: XmlNode[];
  /** Atom <link> elements. */
  linkEls?: XmlNode[];
  lastBuildDate?: string;
  generator?: string;
  id?: string;
  subtitle?: string;
  updated?: string;
}

const parser = new Parser<RawFeed, RawItem>({
  customFields: {
    feed: [
      ['atom:link', 'atomLinks', { keepArray: true }],
      ['link', 'linkEls', { keepArray: true }],
      'lastBuildDate',
      'generator',
      'id',
      'subtitle',
      'updated',
    ] as unknown as (keyof RawFeed)[],
    item: [
      ['guid', 'guids', { keepArray: true }],
      ['source', 'sources', { keepArray: true }],
      ['link', 'links', { keepArray: true }],
      ['category', 'categoryEls', { keepArray: true }],
      ['author', 'authors', { keepArray: true }],
      ['summary', 'summaryEls', { keepArray: true }],
      ['content', 'contentEls', { keepArray: true }],
      'published',
      'updated',
      'evil',
    ],
  },
});

function text(node: XmlNode | undefined): string | undefined {
  if (node === undefined) return undefined;
  return typeof node === 'string' ? node : node._;
}

function attrs(node: XmlNode | undefined): Record<string, string> {
  return typeof node === 'object' ? (node.$ ?? {}) : {};
}

function child(node: XmlNode | undefined, name: string): XmlNode[] {
  return typeof node === 'object' ? ((node[name] as XmlNode[] | undefined) ?? []) : [];
}

/** Decodes the escaping an Atom type="html" title carries (HTML character references). */
function decodeHtmlText(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
}

/** XML 1.0 §2.2 Char, checked over the raw output (sax does not check this). */
const XML_ILLEGAL_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function withoutCdata(xml: string): string {
  return xml.replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '');
}

/** Prefixes used on elements or attributes, outside CDATA, that the root element does not declare. */
function undeclaredPrefixes(xml: string): string[] {
  const markup = withoutCdata(xml);
  const root = /<(rss|feed)\b[^>]*>/.exec(markup)?.[0] ?? '';
  const used = new Set<string>();
  for (const m of markup.matchAll(/<\/?([A-Za-z_][\w.-]*):[\w.-]+/g)) used.add(m[1] as string);
  for (const m of markup.matchAll(/\s([A-Za-z_][\w.-]*):[\w.-]+=/g)) if (m[1] !== 'xmlns') used.add(m[1] as string);
  return [...used].filter((p) => p !== 'xml' && !root.includes(`xmlns:${p}="`));
}

const RFC822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

const rssXml = renderFeed('rss', river, stories);
const atomXml = renderFeed('atom', river, stories);
const jsonText = renderFeed('json', river, stories);
const rss = await parser.parseString(rssXml);
const atom = await parser.parseString(atomXml);
const json = JSON.parse(jsonText) as {
  version: string;
  title: string;
  description?: string;
  home_page_url: string;
  feed_url: string;
  items: Record<string, unknown>[];
};

// ---------------------------------------------------------------------------------------------

describe('FEED_CONTENT_TYPES', () => {
  it.each([
    { name: 'rss', format: 'rss', type: 'application/rss+xml; charset=utf-8' },
    { name: 'atom', format: 'atom', type: 'application/atom+xml; charset=utf-8' },
    { name: 'json', format: 'json', type: 'application/feed+json; charset=utf-8' },
  ] as const)('$name', ({ format, type }) => {
    expect(FEED_CONTENT_TYPES[format]).toBe(type);
  });
});

describe('well-formedness of all formats under hostile input', () => {
  it.each([
    { name: 'rss', xml: rssXml },
    { name: 'atom', xml: atomXml },
  ])('$name: parses, has every story, no illegal XML character, no raw < in attributes, namespaces declared', async ({ xml }) => {
    const parsed = await parser.parseString(xml);
    expect(parsed.items).toHaveLength(cases.length);
    expect(XML_ILLEGAL_CHAR.test(xml)).toBe(false);
    // XML 1.0 §3.1 [10] AttValue: `<` may not appear in an attribute value.
    expect(withoutCdata(xml)).not.toMatch(/\s[\w:]+="[^"<]*</);
    expect(undeclaredPrefixes(xml)).toEqual([]);
    // The hostile content tried to open an element of its own.
    expect(parsed.items.some((i) => i.evil !== undefined)).toBe(false);
    expect(xml).toContain('😀 𝕏');
  });

  it('json: parses and keeps emoji and non-BMP characters', () => {
    expect(json.items).toHaveLength(cases.length);
    expect(jsonText).toContain('😀 𝕏');
    expect(XML_ILLEGAL_CHAR.test(jsonText)).toBe(false);
  });
});

describe('order', () => {
  it.each([
    { name: 'rss', titles: () => rss.items.map((i) => i.title) },
    { name: 'atom', titles: () => atom.items.map((i) => decodeHtmlText(i.title ?? '')) },
    { name: 'json', titles: () => json.items.map((i) => i.title) },
  ])('$name: stories come out in the order given', ({ titles }) => {
    expect(titles()).toEqual(cases.map((c) => c.title));
  });

  it.each([
    { name: 'rss', format: 'rss' },
    { name: 'atom', format: 'atom' },
    { name: 'json', format: 'json' },
  ] as const)('$name: a different order in, the same order out', async ({ format }) => {
    const shuffled = [noFeedUrl, full, linkless];
    const out = renderFeed(format, river, shuffled);
    const ids =
      format === 'json'
        ? (JSON.parse(out) as { items: { id: string }[] }).items.map((i) => i.id)
        : (await parser.parseString(out)).items.map((i) => (format === 'atom' ? (i as { id?: string }).id : text(i.guids?.[0])));
    expect(ids).toEqual([
      'https://blog.example/post/1',
      'https://planet.example/news/river-park?id=7&ref=home',
      'tag:tributary,2025:guid-9f8e',
    ]);
  });
});

describe('RSS 2.0', () => {
  it('channel: title, home link, description, rel=self and alternates, lastBuildDate, generator', () => {
    expect(rss.title).toBe('Morning River & Friends');
    expect(rss.link).toBe('https://river.example.com/');
    expect(rss.description).toBe('Everything <fit> to read');
    expect(rss.atomLinks?.map(attrs)).toEqual([
      { href: 'https://river.example.com/feed.xml?tag=news&lang=en', rel: 'self', type: 'application/rss+xml' },
      { href: 'https://river.example.com/feed.atom?tag=news&lang=en', rel: 'alternate', type: 'application/atom+xml' },
      { href: 'https://river.example.com/feed.json?tag=news&lang=en', rel: 'alternate', type: 'application/feed+json' },
    ]);
    expect(rss.lastBuildDate).toBe('Tue, 04 Mar 2025 05:06:07 GMT');
    expect(rss.generator).toBe('Tributary 0.1.0');
  });

  it.each(indexed)('$name: title, link, guid and isPermaLink', (c) => {
    const item = rss.items[c.index];
    expect(item?.title).toBe(c.title);
    expect(item?.link).toBe(c.link);
    expect(item?.guids).toHaveLength(1);
    expect(text(item?.guids?.[0])).toBe(c.id);
    expect(attrs(item?.guids?.[0]).isPermaLink).toBe(c.isPermaLink);
  });

  it.each(indexed)('$name: <source url> names the publisher, dc:creator the byline', (c) => {
    const item = rss.items[c.index];
    if (c.sourceUrl === null) {
      expect(item?.sources).toBeUndefined();
    } else {
      expect(item?.sources).toHaveLength(1);
      expect(text(item?.sources?.[0])).toBe(c.publisher);
      expect(attrs(item?.sources?.[0])).toEqual({ url: c.sourceUrl });
    }
    expect(item?.creator).toBe(c.byline);
  });

  it.each(indexed)('$name: pubDate in RFC 822 (GMT), categories, description and content:encoded', (c) => {
    const item = rss.items[c.index];
    expect(item?.pubDate).toMatch(RFC822);
    expect(new Date(item?.pubDate ?? '').toISOString()).toBe(c.story.publishedAt.toISOString());
    expect(item?.categories ?? []).toEqual(c.categories);
    // rss-parser reports <description> as `content`.
    expect(item?.content).toBe(c.summaryHtml ?? undefined);
    expect(item?.['content:encoded']).toBe(c.contentHtml ?? undefined);
  });
});

describe('Atom 1.0', () => {
  it('feed: id = home page, title, subtitle, updated, generator, rel=self and rel=alternate links', () => {
    expect(atom.id).toBe('https://river.example.com/');
    expect(atom.title).toBe('Morning River & Friends');
    expect(atom.subtitle).toBe('Everything <fit> to read');
    expect(atom.updated).toBe('2025-03-04T05:06:07.000Z');
    expect(atom.generator).toBe('Tributary 0.1.0');
    // The home page is the last rel=alternate: newsboat takes the last one as the feed's site.
    expect(atom.linkEls?.map(attrs)).toEqual([
      { rel: 'alternate', type: 'application/rss+xml', href: 'https://river.example.com/feed.xml?tag=news&lang=en' },
      { rel: 'alternate', type: 'application/feed+json', href: 'https://river.example.com/feed.json?tag=news&lang=en' },
      { rel: 'alternate', href: 'https://river.example.com/' },
      { rel: 'self', href: 'https://river.example.com/feed.xml?tag=news&lang=en' },
    ]);
  });

  it.each(indexed)('$name: id, title (type=html), rel=alternate link', (c) => {
    const item = atom.items[c.index] as (typeof atom.items)[number] & { id?: string };
    expect(item.id).toBe(c.id);
    expect(decodeHtmlText(item.title ?? '')).toBe(c.title);
    const links = item.links ?? [];
    if (c.link === undefined) {
      expect(links).toEqual([]);
    } else {
      expect(links.map(attrs)).toEqual([{ rel: 'alternate', href: c.link }]);
    }
  });

  it.each(indexed)('$name: published and updated in RFC 3339 UTC, author, categories', (c) => {
    const item = atom.items[c.index];
    expect(item?.published).toMatch(RFC3339_UTC);
    expect(item?.updated).toMatch(RFC3339_UTC);
    expect(new Date(item?.published ?? '').getTime()).toBe(c.story.publishedAt.getTime());
    expect(new Date(item?.updated ?? '').getTime()).toBe(c.story.updatedAt.getTime());
    expect(item?.authors?.map((a) => a.name)).toEqual([[c.byline]]);
    expect((item?.categoryEls ?? []).map((e) => attrs(e).term)).toEqual(c.categories);
  });

  it.each(indexed)('$name: summary and content as type="html"', (c) => {
    const item = atom.items[c.index];
    const summary = item?.summaryEls?.[0];
    const content = item?.contentEls?.[0];
    if (c.summaryHtml === null) {
      expect(summary).toBeUndefined();
    } else {
      expect(attrs(summary).type).toBe('html');
      expect(text(summary)).toBe(c.summaryHtml);
    }
    if (c.contentHtml !== null) {
      expect(attrs(content).type).toBe('html');
      expect(text(content)).toBe(c.contentHtml);
    } else if (c.link === undefined) {
      // RFC 4287 §4.1.1: without an alternate link an entry must have content.
      expect(attrs(content).type).toBe('html');
      expect(text(content) ?? '').toBe(c.summaryHtml ?? '');
    } else {
      expect(content).toBeUndefined();
    }
  });

  it.each(indexed)('$name: <source> carries the original publisher (RFC 4287 §4.2.11)', (c) => {
    const sources = atom.items[c.index]?.sources ?? [];
    expect(sources).toHaveLength(1);
    const source = sources[0];
    expect(child(source, 'title').map(text)).toEqual([c.publisher]);
    // The W3C validator wants a source's id (MissingSourceElement): a tag URI when there is no address.
    expect(child(source, 'id').map(text)).toEqual([c.sourceId]);
    const links = child(source, 'link').map(attrs);
    const expectedLinks = [
      ...(c.sourceSelf === null ? [] : [{ rel: 'self', href: c.sourceSelf }]),
      ...(c.sourceAlternate === null ? [] : [{ rel: 'alternate', href: c.sourceAlternate }]),
    ];
    expect(links).toEqual(expectedLinks);
    expect(child(source, 'updated').map(text)).toEqual([c.story.updatedAt.toISOString()]);
  });

  it('hostile content containing </entry> inside CDATA does not confuse the <source> insertion', async () => {
    const tricky = story({
      id: 't1',
      title: 'Tricky',
      url: 'https://planet.example/tricky',
      summary: '<p>x</entry><entry><link href="https://evil.example/"/></p>',
      content: '<![CDATA[ </entry> ]]> <link href="https://evil.example/"/>',
    });
    const out = renderFeed('atom', river, [tricky, full]);
    const parsed = await parser.parseString(out);
    expect(parsed.items).toHaveLength(2);
    expect(text(parsed.items[0]?.summaryEls?.[0])).toBe('<p>x</entry><entry><link href="https://evil.example/"/></p>');
    expect(text(parsed.items[0]?.contentEls?.[0])).toBe('<![CDATA[ </entry> ]]&gt; <link href="https://evil.example/"/>');
    expect((parsed.items[0]?.links ?? []).map(attrs)).toEqual([{ rel: 'alternate', href: 'https://planet.example/tricky' }]);
    expect(parsed.items.map((i) => child(i.sources?.[0], 'title').map(text))).toEqual([['The Daily Planet'], ['The Daily Planet']]);
  });
});

describe('JSON Feed 1.1', () => {
  it('top level: version, title, description, home_page_url, feed_url', () => {
    expect(json.version).toBe('https://jsonfeed.org/version/1.1');
    expect(json.title).toBe('Morning River & Friends');
    expect(json.description).toBe('Everything <fit> to read');
    expect(json.home_page_url).toBe('https://river.example.com/');
    expect(json.feed_url).toBe('https://river.example.com/feed.xml?tag=news&lang=en');
  });

  it.each(indexed)('$name: id, url, title, content_html, summary', (c) => {
    const item = json.items[c.index];
    expect(item?.id).toBe(c.id);
    expect(item?.url).toBe(c.link);
    expect(item?.title).toBe(c.title);
    // JSON needs no CDATA protection: the stored HTML goes out unchanged. With no text at all,
    // an empty content_text (the spec wants one of content_html and content_text).
    const html = c.story.content ?? c.story.summary;
    expect(item?.content_html).toBe(html ?? undefined);
    expect(item?.content_text).toBe(html === null ? '' : undefined);
    expect(item?.summary).toBe(c.summaryText ?? undefined);
  });

  it.each(indexed)('$name: dates in RFC 3339 UTC, authors, tags, _tributary extension', (c) => {
    const item = json.items[c.index];
    expect(item?.date_published).toBe(c.story.publishedAt.toISOString());
    expect(item?.date_modified).toBe(c.story.updatedAt.toISOString());
    expect(item?.date_published).toMatch(RFC3339_UTC);
    expect(item?.authors).toEqual(c.authors);
    expect(item?.author).toEqual(c.authors[0]);
    expect(item?.tags).toEqual(c.categories.length === 0 ? undefined : c.categories);
    expect(item?._tributary).toEqual({
      publisher: c.publisher,
      publisher_url: c.story.publisher.url,
      publisher_feed: c.story.publisher.feedUrl,
      via: c.story.via,
      also_published_by: [],
    });
  });
});

describe('an empty river', () => {
  const empty: RiverMeta = { ...river, description: null, alternates: {}, updated: new Date(0) };

  it('rss: a channel with no items, description falls back to the title', async () => {
    const parsed = await parser.parseString(renderFeed('rss', empty, []));
    expect(parsed.items).toEqual([]);
    expect(parsed.description).toBe('Morning River & Friends');
    expect(parsed.lastBuildDate).toBe('Thu, 01 Jan 1970 00:00:00 GMT');
    expect(parsed.atomLinks?.map(attrs)).toEqual([
      { href: 'https://river.example.com/feed.xml?tag=news&lang=en', rel: 'self', type: 'application/rss+xml' },
    ]);
  });

  it('atom: a feed with no entries keeps its links and epoch updated', async () => {
    const xml = renderFeed('atom', empty, []);
    const parsed = await parser.parseString(xml);
    expect(parsed.items).toEqual([]);
    expect(parsed.updated).toBe('1970-01-01T00:00:00.000Z');
    expect(parsed.linkEls?.map((l) => attrs(l).rel)).toEqual(['alternate', 'self']);
    expect(xml).not.toContain('<subtitle');
  });

  it('json: items is an empty array', () => {
    const parsed = JSON.parse(renderFeed('json', empty, [])) as { items: unknown[]; description?: string };
    expect(parsed.items).toEqual([]);
    expect(parsed.description).toBeUndefined();
  });
});

describe('edge cases', () => {
  it.each([
    { name: 'rss', format: 'rss' },
    { name: 'atom', format: 'atom' },
    { name: 'json', format: 'json' },
  ] as const)('$name: a literal "&amp;" in text survives (xml-js would decode it once)', async ({ format }) => {
    const s = story({ id: 'amp', title: 'Write &amp; not &', url: 'https://planet.example/amp', author: 'R&amp;D' });
    const out = renderFeed(format, { ...river, title: 'AT&amp;T river' }, [s]);
    if (format === 'json') {
      const parsed = JSON.parse(out) as { title: string; items: { title: string; authors: { name: string }[] }[] };
      expect([parsed.title, parsed.items[0]?.title, parsed.items[0]?.authors[0]?.name]).toEqual(['AT&amp;T river', 'Write &amp; not &', 'R&amp;D']);
      return;
    }
    const parsed = await parser.parseString(out);
    const item = parsed.items[0];
    const title = format === 'atom' ? decodeHtmlText(item?.title ?? '') : item?.title;
    const byline = format === 'atom' ? item?.authors?.[0]?.name?.[0] : item?.creator;
    expect([parsed.title, title, byline]).toEqual(['AT&amp;T river', 'Write &amp; not &', 'R&amp;D']);
  });

  it.each([
    { name: 'rss', format: 'rss' },
    { name: 'atom', format: 'atom' },
    { name: 'json', format: 'json' },
  ] as const)('$name: an invalid date is a clear error naming the story and field', ({ format }) => {
    const bad = story({ id: 'broken-1', title: 'x', publishedAt: new Date('nope') });
    expect(() => renderFeed(format, river, [bad])).toThrow(/story broken-1: publishedAt is not a valid date/);
  });

  it('a blank author falls back to the publisher; empty categories are dropped', async () => {
    const s = story({ id: 'blank', title: 'Blank', url: 'https://planet.example/b', author: '  ', categories: ['', ' ', 'Real'] });
    const parsed = await parser.parseString(renderFeed('rss', river, [s]));
    expect(parsed.items[0]?.creator).toBe('The Daily Planet');
    expect(parsed.items[0]?.categories).toEqual(['Real']);
  });

  it('rss: xmlns:dc is declared for <dc:creator> even when no story has content:encoded', () => {
    // Policy summary: no story here carries content:encoded.
    const xml = renderFeed('rss', river, [{ ...noFeedUrl, contentPolicy: 'summary' }, linkless]);
    expect(xml).toContain('<dc:creator>');
    expect(xml).not.toContain('content:encoded');
    expect(undeclaredPrefixes(xml)).toEqual([]);
  });

  it('rendering is deterministic', () => {
    const formats: FeedFormat[] = ['rss', 'atom', 'json'];
    for (const f of formats) expect(renderFeed(f, river, stories)).toBe(renderFeed(f, river, stories));
  });
});

// ---------------------------------------------------------------------------------------------
// Content policy (feeds.yaml `content`) and "also published by" (story clusters)

const POLICY_SUMMARY = '<p>Short <em>summary</em>.</p>';
const POLICY_CONTENT = '<p>The whole <strong>story</strong>.</p>';

function policyStory(policy: ContentPolicy, overrides: Partial<Story> = {}): Story {
  return story({
    id: `policy-${policy}`,
    title: `Policy ${policy}`,
    url: `https://planet.example/policy/${policy}`,
    summary: POLICY_SUMMARY,
    content: POLICY_CONTENT,
    contentPolicy: policy,
    ...overrides,
  });
}

/** What each format must carry for one policy case, written out by hand. */
interface PolicyCase {
  readonly name: string;
  readonly story: Story;
  /** RSS <description> / Atom <summary> (HTML). */
  readonly summaryHtml: string | null;
  /** RSS <content:encoded> / Atom <content> (HTML). */
  readonly contentHtml: string | null;
  /** JSON Feed: which of content_html / content_text, with what. */
  readonly json: { content_html: string } | { content_text: string };
  readonly jsonSummary: string | undefined;
}

const policyCases: readonly PolicyCase[] = [
  {
    name: 'full: the full text as content, plus the summary',
    story: policyStory('full'),
    summaryHtml: POLICY_SUMMARY,
    contentHtml: POLICY_CONTENT,
    json: { content_html: POLICY_CONTENT },
    jsonSummary: 'Short summary.',
  },
  {
    name: 'full without full text: the summary is the content',
    story: policyStory('full', { id: 'policy-full-short', url: 'https://planet.example/policy/full-short', content: null }),
    summaryHtml: POLICY_SUMMARY,
    contentHtml: POLICY_SUMMARY,
    json: { content_html: POLICY_SUMMARY },
    jsonSummary: 'Short summary.',
  },
  {
    name: 'summary: the summary only, never the full text',
    story: policyStory('summary'),
    summaryHtml: POLICY_SUMMARY,
    contentHtml: null,
    json: { content_html: POLICY_SUMMARY },
    jsonSummary: 'Short summary.',
  },
  {
    name: 'none: no text at all',
    story: policyStory('none'),
    summaryHtml: null,
    contentHtml: null,
    json: { content_text: '' },
    jsonSummary: undefined,
  },
];

const policyIndexed = policyCases.map((c, index) => ({ ...c, index }));
const policyStories = policyCases.map((c) => c.story);
const policyRss = await parser.parseString(renderFeed('rss', river, policyStories));
const policyAtom = await parser.parseString(renderFeed('atom', river, policyStories));
const policyJson = JSON.parse(renderFeed('json', river, policyStories)) as { items: Record<string, unknown>[] };

/** JSON Feed 1.1 "Items": content_html and content_text are optional strings, but one must be present. */
function hasJsonFeedContent(item: Record<string, unknown>): boolean {
  return typeof item.content_html === 'string' || typeof item.content_text === 'string';
}

describe('content policy', () => {
  it.each(policyIndexed)('rss, $name', (c) => {
    const item = policyRss.items[c.index];
    // rss-parser reports <description> as `content`.
    expect(item?.content).toBe(c.summaryHtml ?? undefined);
    expect(item?.['content:encoded']).toBe(c.contentHtml ?? undefined);
    // Whatever the policy: the title, and the link to the canonical URL at the publisher.
    expect(item?.title).toBe(c.story.title);
    expect(item?.link).toBe(c.story.url);
  });

  it.each(policyIndexed)('atom, $name', (c) => {
    const item = policyAtom.items[c.index];
    const summary = item?.summaryEls?.[0];
    const content = item?.contentEls?.[0];
    if (c.summaryHtml === null) expect(summary).toBeUndefined();
    else expect([attrs(summary).type, text(summary)]).toEqual(['html', c.summaryHtml]);
    if (c.contentHtml === null) expect(content).toBeUndefined();
    else expect([attrs(content).type, text(content)]).toEqual(['html', c.contentHtml]);
    expect((item?.links ?? []).map(attrs)).toEqual([{ rel: 'alternate', href: c.story.url }]);
  });

  it.each(policyIndexed)('json, $name', (c) => {
    const item = policyJson.items[c.index] as Record<string, unknown>;
    expect(hasJsonFeedContent(item)).toBe(true);
    expect({ content_html: item.content_html, content_text: item.content_text }).toEqual({
      content_html: undefined,
      content_text: undefined,
      ...c.json,
    });
    expect(item.summary).toBe(c.jsonSummary);
    expect(item.url).toBe(c.story.url);
  });

  it.each([
    { name: 'summary', policy: 'summary' as const, content: POLICY_SUMMARY },
    { name: 'none', policy: 'none' as const, content: '' },
  ])('atom: a link-less entry under $name still has the <content> RFC 4287 §4.1.1 requires', async ({ policy, content }) => {
    const s = policyStory(policy, { id: `linkless-${policy}`, url: null });
    const parsed = await parser.parseString(renderFeed('atom', river, [s]));
    const item = parsed.items[0];
    expect(item?.links ?? []).toEqual([]);
    expect(attrs(item?.contentEls?.[0]).type).toBe('html');
    expect(text(item?.contentEls?.[0]) ?? '').toBe(content);
  });

  it('none: the raw XML carries neither text, whatever the format', () => {
    const s = policyStory('none', { summary: '<p>SECRET-SUMMARY</p>', content: '<p>SECRET-CONTENT</p>' });
    for (const format of ['rss', 'atom', 'json'] as const) {
      const out = renderFeed(format, river, [s]);
      expect(out).not.toContain('SECRET');
      expect(out).toContain('https://planet.example/policy/none');
    }
  });
});

const wirePublisher = (name: string, host: string, sourceId: string | null = null): Publisher => ({
  name,
  url: `https://${host}/`,
  sourceId,
  feedUrl: `https://${host}/feed`,
});

const gazette: AlsoPublished = {
  storyId: 'm2',
  url: 'https://gazette.example/wire/storm',
  publisher: wirePublisher('The Gazette', 'gazette.example', 'gazette'),
  publishedAt: new Date('2025-03-02T09:00:00Z'),
};
const hostileMember: AlsoPublished = {
  storyId: 'm3',
  url: 'https://smith.example/a?x=1&y="<2>"',
  publisher: { name: 'Smith & Sons <Press> "Daily"', url: 'https://smith.example/', sourceId: null, feedUrl: null },
  publishedAt: new Date('2025-03-02T09:30:00Z'),
};
const linklessMember: AlsoPublished = {
  storyId: 'm4',
  url: null,
  publisher: { name: 'Radio Notice', url: null, sourceId: null, feedUrl: null },
  publishedAt: new Date('2025-03-02T10:00:00Z'),
};

function clustered(policy: ContentPolicy, overrides: Partial<Story> = {}): Story {
  return story({
    id: `storm-${policy}`,
    title: `Storm hits the coast (${policy})`,
    url: `https://planet.example/storm-${policy}`,
    summary: '<p>Winds.</p>',
    content: '<p>Winds and rain.</p>',
    contentPolicy: policy,
    clusterId: `storm-${policy}`,
    alsoPublishedBy: [gazette, hostileMember, linklessMember],
    ...overrides,
  });
}

const ALSO_LINE =
  '<p>Also published by: <a href="https://gazette.example/wire/storm">The Gazette</a>, ' +
  '<a href="https://smith.example/a?x=1&amp;y=%22%3C2%3E%22">Smith &amp; Sons &lt;Press&gt; "Daily"</a>, Radio Notice</p>';

describe('also published by', () => {
  it('json: _tributary.also_published_by names each other publisher, earliest first', () => {
    const out = JSON.parse(renderFeed('json', river, [clustered('full')])) as { items: { _tributary: Record<string, unknown> }[] };
    expect(out.items[0]?._tributary.also_published_by).toEqual([
      { name: 'The Gazette', url: 'https://gazette.example/wire/storm', publisher_url: 'https://gazette.example/' },
      { name: 'Smith & Sons <Press> "Daily"', url: 'https://smith.example/a?x=1&y=%22%3C2%3E%22', publisher_url: 'https://smith.example/' },
      { name: 'Radio Notice', url: null, publisher_url: null },
    ]);
  });

  it('atom: one rel=related link per other member with a URL, titled with its publisher', async () => {
    const xml = renderFeed('atom', river, [clustered('full'), noFeedUrl]);
    expect(undeclaredPrefixes(xml)).toEqual([]);
    const parsed = await parser.parseString(xml);
    expect((parsed.items[0]?.links ?? []).map(attrs)).toEqual([
      { rel: 'alternate', href: 'https://planet.example/storm-full' },
      { rel: 'related', href: 'https://gazette.example/wire/storm', title: 'The Gazette' },
      { rel: 'related', href: 'https://smith.example/a?x=1&y=%22%3C2%3E%22', title: 'Smith & Sons <Press> "Daily"' },
    ]);
    // A story alone has its alternate link only.
    expect((parsed.items[1]?.links ?? []).map(attrs)).toEqual([{ rel: 'alternate', href: 'https://blog.example/post/1' }]);
    // The <source> is still the entry's own publisher.
    expect(child(parsed.items[0]?.sources?.[0], 'title').map(text)).toEqual(['The Daily Planet']);
  });

  it('atom: a link-less entry keeps its related links', async () => {
    const parsed = await parser.parseString(renderFeed('atom', river, [clustered('summary', { url: null })]));
    expect((parsed.items[0]?.links ?? []).map(attrs)).toEqual([
      { rel: 'related', href: 'https://gazette.example/wire/storm', title: 'The Gazette' },
      { rel: 'related', href: 'https://smith.example/a?x=1&y=%22%3C2%3E%22', title: 'Smith & Sons <Press> "Daily"' },
    ]);
  });

  it.each([
    {
      name: 'full: appended to the description and to content:encoded',
      story: clustered('full'),
      description: `<p>Winds.</p>${ALSO_LINE}`,
      content: `<p>Winds and rain.</p>${ALSO_LINE}`,
    },
    { name: 'summary: appended to the description', story: clustered('summary'), description: `<p>Winds.</p>${ALSO_LINE}`, content: undefined },
    { name: 'summary without a summary: the line is the description', story: clustered('summary', { summary: null }), description: ALSO_LINE, content: undefined },
    { name: 'none: no text, so no line either', story: clustered('none'), description: undefined, content: undefined },
    { name: 'a story alone: nothing appended', story: { ...clustered('full'), alsoPublishedBy: [] }, description: '<p>Winds.</p>', content: '<p>Winds and rain.</p>' },
  ])('rss: an "Also published by" line, $name', async ({ story: s, description, content }) => {
    const xml = renderFeed('rss', river, [s]);
    expect(undeclaredPrefixes(xml)).toEqual([]);
    const parsed = await parser.parseString(xml);
    const item = parsed.items[0];
    expect(item?.content).toBe(description);
    expect(item?.['content:encoded']).toBe(content);
    // Nothing else: no extra <source> or <category> for the other publishers.
    expect(item?.sources?.map(text)).toEqual(['The Daily Planet']);
    expect(item?.categories ?? []).toEqual([]);
  });

  it('rendering with clusters stays deterministic', () => {
    const all = [clustered('full'), clustered('summary'), clustered('none')];
    for (const f of ['rss', 'atom', 'json'] as const) expect(renderFeed(f, river, all)).toBe(renderFeed(f, river, all));
  });
});

describe('text helpers', () => {
  it.each([
    { name: 'C0 controls removed, tab and newline kept', input: 'a\u0000b\u0007c\td\ne\u001F', out: 'abc\td\ne' },
    { name: 'CRLF and CR become LF', input: 'a\r\nb\rc', out: 'a\nb\nc' },
    { name: 'U+FFFE and U+FFFF removed', input: 'a\uFFFEb\uFFFF', out: 'ab' },
    { name: 'lone surrogates replaced, pairs kept', input: 'x\uD800y😀\uDC00', out: 'x\uFFFDy😀\uFFFD' },
  ])('cleanText: $name', ({ input, out }) => {
    expect(cleanText(input)).toBe(out);
  });

  it.each([
    { name: 'canonical URL unchanged', input: 'https://a.example/p?q=1&r=2#f', out: 'https://a.example/p?q=1&r=2#f' },
    { name: 'quotes and angle brackets encoded', input: 'https://a.example/"<x>"', out: 'https://a.example/%22%3Cx%3E%22' },
    { name: 'inner space and controls encoded, outer trimmed', input: ' https://a.example/a b\t ', out: 'https://a.example/a%20b' },
  ])('safeUrl: $name', ({ input, out }) => {
    expect(safeUrl(input)).toBe(out);
  });

  it.each([
    { name: 'block elements separate words', html: '<p>One</p><p>Two</p>', out: 'One Two' },
    { name: 'inline elements do not', html: 'foo<b>bar</b>', out: 'foobar' },
    { name: 'entities decoded', html: 'a &amp; b &lt;c&gt; &quot;d&quot; &#8212;', out: 'a & b <c> "d" —' },
    { name: 'script bodies dropped', html: 'x<script>alert(1)</script>y', out: 'xy' },
    { name: 'whitespace collapsed', html: '  a \n\n b  ', out: 'a b' },
  ])('htmlToPlainText: $name', ({ html, out }) => {
    expect(htmlToPlainText(html)).toBe(out);
  });
});

// ---------------------------------------------------------------------------------------------
// An independent reading of the XML: a small tree builder over the tokens the renderers emit
// (elements, attributes in double quotes, text, CDATA), enough to check structure and order.

interface XmlEl {
  readonly name: string;
  readonly attrs: Record<string, string>;
  readonly children: XmlEl[];
  /** Text and CDATA directly inside the element, decoded. */
  text: string;
}

const TOKEN =
  /<!\[CDATA\[([\s\S]*?)\]\]>|<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*"[^"]*")*)\s*(\/?)>|([^<]+)/gy;

function decodeXml(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);/g, (_, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    return { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }[ref] as string;
  });
}

function xmlTree(xml: string): XmlEl {
  const root: XmlEl = { name: '#document', attrs: {}, children: [], text: '' };
  const stack: XmlEl[] = [root];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(xml); m !== null && m[0] !== ''; m = TOKEN.exec(xml)) {
    const top = stack[stack.length - 1] as XmlEl;
    const [, cdata, close, name, attrText, selfClose, chars] = m;
    if (cdata !== undefined) top.text += cdata;
    else if (chars !== undefined) top.text += decodeXml(chars);
    else if (name !== undefined && close === '/') {
      if (top.name !== name) throw new Error(`xmlTree: </${name}> closes <${top.name}>`);
      stack.pop();
    } else if (name !== undefined) {
      const attrs: Record<string, string> = {};
      for (const a of (attrText ?? '').matchAll(/([\w:.-]+)\s*=\s*"([^"]*)"/g)) attrs[a[1] as string] = decodeXml(a[2] as string);
      const el: XmlEl = { name, attrs, children: [], text: '' };
      top.children.push(el);
      if (selfClose !== '/') stack.push(el);
    }
  }
  if (TOKEN.lastIndex !== 0 && TOKEN.lastIndex !== xml.length) throw new Error(`xmlTree: unreadable XML at ${TOKEN.lastIndex}`);
  if (stack.length !== 1) throw new Error(`xmlTree: <${stack[stack.length - 1]?.name}> not closed`);
  const [documentElement] = root.children;
  if (!documentElement || root.children.length !== 1) throw new Error('xmlTree: not exactly one root element');
  return documentElement;
}

const kids = (el: XmlEl | undefined, name: string): XmlEl[] => el?.children.filter((c) => c.name === name) ?? [];
const kid = (el: XmlEl | undefined, name: string): XmlEl | undefined => kids(el, name)[0];

// ---------------------------------------------------------------------------------------------
// The W3C Feed Validation Service's rules (feedvalidator: rss.py, channel.py, item.py, feed.py,
// entry.py, link.py, media.py, validators.py) for every element and attribute we emit. Each entry
// names the validator's message class; all are errors there unless marked (warning), and we avoid
// the warnings too where we can. Plus JSON Feed 1.1 (jsonfeed.org/version/1.1), which has no
// validator service: its MUSTs, checked the same way.

// validators.py: rfc2396_full, tag_re, mime_re, rfc2822_re, rfc3339, addr_spec.
const RFC2396_FULL = /^[a-zA-Z][0-9a-zA-Z+\-.]*:(\/\/)?[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,#]+$/;
const TAG_URI = /^tag:([a-z0-9\-._]+?@)?[a-z0-9.-]+?,\d{4}(-\d{2}(-\d{2})?)?:[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,]*(#[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,]*)?$/;
const MIME_RE = /^[^\s()<>,;:\\"/[\]?=]+\/[^\s()<>,;:\\"/[\]?=]+(\s*;\s*[^\s()<>,;:\\"/[\]?=]+=("(\\"|[^"])*"|[^\s()<>,;:\\"/[\]?=]+))*$/;
const RFC2822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d? (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d(:\d\d)? (GMT|[+-]\d\d[03]0)$/;
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*)?(Z|[+-]\d\d:\d\d)$/;
const ADDR_SPEC = /^[A-Z0-9_\-+.']+@(([0-9]{1,3}\.){3}|([A-Z0-9-]+\.)+)[A-Z0-9][-A-Z0-9]*$/i;
const HTTP_URL = /^https?:\/\/(([0-9]{1,3}\.){3}|([A-Z0-9-]+\.)+)[A-Z0-9][-A-Z0-9]*(:\d+)?(\/|$)/i;
const ATOM_RELS = new Set(['alternate', 'current', 'describedby', 'edit', 'edit-media', 'enclosure', 'first', 'hub', 'last', 'license', 'next', 'next-archive', 'payment', 'prev-archive', 'previous', 'related', 'replies', 'search', 'self', 'service', 'up', 'via']);
const RFC5005_RELS = new Set(['current', 'first', 'last', 'next', 'next-archive', 'prev-archive', 'previous']);
const MEDIA_MEDIUMS = new Set(['image', 'audio', 'video', 'document', 'executable']);
const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function isUri(value: string): boolean {
  return value.toLowerCase().startsWith('tag:') ? TAG_URI.test(value) : RFC2396_FULL.test(value);
}

function rfc2822Problem(value: string): string | null {
  if (!RFC2822.test(value)) return 'InvalidRFC2822Date';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return 'InvalidRFC2822Date';
  return DAY_NAMES[date.getUTCDay()] === value.slice(0, 3) ? null : 'IncorrectDOW';
}

function w3cRssViolations(rss: XmlEl): string[] {
  const v: string[] = [];
  if (rss.name !== 'rss' || rss.attrs.version !== '2.0') v.push('InvalidRSSVersion');
  const channels = kids(rss, 'channel');
  if (channels.length !== 1) v.push('channel: exactly one');
  const channel = channels[0];
  for (const required of ['title', 'link', 'description']) if (kids(channel, required).length === 0) v.push(`channel: MissingElement ${required}`);
  for (const single of ['title', 'link', 'description', 'lastBuildDate', 'pubDate', 'ttl', 'docs', 'generator', 'language', 'image']) {
    if (kids(channel, single).length > 1) v.push(`channel: DuplicateElement ${single}`);
  }
  const firstItem = channel?.children.findIndex((c) => c.name === 'item') ?? -1;
  if (firstItem !== -1 && channel?.children.slice(firstItem).some((c) => c.name !== 'item')) v.push('channel: MisplacedItem (warning)');
  for (const date of ['lastBuildDate', 'pubDate']) {
    const value = kid(channel, date)?.text;
    const problem = value === undefined ? null : rfc2822Problem(value);
    if (problem) v.push(`channel ${date}: ${problem}`);
  }
  const ttl = kid(channel, 'ttl')?.text;
  if (ttl !== undefined && !(/^\d+$/.test(ttl) && Number(ttl) > 0)) v.push('channel ttl: InvalidPositiveInteger');
  if (!RFC2396_FULL.test(kid(channel, 'link')?.text ?? '')) v.push('channel link: InvalidFullLink');
  const atomLinks = kids(channel, 'atom:link');
  const self = atomLinks.find((l) => l.attrs.rel === 'self');
  if (!self) v.push('channel: MissingAtomSelfLink (warning)');
  else if (!['application/atom+xml', 'application/rss+xml', 'application/rdf+xml'].includes(self.attrs.type ?? 'application/rss+xml')) v.push('SelfNotAtom (warning)');
  v.push(...atomLinkViolations(atomLinks, 'channel'));

  const guids = new Set<string>();
  kids(channel, 'item').forEach((item, i) => {
    const at = `item ${i}`;
    if (!kid(item, 'title') && !kid(item, 'description')) v.push(`${at}: ItemMustContainTitleOrDescription`);
    for (const single of ['title', 'link', 'description', 'content:encoded', 'pubDate', 'guid', 'source', 'author', 'comments']) {
      if (kids(item, single).length > 1) v.push(`${at}: DuplicateElement ${single}`);
    }
    if (kids(item, 'enclosure').length > 1) v.push(`${at}: DuplicateEnclosure (warning)`);
    if (kid(item, 'title')?.text === '') v.push(`${at}: NotBlank title (warning)`);
    const link = kid(item, 'link');
    if (link && !RFC2396_FULL.test(link.text)) v.push(`${at} link: InvalidFullLink`);
    const guid = kid(item, 'guid');
    if (!guid) v.push(`${at}: MissingGuid (warning)`);
    else {
      const isPermaLink = guid.attrs.isPermaLink;
      if (isPermaLink !== undefined && isPermaLink !== 'true' && isPermaLink !== 'false') v.push(`${at} guid: InvalidBooleanAttribute`);
      if (isPermaLink !== 'false') {
        if (!RFC2396_FULL.test(guid.text)) v.push(`${at} guid: InvalidHttpGUID`);
        if (/^(tag:|urn:uuid:)/i.test(guid.text)) v.push(`${at} guid: InvalidPermalink`);
      }
      if (guids.has(guid.text)) v.push(`${at} guid: DuplicateValue`);
      guids.add(guid.text);
    }
    const pubDate = kid(item, 'pubDate')?.text;
    const dateProblem = pubDate === undefined ? null : rfc2822Problem(pubDate);
    if (dateProblem) v.push(`${at} pubDate: ${dateProblem}`);
    const author = kid(item, 'author')?.text;
    if (author !== undefined) {
      const m = /^(\S+) \((.+)\)$/.exec(author);
      if (!m || !ADDR_SPEC.test(m[1] as string)) v.push(`${at} author: InvalidContact / EmailFormat`);
      if (kid(item, 'dc:creator')) v.push(`${at}: DuplicateItemSemantics author + dc:creator (warning)`);
    }
    const children = item.children.map((c) => c.name);
    if (children.includes('content:encoded') && children.indexOf('description') === -1) v.push(`${at}: NeedDescriptionBeforeContent (warning)`);
    for (const source of kids(item, 'source')) if (!RFC2396_FULL.test(source.attrs.url ?? '')) v.push(`${at} source: url MissingAttribute/InvalidFullLink`);
    for (const category of kids(item, 'category')) if (category.text.trim() === '') v.push(`${at} category: NotBlank (warning)`);
    for (const enclosure of kids(item, 'enclosure')) {
      const { url, length, type } = enclosure.attrs;
      if (url === undefined || !HTTP_URL.test(url) || !RFC2396_FULL.test(url)) v.push(`${at} enclosure: url InvalidURLAttribute`);
      if (length === undefined || !/^\d+$/.test(length)) v.push(`${at} enclosure: length MissingAttribute/InvalidIntegerAttribute`);
      if (type === undefined || !MIME_RE.test(type)) v.push(`${at} enclosure: type MissingAttribute/InvalidMIMEAttribute`);
    }
    v.push(...mediaViolations(item, at));
    v.push(...atomLinkViolations(kids(item, 'atom:link'), 'item'));
  });
  return v;
}

function mediaViolations(parent: XmlEl, at: string): string[] {
  const v: string[] = [];
  for (const content of kids(parent, 'media:content')) {
    const { url, fileSize, medium, type } = content.attrs;
    if (url !== undefined && !RFC2396_FULL.test(url)) v.push(`${at} media:content: url InvalidFullLink`);
    if (fileSize !== undefined && !(/^\d+$/.test(fileSize) && Number(fileSize) > 0)) v.push(`${at} media:content: fileSize InvalidPositiveInteger`);
    if (medium !== undefined && !MEDIA_MEDIUMS.has(medium)) v.push(`${at} media:content: InvalidMediaMedium`);
    if (type !== undefined && !MIME_RE.test(type)) v.push(`${at} media:content: InvalidMIMEAttribute`);
  }
  for (const thumbnail of kids(parent, 'media:thumbnail')) {
    if (thumbnail.attrs.url === undefined) v.push(`${at} media:thumbnail: url MissingAttribute`);
    else if (!RFC2396_FULL.test(thumbnail.attrs.url)) v.push(`${at} media:thumbnail: url InvalidFullLink`);
  }
  return v;
}

/** link.py, for Atom <link> and RSS <atom:link>; `where` is the parent's kind. */
function atomLinkViolations(links: readonly XmlEl[], where: 'feed' | 'entry' | 'source' | 'channel' | 'item'): string[] {
  const v: string[] = [];
  const alternates = new Set<string>();
  for (const link of links) {
    const rel = link.attrs.rel ?? 'alternate';
    if (link.attrs.href === undefined) v.push(`${where} link: MissingHref`);
    else if (!isUri(link.attrs.href)) v.push(`${where} link rel=${rel}: InvalidIRI`);
    if (!ATOM_RELS.has(rel)) v.push(`${where} link: UnregisteredAtomLinkRel ${rel} (warning)`);
    if (RFC5005_RELS.has(rel) && (where === 'entry' || where === 'item')) v.push(`${where} link: FeedHistoryRelInEntry ${rel} (warning)`);
    if (link.attrs.type !== undefined && !MIME_RE.test(link.attrs.type)) v.push(`${where} link: InvalidMIMEType`);
    if (link.attrs.length !== undefined && !/^\d+$/.test(link.attrs.length)) v.push(`${where} link: length InvalidNonNegativeInteger`);
    if (link.attrs.title === '') v.push(`${where} link: AttrNotBlank title (warning)`);
    if (link.text.trim() !== '') v.push(`${where} link: AtomLinkNotEmpty (warning)`);
    if (rel === 'alternate') {
      // feed.py / entry.py: one alternate per (type, hreflang).
      const key = `${link.attrs.type ?? ''} ${link.attrs.hreflang ?? ''}`;
      if (alternates.has(key)) v.push(`${where}: DuplicateAtomLink alternate ${key}`);
      alternates.add(key);
    }
  }
  return v;
}

function w3cAtomViolations(feed: XmlEl): string[] {
  const v: string[] = [];
  if (feed.name !== 'feed' || feed.attrs.xmlns !== 'http://www.w3.org/2005/Atom') v.push('feed: not an Atom 1.0 feed element');
  const firstEntry = feed.children.findIndex((c) => c.name === 'entry');
  if (firstEntry !== -1 && feed.children.slice(firstEntry).some((c) => c.name !== 'entry')) v.push('feed: MisplacedMetadata');
  v.push(...atomMetadataViolations(feed, 'feed'));
  if (!kids(feed, 'link').some((l) => l.attrs.rel === 'self')) v.push('feed: MissingSelf (warning)');
  v.push(...atomLinkViolations(kids(feed, 'link'), 'feed'));
  const feedHasAuthor = kids(feed, 'author').length > 0;
  // RFC 4287 §4.1.1 (feed.py for an empty feed): a feed without an author needs one in every entry.
  if (!feedHasAuthor && firstEntry === -1) v.push('feed: MissingElement author (no entries to carry one)');
  const ids = new Set<string>();
  kids(feed, 'entry').forEach((entry, i) => {
    const at = `entry ${i}`;
    v.push(...atomMetadataViolations(entry, at));
    if (!feedHasAuthor && kids(entry, 'author').length === 0) v.push(`${at}: MissingElement author`);
    for (const single of ['content', 'summary', 'published', 'source', 'rights']) if (kids(entry, single).length > 1) v.push(`${at}: DuplicateElement ${single}`);
    const id = kid(entry, 'id')?.text ?? '';
    if (ids.has(id)) v.push(`${at}: DuplicateEntries (warning)`);
    ids.add(id);
    const published = kid(entry, 'published')?.text;
    if (published !== undefined && !RFC3339.test(published)) v.push(`${at} published: InvalidRFC3339Date`);
    const links = kids(entry, 'link');
    const content = kid(entry, 'content');
    if (!content && !links.some((l) => (l.attrs.rel ?? 'alternate') === 'alternate')) v.push(`${at}: MissingContentOrAlternate`);
    v.push(...atomLinkViolations(links, 'entry'));
    for (const construct of [kid(entry, 'title'), kid(entry, 'summary'), content]) {
      const type = construct?.attrs.type;
      if (construct && type !== undefined && !['text', 'html', 'xhtml'].includes(type)) v.push(`${at} ${construct.name}: InvalidTextType`);
    }
    for (const author of kids(entry, 'author')) {
      if ((kid(author, 'name')?.text ?? '').trim() === '') v.push(`${at} author: MissingElement name`);
      const email = kid(author, 'email')?.text;
      if (email !== undefined && !ADDR_SPEC.test(email)) v.push(`${at} author email: InvalidAddrSpec`);
    }
    for (const category of kids(entry, 'category')) if (!category.attrs.term) v.push(`${at} category: MissingAttribute term`);
    v.push(...mediaViolations(entry, at));
    for (const source of kids(entry, 'source')) {
      // entry.py: a source is feed metadata, missing parts are MissingSourceElement (warning).
      for (const required of ['id', 'title', 'updated']) if (kids(source, required).length !== 1) v.push(`${at} source: MissingSourceElement ${required} (warning)`);
      const sourceId = kid(source, 'id')?.text;
      if (sourceId !== undefined && !isUri(sourceId)) v.push(`${at} source id: InvalidFullLink`);
      const sourceUpdated = kid(source, 'updated')?.text;
      if (sourceUpdated !== undefined && !RFC3339.test(sourceUpdated)) v.push(`${at} source updated: InvalidRFC3339Date`);
      v.push(...atomLinkViolations(kids(source, 'link'), 'source'));
    }
  });
  return v;
}

/** id, title and updated, each exactly once, valid. */
function atomMetadataViolations(el: XmlEl, at: string): string[] {
  const v: string[] = [];
  for (const required of ['id', 'title', 'updated']) {
    const n = kids(el, required).length;
    if (n === 0) v.push(`${at}: MissingElement ${required}`);
    if (n > 1) v.push(`${at}: DuplicateElement ${required}`);
  }
  const id = kid(el, 'id')?.text;
  if (id !== undefined && (id !== id.trim() || !isUri(id))) v.push(`${at} id: InvalidFullLink / UnexpectedWhitespace`);
  const updated = kid(el, 'updated')?.text;
  if (updated !== undefined && !RFC3339.test(updated)) v.push(`${at} updated: InvalidRFC3339Date`);
  return v;
}

const JSON_FEED_TOP = new Set(['version', 'title', 'home_page_url', 'feed_url', 'description', 'user_comment', 'next_url', 'icon', 'favicon', 'authors', 'author', 'language', 'expired', 'hubs', 'items']);
const JSON_FEED_ITEM = new Set(['id', 'url', 'external_url', 'title', 'content_html', 'content_text', 'summary', 'image', 'banner_image', 'date_published', 'date_modified', 'authors', 'author', 'tags', 'language', 'attachments']);

/** JSON Feed 1.1's requirements, field by field. */
function jsonFeedViolations(doc: Record<string, unknown>): string[] {
  const v: string[] = [];
  const str = (o: Record<string, unknown>, key: string, at: string, required = false): void => {
    if (o[key] === undefined ? required : typeof o[key] !== 'string') v.push(`${at}.${key}: ${required ? 'required ' : ''}string`);
  };
  const unknownKeys = (o: Record<string, unknown>, known: Set<string>, at: string): void => {
    // Extensions: "names must start with an _ character followed by a letter".
    for (const key of Object.keys(o)) if (!known.has(key) && !/^_[A-Za-z]/.test(key)) v.push(`${at}: unknown key ${key}`);
  };
  const authors = (o: Record<string, unknown>, at: string): void => {
    if (o.authors === undefined) return;
    if (!Array.isArray(o.authors)) return void v.push(`${at}.authors: array`);
    for (const a of o.authors as Record<string, unknown>[]) {
      if (!['name', 'url', 'avatar'].some((k) => typeof a[k] === 'string')) v.push(`${at}.authors: an author needs a name, url or avatar`);
    }
  };
  if (doc.version !== 'https://jsonfeed.org/version/1.1') v.push('version');
  str(doc, 'title', 'feed', true);
  for (const key of ['home_page_url', 'feed_url', 'description', 'next_url', 'icon', 'favicon', 'language']) str(doc, key, 'feed');
  unknownKeys(doc, JSON_FEED_TOP, 'feed');
  authors(doc, 'feed');
  if (doc.hubs !== undefined) {
    if (!Array.isArray(doc.hubs)) v.push('feed.hubs: array');
    else for (const hub of doc.hubs as Record<string, unknown>[]) if (typeof hub.type !== 'string' || typeof hub.url !== 'string') v.push('feed.hubs: type and url');
  }
  if (!Array.isArray(doc.items)) return [...v, 'feed.items: required array'];
  const ids = new Set<string>();
  (doc.items as Record<string, unknown>[]).forEach((item, i) => {
    const at = `items[${i}]`;
    unknownKeys(item, JSON_FEED_ITEM, at);
    if (typeof item.id !== 'string' || item.id === '') v.push(`${at}.id: required non-empty string`);
    else if (ids.has(item.id)) v.push(`${at}.id: unique`);
    else ids.add(item.id);
    if (typeof item.content_html !== 'string' && typeof item.content_text !== 'string') v.push(`${at}: content_html or content_text`);
    for (const key of ['url', 'external_url', 'title', 'content_html', 'content_text', 'summary', 'image', 'banner_image', 'language']) str(item, key, at);
    for (const key of ['date_published', 'date_modified']) if (item[key] !== undefined && !RFC3339.test(String(item[key]))) v.push(`${at}.${key}: RFC 3339`);
    authors(item, at);
    if (item.tags !== undefined && !(Array.isArray(item.tags) && item.tags.every((t) => typeof t === 'string'))) v.push(`${at}.tags: strings`);
    if (item.attachments !== undefined) {
      if (!Array.isArray(item.attachments)) v.push(`${at}.attachments: array`);
      else {
        for (const a of item.attachments as Record<string, unknown>[]) {
          if (typeof a.url !== 'string' || typeof a.mime_type !== 'string') v.push(`${at}.attachments: url and mime_type required`);
          if (a.size_in_bytes !== undefined && typeof a.size_in_bytes !== 'number') v.push(`${at}.attachments: size_in_bytes number`);
        }
      }
    }
  });
  return v;
}

function violations(format: FeedFormat, out: string): string[] {
  if (format === 'json') return jsonFeedViolations(JSON.parse(out) as Record<string, unknown>);
  const declared = undeclaredPrefixes(out).map((p) => `UndeclaredPrefix ${p}`);
  return [...declared, ...(format === 'rss' ? w3cRssViolations(xmlTree(out)) : w3cAtomViolations(xmlTree(out)))];
}

// ---------------------------------------------------------------------------------------------
// Enclosures, images, attribution, river links, footers

const mp3: Enclosure = { url: 'https://cdn.planet.example/audio/council.mp3', type: 'audio/mpeg', length: 4_812_345 };
const video: Enclosure = { url: 'https://cdn.planet.example/video/park.mp4', type: null, length: null };
const pdf: Enclosure = { url: 'https://cdn.planet.example/docs/plan.pdf?v=2&x=1', type: 'application/pdf', length: 0 };
const mystery: Enclosure = { url: 'https://cdn.planet.example/blob', type: 'not a type', length: -3 };
const IMAGE = 'https://cdn.planet.example/img/park.jpg?w=1200&h=800';

const withMedia = story({
  id: 'media-1',
  title: 'Park plans, with audio',
  url: 'https://planet.example/news/park-audio',
  author: 'Lois Lane <lois@example.com>',
  publishedAt: new Date('2025-03-03T08:00:00Z'),
  updatedAt: new Date('2025-03-03T09:00:00Z'),
  summary: '<p>Listen.</p>',
  content: '<p>The full story.</p>',
  categories: ['Parks'],
  enclosures: [mp3, video, pdf, mystery, { url: 'javascript:alert(1)', type: 'audio/mpeg', length: 1 }],
  image: IMAGE,
});

const mediaRiver: RiverMeta = {
  ...river,
  links: {
    next: 'https://river.example.com/feed.xml?tag=news&before=abc',
    prevArchive: 'https://river.example.com/archive/2025-03.xml',
    current: 'https://river.example.com/feed.xml',
    hub: 'https://hub.example/',
  },
  ttlMinutes: 14.2,
  footer: true,
};

const contentOnly = story({
  id: 'content-only',
  title: 'Full text, no summary',
  url: 'https://planet.example/news/content-only',
  summary: null,
  content: `<p>${'Word '.repeat(120).trim()}.</p><p>Second paragraph.</p>`,
});

const mediaStories = [withMedia, full, linkless, noAddress, clustered('full'), policyStory('summary'), policyStory('none'), contentOnly];
const mediaRss = renderFeed('rss', mediaRiver, mediaStories);
const mediaAtom = renderFeed('atom', mediaRiver, mediaStories);
const mediaJson = JSON.parse(renderFeed('json', mediaRiver, mediaStories)) as {
  next_url?: string;
  hubs?: unknown;
  items: Record<string, unknown>[];
};

describe('enclosures and the story image', () => {
  it('rss: the first enclosure as <enclosure>, every one as media:content, the image as media:thumbnail', () => {
    const item = kids(kid(xmlTree(mediaRss), 'channel'), 'item')[0];
    // RSS 2.0 allows one <enclosure>; its length is required, 0 meaning unknown.
    expect(kids(item, 'enclosure').map((e) => e.attrs)).toEqual([
      { url: 'https://cdn.planet.example/audio/council.mp3', length: '4812345', type: 'audio/mpeg' },
    ]);
    expect(kids(item, 'media:content').map((e) => e.attrs)).toEqual([
      { url: 'https://cdn.planet.example/audio/council.mp3', type: 'audio/mpeg', fileSize: '4812345', medium: 'audio' },
      // No type given: guessed from the file name. Unknown size: no fileSize (it must be positive).
      { url: 'https://cdn.planet.example/video/park.mp4', type: 'video/mp4', medium: 'video' },
      { url: 'https://cdn.planet.example/docs/plan.pdf?v=2&x=1', type: 'application/pdf' },
      { url: 'https://cdn.planet.example/blob', type: 'application/octet-stream' },
    ]);
    expect(kids(item, 'media:thumbnail').map((e) => e.attrs)).toEqual([{ url: IMAGE }]);
    expect(mediaRss).toMatch(/<rss [^>]*xmlns:media="http:\/\/search\.yahoo\.com\/mrss\/"/);
  });

  it('rss: an unknown length is written as 0, as RSS 2.0 asks', () => {
    const out = renderFeed('rss', river, [story({ id: 'v', title: 'V', url: 'https://planet.example/v', enclosures: [video] })]);
    expect(kids(kids(kid(xmlTree(out), 'channel'), 'item')[0], 'enclosure').map((e) => e.attrs)).toEqual([
      { url: 'https://cdn.planet.example/video/park.mp4', length: '0', type: 'video/mp4' },
    ]);
  });

  it('atom: one rel="enclosure" link per enclosure (length when known) and a media:thumbnail', () => {
    const entry = kids(xmlTree(mediaAtom), 'entry')[0];
    expect(kids(entry, 'link').map((l) => l.attrs)).toEqual([
      { rel: 'alternate', href: 'https://planet.example/news/park-audio' },
      { rel: 'enclosure', href: 'https://cdn.planet.example/audio/council.mp3', type: 'audio/mpeg', length: '4812345' },
      { rel: 'enclosure', href: 'https://cdn.planet.example/video/park.mp4', type: 'video/mp4' },
      { rel: 'enclosure', href: 'https://cdn.planet.example/docs/plan.pdf?v=2&x=1', type: 'application/pdf' },
      { rel: 'enclosure', href: 'https://cdn.planet.example/blob', type: 'application/octet-stream' },
    ]);
    expect(kids(entry, 'media:thumbnail').map((e) => e.attrs)).toEqual([{ url: IMAGE }]);
    expect(mediaAtom).toMatch(/<feed xmlns="http:\/\/www\.w3\.org\/2005\/Atom"[^>]* xmlns:media="http:\/\/search\.yahoo\.com\/mrss\/"[^>]*>/);
  });

  it('json: attachments (mime_type always, size_in_bytes when known) and image', () => {
    const item = mediaJson.items[0];
    expect(item?.attachments).toEqual([
      { url: 'https://cdn.planet.example/audio/council.mp3', mime_type: 'audio/mpeg', size_in_bytes: 4812345 },
      { url: 'https://cdn.planet.example/video/park.mp4', mime_type: 'video/mp4' },
      { url: 'https://cdn.planet.example/docs/plan.pdf?v=2&x=1', mime_type: 'application/pdf' },
      { url: 'https://cdn.planet.example/blob', mime_type: 'application/octet-stream' },
    ]);
    expect(item?.image).toBe(IMAGE);
  });

  it.each([
    { name: 'rss', format: 'rss' },
    { name: 'atom', format: 'atom' },
    { name: 'json', format: 'json' },
  ] as const)('$name: a story without media has none of it, and no media namespace is declared', ({ format }) => {
    const out = renderFeed(format, river, [full]);
    expect(out).not.toMatch(/enclosure|media:|attachments|"image"/);
  });

  it.each([
    { name: 'a javascript: image', image: 'javascript:alert(1)' },
    { name: 'a relative image', image: '/img/x.png' },
    { name: 'a data: image', image: 'data:image/png;base64,AAAA' },
  ])('$name is not republished', ({ image }) => {
    const s = story({ id: 'bad-img', title: 'Bad', url: 'https://planet.example/bad', image });
    for (const format of ['rss', 'atom', 'json'] as const) expect(renderFeed(format, river, [s])).not.toMatch(/thumbnail|"image"|javascript:|data:image/);
  });
});

describe('attribution with an author e-mail address', () => {
  it.each([
    { name: 'RSS form', author: 'jane@example.com (Jane Doe)', expected: { name: 'Jane Doe', email: 'jane@example.com' } },
    { name: 'RFC 5322 form', author: 'Jane Doe <jane@example.com>', expected: { name: 'Jane Doe', email: 'jane@example.com' } },
    { name: 'quoted RFC 5322 name', author: '"Doe, Jane" <jane@example.com>', expected: { name: 'Doe, Jane', email: 'jane@example.com' } },
    { name: 'a bare address stays a name', author: 'jane@example.com', expected: { name: 'jane@example.com', email: null } },
    { name: 'an address the validator would reject', author: 'Jane <jane@localhost>', expected: { name: 'Jane <jane@localhost>', email: null } },
    { name: 'parentheses without an address', author: 'Jane (Rome)', expected: { name: 'Jane (Rome)', email: null } },
    { name: 'a plain name', author: 'Jane Doe', expected: { name: 'Jane Doe', email: null } },
    { name: 'none', author: null, expected: { name: null, email: null } },
  ])('splitAuthor: $name', ({ author, expected }) => {
    expect(splitAuthor(author)).toEqual(expected);
  });

  it('rss: <author> "email (Name)" instead of dc:creator; dc:creator for everyone else', () => {
    const items = kids(kid(xmlTree(mediaRss), 'channel'), 'item');
    expect(kids(items[0], 'author').map((a) => a.text)).toEqual(['lois@example.com (Lois Lane)']);
    expect(kids(items[0], 'dc:creator')).toEqual([]);
    expect(kids(items[1], 'author')).toEqual([]);
    expect(kids(items[1], 'dc:creator').map((a) => a.text)).toEqual(['Lois Lane']);
    // No address: the publisher's name as dc:creator, never an <author> without an address.
    expect(kids(items[2], 'dc:creator').map((a) => a.text)).toEqual(['The Daily Planet']);
  });

  it('atom: the name as <name>, the address as <email>', () => {
    const authors = kids(kids(xmlTree(mediaAtom), 'entry')[0], 'author');
    expect(authors.map((a) => [kid(a, 'name')?.text, kid(a, 'email')?.text])).toEqual([['Lois Lane', 'lois@example.com']]);
  });

  it('json: the name only, the publisher second', () => {
    expect(mediaJson.items[0]?.authors).toEqual([{ name: 'Lois Lane' }, { name: 'The Daily Planet', url: 'https://planet.example/' }]);
  });

  it('json: _tributary has exactly publisher, publisher_url, publisher_feed, via, also_published_by', () => {
    for (const item of mediaJson.items) {
      expect(Object.keys(item._tributary as object)).toEqual(['publisher', 'publisher_url', 'publisher_feed', 'via', 'also_published_by']);
    }
    expect(mediaJson.items[4]?._tributary).toEqual({
      publisher: 'The Daily Planet',
      publisher_url: 'https://planet.example/',
      publisher_feed: 'https://planet.example/rss?format=full&v=2',
      via: ['planet'],
      also_published_by: [
        { name: 'The Gazette', url: 'https://gazette.example/wire/storm', publisher_url: 'https://gazette.example/' },
        { name: 'Smith & Sons <Press> "Daily"', url: 'https://smith.example/a?x=1&y=%22%3C2%3E%22', publisher_url: 'https://smith.example/' },
        { name: 'Radio Notice', url: null, publisher_url: null },
      ],
    });
  });
});

describe('river links (RFC 5005 paging, WebSub) and ttl', () => {
  const expectedLinks = [
    { rel: 'next', href: 'https://river.example.com/feed.xml?tag=news&before=abc' },
    { rel: 'prev-archive', href: 'https://river.example.com/archive/2025-03.xml' },
    { rel: 'current', href: 'https://river.example.com/feed.xml' },
    { rel: 'hub', href: 'https://hub.example/' },
  ];

  it('atom: rel=next, prev-archive, current and hub links after rel=self, before any entry', () => {
    const feed = xmlTree(mediaAtom);
    const links = feed.children.filter((c) => c.name === 'link').map((l) => l.attrs);
    expect(links.slice(4)).toEqual(expectedLinks);
    const lastLink = feed.children.findLastIndex((c) => c.name === 'link');
    expect(lastLink).toBeLessThan(feed.children.findIndex((c) => c.name === 'entry'));
  });

  it('rss: the same as <atom:link rel=…>, and <ttl> in whole minutes, before any item', () => {
    const channel = kid(xmlTree(mediaRss), 'channel');
    expect(kids(channel, 'atom:link').map((l) => l.attrs).slice(3)).toEqual(expectedLinks);
    expect(kids(channel, 'ttl').map((t) => t.text)).toEqual(['15']);
    const names = channel?.children.map((c) => c.name) ?? [];
    expect(names.lastIndexOf('atom:link')).toBeLessThan(names.indexOf('item'));
    expect(names.indexOf('ttl')).toBeLessThan(names.indexOf('item'));
  });

  it('json: next_url and hubs', () => {
    expect(mediaJson.next_url).toBe('https://river.example.com/feed.xml?tag=news&before=abc');
    expect(mediaJson.hubs).toEqual([{ type: 'WebSub', url: 'https://hub.example/' }]);
  });

  it.each([
    { name: 'rss', format: 'rss' },
    { name: 'atom', format: 'atom' },
    { name: 'json', format: 'json' },
  ] as const)('$name: without links or ttl there are none', ({ format }) => {
    const out = renderFeed(format, river, [full]);
    expect(out).not.toMatch(/rel="(next|prev-archive|current|hub)"|<ttl>|next_url|hubs/);
  });

  it.each([
    { name: 'a negative ttl', ttlMinutes: -1 },
    { name: 'NaN', ttlMinutes: Number.NaN },
    { name: 'Infinity', ttlMinutes: Number.POSITIVE_INFINITY },
  ])('$name is a clear error', ({ ttlMinutes }) => {
    expect(() => renderFeed('rss', { ...river, ttlMinutes }, [])).toThrow(/river\.ttlMinutes must be a non-negative number of minutes/);
  });

  it('a ttl of 0 becomes 1 (RSS <ttl> must be positive)', () => {
    expect(renderFeed('rss', { ...river, ttlMinutes: 0 }, [])).toContain('<ttl>1</ttl>');
  });
});

const FOOTER = '<p>Originally published by <a href="https://planet.example/">The Daily Planet</a></p>';

describe('the "Originally published by" footer', () => {
  it('rss: the last paragraph of content:encoded (after "also published by"), not of the description', () => {
    const items = kids(kid(xmlTree(mediaRss), 'channel'), 'item');
    expect(kid(items[0], 'content:encoded')?.text).toBe(`<p>The full story.</p>${FOOTER}`);
    expect(kid(items[0], 'description')?.text).toBe('<p>Listen.</p>');
    expect(kid(items[4], 'content:encoded')?.text).toBe(`<p>Winds and rain.</p>${ALSO_LINE}${FOOTER}`);
  });

  it('atom and json: the last paragraph of the content', () => {
    expect(kid(kids(xmlTree(mediaAtom), 'entry')[0], 'content')?.text).toBe(`<p>The full story.</p>${FOOTER}`);
    expect(mediaJson.items[0]?.content_html).toBe(`<p>The full story.</p>${FOOTER}`);
  });

  it.each([
    { name: 'summary', index: 5 },
    { name: 'none', index: 6 },
  ])('not under content policy $name', ({ index }) => {
    expect(mediaRss.split('<item>')[index + 1]).not.toContain('Originally published by');
    expect(mediaAtom.split('<entry>')[index + 1]).not.toContain('Originally published by');
    expect(JSON.stringify(mediaJson.items[index])).not.toContain('Originally published by');
  });

  it('not for a story with no text at all', () => {
    // linkless (index 2) and noAddress (index 3) have neither summary nor content.
    expect(kid(kids(kid(xmlTree(mediaRss), 'channel'), 'item')[3], 'content:encoded')).toBeUndefined();
    expect(mediaJson.items[3]?.content_text).toBe('');
  });

  it.each([
    { name: 'footer off', meta: { ...river, footer: false } },
    { name: 'footer not given', meta: river },
  ])('none with $name', ({ meta }) => {
    for (const format of ['rss', 'atom', 'json'] as const) expect(renderFeed(format, meta, [full])).not.toContain('Originally published by');
  });

  it.each([
    {
      name: 'a hostile publisher name is escaped',
      publisher: { name: 'Smith & Sons <Press>', url: 'https://smith.example/?a=1&b="2"', sourceId: null, feedUrl: null },
      footer: '<p>Originally published by <a href="https://smith.example/?a=1&amp;b=%222%22">Smith &amp; Sons &lt;Press&gt;</a></p>',
    },
    {
      name: 'without a publisher site it links to the story',
      publisher: { name: 'Wire', url: null, sourceId: null, feedUrl: null },
      footer: '<p>Originally published by <a href="https://planet.example/news/river-park?id=7&amp;ref=home">Wire</a></p>',
    },
  ])('$name', ({ publisher, footer }) => {
    const s = { ...full, publisher };
    const out = JSON.parse(renderFeed('json', { ...river, footer: true }, [s])) as { items: { content_html: string }[] };
    expect(out.items[0]?.content_html).toBe(`<p>Full text of the story.</p>${footer}`);
  });
});

// ---------------------------------------------------------------------------------------------
// The W3C rules, over every output, and one test per rule the renderers used to break

const rivers = [
  { name: 'the sample river (hostile input included)', meta: river, stories },
  { name: 'media, links, ttl and footers', meta: mediaRiver, stories: mediaStories },
  { name: 'content policies', meta: river, stories: policyStories },
  { name: 'clusters', meta: river, stories: [clustered('full'), clustered('summary'), clustered('none'), clustered('summary', { url: null })] },
  { name: 'an empty river', meta: { ...river, description: null, alternates: {}, updated: new Date(0) }, stories: [] },
];

describe('the W3C Feed Validation Service rules and JSON Feed 1.1', () => {
  it.each(rivers.flatMap((r) => (['rss', 'atom', 'json'] as const).map((format) => ({ ...r, format, label: `${format}: ${r.name}` }))))(
    '$label: no violation',
    ({ format, meta, stories: list }) => {
      expect(violations(format, renderFeed(format, meta, list))).toEqual([]);
    },
  );

  it.each([
    { name: 'a pipe and braces in the query', url: 'https://planet.example/s?a=1|2&b={x}', out: 'https://planet.example/s?a=1%7C2&b=%7Bx%7D' },
    { name: 'brackets, caret and backtick in the path', url: 'https://planet.example/[a]^b`c', out: 'https://planet.example/%5Ba%5D%5Eb%60c' },
    { name: 'non-ASCII in the path', url: 'https://planet.example/café', out: 'https://planet.example/caf%C3%A9' },
    { name: 'a bare percent sign', url: 'https://planet.example/100%/x%2F', out: 'https://planet.example/100%25/x%2F' },
    { name: 'a backslash', url: 'https://planet.example/a\\b', out: 'https://planet.example/a%5Cb' },
    { name: 'an IPv6 host keeps its brackets', url: 'http://[2001:db8::1]:8080/a[b]', out: 'http://[2001:db8::1]:8080/a%5Bb%5D' },
  ])('links, guids and ids are RFC 3986 URIs (InvalidFullLink): $name', ({ url, out }) => {
    expect(safeUrl(url)).toBe(out);
    const s = story({ id: 'u', title: 'U', url });
    const item = kids(kid(xmlTree(renderFeed('rss', river, [s])), 'channel'), 'item')[0];
    expect([kid(item, 'link')?.text, kid(item, 'guid')?.text]).toEqual([out, out]);
    const entry = kids(xmlTree(renderFeed('atom', river, [s])), 'entry')[0];
    expect(kid(entry, 'id')?.text).toBe(out);
    if (!url.includes('[2001')) expect(RFC2396_FULL.test(out)).toBe(true);
  });

  it('rss: never <author> and <dc:creator> on one item (DuplicateItemSemantics), never <author> without an address (InvalidContact)', () => {
    for (const item of kids(kid(xmlTree(mediaRss), 'channel'), 'item')) {
      expect(kids(item, 'author').length + kids(item, 'dc:creator').length).toBe(1);
      for (const author of kids(item, 'author')) expect(author.text).toMatch(/^\S+@\S+ \(.+\)$/);
    }
  });

  it('rss: at most one <enclosure> per item, always with url, length and type (DuplicateEnclosure, MissingAttribute)', () => {
    const enclosures = kids(kid(xmlTree(mediaRss), 'channel'), 'item').map((item) => kids(item, 'enclosure').map((e) => Object.keys(e.attrs).sort()));
    expect(enclosures[0]).toEqual([['length', 'type', 'url']]);
    expect(enclosures.every((list) => list.length <= 1)).toBe(true);
  });

  it('atom: the feed has no <author>, so every entry has one (RFC 4287 §4.1.1)', () => {
    const feed = xmlTree(mediaAtom);
    expect(kids(feed, 'author')).toEqual([]);
    expect(kids(feed, 'entry').map((e) => kids(e, 'author').length)).toEqual(mediaStories.map(() => 1));
  });

  it('atom: every <source> has an id, a title and updated (MissingSourceElement)', () => {
    const sources = kids(xmlTree(mediaAtom), 'entry').map((e) => kid(e, 'source'));
    for (const source of sources) expect(['id', 'title', 'updated'].map((n) => kids(source, n).length)).toEqual([1, 1, 1]);
  });

  it('rss: channel metadata stays before the first item (MisplacedItem); atom: feed metadata before the first entry (MisplacedMetadata)', () => {
    const channel = kid(xmlTree(mediaRss), 'channel');
    const names = channel?.children.map((c) => c.name) ?? [];
    expect(names.slice(names.indexOf('item')).every((n) => n === 'item')).toBe(true);
    const feedNames = xmlTree(mediaAtom).children.map((c) => c.name);
    expect(feedNames.slice(feedNames.indexOf('entry')).every((n) => n === 'entry')).toBe(true);
  });

  it.each([
    {
      name: 'a long text is cut at a word',
      story: contentOnly,
      description: `${'Word '.repeat(80).trim()}…`,
    },
    {
      name: 'a short text is all of it',
      story: story({ id: 'c2', title: 'T', url: 'https://planet.example/c2', content: '<p>Only <b>this</b> &amp; that.</p>' }),
      description: 'Only this &amp; that.',
    },
    {
      name: 'a text of only an image falls back to the title',
      story: story({ id: 'c3', title: 'Pictures & words', url: 'https://planet.example/c3', content: '<p><img src="https://planet.example/i.png" alt=""></p>' }),
      description: 'Pictures &amp; words',
    },
  ])('rss: full text without a summary gets an excerpt as its description (NeedDescriptionBeforeContent): $name', ({ story: s, description }) => {
    const item = kids(kid(xmlTree(renderFeed('rss', river, [s])), 'channel'), 'item')[0];
    expect(item?.children.map((c) => c.name).filter((n) => n === 'description' || n === 'content:encoded')).toEqual(['description', 'content:encoded']);
    expect(kid(item, 'description')?.text).toBe(description);
    expect(kid(item, 'content:encoded')?.text).toBe(s.content);
  });

  it('the checker itself catches what it is meant to', () => {
    const bad = mediaRss
      .replace('<dc:creator>Lois Lane</dc:creator>', '<dc:creator>Lois Lane</dc:creator><author>Lois Lane</author>')
      .replace(/(<enclosure [^>]*\/>)/, '$1$1')
      .replace('</channel>', '<ttl>5</ttl></channel>');
    expect(violations('rss', bad)).toEqual([
      'channel: DuplicateElement ttl',
      'channel: MisplacedItem (warning)',
      'item 0: DuplicateEnclosure (warning)',
      'item 1 author: InvalidContact / EmailFormat',
      'item 1: DuplicateItemSemantics author + dc:creator (warning)',
    ]);
    const badAtom = mediaAtom.replace('<id>https://planet.example/rss?format=full&amp;v=2</id>', '').replace('</feed>', '<link rel="hub" href="https://x.example/"/></feed>');
    expect(violations('atom', badAtom)).toEqual(['feed: MisplacedMetadata', 'entry 0 source: MissingSourceElement id (warning)']);
    expect(jsonFeedViolations({ version: 'https://jsonfeed.org/version/1.1', title: 'T', items: [{ id: 'a', attachments: [{ url: 'u' }] }] })).toEqual([
      'items[0]: content_html or content_text',
      'items[0].attachments: url and mime_type required',
    ]);
  });
});

describe('an empty Atom feed', () => {
  it('names the river as its author (RFC 4287 §4.1.1 read strictly; feedvalidator once required it)', () => {
    const feed = xmlTree(renderFeed('atom', { ...river, alternates: {} }, []));
    expect(kids(feed, 'author').map((a) => kid(a, 'name')?.text)).toEqual(['Morning River & Friends']);
  });
});

// ---------------------------------------------------------------------------------------------
// Round trips: every field that matters, read back by rss-parser and by Python's feedparser.

const roundTripStories = [withMedia, full, linkless, noFeedUrl, noAddress];

/** What a reader must get back for each story, written out by hand. */
const roundTripExpected = [
  {
    title: 'Park plans, with audio',
    link: 'https://planet.example/news/park-audio',
    id: 'https://planet.example/news/park-audio',
    author: 'Lois Lane',
    email: 'lois@example.com',
    publisher: 'The Daily Planet',
    publisherFeed: 'https://planet.example/rss?format=full&v=2',
    publisherSite: 'https://planet.example/',
    published: '2025-03-03T08:00:00.000Z',
    updated: '2025-03-03T09:00:00.000Z',
    categories: ['Parks'],
    enclosures: [
      ['https://cdn.planet.example/audio/council.mp3', 'audio/mpeg', '4812345'],
      ['https://cdn.planet.example/video/park.mp4', 'video/mp4', null],
      ['https://cdn.planet.example/docs/plan.pdf?v=2&x=1', 'application/pdf', null],
      ['https://cdn.planet.example/blob', 'application/octet-stream', null],
    ],
    image: IMAGE,
  },
  {
    title: 'Council approves river park',
    link: 'https://planet.example/news/river-park?id=7&ref=home',
    id: 'https://planet.example/news/river-park?id=7&ref=home',
    author: 'Lois Lane',
    email: null,
    publisher: 'The Daily Planet',
    publisherFeed: 'https://planet.example/rss?format=full&v=2',
    publisherSite: 'https://planet.example/',
    published: '2025-03-02T08:30:00.000Z',
    updated: '2025-03-02T09:45:00.000Z',
    categories: ['Local', 'Parks & Recreation'],
    enclosures: [],
    image: null,
  },
  {
    title: 'Notice without a link',
    link: null,
    id: 'tag:tributary,2025:guid-9f8e',
    author: 'The Daily Planet',
    email: null,
    publisher: 'The Daily Planet',
    publisherFeed: 'https://planet.example/rss?format=full&v=2',
    publisherSite: 'https://planet.example/',
    published: '2025-03-01T10:00:00.000Z',
    updated: '2025-03-01T10:00:00.000Z',
    categories: [],
    enclosures: [],
    image: null,
  },
  {
    title: 'Publisher without a feed URL',
    link: 'https://blog.example/post/1',
    id: 'https://blog.example/post/1',
    author: 'Blogger',
    email: null,
    publisher: 'A Blog',
    publisherFeed: null,
    publisherSite: 'https://blog.example/',
    published: '2025-03-01T10:00:00.000Z',
    updated: '2025-03-01T10:00:00.000Z',
    categories: [],
    enclosures: [],
    image: null,
  },
  {
    title: 'Publisher known only by name',
    link: 'https://nowhere.example/item',
    id: 'https://nowhere.example/item',
    author: 'Anonymous Wire',
    email: null,
    publisher: 'Anonymous Wire',
    publisherFeed: null,
    publisherSite: null,
    published: '2025-03-01T10:00:00.000Z',
    updated: '2025-03-01T10:00:00.000Z',
    categories: [],
    enclosures: [],
    image: null,
  },
] as const;

const roundTripIndexed = roundTripExpected.map((e, index) => ({ ...e, index, name: e.title }));
const roundTripRss = renderFeed('rss', mediaRiver, roundTripStories);
const roundTripAtom = renderFeed('atom', mediaRiver, roundTripStories);

interface RoundTripItem {
  /** RSS <author> (rss-parser copies it; its Item type does not say so). */
  author?: string;
  mediaContents?: XmlNode[];
  thumbnails?: XmlNode[];
  sources?: XmlNode[];
  links?: XmlNode[];
  categoryEls?: XmlNode[];
  authorEls?: XmlNode[];
  published?: string;
  updated?: string;
  id?: string;
}

const roundTripParser = new Parser<Record<string, unknown>, RoundTripItem>({
  customFields: {
    item: [
      ['media:content', 'mediaContents', { keepArray: true }],
      ['media:thumbnail', 'thumbnails', { keepArray: true }],
      ['source', 'sources', { keepArray: true }],
      ['link', 'links', { keepArray: true }],
      ['category', 'categoryEls', { keepArray: true }],
      ['author', 'authorEls', { keepArray: true }],
      'published',
      'updated',
    ],
  },
});

describe('round trip through rss-parser', async () => {
  const rssItems = (await roundTripParser.parseString(roundTripRss)).items;
  const atomItems = (await roundTripParser.parseString(roundTripAtom)).items;

  it.each(roundTripIndexed)('rss: $name', (e) => {
    const item = rssItems[e.index];
    const firstEnclosure = e.enclosures[0];
    expect({
      title: item?.title,
      link: item?.link ?? null,
      guid: item?.guid,
      author: e.email === null ? item?.creator : item?.author,
      source: (item?.sources ?? []).map((s) => [text(s), attrs(s).url]),
      published: new Date(item?.pubDate ?? '').toISOString(),
      categories: item?.categories ?? [],
      enclosure: item?.enclosure ?? null,
      media: (item?.mediaContents ?? []).map((m) => attrs(m).url),
      image: (item?.thumbnails ?? []).map((t) => attrs(t).url),
    }).toEqual({
      title: e.title,
      link: e.link,
      guid: e.id,
      author: e.email === null ? e.author : `${e.email} (${e.author})`,
      source: e.publisherFeed ?? e.publisherSite ? [[e.publisher, e.publisherFeed ?? e.publisherSite]] : [],
      published: e.published,
      categories: e.categories,
      enclosure: firstEnclosure ? { url: firstEnclosure[0], type: firstEnclosure[1], length: firstEnclosure[2] ?? '0' } : null,
      media: e.enclosures.map(([url]) => url),
      image: e.image === null ? [] : [e.image],
    });
  });

  it.each(roundTripIndexed)('atom: $name', (e) => {
    const item = atomItems[e.index];
    const links = (item?.links ?? []).map(attrs);
    const source = item?.sources?.[0];
    expect({
      title: decodeHtmlText(item?.title ?? ''),
      link: links.find((l) => l.rel === 'alternate')?.href ?? null,
      id: item?.id,
      author: item?.author,
      email: text(child(item?.authorEls?.[0], 'email')[0]) ?? null,
      source: {
        title: child(source, 'title').map(text),
        links: child(source, 'link').map((l) => [attrs(l).rel, attrs(l).href]),
      },
      published: item?.published,
      updated: item?.updated,
      categories: (item?.categoryEls ?? []).map((c) => attrs(c).term),
      enclosures: links.filter((l) => l.rel === 'enclosure').map((l) => [l.href, l.type, l.length ?? null]),
      image: (item?.thumbnails ?? []).map((t) => attrs(t).url),
    }).toEqual({
      title: e.title,
      link: e.link,
      id: e.id,
      author: e.author,
      email: e.email,
      source: {
        title: [e.publisher],
        links: [...(e.publisherFeed ? [['self', e.publisherFeed]] : []), ...(e.publisherSite ? [['alternate', e.publisherSite]] : [])],
      },
      published: e.published,
      updated: e.updated,
      categories: e.categories,
      enclosures: e.enclosures,
      image: e.image === null ? [] : [e.image],
    });
  });
});

// Debian's python3-feedparser (installed by .ci/run). feedparser 6.0 reads RSS and Atom (not JSON
// Feed): an independent implementation, and the one many readers and planets are built on.
const PYTHON = '/usr/bin/python3';
const FEEDPARSER_SCRIPT = String.raw`
import calendar, json, sys
import feedparser
out = []
for doc in json.load(sys.stdin):
    d = feedparser.parse(doc.encode('utf-8'))
    entries = []
    for e in d.entries:
        src = e.get('source') or {}
        detail = e.get('author_detail') or {}
        entries.append({
            'title': e.get('title'), 'link': e.get('link'), 'id': e.get('id'),
            'author': detail.get('name', e.get('author')), 'email': detail.get('email'),
            'source': {'title': src.get('title'), 'href': src.get('href'), 'id': src.get('id'),
                       'links': [[l.get('rel'), l.get('href')] for l in src.get('links', [])]},
            'published': calendar.timegm(e.published_parsed) if e.get('published_parsed') else None,
            'updated': calendar.timegm(e.updated_parsed) if e.get('updated_parsed') else None,
            'tags': [t.get('term') for t in e.get('tags', [])],
            'enclosures': [[x.get('href'), x.get('type'), x.get('length')] for x in e.get('enclosures', [])],
            'thumbnails': [t.get('url') for t in e.get('media_thumbnail', [])],
            'media': [m.get('url') for m in e.get('media_content', [])],
        })
    out.append({'version': d.get('version'), 'bozo': bool(d.get('bozo')), 'error': str(d.get('bozo_exception', '')),
                'link': d.feed.get('link'), 'links': [[l.get('rel'), l.get('href')] for l in d.feed.get('links', [])],
                'entries': entries})
print(json.dumps(out))
`;

interface FeedparserEntry {
  title: string | null;
  link: string | null;
  id: string | null;
  author: string | null;
  email: string | null;
  source: { title: string | null; href: string | null; id: string | null; links: [string, string][] };
  published: number | null;
  updated: number | null;
  tags: string[];
  enclosures: [string, string | null, string | null][];
  thumbnails: string[];
  media: string[];
}

interface FeedparserResult {
  version: string;
  bozo: boolean;
  error: string;
  /** The feed's site. */
  link: string | null;
  links: [string, string][];
  entries: FeedparserEntry[];
}

function feedparserAvailable(): boolean {
  if (!existsSync(PYTHON)) return false;
  return spawnSync(PYTHON, ['-c', 'import feedparser'], { encoding: 'utf8' }).status === 0;
}

const hasFeedparser = feedparserAvailable();
if (!hasFeedparser) {
  console.warn(`render-feed.test.ts: ${PYTHON} with feedparser not found (apt-get install -y python3-feedparser); skipping the feedparser round trips`);
}

function feedparse(docs: readonly string[]): FeedparserResult[] {
  const run = spawnSync(PYTHON, ['-c', FEEDPARSER_SCRIPT], { input: JSON.stringify(docs), encoding: 'utf8', timeout: 20_000 });
  if (run.status !== 0) throw new Error(`feedparser failed: ${run.stderr || run.error?.message}`);
  return JSON.parse(run.stdout) as FeedparserResult[];
}

describe.skipIf(!hasFeedparser)('round trip through Python feedparser', () => {
  const [rssResult, atomResult] = hasFeedparser ? feedparse([roundTripRss, roundTripAtom]) : [];
  const seconds = (iso: string): number => Date.parse(iso) / 1000;

  it.each([
    { name: 'rss', result: () => rssResult, version: 'rss20' },
    { name: 'atom', result: () => atomResult, version: 'atom10' },
  ])('$name: recognised, well-formed, every entry, the river home page and links', ({ result, version }) => {
    const r = result();
    expect({ version: r?.version, bozo: r?.bozo, error: r?.error, entries: r?.entries.length }).toEqual({ version, bozo: false, error: '', entries: 5 });
    expect(r?.link).toBe('https://river.example.com/');
    expect(r?.links.filter(([rel]) => ['self', 'next', 'prev-archive', 'current', 'hub'].includes(rel))).toEqual([
      ['self', 'https://river.example.com/feed.xml?tag=news&lang=en'],
      ['next', 'https://river.example.com/feed.xml?tag=news&before=abc'],
      ['prev-archive', 'https://river.example.com/archive/2025-03.xml'],
      ['current', 'https://river.example.com/feed.xml'],
      ['hub', 'https://hub.example/'],
    ]);
  });

  it('every sample river, hostile input included, is well-formed to feedparser (expat) in RSS and Atom', () => {
    const docs = rivers.flatMap((r) => [renderFeed('rss', r.meta, r.stories), renderFeed('atom', r.meta, r.stories)]);
    const results = feedparse(docs);
    expect(results.map((r) => [r.version, r.bozo, r.error])).toEqual(docs.map((_, i) => [i % 2 === 0 ? 'rss20' : 'atom10', false, '']));
    expect(results.map((r) => r.entries.length)).toEqual(rivers.flatMap((r) => [r.stories.length, r.stories.length]));
  });

  it.each(roundTripIndexed)('rss: $name', (e) => {
    const entry = rssResult?.entries[e.index];
    expect({
      title: entry?.title,
      link: entry?.link ?? null,
      id: entry?.id,
      author: entry?.author,
      email: entry?.email ?? null,
      source: [entry?.source.title ?? null, entry?.source.href ?? null],
      published: entry?.published,
      tags: entry?.tags,
      enclosures: entry?.enclosures,
      media: entry?.media,
      thumbnails: entry?.thumbnails,
    }).toEqual({
      title: e.title,
      link: e.link,
      id: e.id,
      author: e.author,
      email: e.email,
      source: e.publisherFeed ?? e.publisherSite ? [e.publisher, e.publisherFeed ?? e.publisherSite] : [null, null],
      published: seconds(e.published),
      tags: e.categories,
      // RSS carries the first enclosure (length 0 when unknown), Media RSS all of them.
      enclosures: e.enclosures.slice(0, 1).map(([url, type, length]) => [url, type, length ?? '0']),
      media: e.enclosures.map(([url]) => url),
      thumbnails: e.image === null ? [] : [e.image],
    });
  });

  it.each(roundTripIndexed)('atom: $name', (e) => {
    const entry = atomResult?.entries[e.index];
    expect({
      title: entry?.title === null || entry?.title === undefined ? null : decodeHtmlText(entry.title),
      link: entry?.link ?? null,
      id: entry?.id,
      author: entry?.author,
      email: entry?.email ?? null,
      source: [entry?.source.title, entry?.source.id, entry?.source.links],
      published: entry?.published,
      updated: entry?.updated,
      tags: entry?.tags,
      enclosures: entry?.enclosures,
      thumbnails: entry?.thumbnails,
    }).toEqual({
      title: e.title,
      // feedparser gives an entry without a link its id as the link (its "guidislink" fallback).
      link: e.link ?? e.id,
      id: e.id,
      author: e.author,
      email: e.email,
      source: [
        e.publisher,
        e.publisherFeed ?? e.publisherSite ?? 'tag:tributary,2025:publisher:Anonymous%20Wire',
        [...(e.publisherFeed ? [['self', e.publisherFeed]] : []), ...(e.publisherSite ? [['alternate', e.publisherSite]] : [])],
      ],
      published: seconds(e.published),
      updated: seconds(e.updated),
      tags: e.categories,
      enclosures: e.enclosures,
      thumbnails: e.image === null ? [] : [e.image],
    });
  });
});

describe('RFC 5005 archive documents', () => {
  // §4: an archive document MUST be marked with fh:archive; the subscription document is not.
  const archive: RiverMeta = { ...river, links: { current: 'https://river.example/feed.atom', prevArchive: 'https://river.example/feed.atom?archive=2026-11-01' } };
  it.each([
    { name: 'atom archive', format: 'atom' as const, meta: archive, marked: true },
    { name: 'rss archive', format: 'rss' as const, meta: archive, marked: true },
    { name: 'atom subscription document', format: 'atom' as const, meta: { ...river, links: { prevArchive: 'https://river.example/a' } }, marked: false },
    { name: 'rss subscription document', format: 'rss' as const, meta: { ...river, links: { prevArchive: 'https://river.example/a' } }, marked: false },
  ])('$name', async ({ format, meta, marked }) => {
    const xml = renderFeed(format, meta, []);
    expect(xml.includes('<fh:archive/>')).toBe(marked);
    expect(xml.includes('xmlns:fh="http://purl.org/syndication/history/1.0"')).toBe(marked);
    // Still well-formed XML for an independent parser.
    await new Parser().parseString(xml);
  });
});
