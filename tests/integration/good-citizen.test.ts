import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRiver, openStore } from '../../src/app.js';
import { loadAppConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { OutageDetector } from '../../src/scheduler/outage.js';
import { runPass } from '../../src/scheduler/poller.js';
import { syncSources } from '../../src/store/sources-repo.js';
import {
  feedsYaml,
  httpDate,
  ms,
  removeCitizenTemplate,
  rssFeed,
  sampleMemory,
  startCitizenRiver,
  urlPosition,
  type CitizenRiver,
  type RssOptions,
} from '../helpers/citizen.js';
import { usingPostgres } from '../helpers/db.js';
import { endlessBody, gone, redirect, slowDrip, startPublisher, type FixtureResponse, type Publisher, type Route } from '../helpers/publisher.js';

// Issue #3, "fetching as a good citizen", end to end: every behaviour against a misbehaving
// publisher on a loopback address (127.0.0.1, and 127.0.0.2-5 where a behaviour is about
// *different* hosts, since budgets and Retry-After pauses are per host), driven through the real
// CLI in-process and read back through the real HTTP API, on PGlite or PostgreSQL (DATABASE_URL).
// Every test has a river (and database) of its own, so one test's host pause cannot leak into the next.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Lets the tests fetch from loopback and go as fast as the publisher answers. */
const OPEN = { allow_private_networks: true, host_gap: 0 } as const;

const rss = (slug: string, extra: Omit<RssOptions, 'slug'> = {}): FixtureResponse => ({
  body: rssFeed({ slug, ...extra }),
  contentType: 'application/rss+xml',
});

const started: Array<{ close(): Promise<void> }> = [];
/** Publishers and rivers are closed after the file even when an assertion fails midway. */
async function publisher(routes: Record<string, Route>, host?: string): Promise<Publisher> {
  const pub = await startPublisher(routes, host ? { host } : {});
  started.push(pub);
  return pub;
}
async function river(yaml: string): Promise<CitizenRiver> {
  const r = await startCitizenRiver(yaml);
  started.push(r);
  return r;
}

afterAll(async () => {
  for (const s of started.reverse()) await s.close().catch(() => undefined);
  removeCitizenTemplate();
});

/** One `fetch` run that must succeed as a command (publishers failing is not the command failing). */
async function fetchOk(r: CitizenRiver, ...args: string[]): Promise<string> {
  const res = await r.cli('fetch', ...args);
  expect(res.err, 'fetch wrote to stderr').toBe('');
  expect(res.code, res.out).toBe(0);
  return res.out;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('1. 200 then 304', () => {
  it('sends the validators back, and a 304 stores nothing but the status and schedule', async () => {
    const pub = await publisher({ '/feed.rss': { ...rss('cond', { items: 3 }), etag: '"v1"' } });
    const r = await river(feedsYaml(OPEN, [{ id: 'cond', url: pub.url('/feed.rss') }]));

    expect(await fetchOk(r, '--all')).toMatch(/^cond\s+updated\s+200\s+3\s+0\s+0\b/m);
    expect(await fetchOk(r, '--all')).toMatch(/^cond\s+not-modified\s+304\s+0\s+0\s+0\b/m);

    const reqs = pub.requestsTo('/feed.rss');
    expect(reqs).toHaveLength(2);
    expect(reqs[0]!.headers['if-none-match']).toBeUndefined();
    expect(reqs[1]!.headers['if-none-match']).toBe('"v1"');

    const s = await r.source('cond');
    expect(s).toMatchObject({ state: 'ok', last_status: 304, last_error: null, error_count: 0, item_count: 3 });
    // History, newest first: the 304 wrote no items and carried no body.
    expect(s.history.map((h) => [h.outcome, h.status, h.items_new, h.items_updated, h.items_unchanged])).toEqual([
      ['not-modified', 304, 0, 0, 0],
      ['updated', 200, 3, 0, 0],
    ]);
    expect(s.history[0]!.error).toBeNull();
  });
});

describe('2. redirects', () => {
  // One river for the first three tests: each goes on from the polls the previous one made.
  let pub: Publisher;
  let r: CitizenRiver;
  const moved = ['m301', 'm308'];
  const temporary = ['t302', 't303', 't307'];
  const oldUrl = (id: string) => pub.url(id.startsWith('m') ? `/old${id.slice(1)}.rss` : `/${id}.rss`);
  const newUrl = (id: string) => pub.url(id.startsWith('m') ? `/new${id.slice(1)}.rss` : `/${id}-target.rss`);
  const pathOf = (url: string) => new URL(url).pathname;

  beforeAll(async () => {
    pub = await publisher({
      '/old301.rss': redirect('/new301.rss', 301),
      '/new301.rss': { ...rss('m301'), etag: '"m301"' },
      '/old308.rss': redirect('/new308.rss', 308),
      '/new308.rss': rss('m308'),
      '/t302.rss': redirect('/t302-target.rss', 302),
      '/t302-target.rss': rss('t302'),
      '/t303.rss': redirect('/t303-target.rss', 303),
      '/t303-target.rss': rss('t303'),
      '/t307.rss': redirect('/t307-target.rss', 307),
      '/t307-target.rss': rss('t307'),
    });
    r = await river(feedsYaml(OPEN, [...moved, ...temporary].map((id) => ({ id, url: oldUrl(id) }))));
  });

  it('301/308: followed, shown as moved with effective_url beside url, and check names the line to change', async () => {
    const first = await fetchOk(r, '--all');
    expect(first).toMatch(/5 sources polled, 0 failed, 10 new stories/);
    for (const id of moved) expect(first).toContain(`${id} moved permanently to ${newUrl(id)}: edit its url in feeds.yaml`);
    expect(first).not.toMatch(/t30\d moved/);

    const all = await r.sources();
    for (const id of moved) {
      expect(all.get(id), id).toMatchObject({ state: 'moved', url: oldUrl(id), effective_url: newUrl(id), last_error: null, item_count: 2 });
    }

    // `tributary check` names the line to edit, at the url's own position.
    const check = await r.cli('check');
    expect(check.code).toBe(0);
    for (const id of moved) {
      const line = check.out.split('\n').find((l) => l.startsWith(`${urlPosition(r.feedsFile, oldUrl(id))}: `));
      expect(line, `check output:\n${check.out}`).toBeDefined();
      expect(line).toMatch(new RegExp(`moved permanently .*change its url to ${esc(newUrl(id))}$`));
    }
  });

  it('302/303/307: followed, never remembered: the next poll asks the original address again', async () => {
    const all = await r.sources();
    for (const id of temporary) {
      expect(all.get(id), id).toMatchObject({ state: 'ok', url: oldUrl(id), effective_url: null, last_error: null, item_count: 2 });
    }
    await fetchOk(r, '--all');
    for (const id of temporary) {
      expect(pub.requestsTo(pathOf(oldUrl(id))), id).toHaveLength(2);
      expect(pub.requestsTo(pathOf(newUrl(id))), id).toHaveLength(2);
    }
    expect((await r.cli('check')).out).not.toMatch(/feed "t30\d" moved/);
  });

  it('301/308: every later poll goes straight to the new address, which stays remembered', async () => {
    // The previous test made the second poll (from the new address, no redirect this time).
    const afterSecond = await r.sources();
    for (const id of moved) {
      expect(afterSecond.get(id), `${id} after a poll of the new address`).toMatchObject({ state: 'moved', effective_url: newUrl(id), error_count: 0 });
    }
    await fetchOk(r, '--all');
    for (const id of moved) {
      expect(pub.requestsTo(pathOf(oldUrl(id))), `${id}: requests to the old address`).toHaveLength(1);
      expect(pub.requestsTo(pathOf(newUrl(id))), `${id}: requests to the new address`).toHaveLength(3);
    }
  });

  it('check points at the moved feed\'s own url line, not at another url that merely starts with it', async () => {
    const pub = await publisher({
      '/feed': redirect('/feed-v2', 301),
      '/feed-v2': rss('moved'),
      '/feed?edition=uk': rss('uk'),
    });
    // The other feed comes first, and its url begins with the moved feed's url.
    const r = await river(feedsYaml(OPEN, [{ id: 'uk', url: pub.url('/feed?edition=uk') }, { id: 'main', url: pub.url('/feed') }]));
    await fetchOk(r, '--all');
    expect((await r.sources()).get('main')).toMatchObject({ state: 'moved', effective_url: pub.url('/feed-v2') });
    const check = await r.cli('check');
    const line = check.out.split('\n').find((l) => l.includes('feed "main" moved permanently'));
    expect(line).toBeDefined();
    expect(line!.startsWith(`${urlPosition(r.feedsFile, pub.url('/feed'))}: `), line).toBe(true);
  });
});

describe('3. redirect limits', () => {
  it('follows 5 hops; more than 5, or a loop, is a clear error recorded on the source', async () => {
    const chain = (prefix: string, hops: number): Record<string, Route> => {
      const routes: Record<string, Route> = {};
      for (let i = 0; i < hops; i++) routes[`/${prefix}${i}`] = redirect(`/${prefix}${i + 1}`, 302);
      routes[`/${prefix}${hops}`] = rss(prefix);
      return routes;
    };
    const pub = await publisher({
      ...chain('five', 5),
      ...chain('six', 6),
      '/loop-a': redirect('/loop-b', 301),
      '/loop-b': redirect('/loop-a', 301),
    });
    const r = await river(
      feedsYaml(OPEN, [
        { id: 'five', url: pub.url('/five0') },
        { id: 'six', url: pub.url('/six0') },
        { id: 'loop', url: pub.url('/loop-a') },
      ]),
    );
    expect(await fetchOk(r, '--all')).toMatch(/3 sources polled, 2 failed/);

    const five = await r.source('five');
    expect(five).toMatchObject({ state: 'ok', last_status: 200, item_count: 2, last_error: null });

    const six = await r.source('six');
    expect(six).toMatchObject({ state: 'error', error_count: 1, item_count: 0 });
    expect(six.last_error).toMatch(new RegExp(`Too many redirects \\(more than 5\\) fetching ${esc(pub.url('/six0'))}`));
    expect(six.next_fetch_reason).toMatch(/backoff/);
    expect(six.history[0]).toMatchObject({ outcome: 'failed', error: six.last_error });
    // Five hops were followed, the sixth was not.
    expect(pub.requestsTo('/six5')).toHaveLength(1);
    expect(pub.requestsTo('/six6')).toHaveLength(0);

    const loop = await r.source('loop');
    expect(loop).toMatchObject({ state: 'error', error_count: 1 });
    expect(loop.last_error).toMatch(new RegExp(`Redirect loop: ${esc(pub.url('/loop-b'))} redirects back to ${esc(pub.url('/loop-a'))}`));
    expect(pub.requestsTo('/loop-a')).toHaveLength(1);
    expect(pub.requestsTo('/loop-b')).toHaveLength(1);
  });

  it('a loop of 301s is an error, not a move: check does not advise changing the url to an address in the loop', async () => {
    const pub = await publisher({ '/loop-a': redirect('/loop-b', 301), '/loop-b': redirect('/loop-a', 301) });
    const r = await river(feedsYaml(OPEN, [{ id: 'loop', url: pub.url('/loop-a') }]));
    await fetchOk(r, '--all');
    const s = (await r.sources()).get('loop')!;
    expect(s.last_error).toMatch(/Redirect loop/);
    expect(s.effective_url).toBeNull();
    expect((await r.cli('check')).out).not.toMatch(/feed "loop" moved permanently/);
  });
});

describe('4. 410 Gone', () => {
  it('stops polling a gone source until its url in feeds.yaml changes', async () => {
    const pub = await publisher({ '/gone.rss': gone(), '/alive.rss': rss('alive'), '/reborn.rss': rss('reborn') });
    const yaml = (goneUrl: string) => feedsYaml(OPEN, [{ id: 'alive', url: pub.url('/alive.rss') }, { id: 'old', url: goneUrl }]);
    const r = await river(yaml(pub.url('/gone.rss')));

    expect(await fetchOk(r, '--all')).toMatch(/^old\s+gone\s+410\b/m);
    const s = await r.source('old');
    expect(s).toMatchObject({ state: 'gone', gone: true, last_status: 410, error_count: 0 });
    expect(s.gone_at).not.toBeNull();
    expect(s.last_error).toMatch(/410/);
    expect(s.next_fetch_reason).toMatch(/gone \(410\).*feeds\.yaml/);
    expect(s.history[0]).toMatchObject({ outcome: 'gone', status: 410 });

    // Later passes, even --all, leave it alone; the others go on.
    expect(await fetchOk(r, '--all')).toMatch(/1 sources polled/);
    await fetchOk(r, '--all');
    expect(pub.requestsTo('/gone.rss')).toHaveLength(1);
    expect(pub.requestsTo('/alive.rss')).toHaveLength(3);
    const table = await r.cli('sources');
    expect(table.out).toMatch(/^old\s+gone\s+.*410 Gone: change its url/m);

    // A new url in feeds.yaml is a new start: fetch re-syncs and polls it at once (no --all needed).
    r.writeFeeds(yaml(pub.url('/reborn.rss')));
    expect(await fetchOk(r)).toMatch(/^old\s+updated\s+200\s+2\b/m);
    expect(pub.requestsTo('/reborn.rss')).toHaveLength(1);
    expect(pub.requestsTo('/gone.rss')).toHaveLength(1);
    expect(await r.source('old')).toMatchObject({ state: 'ok', gone: false, gone_at: null, last_status: 200, last_error: null, item_count: 2 });
  });

  it('fetch --source of a gone source says it is gone, rather than "no sources due (use --all)"', async () => {
    const pub = await publisher({ '/gone.rss': gone() });
    const r = await river(feedsYaml(OPEN, [{ id: 'old', url: pub.url('/gone.rss') }]));
    await fetchOk(r, '--all');
    const out = await fetchOk(r, '--source', 'old');
    expect(pub.requestsTo('/gone.rss')).toHaveLength(1);
    // --source already implies --all; the person asked for this source by name and should learn why nothing happened.
    expect(out).not.toMatch(/use --all/);
    expect(out).toMatch(/old.*(gone|410)/);
  });
});

describe('5. 404 and 500', () => {
  it('are errors with exponential backoff, capped by max_interval, and the interval returns after a success', async () => {
    const pub = await publisher({ '/missing.rss': { status: 404, body: 'no' }, '/broken.rss': { status: 500, body: 'oops' } });
    const r = await river(
      feedsYaml({ ...OPEN, every: '10m', min_interval: '10s', max_interval: '1h' }, [
        { id: 'missing', url: pub.url('/missing.rss') },
        { id: 'broken', url: pub.url('/broken.rss') },
      ]),
    );
    const runs = 4;
    for (let i = 0; i < runs; i++) await fetchOk(r, '--all');
    const now = Date.now();
    const all = await r.sources();
    for (const [id, status] of [['missing', 404], ['broken', 500]] as const) {
      const s = all.get(id)!;
      expect(s, id).toMatchObject({ state: 'error', error_count: runs, last_status: status });
      expect(s.last_error).toMatch(new RegExp(`HTTP ${status}`));
      expect(s.next_fetch_reason).toMatch(new RegExp(`backoff after ${runs} errors`));
      // Full jitter over a window that doubled per failure: never sooner than the interval, never
      // later than max_interval (a dead feed is retried less often, never dropped).
      const last = ms(s.last_fetched_at, `${id}.last_fetched_at`);
      const next = ms(s.next_fetch_at, `${id}.next_fetch_at`);
      expect(next - last, id).toBeGreaterThanOrEqual(10 * MINUTE - 1_000);
      expect(next, id).toBeLessThanOrEqual(now + HOUR);
      expect(pub.requestsTo(`/${id}.rss`)).toHaveLength(runs);
    }

    // The publisher recovers: the error count resets and the normal interval (±10% jitter) returns.
    pub.setRoute('/broken.rss', rss('fixed'));
    const before = Date.now();
    await fetchOk(r, '--source', 'broken');
    const fixed = (await r.sources()).get('broken')!;
    expect(fixed).toMatchObject({ state: 'ok', error_count: 0, last_error: null, next_fetch_reason: 'interval 10m' });
    const next = ms(fixed.next_fetch_at, 'broken.next_fetch_at');
    expect(next).toBeGreaterThanOrEqual(before + 9 * MINUTE);
    expect(next).toBeLessThanOrEqual(Date.now() + 11 * MINUTE);
  });
});

describe('6. 429 and 503 with Retry-After', () => {
  it('pause the whole host without counting a failure; other hosts go on', async () => {
    const a = await publisher({ '/rl.rss': { status: 429, body: 'slow down', headers: { 'retry-after': '120' } }, '/sib.rss': rss('sib-a') }, '127.0.0.1');
    const until503 = httpDate(HOUR);
    const b = await publisher({ '/busy.rss': { status: 503, body: 'maintenance', headers: { 'retry-after': until503 } }, '/sib.rss': rss('sib-b') }, '127.0.0.2');
    const c = await publisher({ '/other.rss': rss('other') }, '127.0.0.3');
    const r = await river(
      feedsYaml(OPEN, [
        { id: 'rl', url: a.url('/rl.rss') },
        { id: 'sib-a', url: a.url('/sib.rss') },
        { id: 'busy', url: b.url('/busy.rss') },
        { id: 'sib-b', url: b.url('/sib.rss') },
        { id: 'other', url: c.url('/other.rss') },
      ]),
    );

    const before = Date.now();
    const out = await fetchOk(r, '--source', 'rl', '--source', 'busy');
    const after = Date.now();
    expect(out).toMatch(/^busy\s+rate-limited\s+503\b/m);
    expect(out).toMatch(/^rl\s+rate-limited\s+429\b/m);
    expect(out).toMatch(/2 sources polled, 0 failed/);

    const all = await r.sources();
    const rl = all.get('rl')!;
    expect(rl).toMatchObject({ state: 'rate-limited', error_count: 0, last_status: 429 });
    expect(rl.last_error).toMatch(/HTTP 429 Too Many Requests .*Retry-After 120s/);
    const rlPause = ms(rl.host_paused_until, 'rl.host_paused_until');
    expect(rlPause).toBeGreaterThanOrEqual(before + 120_000 - 1_000);
    expect(rlPause).toBeLessThanOrEqual(after + 120_000 + 1_000);
    // Retry-After is a floor: 2 minutes is shorter than the 15m interval, so the interval decides.
    expect(rl.next_fetch_reason).toMatch(/^interval 15m/);
    expect(ms(rl.next_fetch_at, 'rl.next_fetch_at')).toBeGreaterThanOrEqual(rlPause);

    const busy = all.get('busy')!;
    expect(busy).toMatchObject({ state: 'rate-limited', error_count: 0, last_status: 503, next_fetch_reason: 'Retry-After' });
    expect(busy.last_error).toMatch(/HTTP 503 Service Unavailable/);
    expect(Math.abs(ms(busy.host_paused_until, 'busy.host_paused_until') - Date.parse(until503))).toBeLessThanOrEqual(1_000);

    // The pause is the host's: the sibling on each host shows it too.
    expect(all.get('sib-a')).toMatchObject({ state: 'rate-limited', host_paused_until: rl.host_paused_until, last_fetched_at: null });
    expect(all.get('sib-b')).toMatchObject({ state: 'rate-limited', host_paused_until: busy.host_paused_until, last_fetched_at: null });
    expect((await r.source('rl')).history[0]).toMatchObject({ outcome: 'rate-limited', status: 429 });

    // The next pass sends nothing to either paused host, but polls the third.
    const next = await fetchOk(r, '--all');
    expect(next).toMatch(/^other\s+updated\s+200\b/m);
    expect(next).toMatch(/1 sources polled, 0 failed/);
    expect(a.requestsTo('/sib.rss')).toHaveLength(0);
    expect(a.requestsTo('/rl.rss')).toHaveLength(1);
    expect(b.requestsTo('/sib.rss')).toHaveLength(0);
    expect(b.requestsTo('/busy.rss')).toHaveLength(1);
    expect(c.requestsTo('/other.rss')).toHaveLength(1);
  });

  it('fetch --source of a source whose host is paused says so, rather than "no sources due (use --all)"', async () => {
    const pub = await publisher({ '/rl.rss': { status: 429, body: 'slow down', headers: { 'retry-after': '600' } }, '/sib.rss': rss('sib') });
    const r = await river(feedsYaml(OPEN, [{ id: 'rl', url: pub.url('/rl.rss') }, { id: 'sib', url: pub.url('/sib.rss') }]));
    await fetchOk(r, '--source', 'rl');
    const out = await fetchOk(r, '--source', 'sib');
    expect(pub.requestsTo('/sib.rss')).toHaveLength(0);
    expect(out).not.toMatch(/use --all/);
    expect(out).toMatch(/sib.*(wait|paused|rate-limited|Retry-After)/);
  });
});

describe('7. publisher hints', () => {
  it('ttl, Cache-Control max-age and skipHours set the next fetch, bounded by max_interval', async () => {
    const t0 = new Date();
    const hour = t0.getUTCHours();
    // The current hour and the next three are blackout hours (GMT), so "in 15m" must move to the
    // start of the fourth hour from now.
    const skip = [0, 1, 2, 3].map((k) => (hour + k) % 24);
    const pub = await publisher({
      '/ttl.rss': rss('ttl', { ttl: 120 }),
      '/maxage.rss': { ...rss('maxage'), headers: { 'cache-control': 'public, max-age=7200' } },
      '/skip.rss': rss('skip', { skipHours: skip }),
      '/week.rss': rss('week', { ttl: 7 * 24 * 60 }),
      '/plain.rss': rss('plain'),
    });
    const r = await river(
      feedsYaml({ ...OPEN, every: '15m', max_interval: '1d' }, ['ttl', 'maxage', 'skip', 'week', 'plain'].map((id) => ({ id, url: pub.url(`/${id}.rss`) }))),
    );
    const before = t0.getTime();
    await fetchOk(r, '--all');
    const after = Date.now();
    const all = await r.sources();
    const next = (id: string) => ms(all.get(id)!.next_fetch_at, `${id}.next_fetch_at`);
    const reason = (id: string) => all.get(id)!.next_fetch_reason;

    expect(reason('ttl')).toMatch(/^ttl 120m/);
    expect(next('ttl')).toBeGreaterThanOrEqual(before + 2 * HOUR);
    expect(next('ttl')).toBeLessThanOrEqual(after + 2 * HOUR);

    expect(reason('maxage')).toMatch(/^Cache-Control max-age 2h/);
    expect(next('maxage')).toBeGreaterThanOrEqual(before + 2 * HOUR);
    expect(next('maxage')).toBeLessThanOrEqual(after + 2 * HOUR);

    expect(reason('skip')).toMatch(/skipHours/);
    const startOfHour = Date.UTC(t0.getUTCFullYear(), t0.getUTCMonth(), t0.getUTCDate(), t0.getUTCHours());
    expect(new Date(next('skip')).toISOString()).toBe(new Date(startOfHour + 4 * HOUR).toISOString());

    expect(reason('week')).toMatch(/^ttl 10080m \(ceiling\)/);
    expect(next('week')).toBeGreaterThanOrEqual(before + DAY);
    expect(next('week')).toBeLessThanOrEqual(after + DAY);

    // Without hints: the interval, jittered ±10%.
    expect(reason('plain')).toBe('interval 15m');
    expect(next('plain')).toBeGreaterThanOrEqual(before + 13.5 * MINUTE);
    expect(next('plain')).toBeLessThanOrEqual(after + 16.5 * MINUTE);
  });
});

describe('8. limits', () => {
  it('cuts an endless body, a 512 MiB declared body, a gzip bomb and a slow drip, and says so on the source', async () => {
    const endless = endlessBody();
    const declared = endlessBody({ headers: { 'content-length': String(512 * 1024 * 1024) }, totalBytes: 512 * 1024 * 1024 });
    // 16 MiB of zeros gzip to ~16 KiB: small on the wire, 16x the limit once inflated.
    const bomb = gzipSync(Buffer.alloc(16 * 1024 * 1024));
    expect(bomb.byteLength).toBeLessThan(64 * 1024);
    const pub = await publisher({
      '/endless.rss': endless,
      '/declared.rss': declared,
      '/bomb.rss': { body: bomb, contentType: 'application/rss+xml', headers: { 'content-encoding': 'gzip' } },
      '/drip.rss': slowDrip({ intervalMs: 100 }),
    });
    const r = await river(
      feedsYaml({ ...OPEN, timeout: '2s', max_body: '1MiB' }, ['endless', 'declared', 'bomb', 'drip'].map((id) => ({ id, url: pub.url(`/${id}.rss`) }))),
    );
    const t = Date.now();
    expect(await fetchOk(r, '--all')).toMatch(/4 sources polled, 4 failed/);
    expect(Date.now() - t).toBeLessThan(10_000);

    const limit = esc('the 1 MiB (1048576 bytes) body limit (settings.max_body)');
    const expected: Record<string, RegExp> = {
      endless: new RegExp(`Response from ${esc(pub.url('/endless.rss'))} is larger than ${limit}`),
      declared: new RegExp(`Response from ${esc(pub.url('/declared.rss'))} declares 536870912 bytes, over ${limit}`),
      bomb: new RegExp(`Response from ${esc(pub.url('/bomb.rss'))} is larger than ${limit}`),
      drip: new RegExp(`Timed out after 2000 ms fetching ${esc(pub.url('/drip.rss'))} \\(settings\\.timeout\\)`),
    };
    for (const [id, message] of Object.entries(expected)) {
      const s = await r.source(id);
      expect(s, id).toMatchObject({ state: 'error', error_count: 1 });
      expect(s.last_error, id).toMatch(message);
      expect(s.history[0], id).toMatchObject({ outcome: 'failed', error: s.last_error });
    }
    // The client stopped reading: the endless publisher was cut off after far less than it offered.
    expect(endless.stats.cutOff).toBe(1);
    expect(endless.stats.bytesSent).toBeLessThan(32 * 1024 * 1024);
    expect(declared.stats.bytesSent).toBeLessThan(32 * 1024 * 1024);
    // The drip was cut by the total timeout, not by a stage timeout, and not much later.
    const drip = (await r.source('drip')).history[0]!;
    expect(drip.duration_ms).toBeGreaterThanOrEqual(1_900);
    expect(drip.duration_ms).toBeLessThan(4_000);
  });
});

describe('9. SSRF guard', () => {
  it('refuses loopback by default (literal and by name), says why and how to allow it', async () => {
    const pub = await publisher({ '/feed.rss': rss('private') });
    const port = new URL(pub.origin).port;
    const byName = `http://localhost:${port}/feed.rss`;
    const yaml = (settings: Record<string, string | number | boolean>) =>
      feedsYaml(settings, [
        { id: 'literal', url: pub.url('/feed.rss') },
        { id: 'named', url: byName },
      ]);
    const r = await river(yaml({ host_gap: 0 }));
    await fetchOk(r, '--all');

    const hint = /set settings\.allow_private_networks: true in feeds\.yaml/;
    const all = await r.sources();
    const literal = all.get('literal')!;
    expect(literal.last_error).toMatch(new RegExp(`^Refusing to fetch ${esc(pub.url('/feed.rss'))}: 127\\.0\\.0\\.1 is not a public address: loopback`));
    expect(literal.last_error).toMatch(hint);
    // By name, the check runs on the address resolved at connect time.
    const named = all.get('named')!;
    expect(named.last_error).toMatch(new RegExp(`^Refusing to fetch ${esc(byName)}: localhost \\((127\\.0\\.0\\.1|::1)\\) is not a public address: loopback`));
    expect(named.last_error).toMatch(hint);
    for (const s of [literal, named]) expect(s.state).toBe('error');
    expect(pub.requests).toHaveLength(0);

    // Following the hint works.
    r.writeFeeds(yaml({ host_gap: 0, allow_private_networks: true }));
    expect(await fetchOk(r, '--source', 'literal')).toMatch(/^literal\s+updated\s+200\s+2\b/m);
    expect(pub.requestsTo('/feed.rss')).toHaveLength(1);
  });
});

describe('10. politeness', () => {
  it('keeps to host_concurrency and host_gap for 6 sources on one host, and waiting is not failure', async () => {
    const ids = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'];
    const pub = await publisher(Object.fromEntries(ids.map((id) => [`/${id}.rss`, { ...rss(id), delayMs: 300 }])));
    const yaml = (hostConcurrency: number, hostGap: string) =>
      feedsYaml({ allow_private_networks: true, concurrency: 8, host_concurrency: hostConcurrency, host_gap: hostGap }, ids.map((id) => ({ id, url: pub.url(`/${id}.rss`) })));
    const starts = (from: number) => pub.requests.slice(from).map((q) => q.at);
    const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);

    // host_concurrency 1 with slow (300 ms) answers and no gap: strictly one at a time.
    const r = await river(yaml(1, '0'));
    const out = await fetchOk(r, '--all');
    expect(out).toMatch(/6 sources polled, 0 failed, 12 new stories/);
    expect(pub.maxInFlight).toBe(1);
    expect(pub.requests).toHaveLength(6);
    for (const gap of gaps(starts(0))) expect(gap).toBeGreaterThanOrEqual(290);

    // host_gap between request starts, with room for two at once. (host_gap cannot be set below
    // 1s other than 0: feeds.yaml durations are whole seconds.)
    r.writeFeeds(yaml(2, '1s'));
    for (const id of ids) pub.setRoute(`/${id}.rss`, rss(id));
    const t = Date.now();
    const second = await fetchOk(r, '--all');
    expect(second).toMatch(/6 sources polled, 0 failed/);
    expect(Date.now() - t).toBeGreaterThanOrEqual(5 * 950);
    const later = starts(6);
    expect(later).toHaveLength(6);
    for (const gap of gaps(later)) expect(gap).toBeGreaterThanOrEqual(900);

    const all = await r.sources();
    for (const id of ids) expect(all.get(id), id).toMatchObject({ state: 'ok', error_count: 0, last_error: null, item_count: 2 });
  });
});

describe('11. outage', () => {
  const deadUrls = ['http://127.0.0.3:9/feed.xml', 'http://127.0.0.4:9/feed.xml', 'http://127.0.0.5:9/rss'];

  it('every host unreachable: no error counted, the reason says an outage is suspected', async () => {
    const r = await river(feedsYaml({ ...OPEN, every: '15m' }, deadUrls.map((url, i) => ({ id: `dead${i + 1}`, url }))));
    const t = Date.now();
    for (let i = 0; i < 2; i++) expect(await fetchOk(r, '--all')).toMatch(/3 sources polled/);
    const all = await r.sources();
    for (const [i] of deadUrls.entries()) {
      const s = all.get(`dead${i + 1}`)!;
      expect(s.last_error, s.id).toMatch(/ECONNREFUSED/);
      expect(s.error_count, s.id).toBe(0);
      expect(s.next_fetch_reason, s.id).toMatch(/outage suspected/);
      // The normal interval, not a backoff.
      expect(ms(s.next_fetch_at, s.id)).toBeGreaterThanOrEqual(t + 13.5 * MINUTE);
    }
  });

  it('a source unreachable while another host answers in the same process is blamed', async () => {
    const pub = await publisher({ '/feed.rss': rss('healthy') });
    const r = await river(
      feedsYaml({ ...OPEN, every: '15m' }, [
        { id: 'healthy', url: pub.url('/feed.rss') },
        { id: 'dead', url: deadUrls[0]! },
        { id: 'dead-alone', url: deadUrls[1]! },
      ]),
    );
    const config = loadAppConfig(r.river.env, r.river.dir);
    const riverConfig = await loadRiver(config);
    const store = await openStore(config, silentLogger());
    try {
      await syncSources(store.db, riverConfig.feeds);
      const deps = { db: store.db, logger: silentLogger(), settings: () => riverConfig.settings };
      const shared = new OutageDetector();
      const first = await runPass({ ...deps, outage: shared }, { ignoreSchedule: true, ids: ['healthy'] });
      expect(first.map((x) => [x.sourceId, x.outcome])).toEqual([['healthy', 'updated']]);
      const second = await runPass({ ...deps, outage: shared }, { ignoreSchedule: true, ids: ['dead'] });
      expect(second.map((x) => [x.sourceId, x.outcome])).toEqual([['dead', 'failed']]);
      // A detector that has seen nothing answer: the same failure is not blamed on the publisher.
      await runPass({ ...deps, outage: new OutageDetector() }, { ignoreSchedule: true, ids: ['dead-alone'] });
    } finally {
      await store.close();
    }
    const all = await r.sources();
    expect(all.get('dead')).toMatchObject({ state: 'error', error_count: 1 });
    expect(all.get('dead')!.next_fetch_reason).toMatch(/^backoff after 1 error/);
    expect(all.get('dead')!.last_error).toMatch(/ECONNREFUSED/);
    expect(all.get('dead-alone')!.error_count).toBe(0);
    expect(all.get('dead-alone')!.next_fetch_reason).toMatch(/outage suspected/);
  });

  it('a source whose last poll failed in a suspected outage is not shown as state "ok"', async () => {
    const r = await river(feedsYaml(OPEN, [{ id: 'dead', url: deadUrls[2]! }]));
    await fetchOk(r, '--all');
    const s = (await r.sources()).get('dead')!;
    expect(s.last_error).toMatch(/ECONNREFUSED/);
    expect(s.error_count).toBe(0);
    // /api/sources must explain the source: "ok" beside a connection error does not.
    expect(s.state, `state of a source whose last poll failed: ${JSON.stringify(s)}`).not.toBe('ok');
  });
});

describe('12. done when: one fetch over a mix of misbehaving publishers', () => {
  it('finishes within the timeout, exits 0, stays within bounded memory, and explains every source', async () => {
    const endless = endlessBody();
    const pub = await publisher({
      '/healthy.rss': rss('healthy'),
      '/old.rss': redirect('/new.rss', 301),
      '/new.rss': rss('moved'),
      '/gone.rss': gone(),
      '/broken.rss': { status: 500, body: 'oops' },
      '/huge.rss': endless,
      '/slow.rss': slowDrip({ intervalMs: 100 }),
      '/page.html': { body: '<!doctype html><html><head><title>Home</title></head><body>Welcome</body></html>', contentType: 'text/html' },
    });
    // The rate-limited publisher on a host of its own, so its pause explains only itself.
    const limited = await publisher({ '/rl.rss': { status: 429, body: 'slow down', headers: { 'retry-after': '1800' } } }, '127.0.0.2');
    const feeds = [
      { id: 'healthy', url: pub.url('/healthy.rss') },
      { id: 'moved', url: pub.url('/old.rss') },
      { id: 'gone', url: pub.url('/gone.rss') },
      { id: 'limited', url: limited.url('/rl.rss') },
      { id: 'broken', url: pub.url('/broken.rss') },
      { id: 'huge', url: pub.url('/huge.rss') },
      { id: 'slow', url: pub.url('/slow.rss') },
      { id: 'page', url: pub.url('/page.html') },
    ];
    const r = await river(
      feedsYaml({ allow_private_networks: true, every: '15m', timeout: '3s', max_body: '1MiB', concurrency: 8, host_concurrency: 8, host_gap: 0 }, feeds),
    );
    // Open the database once first, so its own start-up memory is not counted as the fetch's.
    expect((await r.cli('migrate')).code).toBe(0);

    const memory = sampleMemory();
    const t = Date.now();
    const out = await fetchOk(r, '--all');
    const wall = Date.now() - t;
    const growth = memory.stop();
    // Concurrency 8 for 8 sources: one round, so about one total timeout (3s) plus start-up.
    expect(wall).toBeLessThan(15_000);
    // On PGlite the raw RSS also moves with the database's WebAssembly heap (see sampleMemory).
    expect(growth.withoutWasm / 2 ** 20, 'RSS growth without WebAssembly heaps, MiB').toBeLessThan(150);
    if (usingPostgres) expect(growth.rss / 2 ** 20, 'RSS growth, MiB').toBeLessThan(150);
    expect(out).toMatch(/8 sources polled, 4 failed, 4 new stories/);

    const checkedAt = Date.now();
    const all = await r.sources();
    expect([...all.keys()].sort()).toEqual(feeds.map((f) => f.id).sort());
    expect(all.get('healthy')).toMatchObject({ state: 'ok', last_status: 200, last_error: null, error_count: 0, item_count: 2, next_fetch_reason: 'interval 15m' });
    expect(all.get('moved')).toMatchObject({ state: 'moved', url: pub.url('/old.rss'), effective_url: pub.url('/new.rss'), last_error: null, item_count: 2 });
    expect(all.get('gone')).toMatchObject({ state: 'gone', gone: true, last_status: 410, next_fetch_reason: expect.stringMatching(/gone \(410\)/) });
    expect(all.get('limited')).toMatchObject({
      state: 'rate-limited',
      error_count: 0,
      last_status: 429,
      last_error: expect.stringMatching(/429/),
      next_fetch_reason: expect.stringMatching(/Retry-After/),
    });
    expect(ms(all.get('limited')!.host_paused_until, 'limited.host_paused_until')).toBeGreaterThan(checkedAt + 25 * MINUTE);
    const errors: Record<string, RegExp> = {
      broken: /HTTP 500/,
      huge: /larger than the 1 MiB \(1048576 bytes\) body limit/,
      slow: /Timed out after 3000 ms .*settings\.timeout/,
      page: /not a feed/i,
    };
    for (const [id, message] of Object.entries(errors)) {
      expect(all.get(id), id).toMatchObject({ state: 'error', error_count: 1, last_error: expect.stringMatching(message), next_fetch_reason: 'backoff after 1 error' });
    }
    // Every source is due again at some definite time (none silently stopped but the gone one, which says so).
    for (const s of all.values()) {
      expect(s.next_fetch_reason, s.id).toBeTruthy();
      expect(ms(s.next_fetch_at, `${s.id}.next_fetch_at`), s.id).toBeGreaterThan(checkedAt);
    }
    expect(endless.stats.cutOff).toBe(1);

    const table = await r.cli('sources');
    expect(table.code).toBe(0);
    expect(table.out.split('\n')[0]).toMatch(/^ID\s+STATE\s+LAST FETCH\s+NEXT FETCH\s+WHY\s+ERRORS\s+LAST ERROR$/);
    const states: Record<string, string> = {
      healthy: 'ok',
      moved: 'moved',
      gone: 'gone',
      limited: 'rate-limited',
      broken: 'error',
      huge: 'error',
      slow: 'error',
      page: 'error',
    };
    for (const [id, state] of Object.entries(states)) expect(table.out, id).toMatch(new RegExp(`^${id}\\s+${state}\\s`, 'm'));
    expect(table.out).toContain(`moved permanently to ${pub.url('/new.rss')} (edit feeds.yaml)`);
  });
});
