// The fetch stage: one conditional GET of a publisher feed, read top to bottom as
// request -> redirects -> interpret the status -> read the body. The network I/O is done here;
// what a response means (status classes, validators, redirects, freshness and Retry-After hints,
// charsets) is the pure read-response.ts, and streaming the body under a limit is read-body.ts.
//
// Why undici's `request` rather than `fetch`: `request` hands us the raw status, headers and body
// stream, so we (1) follow redirects ourselves and run the address guard on every hop, (2) count
// body bytes after *our own* decompression and stop the moment the limit is passed (a gzip bomb
// never gets inflated past it), (3) set the headers and body-idle timeouts per request, and
// (4) get undici's own errors instead of fetch's generic "fetch failed" TypeError.
import { Agent, request, type Dispatcher } from 'undici';
import type { CacheValidators, FetchOutcome } from '../domain.js';
import { TributaryError, describeError } from '../errors.js';
import { USER_AGENT } from '../version.js';
import { BlockedAddressError, assertPublicLiteral, guardLookup } from './address-guard.js';
import { BodyError, discardBody, readBody } from './read-body.js';
import {
  cacheValidators,
  classifyStatus,
  conditionalHeaders,
  decodeBody,
  describeStatus,
  hasNoContent,
  headerValue,
  parseRetryAfter,
  permanentRedirectTarget,
  responseHints,
  type RedirectHop,
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
  /** The URL that failed (after any redirects). */
  readonly url: string;
  /** The error response's Retry-After as a time (meaningful on 429 and 503, recorded for any status). */
  readonly retryAfter: Date | null;
  /** Where the feed lives by the leading 301/308 redirects followed before the failure; else null. */
  readonly permanentUrl: string | null;

  constructor(
    reason: FetchFailureReason,
    message: string,
    options: {
      url: string;
      status?: number | null;
      retryAfter?: Date | null;
      permanentUrl?: string | null;
      cause?: unknown;
    },
  ) {
    super('fetch', message, { subject: options.url, cause: options.cause });
    this.name = 'FetchError';
    this.reason = reason;
    this.status = options.status ?? null;
    this.url = options.url;
    this.retryAfter = options.retryAfter ?? null;
    this.permanentUrl = options.permanentUrl ?? null;
  }
}

export interface FetchOptions {
  /** Total time for the whole fetch, redirects, headers and body included (settings.timeout). */
  timeoutMs: number;
  /** Largest body accepted, counted after decompression while streaming (settings.max_body). */
  maxBodyBytes: number;
  /** Allow loopback/private/link-local addresses (settings.allow_private_networks). */
  allowPrivateNetworks: boolean;
  /** TCP/TLS connect limit (default 10 s). Set on the shared agent: one agent per distinct value. */
  connectTimeoutMs?: number;
  /** Limit from sending a request to its last response header, per hop (default min(timeoutMs, 20 s)). */
  headersTimeoutMs?: number;
  /** Longest silence while the body streams (default min(timeoutMs, 20 s)). */
  bodyTimeoutMs?: number;
  userAgent?: string;
  /** The Accept header (default ACCEPT, feed formats first); a page fetch asks for HTML instead. */
  accept?: string;
  /** Cancels the fetch (shutdown); its reason is rethrown as-is, not wrapped in a FetchError. */
  signal?: AbortSignal;
  /** Replaces our agents (connectTimeoutMs then does not apply). It must do its own DNS guarding:
   * only IP-literal hosts are still checked. */
  dispatcher?: Dispatcher;
  /** The clock Retry-After and Expires are resolved against (default: the system clock). */
  now?: () => Date;
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

/** Headers, and each silence in the body, may take at most this long (or the total timeout, if
 * shorter): a publisher that accepts connections and then stalls is named for what it did. */
const STAGE_TIMEOUT_MS = 20_000;

/** Statuses that change what the scheduler does with the source (410 stops polling, 429 and 503
 * pause it), so their messages use the standard reason phrase whatever the server sent. */
const ACTED_ON_STATUSES: ReadonlySet<number> = new Set([410, 429, 503]);

const ALLOW_HINT = 'set settings.allow_private_networks: true in feeds.yaml to allow private networks';

// Agents are shared by the whole process, so connections to a publisher are kept alive across
// polls: one per (guarded or not, connect timeout), which in practice is one or two. The guarded
// ones resolve names through guardLookup: the check runs at connect time on the address the socket
// will use. TLS verification is always on; nothing here can turn it off. The headers and body
// timeouts are per-request options of undici's request(), so they need no agent of their own.
const agents = new Map<string, Agent>();

function sharedAgent(allowPrivateNetworks: boolean, connectTimeoutMs: number): Agent {
  const key = `${allowPrivateNetworks ? 'open' : 'guarded'}/${connectTimeoutMs}`;
  let agent = agents.get(key);
  if (agent === undefined) {
    const connect = { timeout: connectTimeoutMs, rejectUnauthorized: true };
    agent = new Agent({ connect: allowPrivateNetworks ? connect : { ...connect, lookup: guardLookup() } });
    agents.set(key, agent);
  }
  return agent;
}

/** Closes the shared agents (and their kept-alive connections), for a clean shutdown. */
export async function closeFetchAgents(): Promise<void> {
  const all = [...agents.values()];
  agents.clear();
  await Promise.all(all.map((agent) => agent.close()));
}

interface StageTimeouts {
  readonly connectMs: number;
  readonly headersMs: number;
  readonly bodyMs: number;
}

function stageTimeouts(opts: FetchOptions): StageTimeouts {
  return {
    connectMs: opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    headersMs: opts.headersTimeoutMs ?? Math.min(opts.timeoutMs, STAGE_TIMEOUT_MS),
    bodyMs: opts.bodyTimeoutMs ?? Math.min(opts.timeoutMs, STAGE_TIMEOUT_MS),
  };
}

/**
 * Fetches a feed with a conditional GET. Resolves to the decoded body, or to "not modified" when
 * the validators still match, with where the feed moved for good and the response's hints on when
 * to ask again; every failure is a FetchError naming the URL and what went wrong.
 */
export async function fetchFeed(url: string, validators: CacheValidators, opts: FetchOptions): Promise<FetchOutcome> {
  checkOptions(opts);
  const clock = opts.now ?? (() => new Date());
  const chain = new RedirectChain(parseHttpUrl(url, (message, cause) => new FetchError('bad-url', message, { url, cause })));
  const limits = stageTimeouts(opts);
  const deadline = startDeadline(opts.timeoutMs, opts.signal);
  const requestOptions = {
    method: 'GET',
    // The validators belong to the feed as last fetched, i.e. to the end of the redirect chain, so
    // they go on every hop, as HTTP clients that follow redirects do with request headers.
    headers: {
      'user-agent': opts.userAgent ?? USER_AGENT,
      accept: opts.accept ?? ACCEPT,
      'accept-encoding': ACCEPT_ENCODING,
      ...conditionalHeaders(validators),
    },
    signal: deadline.signal,
    dispatcher: opts.dispatcher ?? sharedAgent(opts.allowPrivateNetworks, limits.connectMs),
    headersTimeout: limits.headersMs,
    bodyTimeout: limits.bodyMs,
  } as const;

  try {
    // Request, follow redirects (each hop guarded and timed), interpret the final status, read the body.
    for (;;) {
      if (!opts.allowPrivateNetworks) assertPublicLiteral(chain.current.hostname);
      const res = await request(chain.current, requestOptions);
      const now = clock();
      const status = res.statusCode;

      switch (classifyStatus(status)) {
        case 'redirect':
          discardBody(res.body);
          chain.follow(status, res.statusText, headerValue(res.headers, 'location'));
          continue;
        case 'not-modified': {
          discardBody(res.body);
          // RFC 9110 §15.4.5: a 304 carries the validators the 200 would have; keep ours otherwise.
          // Its Cache-Control/Expires freshen the stored copy (RFC 9111 §4.3.4), hence the hints.
          const fresh = cacheValidators(res.headers);
          return {
            kind: 'not-modified',
            status: 304,
            finalUrl: chain.current.href,
            etag: fresh.etag ?? validators.etag,
            lastModified: fresh.lastModified ?? validators.lastModified,
            permanentUrl: chain.permanentUrl,
            hints: responseHints(res.headers, now),
          };
        }
        case 'error':
          discardBody(res.body);
          throw httpStatusError(chain, res, now);
        case 'ok': {
          const bytes = await readOkBody(chain, res, opts.maxBodyBytes);
          const contentType = headerValue(res.headers, 'content-type');
          const fresh = cacheValidators(res.headers);
          return {
            kind: 'ok',
            status,
            finalUrl: chain.current.href,
            contentType,
            body: decodeText(chain, bytes, contentType, status),
            bytes: bytes.byteLength,
            etag: fresh.etag,
            lastModified: fresh.lastModified,
            permanentUrl: chain.permanentUrl,
            hints: responseHints(res.headers, now),
          };
        }
      }
    }
  } catch (err) {
    throw toFetchError(err, chain, opts, limits, deadline.timedOut());
  } finally {
    deadline.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Redirects

/**
 * The redirects followed so far. Failures are built here so each one names the URL that failed
 * and where the publisher said, permanently, that the feed lives (a 301 to a URL that then
 * answers 410 still tells us where the feed went).
 */
class RedirectChain {
  current: URL;
  private readonly start: string;
  private readonly hops: RedirectHop[] = [];
  private readonly visited: Set<string>;

  constructor(start: URL) {
    this.current = start;
    this.start = start.href;
    this.visited = new Set([start.href]);
  }

  /** Only a leading run of 301/308 is remembered; 302/303/307 are followed but never stored. */
  get permanentUrl(): string | null {
    return permanentRedirectTarget(this.hops);
  }

  /** Moves on to where a redirect points (RFC 9110 §10.2.2: resolved against the URL that
   * answered), or throws when it points nowhere we may go. */
  follow(status: number, statusText: string, location: string | null): void {
    const from = this.current.href;
    if (location === null) {
      throw this.fail('redirects', `HTTP ${describeStatus(status, statusText)} from ${from} without a Location header`, {
        status,
      });
    }
    let resolved: string;
    try {
      resolved = new URL(location, from).href;
    } catch (cause) {
      throw this.fail('redirects', `Redirect from ${from} to an invalid URL "${location}"`, { status, cause });
    }
    const next = parseHttpUrl(resolved, (message, cause) => this.fail('redirects', message, { status, cause }));
    if (this.hops.length >= MAX_REDIRECTS) {
      throw this.fail('redirects', `Too many redirects (more than ${MAX_REDIRECTS}) fetching ${this.start}`, {
        status,
      });
    }
    if (this.visited.has(next.href)) {
      throw this.fail('redirects', `Redirect loop: ${from} redirects back to ${next.href}`, { status });
    }
    this.hops.push({ status, location: next.href });
    this.visited.add(next.href);
    this.current = next;
  }

  fail(
    reason: FetchFailureReason,
    message: string,
    extra: { status?: number; retryAfter?: Date | null; cause?: unknown } = {},
  ): FetchError {
    // A redirect failure (a loop, too many hops, no Location) means the chain never reached a feed:
    // its permanent hops are no new home to remember.
    const permanentUrl = reason === 'redirects' ? null : this.permanentUrl;
    return new FetchError(reason, message, { url: this.current.href, permanentUrl, ...extra });
  }
}

/** Only http: and https: are fetched; anything else (file:, ftp:, data:) could read local state. */
function parseHttpUrl(text: string, fail: (message: string, cause?: unknown) => FetchError): URL {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch (cause) {
    throw fail(`Not a valid URL: "${text}"`, cause);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw fail(`Only http and https URLs can be fetched, not "${text}"`);
  }
  // The fragment is never sent; dropping it keeps loop detection from being fooled by "#x".
  parsed.hash = '';
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// Interpreting the final response

/** "HTTP 429 Too Many Requests from URL (Retry-After 120s)": the Retry-After is kept on the error
 * for the scheduler, whatever the status (RFC 9110 §10.2.3 defines it for 503 and 3xx, RFC 6585
 * §4 for 429). */
function httpStatusError(chain: RedirectChain, res: Dispatcher.ResponseData, now: Date): FetchError {
  const status = res.statusCode;
  const retryAfter = parseRetryAfter(headerValue(res.headers, 'retry-after'), now, headerValue(res.headers, 'date'));
  const text = ACTED_ON_STATUSES.has(status) ? null : res.statusText;
  const wait = retryAfter === null ? '' : ` (Retry-After ${Math.round((retryAfter.getTime() - now.getTime()) / 1000)}s)`;
  return chain.fail('http-status', `HTTP ${describeStatus(status, text)} from ${chain.current.href}${wait}`, {
    status,
    retryAfter,
  });
}

/** The 2xx body, decompressed and within the limit; 204/205 carry none (RFC 9110 §15.3.5-6). */
async function readOkBody(chain: RedirectChain, res: Dispatcher.ResponseData, maxBytes: number): Promise<Buffer> {
  if (hasNoContent(res.statusCode)) {
    discardBody(res.body);
    return Buffer.alloc(0);
  }
  try {
    return await readBody(res.body, res.headers, chain.current.href, maxBytes);
  } catch (err) {
    if (err instanceof BodyError) throw chain.fail(err.reason, err.message, { status: res.statusCode, cause: err.cause });
    throw err;
  }
}

/** The body as text. Decoding itself cannot fail on bad bytes (they become U+FFFD), but a body
 * too long for a JS string can (V8 caps strings at ~512 MiB), which only a huge max_body allows. */
function decodeText(chain: RedirectChain, bytes: Buffer, contentType: string | null, status: number): string {
  try {
    return decodeBody(bytes, contentType);
  } catch (cause) {
    throw chain.fail('decode', `Cannot decode the ${bytes.byteLength}-byte body from ${chain.current.href} as text`, {
      status,
      cause,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Deadline, options and errors

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
  const durations = {
    timeoutMs: opts.timeoutMs,
    connectTimeoutMs: opts.connectTimeoutMs,
    headersTimeoutMs: opts.headersTimeoutMs,
    bodyTimeoutMs: opts.bodyTimeoutMs,
  };
  for (const [name, value] of Object.entries(durations)) {
    if (value === undefined && name !== 'timeoutMs') continue;
    if (value === undefined || !Number.isFinite(value) || value <= 0) {
      throw new RangeError(`fetchFeed: ${name} must be a positive number of milliseconds, got ${value}`);
    }
  }
  if (!Number.isSafeInteger(opts.maxBodyBytes) || opts.maxBodyBytes <= 0) {
    throw new RangeError(`fetchFeed: maxBodyBytes must be a positive integer, got ${opts.maxBodyBytes}`);
  }
}

/** Every failure becomes a FetchError with a reason, except the caller's own cancellation. */
function toFetchError(err: unknown, chain: RedirectChain, opts: FetchOptions, limits: StageTimeouts, timedOut: boolean): unknown {
  if (opts.signal?.aborted && !timedOut) return opts.signal.reason;
  if (err instanceof FetchError) return err;
  const url = chain.current.href;
  const blocked = findBlocked(err);
  if (blocked !== null) {
    return chain.fail('blocked-address', `Refusing to fetch ${url}: ${blocked.message}; ${ALLOW_HINT}`, { cause: err });
  }
  if (timedOut) {
    return chain.fail('timeout', `Timed out after ${opts.timeoutMs} ms fetching ${url} (settings.timeout)`, { cause: err });
  }
  const code = err instanceof Error && 'code' in err ? err.code : undefined;
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT': {
      const within = opts.dispatcher === undefined ? `within ${limits.connectMs} ms` : 'in time';
      return chain.fail('timeout', `Timed out fetching ${url}: could not connect ${within}`, { cause: err });
    }
    case 'UND_ERR_HEADERS_TIMEOUT':
      return chain.fail('timeout', `Timed out fetching ${url}: response headers were not received within ${limits.headersMs} ms`, {
        cause: err,
      });
    case 'UND_ERR_BODY_TIMEOUT':
      return chain.fail('timeout', `Timed out fetching ${url}: the body stalled, no data for ${limits.bodyMs} ms`, { cause: err });
  }
  return chain.fail('network', `Network error fetching ${url}: ${describeError(err)}`, { cause: err });
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
