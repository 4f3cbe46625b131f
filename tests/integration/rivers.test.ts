import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RiverConfig } from '../../src/domain.js';
import { createFeedCache, type FeedCache } from '../../src/http/feed-cache.js';
import { FEED_CONTENT_TYPES } from '../../src/http/render-feed.js';
import { buildServer } from '../../src/http/server.js';
import { silentLogger } from '../../src/log.js';
import { formatProblem, parseFeedsYaml } from '../../src/sources.js';
import type { Database } from '../../src/store/database.js';
import { listStories } from '../../src/store/items-query.js';
import { pageVersion, type RiverFilter } from '../../src/store/river-query.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { resetRiver, seedSource, seedStory } from '../helpers/seed.js';

// Rivers, per-source and per-tag feeds, paging and archives (RFC 5005), ttl, hub and the rendered-
// feed cache, end to end: feeds.yaml text -> config, a seeded database (PGlite, or PostgreSQL with
// DATABASE_URL), the real server on 127.0.0.1, real HTTP requests, outputs read back by parsing
// the XML/JSON they are made of.

const FEEDS_YAML = (hub: string | null) => `
title: Test River
base_url: https://river.example/
settings:
  every: 30m
${hub ? `  websub_hub: ${hub}` : ''}
feeds:
  - id: city
    url: http://city.test/feed.xml
    name: City Paper
    tags: [local, news]
    every: 10m
    content: full
  - id: agg
    url: http://agg.test/feed.xml
    name: Aggregator
    kind: aggregator
    tags: [aggregated]
    every: 5m
  - id: tech
    url: http://tech.test/feed.xml
    name: Tech Blog
    tags: [tech]
    every: 2h
  - id: wire
    url: http://wire.test/feed.xml
    tags: [news]
    every: 1m
    enabled: false
rivers:
  - name: local
    title: Local news
    tags: [local]
  - name: no-agg
    exclude_publishers: [agg]
  - name: no-city
    exclude_publishers: ["city paper"]
  - name: budget
    q: budget
  - name: recent
    since: 2026-03-09
  - name: tech-and-agg
    sources: [tech, agg]
    footer: false
`;

function config(hub: string | null = null): RiverConfig {
  const result = parseFeedsYaml(FEEDS_YAML(hub), 'feeds.yaml');
  if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
  return result.config;
}

// "Now" for the server: days up to and including 2026-03-08 are archived.
const NOW = new Date('2026-03-10T12:00:00Z');
const at = (iso: string) => new Date(iso);

let tdb: TestDatabase;
let db: Kysely<Database>;
let app: FastifyInstance;
let base: string;
let river: RiverConfig = config();
let cache: FeedCache;
let clock = NOW;

beforeAll(async () => {
  tdb = await createTestDatabase();
  db = tdb.db;
  cache = createFeedCache();
  app = buildServer({
    db,
    river: () => river,
    publicBaseUrl: () => 'https://river.example',
    logger: silentLogger(),
    feedCache: cache,
    now: () => clock,
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app?.close();
  await tdb?.close();
});

beforeEach(async () => {
  river = config();
  clock = NOW;
  cache.clear();
  await resetRiver(db);
});

/**
 *   c1  city          2026-03-05 10:00
 *   b1  city, agg     2026-03-05 14:00  "Council approves the budget" (published by city)
 *       (nothing on 2026-03-06)
 *   t1  tech          2026-03-07 09:00
 *   a1  agg           2026-03-08 23:30  (published by the aggregator itself)
 *   c2  city          2026-03-09 08:00  (yesterday: not archived yet)
 *   t2  tech          2026-03-10 11:00  (today)
 */
async function seedRiver(): Promise<void> {
  await seedSource(db, { id: 'city', name: 'City Paper', tags: ['local', 'news'], contentPolicy: 'full', everySeconds: 600 });
  await seedSource(db, { id: 'agg', name: 'Aggregator', tags: ['aggregated'], kind: 'aggregator', everySeconds: 300 });
  await seedSource(db, { id: 'tech', name: 'Tech Blog', tags: ['tech'], everySeconds: 7200 });
  await seedStory(db, { id: 'c1', via: ['city'], title: 'Council meets', publishedAt: at('2026-03-05T10:00:00Z') });
  await seedStory(db, { id: 'b1', via: ['city', 'agg'], title: 'Council approves the budget', publishedAt: at('2026-03-05T14:00:00Z') });
  await seedStory(db, { id: 't1', via: ['tech'], title: 'Marathon on a smartwatch', publishedAt: at('2026-03-07T09:00:00Z') });
  await seedStory(db, { id: 'a1', via: ['agg'], title: 'Weekly roundup', publishedAt: at('2026-03-08T23:30:00Z') });
  await seedStory(db, { id: 'c2', via: ['city'], title: 'Roadworks on Main Street', publishedAt: at('2026-03-09T08:00:00Z') });
  await seedStory(db, { id: 't2', via: ['tech'], title: 'New phone reviewed', publishedAt: at('2026-03-10T11:00:00Z') });
}

// ---------------------------------------------------------------------------------------------
// Reading outputs back

async function get(path: string, headers: Record<string, string> = {}) {
  const url = path.startsWith('https://river.example') ? path.replace('https://river.example', base) : `${base}${path}`;
  const res = await request(url, { headers });
  const text = await res.body.text();
  const header = (name: string): string | undefined => {
    const v = res.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  return { status: res.statusCode, header, text };
}

const decode = (s: string) => s.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** Every <link>/<atom:link> of an XML feed outside its entries, as {rel, href}. */
function feedLinks(xml: string): { rel: string; href: string }[] {
  const head = xml.split(/<entry>|<item>/)[0]!;
  return [...head.matchAll(/<(?:atom:)?link\b([^>]*)\/?>/g)].map((m) => {
    const attrs = Object.fromEntries([...m[1]!.matchAll(/([\w:-]+)="([^"]*)"/g)].map((a) => [a[1], decode(a[2]!)]));
    return { rel: attrs.rel ?? 'alternate', href: attrs.href ?? '' };
  });
}

function link(xml: string, rel: string): string | undefined {
  return feedLinks(xml).find((l) => l.rel === rel)?.href;
}

/** Story ids (the last segment of each entry's id, which is the story's canonical URL). */
function atomIds(xml: string): string[] {
  return [...xml.matchAll(/<entry>[\s\S]*?<id>([^<]*)<\/id>/g)].map((m) => decode(m[1]!).split('/').pop()!);
}

function rssIds(xml: string): string[] {
  return [...xml.matchAll(/<item>[\s\S]*?<guid[^>]*>([^<]*)<\/guid>/g)].map((m) => decode(m[1]!).split('/').pop()!);
}

interface JsonFeed {
  feed_url: string;
  home_page_url: string;
  title: string;
  next_url?: string;
  hubs?: { type: string; url: string }[];
  items: { url: string; content_html?: string }[];
}

async function json(path: string): Promise<{ status: number; feed: JsonFeed; header: (n: string) => string | undefined }> {
  const res = await get(path);
  return { status: res.status, feed: JSON.parse(res.text) as JsonFeed, header: res.header };
}

const jsonIds = (feed: JsonFeed) => feed.items.map((i) => i.url.split('/').pop()!);

// ---------------------------------------------------------------------------------------------

describe('named rivers', () => {
  it.each([
    { name: 'by tag', river: 'local', expected: ['c2', 'b1', 'c1'] },
    { name: 'excluding a publisher by feed id (its own stories, not the ones it carried)', river: 'no-agg', expected: ['t2', 'c2', 't1', 'b1', 'c1'] },
    { name: 'excluding a publisher by name, case-insensitively', river: 'no-city', expected: ['t2', 'a1', 't1'] },
    { name: 'by full-text query', river: 'budget', expected: ['b1'] },
    { name: 'since a date', river: 'recent', expected: ['t2', 'c2'] },
    { name: 'by sources (via)', river: 'tech-and-agg', expected: ['t2', 'a1', 't1', 'b1'] },
  ])('$name: /rivers/$river.json', async ({ river: name, expected }) => {
    await seedRiver();
    const res = await json(`/rivers/${name}.json`);
    expect(res.status).toBe(200);
    expect(jsonIds(res.feed)).toEqual(expected);
    expect(res.feed.feed_url).toBe(`https://river.example/rivers/${name}.json`);
  });

  it('serves all three formats with their content types, the same entries, and its title', async () => {
    await seedRiver();
    const rss = await get('/rivers/local.xml');
    const atom = await get('/rivers/local.atom');
    expect(rss.header('content-type')).toBe(FEED_CONTENT_TYPES.rss);
    expect(atom.header('content-type')).toBe(FEED_CONTENT_TYPES.atom);
    expect(rssIds(rss.text)).toEqual(['c2', 'b1', 'c1']);
    expect(atomIds(atom.text)).toEqual(['c2', 'b1', 'c1']);
    expect(atom.text).toContain('<title>Local news</title>');
    // No title in feeds.yaml: the river's, with the name.
    expect((await json('/rivers/budget.json')).feed.title).toBe('Test River: budget');
  });

  it('footer: on by default for content: full stories, off where the river says so', async () => {
    await seedRiver();
    const withFooter = (await json('/rivers/local.json')).feed.items.find((i) => i.url.endsWith('/b1'))!;
    expect(withFooter.content_html).toContain('Originally published by');
    const without = (await json('/rivers/tech-and-agg.json')).feed.items.find((i) => i.url.endsWith('/b1'))!;
    expect(without.content_html ?? '').not.toContain('Originally published by');
  });

  it.each([
    { name: 'an unknown river, with a suggestion', path: '/rivers/locl.atom', message: 'no river named "locl"; did you mean "local"?' },
    { name: 'an unknown format', path: '/rivers/local.rss', message: 'no such feed: /rivers/local.rss; a river is served as /rivers/NAME.xml, .atom or .json' },
    { name: 'no format', path: '/rivers/local', message: 'no such feed: /rivers/local; a river is served as /rivers/NAME.xml, .atom or .json' },
  ])('404 JSON for $name', async ({ path, message }) => {
    const res = await get(path);
    expect(res.status).toBe(404);
    expect(JSON.parse(res.text)).toEqual({ error: { code: 'not_found', message } });
  });

  it('takes ?limit but not the river filters of /feed.*', async () => {
    await seedRiver();
    expect(jsonIds((await json('/rivers/local.json?limit=2')).feed)).toEqual(['c2', 'b1']);
    const res = await get('/rivers/local.json?tag=tech');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error).toMatchObject({ code: 'bad_request', parameter: 'tag' });
  });
});

describe('per-source and per-tag feeds', () => {
  it('/sources/<id>/feed.* carries what came via that feed', async () => {
    await seedRiver();
    expect(jsonIds((await json('/sources/agg/feed.json')).feed)).toEqual(['a1', 'b1']);
    const atom = await get('/sources/city/feed.atom');
    expect(atom.status).toBe(200);
    expect(atomIds(atom.text)).toEqual(['c2', 'b1', 'c1']);
    expect(link(atom.text, 'self')).toBe('https://river.example/sources/city/feed.atom');
    expect(atom.text).toContain('<title>Test River: City Paper</title>');
  });

  it('/tags/<tag>/feed.* carries that tag, folded to lower case', async () => {
    await seedRiver();
    const rss = await get('/tags/TECH/feed.xml');
    expect(rss.status).toBe(200);
    expect(rssIds(rss.text)).toEqual(['t2', 't1']);
    expect(link(rss.text, 'self')).toBe('https://river.example/tags/tech/feed.xml');
  });

  it.each([
    { name: 'a source not in feeds.yaml, with a suggestion', path: '/sources/tehc/feed.xml', message: 'no feed with id "tehc" in feeds.yaml; did you mean "tech"?' },
    { name: 'a removed source whose stories remain', path: '/sources/gone/feed.json', message: 'no feed with id "gone" in feeds.yaml' },
    { name: 'a tag no feed has', path: '/tags/sport/feed.atom', message: 'no feed in feeds.yaml has the tag "sport"' },
  ])('404 JSON for $name', async ({ path, message }) => {
    await seedRiver();
    await seedSource(db, { id: 'gone', active: false });
    await seedStory(db, { id: 'g1', via: ['gone'] });
    const res = await get(path);
    expect(res.status).toBe(404);
    expect(JSON.parse(res.text)).toEqual({ error: { code: 'not_found', message } });
  });
});

describe('self, alternate and hub links; ttl and Cache-Control', () => {
  it.each([
    { name: 'the river', path: '/feed.xml', ttl: 5 },
    { name: 'a filtered river (the fastest of its feeds)', path: '/feed.xml?source=tech', ttl: 60 },
    { name: 'a named river by tag', path: '/rivers/local.xml', ttl: 10 },
    { name: 'a slow source, bounded to an hour', path: '/sources/tech/feed.xml', ttl: 60 },
    { name: 'a tag', path: '/tags/news/feed.xml', ttl: 10 },
  ])('$name: <ttl> $ttl and max-age the same', async ({ path, ttl }) => {
    await seedRiver();
    const res = await get(path);
    expect(res.status).toBe(200);
    expect(res.text).toContain(`<ttl>${ttl}</ttl>`);
    expect(res.header('cache-control')).toBe(`public, max-age=${ttl * 60}`);
  });

  it('every format names itself and the other two formats', async () => {
    await seedRiver();
    const atom = await get('/rivers/local.atom?limit=2');
    expect(link(atom.text, 'self')).toBe('https://river.example/rivers/local.atom?limit=2');
    const alternates = feedLinks(atom.text).filter((l) => l.rel === 'alternate').map((l) => l.href);
    expect(alternates).toEqual(
      expect.arrayContaining([
        'https://river.example/',
        'https://river.example/rivers/local.xml?limit=2',
        'https://river.example/rivers/local.json?limit=2',
      ]),
    );
    const rss = await get('/rivers/local.xml?limit=2');
    expect(link(rss.text, 'self')).toBe('https://river.example/rivers/local.xml?limit=2');
    const { feed } = await json('/rivers/local.json?limit=2');
    expect(feed.feed_url).toBe('https://river.example/rivers/local.json?limit=2');
    expect(feed.home_page_url).toBe('https://river.example/');
  });

  it('the hub is advertised on the feeds it is pinged for, and only there', async () => {
    river = config('http://hub.test/');
    await seedRiver();
    for (const path of ['/feed.atom', '/rivers/local.atom']) {
      const res = await get(path);
      expect(link(res.text, 'hub')).toBe('http://hub.test/');
      expect(link(res.text, 'self')).toBe(`https://river.example${path}`);
    }
    expect(link((await get('/feed.xml')).text, 'hub')).toBe('http://hub.test/');
    expect((await json('/rivers/local.json')).feed.hubs).toEqual([{ type: 'WebSub', url: 'http://hub.test/' }]);
    // Not pinged: filtered URLs, per-source feeds, pages and archives.
    for (const path of ['/feed.atom?tag=tech', '/feed.atom?limit=3', '/sources/city/feed.atom', '/feed.atom?archive=2026-03-08']) {
      expect(link((await get(path)).text, 'hub')).toBeUndefined();
    }
    river = config();
    expect(link((await get('/feed.atom')).text, 'hub')).toBeUndefined();
  });
});

describe('paging: rel="next"', () => {
  async function followNext(first: string, read: (res: { text: string }) => { ids: string[]; next: string | undefined }) {
    const seen: string[] = [];
    let url: string | undefined = first;
    for (let pages = 0; url && pages < 20; pages++) {
      const res = await get(url);
      expect(res.status).toBe(200);
      const page = read(res);
      seen.push(...page.ids);
      url = page.next;
    }
    return seen;
  }

  it.each([
    { name: 'Atom', path: '/feed.atom?limit=2', read: (r: { text: string }) => ({ ids: atomIds(r.text), next: link(r.text, 'next') }) },
    { name: 'RSS', path: '/feed.xml?limit=4', read: (r: { text: string }) => ({ ids: rssIds(r.text), next: link(r.text, 'next') }) },
    {
      name: 'JSON Feed next_url',
      path: '/feed.json?limit=1',
      read: (r: { text: string }) => {
        const f = JSON.parse(r.text) as JsonFeed;
        return { ids: jsonIds(f), next: f.next_url };
      },
    },
  ])('$name: following next from the subscription document reads every story once, newest first', async ({ path, read }) => {
    await seedRiver();
    expect(await followNext(path, read)).toEqual(['t2', 'c2', 'a1', 't1', 'b1', 'c1']);
  });

  it('pages of a river with exclusions are full and skip what is excluded', async () => {
    await seedRiver();
    // Twelve stories of the excluded publisher between two kept ones: the page reads past them.
    for (let i = 0; i < 12; i++) await seedStory(db, { id: `x${i}`, via: ['agg'], publishedAt: at(`2026-03-06T${String(10 + i).padStart(2, '0')}:00:00Z`) });
    const seen = await followNext('/rivers/no-agg.atom?limit=2', (r) => ({ ids: atomIds(r.text), next: link(r.text, 'next') }));
    expect(seen).toEqual(['t2', 'c2', 't1', 'b1', 'c1']);
  });

  it('the next page keeps its place when newer stories arrive', async () => {
    await seedRiver();
    const first = await get('/feed.atom?limit=3');
    const next = link(first.text, 'next')!;
    await seedStory(db, { id: 'n1', via: ['tech'], publishedAt: at('2026-03-10T11:30:00Z') });
    expect(atomIds((await get(next)).text)).toEqual(['t1', 'b1', 'c1']);
    expect(link((await get(next)).text, 'next')).toBeUndefined();
  });

  it.each([
    { name: 'a page this server did not issue', query: '?page=abc', parameter: 'page' },
    { name: 'page and archive together', query: '?page=WyIyMDI2LTAzLTA5VDA4OjAwOjAwLjAwMFoiLCJjMiJd&archive=2026-03-05', parameter: 'page' },
    { name: 'an archive that is not a day', query: '?archive=2026-02-30', parameter: 'archive' },
    { name: 'limit on an archive', query: '?archive=2026-03-05&limit=5', parameter: 'limit' },
    { name: 'a misspelt parameter', query: '?archiv=2026-03-05', parameter: 'archiv' },
  ])('400 for $name', async ({ query, parameter }) => {
    const res = await get(`/feed.atom${query}`);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error).toMatchObject({ code: 'bad_request', parameter });
  });
});

describe('archives: RFC 5005 archived feeds', () => {
  /** An RFC 5005 reader: the subscription document, then prev-archive links until there are none. */
  async function backfill(subscription: string) {
    const sub = await get(subscription);
    const archives: { url: string; ids: string[]; current: string | undefined }[] = [];
    let url = link(sub.text, 'prev-archive');
    while (url && archives.length < 20) {
      const res = await get(url);
      expect(res.status).toBe(200);
      archives.push({ url, ids: atomIds(res.text), current: link(res.text, 'current') });
      url = link(res.text, 'prev-archive');
    }
    return { subscription: atomIds(sub.text), archives };
  }

  it('a reader following prev-archive from the subscription document collects every story exactly once', async () => {
    await seedRiver();
    const { subscription, archives } = await backfill('/feed.atom');
    // One archive per day with stories, newest first; the empty 2026-03-06 is skipped.
    expect(archives.map((a) => a.url)).toEqual([
      'https://river.example/feed.atom?archive=2026-03-08',
      'https://river.example/feed.atom?archive=2026-03-07',
      'https://river.example/feed.atom?archive=2026-03-05',
    ]);
    expect(archives.map((a) => a.ids)).toEqual([['a1'], ['t1'], ['b1', 'c1']]);
    for (const a of archives) expect(a.current).toBe('https://river.example/feed.atom');
    // Each story is in one archive at most, and archives + subscription document hold them all.
    const archived = archives.flatMap((a) => a.ids);
    expect(new Set(archived).size).toBe(archived.length);
    expect(new Set([...subscription, ...archived])).toEqual(new Set(['t2', 'c2', 'a1', 't1', 'b1', 'c1']));
    // The days not archived yet (yesterday and today) are in no archive.
    expect(archived).not.toContain('c2');
    expect(archived).not.toContain('t2');
  });

  it('the subscription document of a short page links the same archives; its next pages hold the rest of the open days', async () => {
    await seedRiver();
    const sub = await get('/feed.atom?limit=1');
    expect(atomIds(sub.text)).toEqual(['t2']);
    // Archives do not depend on the subscriber's limit.
    expect(link(sub.text, 'prev-archive')).toBe('https://river.example/feed.atom?archive=2026-03-08');
    expect(atomIds((await get(link(sub.text, 'next')!)).text)).toEqual(['c2']);
  });

  it('filters apply to archives, and a river`s archives chain its own days', async () => {
    await seedRiver();
    const { archives } = await backfill('/rivers/tech-and-agg.atom');
    expect(archives.map((a) => [a.url, a.ids])).toEqual([
      ['https://river.example/rivers/tech-and-agg.atom?archive=2026-03-08', ['a1']],
      ['https://river.example/rivers/tech-and-agg.atom?archive=2026-03-07', ['t1']],
      ['https://river.example/rivers/tech-and-agg.atom?archive=2026-03-05', ['b1']],
    ]);
    const filtered = await backfill('/feed.atom?tag=local');
    expect(filtered.archives.map((a) => [a.url, a.ids])).toEqual([['https://river.example/feed.atom?tag=local&archive=2026-03-05', ['b1', 'c1']]]);
  });

  it('JSON Feed archives chain through next_url; RSS archives link prev-archive and current', async () => {
    await seedRiver();
    const { feed } = await json('/feed.json?archive=2026-03-08');
    expect(jsonIds(feed)).toEqual(['a1']);
    expect(feed.next_url).toBe('https://river.example/feed.json?archive=2026-03-07');
    const rss = await get('/feed.xml?archive=2026-03-07');
    expect(rssIds(rss.text)).toEqual(['t1']);
    expect(link(rss.text, 'prev-archive')).toBe('https://river.example/feed.xml?archive=2026-03-05');
    expect(link(rss.text, 'current')).toBe('https://river.example/feed.xml');
    expect(link((await get('/feed.xml?archive=2026-03-05')).text, 'prev-archive')).toBeUndefined();
  });

  it('archives are stable: new stories do not change them, edits do; they may be kept a day', async () => {
    await seedRiver();
    const first = await get('/feed.atom?archive=2026-03-05');
    expect(first.header('cache-control')).toBe('public, max-age=86400');
    const etag = first.header('etag')!;
    await seedStory(db, { id: 'n1', via: ['city'], publishedAt: at('2026-03-10T11:45:00Z') });
    expect((await get('/feed.atom?archive=2026-03-05', { 'if-none-match': etag })).status).toBe(304);
    await db.updateTable('items').set({ title: 'Council approves the amended budget', content_hash: 'edited' }).where('id', '=', 'b1').execute();
    const edited = await get('/feed.atom?archive=2026-03-05', { 'if-none-match': etag });
    expect(edited.status).toBe(200);
    expect(edited.text).toContain('Council approves the amended budget');
  });

  it.each([
    { name: 'yesterday (stories may still arrive)', day: '2026-03-09' },
    { name: 'today', day: '2026-03-10' },
    { name: 'a future day', day: '2027-01-01' },
  ])('no archive for $name: 404', async ({ day }) => {
    const res = await get(`/feed.atom?archive=${day}`);
    expect(res.status).toBe(404);
    expect(JSON.parse(res.text).error.message).toMatch(new RegExp(`^no archive for ${day} yet`));
  });

  it('an archived day without stories is an empty archive document, not an error', async () => {
    await seedRiver();
    const res = await get('/feed.atom?archive=2026-03-06');
    expect(res.status).toBe(200);
    expect(atomIds(res.text)).toEqual([]);
    expect(link(res.text, 'prev-archive')).toBe('https://river.example/feed.atom?archive=2026-03-05');
  });
});

describe('the rendered-feed cache', () => {
  it('serves a repeated request from the cache, with the same validators', async () => {
    await seedRiver();
    const first = await get('/feed.atom');
    const before = cache.stats();
    const second = await get('/feed.atom');
    expect(second.text).toBe(first.text);
    expect(second.header('etag')).toBe(first.header('etag'));
    expect(cache.stats().hits).toBe(before.hits + 1);
  });

  it.each([
    { coding: 'gzip', decode: gunzipSync },
    { coding: 'br', decode: brotliDecompressSync },
  ])('a cached document goes out $coding-encoded, compressed once, the same document', async ({ coding, decode }) => {
    await seedRiver();
    const plain = await get('/feed.atom');
    for (let i = 0; i < 2; i++) {
      const res = await request(`${base}/feed.atom`, { headers: { 'accept-encoding': coding } });
      const raw = Buffer.from(await res.body.arrayBuffer());
      expect(res.headers['content-encoding']).toBe(coding);
      expect(String(res.headers.vary).toLowerCase()).toBe('accept-encoding');
      expect(Number(res.headers['content-length'])).toBe(raw.length);
      expect(decode(raw).toString('utf8')).toBe(plain.text);
    }
  });

  it.each([
    {
      name: 'a new story',
      change: () => seedStory(db, { id: 'n1', via: ['tech'], title: 'Fresh story', publishedAt: at('2026-03-10T11:50:00Z') }).then(() => undefined),
      expect: 'Fresh story',
    },
    {
      name: 'an edit that keeps updated_at (text and content hash only)',
      change: async () => {
        await db.updateTable('items').set({ summary: '<p>Corrected summary</p>', content_hash: 'h2' }).where('id', '=', 't2').execute();
      },
      expect: 'Corrected summary',
    },
    {
      name: 'a feed carrying a story it did not carry before',
      change: async () => {
        await db.insertInto('item_sources').values({ item_id: 't2', source_id: 'agg', first_seen_at: at('2026-03-10T11:55:00Z') }).execute();
      },
      expect: null,
    },
    {
      name: 'a better attribution',
      change: async () => {
        await db.updateTable('items').set({ publisher_name: 'Tech Blog Daily' }).where('id', '=', 't2').execute();
      },
      expect: 'Tech Blog Daily',
    },
  ])('a cached document is replaced after $name, written by another process', async ({ change, expect: text }) => {
    await seedRiver();
    const first = await get('/feed.json');
    await get('/feed.json');
    await change();
    const after = await get('/feed.json');
    expect(after.header('etag')).not.toBe(first.header('etag'));
    expect(after.text).not.toBe(first.text);
    if (text) expect(after.text).toContain(text);
    expect((await get('/feed.json', { 'if-none-match': first.header('etag')! })).status).toBe(200);
  });

  it('a story dated in the future neither moves Last-Modified past now nor changes the ETag as time passes', async () => {
    await seedRiver();
    await seedStory(db, { id: 'f1', via: ['tech'], publishedAt: at('2026-03-10T18:00:00Z') });
    const first = await get('/feed.atom');
    expect(first.header('last-modified')).toBe(NOW.toUTCString());
    clock = new Date(NOW.getTime() + 5_000);
    const hits = cache.stats().hits;
    const later = await get('/feed.atom');
    expect(later.header('etag')).toBe(first.header('etag'));
    expect(later.header('last-modified')).toBe(clock.toUTCString());
    expect(cache.stats().hits).toBe(hits + 1);
  });

  it('two servers over one database agree without telling each other anything', async () => {
    await seedRiver();
    const other = buildServer({ db, river: () => river, publicBaseUrl: () => 'https://river.example', logger: silentLogger(), now: () => NOW });
    const otherBase = await other.listen({ host: '127.0.0.1', port: 0 });
    try {
      const a1 = await get('/feed.atom');
      const b1 = await request(`${otherBase}/feed.atom`).then((r) => r.body.text());
      expect(b1).toBe(a1.text);
      await seedStory(db, { id: 'n2', via: ['city'], title: 'Written elsewhere', publishedAt: at('2026-03-10T11:58:00Z') });
      const a2 = await get('/feed.atom');
      const b2 = await request(`${otherBase}/feed.atom`).then((r) => r.body.text());
      expect(a2.text).toContain('Written elsewhere');
      expect(b2).toBe(a2.text);
    } finally {
      await other.close();
    }
  });
});

describe('river-query: pageVersion selects what listStories lists', () => {
  it.each<{ name: string; filter: RiverFilter; limit: number }>([
    { name: 'everything', filter: {}, limit: 50 },
    { name: 'a page', filter: {}, limit: 2 },
    { name: 'a source, through a cluster member', filter: { sources: ['agg'] }, limit: 50 },
    { name: 'tags', filter: { tags: ['local', 'tech'] }, limit: 50 },
    { name: 'q matching a member only', filter: { q: 'copy' }, limit: 50 },
    { name: 'a window', filter: { since: at('2026-03-05T12:00:00Z'), until: at('2026-03-09T00:00:00Z') }, limit: 50 },
  ])('$name', async ({ filter, limit }) => {
    await seedRiver();
    // A cluster: s1 (city) is represented, s2 (agg's copy, later) is a member only.
    await seedStory(db, { id: 's1', via: ['city'], title: 'Storm hits', publishedAt: at('2026-03-07T12:00:00Z'), clusterId: 's1' });
    await seedStory(db, { id: 's2', via: ['agg'], title: 'Storm hits (copy)', publishedAt: at('2026-03-07T13:00:00Z'), clusterId: 's1' });
    const version = await pageVersion(db, filter, { limit });
    const listed = await listStories(db, { ...filter, limit, collapseClusters: true });
    expect(version.ids).toEqual(listed.stories.map((s) => s.id));
    expect(version.nextCursor !== null).toBe(listed.nextCursor !== null);
    if (listed.stories.length) {
      const last = listed.stories.at(-1)!;
      if (version.nextCursor) expect(version.nextCursor).toEqual({ publishedAt: last.publishedAt, id: last.id });
      const newest = Math.max(...listed.stories.flatMap((s) => [s.updatedAt.getTime(), ...s.alsoPublishedBy.map((m) => m.publishedAt.getTime())]));
      expect(version.newest?.getTime()).toBe(newest);
    }
  });
});
