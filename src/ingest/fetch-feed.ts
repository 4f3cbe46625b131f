// The fetch stage: one conditional GET of a publisher feed, with the network I/O done here and
// every interpretation of the response (status classes, validators, charsets, content codings)
// delegated to the pure read-response.ts.
//
// Why undici's `request` rather than `fetch`: `request` hands us the raw status, headers and body
// stream, so we (1) follow redirects ourselves and run the address guard on every hop, (2) count
// body bytes after *our own* decompression and stop the moment the limit is passed (a gzip bomb
// never gets inflated past it), and (3) get undici's own errors instead of fetch's generic
// "fetch failed" TypeError. It also never follows redirects or decompresses behind our back.
import { pipeline, Duplex, Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { Agent, request, type Dispatcher } from 'undici';
import type { CacheValidators, FetchOutcome } from '../domain.js';
import { TributaryError, describeError } from '../errors.js';
import { USER_AGENT } from '../version.js';
import { BlockedAddressError, assertPublicLiteral, guardLookup } from './address-guard.js';
import {
  cacheValidators,
  classifyStatus,
  conditionalHeaders,
  contentCodings,
  contentLength,
  decodeBody,
  describeStatus,
  hasNoContent,
  headerValue,
  isSupportedCoding,
  isZlibHeader,
  type ContentCoding,
} from './read-response.js';

export type FetchFailureReason =
  | 'http-status'
  | 'timeout'
  | 'too-large'
  | 'network'
  | 'blocked-address'
  | 'redirects'
  | 'decode'
  | 'bad-url';

/** A publisher feed could not be fetched. `status` is the HTTP status when there was a response. */
export class FetchError extends TributaryError {
  readonly reason: FetchFailureReason;
  readonly status: number | null;
  readonly url: string;

  constructor(
    reason: FetchFailureReason,
    message: string,
    options: { url: string; status?: number | null; cause?: unknown },
  ) {
    super('fetch', message, { subject: options.url, cause: options.cause });
    this.name = 'FetchError';
    this.reason = reason;
    this.status = options.status ?? null;
    this.url = options.url;
  }
}

export interface FetchOptions {
  /** Total time for the whole fetch, redirects, headers and body included (settings.timeout). */
  timeoutMs: number;
  /** Largest body accepted, counted after decompression while streaming (settings.max_body). */
  maxBodyBytes: number;
  /** Allow loopback/private/link-local addresses (settings.allow_private_networks). */
  allowPrivateNetworks: boolean;
  userAgent?: string;
  /** Cancels the fetch (shutdown); its reason is rethrown as-is, not wrapped in a FetchError. */
  signal?: AbortSignal;
  /** Replaces our agents. It must do its own DNS guarding: only IP-literal hosts are still checked. */
  dispatcher?: Dispatcher;
}

/** Redirects followed before giving up (the same limit as Miniflux and most browsers' feed readers). */
export const MAX_REDIRECTS = 5;

/** Feed formats first, generic XML/JSON next, anything last: some servers send feeds as text/html. */
export const ACCEPT =
  'application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, ' +
  'application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8';

export const ACCEPT_ENCODING = 'gzip, deflate, br';

/** A TCP/TLS connect may take at most this long; the total timeout still cuts it shorter. */
const CONNECT_TIMEOUT_MS = 10_000;

const ALLOW_HINT = 'set settings.allow_private_networks: true in feeds.yaml to allow private networks';

// Two agents for the whole process, so connections to a publisher are kept alive across polls.
// The guarded one resolves names through guardLookup: the check runs at connect time on the
// address the socket will use. TLS verification is always on; nothing here can turn it off.
let guardedAgent: Agent | null = null;
let openAgent: Agent | null = null;

function sharedAgent(allowPrivateNetworks: boolean): Agent {
  if (allowPrivateNetworks) {
    openAgent ??= new Agent({ connect: { timeout: CONNECT_TIMEOUT_MS, rejectUnauthorized: true } });
    return openAgent;
  }
  guardedAgent ??= new Agent({
    connect: { timeout: CONNECT_TIMEOUT_MS, rejectUnauthorized: true, lookup: guardLookup() },
  });
  return guardedAgent;
}

/** Closes the shared agents (and their kept-alive connections), for a clean shutdown. */
export async function closeFetchAgents(): Promise<void> {
  const agents = [guardedAgent, openAgent];
  guardedAgent = null;
  openAgent = null;
  await Promise.all(agents.map((agent) => agent?.close()));
}

/**
 * Fetches a feed with a conditional GET. Resolves to the decoded body, or to "not modified" when
 * the validators still match; every failure is a FetchError naming the URL and what went wrong.
 */
export async function fetchFeed(url: string, validators: CacheValidators, opts: FetchOptions): Promise<FetchOutcome> {
  checkOptions(opts);
  const deadline = startDeadline(opts.timeoutMs, opts.signal);
  const signal = deadline.signal;
  const dispatcher = opts.dispatcher ?? sharedAgent(opts.allowPrivateNetworks);
  // The validators belong to the feed as last fetched, i.e. to the end of the redirect chain, so
  // they go on every hop, as HTTP clients that follow redirects do with request headers.
  const headers: Record<string, string> = {
    'user-agent': opts.userAgent ?? USER_AGENT,
    accept: ACCEPT,
    'accept-encoding': ACCEPT_ENCODING,
    ...conditionalHeaders(validators),
  };

  let current = parseHttpUrl(url, url, 'bad-url');
  const visited = new Set([current.href]);
  try {
    for (let redirects = 0; ; redirects++) {
      if (!opts.allowPrivateNetworks) assertPublicLiteral(current.hostname);
      const res = await request(current, { method: 'GET', headers, signal, dispatcher });
      const href = current.href;
      const status = res.statusCode;

      switch (classifyStatus(status)) {
        case 'redirect': {
          discard(res.body);
          const next = redirectTarget(href, status, res.statusText, headerValue(res.headers, 'location'));
          if (redirects + 1 > MAX_REDIRECTS) {
            throw new FetchError('redirects', `Too many redirects (more than ${MAX_REDIRECTS}) fetching ${url}`, {
              url: href,
              status,
            });
          }
          if (visited.has(next.href)) {
            throw new FetchError('redirects', `Redirect loop: ${href} redirects back to ${next.href}`, {
              url: href,
              status,
            });
          }
          visited.add(next.href);
          current = next;
          continue;
        }
        case 'not-modified': {
          discard(res.body);
          // RFC 9110 §15.4.5: a 304 carries the validators the 200 would have; keep ours otherwise.
          const fresh = cacheValidators(res.headers);
          return {
            kind: 'not-modified',
            status: 304,
            finalUrl: href,
            etag: fresh.etag ?? validators.etag,
            lastModified: fresh.lastModified ?? validators.lastModified,
          };
        }
        case 'error':
          discard(res.body);
          throw new FetchError('http-status', `HTTP ${describeStatus(status, res.statusText)} from ${href}`, {
            url: href,
            status,
          });
        case 'ok': {
          const bytes = hasNoContent(status) ? Buffer.alloc(0) : await readBody(res, href, opts.maxBodyBytes);
          const contentType = headerValue(res.headers, 'content-type');
          const fresh = cacheValidators(res.headers);
          return {
            kind: 'ok',
            status,
            finalUrl: href,
            contentType,
            body: decodeBody(bytes, contentType),
            bytes: bytes.byteLength,
            etag: fresh.etag,
            lastModified: fresh.lastModified,
          };
        }
      }
    }
  } catch (err) {
    throw toFetchError(err, current.href, opts, deadline.timedOut());
  } finally {
    deadline.stop();
  }
}

/**
 * One signal for the whole fetch that fires at the total timeout or when the caller aborts.
 * Built by hand rather than with AbortSignal.any, which leaks when combined again and again with
 * a long-lived signal such as the scheduler's shutdown signal (nodejs/node#55351); here the
 * timer and the listener are removed as soon as the fetch settles.
 */
function startDeadline(timeoutMs: number, callerSignal: AbortSignal | undefined) {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`fetch timed out after ${timeoutMs} ms`, 'TimeoutError'));
  }, timeoutMs);
  const onAbort = (): void => controller.abort(callerSignal?.reason);
  if (callerSignal?.aborted) onAbort();
  else callerSignal?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    stop: () => {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onAbort);
    },
  };
}

function checkOptions(opts: FetchOptions): void {
  if (!Number.isFinite(opts.timeoutMs) || opts.timeoutMs <= 0) {
    throw new RangeError(`fetchFeed: timeoutMs must be a positive number of milliseconds, got ${opts.timeoutMs}`);
  }
  if (!Number.isSafeInteger(opts.maxBodyBytes) || opts.maxBodyBytes <= 0) {
    throw new RangeError(`fetchFeed: maxBodyBytes must be a positive integer, got ${opts.maxBodyBytes}`);
  }
}

/** Only http: and https: are fetched; anything else (file:, ftp:, data:) could read local state. */
function parseHttpUrl(text: string, subject: string, reason: FetchFailureReason): URL {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch (cause) {
    throw new FetchError(reason, `Not a valid URL: "${text}"`, { url: subject, cause });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new FetchError(reason, `Only http and https URLs can be fetched, not "${text}"`, { url: subject });
  }
  // The fragment is never sent; dropping it keeps loop detection from being fooled by "#x".
  parsed.hash = '';
  return parsed;
}

/** Where a redirect points, resolved against the URL that answered (RFC 9110 §10.2.2). */
function redirectTarget(from: string, status: number, statusText: string, location: string | null): URL {
  if (location === null) {
    throw new FetchError('redirects', `HTTP ${describeStatus(status, statusText)} from ${from} without a Location header`, {
      url: from,
      status,
    });
  }
  let resolved: string;
  try {
    resolved = new URL(location, from).href;
  } catch (cause) {
    throw new FetchError('redirects', `Redirect from ${from} to an invalid URL "${location}"`, { url: from, status, cause });
  }
  return parseHttpUrl(resolved, from, 'redirects');
}

/** Drops a body we will not read. dump() reads a little so the connection can be reused, and
 * destroys it past that or after a second; it is not awaited so a slow body cannot delay the
 * outcome (the fetch's own signal is released once the outcome is known). */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.dump({ limit: 64 * 1024, signal: AbortSignal.timeout(1_000) }).catch(() => undefined);
}

/** Destroys a stream we are done with. An unfinished undici body emits an AbortError when
 * destroyed; nobody is listening for it any more, so it must not become an uncaught exception. */
function abandon(stream: Readable | Duplex): void {
  if (stream.destroyed) return;
  stream.on('error', () => undefined);
  stream.destroy();
}

// ---------------------------------------------------------------------------------------------
// Body: decompress while streaming and stop at the limit

// Publishers' compressed streams are sometimes cut short; browsers and curl show what arrived,
// so a truncated stream is flushed rather than failed (the parser will complain if it matters).
const ZLIB_OPTIONS: zlib.ZlibOptions = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
const BROTLI_OPTIONS: zlib.BrotliOptions = { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH };

async function readBody(res: Dispatcher.ResponseData, url: string, maxBytes: number): Promise<Buffer> {
  const body = res.body;
  const declared = contentLength(res.headers);
  // Content-Length counts the compressed bytes; inflating never makes a real feed smaller, so a
  // declared length over the limit is refused before a single byte is read.
  if (declared !== null && declared > maxBytes) {
    abandon(body);
    throw new FetchError('too-large', `Response from ${url} declares ${declared} bytes, over ${limitText(maxBytes)}`, {
      url,
      status: res.statusCode,
    });
  }

  const codings = contentCodings(res.headers);
  const unsupported = codings.find((c) => !isSupportedCoding(c));
  if (unsupported !== undefined) {
    abandon(body);
    throw new FetchError('decode', `Unsupported Content-Encoding "${unsupported}" from ${url}`, {
      url,
      status: res.statusCode,
    });
  }
  // Codings are listed in the order they were applied, so they are undone last to first.
  const decoders = (codings as ContentCoding[]).reverse().map(createDecoder);
  const last = decoders.at(-1);
  // pipeline() forwards errors and destroys every stream when any one fails or is destroyed.
  if (last !== undefined) pipeline([body, ...decoders], () => undefined);
  const stream: Readable | Duplex = last ?? body;

  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      total += chunk.byteLength;
      if (total > maxBytes) {
        // Leaving the loop destroys the stream (and the pipeline behind it) and so the connection:
        // neither the network nor the inflater is asked for another byte.
        throw new FetchError('too-large', `Response from ${url} is larger than ${limitText(maxBytes)}`, {
          url,
          status: res.statusCode,
        });
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (isDecompressionError(err)) {
      throw new FetchError('decode', `Cannot decompress the ${codings.join(', ')} body from ${url}: ${describeError(err)}`, {
        url,
        status: res.statusCode,
        cause: err,
      });
    }
    throw err;
  } finally {
    abandon(body);
    for (const decoder of decoders) abandon(decoder);
  }
  return Buffer.concat(chunks, total);
}

function createDecoder(coding: ContentCoding): Duplex {
  switch (coding) {
    case 'gzip':
      return zlib.createGunzip(ZLIB_OPTIONS);
    case 'br':
      return zlib.createBrotliDecompress(BROTLI_OPTIONS);
    case 'deflate':
      return createDeflateDecoder();
  }
}

/**
 * "deflate" should be zlib-wrapped (RFC 9110 §8.4.1.2) but some servers send raw deflate, as
 * browsers accept both. Which one it is shows in the first two bytes, so the inflater is picked
 * once they have arrived; chunks then flow through it with backpressure intact, so a deflate
 * bomb is inflated no faster than we read it.
 */
function createDeflateDecoder(): Duplex {
  return Duplex.from(async function* inflateAny(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    const input = source[Symbol.asyncIterator]();
    const head: Buffer[] = [];
    let headBytes = 0;
    while (headBytes < 2) {
      const next = await input.next();
      if (next.done) break;
      head.push(next.value);
      headBytes += next.value.byteLength;
    }
    const inflater = isZlibHeader(Buffer.concat(head))
      ? zlib.createInflate(ZLIB_OPTIONS)
      : zlib.createInflateRaw(ZLIB_OPTIONS);
    async function* replay(): AsyncGenerator<Buffer> {
      yield* head;
      for (;;) {
        const next = await input.next();
        if (next.done) return;
        yield next.value;
      }
    }
    pipeline(Readable.from(replay()), inflater, () => undefined);
    try {
      yield* inflater as AsyncIterable<Buffer>;
    } finally {
      inflater.destroy();
    }
  });
}

/** Errors raised by zlib itself (bad data), as opposed to a network error passing through it. */
function isDecompressionError(err: unknown): boolean {
  if (!(err instanceof Error) || !('code' in err) || typeof err.code !== 'string') return false;
  // zlib: Z_DATA_ERROR, Z_BUF_ERROR...; brotli: ERR__ERROR_FORMAT_*, ERR_BROTLI_*.
  return /^(Z_|ERR__|ERR_BROTLI|ERR_ZLIB)/.test(err.code);
}

function limitText(maxBytes: number): string {
  const mib = maxBytes / (1024 * 1024);
  const human = mib >= 1 ? `${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB` : `${Math.ceil(maxBytes / 1024)} KiB`;
  return `the ${human} (${maxBytes} bytes) body limit (settings.max_body)`;
}

// ---------------------------------------------------------------------------------------------
// Errors

/** Every failure becomes a FetchError with a reason, except the caller's own cancellation. */
function toFetchError(err: unknown, url: string, opts: FetchOptions, timedOut: boolean): unknown {
  if (opts.signal?.aborted && !timedOut) return opts.signal.reason;
  if (err instanceof FetchError) return err;
  const blocked = findBlocked(err);
  if (blocked !== null) {
    return new FetchError('blocked-address', `Refusing to fetch ${url}: ${blocked.message}; ${ALLOW_HINT}`, {
      url,
      cause: err,
    });
  }
  if (timedOut) {
    return new FetchError('timeout', `Timed out after ${opts.timeoutMs} ms fetching ${url} (settings.timeout)`, {
      url,
      cause: err,
    });
  }
  const code = err instanceof Error && 'code' in err ? err.code : undefined;
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new FetchError('timeout', `Timed out fetching ${url}: ${describeError(err)}`, { url, cause: err });
  }
  return new FetchError('network', `Network error fetching ${url}: ${describeError(err)}`, { url, cause: err });
}

/** The guard's error, wherever undici or net put it (itself, a cause, or inside an AggregateError). */
function findBlocked(err: unknown, depth = 0): BlockedAddressError | null {
  if (err instanceof BlockedAddressError) return err;
  if (!(err instanceof Error) || depth > 4) return null;
  if (err instanceof AggregateError) {
    for (const inner of err.errors) {
      const found = findBlocked(inner, depth + 1);
      if (found) return found;
    }
  }
  return findBlocked(err.cause, depth + 1);
}
