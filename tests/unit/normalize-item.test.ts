import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ParsedItem } from '../../src/domain.js';
import { cleanEnclosures, cleanMediaUrl, normalizeItem, storyIdFor } from '../../src/ingest/normalize-item.js';
import { parseFeed } from '../../src/ingest/parse-feed.js';
import { EMPTY_SIMHASH, hammingDistance, simhash } from '../../src/ingest/simhash.js';
import { titleKey } from '../../src/ingest/title-key.js';

const NOW = new Date('2024-06-01T12:00:00Z');
const CTX = { sourceId: 'agg', feedUrl: 'https://aggregator.example/feed.xml', now: NOW };

const parsed = (over: Partial<ParsedItem> = {}): ParsedItem => ({
  guid: null,
  title: null,
  link: null,
  origLink: null,
  author: null,
  publishedAt: null,
  updatedAt: null,
  summaryHtml: null,
  contentHtml: null,
  categories: [],
  origin: null,
  ...over,
});

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

describe('normalizeItem identity', () => {
  it.each([
    { name: 'canonical link', item: parsed({ link: 'https://Pub.example/a?utm_source=x#top', guid: 'g' }), key: 'url:https://pub.example/a', canonical: 'https://pub.example/a' },
    { name: 'FeedBurner origLink wins over the link', item: parsed({ link: 'https://feedproxy.example/~r/1', origLink: 'https://pub.example/real?fbclid=1' }), key: 'url:https://pub.example/real', canonical: 'https://pub.example/real' },
    { name: 'link used when origLink is unusable', item: parsed({ link: 'https://pub.example/b', origLink: 'not a url' }), key: 'url:https://pub.example/b', canonical: 'https://pub.example/b' },
    { name: 'guid when there is no link', item: parsed({ guid: ' tag:pub.example,2024:1 ' }), key: 'guid:agg:tag:pub.example,2024:1', canonical: null },
    { name: 'guid when the link is not http(s)', item: parsed({ guid: 'g1', link: 'ftp://pub.example/a' }), key: 'guid:agg:g1', canonical: null },
    { name: 'hashed guid when it is very long', item: parsed({ guid: 'x'.repeat(600) }), key: `guid:agg:sha256:${sha256('x'.repeat(600))}`, canonical: null },
    { name: 'title hash when there is only a title', item: parsed({ title: '<b>Only</b>  a title' }), key: `guid:agg:title:${sha256('Only a title')}`, canonical: null },
  ])('$name', ({ item, key, canonical }) => {
    const n = normalizeItem(item, CTX);
    expect(n?.identityKey).toBe(key);
    expect(n?.canonicalUrl).toBe(canonical);
  });

  it.each([
    { name: 'nothing at all', item: parsed() },
    { name: 'only a summary', item: parsed({ summaryHtml: '<p>text</p>' }) },
    { name: 'a blank guid and an empty title', item: parsed({ guid: '   ', title: '<br>' }) },
    { name: 'a javascript: link only', item: parsed({ link: 'javascript:alert(1)' }) },
  ])('returns null for $name', ({ item }) => {
    expect(normalizeItem(item, CTX)).toBeNull();
  });

  it.each([
    { name: 'http and www. fold into the key, not the display URL', item: parsed({ link: 'http://www.pub.example/a/' }), key: 'url:https://pub.example/a', canonical: 'http://www.pub.example/a/' },
    { name: 'an AMP link maps to the article', item: parsed({ link: 'https://pub.example/2026/11/story/amp/' }), key: 'url:https://pub.example/2026/11/story', canonical: 'https://pub.example/2026/11/story/' },
    { name: 'a Google AMP cache link maps to the article', item: parsed({ link: 'https://www-pub-example.cdn.ampproject.org/c/s/www.pub.example/story?amp=1' }), key: 'url:https://pub.example/story', canonical: 'https://www.pub.example/story' },
  ])('identity rules v2: $name', ({ item, key, canonical }) => {
    const n = normalizeItem(item, CTX);
    expect(n?.identityKey).toBe(key);
    expect(n?.canonicalUrl).toBe(canonical);
  });

  it('keeps the link exactly as published', () => {
    const link = 'https://Aggregator.example/r/1?utm_source=rss';
    expect(normalizeItem(parsed({ link }), CTX)?.link).toBe(link);
  });
});

describe('normalizeItem with the original story URL of an aggregator item (ctx.originalUrl)', () => {
  const republished = parsed({
    link: 'https://aggregator.example/r/123?utm_source=rss',
    origLink: 'https://aggregator.example/p/123',
    guid: 'agg-123',
    title: 'Council approves bridge',
  });

  it.each([
    { name: 'the original URL wins over link and origLink', originalUrl: 'https://www.publisher.example/2026/bridge?fbclid=x', key: 'url:https://publisher.example/2026/bridge', canonical: 'https://www.publisher.example/2026/bridge' },
    { name: 'an AMP original maps to the article', originalUrl: 'https://publisher.example/2026/bridge/amp/', key: 'url:https://publisher.example/2026/bridge', canonical: 'https://publisher.example/2026/bridge/' },
    { name: 'null falls back to origLink', originalUrl: null, key: 'url:https://aggregator.example/p/123', canonical: 'https://aggregator.example/p/123' },
    { name: 'an unusable original falls back to origLink', originalUrl: 'javascript:alert(1)', key: 'url:https://aggregator.example/p/123', canonical: 'https://aggregator.example/p/123' },
    { name: 'an empty original falls back to origLink', originalUrl: '', key: 'url:https://aggregator.example/p/123', canonical: 'https://aggregator.example/p/123' },
  ])('$name', ({ originalUrl, key, canonical }) => {
    const n = normalizeItem(republished, { ...CTX, originalUrl });
    expect(n?.identityKey).toBe(key);
    expect(n?.canonicalUrl).toBe(canonical);
    expect(n?.link).toBe('https://aggregator.example/r/123?utm_source=rss');
    expect(n?.guid).toBe('agg-123');
  });

  it('gives a link-less item an identity from the original URL', () => {
    const n = normalizeItem(parsed({ title: 'T' }), { ...CTX, originalUrl: 'https://publisher.example/t' });
    expect(n?.identityKey).toBe('url:https://publisher.example/t');
    expect(n?.link).toBeNull();
  });

  it('still resolves relative URLs in the HTML against the aggregator page it came from', () => {
    const n = normalizeItem(parsed({ link: 'https://aggregator.example/r/1', summaryHtml: '<img src="pic.png">' }), { ...CTX, originalUrl: 'https://publisher.example/a' });
    expect(n?.summary).toBe('<img src="https://aggregator.example/r/pic.png" />');
  });
});

describe('normalizeItem near-duplicate fingerprints', () => {
  it.each([
    { name: 'from the title and the content', item: parsed({ guid: 'g', title: 'BREAKING: Storm hits coast - The Daily', contentHtml: '<p>A storm <b>hit</b> the coast on Monday.</p>' }), titleKey: titleKey('BREAKING: Storm hits coast - The Daily'), simhash: simhash('A storm hit the coast on Monday.') },
    { name: 'from the summary when there is no content', item: parsed({ guid: 'g', title: 'Storm', summaryHtml: '<p>Summary text here</p>' }), titleKey: 'storm', simhash: simhash('Summary text here') },
    { name: 'of a derived title', item: parsed({ guid: 'g', summaryHtml: '<p>Words only</p>' }), titleKey: 'words only', simhash: simhash('Words only') },
    { name: 'empty text gives the empty SimHash', item: parsed({ guid: 'g', title: 'Only a title' }), titleKey: 'only a title', simhash: EMPTY_SIMHASH },
  ])('$name', ({ item, titleKey: key, simhash: hash }) => {
    const n = normalizeItem(item, CTX);
    expect(n?.titleKey).toBe(key);
    expect(n?.simhash).toBe(hash);
    expect(n?.simhash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('gives two dressings of one wire story the same title key and close SimHashes', () => {
    const body = '<p>The central bank raised interest rates by a quarter point on Tuesday, citing persistent inflation in services and housing costs across the region.</p>';
    const a = normalizeItem(parsed({ link: 'https://a.example/1', title: 'Central bank raises rates - Daily A', contentHtml: body }), CTX);
    const b = normalizeItem(parsed({ link: 'https://b.example/9', title: 'Central bank raises rates | B Times', contentHtml: `${body}<p>Reporting by Agency.</p>` }), CTX);
    expect(a?.titleKey).toBe('central bank raises rates');
    expect(b?.titleKey).toBe(a?.titleKey);
    const other = normalizeItem(parsed({ link: 'https://c.example/2', title: 'Local team wins cup', contentHtml: '<p>The home side won the regional cup final after extra time in front of a record crowd on Saturday evening.</p>' }), CTX);
    if (!a || !b || !other) throw new Error('items did not normalise');
    expect(hammingDistance(a.simhash, b.simhash)).toBeLessThan(hammingDistance(a.simhash, other.simhash));
  });
});

describe('normalizeItem fields', () => {
  it.each([
    { name: 'title: tags stripped, entities decoded, whitespace collapsed', item: parsed({ guid: 'g', title: ' Fish &amp; <em>Chips</em>\n\t&ndash; 2 ' }), field: 'title', expected: 'Fish & Chips – 2' },
    { name: 'title: from the summary when empty', item: parsed({ guid: 'g', summaryHtml: '<p>Summary words here</p>' }), field: 'title', expected: 'Summary words here' },
    { name: 'title: from the summary, cut near 80 characters', item: parsed({ guid: 'g', summaryHtml: `<p>${'word '.repeat(30)}</p>` }), field: 'title', expected: `${'word '.repeat(16).trim()}…` },
    { name: 'title: from the content when there is no summary', item: parsed({ guid: 'g', contentHtml: '<p>Content words</p>' }), field: 'title', expected: 'Content words' },
    { name: 'title: "(untitled)" when nothing has text', item: parsed({ guid: 'g' }), field: 'title', expected: '(untitled)' },
    { name: 'author: plain text', item: parsed({ guid: 'g', author: ' Ada <b>Reporter</b> ' }), field: 'author', expected: 'Ada Reporter' },
    { name: 'author: empty becomes null', item: parsed({ guid: 'g', author: '  ' }), field: 'author', expected: null },
    { name: 'summary: sanitised, URLs resolved against the link', item: parsed({ link: 'https://pub.example/a/story', summaryHtml: '<p onclick="x()">See <img src="i.png"></p><script>1</script>' }), field: 'summary', expected: '<p>See <img src="https://pub.example/a/i.png" /></p>' },
    { name: 'summary: URLs resolved against the feed without a link', item: parsed({ guid: 'g', summaryHtml: '<a href="/x">x</a>' }), field: 'summary', expected: '<a href="https://aggregator.example/x" rel="nofollow noopener">x</a>' },
    { name: 'summary: a text excerpt of the content when absent', item: parsed({ guid: 'g', contentHtml: '<p>A &amp; B</p><p>C</p>' }), field: 'summary', expected: 'A &amp; B C' },
    { name: 'summary: the excerpt is truncated', item: parsed({ guid: 'g', contentHtml: `<p>${'abcd '.repeat(200)}</p>` }), field: 'summary', expected: `${'abcd '.repeat(80).trim()}…` },
    { name: 'summary: null when sanitising leaves nothing', item: parsed({ guid: 'g', summaryHtml: '<script>x</script>' }), field: 'summary', expected: null },
    { name: 'content: sanitised', item: parsed({ guid: 'g', contentHtml: '<p style="x">ok</p><iframe src="https://e.example"></iframe>' }), field: 'content', expected: '<p>ok</p>' },
    { name: 'content: null when absent', item: parsed({ guid: 'g' }), field: 'content', expected: null },
    { name: 'categories: trimmed, de-duplicated ignoring case, empties dropped', item: parsed({ guid: 'g', categories: [' Local ', 'local', 'Transport', '', '  ', 'LOCAL', 'R&amp;D'] }), field: 'categories', expected: ['Local', 'Transport', 'R&D'] },
    { name: 'categories: at most 20', item: parsed({ guid: 'g', categories: Array.from({ length: 30 }, (_, i) => `c${i}`) }), field: 'categories', expected: Array.from({ length: 20 }, (_, i) => `c${i}`) },
    { name: 'origin: name as text', item: parsed({ guid: 'g', origin: { name: ' Pub &amp; Co ', url: 'https://pub.example/feed', id: null } }), field: 'origin', expected: { name: 'Pub & Co', url: 'https://pub.example/feed', id: null } },
    { name: 'origin: empty becomes null', item: parsed({ guid: 'g', origin: { name: ' ', url: null, id: '' } }), field: 'origin', expected: null },
    { name: 'guid: trimmed', item: parsed({ guid: '  g-1 ' }), field: 'guid', expected: 'g-1' },
    { name: 'guid: control characters removed (PostgreSQL rejects NUL)', item: parsed({ guid: 'g\u0000-\u0001x' }), field: 'guid', expected: 'g-x' },
    { name: 'title: control characters removed', item: parsed({ guid: 'g', title: 'A\u0000B\u001fC' }), field: 'title', expected: 'ABC' },
    { name: 'content: control characters removed', item: parsed({ guid: 'g', contentHtml: '<p>a\u0000b</p>' }), field: 'content', expected: '<p>ab</p>' },
  ])('$name', ({ item, field, expected }) => {
    const n = normalizeItem(item, CTX);
    expect(n?.[field as keyof typeof n]).toEqual(expected);
  });
});

describe('normalizeItem dates', () => {
  it.each([
    { name: 'a past date is kept', input: new Date('2024-05-01T00:00:00Z'), expected: new Date('2024-05-01T00:00:00Z') },
    { name: 'less than a day ahead is kept', input: new Date('2024-06-02T11:00:00Z'), expected: new Date('2024-06-02T11:00:00Z') },
    { name: 'more than a day ahead is clamped to now', input: new Date('2024-06-02T12:00:01Z'), expected: NOW },
    { name: 'far future is clamped to now', input: new Date('2099-01-01T00:00:00Z'), expected: NOW },
    { name: 'missing stays null', input: null, expected: null },
    { name: 'an invalid Date becomes null', input: new Date(Number.NaN), expected: null },
  ])('$name', ({ input, expected }) => {
    const n = normalizeItem(parsed({ guid: 'g', publishedAt: input, updatedAt: input }), CTX);
    expect(n?.publishedAt).toEqual(expected);
    expect(n?.updatedAt).toEqual(expected);
  });
});

describe('normalizeItem content hash', () => {
  const base = parsed({ link: 'https://pub.example/a', title: 'Title', contentHtml: '<p>Body text.</p>' });
  const hash = (over: Partial<ParsedItem>): string | undefined => normalizeItem({ ...base, ...over }, CTX)?.contentHash;

  it('is the sha256 of title, newline and body text', () => {
    expect(hash({})).toBe(sha256('Title\nBody text.'));
  });

  it.each([
    { name: 'whitespace-only changes', over: { contentHtml: '<p>\n  Body   text.\n</p>' } },
    { name: 'markup-only changes', over: { contentHtml: '<div><p class="x">Body <span>text.</span></p></div>' } },
    { name: 'link changes', over: { link: 'https://pub.example/a?utm_source=y' } },
    { name: 'date changes', over: { updatedAt: new Date('2024-05-01T00:00:00Z') } },
    { name: 'category changes', over: { categories: ['x'] } },
  ])('ignores $name', ({ over }) => {
    expect(hash(over)).toBe(hash({}));
  });

  it.each([
    { name: 'a title edit', over: { title: 'Title, corrected' } },
    { name: 'a body edit', over: { contentHtml: '<p>Body text, corrected.</p>' } },
  ])('changes with $name', ({ over }) => {
    expect(hash(over)).not.toBe(hash({}));
  });

  it('uses the summary when there is no content', () => {
    expect(hash({ contentHtml: null, summaryHtml: '<p>Summary</p>' })).toBe(sha256('Title\nSummary'));
  });
});

describe('storyIdFor', () => {
  it.each([
    // Expected values computed independently: base32(sha256(key)), lower-case, first 20 characters.
    { name: 'a url key', key: 'url:https://publisher.example/2024/05/bridge?id=7', expected: '5h23e44pg4ptyr43z2u7' },
    { name: 'a guid key', key: 'guid:src:abc', expected: 'xhrc77k2ufpxijw7ef7h' },
    { name: 'the empty string', key: '', expected: '4oymiquy7qobjgx36tej' },
  ])('is stable for $name', ({ key, expected }) => {
    expect(storyIdFor(key)).toBe(expected);
  });

  it('is 20 lower-case base32 characters', () => {
    expect(storyIdFor('url:https://x.example/')).toMatch(/^[a-z2-7]{20}$/);
  });
});

describe('normalizeItem on the RSS fixture (the aggregator case)', () => {
  it('identifies the republished story by the publisher URL and sanitises it', async () => {
    const feed = await parseFeed(readFileSync(new URL('../fixtures/feeds/rss2.xml', import.meta.url), 'utf8'), { url: CTX.feedUrl });
    const first = feed.items[0];
    if (!first) throw new Error('fixture has no items');
    const n = normalizeItem(first, CTX);
    expect(n).toMatchObject({
      identityKey: 'url:https://publisher.example/2024/05/bridge?id=7',
      canonicalUrl: 'https://publisher.example/2024/05/bridge?id=7',
      link: 'https://aggregator.example/r/123?utm_source=rss&utm_medium=feed&fbclid=abc',
      title: 'Council approves new bridge',
      author: 'Ada Reporter',
      categories: ['Local', 'Transport'],
      origin: { name: 'Publisher Daily', url: 'https://publisher.example/feed.rss', id: null },
      summary: '<p>The council voted 7–2. <a href="https://aggregator.example/r/123/more" rel="nofollow noopener">Read more</a></p>',
      publishedAt: new Date('2024-05-07T09:30:00Z'),
    });
    expect(n?.content).toContain('<img src="https://aggregator.example/r/images/bridge.jpg" alt="The bridge" />');
    expect(n?.content).not.toContain('script');
    expect(storyIdFor(n?.identityKey ?? '')).toBe('5h23e44pg4ptyr43z2u7');
  });
});

describe('normalizeItem enclosures and image', () => {
  const linked = (over: Partial<ParsedItem>): ParsedItem => parsed({ link: 'https://pub.example/news/a', title: 'A', ...over });

  it.each([
    { name: 'none given', item: linked({}), enclosures: [], image: null },
    {
      name: 'kept as parsed',
      item: linked({ enclosures: [{ url: 'https://cdn.example/a.mp3', type: 'audio/mpeg', length: 10 }], image: 'https://cdn.example/a.jpg' }),
      enclosures: [{ url: 'https://cdn.example/a.mp3', type: 'audio/mpeg', length: 10 }],
      image: 'https://cdn.example/a.jpg',
    },
    {
      name: 'relative URLs resolved against the item link',
      item: linked({ enclosures: [{ url: 'media/a.mp3', type: null, length: null }], image: '/img/a.jpg' }),
      enclosures: [{ url: 'https://pub.example/news/media/a.mp3', type: null, length: null }],
      image: 'https://pub.example/img/a.jpg',
    },
    {
      name: 'only http(s): javascript:, data: and ftp: dropped',
      item: linked({
        enclosures: [
          { url: 'javascript:alert(1)', type: 'audio/mpeg', length: 1 },
          { url: 'data:audio/mpeg;base64,AAAA', type: 'audio/mpeg', length: 1 },
          { url: 'ftp://cdn.example/a.mp3', type: 'audio/mpeg', length: 1 },
        ],
        image: 'javascript:alert(1)',
      }),
      enclosures: [],
      image: null,
    },
    {
      name: 'control characters stripped, bad types and lengths unknown, duplicates merged',
      item: linked({
        enclosures: [
          { url: 'https://cdn.example/\u0000a.mp3', type: 'Audio/MPEG; x=1', length: -1 },
          { url: 'https://cdn.example/a.mp3', type: 'video/mp4', length: 2.5 },
          { url: 'https://cdn.example/a.mp3', type: null, length: 99 },
          { url: 'https://cdn.example/b.bin', type: '<script>', length: 0 },
        ],
      }),
      enclosures: [
        { url: 'https://cdn.example/a.mp3', type: 'audio/mpeg', length: 99 },
        { url: 'https://cdn.example/b.bin', type: null, length: null },
      ],
      image: null,
    },
  ])('$name', ({ item, enclosures, image }) => {
    const n = normalizeItem(item, CTX);
    expect({ enclosures: n?.enclosures, image: n?.image }).toEqual({ enclosures, image });
  });

  it('keeps at most 10 enclosures', () => {
    const many = Array.from({ length: 15 }, (_, i) => ({ url: `https://cdn.example/${i}.mp3`, type: 'audio/mpeg', length: null }));
    expect(cleanEnclosures(many).map((e) => e.url)).toEqual(many.slice(0, 10).map((e) => e.url));
  });

  it('does not count enclosures or the image in the content hash (they are not an edit of the text)', () => {
    const plain = normalizeItem(linked({ summaryHtml: '<p>x</p>' }), CTX);
    const withMedia = normalizeItem(linked({ summaryHtml: '<p>x</p>', image: 'https://cdn.example/a.jpg', enclosures: [{ url: 'https://cdn.example/a.mp3', type: null, length: null }] }), CTX);
    expect(withMedia?.contentHash).toBe(plain?.contentHash);
  });

  it.each([
    { name: 'an absolute URL', raw: ' https://cdn.example/a.jpg ', base: null, out: 'https://cdn.example/a.jpg' },
    { name: 'a relative URL without a base', raw: '/a.jpg', base: null, out: null },
    { name: 'a URL longer than 2048 characters', raw: `https://cdn.example/${'a'.repeat(2100)}`, base: null, out: null },
    { name: 'nothing', raw: null, base: null, out: null },
  ])('cleanMediaUrl: $name', ({ raw, base, out }) => {
    expect(cleanMediaUrl(raw, base)).toBe(out);
  });

  it('carries the media of the RSS media fixture through', async () => {
    const feed = await parseFeed(readFileSync(new URL('../fixtures/feeds/rss2-media.xml', import.meta.url), 'utf8'), { url: 'https://media.example/feed.xml' });
    const episode = feed.items[0];
    if (!episode) throw new Error('fixture has no items');
    expect(normalizeItem(episode, { ...CTX, feedUrl: 'https://media.example/feed.xml' })).toMatchObject({
      enclosures: [{ url: 'https://cdn.media.example/ep1.mp3', type: 'audio/mpeg', length: 12345678 }],
      image: 'https://cdn.media.example/ep1.jpg',
    });
  });
});
