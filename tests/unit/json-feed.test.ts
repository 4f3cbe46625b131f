import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { parseJsonFeed } from '../../src/ingest/json-feed.js';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/feeds/${name}`, import.meta.url), 'utf8');

describe('parseJsonFeed on fixtures', () => {
  it('reads JSON Feed 1.0', () => {
    const feed = parseJsonFeed(fixture('jsonfeed-1.0.json'), 'https://json1.example/feed.json');
    expect(feed).toMatchObject({ format: 'json', title: 'JSON One', homeUrl: 'https://json1.example/' });
    expect(feed.items).toHaveLength(2); // the string entry in items is skipped
    expect(feed.items[0]).toEqual({
      guid: '1',
      title: 'First &lt;JSON&gt; post',
      link: 'https://json1.example/posts/first?utm_source=jsonfeed',
      origLink: null,
      author: 'Item Writer',
      publishedAt: new Date('2020-02-03T12:05:06Z'),
      updatedAt: new Date('2020-02-04T00:00:00Z'),
      summaryHtml: 'A summary',
      contentHtml: '<p>Line one<br>line two</p><p>Second paragraph &amp; more</p>',
      categories: ['json', 'feeds'],
      origin: null,
      enclosures: [],
      image: null,
    });
    expect(feed.items[1]).toMatchObject({
      guid: '2',
      title: null,
      link: 'https://elsewhere.example/story',
      author: 'Feed Writer',
      contentHtml: '<p>Linked <em>story</em></p>',
      publishedAt: null,
    });
  });

  it('reads JSON Feed 1.1 (authors array, extensions ignored)', () => {
    const feed = parseJsonFeed(fixture('jsonfeed-1.1.json'), 'https://json11.example/feed.json');
    expect(feed).toMatchObject({ format: 'json', title: 'JSON One Point One', homeUrl: 'https://json11.example/' });
    expect(feed.items[0]).toMatchObject({
      guid: 'https://json11.example/a',
      link: 'https://json11.example/a',
      title: 'Authors array',
      author: 'First Author, Second Author',
      publishedAt: new Date('2021-06-01T12:00:00Z'),
      contentHtml: '<p>Hello <a href="b">relative</a></p>',
    });
  });
});

const minimal = (over: Record<string, unknown>): string => JSON.stringify({ version: 'https://jsonfeed.org/version/1.1', items: [], ...over });

describe('parseJsonFeed details', () => {
  it.each([
    { name: 'version 1 over http', version: 'http://jsonfeed.org/version/1' },
    { name: 'version with trailing slash', version: 'https://jsonfeed.org/version/1.1/' },
    { name: 'bare "1.1"', version: '1.1' },
  ])('accepts $name', ({ version }) => {
    expect(parseJsonFeed(minimal({ version }), 'https://x.example/f.json').items).toEqual([]);
  });

  it.each([
    { name: 'a UTF-8 BOM', body: `\uFEFF${minimal({ title: 'T' })}`, check: { title: 'T' } },
    { name: 'a relative home_page_url', body: minimal({ home_page_url: '/home' }), check: { homeUrl: 'https://x.example/home' } },
    { name: 'a javascript: home_page_url', body: minimal({ home_page_url: 'javascript:alert(1)' }), check: { homeUrl: null } },
    { name: 'a non-string title', body: minimal({ title: 42 }), check: { title: null } },
  ])('handles $name', ({ body, check }) => {
    expect(parseJsonFeed(body, 'https://x.example/f.json')).toMatchObject(check);
  });

  it.each([
    { name: 'relative url', item: { id: 'a', url: 'p/1' }, check: { link: 'https://x.example/p/1' } },
    { name: 'url preferred over external_url', item: { id: 'a', url: '/own', external_url: 'https://other.example/' }, check: { link: 'https://x.example/own' } },
    { name: 'non-http url dropped', item: { id: 'a', url: 'ftp://x.example/a' }, check: { link: null } },
    { name: 'blank id', item: { id: '  ', url: '/a' }, check: { guid: null } },
    { name: 'object id', item: { id: { x: 1 }, url: '/a' }, check: { guid: null } },
    { name: 'content_html preferred over content_text', item: { id: 'a', content_html: '<b>h</b>', content_text: 't' }, check: { contentHtml: '<b>h</b>' } },
    { name: 'content_text escaped', item: { id: 'a', content_text: '<script>x</script>' }, check: { contentHtml: '<p>&lt;script&gt;x&lt;/script&gt;</p>' } },
    { name: 'unparseable date', item: { id: 'a', date_published: 'soon' }, check: { publishedAt: null } },
    { name: 'tags not an array', item: { id: 'a', tags: 'x' }, check: { categories: [] } },
    { name: 'authors with a nameless entry', item: { id: 'a', authors: [{ url: 'https://a.example' }, { name: ' Bo  B ' }] }, check: { author: 'Bo B' } },
  ])('item with $name', ({ item, check }) => {
    expect(parseJsonFeed(minimal({ items: [item] }), 'https://x.example/f.json').items[0]).toMatchObject(check);
  });

  it.each([
    {
      name: 'attachments with url and mime_type, size when given',
      item: {
        id: 'a',
        attachments: [
          { url: '/ep/1.mp3', mime_type: 'audio/mpeg', size_in_bytes: 1234, duration_in_seconds: 60 },
          { url: 'https://cdn.x.example/v.mp4', mime_type: 'Video/MP4; codecs="avc1"' },
        ],
      },
      check: {
        enclosures: [
          { url: 'https://x.example/ep/1.mp3', type: 'audio/mpeg', length: 1234 },
          { url: 'https://cdn.x.example/v.mp4', type: 'video/mp4', length: null },
        ],
      },
    },
    {
      name: 'attachments that are not usable',
      item: {
        id: 'a',
        attachments: [
          'https://x.example/string.mp3',
          { mime_type: 'audio/mpeg' },
          { url: 'javascript:alert(1)', mime_type: 'audio/mpeg' },
          { url: 'https://x.example/bad.bin', mime_type: 'not a type', size_in_bytes: -1 },
          { url: 'https://x.example/frac.bin', mime_type: 42, size_in_bytes: 1.5 },
          { url: 'https://x.example/bad.bin', mime_type: 'application/octet-stream', size_in_bytes: 9 },
        ],
      },
      check: {
        enclosures: [
          // The duplicate URL completes the first entry with what it says.
          { url: 'https://x.example/bad.bin', type: 'application/octet-stream', length: 9 },
          { url: 'https://x.example/frac.bin', type: null, length: null },
        ],
      },
    },
    { name: 'attachments not an array', item: { id: 'a', attachments: { url: 'https://x.example/a.mp3' } }, check: { enclosures: [] } },
    {
      name: 'at most 10 attachments',
      item: { id: 'a', attachments: Array.from({ length: 12 }, (_, i) => ({ url: `https://x.example/${i}.mp3`, mime_type: 'audio/mpeg' })) },
      check: { enclosures: Array.from({ length: 10 }, (_, i) => ({ url: `https://x.example/${i}.mp3`, type: 'audio/mpeg', length: null })) },
    },
    { name: 'image', item: { id: 'a', image: 'img/a.png', banner_image: 'https://x.example/banner.png' }, check: { image: 'https://x.example/img/a.png' } },
    { name: 'banner_image when there is no image', item: { id: 'a', banner_image: 'https://x.example/banner.png' }, check: { image: 'https://x.example/banner.png' } },
    {
      name: 'an image attachment when there is neither',
      item: { id: 'a', attachments: [{ url: 'https://x.example/a.mp3', mime_type: 'audio/mpeg' }, { url: 'https://x.example/c.jpg', mime_type: 'image/jpeg' }] },
      check: { image: 'https://x.example/c.jpg' },
    },
    { name: 'a javascript: image', item: { id: 'a', image: 'javascript:alert(1)' }, check: { image: null } },
    { name: 'a non-string image', item: { id: 'a', image: { url: 'https://x.example/i.png' } }, check: { image: null } },
  ])('item with $name', ({ item, check }) => {
    expect(parseJsonFeed(minimal({ items: [item] }), 'https://x.example/f.json').items[0]).toMatchObject(check);
  });

  it.each([
    { name: 'invalid JSON', body: '{"version": ', message: /^invalid JSON Feed: .+/ },
    { name: 'an array', body: '[]', message: /not a JSON object/ },
    { name: 'no version', body: '{"items": []}', message: /"version" is missing/ },
    { name: 'an unknown version', body: '{"version": "https://jsonfeed.org/version/2", "items": []}', message: /unsupported "version"/ },
    { name: 'another format with a version', body: '{"version": "1.0.0", "items": []}', message: /unsupported "version"/ },
    { name: 'no items', body: '{"version": "https://jsonfeed.org/version/1"}', message: /"items" is missing or not an array/ },
    { name: 'items not an array', body: '{"version": "https://jsonfeed.org/version/1", "items": {}}', message: /"items" is missing or not an array/ },
  ])('rejects $name with a parse error naming the problem', ({ body, message }) => {
    let caught: unknown;
    try {
      parseJsonFeed(body, 'https://x.example/f.json');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TributaryError);
    expect((caught as TributaryError).kind).toBe('parse');
    expect((caught as TributaryError).subject).toBe('https://x.example/f.json');
    expect((caught as TributaryError).message).toMatch(message);
  });
});
