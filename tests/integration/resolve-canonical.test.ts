import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RiverSettings } from '../../src/domain.js';
import { closeFetchAgents } from '../../src/ingest/fetch-feed.js';
import {
  PAGE_ACCEPT,
  resolveCanonicals,
  type ResolveCanonicalDeps,
  type ResolveCanonicalOptions,
} from '../../src/ingest/resolve-canonical.js';
import { silentLogger } from '../../src/log.js';
import { acquireHostSlot, hostPauses, pauseHost, releaseHostSlot } from '../../src/store/hosts-repo.js';
import { deleteStaleCanonicals, getCachedCanonicals, putCanonical } from '../../src/store/page-canonicals-repo.js';
import { USER_AGENT } from '../../src/version.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { endlessBody, redirect, startPublisher, type Publisher } from '../helpers/publisher.js';

// Runs on PGlite, and on PostgreSQL when DATABASE_URL is set. The publisher is a loopback server:
// every page lives on 127.0.0.1 (host key "127.0.0.1"), canonicals name other hosts without ever
// being fetched.

const MiB = 1024 * 1024;
const HOST = '127.0.0.1';

const SETTINGS: RiverSettings = {
  everyMs: 15 * 60_000,
  allowPrivateNetworks: true,
  fetchTimeoutMs: 500,
  maxBodyBytes: 10 * MiB,
  concurrency: 8,
  hostConcurrency: 2,
  hostGapMs: 0,
  minIntervalMs: 60_000,
  maxIntervalMs: 24 * 60 * 60_000,
  adaptive: false,
  websubHub: null,
  footer: true,
};

/** An article page as an aggregator or publisher serves it. */
const page = (head: string, title = 'A story') =>
  `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title>${head}</head>` +
  `<body><article><h1>${title}</h1><p>${'Text. '.repeat(200)}</p></article></body></html>`;
const html = (body: string) => ({ body, contentType: 'text/html; charset=utf-8' });

let t: TestDatabase;
let pub: Publisher;
const huge = endlessBody({
  // The canonical is right at the top, but the page is over the 2 MiB page limit: it is refused whole.
  body: Buffer.from(page('<link rel="canonical" href="https://publisher.example/huge">').padEnd(64 * 1024, ' ')),
  headers: { 'content-type': 'text/html' },
  totalBytes: 3 * MiB,
});

beforeAll(async () => {
  t = await createTestDatabase();
  pub = await startPublisher({
    '/article/1': html(page('<link rel="canonical" href="https://publisher.example/story">')),
    '/article/2': html(page('<link rel="Canonical" href="/stories/2?utm_source=x&amp;id=2">')),
    '/article/moved': redirect('/article/final', 301),
    '/article/final': html(page('<link rel="canonical" href="final-canonical">')),
    '/article/no-canonical': html(page('<link rel="stylesheet" href="/s.css">')),
    '/article/slow': { ...html(page('<link rel="canonical" href="https://publisher.example/slow">')), delayMs: 3_000 },
    '/article/huge': huge,
    '/article/busy': { status: 429, headers: { 'retry-after': '120' }, body: 'slow down' },
  });
  for (let n = 1; n <= 5; n++) pub.setRoute(`/batch/${n}`, html(page(`<link rel="canonical" href="https://publisher.example/batch/${n}">`)));
});

afterAll(async () => {
  await closeFetchAgents();
  await pub?.close();
  await t?.close();
});

beforeEach(async () => {
  await t.db.deleteFrom('page_canonicals').execute();
  await t.db.deleteFrom('host_slots').execute();
  await t.db.deleteFrom('hosts').execute();
  pub.requests.splice(0);
});

function deps(settings: Partial<RiverSettings> = {}): ResolveCanonicalDeps {
  return { db: t.db, settings: { ...SETTINGS, ...settings }, owner: 'worker-1', logger: silentLogger() };
}

function resolve(urls: readonly string[], opts?: ResolveCanonicalOptions, settings?: Partial<RiverSettings>) {
  return resolveCanonicals(deps(settings), 'aggregator', urls, opts);
}

async function cacheRows() {
  return t.db.selectFrom('page_canonicals').select(['url', 'canonical_url', 'status', 'error']).orderBy('url').execute();
}

const paths = (n = 0) => pub.requests.slice(n).map((r) => r.path);

describe('resolveCanonicals: fetch, record, reuse', () => {
  it('maps pages to their canonicals, records every outcome, and never throws for a page', async () => {
    const urls = [
      pub.url('/article/1'),
      pub.url('/article/2'),
      pub.url('/article/moved'),
      pub.url('/article/no-canonical'),
      pub.url('/article/missing'),
      pub.url('/article/slow'),
      pub.url('/article/huge'),
      pub.url('/article/1'), // listed twice: fetched once
      'mailto:editor@publisher.example', // not a page: neither fetched nor recorded
    ];
    const map = await resolve(urls);

    expect(map).toEqual(
      new Map([
        // Another host: the aggregator's page names the publisher's URL.
        [pub.url('/article/1'), 'https://publisher.example/story'],
        // Relative, resolved against the page; &amp; decoded. (Cleaning tracking parameters is the caller's rule.)
        [pub.url('/article/2'), pub.url('/stories/2?utm_source=x&id=2')],
        // Relative to where the page was served from after the redirect, not the feed's link.
        [pub.url('/article/moved'), pub.url('/article/final-canonical')],
      ]),
    );

    const rows = new Map((await cacheRows()).map((r) => [r.url, r]));
    expect(rows.size).toBe(7);
    expect(rows.get(pub.url('/article/1'))).toMatchObject({ canonical_url: 'https://publisher.example/story', status: 200, error: null });
    expect(rows.get(pub.url('/article/moved'))).toMatchObject({ canonical_url: pub.url('/article/final-canonical'), status: 200, error: null });
    // A page without a canonical is an answer, not a failure.
    expect(rows.get(pub.url('/article/no-canonical'))).toEqual({ url: pub.url('/article/no-canonical'), canonical_url: null, status: 200, error: null });
    expect(rows.get(pub.url('/article/missing'))).toMatchObject({ canonical_url: null, status: 404 });
    expect(rows.get(pub.url('/article/missing'))?.error).toContain('HTTP 404');
    expect(rows.get(pub.url('/article/slow'))).toMatchObject({ canonical_url: null, status: null });
    expect(rows.get(pub.url('/article/slow'))?.error).toMatch(/timed out|timeout/i);
    expect(rows.get(pub.url('/article/huge'))).toMatchObject({ canonical_url: null, status: 200 });
    // The 2 MiB page limit applied although settings.max_body is 10 MiB.
    expect(rows.get(pub.url('/article/huge'))?.error).toContain('larger than the 2 MiB');

    // One request per page, asking for HTML, as ourselves.
    expect(paths().sort()).toEqual(
      ['/article/1', '/article/2', '/article/moved', '/article/final', '/article/no-canonical', '/article/missing', '/article/slow', '/article/huge'].sort(),
    );
    for (const r of pub.requests) {
      expect(r.headers.accept).toBe(PAGE_ACCEPT);
      expect(r.headers['user-agent']).toBe(USER_AGENT);
    }
    // Every slot taken was given back.
    expect(await t.db.selectFrom('host_slots').selectAll().execute()).toEqual([]);

    // The next poll: everything comes from the cache, answers and failures alike.
    const before = pub.requests.length;
    expect(await resolve(urls)).toEqual(map);
    expect(pub.requests.length).toBe(before);
  });

  it('maxFetches bounds the requests per call; the rest are fetched on later calls', async () => {
    const urls = [1, 2, 3, 4, 5].map((n) => pub.url(`/batch/${n}`));
    const expected = (ns: number[]) => new Map(ns.map((n) => [pub.url(`/batch/${n}`), `https://publisher.example/batch/${n}`]));

    expect(await resolve(urls, { maxFetches: 2 })).toEqual(expected([1, 2]));
    expect(paths()).toEqual(['/batch/1', '/batch/2']);

    expect(await resolve(urls, { maxFetches: 2 })).toEqual(expected([1, 2, 3, 4]));
    expect(paths(2)).toEqual(['/batch/3', '/batch/4']);

    expect(await resolve(urls, { maxFetches: 0 })).toEqual(expected([1, 2, 3, 4])); // cache only
    expect(pub.requests).toHaveLength(4);

    expect(await resolve(urls, { maxFetches: 2 })).toEqual(expected([1, 2, 3, 4, 5]));
    expect(paths(4)).toEqual(['/batch/5']);
    expect(await cacheRows()).toHaveLength(5);
  });

  it('starts no fetch once the time budget is spent', async () => {
    for (let n = 1; n <= 3; n++) pub.setRoute(`/slow/${n}`, { ...html(page('')), delayMs: 3_000 });
    const urls = [1, 2, 3].map((n) => pub.url(`/slow/${n}`));
    // The first page times out (settings.timeout 500 ms) after the 300 ms budget: the others wait for a later poll.
    expect((await resolve(urls, { timeBudgetMs: 300 })).size).toBe(0);
    expect(paths()).toEqual(['/slow/1']);
    expect((await cacheRows()).map((r) => r.url)).toEqual([pub.url('/slow/1')]);
  });

  it('the default bound is 10 fetches per call', async () => {
    for (let n = 6; n <= 12; n++) pub.setRoute(`/batch/${n}`, html(page(`<link rel="canonical" href="https://publisher.example/batch/${n}">`)));
    const urls = Array.from({ length: 12 }, (_, i) => pub.url(`/batch/${i + 1}`));
    expect((await resolve(urls)).size).toBe(10);
    expect(pub.requests).toHaveLength(10);
  });

  it('retries failures after a day, keeps answers for 30 days', async () => {
    const urls = [pub.url('/article/1'), pub.url('/article/no-canonical'), pub.url('/article/missing')];
    await resolve(urls);
    expect(pub.requests).toHaveLength(3);

    const age = (interval: string) =>
      t.db.updateTable('page_canonicals').set({ fetched_at: sql<Date>`now() - ${sql.raw(`interval '${interval}'`)}` }).execute();

    await age('2 days');
    expect(await resolve(urls)).toEqual(new Map([[pub.url('/article/1'), 'https://publisher.example/story']]));
    expect(paths(3)).toEqual(['/article/missing']); // only the failure is tried again

    await age('31 days');
    await resolve(urls);
    expect(paths(4).sort()).toEqual(['/article/1', '/article/missing', '/article/no-canonical']);

    // The ages are options.
    await age('2 hours');
    await resolve(urls, { cacheMaxAgeMs: 60 * 60_000, failureMaxAgeMs: 3 * 60 * 60_000 });
    expect(paths(7).sort()).toEqual(['/article/1', '/article/no-canonical']);
  });
});

describe('resolveCanonicals: the fetcher’s guards apply', () => {
  it('refuses private addresses when allow_private_networks is false, and records why', async () => {
    const urls = [pub.url('/article/1'), `http://localhost:${new URL(pub.origin).port}/article/2`];
    const map = await resolve(urls, {}, { allowPrivateNetworks: false });
    expect(map.size).toBe(0);
    expect(pub.requests).toHaveLength(0);
    const rows = await cacheRows();
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row).toMatchObject({ canonical_url: null, status: null });
      expect(row.error).toContain('Refusing to fetch');
      expect(row.error).toContain('allow_private_networks');
    }
  });
});

describe('resolveCanonicals: politeness', () => {
  it('keeps the host gap between page requests', async () => {
    const urls = [1, 2, 3].map((n) => pub.url(`/batch/${n}`));
    expect((await resolve(urls, {}, { hostGapMs: 300 })).size).toBe(3);
    const at = pub.requests.map((r) => r.at);
    expect(at).toHaveLength(3);
    // Gaps are stamped on the database clock when the slot is taken; allow for the round trip.
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(250);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(250);
  });

  it('skips the host’s pages this call when its slot is further off than ~2 s (not cached)', async () => {
    const urls = [1, 2, 3].map((n) => pub.url(`/batch/${n}`));
    const started = Date.now();
    const map = await resolve(urls, {}, { hostGapMs: 10_000 });
    expect(Date.now() - started).toBeLessThan(1_500); // no pointless waiting
    expect([...map.keys()]).toEqual([pub.url('/batch/1')]);
    expect(paths()).toEqual(['/batch/1']);
    expect((await cacheRows()).map((r) => r.url)).toEqual([pub.url('/batch/1')]);
  });

  it('skips a paused host without a request', async () => {
    await pauseHost(t.db, HOST, new Date(Date.now() + 60_000), 'HTTP 429 from a feed');
    expect((await resolve([pub.url('/article/1')])).size).toBe(0);
    expect(pub.requests).toHaveLength(0);
    expect(await cacheRows()).toEqual([]);
  });

  it('waits for a busy host’s slot, within the limit', async () => {
    const hold = (sourceId: string) =>
      acquireHostSlot(t.db, { hostKey: HOST, sourceId, owner: 'other', limit: 2, gapMs: 0, leaseMs: 60_000 });
    expect(await hold('feed-a')).toEqual({ ok: true });
    expect(await hold('feed-b')).toEqual({ ok: true });

    // Nobody lets go: the page is skipped once the wait is over.
    expect((await resolve([pub.url('/article/1')], { slotWaitMs: 200 })).size).toBe(0);
    expect(pub.requests).toHaveLength(0);

    // A slot is released while we wait: the page is fetched.
    setTimeout(() => void releaseHostSlot(t.db, { hostKey: HOST, sourceId: 'feed-a' }), 300);
    const map = await resolve([pub.url('/article/1')], { slotWaitMs: 2_000 });
    expect(map.get(pub.url('/article/1'))).toBe('https://publisher.example/story');
    expect(pub.requests).toHaveLength(1);
    expect((await t.db.selectFrom('host_slots').select('source_id').execute()).map((r) => r.source_id)).toEqual(['feed-b']);
  });

  it('takes over the slot its own source holds instead of waiting for itself', async () => {
    // The caller may still hold the feed's slot on the same host (host_concurrency 1).
    expect(await acquireHostSlot(t.db, { hostKey: HOST, sourceId: 'aggregator', owner: 'worker-1', limit: 1, gapMs: 0, leaseMs: 60_000 })).toEqual({ ok: true });
    const map = await resolve([pub.url('/article/1')], { slotWaitMs: 200 }, { hostConcurrency: 1 });
    expect(map.size).toBe(1);
    expect(await t.db.selectFrom('host_slots').selectAll().execute()).toEqual([]);
  });

  it('a 429 pauses the host for every source, is not cached, and stops this call’s requests to it', async () => {
    const urls = [pub.url('/article/busy'), pub.url('/article/1'), pub.url('/article/2')];
    const before = Date.now();
    expect((await resolve(urls)).size).toBe(0);
    expect(paths()).toEqual(['/article/busy']);
    expect(await cacheRows()).toEqual([]);
    const pause = (await hostPauses(t.db, [HOST])).get(HOST);
    expect(pause?.reason).toBe('HTTP 429 for a page of aggregator');
    expect(pause!.until.getTime()).toBeGreaterThan(before + 110_000);
    expect(pause!.until.getTime()).toBeLessThan(Date.now() + 130_000);
  });
});

describe('resolveCanonicals: options', () => {
  it.each([
    { name: 'a negative maxFetches', opts: { maxFetches: -1 }, message: 'maxFetches' },
    { name: 'a fractional maxFetches', opts: { maxFetches: 1.5 }, message: 'maxFetches' },
    { name: 'a NaN cacheMaxAgeMs', opts: { cacheMaxAgeMs: Number.NaN }, message: 'cacheMaxAgeMs' },
    { name: 'a negative slotWaitMs', opts: { slotWaitMs: -5 }, message: 'slotWaitMs' },
  ])('rejects $name, naming it', async ({ opts, message }) => {
    await expect(resolve([pub.url('/article/1')], opts)).rejects.toThrow(message);
    expect(pub.requests).toHaveLength(0);
  });

  it('an empty list does nothing', async () => {
    expect(await resolve([])).toEqual(new Map());
  });
});

describe('page-canonicals repo', () => {
  it('upserts one row per page, stamped with the database clock', async () => {
    await putCanonical(t.db, { url: 'https://a.example/1', canonicalUrl: null, status: null, error: 'timed out' });
    await putCanonical(t.db, { url: 'https://a.example/1', canonicalUrl: 'https://p.example/1', status: 200, error: null });
    const rows = await t.db.selectFrom('page_canonicals').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ url: 'https://a.example/1', canonical_url: 'https://p.example/1', status: 200, error: null });
    expect(Math.abs(rows[0]!.fetched_at.getTime() - Date.now())).toBeLessThan(5_000);
  });

  it('returns fresh entries only, with separate ages for answers and failures, in chunks', async () => {
    await putCanonical(t.db, { url: 'https://a.example/ok', canonicalUrl: 'https://p.example/ok', status: 200, error: null });
    await putCanonical(t.db, { url: 'https://a.example/none', canonicalUrl: null, status: 200, error: null });
    await putCanonical(t.db, { url: 'https://a.example/failed', canonicalUrl: null, status: 500, error: 'HTTP 500' });
    await t.db.updateTable('page_canonicals').set({ fetched_at: sql<Date>`now() - interval '10 minutes'` }).execute();

    // 2,500 URLs asked for: more than one chunk.
    const asked = [...Array.from({ length: 2_497 }, (_, i) => `https://a.example/unknown/${i}`), 'https://a.example/ok', 'https://a.example/none', 'https://a.example/failed'];
    const hour = 60 * 60_000;
    const all = await getCachedCanonicals(t.db, asked, hour, hour);
    expect([...all.keys()].sort()).toEqual(['https://a.example/failed', 'https://a.example/none', 'https://a.example/ok']);
    expect(all.get('https://a.example/failed')).toMatchObject({ canonicalUrl: null, status: 500, error: 'HTTP 500' });
    expect(all.get('https://a.example/ok')?.fetchedAt).toBeInstanceOf(Date);

    const failuresStale = await getCachedCanonicals(t.db, asked, hour, 5 * 60_000);
    expect([...failuresStale.keys()].sort()).toEqual(['https://a.example/none', 'https://a.example/ok']);
    expect((await getCachedCanonicals(t.db, asked, 5 * 60_000)).size).toBe(0);
  });

  it('deletes stale entries', async () => {
    await putCanonical(t.db, { url: 'https://a.example/old', canonicalUrl: null, status: 200, error: null });
    await t.db.updateTable('page_canonicals').set({ fetched_at: sql<Date>`now() - interval '90 days'` }).execute();
    await putCanonical(t.db, { url: 'https://a.example/new', canonicalUrl: null, status: 200, error: null });
    expect(await deleteStaleCanonicals(t.db, 60 * 24 * 60 * 60_000)).toBe(1);
    expect((await cacheRows()).map((r) => r.url)).toEqual(['https://a.example/new']);
  });

  it.each([
    { name: 'an empty url', record: { url: '', canonicalUrl: null, status: null, error: null }, message: 'url is empty' },
    { name: 'a status that is no HTTP status', record: { url: 'https://a.example/x', canonicalUrl: null, status: 42, error: null }, message: 'status must be' },
  ])('putCanonical rejects $name', async ({ record, message }) => {
    await expect(putCanonical(t.db, record)).rejects.toThrow(message);
  });

  it('rejects a negative age, naming it', async () => {
    await expect(getCachedCanonicals(t.db, ['https://a.example/x'], -1)).rejects.toThrow('maxAgeMs');
  });
});
