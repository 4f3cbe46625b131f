import { createServer } from 'node:http';
import type { LookupFunction } from 'node:net';
import * as zlib from 'node:zlib';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CacheValidators } from '../../src/domain.js';
import { guardLookup } from '../../src/ingest/address-guard.js';
import { ACCEPT, FetchError, closeFetchAgents, fetchFeed, type FetchOptions } from '../../src/ingest/fetch-feed.js';
import { USER_AGENT, VERSION } from '../../src/version.js';
import { endlessBody, gone, neverRespond, redirect, slowDrip, startPublisher, type Publisher } from '../helpers/publisher.js';

const RSS = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Daily Planet – Métro</title>
<item><title>Caf\u00e9 reopens</title><link>https://planet.example/cafe</link></item>
</channel></rss>`;

const NONE: CacheValidators = { etag: null, lastModified: null };
const OPTS: FetchOptions = { timeoutMs: 5_000, maxBodyBytes: 1024 * 1024, allowPrivateNetworks: true };
const LAST_MODIFIED = 'Tue, 01 Apr 2025 10:00:00 GMT';
const NO_HINTS = { maxAgeMs: null, expiresAt: null, retryAfter: null };
/** A fixed clock for the tests that resolve Retry-After and Expires into times. */
const NOW = new Date('2025-04-01T10:00:00Z');
const later = (seconds: number): Date => new Date(NOW.getTime() + seconds * 1000);
const MiB = 1024 * 1024;

let pub: Publisher;

beforeAll(async () => {
  pub = await startPublisher({
    '/etag.xml': { body: RSS, contentType: 'application/rss+xml; charset=utf-8', etag: '"v1"' },
    '/last-modified.xml': { body: RSS, contentType: 'application/rss+xml', lastModified: LAST_MODIFIED },
    '/bare-304': (_req, res) => void res.writeHead(304).end(),
    '/new-etag-304': (_req, res) => void res.writeHead(304, { etag: '"v2"' }).end(),
    '/plain.xml': { body: RSS, contentType: 'application/rss+xml' },
    '/gzip.xml': { body: RSS, encoding: 'gzip' },
    '/deflate.xml': { body: RSS, encoding: 'deflate' },
    '/deflate-raw.xml': { body: RSS, encoding: 'deflate-raw' },
    '/br.xml': { body: RSS, encoding: 'br' },
    '/x-gzip.xml': { body: zlib.gzipSync(RSS), headers: { 'content-encoding': 'x-gzip' } },
    '/gzip-then-br.xml': {
      body: zlib.brotliCompressSync(zlib.gzipSync(RSS)),
      headers: { 'content-encoding': 'gzip, br' },
    },
    '/zstd.xml': { body: 'whatever', headers: { 'content-encoding': 'zstd' } },
    '/corrupt-gzip.xml': { body: Buffer.from('this is not gzip at all'), headers: { 'content-encoding': 'gzip' } },
    '/corrupt-deflate.xml': { body: Buffer.from([0x78, 0x9c, 1, 2, 3, 4, 5]), headers: { 'content-encoding': 'deflate' } },
    // Each chunk is a complete gzip member, so the dripped body stays valid gzip all along.
    '/slow-drip-gzip': slowDrip({ intervalMs: 50, chunk: zlib.gzipSync('<item/>'), headers: { 'content-encoding': 'gzip' } }),
    '/windows-1252.xml': {
      body: Buffer.concat([Buffer.from('<rss><title>'), Buffer.from([0x93, 0x43, 0x61, 0x66, 0xe9, 0x94, 0x20, 0x80, 0x35]), Buffer.from('</title></rss>')]),
      contentType: 'text/xml; charset=windows-1252',
    },
    '/latin1-declared.xml': {
      body: Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><rss><title>Caf\xe9</title></rss>', 'latin1'),
      contentType: 'application/xml',
    },
    '/no-content': { status: 204 },
    '/not-found': { status: 404, body: 'gone fishing' },
    '/server-error': { status: 500, body: 'oops' },
    '/declared-huge': (_req, res) => {
      res.writeHead(200, { 'content-length': String(50 * 1024 * 1024), 'content-type': 'application/rss+xml' });
      res.write('<rss>'); // ...and never the rest: only the header can end this quickly
    },
    '/slow-drip': slowDrip({ intervalMs: 50 }),
    '/never': neverRespond(),
    '/hop1': redirect('/hop2', 301),
    '/hop2': redirect('hop3', 302),
    '/hop3': redirect('/etag.xml', 308),
    '/loop-a': redirect('/loop-b', 302),
    '/loop-b': redirect('/loop-a', 307),
    '/no-location': (_req, res) => void res.writeHead(302).end(),
    '/to-ftp': redirect('ftp://files.example/feed.xml', 301),
    '/to-loopback-literal': (_req, res, ctx) => void res.writeHead(302, { location: ctx.url('/secret') }).end(),
    '/to-localhost': (_req, res, ctx) =>
      void res.writeHead(302, { location: ctx.url('/secret').replace('127.0.0.1', 'localhost') }).end(),
    '/secret': { body: 'internal admin page' },
    // Permanent and temporary redirects, for permanentUrl.
    '/moved/a1': redirect('/moved/a2', 301),
    '/moved/a2': redirect('/moved/feed.xml', 301),
    '/moved/feed.xml': { body: RSS },
    '/moved/b1': redirect('/moved/b2', 301),
    '/moved/b2': redirect('/plain.xml', 302),
    '/moved/c1': redirect('/moved/c2', 302),
    '/moved/c2': redirect('/plain.xml', 301),
    '/moved/d1': redirect('/plain.xml', 308),
    '/moved/e1': redirect('/moved/e2', 308),
    '/moved/e2': redirect('/moved/e3', 307),
    '/moved/e3': redirect('/plain.xml', 301),
    '/moved/to-etag': redirect('/etag.xml', 301),
    '/moved/to-gone': redirect('/gone.xml', 301),
    '/moved/temporarily-to-gone': redirect('/gone.xml', 302),
    '/moved/then-loops': redirect('/loop-a', 301),
    '/gone.xml': gone(),
    '/gone-own-phrase': (_req, res) => void res.writeHead(410, 'Removed', { 'content-type': 'text/plain' }).end('bye'),
    // Hints on when to ask again.
    '/hinted.xml': { body: RSS, headers: { 'cache-control': 'public, max-age=600', 'retry-after': '30' } },
    '/expires.xml': {
      body: RSS,
      // The publisher's clock is two hours fast: the lifetime is Expires - Date, ten minutes.
      headers: { date: 'Tue, 01 Apr 2025 12:00:00 GMT', expires: 'Tue, 01 Apr 2025 12:10:00 GMT' },
    },
    '/fresh-304': (_req, res) => void res.writeHead(304, { 'cache-control': 'max-age=120' }).end(),
    '/busy': { status: 429, headers: { 'retry-after': '120' }, body: 'slow down' },
    '/busy-no-hint': { status: 429, body: 'slow down' },
    '/down': {
      status: 503,
      headers: { date: 'Tue, 01 Apr 2025 12:00:00 GMT', 'retry-after': 'Tue, 01 Apr 2025 12:05:00 GMT' },
    },
    '/not-found-retry': { status: 404, headers: { 'retry-after': '60' } },
    '/stall': slowDrip({ intervalMs: 60_000 }),
  });
  // chain-N redirects N times before the feed: /chain-5 -> /chain-4 -> ... -> /chain-0 (the feed).
  for (let n = 1; n <= 6; n++) pub.setRoute(`/chain-${n}`, redirect(`/chain-${n - 1}`, 302));
  pub.setRoute('/chain-0', { body: RSS });
});

afterAll(async () => {
  await closeFetchAgents();
  await pub.close();
});

async function fetchError(promise: Promise<unknown>): Promise<FetchError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FetchError);
  return err as FetchError;
}

describe('conditional GET', () => {
  it('returns the body and ETag, then 304 not-modified when If-None-Match matches', async () => {
    const first = await fetchFeed(pub.url('/etag.xml'), NONE, OPTS);
    expect(first).toMatchObject({ kind: 'ok', status: 200, etag: '"v1"', lastModified: null, body: RSS });
    expect(first.finalUrl).toBe(pub.url('/etag.xml'));

    const second = await fetchFeed(pub.url('/etag.xml'), { etag: '"v1"', lastModified: null }, OPTS);
    expect(second).toEqual({
      kind: 'not-modified',
      status: 304,
      finalUrl: pub.url('/etag.xml'),
      etag: '"v1"',
      lastModified: null,
      permanentUrl: null,
      hints: NO_HINTS,
    });

    const [req1, req2] = pub.requestsTo('/etag.xml');
    expect(req1?.headers['if-none-match']).toBeUndefined();
    expect(req2?.headers['if-none-match']).toBe('"v1"');
  });

  it('sends Last-Modified back as If-Modified-Since', async () => {
    const first = await fetchFeed(pub.url('/last-modified.xml'), NONE, OPTS);
    expect(first).toMatchObject({ kind: 'ok', lastModified: LAST_MODIFIED, etag: null });

    const second = await fetchFeed(pub.url('/last-modified.xml'), { etag: null, lastModified: LAST_MODIFIED }, OPTS);
    expect(second).toMatchObject({ kind: 'not-modified', lastModified: LAST_MODIFIED });
    expect(pub.requestsTo('/last-modified.xml').at(-1)?.headers['if-modified-since']).toBe(LAST_MODIFIED);
  });

  it('keeps the validators it sent when a 304 carries none', async () => {
    const sent = { etag: 'W/"old"', lastModified: LAST_MODIFIED };
    const outcome = await fetchFeed(pub.url('/bare-304'), sent, OPTS);
    expect(outcome).toMatchObject({ kind: 'not-modified', etag: 'W/"old"', lastModified: LAST_MODIFIED });
  });

  it('takes a new ETag from the 304 when there is one', async () => {
    const outcome = await fetchFeed(pub.url('/new-etag-304'), { etag: '"v1"', lastModified: LAST_MODIFIED }, OPTS);
    expect(outcome).toMatchObject({ kind: 'not-modified', etag: '"v2"', lastModified: LAST_MODIFIED });
  });
});

describe('request headers', () => {
  it('identifies itself and asks for feeds, compressed', async () => {
    await fetchFeed(pub.url('/plain.xml'), NONE, OPTS);
    const headers = pub.requestsTo('/plain.xml').at(-1)?.headers;
    expect(headers?.['user-agent']).toBe(USER_AGENT);
    expect(USER_AGENT).toBe(`Tributary/${VERSION} (+https://github.com/tributary-river/tributary)`);
    expect(headers?.accept).toBe(ACCEPT);
    expect(headers?.['accept-encoding']).toBe('gzip, deflate, br');
  });

  it('uses a custom User-Agent when given', async () => {
    await fetchFeed(pub.url('/plain.xml'), NONE, { ...OPTS, userAgent: 'TestBot/1.0' });
    expect(pub.requestsTo('/plain.xml').at(-1)?.headers['user-agent']).toBe('TestBot/1.0');
  });
});

describe('bodies', () => {
  it.each([
    { name: 'gzip', path: '/gzip.xml' },
    { name: 'deflate (zlib)', path: '/deflate.xml' },
    { name: 'deflate (raw, as some servers send it)', path: '/deflate-raw.xml' },
    { name: 'brotli', path: '/br.xml' },
    { name: 'x-gzip', path: '/x-gzip.xml' },
    { name: 'gzip then brotli, undone in reverse', path: '/gzip-then-br.xml' },
  ])('decompresses $name', async ({ path }) => {
    const outcome = await fetchFeed(pub.url(path), NONE, OPTS);
    expect(outcome).toMatchObject({ kind: 'ok', body: RSS, bytes: Buffer.byteLength(RSS) });
  });

  it.each([
    { name: 'unsupported coding', path: '/zstd.xml', message: /Unsupported Content-Encoding "zstd"/ },
    { name: 'corrupt gzip', path: '/corrupt-gzip.xml', message: /Cannot decompress the gzip body/ },
    { name: 'corrupt deflate', path: '/corrupt-deflate.xml', message: /Cannot decompress the deflate body/ },
  ])('fails with reason decode on $name', async ({ path, message }) => {
    const err = await fetchError(fetchFeed(pub.url(path), NONE, OPTS));
    expect(err.reason).toBe('decode');
    expect(err.status).toBe(200);
    expect(err.message).toMatch(message);
  });

  it('decodes with the charset from the Content-Type header', async () => {
    const outcome = await fetchFeed(pub.url('/windows-1252.xml'), NONE, OPTS);
    expect(outcome).toMatchObject({ kind: 'ok', contentType: 'text/xml; charset=windows-1252' });
    expect(outcome.kind === 'ok' && outcome.body).toBe('<rss><title>\u201cCaf\u00e9\u201d \u20ac5</title></rss>');
  });

  it('decodes with the encoding from the XML declaration', async () => {
    const outcome = await fetchFeed(pub.url('/latin1-declared.xml'), NONE, OPTS);
    expect(outcome.kind === 'ok' && outcome.body).toContain('<title>Café</title>');
  });

  it('treats 204 No Content as an empty body', async () => {
    expect(await fetchFeed(pub.url('/no-content'), NONE, OPTS)).toMatchObject({ kind: 'ok', status: 204, body: '', bytes: 0 });
  });
});

describe('limits', () => {
  it('stops reading an endless body as soon as it passes the limit', async () => {
    const endless = endlessBody();
    pub.setRoute('/endless', endless);
    const started = Date.now();
    const err = await fetchError(fetchFeed(pub.url('/endless'), NONE, { ...OPTS, maxBodyBytes: 256 * 1024 }));
    expect(err.reason).toBe('too-large');
    expect(err.message).toContain('256 KiB (262144 bytes) body limit (settings.max_body)');
    expect(Date.now() - started).toBeLessThan(3_000);
    // The connection was cut: the publisher stops, having sent no more than socket buffers hold.
    await vi.waitFor(() => expect(endless.stats.cutOff).toBe(1));
    expect(endless.stats.bytesSent).toBeLessThan(32 * 1024 * 1024);
  });

  it('stops inflating an endless gzip bomb at the limit', async () => {
    // Concatenated gzip members are one valid gzip stream: 16 MiB of zeros per ~16 KiB, forever.
    const member = zlib.gzipSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
    const bomb = endlessBody({ body: member, headers: { 'content-encoding': 'gzip' } });
    pub.setRoute('/gzip-bomb', bomb);
    const started = Date.now();
    const err = await fetchError(fetchFeed(pub.url('/gzip-bomb'), NONE, { ...OPTS, maxBodyBytes: 2 * 1024 * 1024 }));
    expect(err.reason).toBe('too-large');
    expect(err.message).toMatch(/is larger than the 2 MiB/);
    expect(Date.now() - started).toBeLessThan(3_000);
    await vi.waitFor(() => expect(bomb.stats.cutOff).toBe(1));
    // Less than socket buffers hold: cut off long before the gigabytes it would inflate to.
    expect(bomb.stats.bytesSent).toBeLessThan(32 * 1024 * 1024);
  });

  it('stops inflating a deflate bomb at the limit', async () => {
    const body = zlib.deflateSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    pub.setRoute('/deflate-bomb', { body, headers: { 'content-encoding': 'deflate' } });
    const started = Date.now();
    const err = await fetchError(fetchFeed(pub.url('/deflate-bomb'), NONE, { ...OPTS, maxBodyBytes: 1024 * 1024 }));
    expect(err.reason).toBe('too-large');
    expect(body.byteLength).toBeLessThan(1024 * 1024); // the limit applies after inflating
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('refuses up front a Content-Length over the limit', async () => {
    const started = Date.now();
    const err = await fetchError(fetchFeed(pub.url('/declared-huge'), NONE, OPTS));
    expect(err.reason).toBe('too-large');
    expect(err.message).toMatch(/declares 52428800 bytes, over the 1 MiB \(1048576 bytes\) body limit/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('cuts off a slow-drip publisher at the total timeout', async () => {
    const started = Date.now();
    const err = await fetchError(fetchFeed(pub.url('/slow-drip'), NONE, { ...OPTS, timeoutMs: 400 }));
    const elapsed = Date.now() - started;
    expect(err.reason).toBe('timeout');
    expect(err.message).toBe(`Timed out after 400 ms fetching ${pub.url('/slow-drip')} (settings.timeout)`);
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(2_000);
  });

  it('cuts off a slow-drip publisher while inflating its gzip body', async () => {
    const err = await fetchError(fetchFeed(pub.url('/slow-drip-gzip'), NONE, { ...OPTS, timeoutMs: 400 }));
    expect(err.reason).toBe('timeout');
    expect(err.status).toBeNull();
  });

  it('times out a publisher that never sends headers', async () => {
    const err = await fetchError(fetchFeed(pub.url('/never'), NONE, { ...OPTS, timeoutMs: 300 }));
    expect(err.reason).toBe('timeout');
    expect(err.status).toBeNull();
    expect(err.message).toBe(`Timed out after 300 ms fetching ${pub.url('/never')} (settings.timeout)`);
  });

  it('says so when a publisher accepts the connection but never sends headers', async () => {
    const started = Date.now();
    const err = await fetchError(fetchFeed(pub.url('/never'), NONE, { ...OPTS, headersTimeoutMs: 300 }));
    expect(err.reason).toBe('timeout');
    expect(err.status).toBeNull();
    expect(err.message).toBe(`Timed out fetching ${pub.url('/never')}: response headers were not received within 300 ms`);
    expect(pub.requestsTo('/never').length).toBeGreaterThan(0); // the connection and request got through
    expect(Date.now() - started).toBeLessThan(3_000); // long before the 5 s total timeout
  });

  it('says so when the body stalls', async () => {
    const started = Date.now();
    const err = await fetchError(fetchFeed(pub.url('/stall'), NONE, { ...OPTS, bodyTimeoutMs: 300 }));
    expect(err.reason).toBe('timeout');
    expect(err.message).toBe(`Timed out fetching ${pub.url('/stall')}: the body stalled, no data for 300 ms`);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('fetches through an agent of its own connect timeout', async () => {
    const outcome = await fetchFeed(pub.url('/plain.xml'), NONE, { ...OPTS, connectTimeoutMs: 2_000 });
    expect(outcome).toMatchObject({ kind: 'ok', body: RSS });
  });

  it.each([
    { name: 'headersTimeoutMs 0', opts: { headersTimeoutMs: 0 }, message: /headersTimeoutMs must be a positive number/ },
    { name: 'bodyTimeoutMs NaN', opts: { bodyTimeoutMs: Number.NaN }, message: /bodyTimeoutMs must be a positive number/ },
    { name: 'connectTimeoutMs negative', opts: { connectTimeoutMs: -1 }, message: /connectTimeoutMs must be a positive number/ },
    { name: 'timeoutMs Infinity', opts: { timeoutMs: Number.POSITIVE_INFINITY }, message: /timeoutMs must be a positive number/ },
  ])('refuses a bad option: $name', async ({ opts, message }) => {
    await expect(fetchFeed(pub.url('/plain.xml'), NONE, { ...OPTS, ...opts })).rejects.toThrow(message);
  });

  it("rethrows the caller's own abort instead of calling it a fetch failure", async () => {
    const controller = new AbortController();
    const shutdown = new Error('shutting down');
    setTimeout(() => controller.abort(shutdown), 100);
    await expect(fetchFeed(pub.url('/never'), NONE, { ...OPTS, signal: controller.signal })).rejects.toBe(shutdown);
  });
});

describe('HTTP errors', () => {
  it.each([
    { name: '404', path: '/not-found', status: 404, text: 'Not Found' },
    { name: '500', path: '/server-error', status: 500, text: 'Internal Server Error' },
    { name: '410', path: '/gone.xml', status: 410, text: 'Gone' },
    { name: '410 with its own reason phrase still says Gone', path: '/gone-own-phrase', status: 410, text: 'Gone' },
    { name: '429 without Retry-After', path: '/busy-no-hint', status: 429, text: 'Too Many Requests' },
  ])('$name is a FetchError with the status', async ({ path, status, text }) => {
    const err = await fetchError(fetchFeed(pub.url(path), NONE, OPTS));
    expect(err).toMatchObject({ kind: 'fetch', reason: 'http-status', status, url: pub.url(path), subject: pub.url(path) });
    expect(err).toMatchObject({ retryAfter: null, permanentUrl: null });
    expect(err.message).toBe(`HTTP ${status} ${text} from ${pub.url(path)}`);
  });

  it.each([
    { name: '429 with delay-seconds', path: '/busy', status: 429, text: 'Too Many Requests', wait: 120 },
    { name: '503 with an HTTP-date on a fast clock', path: '/down', status: 503, text: 'Service Unavailable', wait: 300 },
    { name: 'any other status, recorded too', path: '/not-found-retry', status: 404, text: 'Not Found', wait: 60 },
  ])('keeps Retry-After: $name', async ({ path, status, text, wait }) => {
    const err = await fetchError(fetchFeed(pub.url(path), NONE, { ...OPTS, now: () => NOW }));
    expect(err).toMatchObject({ reason: 'http-status', status, retryAfter: later(wait) });
    expect(err.message).toBe(`HTTP ${status} ${text} from ${pub.url(path)} (Retry-After ${wait}s)`);
  });

  it('reports a refused connection as a network error', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const err = await fetchError(fetchFeed(`http://127.0.0.1:${port}/feed`, NONE, OPTS));
    expect(err.reason).toBe('network');
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it.each([
    { name: 'not a URL', url: 'feeds dot example', message: /Not a valid URL/ },
    { name: 'not http(s)', url: 'file:///etc/passwd', message: /Only http and https URLs/ },
  ])('refuses a bad URL: $name', async ({ url, message }) => {
    const err = await fetchError(fetchFeed(url, NONE, OPTS));
    expect(err.reason).toBe('bad-url');
    expect(err.message).toMatch(message);
  });
});

describe('redirects', () => {
  it('follows a chain of relative and absolute redirects, sending headers on every hop', async () => {
    const outcome = await fetchFeed(pub.url('/hop1'), { etag: '"v1"', lastModified: null }, OPTS);
    expect(outcome).toMatchObject({ kind: 'not-modified', finalUrl: pub.url('/etag.xml') });
    for (const path of ['/hop1', '/hop2', '/hop3']) {
      const req = pub.requestsTo(path).at(-1);
      expect(req?.headers['user-agent']).toBe(USER_AGENT);
      expect(req?.headers['if-none-match']).toBe('"v1"');
    }
  });

  it('follows exactly five redirects', async () => {
    const outcome = await fetchFeed(pub.url('/chain-5'), NONE, OPTS);
    expect(outcome).toMatchObject({ kind: 'ok', body: RSS, finalUrl: pub.url('/chain-0') });
  });

  it('gives up at the sixth', async () => {
    const before = pub.requestsTo('/chain-0').length;
    const err = await fetchError(fetchFeed(pub.url('/chain-6'), NONE, OPTS));
    expect(err.reason).toBe('redirects');
    expect(err.message).toMatch(/Too many redirects \(more than 5\)/);
    expect(pub.requestsTo('/chain-0').length).toBe(before);
  });

  it('detects a loop', async () => {
    const err = await fetchError(fetchFeed(pub.url('/loop-a'), NONE, OPTS));
    expect(err.reason).toBe('redirects');
    expect(err.message).toBe(`Redirect loop: ${pub.url('/loop-b')} redirects back to ${pub.url('/loop-a')}`);
  });

  it.each([
    { name: 'without Location', path: '/no-location', message: /HTTP 302 Found from .* without a Location header/ },
    { name: 'to a non-http scheme', path: '/to-ftp', message: /Only http and https URLs can be fetched, not "ftp:/ },
  ])('fails on a redirect $name', async ({ path, message }) => {
    const err = await fetchError(fetchFeed(pub.url(path), NONE, OPTS));
    expect(err.reason).toBe('redirects');
    expect(err.message).toMatch(message);
  });
});

describe('permanent redirects (permanentUrl)', () => {
  it.each([
    { name: 'no redirect', path: '/plain.xml', want: null },
    { name: '301 -> 301 -> 200: the final URL', path: '/moved/a1', want: '/moved/feed.xml' },
    { name: '301 -> 302 -> 200: the target of the 301', path: '/moved/b1', want: '/moved/b2' },
    { name: '302 -> 301 -> 200: a temporary redirect first', path: '/moved/c1', want: null },
    { name: '308 -> 200', path: '/moved/d1', want: '/plain.xml' },
    { name: '308 -> 307 -> 301 -> 200: only the leading run counts', path: '/moved/e1', want: '/moved/e2' },
    { name: '302/307/308/302 chain-5: never permanent first', path: '/chain-5', want: null },
  ])('$name', async ({ path, want }) => {
    const outcome = await fetchFeed(pub.url(path), NONE, OPTS);
    expect(outcome.kind).toBe('ok');
    expect(outcome.permanentUrl).toBe(want === null ? null : pub.url(want));
  });

  it('is reported with a 304 too', async () => {
    const outcome = await fetchFeed(pub.url('/moved/to-etag'), { etag: '"v1"', lastModified: null }, OPTS);
    expect(outcome).toMatchObject({ kind: 'not-modified', finalUrl: pub.url('/etag.xml'), permanentUrl: pub.url('/etag.xml') });
  });

  it.each([
    { name: 'a 301 to a URL that answers 410', path: '/moved/to-gone', status: 410, want: '/gone.xml' },
    { name: 'a 302 to a URL that answers 410', path: '/moved/temporarily-to-gone', status: 410, want: null },
    // A chain that never reaches a feed is no new home, whatever permanent hops it began with.
    { name: 'a 301 into a redirect loop', path: '/moved/then-loops', status: 307, want: null },
  ])('is kept on the FetchError (when the chain ended somewhere) after $name', async ({ path, status, want }) => {
    const err = await fetchError(fetchFeed(pub.url(path), NONE, OPTS));
    expect(err.status).toBe(status);
    expect(err.permanentUrl).toBe(want === null ? null : pub.url(want));
  });

  it('names a 410 after a permanent redirect as Gone, at its new URL', async () => {
    const err = await fetchError(fetchFeed(pub.url('/moved/to-gone'), NONE, OPTS));
    expect(err.reason).toBe('http-status');
    expect(err.message).toBe(`HTTP 410 Gone from ${pub.url('/gone.xml')}`);
  });
});

describe('hints on when to ask again', () => {
  it('reads max-age and Retry-After from a 200', async () => {
    const outcome = await fetchFeed(pub.url('/hinted.xml'), NONE, { ...OPTS, now: () => NOW });
    expect(outcome).toMatchObject({ kind: 'ok', hints: { maxAgeMs: 600_000, expiresAt: null, retryAfter: later(30) } });
  });

  it("corrects Expires for the publisher's clock with its Date header", async () => {
    const outcome = await fetchFeed(pub.url('/expires.xml'), NONE, { ...OPTS, now: () => NOW });
    expect(outcome.hints).toEqual({ maxAgeMs: null, expiresAt: later(600), retryAfter: null });
  });

  it('reads them from a 304 too', async () => {
    const outcome = await fetchFeed(pub.url('/fresh-304'), { etag: '"v1"', lastModified: null }, OPTS);
    expect(outcome).toMatchObject({ kind: 'not-modified', hints: { maxAgeMs: 120_000, expiresAt: null, retryAfter: null } });
  });

  it('gives no hints when the publisher gives none', async () => {
    expect((await fetchFeed(pub.url('/plain.xml'), NONE, OPTS)).hints).toEqual(NO_HINTS);
  });
});

describe('bounded memory', () => {
  /** The largest growth of the resident set while `run` goes, sampled every few ms. */
  async function rssGrowthDuring<T>(run: () => Promise<T>): Promise<{ result: T; growth: number }> {
    const before = process.memoryUsage().rss;
    let peak = before;
    const sample = (): void => void (peak = Math.max(peak, process.memoryUsage().rss));
    const sampler = setInterval(sample, 5);
    try {
      const result = await run();
      return { result, growth: peak - before };
    } finally {
      clearInterval(sampler);
      sample();
    }
  }

  it('reads no more than the limit of a 512 MiB body', async () => {
    const huge = endlessBody({ totalBytes: 512 * MiB }); // generated as it is sent, never stored
    pub.setRoute('/huge', huge);
    const started = Date.now();
    const { result: err, growth } = await rssGrowthDuring(() =>
      fetchError(fetchFeed(pub.url('/huge'), NONE, { ...OPTS, maxBodyBytes: 10 * MiB })),
    );
    expect(err.reason).toBe('too-large');
    expect(err.message).toContain('the 10 MiB (10485760 bytes) body limit');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(growth).toBeLessThan(100 * MiB);
    // The publisher saw the client go away and stopped long before the end of its body.
    await vi.waitFor(() => expect(huge.stats.cutOff).toBe(1));
    expect(huge.stats.bytesSent).toBeLessThan(64 * MiB);
  });

  it('inflates no more than the limit of a gzip bomb worth 512 MiB', async () => {
    const member = zlib.gzipSync(Buffer.alloc(16 * MiB), { level: 9 }); // ~16 KiB on the wire
    const bomb = endlessBody({ body: member, headers: { 'content-encoding': 'gzip' }, totalBytes: 32 * member.byteLength });
    pub.setRoute('/bomb-512', bomb);
    const started = Date.now();
    const { result: err, growth } = await rssGrowthDuring(() =>
      fetchError(fetchFeed(pub.url('/bomb-512'), NONE, { ...OPTS, maxBodyBytes: 10 * MiB })),
    );
    expect(err.reason).toBe('too-large');
    expect(err.message).toMatch(/is larger than the 10 MiB/);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(growth).toBeLessThan(100 * MiB);
  });
});

describe('address guard (allowPrivateNetworks: false)', () => {
  const guarded: FetchOptions = { ...OPTS, allowPrivateNetworks: false };

  it('refuses a loopback IP literal before connecting', async () => {
    const before = pub.requests.length;
    const err = await fetchError(fetchFeed(pub.url('/plain.xml'), NONE, guarded));
    expect(err.reason).toBe('blocked-address');
    expect(err.message).toMatch(/127\.0\.0\.1 is not a public address: loopback/);
    expect(err.message).toMatch(/settings\.allow_private_networks: true/);
    expect(pub.requests.length).toBe(before);
  });

  it('refuses a name that resolves to loopback, at connect time', async () => {
    const before = pub.requests.length;
    const err = await fetchError(fetchFeed(pub.url('/plain.xml').replace('127.0.0.1', 'localhost'), NONE, guarded));
    expect(err.reason).toBe('blocked-address');
    expect(err.message).toMatch(/localhost \(127\.0\.0\.1\) is not a public address/);
    expect(pub.requests.length).toBe(before);
  });

  describe('on a redirect from an allowed publisher', () => {
    // Offline, every publisher is on loopback, so one name is made to count as "public": the
    // dispatcher resolves publisher.test itself and leaves every other name to the real guard.
    const lookup: LookupFunction = (hostname, options, callback) => {
      if (hostname !== 'publisher.test') return guardLookup()(hostname, options, callback);
      if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
      else callback(null, '127.0.0.1', 4);
    };
    const dispatcher = new Agent({ connect: { lookup } });
    afterAll(() => dispatcher.close());
    const viaTestHost = (path: string): string => pub.url(path).replace('127.0.0.1', 'publisher.test');

    it.each([
      { name: 'to a loopback IP literal', path: '/to-loopback-literal', message: /127\.0\.0\.1 is not a public address/ },
      { name: 'to a name resolving to loopback', path: '/to-localhost', message: /localhost \(127\.0\.0\.1\) is not a public/ },
    ])('refuses a redirect $name', async ({ path, message }) => {
      const secretBefore = pub.requestsTo('/secret').length;
      const err = await fetchError(fetchFeed(viaTestHost(path), NONE, { ...guarded, dispatcher }));
      expect(err.reason).toBe('blocked-address');
      expect(err.message).toMatch(message);
      expect(pub.requestsTo(path).length).toBeGreaterThan(0); // the first hop was fetched...
      expect(pub.requestsTo('/secret').length).toBe(secretBefore); // ...the private target never was
    });

    it('still fetches the allowed publisher itself', async () => {
      const outcome = await fetchFeed(viaTestHost('/plain.xml'), NONE, { ...guarded, dispatcher });
      expect(outcome).toMatchObject({ kind: 'ok', body: RSS });
    });
  });
});
