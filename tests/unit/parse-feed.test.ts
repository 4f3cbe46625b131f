import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ParsedFeed, ParsedItem } from '../../src/domain.js';
import { TributaryError } from '../../src/errors.js';
import { EMPTY_SCHEDULE } from '../../src/ingest/feed-schedule.js';
import { parseFeed } from '../../src/ingest/parse-feed.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/feeds/', import.meta.url));
const fixture = (name: string, encoding: 'utf-8' | 'iso-8859-1' = 'utf-8'): string =>
  new TextDecoder(encoding).decode(readFileSync(path.join(FIXTURES, name)));

async function parseError(body: string, url = 'https://feeds.example/feed'): Promise<TributaryError> {
  try {
    await parseFeed(body, { url });
  } catch (err) {
    if (err instanceof TributaryError) return err;
    throw err;
  }
  throw new Error('expected parseFeed to throw');
}

const item = (feed: ParsedFeed, index: number): ParsedItem => {
  const found = feed.items[index];
  if (!found) throw new Error(`no item ${index}`);
  return found;
};

describe('parseFeed on fixture feeds', () => {
  it.each([
    { name: 'RSS 2.0', file: 'rss2.xml', url: 'https://aggregator.example/feed.xml', format: 'rss', title: 'The Daily Aggregator & Friends', homeUrl: 'https://aggregator.example/news/', count: 3 },
    { name: 'Atom 1.0 with xml:base', file: 'atom-xml-base.xml', url: 'https://blog.example/feeds/atom.xml', format: 'atom', title: 'Journal of A & B', homeUrl: 'https://blog.example/journal/', count: 3 },
    { name: 'RSS 1.0 (RDF)', file: 'rss1-rdf.xml', url: 'https://rdf.example/index.rdf', format: 'rss', title: 'RDF Site', homeUrl: 'https://rdf.example/', count: 2 },
    { name: 'RSS 0.91', file: 'rss091.xml', url: 'http://cafe.example/rss.xml', format: 'rss', title: 'Café Society', homeUrl: 'http://cafe.example/', count: 2 },
    { name: 'Atom 0.3', file: 'atom03.xml', url: 'http://old-atom.example/atom.xml', format: 'atom', title: 'Old Atom', homeUrl: 'http://old-atom.example/', count: 1 },
    { name: 'RSS with HTML entities (repaired)', file: 'rss2-html-entities.xml', url: 'https://entities.example/feed', format: 'rss', title: 'Entities Weekly', homeUrl: 'https://entities.example/', count: 1 },
    { name: 'JSON Feed 1.0', file: 'jsonfeed-1.0.json', url: 'https://json1.example/feed.json', format: 'json', title: 'JSON One', homeUrl: 'https://json1.example/', count: 2 },
    { name: 'JSON Feed 1.1', file: 'jsonfeed-1.1.json', url: 'https://json11.example/feed.json', format: 'json', title: 'JSON One Point One', homeUrl: 'https://json11.example/', count: 1 },
    { name: 'RSS 2.0 with schedule hints', file: 'rss2-schedule.xml', url: 'https://nightdesk.example/rss', format: 'rss', title: 'Night Desk', homeUrl: 'https://nightdesk.example/', count: 1 },
    { name: 'RSS 1.0 with the syndication module', file: 'rss1-syndication.xml', url: 'https://rdf-daily.example/index.rdf', format: 'rss', title: 'RDF Daily', homeUrl: 'https://rdf-daily.example/', count: 1 },
    { name: 'Atom with the syndication module', file: 'atom-syndication.xml', url: 'https://digest.example/atom', format: 'atom', title: 'Weekly Digest', homeUrl: 'https://digest.example/', count: 1 },
    { name: 'RSS 2.0 with junk schedule hints', file: 'rss2-schedule-junk.xml', url: 'https://junk.example/rss', format: 'rss', title: 'Junk Hints', homeUrl: 'https://junk.example/', count: 1 },
    { name: 'RSS 2.0 with enclosures and Media RSS', file: 'rss2-media.xml', url: 'https://media.example/feed.xml', format: 'rss', title: 'Media Weekly', homeUrl: 'https://media.example/', count: 7 },
    { name: 'Atom 1.0 with enclosure links', file: 'atom-media.xml', url: 'https://atom-media.example/feed.atom', format: 'atom', title: 'Atom Media', homeUrl: 'https://atom-media.example/', count: 2 },
  ])('reads the feed-level fields of $name', async ({ file, url, format, title, homeUrl, count }) => {
    const feed = await parseFeed(fixture(file), { url });
    expect(feed).toMatchObject({ format, title, homeUrl });
    expect(feed.items).toHaveLength(count);
  });

  describe('RSS 2.0 items', () => {
    let feed: ParsedFeed;
    beforeAll(async () => {
      feed = await parseFeed(fixture('rss2.xml'), { url: 'https://aggregator.example/feed.xml' });
    });
    it.each([
      { name: 'guid', index: 0, field: 'guid', expected: 'agg-123' },
      { name: 'title', index: 0, field: 'title', expected: 'Council approves new bridge' },
      { name: 'link with tracking, as published', index: 0, field: 'link', expected: 'https://aggregator.example/r/123?utm_source=rss&utm_medium=feed&fbclid=abc' },
      { name: 'feedburner:origLink', index: 0, field: 'origLink', expected: 'https://publisher.example/2024/05/bridge?utm_campaign=syndication&id=7' },
      { name: 'dc:creator', index: 0, field: 'author', expected: 'Ada Reporter' },
      { name: 'pubDate', index: 0, field: 'publishedAt', expected: new Date('2024-05-07T09:30:00Z') },
      { name: 'categories as published', index: 0, field: 'categories', expected: ['Local', 'Transport', 'local'] },
      { name: 'RSS <source url>', index: 0, field: 'origin', expected: { name: 'Publisher Daily', url: 'https://publisher.example/feed.rss', id: null } },
      { name: 'description as HTML', index: 0, field: 'summaryHtml', expected: '<p>The council voted 7&ndash;2. <a href="/r/123/more">Read more</a></p>' },
      { name: 'relative link resolved against the channel link', index: 1, field: 'link', expected: 'https://aggregator.example/stories/relative?b=2&a=1' },
      { name: '"email (Name)" author', index: 1, field: 'author', expected: 'Eve Editor' },
      { name: 'pubDate with offset', index: 1, field: 'publishedAt', expected: new Date('2024-05-08T08:00:00Z') },
      { name: 'no content:encoded', index: 1, field: 'contentHtml', expected: null },
      { name: 'no source', index: 1, field: 'origin', expected: null },
      { name: 'permalink guid as the link', index: 2, field: 'link', expected: 'https://aggregator.example/stories/guid-only' },
      { name: 'two-digit year and EST', index: 2, field: 'publishedAt', expected: new Date('2024-05-09T16:00:00Z') },
    ])('$name', ({ index, field, expected }) => {
      expect(item(feed, index)[field as keyof ParsedItem]).toEqual(expected);
    });
    it('keeps content:encoded raw (sanitising is a later stage)', () => {
      expect(item(feed, 0).contentHtml).toContain('<img src="images/bridge.jpg" alt="The bridge">');
      expect(item(feed, 0).contentHtml).toContain('<script>alert(1)</script>');
    });
  });

  describe('Atom items with xml:base', () => {
    let feed: ParsedFeed;
    beforeAll(async () => {
      feed = await parseFeed(fixture('atom-xml-base.xml'), { url: 'https://blog.example/feeds/atom.xml' });
    });
    it.each([
      { name: 'id as guid', index: 0, field: 'guid', expected: 'tag:blog.example,2024:journal/1' },
      { name: 'type="text" title escaped into HTML', index: 0, field: 'title', expected: 'Less &lt;than&gt; more' },
      { name: 'rel=alternate link under nested bases', index: 0, field: 'link', expected: 'https://blog.example/journal/2024/03/first-post.html' },
      { name: 'entry author', index: 0, field: 'author', expected: 'Entry Author' },
      { name: 'published with offset', index: 0, field: 'publishedAt', expected: new Date('2024-03-01T07:00:00Z') },
      { name: 'updated with fraction', index: 0, field: 'updatedAt', expected: new Date('2024-03-01T09:15:30.250Z') },
      { name: 'category terms', index: 0, field: 'categories', expected: ['essays', 'tools'] },
      { name: 'summary URLs resolved against the entry base', index: 0, field: 'summaryHtml', expected: '<p>Summary with <a href="https://blog.example/journal/2024/03/notes.html">a relative link</a></p>' },
      { name: 'content URLs resolved against the entry base', index: 0, field: 'contentHtml', expected: '<p>See <img src="https://blog.example/journal/2024/03/img/figure1.png" alt="figure" /> and <a href="https://blog.example/about">about</a>.</p>' },
      { name: 'XHTML title', index: 1, field: 'title', expected: 'An <em>XHTML</em> title' },
      { name: 'link without rel, against an absolute entry base', index: 1, field: 'link', expected: 'https://cdn.example/second/' },
      { name: 'author inherited from the feed', index: 1, field: 'author', expected: 'Feed Author' },
      { name: 'updated used when published is missing', index: 1, field: 'publishedAt', expected: new Date('2024-03-02T12:00:00Z') },
      { name: 'XHTML content in order, div unwrapped, content xml:base applied', index: 1, field: 'contentHtml', expected: '<p>Mixed <b>bold</b> and <i>italic</i> text <img src="https://cdn.example/other/media/pic.jpg" alt="" /> end.</p>' },
      { name: 'atom:source', index: 1, field: 'origin', expected: { name: 'Origin Weekly', url: 'https://origin.example/feed.atom', id: 'tag:origin.example,2024:feed' } },
      { name: 'relative link against the feed base', index: 2, field: 'link', expected: 'https://blog.example/journal/third' },
      { name: 'type="text" content escaped', index: 2, field: 'contentHtml', expected: '5 &lt; 6 &amp; "quotes"' },
    ])('$name', ({ index, field, expected }) => {
      expect(item(feed, index)[field as keyof ParsedItem]).toEqual(expected);
    });
  });

  it.each([
    { name: 'RSS 1.0 item', file: 'rss1-rdf.xml', url: 'https://rdf.example/index.rdf', index: 0, expected: { guid: 'https://rdf.example/items/1', title: 'First RDF item', link: 'https://rdf.example/items/1', author: 'Rita Dee', publishedAt: new Date('2023-11-05T19:20:00Z'), summaryHtml: 'First <em>description</em>', categories: ['Semantics'] } },
    { name: 'RSS 1.0 date-only dc:date', file: 'rss1-rdf.xml', url: 'https://rdf.example/index.rdf', index: 1, expected: { publishedAt: new Date('2023-11-06T00:00:00Z'), summaryHtml: null } },
    { name: 'RSS 0.91 item with character references', file: 'rss091.xml', url: 'http://cafe.example/rss.xml', index: 0, expected: { guid: null, title: 'Fish &amp; Chips – a &lt;review&gt;', link: 'http://cafe.example/reviews/fish-chips', summaryHtml: 'Crème brûlée &amp; more', publishedAt: null } },
    { name: 'repaired HTML entities', file: 'rss2-html-entities.xml', url: 'https://entities.example/feed', index: 0, expected: { title: '“Quoted” AT&amp;T news …', link: 'https://entities.example/a?x=1&y=2', summaryHtml: 'Café © 2024' } },
    { name: 'Atom 0.3 entry', file: 'atom03.xml', url: 'http://old-atom.example/atom.xml', index: 0, expected: { link: 'http://old-atom.example/2004/01/entry', publishedAt: new Date('2004-01-01T18:00:00Z'), updatedAt: new Date('2004-01-02T03:04:05Z'), contentHtml: '<p>Escaped <b>HTML</b></p>' } },
  ])('reads $name', async ({ file, url, index, expected }) => {
    expect(item(await parseFeed(fixture(file), { url }), index)).toMatchObject(expected);
  });

  it('keeps non-ASCII text of an ISO-8859-1 feed (decoded by the fetch stage)', async () => {
    const feed = await parseFeed(fixture('rss2-iso-8859-1.xml', 'iso-8859-1'), { url: 'https://zeitung.example/rss' });
    expect(feed.title).toBe('Nachrichten für Zürich');
    expect(item(feed, 0)).toMatchObject({
      title: 'Größere Brücke eröffnet',
      link: 'https://zeitung.example/artikel/br%C3%BCcke',
      summaryHtml: 'Der Bürgermeister sagte: «Très bien» - fast.',
      publishedAt: new Date('2024-05-06T06:00:00Z'),
    });
  });
});

describe('enclosures and images', () => {
  const mp3 = (n: number) => ({ url: `https://cdn.media.example/a${n}.mp3`, type: 'audio/mpeg', length: null });

  it.each([
    {
      name: 'a podcast episode: <enclosure> and itunes:image',
      index: 0,
      enclosures: [{ url: 'https://cdn.media.example/ep1.mp3', type: 'audio/mpeg', length: 12345678 }],
      image: 'https://cdn.media.example/ep1.jpg',
    },
    { name: 'image renditions: the widest media:content image', index: 1, enclosures: [], image: 'https://i.media.example/460.jpg' },
    { name: 'a relative media:thumbnail, against the channel link', index: 2, enclosures: [], image: 'https://media.example/img/thumb.png' },
    {
      name: 'a media:group: its default rendition, merged with the <enclosure> of the same URL; the poster inside it',
      index: 3,
      enclosures: [{ url: 'https://v.media.example/720.mp4', type: 'video/mp4', length: 5000 }],
      image: 'https://v.media.example/poster.jpg',
    },
    {
      name: 'xml:base applied; javascript:, data: and url-less enclosures dropped; bad types and lengths unknown',
      index: 4,
      enclosures: [
        { url: 'https://base.example/dir/file.ogg', type: null, length: null },
        { url: 'https://base.example/dir/docs/report.pdf', type: 'application/pdf', length: null },
      ],
      image: null,
    },
    {
      name: 'an image enclosure is the image for want of another; at most 10 enclosures',
      index: 5,
      enclosures: [{ url: 'https://cdn.media.example/cover.jpg', type: 'image/jpeg', length: 100 }, ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map(mp3)],
      image: 'https://cdn.media.example/cover.jpg',
    },
    { name: 'an item without media', index: 6, enclosures: [], image: null },
  ])('RSS: $name', async ({ index, enclosures, image }) => {
    const feed = await parseFeed(fixture('rss2-media.xml'), { url: 'https://media.example/feed.xml' });
    expect({ enclosures: item(feed, index).enclosures, image: item(feed, index).image }).toEqual({ enclosures, image });
  });

  it.each([
    {
      name: 'rel="enclosure" links under xml:base, and a thumbnail under a prefix of its own',
      index: 0,
      enclosures: [
        { url: 'https://atom-media.example/talks/1.mp3', type: 'audio/mpeg', length: 999 },
        { url: 'https://cdn.atom-media.example/1.ogg', type: 'audio/ogg', length: null },
      ],
      image: 'https://atom-media.example/talks/1.jpg',
    },
    { name: 'an entry without media', index: 1, enclosures: [], image: null },
  ])('Atom: $name', async ({ index, enclosures, image }) => {
    const feed = await parseFeed(fixture('atom-media.xml'), { url: 'https://atom-media.example/feed.atom' });
    expect(item(feed, index).link).toBe(index === 0 ? 'https://atom-media.example/talks/1' : 'https://atom-media.example/talks/2');
    expect({ enclosures: item(feed, index).enclosures, image: item(feed, index).image }).toEqual({ enclosures, image });
  });

  it.each([
    {
      name: 'RSS 1.0 items (at the root, not in the channel)',
      body: '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:media="http://search.yahoo.com/mrss/"><channel rdf:about="https://r.example/"><title>R</title></channel><item rdf:about="https://r.example/1"><title>One</title><link>https://r.example/1</link></item><item rdf:about="https://r.example/2"><title>Two</title><link>https://r.example/2</link><media:thumbnail url="https://r.example/2.jpg"/></item></rdf:RDF>',
      images: [null, 'https://r.example/2.jpg'],
    },
    {
      name: 'RSS items directly under <rss>',
      body: '<rss xmlns:media="http://search.yahoo.com/mrss/"><item><title>a</title><media:thumbnail url="https://x.example/a.jpg"/></item><item><title>b</title></item></rss>',
      images: ['https://x.example/a.jpg', null],
    },
    {
      name: 'an Atom entry document',
      body: '<entry xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/"><id>urn:e</id><title>e</title><link href="https://a.example/e"/><media:thumbnail url="https://a.example/e.png"/></entry>',
      images: ['https://a.example/e.png'],
    },
    {
      name: 'items with identical fields keep their own media',
      body: '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>T</title><item><title>same</title></item><item><title>same</title><media:thumbnail url="https://x.example/2.jpg"/></item></channel></rss>',
      images: [null, 'https://x.example/2.jpg'],
    },
    {
      name: 'an undeclared media: prefix (written anyway by some feeds)',
      body: '<rss version="2.0"><channel><title>T</title><item><title>a</title><media:content url="https://x.example/a.webp"/></item></channel></rss>',
      images: ['https://x.example/a.webp'],
    },
    {
      name: 'an image by medium, whatever its file name, and a video by type',
      body: '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>T</title><item><title>a</title><media:content url="https://x.example/clip.jpg" type="video/mp4"/><media:content url="https://x.example/pic" medium="image"/></item></channel></rss>',
      images: ['https://x.example/pic'],
    },
  ])('in $name', async ({ body, images }) => {
    const feed = await parseFeed(body, { url: 'https://feeds.example/feed' });
    expect(feed.items.map((i) => i.image)).toEqual(images);
  });

  it('a media:content video is an enclosure even when its file name looks like an image', async () => {
    const body = '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>T</title><item><title>a</title><media:content url="https://x.example/clip.jpg" type="video/mp4" fileSize="77"/></item></channel></rss>';
    const feed = await parseFeed(body, { url: 'https://feeds.example/feed' });
    expect(item(feed, 0).enclosures).toEqual([{ url: 'https://x.example/clip.jpg', type: 'video/mp4', length: 77 }]);
  });
});

describe('parseFeed edge cases', () => {
  const rss = (items: string, channelExtra = '', rootAttrs = ''): string =>
    `<?xml version="1.0"?><rss version="2.0" ${rootAttrs}><channel><title>T</title><link>https://site.example/</link>${channelExtra}${items}</channel></rss>`;
  const atom = (entries: string, feedAttrs = ''): string => `<feed xmlns="http://www.w3.org/2005/Atom" ${feedAttrs}><title>A</title>${entries}</feed>`;

  it.each([
    { name: 'RSS without a version attribute', body: '<rss><channel><title>T</title><item><title>i</title></item></channel></rss>', expected: { title: 'i' } },
    { name: 'whitespace and a BOM before the declaration', body: `\uFEFF \n${rss('<item><title>i</title></item>')}`, expected: { title: 'i' } },
    { name: 'CDATA title that looks like HTML', body: rss('<item><title><![CDATA[1930ft<sup>2</sup>]]></title></item>'), expected: { title: '1930ft<sup>2</sup>' } },
    { name: 'RSS title with literal angle brackets', body: rss('<item><title>a &lt;review&gt;</title></item>'), expected: { title: 'a &lt;review&gt;' } },
    { name: 'double-escaped RSS title', body: rss('<item><title>Q&amp;amp;A</title></item>'), expected: { title: 'Q&amp;A' } },
    { name: 'unescaped HTML elements in a description', body: rss('<item><description><p>raw <b>html</b> text</p></description></item>'), expected: { summaryHtml: '<p>raw <b>html</b> text</p>' } },
    { name: 'whitespace-only description', body: rss('<item><title>t</title><description>  </description></item>'), expected: { summaryHtml: null } },
    { name: 'isPermaLink="false" guid is not a link', body: rss('<item><guid isPermaLink="false">https://site.example/g</guid></item>'), expected: { link: null, guid: 'https://site.example/g' } },
    { name: 'Atom-style self link before the RSS link', body: rss('<item><link rel="self" href="https://site.example/feed"/><link>https://site.example/post</link></item>'), expected: { link: 'https://site.example/post' } },
    { name: 'Atom-style alternate href as the only link', body: rss('<item><link rel="self" href="https://site.example/feed"/><link href="https://site.example/alt"/></item>'), expected: { link: 'https://site.example/alt' } },
    { name: 'javascript: link dropped', body: rss('<item><link>javascript:alert(1)</link></item>'), expected: { link: null } },
    { name: 'xml:base on the rss root', body: rss('<item><link>a</link></item>', '', 'xml:base="https://base.example/dir/"'), expected: { link: 'https://base.example/dir/a' } },
    { name: 'xml:base on an item, relative description URLs resolved', body: rss('<item xml:base="https://base.example/x/"><link>a</link><description>&lt;img src="i.png"&gt;</description></item>'), expected: { link: 'https://base.example/x/a', summaryHtml: '<img src="https://base.example/x/i.png" />' } },
    { name: 'relative description URLs kept without xml:base', body: rss('<item><description>&lt;img src="i.png"&gt;</description></item>'), expected: { summaryHtml: '<img src="i.png">' } },
    { name: 'unparseable pubDate', body: rss('<item><title>t</title><pubDate>not a date</pubDate></item>'), expected: { publishedAt: null } },
    { name: 'dc:date fallback', body: rss('<item><title>t</title><dc:date xmlns:dc="http://purl.org/dc/elements/1.1/">2024-01-02T03:04:05Z</dc:date></item>'), expected: { publishedAt: new Date('2024-01-02T03:04:05Z') } },
    { name: 'category with a domain attribute', body: rss('<item><category domain="https://site.example/tags">Science</category></item>'), expected: { categories: ['Science'] } },
    { name: 'Atom link without attributes (rss-parser would throw)', body: atom('<entry><id>e</id><link/><link href="https://a.example/1"/></entry>'), expected: { link: 'https://a.example/1' } },
    { name: 'Atom entry with a bad published date (rss-parser would throw)', body: atom('<entry><id>e</id><published>2024-13-45</published><updated>2024-01-01T00:00:00Z</updated></entry>'), expected: { publishedAt: new Date('2024-01-01T00:00:00Z') } },
    { name: 'Atom rel=alternate preferred over earlier links', body: atom('<entry><link rel="related" href="https://r.example/"/><link rel="self" href="https://s.example/"/><link rel="alternate" type="application/pdf" href="https://a.example/x.pdf"/><link rel="alternate" type="text/html" href="https://a.example/x"/></entry>'), expected: { link: 'https://a.example/x' } },
    { name: 'Atom with only replies/enclosure links', body: atom('<entry><link rel="replies" href="https://r.example/"/><link rel="enclosure" href="https://e.example/a.mp3"/></entry>'), expected: { link: null } },
    { name: 'Atom link with its own xml:base', body: atom('<entry><link xml:base="https://other.example/d/" href="p"/></entry>'), expected: { link: 'https://other.example/d/p' } },
    { name: 'Atom relative xml:base nested in a relative one', body: atom('<entry xml:base="b/"><link href="c"/></entry>', 'xml:base="/a/"'), expected: { link: 'https://feeds.example/a/b/c' } },
    { name: 'Atom out-of-line content', body: atom('<entry><content src="https://a.example/c.html" type="text/html"/></entry>'), expected: { contentHtml: null } },
    { name: 'Atom binary content', body: atom('<entry><content type="image/png">iVBORw0KGgo=</content></entry>'), expected: { contentHtml: null } },
    { name: 'Atom XHTML content without a wrapper div', body: atom('<entry><content type="xhtml"><p xmlns="http://www.w3.org/1999/xhtml">a<br/>b</p></content></entry>'), expected: { contentHtml: '<p>a<br>b</p>' } },
    { name: 'Atom XHTML with a prefix', body: atom('<entry><summary type="xhtml"><h:div xmlns:h="http://www.w3.org/1999/xhtml"><h:em>x</h:em> &amp; y</h:div></summary></entry>'), expected: { summaryHtml: '<em>x</em> &amp; y' } },
    { name: 'Atom XHTML containing a <summary> element', body: atom('<entry><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><details><summary>S</summary>D</details></div></content></entry>'), expected: { contentHtml: '<details><summary>S</summary>D</details>' } },
    { name: 'Atom html title', body: atom('<entry><title type="html">A &lt;em&gt;b&lt;/em&gt;</title></entry>'), expected: { title: 'A <em>b</em>' } },
    { name: 'Atom category without term', body: atom('<entry><category>plain</category><category term=" t "/></entry>'), expected: { categories: ['plain', ' t '] } },
    { name: 'Atom dc:creator when there is no author', body: atom('<entry><dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">D C</dc:creator></entry>'), expected: { author: 'D C' } },
    { name: 'FeedBurner origLink in Atom', body: atom('<entry><link href="https://feedproxy.example/~r/x/1"/><feedburner:origLink xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0">https://pub.example/1</feedburner:origLink></entry>'), expected: { link: 'https://feedproxy.example/~r/x/1', origLink: 'https://pub.example/1' } },
  ])('$name', async ({ body, expected }) => {
    const feed = await parseFeed(body, { url: 'https://feeds.example/feed' });
    expect(item(feed, 0)).toMatchObject(expected);
  });

  it.each([
    { name: 'JSON by content type with leading junk', body: ' {"version":"https://jsonfeed.org/version/1","items":[]}', contentType: 'text/plain', format: 'json' },
    { name: 'JSON body labelled as XML', body: '{"version":"https://jsonfeed.org/version/1","items":[]}', contentType: 'application/xml', format: 'json' },
    { name: 'XML body labelled as JSON', body: rss(''), contentType: 'application/feed+json', format: 'rss' },
  ])('dispatches $name', async ({ body, contentType, format }) => {
    expect((await parseFeed(body, { url: 'https://feeds.example/feed', contentType })).format).toBe(format);
  });

  it('reads an RSS feed without items', async () => {
    expect(await parseFeed(rss(''), { url: 'https://feeds.example/feed' })).toEqual({ format: 'rss', title: 'T', homeUrl: 'https://site.example/', items: [], schedule: EMPTY_SCHEDULE });
  });

  // Document shapes feedparser and gofeed read and rss-parser alone does not (corpus: feedparser
  // tests/wellformed/namespace, feedvalidator testcases/atom, node-feedparser, feed-rs).
  it.each([
    { name: 'RSS without a channel is an empty feed', body: '<rss version="2.0"></rss>', format: 'rss', title: null, items: [] },
    { name: 'RSS items directly under <rss>', body: '<rss><item><title>i</title></item></rss>', format: 'rss', title: null, items: ['i'] },
    { name: 'RDF without a channel, items at the root', body: '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><item><title>i</title></item></rdf:RDF>', format: 'rss', title: null, items: ['i'] },
    { name: 'Atom with a prefixed root', body: '<atom:feed xmlns:atom="http://www.w3.org/2005/Atom"><atom:title>F</atom:title><atom:entry><atom:title>e</atom:title></atom:entry></atom:feed>', format: 'atom', title: 'F', items: ['e'] },
    { name: 'Atom with a prefix and XHTML as the default namespace', body: '<a:feed xmlns:a="http://www.w3.org/2005/Atom" xmlns="http://www.w3.org/1999/xhtml"><a:title>F</a:title><a:entry><a:title>e</a:title><a:content type="xhtml"><div><p>x</p></div></a:content></a:entry></a:feed>', format: 'atom', title: 'F', items: ['e'] },
    { name: 'Atom entries prefixed where they are declared', body: '<feed xmlns="http://www.w3.org/2005/Atom"><title>F</title><p0:entry xmlns:p0="http://www.w3.org/2005/Atom"><p0:title>e</p0:title></p0:entry></feed>', format: 'atom', title: 'F', items: ['e'] },
    { name: 'RSS 1.0 without a default namespace', body: '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:rss="http://purl.org/rss/1.0/"><rss:channel><rss:title>F</rss:title></rss:channel><rss:item><rss:title>i</rss:title></rss:item></rdf:RDF>', format: 'rss', title: 'F', items: ['i'] },
    { name: 'RSS 2.0 in the Userland namespace with a prefix', body: '<r:rss version="2.0" xmlns:r="http://backend.userland.com/rss2"><r:channel><r:title>F</r:title><r:item><r:title>i</r:title></r:item></r:channel></r:rss>', format: 'rss', title: 'F', items: ['i'] },
    { name: 'an Atom entry document is a one-entry feed', body: '<?xml version="1.0"?><entry xmlns="http://www.w3.org/2005/Atom"><id>urn:e</id><title>e</title><link href="https://a.example/e"/></entry>', format: 'atom', title: null, items: ['e'] },
  ])('$name', async ({ body, format, title, items }) => {
    const feed = await parseFeed(body, { url: 'https://feeds.example/feed' });
    expect({ format: feed.format, title: feed.title, items: feed.items.map((i) => i.title) }).toEqual({ format, title, items });
  });

  it('keeps atom:link an extension in RSS 2.0 (only the feed\'s own prefix is dropped)', async () => {
    const feed = await parseFeed(rss('<item><link>https://site.example/p</link><atom:link xmlns:atom="http://www.w3.org/2005/Atom" rel="alternate" href="https://other.example/"/></item>'), { url: 'https://feeds.example/feed' });
    expect(item(feed, 0).link).toBe('https://site.example/p');
  });

  it('reads text-only XHTML (Atom 0.3 mode="xml") as that text', async () => {
    const feed = await parseFeed('<feed version="0.3" xmlns="http://purl.org/atom/ns#"><entry><title type="application/xhtml+xml" mode="xml">&#x41; &lt; B</title></entry></feed>', { url: 'https://feeds.example/feed' });
    expect(item(feed, 0).title).toBe('A &lt; B');
  });

  it('strips control characters sax lets through, by way of the lenient path', async () => {
    const feed = await parseFeed(rss('<item><title>ab\u0008cd</title></item>'), { url: 'https://feeds.example/feed' });
    expect(item(feed, 0).title).toBe('abcd');
  });
});

describe('parseFeed rejects what is not a feed', () => {
  it.each([
    { name: 'an HTML page', body: () => fixture('not-a-feed.html'), message: /^not a feed: it is an HTML page$/ },
    { name: 'an XHTML page', body: () => '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>', message: /^not a feed: it is an HTML page$/ },
    { name: 'an empty document', body: () => '', message: /^not a feed: the document is empty$/ },
    { name: 'a whitespace-only document', body: () => ' \n\t', message: /^not a feed: the document is empty$/ },
    { name: 'plain text', body: () => 'Service Unavailable', message: /^not a feed: the document is neither XML nor JSON$/ },
    { name: 'random XML', body: () => '<?xml version="1.0"?><catalog><book/></catalog>', message: /^not a feed: the root element is <catalog>/ },
    { name: 'an OPML file', body: () => '<opml version="2.0"><head/><body/></opml>', message: /^not a feed: the root element is <opml>/ },
    { name: 'an Atom entry document outside the Atom namespace', body: () => '<entry><title>t</title></entry>', message: /^not a feed: the root element is <entry>/ },
    { name: 'a mismatched close tag', body: () => '<rss version="2.0"><channel><title>t</subtitle></channel></rss>', message: /^malformed feed XML: Unexpected close tag/ },
    { name: 'malformed XML', body: () => fixture('malformed.xml'), message: /^malformed feed XML: Unexpected close tag, Line: 6/ },
    { name: 'XML cut off inside its root tag', body: () => '<rss version="2.0"', message: /^malformed feed XML: / },
    { name: 'a DTD entity (never expanded)', body: () => '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><rss version="2.0"><channel><title>&xxe;</title></channel></rss>', message: null },
    { name: 'invalid JSON', body: () => '{"version": "https://jsonfeed.org/version/1", "items": [', message: /^invalid JSON Feed: / },
  ])('$name', async ({ body, message }) => {
    const text = body();
    if (message === null) {
      // An external entity is neither fetched nor expanded: the title keeps the reference as text.
      const feed = await parseFeed(text, { url: 'https://feeds.example/feed' });
      expect(feed.title).toBe('&xxe;');
      return;
    }
    const err = await parseError(text);
    expect(err.kind).toBe('parse');
    expect(err.subject).toBe('https://feeds.example/feed');
    expect(err.message).toMatch(message);
  });

  it('names an illegal character without embedding it (a UTF-16 body read as UTF-8)', async () => {
    const err = await parseError('<\u0000r\u0000s\u0000s\u0000>\u0000<\u0000t\u0000>\u0000<\u0000/\u0000r\u0000s\u0000s\u0000>\u0000<\u0000/\u0000t\u0000>\u0000');
    expect(err.kind).toBe('parse');
    expect(err.message).toBe('malformed feed XML: character U+0000 at offset 1 is not allowed in XML');
  });

  it('keeps the parser error as the cause', async () => {
    const err = await parseError(fixture('malformed.xml'));
    expect(err.cause).toBeInstanceOf(Error);
  });
});
