// A fake publisher for integration tests: a real node:http server on 127.0.0.1 (never the
// internet) serving fixture feeds by path, with conditional GET built in and raw handlers for
// misbehaving publishers (slow drip, endless bodies, redirect chains, hanging responses, 410 Gone).
//
//   const pub = await startPublisher({ '/feed.xml': { body: rss, contentType: 'application/rss+xml', etag: '"v1"' } });
//   await fetchFeed(pub.url('/feed.xml'), ...);
//   expect(pub.requestsTo('/feed.xml')[1]?.headers['if-none-match']).toBe('"v1"');
//   pub.setRoute('/feed.xml', { body: rss2, etag: '"v2"' }); // the publisher updates its feed
//   await pub.close();
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';

/** A canned response. `etag` / `lastModified` make the route answer matching conditional requests with 304. */
export interface FixtureResponse {
  /** Default 200. */
  status?: number;
  headers?: Record<string, string | number | string[]>;
  /** Default empty. A string is sent as UTF-8; use a Buffer for other encodings. */
  body?: string | Buffer;
  /** Shorthand for the Content-Type header. */
  contentType?: string;
  /** Sent as ETag; a request whose If-None-Match matches it (weakly, or "*") gets a 304. */
  etag?: string;
  /** Sent as Last-Modified; an If-Modified-Since at or after it gets a 304 (unless If-None-Match was sent). */
  lastModified?: string;
  /** Compress the body and set Content-Encoding. 'deflate-raw' sends raw deflate labelled "deflate". */
  encoding?: 'gzip' | 'deflate' | 'deflate-raw' | 'br';
  /** Wait this long before answering. */
  delayMs?: number;
}

export interface RecordedRequest {
  readonly method: string;
  /** Path with query string, as requested. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** Date.now() when the request arrived. */
  readonly at: number;
}

export interface RouteContext {
  readonly origin: string;
  url(path: string): string;
  readonly request: RecordedRequest;
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, ctx: RouteContext) => void | Promise<void>;
export type Route = RouteHandler | FixtureResponse;

export interface Publisher {
  /** "http://127.0.0.1:PORT" */
  readonly origin: string;
  /** Absolute URL of a path on this publisher. */
  url(path: string): string;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** Requests for one path (query string included when the path has one, else ignored). */
  requestsTo(path: string): RecordedRequest[];
  /** Requests being answered right now (a response counts until it ends or its connection closes). */
  readonly inFlight: number;
  /** The most requests ever in flight at once, to check per-host concurrency limits. */
  readonly maxInFlight: number;
  /** Adds or replaces a route (e.g. the publisher updates its feed between two polls). */
  setRoute(path: string, route: Route): void;
  removeRoute(path: string): void;
  /** Stops the server, cutting any responses still streaming. */
  close(): Promise<void>;
}

export interface PublisherOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
}

export async function startPublisher(routes: Record<string, Route> = {}, options: PublisherOptions = {}): Promise<Publisher> {
  const table = new Map<string, Route>(Object.entries(routes));
  const requests: RecordedRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let origin = '';
  const url = (path: string): string => new URL(path, origin).href;

  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path, headers: req.headers, at: Date.now() };
    requests.push(recorded);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.once('close', () => void inFlight--);
    const route = table.get(path) ?? table.get(pathnameOf(path));
    if (route === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`no route for ${path}`);
      return;
    }
    const ctx: RouteContext = { origin, url, request: recorded };
    Promise.resolve()
      .then(() => (typeof route === 'function' ? route(req, res, ctx) : serveFixture(req, res, route)))
      .catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
        else res.destroy(err instanceof Error ? err : new Error(String(err)));
      });
  });
  server.listen(0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  origin = `http://${host}:${address.port}`;

  return {
    origin,
    url,
    requests,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    requestsTo: (path) => requests.filter((r) => (path.includes('?') ? r.path : pathnameOf(r.path)) === path),
    setRoute: (path, route) => void table.set(path, route),
    removeRoute: (path) => void table.delete(path),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function pathnameOf(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

async function serveFixture(req: IncomingMessage, res: ServerResponse, fixture: FixtureResponse): Promise<void> {
  if (fixture.delayMs) await sleepUnlessClosed(res, fixture.delayMs);
  if (res.destroyed) return;

  const headers: Record<string, string | number | string[]> = {};
  if (fixture.contentType) headers['content-type'] = fixture.contentType;
  if (fixture.etag) headers['etag'] = fixture.etag;
  if (fixture.lastModified) headers['last-modified'] = fixture.lastModified;

  if (isNotModified(req, fixture)) {
    // RFC 9110 §15.4.5: a 304 repeats the validators and has no body.
    res.writeHead(304, headers).end();
    return;
  }

  let body = typeof fixture.body === 'string' ? Buffer.from(fixture.body, 'utf8') : (fixture.body ?? Buffer.alloc(0));
  if (fixture.encoding) {
    body = compress(body, fixture.encoding);
    headers['content-encoding'] = fixture.encoding === 'deflate-raw' ? 'deflate' : fixture.encoding;
  }
  headers['content-length'] = body.byteLength;
  for (const [name, value] of Object.entries(fixture.headers ?? {})) headers[name.toLowerCase()] = value;
  res.writeHead(fixture.status ?? 200, headers).end(body);
}

function isNotModified(req: IncomingMessage, fixture: FixtureResponse): boolean {
  const ifNoneMatch = req.headers['if-none-match'];
  if (fixture.etag && ifNoneMatch !== undefined) {
    // Weak comparison (RFC 9110 §8.8.3.2), and If-None-Match wins over If-Modified-Since (§13.2.2).
    const bare = (tag: string): string => tag.trim().replace(/^W\//, '');
    return ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(fixture.etag ?? ''));
  }
  const ifModifiedSince = req.headers['if-modified-since'];
  if (fixture.lastModified && ifModifiedSince !== undefined && ifNoneMatch === undefined) {
    const since = Date.parse(ifModifiedSince);
    const modified = Date.parse(fixture.lastModified);
    return !Number.isNaN(since) && !Number.isNaN(modified) && modified <= since;
  }
  return false;
}

function compress(body: Buffer, encoding: NonNullable<FixtureResponse['encoding']>): Buffer {
  switch (encoding) {
    case 'gzip':
      return zlib.gzipSync(body);
    case 'deflate':
      return zlib.deflateSync(body);
    case 'deflate-raw':
      return zlib.deflateRawSync(body);
    case 'br':
      return zlib.brotliCompressSync(body);
  }
}

/** Resolves after `ms`, or as soon as the client goes away. */
function sleepUnlessClosed(res: ServerResponse, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    res.once('close', done);
    function done(): void {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Misbehaving publishers

/** Answers with a redirect to `location` (absolute, or relative to the requested URL). */
export function redirect(location: string, status = 302): RouteHandler {
  return (_req, res) => {
    res.writeHead(status, { location, 'content-type': 'text/plain' }).end(`moved to ${location}`);
  };
}

/** 410 Gone (RFC 9110 §15.5.11): the publisher removed the feed for good. */
export function gone(headers: Record<string, string> = {}): FixtureResponse {
  return { status: 410, contentType: 'text/plain', body: 'This feed is gone.', headers };
}

/** Accepts the request and never answers (until the client gives up or the publisher closes). */
export function neverRespond(): RouteHandler {
  return () => undefined;
}

/** Sends headers, then one small chunk every `intervalMs`, forever (or `chunks` times, then ends). */
export function slowDrip(options: {
  intervalMs: number;
  /** What is sent each time; default "<". */
  chunk?: string | Buffer;
  chunks?: number;
  status?: number;
  headers?: Record<string, string>;
}): RouteHandler {
  return async (_req, res) => {
    res.writeHead(options.status ?? 200, { 'content-type': 'application/rss+xml', ...options.headers });
    res.flushHeaders();
    const limit = options.chunks ?? Number.POSITIVE_INFINITY;
    for (let i = 0; i < limit && !res.destroyed; i++) {
      res.write(options.chunk ?? '<');
      await sleepUnlessClosed(res, options.intervalMs);
    }
    if (!res.destroyed) res.end();
  };
}

/** What a streaming route has sent, so a test can show the client stopped reading early. */
export interface StreamStats {
  /** Body bytes written, over all responses of this route. */
  bytesSent: number;
  /** Responses whose connection the client closed before the route ended it. */
  cutOff: number;
}

/**
 * Streams an endless body (chunked, or with any headers you give it), respecting backpressure,
 * until the client disconnects. `body` is written repeatedly (default 64 KiB of "x"), generated
 * as it goes, never held whole; with `totalBytes` the body ends after (about) that many bytes
 * (whole repetitions of `body`), so a huge but finite body costs the test no memory either.
 */
export function endlessBody(
  options: { body?: Buffer; headers?: Record<string, string>; totalBytes?: number } = {},
): RouteHandler & {
  readonly stats: StreamStats;
} {
  const stats: StreamStats = { bytesSent: 0, cutOff: 0 };
  const chunk = options.body ?? Buffer.alloc(64 * 1024, 'x');
  const total = options.totalBytes ?? Number.POSITIVE_INFINITY;
  const handler: RouteHandler = async (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/rss+xml', ...options.headers });
    const closed = once(res, 'close').then(() => 'closed' as const);
    let sent = 0;
    while (!res.destroyed && sent < total) {
      stats.bytesSent += chunk.byteLength;
      sent += chunk.byteLength;
      if (!res.write(chunk)) {
        const why = await Promise.race([once(res, 'drain').then(() => 'drain' as const), closed]);
        if (why === 'closed') break;
      }
    }
    if (sent >= total && !res.destroyed) {
      res.end();
      return;
    }
    stats.cutOff++;
  };
  return Object.assign(handler, { stats });
}
