import { gunzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import Parser from 'rss-parser';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Story } from '../../src/domain.js';
import { EMPTY_RIVER_LAST_MODIFIED } from '../../src/http/feed-routes.js';
import { FEED_CONTENT_TYPES } from '../../src/http/render-feed.js';
import { buildServer } from '../../src/http/server.js';
import { silentLogger } from '../../src/log.js';
import type { Database } from '../../src/store/database.js';
import { VERSION } from '../../src/version.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { getSourceHistory } from '../../src/store/sources-query.js';
import { resetRiver, seedFetchLog, seedHost, seedRevision, seedSource, seedStory } from '../helpers/seed.js';

// The read side end to end: a seeded database (PGlite, or PostgreSQL when DATABASE_URL is set),
// the real server on 127.0.0.1, real HTTP requests. One database per file; each test starts from
// an empty river and seeds what it asserts on.

const PUBLIC_BASE = 'https://river.example/'; // trailing slash on purpose: URLs must not get '//'
const T0 = Date.UTC(2024, 4, 1, 8, 0, 0);
const at = (hours: number) => new Date(T0 + hours * 3_600_000);

let tdb: TestDatabase;
let db: Kysely<Database>;
let app: FastifyInstance;
let base: string;
let riverTitle = 'Test River';

beforeAll(async () => {
  tdb = await createTestDatabase();
  db = tdb.db;
  app = buildServer({
    db,
    river: () => ({ title: riverTitle, baseUrl: PUBLIC_BASE, settings: { everyMs: 60_000, websubHub: null, footer: false } }),
    publicBaseUrl: () => PUBLIC_BASE,
    logger: silentLogger(),
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app?.close();
  await tdb?.close();
});

beforeEach(async () => {
  riverTitle = 'Test River';
  await resetRiver(db);
});

/** Raw HTTP (undici.request does not decompress, unlike fetch). */
async function get(path: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') {
  const res = await request(`${base}${path}`, { method, headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  const header = (name: string): string | undefined => {
    const v = res.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  return { status: res.statusCode, header, body, text: body.toString('utf8') };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted on, not trusted
async function getJson<T = any>(path: string) {
  const res = await get(path);
  return { ...res, json: JSON.parse(res.text) as T };
}

/**
 * A publisher, an aggregator that republishes it, and a tech blog:
 *   budget   published by city, carried by city and then agg (the defining case)
 *   marathon published by tech
 *   roundup  published by agg itself
 *   council  published by city
 */
async function seedRiver(): Promise<Record<'budget' | 'marathon' | 'roundup' | 'council', Story>> {
  await seedSource(db, { id: 'city', name: 'City Paper', tags: ['local', 'news'] });
  await seedSource(db, { id: 'agg', name: 'Aggregator', tags: ['aggregated'] });
  await seedSource(db, { id: 'tech', name: 'Tech Blog', tags: ['tech'] });
  const council = await seedStory(db, { id: 'council', via: ['city'], title: 'Council meets on Tuesday', publishedAt: at(0) });
  const budget = await seedStory(db, {
    id: 'budget',
    via: ['city', 'agg'],
    title: 'Council approves the budget',
    summary: '<p>The city budget passed after a long debate.</p>',
    author: 'Jane Reporter',
    categories: ['Politics'],
    publishedAt: at(1),
    updatedAt: at(5),
  });
  const marathon = await seedStory(db, {
    id: 'marathon',
    via: ['tech'],
    title: 'Running a marathon on a smartwatch',
    summary: '<p>Battery life matters.</p>',
    publishedAt: at(2),
  });
  const roundup = await seedStory(db, { id: 'roundup', via: ['agg'], title: 'Weekly roundup', publishedAt: at(3) });
  return { budget, marathon, roundup, council };
}

interface ItemsPage {
  items: { id: string }[];
  next_cursor: string | null;
}

const ids = (items: { id: string }[]) => items.map((i) => i.id);
/** JSON Feed items are identified by URL; seeded stories live at http://<publisher>.test/<story id>. */
const feedIds = (items: { url: string }[]) => items.map((i) => i.url.split('/').pop());

describe('feeds', () => {
  it.each([
    { format: 'rss' as const, path: '/feed.xml' },
    { format: 'atom' as const, path: '/feed.atom' },
    { format: 'json' as const, path: '/feed.json' },
  ])('$path is $format with its content type, stories newest first', async ({ format, path }) => {
    await seedRiver();
    const res = await get(path);
    expect(res.status).toBe(200);
    expect(res.header('content-type')).toBe(FEED_CONTENT_TYPES[format]);
    expect(res.header('cache-control')).toBe('public, max-age=60');
    expect(res.header('vary')?.toLowerCase()).toBe('accept-encoding');
    const titles = ['Weekly roundup', 'Running a marathon on a smartwatch', 'Council approves the budget', 'Council meets on Tuesday'];
    const positions = titles.map((t) => res.text.indexOf(t));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(res.text).toContain(`https://river.example${path}`);
    expect(res.text).not.toContain('river.example//');
    if (format !== 'json') expect(res.text).toContain(`Tributary ${VERSION}`);
    expect(res.text).toContain('Test River');
  });

  it('JSON Feed carries the stories in order and the self URL of the query', async () => {
    await seedRiver();
    const res = await getJson<{ feed_url: string; items: { url: string }[] }>('/feed.json?tag=news,tech&limit=10');
    expect(feedIds(res.json.items)).toEqual(['marathon', 'budget', 'council']);
    // The self URL is the normalised query: default-free, lists sorted.
    expect(res.json.feed_url).toBe('https://river.example/feed.json?limit=10&tag=news,tech');
  });

  it.each([
    { name: 'limit', query: '?limit=2', expected: ['roundup', 'marathon'] },
    // "via", not "published by": the aggregator's copy of the city's budget story counts.
    { name: 'source (by via)', query: '?source=agg', expected: ['roundup', 'budget'] },
    { name: 'several sources', query: '?source=tech,agg', expected: ['roundup', 'marathon', 'budget'] },
    { name: 'tag', query: '?tag=tech', expected: ['marathon'] },
    { name: 'tag and source together', query: '?tag=local&source=agg', expected: ['budget'] },
    { name: 'q', query: '?q=budget', expected: ['budget'] },
    { name: 'an unknown source', query: '?source=nobody', expected: [] },
  ])('filter: $name', async ({ query, expected }) => {
    await seedRiver();
    const res = await getJson<{ items: { url: string }[] }>(`/feed.json${query}`);
    expect(res.status).toBe(200);
    expect(feedIds(res.json.items)).toEqual(expected);
  });

  it('an empty river is a valid feed with a fixed Last-Modified', async () => {
    const res = await getJson<{ items: unknown[] }>('/feed.json');
    expect(res.status).toBe(200);
    expect(res.json.items).toEqual([]);
    expect(res.header('last-modified')).toBe(EMPTY_RIVER_LAST_MODIFIED.toUTCString());
    expect((await get('/feed.xml')).status).toBe(200);
  });

  it('HEAD answers with the headers of GET and no body', async () => {
    await seedRiver();
    const full = await get('/feed.atom');
    const head = await get('/feed.atom', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.header('content-type')).toBe(FEED_CONTENT_TYPES.atom);
    expect(head.header('etag')).toBe(full.header('etag'));
    expect(head.header('last-modified')).toBe(full.header('last-modified'));
  });

  it('compresses with gzip when asked, and not otherwise', async () => {
    await seedRiver();
    const plain = await get('/feed.xml');
    expect(plain.header('content-encoding')).toBeUndefined();
    const gz = await get('/feed.xml', { 'accept-encoding': 'gzip' });
    expect(gz.status).toBe(200);
    expect(gz.header('content-encoding')).toBe('gzip');
    expect(gz.header('vary')?.toLowerCase()).toBe('accept-encoding');
    expect(gz.body.length).toBeLessThan(plain.body.length);
    expect(gunzipSync(gz.body).toString('utf8')).toBe(plain.text);
    const br = await get('/api/items', { 'accept-encoding': 'br' });
    expect(br.header('content-encoding')).toBe('br');
  });

  it.each([
    { name: 'cursor', query: '?cursor=abc' },
    { name: 'since', query: '?since=2024-01-01' },
    { name: 'limit', query: '?limit=501' },
    { name: 'sourec', query: '?sourec=agg' },
  ])('rejects $name with 400 naming it', async ({ name, query }) => {
    const res = await getJson(`/feed.xml${query}`);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'bad_request', parameter: name });
  });
});

describe('conditional requests on feeds', () => {
  async function validators(path = '/feed.xml') {
    const res = await get(path);
    expect(res.status).toBe(200);
    return { etag: res.header('etag')!, lastModified: res.header('last-modified')! };
  }

  it('sends a strong ETag and the newest updatedAt as Last-Modified', async () => {
    const { budget } = await seedRiver();
    const { etag, lastModified } = await validators();
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    // budget was updated at +5h, later than anything else was published or updated.
    expect(lastModified).toBe(budget.updatedAt.toUTCString());
  });

  it.each([
    { name: 'the same tag', inm: (e: string) => e, status: 304 },
    { name: 'the weak form of the tag (weak comparison)', inm: (e: string) => `W/${e}`, status: 304 },
    { name: 'a list containing the tag', inm: (e: string) => `"other", ${e}, W/"x,y"`, status: 304 },
    { name: '*', inm: () => '*', status: 304 },
    { name: 'another tag', inm: () => '"stale"', status: 200 },
    { name: 'another tag, even with a fresh If-Modified-Since', inm: () => '"stale"', ims: true, status: 200 },
  ])('If-None-Match: $name -> $status', async ({ inm, ims, status }) => {
    await seedRiver();
    const v = await validators();
    const headers: Record<string, string> = { 'if-none-match': inm(v.etag) };
    if (ims) headers['if-modified-since'] = v.lastModified;
    const res = await get('/feed.xml', { ...headers, 'accept-encoding': 'gzip' });
    expect(res.status).toBe(status);
    expect(res.header('etag')).toBe(v.etag);
    if (status === 304) {
      expect(res.body.length).toBe(0);
      expect(res.header('content-encoding')).toBeUndefined();
      expect(res.header('cache-control')).toBe('public, max-age=60');
      expect(res.header('last-modified')).toBe(v.lastModified);
    }
  });

  it.each([
    { name: 'equal to Last-Modified', ims: (lm: string) => lm, status: 304 },
    { name: 'later than Last-Modified', ims: (lm: string) => new Date(Date.parse(lm) + 60_000).toUTCString(), status: 304 },
    { name: 'a second earlier', ims: (lm: string) => new Date(Date.parse(lm) - 1000).toUTCString(), status: 200 },
    { name: 'not a date (ignored)', ims: () => 'yesterday', status: 200 },
  ])('If-Modified-Since: $name -> $status', async ({ ims, status }) => {
    await seedRiver();
    const v = await validators('/feed.json');
    const res = await get('/feed.json', { 'if-modified-since': ims(v.lastModified) });
    expect(res.status).toBe(status);
    if (status === 304) expect(res.text).toBe('');
  });

  it('the ETag changes when a story changes, a story arrives, the title or the query changes', async () => {
    await seedRiver();
    const first = (await validators()).etag;
    expect((await validators()).etag).toBe(first);
    expect((await validators('/feed.atom')).etag).not.toBe(first);
    expect((await validators('/feed.xml?limit=3')).etag).not.toBe(first);
    // Same meaning, same tag: the query is normalised before hashing.
    expect((await validators('/feed.xml?tag=tech,local')).etag).toBe((await validators('/feed.xml?tag=local&tag=tech')).etag);

    await db.updateTable('items').set({ updated_at: at(6) }).where('id', '=', 'council').execute();
    const afterEdit = await validators();
    expect(afterEdit.etag).not.toBe(first);
    expect(afterEdit.lastModified).toBe(at(6).toUTCString());
    expect((await get('/feed.xml', { 'if-none-match': first })).status).toBe(200);

    // A story the aggregator picks up later: updatedAt unchanged, but `via` (and the body) changed.
    await db.insertInto('item_sources').values({ item_id: 'marathon', source_id: 'agg', first_seen_at: at(7) }).execute();
    const afterVia = await validators();
    expect(afterVia.etag).not.toBe(afterEdit.etag);

    riverTitle = 'Renamed River';
    expect((await validators()).etag).not.toBe(afterVia.etag);
  });
});

describe('/api/items', () => {
  it('lists stories newest first with the full JSON shape', async () => {
    const { budget } = await seedRiver();
    const res = await getJson('/api/items');
    expect(res.status).toBe(200);
    expect(res.header('content-type')).toMatch(/^application\/json/);
    expect(ids(res.json.items)).toEqual(['roundup', 'marathon', 'budget', 'council']);
    expect(res.json.next_cursor).toBeNull();
    expect(res.json.items[2]).toEqual({
      id: 'budget',
      title: 'Council approves the budget',
      url: 'http://city.test/budget',
      publisher: { name: 'City Paper', url: 'http://city.test/', source_id: 'city', feed_url: 'http://city.test/feed.xml' },
      via: ['city', 'agg'],
      author: 'Jane Reporter',
      published_at: budget.publishedAt.toISOString(),
      updated_at: '2024-05-01T13:00:00.000Z',
      summary: '<p>The city budget passed after a long debate.</p>',
      content: null,
      content_policy: 'summary',
      tags: ['aggregated', 'local', 'news'],
      categories: ['Politics'],
      guid: 'guid-budget',
      cluster_id: null,
      also_published_by: [],
    });
  });

  it('pages through with the cursor: no duplicates, no gaps, even when newer stories arrive meanwhile', async () => {
    await seedSource(db, { id: 'wire' });
    const expected: string[] = [];
    // Eight stories; two pairs share a published_at, so the id breaks ties, across a page boundary too.
    const times = [10, 9, 8, 8, 7, 6, 6, 5];
    for (const [i, h] of times.entries()) {
      const id = `p${i}`;
      await seedStory(db, { id, via: ['wire'], publishedAt: at(h) });
      expected.push(id);
    }
    // Within equal published_at, higher id first.
    expected.sort((a, b) => times[Number(b.slice(1))]! - times[Number(a.slice(1))]! || (a < b ? 1 : -1));

    const seen: string[] = [];
    let next: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; json: ItemsPage } = await getJson<ItemsPage>(`/api/items?limit=3${next ? `&cursor=${encodeURIComponent(next)}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...ids(res.json.items));
      next = res.json.next_cursor;
      pages += 1;
      if (pages === 1) {
        // A newer story arrives after the first page was served; OFFSET paging would shift by one.
        await seedStory(db, { id: 'late', via: ['wire'], publishedAt: at(11) });
      }
    } while (next !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(expected);
    expect(new Set(seen).size).toBe(seen.length);
    // The newcomer is there for the next reader starting from the top.
    expect(ids((await getJson('/api/items?limit=1')).json.items)).toEqual(['late']);
  });

  it('the last full page has no next cursor when nothing follows', async () => {
    await seedRiver();
    const res = await getJson('/api/items?limit=4');
    expect(res.json.items).toHaveLength(4);
    expect(res.json.next_cursor).toBeNull();
  });

  it.each([
    { name: 'stemming: "running" finds "Running"', q: 'running', expected: ['marathon'] },
    { name: 'stemming: "run" finds "Running"', q: 'run', expected: ['marathon'] },
    { name: 'the summary is searched too', q: 'debate', expected: ['budget'] },
    { name: 'several words are ANDed', q: 'council budget', expected: ['budget'] },
    { name: 'websearch OR', q: 'roundup or marathon', expected: ['roundup', 'marathon'] },
    { name: 'websearch negation', q: 'council -budget', expected: ['council'] },
    { name: 'a quoted phrase', q: '"approves the budget"', expected: ['budget'] },
    { name: 'stop words only match nothing, without an error', q: 'the', expected: [] },
    { name: 'punctuation does not break the query', q: "it's (a) & b | !", expected: [] },
  ])('q: $name', async ({ q, expected }) => {
    await seedRiver();
    const res = await getJson(`/api/items?q=${encodeURIComponent(q)}`);
    expect(res.status).toBe(200);
    expect(ids(res.json.items)).toEqual(expected);
  });

  it.each([
    { name: 'since is inclusive', query: `since=${at(1).toISOString()}`, expected: ['roundup', 'marathon', 'budget'] },
    { name: 'until is exclusive', query: `until=${at(1).toISOString()}`, expected: ['council'] },
    { name: 'a window', query: `since=${at(1).toISOString()}&until=${at(3).toISOString()}`, expected: ['marathon', 'budget'] },
    { name: 'a date and an offset', query: `since=2024-05-01T10:00:00%2B01:00`, expected: ['roundup', 'marathon', 'budget'] },
    // A '+' left unencoded arrives as a space (form encoding); the parser reads it back as '+'.
    { name: "an unencoded '+' in the offset", query: `since=2024-05-01T10:00:00+01:00`, expected: ['roundup', 'marathon', 'budget'] },
    { name: 'dates only', query: 'since=2024-05-01&until=2024-05-02', expected: ['roundup', 'marathon', 'budget', 'council'] },
  ])('$name', async ({ query, expected }) => {
    await seedRiver();
    const res = await getJson(`/api/items?${query}`);
    expect(res.status).toBe(200);
    expect(ids(res.json.items)).toEqual(expected);
  });

  it('combines filters with paging', async () => {
    await seedRiver();
    const first = await getJson('/api/items?source=city,agg&limit=2');
    expect(ids(first.json.items)).toEqual(['roundup', 'budget']);
    const second = await getJson(`/api/items?source=city,agg&limit=2&cursor=${first.json.next_cursor}`);
    expect(ids(second.json.items)).toEqual(['council']);
    expect(second.json.next_cursor).toBeNull();
  });

  it.each([
    { name: 'limit=0', query: 'limit=0', parameter: 'limit' },
    { name: 'limit=abc', query: 'limit=abc', parameter: 'limit' },
    { name: 'limit=501', query: 'limit=501', parameter: 'limit' },
    { name: 'since=garbage', query: 'since=garbage', parameter: 'since' },
    { name: 'until=garbage', query: 'until=2024-02-30', parameter: 'until' },
    { name: 'cursor=garbage', query: 'cursor=garbage', parameter: 'cursor' },
    { name: 'empty q', query: 'q=', parameter: 'q' },
    { name: 'unknown parameter', query: 'limt=5', parameter: 'limt' },
  ])('400 for $name, naming the parameter', async ({ query, parameter }) => {
    const res = await getJson(`/api/items?${query}`);
    expect(res.status).toBe(400);
    expect(res.header('content-type')).toMatch(/^application\/json/);
    expect(res.json).toEqual({ error: { code: 'bad_request', parameter, message: expect.stringContaining(parameter) } });
  });

  it('/api/items/:id returns the story, or 404', async () => {
    const { budget } = await seedRiver();
    const found = await getJson(`/api/items/${budget.id}`);
    expect(found.status).toBe(200);
    expect(found.json).toMatchObject({ id: 'budget', via: ['city', 'agg'], publisher: { source_id: 'city' }, cluster: null, revisions: [] });
    const missing = await getJson('/api/items/nope');
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ error: { code: 'not_found', message: 'no story with id "nope"' } });
    expect((await getJson('/api/items/budget?x=1')).status).toBe(400);
  });
});

describe('story clusters, content policy and revisions', () => {
  // rss-parser (xml2js, strict) reads the XML feeds back, as the renderer's unit tests do.
  type XmlNode = string | { _?: string; $?: Record<string, string> };
  const parser = new Parser<Record<string, unknown>, { links?: XmlNode[]; summaryEls?: XmlNode[]; contentEls?: XmlNode[]; 'content:encoded'?: string }>({
    customFields: {
      item: [
        ['link', 'links', { keepArray: true }],
        ['summary', 'summaryEls', { keepArray: true }],
        ['content', 'contentEls', { keepArray: true }],
      ],
    },
  });
  const attrs = (n: XmlNode | undefined) => (typeof n === 'object' ? (n.$ ?? {}) : {});
  const text = (n: XmlNode | undefined) => (typeof n === 'object' ? n._ : n);
  const parseFeed = async (path: string) => {
    const res = await get(path);
    expect(res.status).toBe(200);
    return parser.parseString(res.text);
  };

  interface JsonFeedItem {
    url?: string;
    content_html?: string;
    content_text?: string;
    summary?: string;
    _tributary: { publisher: string; also_published_by: { name: string; url: string | null; publisher_url: string | null }[] };
  }

  /**
   * One wire story carried by three papers under three URLs (a cluster whose representative is
   * the earliest, storm-g), and a story of its own at one of them:
   *   storm-g  Riverside Gazette, +1h (policy full)      the cluster's entry
   *   storm-t  Valley Tribune,    +2h (policy summary)
   *   storm-h  Harbor Herald,     +3h (policy none)      the only one saying "hailstones"
   *   lone     Valley Tribune,    +2.5h, alone
   */
  async function seedWire() {
    await seedSource(db, { id: 'gazette', name: 'Riverside Gazette', tags: ['north'], contentPolicy: 'full' });
    await seedSource(db, { id: 'tribune', name: 'Valley Tribune', tags: ['valley'], contentPolicy: 'summary' });
    await seedSource(db, { id: 'herald', name: 'Harbor Herald', tags: ['coast'], contentPolicy: 'none' });
    const g = await seedStory(db, {
      id: 'storm-g',
      via: ['gazette'],
      title: 'Storm hits the coast',
      summary: '<p>Winds.</p>',
      content: '<p>Winds and rain.</p>',
      publishedAt: at(1),
      clusterId: 'storm-g',
    });
    const t = await seedStory(db, { id: 'storm-t', via: ['tribune'], title: 'Storm hits the coast, officials say', publishedAt: at(2), clusterId: 'storm-g' });
    const h = await seedStory(db, {
      id: 'storm-h',
      via: ['herald'],
      title: 'Storm hits coast',
      summary: '<p>Hailstones the size of eggs.</p>',
      publishedAt: at(3),
      clusterId: 'storm-g',
    });
    const lone = await seedStory(db, { id: 'lone', via: ['tribune'], title: 'Bridge reopens', publishedAt: at(2.5) });
    return { g, t, h, lone };
  }

  const member = (id: string, source: string, name: string, hours: number) => ({
    id,
    url: `http://${source}.test/${id}`,
    publisher: { name, url: `http://${source}.test/` },
    published_at: at(hours).toISOString(),
  });
  const G = member('storm-g', 'gazette', 'Riverside Gazette', 1);
  const T = member('storm-t', 'tribune', 'Valley Tribune', 2);
  const H = member('storm-h', 'herald', 'Harbor Herald', 3);

  const ALSO_LINE =
    '<p>Also published by: <a href="http://tribune.test/storm-t">Valley Tribune</a>, <a href="http://herald.test/storm-h">Harbor Herald</a></p>';

  it('JSON Feed: three members are one entry, the earliest, also published by the other two', async () => {
    await seedWire();
    const res = await getJson<{ items: JsonFeedItem[] }>('/feed.json');
    // Newest first by the entry's own published_at: the cluster sits at storm-g's +1h.
    expect(feedIds(res.json.items as { url: string }[])).toEqual(['lone', 'storm-g']);
    const entry = res.json.items[1]!;
    expect(entry._tributary.publisher).toBe('Riverside Gazette');
    expect(entry._tributary.also_published_by).toEqual([
      { name: 'Valley Tribune', url: 'http://tribune.test/storm-t', publisher_url: 'http://tribune.test/' },
      { name: 'Harbor Herald', url: 'http://herald.test/storm-h', publisher_url: 'http://herald.test/' },
    ]);
    expect(res.json.items[0]!._tributary.also_published_by).toEqual([]);
  });

  it('Atom: the entry links to its own URL and rel=related to the other two', async () => {
    await seedWire();
    const atom = await parseFeed('/feed.atom');
    expect(atom.items).toHaveLength(2);
    expect((atom.items[1]?.links ?? []).map(attrs)).toEqual([
      { rel: 'alternate', href: 'http://gazette.test/storm-g' },
      { rel: 'related', href: 'http://tribune.test/storm-t', title: 'Valley Tribune' },
      { rel: 'related', href: 'http://herald.test/storm-h', title: 'Harbor Herald' },
    ]);
    expect((atom.items[0]?.links ?? []).map(attrs)).toEqual([{ rel: 'alternate', href: 'http://tribune.test/lone' }]);
  });

  it('RSS: the entry carries an "Also published by" line after its text', async () => {
    await seedWire();
    const rss = await parseFeed('/feed.xml');
    expect(rss.items.map((i) => i.link)).toEqual(['http://tribune.test/lone', 'http://gazette.test/storm-g']);
    // Gazette's policy is full: the line follows both the description and content:encoded.
    expect(rss.items[1]?.content).toBe(`<p>Winds.</p>${ALSO_LINE}`);
    expect(rss.items[1]?.['content:encoded']).toBe(`<p>Winds and rain.</p>${ALSO_LINE}`);
    expect(rss.items[0]?.content).toBe('<p>Summary of Bridge reopens</p>');
  });

  it('/api/items lists every member with its cluster id and the others; ?collapse=true lists entries', async () => {
    await seedWire();
    const all = await getJson('/api/items');
    expect(ids(all.json.items)).toEqual(['storm-h', 'lone', 'storm-t', 'storm-g']);
    const byId = Object.fromEntries(all.json.items.map((i: { id: string }) => [i.id, i]));
    expect(byId['storm-t']).toMatchObject({ cluster_id: 'storm-g', also_published_by: [G, H] });
    expect(byId['storm-g']).toMatchObject({ cluster_id: 'storm-g', also_published_by: [T, H] });
    expect(byId['storm-h']).toMatchObject({ cluster_id: 'storm-g', also_published_by: [G, T] });
    expect(byId.lone).toMatchObject({ cluster_id: null, also_published_by: [] });

    const collapsed = await getJson('/api/items?collapse=true');
    expect(ids(collapsed.json.items)).toEqual(['lone', 'storm-g']);
    expect(collapsed.json.items[1].also_published_by).toEqual([T, H]);
    expect(ids((await getJson('/api/items?collapse=false')).json.items)).toHaveLength(4);
    const bad = await getJson('/api/items?collapse=maybe');
    expect(bad.status).toBe(400);
    expect(bad.json.error.parameter).toBe('collapse');
    // Feeds always collapse; they take no collapse parameter.
    expect((await getJson('/feed.json?collapse=false')).json.error.parameter).toBe('collapse');
  });

  it.each([
    // A cluster is shown when ANY member matches, as its entry (storm-g).
    { name: 'a source that carried only a later member', query: 'source=herald', feed: ['storm-g'], api: ['storm-h'] },
    { name: 'a source carrying a member and a story of its own', query: 'source=tribune', feed: ['lone', 'storm-g'], api: ['lone', 'storm-t'] },
    { name: "a tag of a later member's source", query: 'tag=coast', feed: ['storm-g'], api: ['storm-h'] },
    { name: "the representative's own tag", query: 'tag=north', feed: ['storm-g'], api: ['storm-g'] },
    { name: 'a word only a later member uses', query: 'q=hailstones', feed: ['storm-g'], api: ['storm-h'] },
    { name: 'a word of a story alone', query: 'q=bridge', feed: ['lone'], api: ['lone'] },
    { name: 'two filters matched by different members', query: 'tag=coast&source=gazette', feed: [], api: [] },
    { name: 'nothing matches', query: 'source=nobody', feed: [], api: [] },
  ])('filters on a collapsed river: $name', async ({ query, feed, api }) => {
    await seedWire();
    const res = await getJson<{ items: { url: string }[] }>(`/feed.json?${query}`);
    expect(res.status).toBe(200);
    expect(feedIds(res.json.items)).toEqual(feed);
    expect(ids((await getJson(`/api/items?${query}&collapse=true`)).json.items)).toEqual(feed);
    // Without collapsing, each story is matched on its own.
    expect(ids((await getJson(`/api/items?${query}`)).json.items)).toEqual(api);
  });

  it('pages a collapsed river by cursor: every entry once, no member, no gaps', async () => {
    await seedSource(db, { id: 'wire' });
    // Twelve stories; clusters {s00,s03,s07}, {s01,s02}, {s05,s09,s10} (each led by its earliest);
    // s04 and s05 share a published_at, so the id breaks the tie across a page boundary.
    const hours = [0, 1, 2, 3, 4, 4, 6, 7, 8, 9, 10, 11];
    const clusterOf: Record<number, string> = { 0: 's00', 3: 's00', 7: 's00', 1: 's01', 2: 's01', 5: 's05', 9: 's05', 10: 's05' };
    for (const [i, h] of hours.entries()) {
      const id = `s${String(i).padStart(2, '0')}`;
      await seedStory(db, { id, via: ['wire'], publishedAt: at(h), clusterId: clusterOf[i] ?? null });
    }
    const expected = ['s11', 's08', 's06', 's05', 's04', 's01', 's00'];
    const seen: string[] = [];
    let next: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; json: ItemsPage } = await getJson<ItemsPage>(
        `/api/items?collapse=true&limit=2${next ? `&cursor=${encodeURIComponent(next)}` : ''}`,
      );
      expect(res.status).toBe(200);
      seen.push(...ids(res.json.items));
      next = res.json.next_cursor;
      pages += 1;
    } while (next !== null && pages < 10);
    expect(seen).toEqual(expected);
    expect(pages).toBe(4);
    // The feed (one page) agrees.
    const feed = await getJson<{ items: { url: string }[] }>('/feed.json');
    expect(feedIds(feed.json.items)).toEqual(expected);
  });

  it('a member whose cluster has no representative is still shown, on its own', async () => {
    await seedSource(db, { id: 'wire' });
    await seedStory(db, { id: 'orphan-1', via: ['wire'], publishedAt: at(1), clusterId: 'gone-story' });
    await seedStory(db, { id: 'orphan-2', via: ['wire'], publishedAt: at(2), clusterId: 'gone-story' });
    // The row its cluster_id names exists but now belongs to another cluster.
    await seedStory(db, { id: 'moved-rep', via: ['wire'], publishedAt: at(3), clusterId: 'elsewhere' });
    await seedStory(db, { id: 'left-behind', via: ['wire'], publishedAt: at(4), clusterId: 'moved-rep' });
    const feed = await getJson<{ items: (JsonFeedItem & { url: string })[] }>('/feed.json');
    expect(feedIds(feed.json.items)).toEqual(['left-behind', 'moved-rep', 'orphan-2', 'orphan-1']);
    expect(feed.json.items[2]!._tributary.also_published_by.map((a) => a.url)).toEqual(['http://wire.test/orphan-1']);
  });

  it('/api/items/:id shows the cluster with every member, earliest first, and null when alone', async () => {
    await seedWire();
    for (const id of ['storm-g', 'storm-t', 'storm-h']) {
      const res = await getJson(`/api/items/${id}`);
      expect(res.status).toBe(200);
      expect(res.json.cluster).toEqual({ id: 'storm-g', members: [G, T, H] });
    }
    expect((await getJson('/api/items/lone')).json.cluster).toBeNull();
  });

  it('/api/items/:id lists revisions newest first', async () => {
    await seedWire();
    await seedRevision(db, { itemId: 'storm-t', replacedAt: at(4), title: 'Storm nears the coast', summary: '<p>Expected tonight.</p>', content: '<p>x</p>', updatedAt: at(2), sourceId: 'tribune' });
    await seedRevision(db, { itemId: 'storm-t', replacedAt: at(5), title: 'Storm hits the coast', summary: null, updatedAt: at(4) });
    await seedRevision(db, { itemId: 'lone', replacedAt: at(6), title: 'Not this story' });
    const res = await getJson('/api/items/storm-t');
    expect(res.json.revisions).toEqual([
      { replaced_at: at(5).toISOString(), title: 'Storm hits the coast', summary: null, updated_at: at(4).toISOString(), source_id: null },
      {
        replaced_at: at(4).toISOString(),
        title: 'Storm nears the coast',
        summary: '<p>Expected tonight.</p>',
        updated_at: at(2).toISOString(),
        source_id: 'tribune',
      },
    ]);
    expect((await getJson('/api/items/storm-g')).json.revisions).toEqual([]);
    // Revisions are for one story at a time, not for the list.
    expect((await getJson('/api/items')).json.items[0]).not.toHaveProperty('revisions');
  });

  describe('content policy', () => {
    /** One story per policy, each with a summary and a full text. */
    async function seedPolicies() {
      for (const policy of ['full', 'summary', 'none'] as const) {
        await seedSource(db, { id: `${policy}-src`, name: `${policy} Paper`, contentPolicy: policy });
      }
      await seedStory(db, { id: 'p-full', via: ['full-src'], summary: '<p>S-full</p>', content: '<p>C-full</p>', publishedAt: at(3) });
      await seedStory(db, { id: 'p-summary', via: ['summary-src'], summary: '<p>S-summary</p>', content: '<p>C-summary</p>', publishedAt: at(2) });
      await seedStory(db, { id: 'p-none', via: ['none-src'], summary: '<p>S-none</p>', content: '<p>C-none</p>', publishedAt: at(1) });
    }

    it('RSS: full carries both, summary the description only, none neither; all link to the story', async () => {
      await seedPolicies();
      const rss = await parseFeed('/feed.xml');
      expect(rss.items.map((i) => [i.link, i.content, i['content:encoded']])).toEqual([
        ['http://full-src.test/p-full', '<p>S-full</p>', '<p>C-full</p>'],
        ['http://summary-src.test/p-summary', '<p>S-summary</p>', undefined],
        ['http://none-src.test/p-none', undefined, undefined],
      ]);
    });

    it('Atom: full has <summary> and <content>, summary <summary> only, none neither', async () => {
      await seedPolicies();
      const atom = await parseFeed('/feed.atom');
      expect(
        atom.items.map((i) => [(i.links ?? []).map(attrs), text(i.summaryEls?.[0]), text(i.contentEls?.[0])]),
      ).toEqual([
        [[{ rel: 'alternate', href: 'http://full-src.test/p-full' }], '<p>S-full</p>', '<p>C-full</p>'],
        [[{ rel: 'alternate', href: 'http://summary-src.test/p-summary' }], '<p>S-summary</p>', undefined],
        [[{ rel: 'alternate', href: 'http://none-src.test/p-none' }], undefined, undefined],
      ]);
    });

    it('JSON Feed: content_html is the full text, the summary, or an empty content_text', async () => {
      await seedPolicies();
      const res = await getJson<{ items: JsonFeedItem[] }>('/feed.json');
      expect(res.json.items.map(({ url, content_html, content_text, summary }) => ({ url, content_html, content_text, summary }))).toEqual([
        { url: 'http://full-src.test/p-full', content_html: '<p>C-full</p>', content_text: undefined, summary: 'S-full' },
        { url: 'http://summary-src.test/p-summary', content_html: '<p>S-summary</p>', content_text: undefined, summary: 'S-summary' },
        { url: 'http://none-src.test/p-none', content_html: undefined, content_text: '', summary: undefined },
      ]);
      expect(res.text).not.toContain('C-summary');
      expect(res.text).not.toMatch(/[SC]-none/);
    });

    it('the API shows the summary always and the full text only under full', async () => {
      await seedPolicies();
      const res = await getJson('/api/items');
      expect(res.json.items.map((i: { id: string; content_policy: string; summary: string; content: string | null }) => [i.id, i.content_policy, i.summary, i.content])).toEqual([
        ['p-full', 'full', '<p>S-full</p>', '<p>C-full</p>'],
        ['p-summary', 'summary', '<p>S-summary</p>', null],
        ['p-none', 'none', '<p>S-none</p>', null],
      ]);
    });

    it("the policy is that of the source whose text is stored, not the publisher's", async () => {
      await seedPolicies();
      // Published by full-src, but the stored text came through none-src (first in via).
      await seedStory(db, {
        id: 'p-via',
        via: ['none-src', 'full-src'],
        publisher: { name: 'full Paper', sourceId: 'full-src', url: 'http://full-src.test/', feedUrl: 'http://full-src.test/feed.xml' },
        url: 'http://full-src.test/p-via',
        summary: '<p>S-via</p>',
        content: '<p>C-via</p>',
        publishedAt: at(4),
      });
      const res = await getJson<{ items: JsonFeedItem[] }>('/feed.json?limit=1');
      expect(res.json.items[0]).toMatchObject({ url: 'http://full-src.test/p-via', content_text: '', _tributary: { publisher: 'full Paper' } });
      expect((await getJson('/api/items/p-via')).json).toMatchObject({ content_policy: 'none', content: null });
    });
  });

  it('the ETag changes when a cluster gains a member or a policy changes; Last-Modified moves forward', async () => {
    await seedSource(db, { id: 'gazette', name: 'Riverside Gazette' });
    await seedSource(db, { id: 'tribune', name: 'Valley Tribune' });
    await seedSource(db, { id: 'herald', name: 'Harbor Herald' });
    await seedStory(db, { id: 'storm-g', via: ['gazette'], publishedAt: at(1), clusterId: 'storm-g' });
    await seedStory(db, { id: 'storm-t', via: ['tribune'], publishedAt: at(2), clusterId: 'storm-g' });
    const before = await get('/feed.json');
    const etag = before.header('etag')!;
    expect(before.header('last-modified')).toBe(at(2).toUTCString());
    expect((await get('/feed.json', { 'if-none-match': etag })).status).toBe(304);

    // A third paper's copy joins the cluster: the entry's body changes (a new "also published by"),
    // its own updatedAt does not.
    await seedStory(db, { id: 'storm-h', via: ['herald'], publishedAt: at(3), clusterId: 'storm-g' });
    const grown = await get('/feed.json', { 'if-none-match': etag });
    expect(grown.status).toBe(200);
    expect(grown.header('etag')).not.toBe(etag);
    expect(grown.header('last-modified')).toBe(at(3).toUTCString());
    expect((await get('/feed.json', { 'if-modified-since': before.header('last-modified')! })).status).toBe(200);
    expect(JSON.parse(grown.text).items).toHaveLength(1);

    // feeds.yaml's `content:` changed for the source whose text is stored.
    await db.updateTable('sources').set({ content_policy: 'none' }).where('id', '=', 'gazette').execute();
    const repoliced = await get('/feed.json', { 'if-none-match': grown.header('etag')! });
    expect(repoliced.status).toBe(200);
    expect(repoliced.header('etag')).not.toBe(grown.header('etag'));
  });
});

describe('/api/sources', () => {
  it('lists active sources by id with their state and item counts', async () => {
    await seedRiver();
    await seedSource(db, {
      id: 'broken',
      name: null,
      lastFetchedAt: at(4),
      lastStatus: 503,
      lastError: 'HTTP 503 from http://broken.test/feed.xml',
      errorCount: 3,
      nextFetchAt: at(5),
      nextFetchReason: 'backoff after 3 errors',
      feedTitle: 'Broken Feed',
    });
    await seedSource(db, { id: 'removed', active: false });
    const res = await getJson('/api/sources');
    expect(res.status).toBe(200);
    expect(res.json.sources.map((s: { id: string }) => s.id)).toEqual(['agg', 'broken', 'city', 'tech']);
    const counts = Object.fromEntries(res.json.sources.map((s: { id: string; item_count: number }) => [s.id, s.item_count]));
    // agg carried two stories (its own roundup and the city's budget); counts are numbers on both drivers.
    expect(counts).toEqual({ agg: 2, broken: 0, city: 2, tech: 1 });
    expect(res.json.sources[1]).toEqual({
      id: 'broken',
      url: 'http://broken.test/feed.xml',
      name: null,
      homepage: 'http://broken.test/',
      tags: [],
      enabled: true,
      active: true,
      state: 'error',
      feed_title: 'Broken Feed',
      effective_url: null,
      gone: false,
      gone_at: null,
      last_fetched_at: at(4).toISOString(),
      last_status: 503,
      last_error: 'HTTP 503 from http://broken.test/feed.xml',
      error_count: 3,
      item_count: 0,
      next_fetch_at: at(5).toISOString(),
      next_fetch_reason: 'backoff after 3 errors',
      host_paused_until: null,
    });
    // The history is for one source at a time, not for the list.
    expect(res.json.sources[1]).not.toHaveProperty('history');

    const all = await getJson('/api/sources?include_inactive=true');
    expect(all.json.sources.map((s: { id: string }) => s.id)).toContain('removed');
    expect((await getJson('/api/sources?inactive=1')).json.error.parameter).toBe('inactive');
  });

  it('/api/sources/:id returns one source, inactive ones too, or 404', async () => {
    await seedRiver();
    await seedSource(db, { id: 'removed', active: false });
    const one = await getJson('/api/sources/agg');
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({ id: 'agg', name: 'Aggregator', tags: ['aggregated'], item_count: 2 });
    expect((await getJson('/api/sources/removed')).json).toMatchObject({ id: 'removed', active: false });
    const missing = await getJson('/api/sources/nope');
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('not_found');
  });
});

describe('/api/sources: state, moves, 410 Gone, host pauses', () => {
  // Pauses are compared with the database clock, so they are set relative to the real now.
  const inAnHour = () => new Date(Date.now() + 3_600_000);
  const anHourAgo = () => new Date(Date.now() - 3_600_000);
  const fetched = { lastFetchedAt: at(4), lastStatus: 200, nextFetchAt: at(5), nextFetchReason: 'interval 15m' };

  beforeEach(async () => {
    await seedSource(db, { id: 'fresh', nextFetchReason: 'new source' });
    await seedSource(db, { id: 'fine', ...fetched });
    await seedSource(db, { id: 'failing', ...fetched, lastStatus: 500, lastError: 'HTTP 500', errorCount: 2 });
    await seedSource(db, { id: 'gone', ...fetched, lastStatus: 410, lastError: 'HTTP 410 Gone', errorCount: 1, goneAt: at(4) });
    await seedSource(db, { id: 'off', enabled: false });
    await seedSource(db, { id: 'off-and-gone', ...fetched, enabled: false, goneAt: at(3) });
    await seedSource(db, { id: 'moved', ...fetched, effectiveUrl: 'https://new.moved.test/feed.xml' });
    await seedSource(db, { id: 'moved-failing', ...fetched, effectiveUrl: 'https://new.test/feed.xml', errorCount: 1, lastError: 'timeout' });
    await seedSource(db, { id: 'paused', ...fetched, lastStatus: 429, errorCount: 1, lastError: 'HTTP 429', hostKey: 'busy.test' });
    await seedSource(db, { id: 'pause-over', ...fetched, hostKey: 'rested.test' });
    await seedSource(db, { id: 'other-host', ...fetched, hostKey: 'calm.test' });
    await seedSource(db, { id: 'removed', ...fetched, active: false });
    await seedHost(db, { hostKey: 'busy.test', pausedUntil: inAnHour(), pauseReason: '429 Retry-After' });
    await seedHost(db, { hostKey: 'rested.test', pausedUntil: anHourAgo() });
    await seedHost(db, { hostKey: 'calm.test', pausedUntil: null, lastRequestAt: at(4) });
  });

  it.each([
    { name: 'never fetched is new', id: 'fresh', state: 'new' },
    { name: 'fetched without errors is ok', id: 'fine', state: 'ok' },
    { name: 'errors make it error', id: 'failing', state: 'error' },
    { name: '410 Gone outranks its error count', id: 'gone', state: 'gone' },
    { name: 'disabled in feeds.yaml', id: 'off', state: 'disabled' },
    { name: 'disabled outranks gone', id: 'off-and-gone', state: 'disabled' },
    { name: 'a permanent redirect, fetched fine, is moved', id: 'moved', state: 'moved' },
    { name: 'a moved source that fails is error', id: 'moved-failing', state: 'error' },
    { name: 'a host pause outranks errors', id: 'paused', state: 'rate-limited' },
    { name: 'a pause that ended is not a pause', id: 'pause-over', state: 'ok' },
    { name: 'a host row without a pause', id: 'other-host', state: 'ok' },
    { name: 'removed from feeds.yaml counts as disabled', id: 'removed', state: 'disabled' },
  ])('state: $name', async ({ id, state }) => {
    const list = await getJson('/api/sources?include_inactive=true');
    const listed = list.json.sources.find((s: { id: string }) => s.id === id);
    expect(listed?.state).toBe(state);
    // The list and the single source agree.
    expect((await getJson(`/api/sources/${id}`)).json.state).toBe(state);
  });

  it('shows the effective URL beside the configured one', async () => {
    const res = await getJson('/api/sources/moved');
    expect(res.json).toMatchObject({
      url: 'http://moved.test/feed.xml',
      effective_url: 'https://new.moved.test/feed.xml',
      state: 'moved',
    });
    expect((await getJson('/api/sources/fine')).json.effective_url).toBeNull();
  });

  it('marks gone sources with when they went', async () => {
    const gone = await getJson('/api/sources/gone');
    expect(gone.json).toMatchObject({ gone: true, gone_at: at(4).toISOString(), last_status: 410 });
    expect((await getJson('/api/sources/fine')).json).toMatchObject({ gone: false, gone_at: null });
  });

  it('says when each source is next due and why', async () => {
    const res = await getJson('/api/sources');
    const byId = Object.fromEntries(res.json.sources.map((s: { id: string }) => [s.id, s]));
    expect(byId.fine).toMatchObject({ next_fetch_at: at(5).toISOString(), next_fetch_reason: 'interval 15m' });
    expect(byId.fresh.next_fetch_reason).toBe('new source');
    expect(byId.off.next_fetch_reason).toBeNull();
  });

  it('shows a host pause only while it lasts, on every source of that host', async () => {
    await seedSource(db, { id: 'paused-too', hostKey: 'busy.test' });
    const res = await getJson('/api/sources');
    const byId = Object.fromEntries(res.json.sources.map((s: { id: string }) => [s.id, s]));
    const until = byId.paused.host_paused_until;
    expect(Date.parse(until)).toBeGreaterThan(Date.now());
    // A fresh source on the paused host is rate-limited too: nothing goes to that host for now.
    expect(byId['paused-too']).toMatchObject({ host_paused_until: until, state: 'rate-limited' });
    expect(byId['pause-over'].host_paused_until).toBeNull();
    expect(byId['other-host'].host_paused_until).toBeNull();
    expect(byId.fine.host_paused_until).toBeNull();
  });
});

describe('/api/sources/:id history', () => {
  it('lists the polls of that source only, newest first, with every field', async () => {
    await seedSource(db, { id: 'city' });
    await seedSource(db, { id: 'tech' });
    await seedFetchLog(db, [
      { sourceId: 'city', startedAt: at(1), outcome: 'updated', status: 200, bytes: 5120, durationMs: 340, itemsNew: 3, itemsUnchanged: 1 },
      { sourceId: 'tech', startedAt: at(2), outcome: 'updated', status: 200 },
      { sourceId: 'city', startedAt: at(2), outcome: 'failed', status: 503, durationMs: 80, error: 'HTTP 503 from http://city.test/feed.xml' },
      {
        sourceId: 'city',
        startedAt: at(3),
        url: 'https://city.example/feed.xml',
        outcome: 'updated',
        status: 200,
        bytes: 4000,
        durationMs: 210,
        itemsNew: 1,
        itemsUpdated: 2,
        itemsUnchanged: 7,
      },
    ]);
    const res = await getJson('/api/sources/city');
    expect(res.status).toBe(200);
    expect(res.json.id).toBe('city');
    expect(res.json.history).toEqual([
      {
        started_at: at(3).toISOString(),
        url: 'https://city.example/feed.xml',
        outcome: 'updated',
        status: 200,
        bytes: 4000,
        duration_ms: 210,
        items_new: 1,
        items_updated: 2,
        items_unchanged: 7,
        error: null,
      },
      {
        started_at: at(2).toISOString(),
        url: 'http://city.test/feed.xml',
        outcome: 'failed',
        status: 503,
        bytes: null,
        duration_ms: 80,
        items_new: 0,
        items_updated: 0,
        items_unchanged: 0,
        error: 'HTTP 503 from http://city.test/feed.xml',
      },
      {
        started_at: at(1).toISOString(),
        url: 'http://city.test/feed.xml',
        outcome: 'updated',
        status: 200,
        bytes: 5120,
        duration_ms: 340,
        items_new: 3,
        items_updated: 0,
        items_unchanged: 1,
        error: null,
      },
    ]);
    expect((await getJson('/api/sources/tech')).json.history).toHaveLength(1);
  });

  it('is empty for a source never polled', async () => {
    await seedSource(db, { id: 'fresh' });
    const res = await getJson('/api/sources/fresh');
    expect(res.json).toMatchObject({ id: 'fresh', state: 'new', history: [] });
  });

  it('keeps at most the 50 newest polls; of two started at once, the later row comes first', async () => {
    await seedSource(db, { id: 'busy' });
    const minutes = Array.from({ length: 55 }, (_, i) => i);
    await seedFetchLog(
      db,
      minutes.map((m) => ({ sourceId: 'busy', startedAt: new Date(T0 + m * 60_000), durationMs: m })),
    );
    // Two polls in the same instant (two workers, or a retry): the later row is shown first.
    await seedFetchLog(db, [
      { sourceId: 'busy', startedAt: new Date(T0 + 60 * 60_000), durationMs: 1001 },
      { sourceId: 'busy', startedAt: new Date(T0 + 60 * 60_000), durationMs: 1002 },
    ]);
    const history = (await getJson('/api/sources/busy')).json.history as { duration_ms: number; started_at: string }[];
    expect(history).toHaveLength(50);
    expect(history.slice(0, 3).map((h) => h.duration_ms)).toEqual([1002, 1001, 54]);
    expect(history.at(-1)!.duration_ms).toBe(7);
    const times = history.map((h) => Date.parse(h.started_at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it('getSourceHistory takes a limit', async () => {
    await seedSource(db, { id: 'city' });
    await seedFetchLog(db, [
      { sourceId: 'city', startedAt: at(1) },
      { sourceId: 'city', startedAt: at(2), outcome: 'deferred', status: null },
    ]);
    const newest = await getSourceHistory(db, 'city', 1);
    expect(newest).toEqual([
      {
        sourceId: 'city',
        startedAt: at(2),
        url: 'http://city.test/feed.xml',
        outcome: 'deferred',
        status: null,
        bytes: null,
        durationMs: 12,
        itemsNew: 0,
        itemsUpdated: 0,
        itemsUnchanged: 0,
        error: null,
      },
    ]);
    expect(await getSourceHistory(db, 'city')).toHaveLength(2);
    expect(await getSourceHistory(db, 'nobody')).toEqual([]);
  });
});

describe('health and errors', () => {
  it('/healthz reports the database', async () => {
    const res = await getJson('/healthz');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok', database: 'ok' });
    expect(res.header('cache-control')).toBe('no-store');
  });

  it('unknown routes are 404 JSON', async () => {
    const res = await getJson('/nope');
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ error: { code: 'not_found', message: 'no such endpoint: GET /nope' } });
  });

  describe('with a database that cannot be reached', () => {
    let broken: FastifyInstance;
    let brokenDb: Kysely<Database>;
    let brokenBase: string;

    beforeAll(async () => {
      // A real connection attempt to a closed port: refused at once, no mock involved.
      const pool = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none', connectionTimeoutMillis: 2000 });
      pool.on('error', () => {});
      brokenDb = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
      broken = buildServer({
        db: brokenDb,
        river: () => ({ title: 'Broken', baseUrl: null, settings: { everyMs: 60_000, websubHub: null, footer: false } }),
        publicBaseUrl: () => 'http://127.0.0.1',
        logger: silentLogger(),
      });
      brokenBase = await broken.listen({ host: '127.0.0.1', port: 0 });
    });

    afterAll(async () => {
      await broken?.close();
      await brokenDb?.destroy();
    });

    it('/healthz answers 503', async () => {
      const res = await fetch(`${brokenBase}/healthz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: 'error', database: 'error' });
    });

    it('other routes answer a generic 500 without internals', async () => {
      for (const path of ['/api/items', '/feed.xml']) {
        const res = await fetch(`${brokenBase}${path}`);
        expect(res.status).toBe(500);
        const text = await res.text();
        expect(JSON.parse(text)).toEqual({ error: { code: 'internal', message: 'internal server error' } });
        expect(text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
      }
    });
  });
});
