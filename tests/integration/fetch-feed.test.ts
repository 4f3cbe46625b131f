import { createServer } from 'node:http';
import type { LookupFunction } from 'node:net';
import * as zlib from 'node:zlib';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CacheValidators } from '../../src/domain.js';
import { guardLookup } from '../../src/ingest/address-guard.js';
import { ACCEPT, FetchError, closeFetchAgents, fetchFeed, type FetchOptions } from '../../src/ingest/fetch-feed.js';
import { USER_AGENT, VERSION } from '../../src/version.js';
import { endlessBody, neverRespond, redirect, slowDrip, startPublisher, type Publisher } from '../helpers/publisher.js';

const RSS = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Daily Planet – Métro</title>
<item><title>Caf\u00e9 reopens</title><link>https://planet.example/cafe</link></item>
</channel></rss>`;

const NONE: CacheValidators = { etag: null, lastModified: null };
const OPTS: FetchOptions = { timeoutMs: 5_000, maxBodyBytes: 1024 * 1024, allowPrivateNetworks: true };
const LAST_MODIFIED = 'Tue, 01 Apr 2025 10:00:00 GMT';

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
    expect(second).toEqual({ kind: 'not-modified', status: 304, finalUrl: pub.url('/etag.xml'), etag: '"v1"', lastModified: null });

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
  ])('$name is a FetchError with the status', async ({ path, status, text }) => {
    const err = await fetchError(fetchFeed(pub.url(path), NONE, OPTS));
    expect(err).toMatchObject({ kind: 'fetch', reason: 'http-status', status, url: pub.url(path), subject: pub.url(path) });
    expect(err.message).toBe(`HTTP ${status} ${text} from ${pub.url(path)}`);
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
