import type { Kysely } from 'kysely';
import type { RiverSettings } from '../domain.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Database } from '../store/database.js';
import { acquireHostSlot, pauseHost, releaseHostSlot } from '../store/hosts-repo.js';
import { getCachedCanonicals, putCanonical } from '../store/page-canonicals-repo.js';
import { FetchError, fetchFeed } from './fetch-feed.js';
import { hostKeyFor } from './host-key.js';
import { canonicalFromHtml } from './page-canonical.js';

// For sources with `resolve_canonical: true`: the canonical URL each item's page declares
// (<link rel="canonical">, page-canonical.ts), read politely. Top to bottom, per call (one poll):
// cache first -> for at most maxFetches uncached pages (and within a time budget), in the order given: a slot in the page host's
// budget (the same budget the feeds on that host use) -> fetch through the feed fetcher (same address
// guard, timeouts and streamed body limit) -> read the canonical -> record the answer, or the failure,
// in the cache.
//
// Pages left over (beyond maxFetches or the time budget, or on a host that is busy, pacing us or paused) stay
// unresolved this poll and are tried again on later polls, while their items are still in the
// feed. Until then their identity comes from the other rules (origLink, the cleaned item link):
// this function only says what it knows now; what to do when a later poll learns a canonical is the
// caller's business.
//
// Never throws for a page's fault: each page's failure is recorded in the cache (and retried after
// failureMaxAgeMs). Database errors do propagate: the poll could not store its items either.

export interface ResolveCanonicalDeps {
  readonly db: Kysely<Database>;
  readonly settings: RiverSettings;
  /** The worker asking (recorded on its host slots). */
  readonly owner: string;
  readonly logger: Logger;
}

export interface ResolveCanonicalOptions {
  /** Most pages fetched by this call (default DEFAULT_MAX_PAGE_FETCHES). 0 means cache only. */
  readonly maxFetches?: number;
  /** How long a page's answer (a canonical, or none) is trusted (default 30 days). */
  readonly cacheMaxAgeMs?: number;
  /** How long a failed fetch is remembered before the page is tried again (default 1 day). */
  readonly failureMaxAgeMs?: number;
  /** How long to wait for a slot in a host's budget before skipping its pages this call (default 2 s). */
  readonly slotWaitMs?: number;
  /**
   * No page fetch starts once this much time has passed since the call began (default 30 s), so a
   * poll stays well within its source's lease (2 x settings.timeout + 60 s) even when every page is
   * slow: at worst the budget plus one page's timeout (PAGE_TIMEOUT_MS) and one slot wait.
   */
  readonly timeBudgetMs?: number;
  /** Stops fetching (shutdown): what is known so far is returned. */
  readonly signal?: AbortSignal;
}

export const DEFAULT_MAX_PAGE_FETCHES = 10;
export const CANONICAL_CACHE_MAX_AGE_MS = 30 * 24 * 60 * 60_000;
export const CANONICAL_FAILURE_MAX_AGE_MS = 24 * 60 * 60_000;
export const DEFAULT_SLOT_WAIT_MS = 2_000;
export const DEFAULT_TIME_BUDGET_MS = 30_000;
/** A page's body limit, below settings.max_body when that is larger: the canonical is in the first
 * 256 KiB (MAX_SCAN_CHARS), and an article page bigger than this is rare. */
export const PAGE_MAX_BODY_BYTES = 2 * 1024 * 1024;
/** A page's total time limit, below settings.timeout when that is longer: up to maxFetches pages
 * are read one after another within one poll. */
export const PAGE_TIMEOUT_MS = 10_000;
/** HTML first (RFC 9110 §12.5.1); anything else is still read, since the scan simply finds nothing. */
export const PAGE_ACCEPT = 'text/html, application/xhtml+xml;q=0.9, */*;q=0.5';

/** A 429 without Retry-After: the publisher wants less, but did not say how long to wait. */
const DEFAULT_RATE_LIMIT_PAUSE_MS = 10 * 60_000;

/**
 * Page URL -> canonical URL, for those of `pageUrls` whose page declares a usable one (from the
 * cache, or fetched now). Pages that declare none, failed, or were not fetched this call are absent.
 */
export async function resolveCanonicals(
  deps: ResolveCanonicalDeps,
  sourceId: string,
  pageUrls: readonly string[],
  opts: ResolveCanonicalOptions = {},
): Promise<Map<string, string>> {
  const o = checkOptions(sourceId, opts);
  const startedAt = Date.now();
  const { db, settings } = deps;
  const log = deps.logger.child({ source_id: sourceId });
  const resolved = new Map<string, string>();

  // Only http(s) pages with a host can be fetched (or have a host budget); others are not pages.
  const pages = [...new Set(pageUrls)].filter((url) => hostKeyFor(url) !== null);
  const cached = await getCachedCanonicals(db, pages, o.cacheMaxAgeMs, o.failureMaxAgeMs);
  for (const [url, entry] of cached) if (entry.canonicalUrl !== null) resolved.set(url, entry.canonicalUrl);

  const timeoutMs = Math.min(settings.fetchTimeoutMs, PAGE_TIMEOUT_MS);
  const fetchOptions = {
    timeoutMs,
    maxBodyBytes: Math.min(settings.maxBodyBytes, PAGE_MAX_BODY_BYTES),
    allowPrivateNetworks: settings.allowPrivateNetworks,
    accept: PAGE_ACCEPT,
    signal: o.signal,
  };
  // A slot the worker never gives back (it crashed) frees itself after this.
  const leaseMs = timeoutMs * 2 + 60_000;
  // Hosts that refused a slot (busy, pacing us, paused) are not asked again this call: their other
  // pages would only wait for the same answer.
  const refusedHosts = new Set<string>();
  let fetched = 0;
  let skipped = 0;

  for (const url of pages) {
    if (cached.has(url)) continue;
    if (fetched >= o.maxFetches || Date.now() - startedAt >= o.timeBudgetMs || o.signal?.aborted) {
      skipped++;
      continue;
    }
    const hostKey = hostKeyFor(url) ?? url;
    if (refusedHosts.has(hostKey) || !(await takeSlot(hostKey))) {
      refusedHosts.add(hostKey);
      skipped++;
      continue;
    }
    fetched++;
    try {
      const canonical = await fetchPage(url, hostKey);
      if (canonical !== null) resolved.set(url, canonical);
    } finally {
      await releaseHostSlot(db, { hostKey, sourceId }).catch((err: unknown) =>
        // The slot's lease expires on its own; only log.
        log.warn({ err, url }, 'could not release host slot'),
      );
    }
  }

  log.debug({ pages: pages.length, cached: cached.size, fetched, skipped, resolved: resolved.size }, 'page canonicals');
  return resolved;

  /**
   * A slot in the host's budget, waiting up to slotWaitMs for one. The slot is taken under the
   * source's own id, as the feed's is: a source has at most one request in flight per host, so a
   * call made while the source still holds its feed's slot on that host takes that slot over (and
   * gives it back) rather than waiting for itself.
   */
  async function takeSlot(hostKey: string): Promise<boolean> {
    const giveUpAt = Date.now() + o.slotWaitMs;
    for (;;) {
      const slot = await acquireHostSlot(db, {
        hostKey,
        sourceId,
        owner: deps.owner,
        limit: settings.hostConcurrency,
        gapMs: settings.hostGapMs,
        leaseMs,
      });
      if (slot.ok) return true;
      const retryAt = slot.retryAt.getTime();
      if (slot.reason === 'paused' || retryAt > giveUpAt) {
        log.debug({ host: hostKey, reason: slot.reason, retry_at: slot.retryAt }, 'page canonicals: host budget, skipped');
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(10, retryAt - Date.now())));
    }
  }

  /** Fetches one page and records what it says; the canonical, or null (none, or a failure). */
  async function fetchPage(url: string, hostKey: string): Promise<string | null> {
    const started = Date.now();
    let page: Awaited<ReturnType<typeof fetchFeed>>;
    try {
      page = await fetchFeed(url, { etag: null, lastModified: null }, fetchOptions);
    } catch (err) {
      if (o.signal?.aborted) return null; // shutdown: nothing learnt about the page
      const fetchErr = err instanceof FetchError ? err : null;
      const status = fetchErr?.status ?? null;
      const message = describeError(err);
      const durationMs = Date.now() - started;
      if (status === 429 || (status === 503 && fetchErr?.retryAfter)) {
        // The publisher paces us (RFC 6585 §4, RFC 9110 §10.2.3): every request to the host waits,
        // its feeds' too, and the page is not at fault, so nothing is cached: it is tried again
        // once the pause is over.
        const now = Date.now();
        const until = new Date(Math.min(fetchErr?.retryAfter?.getTime() ?? now + DEFAULT_RATE_LIMIT_PAUSE_MS, now + settings.maxIntervalMs));
        await pauseHost(db, hostKey, until, `HTTP ${status} for a page of ${sourceId}`);
        refusedHosts.add(hostKey);
        log.info({ url, status, duration_ms: durationMs, until }, 'page canonical: rate limited');
        return null;
      }
      if (fetchErr) log.debug({ url, status, error: message, duration_ms: durationMs }, 'page canonical: fetch failed');
      else log.error({ url, err, duration_ms: durationMs }, 'page canonical: unexpected error');
      await putCanonical(db, { url, canonicalUrl: null, status, error: message });
      return null;
    }
    // A 304 cannot answer a request without validators; a server that sends one anyway gave no page.
    if (page.kind !== 'ok') {
      await putCanonical(db, { url, canonicalUrl: null, status: page.status, error: `HTTP ${page.status} without a page from ${page.finalUrl}` });
      return null;
    }
    // The page's relative URLs resolve against where it was served from, after redirects.
    let canonical: string | null;
    try {
      canonical = canonicalFromHtml(page.body, page.finalUrl);
    } catch (err) {
      // Not expected (the scan reads any text), but a page must never fail the poll.
      log.error({ url, err }, 'page canonical: could not read the page');
      await putCanonical(db, { url, canonicalUrl: null, status: page.status, error: `could not read the page: ${describeError(err)}` });
      return null;
    }
    await putCanonical(db, { url, canonicalUrl: canonical, status: page.status, error: null });
    log.debug({ url, status: page.status, canonical, bytes: page.bytes, duration_ms: Date.now() - started }, 'page canonical');
    return canonical;
  }
}

interface CheckedOptions {
  readonly maxFetches: number;
  readonly cacheMaxAgeMs: number;
  readonly failureMaxAgeMs: number;
  readonly slotWaitMs: number;
  readonly timeBudgetMs: number;
  readonly signal: AbortSignal | undefined;
}

/** Wrong options are a caller's bug: named here rather than surfacing as a SQL error. */
function checkOptions(sourceId: string, opts: ResolveCanonicalOptions): CheckedOptions {
  const where = `resolveCanonicals(source ${JSON.stringify(sourceId)})`;
  if (!sourceId) throw new RangeError('resolveCanonicals: sourceId is empty');
  const checked = {
    maxFetches: opts.maxFetches ?? DEFAULT_MAX_PAGE_FETCHES,
    cacheMaxAgeMs: opts.cacheMaxAgeMs ?? CANONICAL_CACHE_MAX_AGE_MS,
    failureMaxAgeMs: opts.failureMaxAgeMs ?? CANONICAL_FAILURE_MAX_AGE_MS,
    slotWaitMs: opts.slotWaitMs ?? DEFAULT_SLOT_WAIT_MS,
    timeBudgetMs: opts.timeBudgetMs ?? DEFAULT_TIME_BUDGET_MS,
    signal: opts.signal,
  };
  if (!Number.isInteger(checked.maxFetches) || checked.maxFetches < 0) {
    throw new RangeError(`${where}: maxFetches must be an integer >= 0, got ${checked.maxFetches}`);
  }
  for (const name of ['cacheMaxAgeMs', 'failureMaxAgeMs', 'slotWaitMs', 'timeBudgetMs'] as const) {
    const value = checked[name];
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`${where}: ${name} must be a number of milliseconds >= 0, got ${value}`);
  }
  return checked;
}
