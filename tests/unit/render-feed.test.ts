import Parser from 'rss-parser';
import { describe, expect, it } from 'vitest';
import type { AlsoPublished, ContentPolicy, Publisher, Story } from '../../src/domain.js';
import { FEED_CONTENT_TYPES, renderFeed, type FeedFormat, type RiverMeta } from '../../src/http/render-feed.js';
import { cleanText, htmlToPlainText, safeUrl } from '../../src/http/render-text.js';

// Every output is read back with an independent parser: rss-parser (xml2js/sax, strict mode) for
// RSS and Atom, JSON.parse for JSON Feed. Expected values are written out literally per case, not
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
  /** RSS <source url>, Atom source id. */
  readonly sourceUrl: string | null;
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
    expect(atom.linkEls?.map(attrs)).toEqual([
      { rel: 'alternate', href: 'https://river.example.com/' },
      { rel: 'self', href: 'https://river.example.com/feed.xml?tag=news&lang=en' },
      { rel: 'alternate', type: 'application/rss+xml', href: 'https://river.example.com/feed.xml?tag=news&lang=en' },
      { rel: 'alternate', type: 'application/feed+json', href: 'https://river.example.com/feed.json?tag=news&lang=en' },
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
    expect(child(source, 'id').map(text)).toEqual(c.sourceUrl === null ? [] : [c.sourceUrl]);
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
    story: policyStory('full', { id: 'policy-full-short', content: null }),
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
