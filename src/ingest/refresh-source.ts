import type { Kysely } from 'kysely';
import type { FetchLogEntry, NormalizedItem, ParsedItem, RiverSettings } from '../domain.js';
import { describeError, TributaryError } from '../errors.js';
import type { Logger } from '../log.js';
import type { OutageDetector } from '../scheduler/outage.js';
import { isNetworkError } from '../scheduler/outage.js';
import type { Database } from '../store/database.js';
import { recordFetchLog } from '../store/fetch-log-repo.js';
import { acquireHostSlot, pauseHost, releaseHostSlot } from '../store/hosts-repo.js';
import { recentPostTimes, storeItems, type IncomingItem, type StoreCounts } from '../store/items-repo.js';
import {
  deferSource,
  listKnownSources,
  recordFetchFailure,
  recordFetchSuccess,
  type ClaimedSource,
} from '../store/sources-repo.js';
import { attributePublisher } from './attribute.js';
import { FetchError, fetchFeed } from './fetch-feed.js';
import { findOriginalUrl } from './find-attribution.js';
import { hostKeyFor } from './host-key.js';
import { resolveCanonicals } from './resolve-canonical.js';
import { stripContent } from './strip-content.js';
import { planNextFetch, type PlannedFetch } from './next-fetch.js';
import { normalizeItem, storyIdFor } from './normalize-item.js';
import { parseFeed } from './parse-feed.js';

// One poll of one source, top to bottom: take a slot in the host's budget -> fetch (conditional)
// -> parse -> normalise -> attribute -> store, then record the outcome and when to come back.
// Never throws for a publisher's fault: every failure is recorded on the source and in its
// history and returned, so the caller's loop goes on.

export interface RefreshDeps {
  readonly db: Kysely<Database>;
  readonly logger: Logger;
  readonly settings: RiverSettings;
  /** The lease owner that claimed the source. */
  readonly owner: string;
  readonly outage: OutageDetector;
  /**
   * How long to wait in place for the host's budget (concurrency or gap) before giving the source
   * back for later. The one-shot `fetch` waits; the scheduler prefers to move on.
   */
  readonly maxHostWaitMs?: number;
  readonly now?: () => Date;
}

export type RefreshOutcome = 'updated' | 'not-modified' | 'failed' | 'rate-limited' | 'gone' | 'deferred';

export interface RefreshResult {
  readonly sourceId: string;
  readonly outcome: RefreshOutcome;
  readonly status: number | null;
  readonly counts: StoreCounts;
  /** Items in the document that could not be identified (no link, guid or title). */
  readonly skipped: number;
  readonly error: string | null;
  readonly durationMs: number;
  readonly nextFetchAt: Date;
  readonly nextFetchReason: string;
  /** Set when the feed moved permanently (301/308): fetched from here from now on. */
  readonly movedTo: string | null;
}

const ZERO: StoreCounts = { new: 0, updated: 0, unchanged: 0 };
/** A 429 without Retry-After: the publisher wants less, but did not say how long to wait. */
const DEFAULT_RATE_LIMIT_PAUSE_MS = 10 * 60_000;

export async function refreshSource(deps: RefreshDeps, source: ClaimedSource): Promise<RefreshResult> {
  const clock = deps.now ?? (() => new Date());
  const log = deps.logger.child({ source_id: source.id, url: source.fetchUrl });
  const { settings } = deps;
  const bounds = { everyMs: source.everyMs, minIntervalMs: settings.minIntervalMs, maxIntervalMs: settings.maxIntervalMs };
  const leaseMs = settings.fetchTimeoutMs * 2 + 60_000;

  // Politeness first: a slot in the host's budget, shared by every worker through the database.
  // Waiting for it is not a failure; when the wait is long the source is simply given back.
  if (source.hostKey) {
    const waitLimit = deps.maxHostWaitMs ?? 5_000;
    for (;;) {
      const slot = await acquireHostSlot(deps.db, {
        hostKey: source.hostKey,
        sourceId: source.id,
        owner: deps.owner,
        limit: settings.hostConcurrency,
        gapMs: settings.hostGapMs,
        leaseMs,
      });
      if (slot.ok) break;
      const waitMs = slot.retryAt.getTime() - Date.now();
      if (slot.reason === 'paused' || waitMs > waitLimit) {
        const reason = `waiting for ${source.hostKey}: ${slot.detail}`;
        await deferSource(deps.db, source.id, deps.owner, slot.retryAt, reason);
        log.debug({ retry_at: slot.retryAt, reason: slot.reason }, 'deferred: host budget');
        return result(source.id, 'deferred', null, ZERO, 0, null, 0, { at: slot.retryAt, reason }, null);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(10, waitMs)));
    }
  }

  const started = Date.now();
  const startedAt = clock();
  try {
    return await poll();
  } finally {
    if (source.hostKey) {
      await releaseHostSlot(deps.db, { hostKey: source.hostKey, sourceId: source.id }).catch((err: unknown) =>
        // The slot's lease expires on its own; only log.
        log.warn({ err }, 'could not release host slot'),
      );
    }
  }

  async function poll(): Promise<RefreshResult> {
    let status: number | null = null;
    try {
      const fetched = await fetchFeed(
        source.fetchUrl,
        { etag: source.etag, lastModified: source.lastModified },
        { timeoutMs: settings.fetchTimeoutMs, maxBodyBytes: settings.maxBodyBytes, allowPrivateNetworks: settings.allowPrivateNetworks },
      );
      deps.outage.reachable(source.hostKey);
      status = fetched.status;
      // Only a poll that was itself redirected announces the move; later polls go straight there.
      const movedTo = movedFrom(source, fetched.permanentUrl);
      if (movedTo) log.warn({ moved_to: movedTo }, 'feed moved permanently; edit its url in feeds.yaml');

      if (fetched.kind === 'not-modified') {
        // 304: nothing to parse or write but the source's own status and schedule (RFC 9110 §15.4.5).
        const postedAt = source.adaptive ? await recentPostTimes(deps.db, source.id) : null;
        const plan = planNextFetch({ now: clock(), ...bounds, errorCount: 0, feed: source.feedSchedule, response: fetched.hints, postedAt });
        const durationMs = Date.now() - started;
        await deps.db.transaction().execute(async (trx) => {
          await recordFetchSuccess(trx, source, deps.owner, {
            status: 304,
            etag: fetched.etag ?? source.etag,
            lastModified: fetched.lastModified ?? source.lastModified,
            permanentUrl: fetched.permanentUrl ?? source.effectiveUrl,
            nextFetchAt: plan.at,
            nextFetchReason: plan.reason,
          });
          await recordFetchLog(trx, logEntry('not-modified', 304, null, durationMs, ZERO, null, fetched.finalUrl));
        });
        log.info({ status: 304, duration_ms: durationMs, next_fetch_at: plan.at, why: plan.reason }, 'not modified');
        return result(source.id, 'not-modified', 304, ZERO, 0, null, durationMs, plan, movedTo);
      }

      const feed = await parseFeed(fetched.body, { url: fetched.finalUrl, contentType: fetched.contentType });
      const now = clock();
      // Item pages' rel=canonical, for sources that ask for it (cached, politely, bounded per poll).
      const pageCanonicals = source.resolveCanonical
        ? await resolveCanonicals(
            { db: deps.db, settings, owner: deps.owner, logger: log },
            source.id,
            feed.items.filter((i) => !i.origLink && i.link).map((i) => i.link!),
          )
        : new Map<string, string>();
      const ownHost = hostKeyFor(source.homepage ?? source.feedHomeUrl ?? feed.homeUrl ?? source.fetchUrl);
      const normalized: NormalizedItem[] = [];
      let skipped = 0;
      for (const parsed of feed.items) {
        const originalUrl = originalStoryUrl(source, parsed, pageCanonicals, ownHost);
        // Boilerplate is stripped after the attribution link was read from it.
        const cleaned = source.strip.length ? stripItem(parsed, source.strip) : parsed;
        const item = normalizeItem(cleaned, { sourceId: source.id, feedUrl: fetched.finalUrl, now, originalUrl });
        if (item) normalized.push(item);
        else skipped++;
      }

      // The feed's own title and site inform attribution of this source's stories.
      const self = { ...source, feedTitle: feed.title ?? source.feedTitle, feedHomeUrl: feed.homeUrl ?? source.feedHomeUrl };
      const { counts, plan } = await deps.db.transaction().execute(async (trx) => {
        const known = (await listKnownSources(trx)).map((k) => (k.id === self.id ? self : k));
        const incoming: IncomingItem[] = normalized.map((item) => ({
          item,
          storyId: storyIdFor(item.identityKey),
          publisher: attributePublisher(item, self, known),
        }));
        const stored = await storeItems(trx, { id: source.id, tags: source.tags }, incoming, now);
        const postedAt = source.adaptive ? await recentPostTimes(trx, source.id) : null;
        const planned = planNextFetch({ now: clock(), ...bounds, errorCount: 0, feed: feed.schedule, response: fetched.hints, postedAt });
        await recordFetchSuccess(trx, source, deps.owner, {
          status: fetched.status,
          etag: fetched.etag,
          lastModified: fetched.lastModified,
          feedTitle: feed.title,
          feedHomeUrl: feed.homeUrl,
          feedSchedule: feed.schedule,
          permanentUrl: fetched.permanentUrl ?? source.effectiveUrl,
          nextFetchAt: planned.at,
          nextFetchReason: planned.reason,
        });
        await recordFetchLog(trx, logEntry('updated', fetched.status, fetched.bytes, Date.now() - started, stored, null, fetched.finalUrl));
        return { counts: stored, plan: planned };
      });
      const durationMs = Date.now() - started;
      log.info(
        { status: fetched.status, duration_ms: durationMs, bytes: fetched.bytes, ...counts, skipped, next_fetch_at: plan.at, why: plan.reason },
        'fetched',
      );
      return result(source.id, 'updated', fetched.status, counts, skipped, null, durationMs, plan, movedTo);
    } catch (err) {
      return await failed(err, status);
    }
  }

  async function failed(err: unknown, statusSoFar: number | null): Promise<RefreshResult> {
    const fetchErr = err instanceof FetchError ? err : null;
    const status = fetchErr ? fetchErr.status : statusSoFar;
    // Any HTTP answer, even an error status, proves the network reaches that publisher.
    if (status !== null) deps.outage.reachable(source.hostKey);
    const message = describeError(err);
    // A poll of the new address that does not redirect again keeps the known move.
    const permanentUrl = fetchErr?.permanentUrl ?? source.effectiveUrl;
    const now = clock();
    let outcome: RefreshOutcome = 'failed';
    let countsAsError = true;
    let plan: PlannedFetch;

    if (status === 410) {
      // 410 Gone (RFC 9110 §15.5.11): the publisher says the feed is gone for good. Stop polling
      // until its URL in feeds.yaml changes; the source stays visible as gone.
      outcome = 'gone';
      countsAsError = false;
      plan = { at: new Date(now.getTime() + settings.maxIntervalMs), reason: 'gone (410): not polled until its url in feeds.yaml changes' };
    } else if (status === 429 || (status === 503 && fetchErr?.retryAfter)) {
      // The publisher paces us: no request to that host before it says (every source on the
      // host waits, across workers), and it is not this source's failure.
      outcome = 'rate-limited';
      countsAsError = false;
      const until = fetchErr?.retryAfter ?? new Date(now.getTime() + DEFAULT_RATE_LIMIT_PAUSE_MS);
      plan = planNextFetch({ now, ...bounds, errorCount: 0, feed: source.feedSchedule, response: { maxAgeMs: null, expiresAt: null, retryAfter: until } });
      if (source.hostKey) await pauseHost(deps.db, source.hostKey, new Date(Math.min(until.getTime(), plan.at.getTime())), `HTTP ${status} from ${source.id}`);
    } else if (isNetworkError(err) && !deps.outage.blamePublisher(source.hostKey)) {
      // Nothing else answered lately either: likely our network, not this feed. Retry at the
      // normal interval instead of backing off.
      countsAsError = false;
      const base = planNextFetch({ now, ...bounds, errorCount: 0, feed: source.feedSchedule });
      plan = { at: base.at, reason: `network unreachable (outage suspected); ${base.reason}` };
    } else {
      plan = planNextFetch({
        now,
        ...bounds,
        errorCount: source.errorCount + 1,
        feed: source.feedSchedule,
        response: fetchErr?.retryAfter ? { maxAgeMs: null, expiresAt: null, retryAfter: fetchErr.retryAfter } : null,
      });
    }

    const durationMs = Date.now() - started;
    try {
      await recordFetchFailure(deps.db, source, deps.owner, {
        status,
        error: message,
        nextFetchAt: plan.at,
        nextFetchReason: plan.reason,
        countsAsError,
        gone: outcome === 'gone',
        permanentUrl,
      });
      await recordFetchLog(deps.db, logEntry(outcome, status, null, durationMs, ZERO, message, source.fetchUrl));
    } catch (recordErr) {
      // The database itself failing is not the publisher's fault; the lease expires and another
      // tick retries the source.
      log.error({ err: recordErr }, 'could not record fetch failure');
    }
    const expected = err instanceof TributaryError && (err.kind === 'fetch' || err.kind === 'parse');
    log[expected ? 'warn' : 'error'](
      { status, duration_ms: durationMs, err: expected ? undefined : err, error: message, outcome, next_fetch_at: plan.at, why: plan.reason },
      'fetch failed',
    );
    return result(source.id, outcome, status, ZERO, 0, message, durationMs, plan, movedFrom(source, fetchErr?.permanentUrl ?? null));
  }

  function logEntry(
    outcome: FetchLogEntry['outcome'],
    status: number | null,
    bytes: number | null,
    durationMs: number,
    counts: StoreCounts,
    error: string | null,
    url: string,
  ): FetchLogEntry {
    return {
      sourceId: source.id,
      startedAt,
      url,
      outcome,
      status,
      bytes,
      durationMs,
      itemsNew: counts.new,
      itemsUpdated: counts.updated,
      itemsUnchanged: counts.unchanged,
      error,
    };
  }
}

/**
 * The original story's URL when it is not the item's own link (issue #4, canonical identity):
 * feedburner:origLink is handled by normalizeItem. For an aggregator, in order: dc:source, the
 * page's rel=canonical (when resolving) if it leaves the aggregator's site, an attribution link in
 * the content ("view this story on their website", ...). For a publisher: the page's rel=canonical.
 */
function originalStoryUrl(source: ClaimedSource, item: ParsedItem, pageCanonicals: ReadonlyMap<string, string>, ownHost: string | null): string | null {
  const pageCanonical = item.link ? (pageCanonicals.get(item.link) ?? null) : null;
  if (source.kind !== 'aggregator') return item.origLink ? null : pageCanonical;
  const inDocument = findOriginalUrl(item, ownHost);
  if (inDocument?.from === 'dc:source') return inDocument.url;
  if (pageCanonical && hostKeyFor(pageCanonical) !== ownHost) return pageCanonical;
  return inDocument?.url ?? null;
}

function stripItem(item: ParsedItem, patterns: readonly string[]): ParsedItem {
  return {
    ...item,
    summaryHtml: item.summaryHtml === null ? null : stripContent(item.summaryHtml, patterns),
    contentHtml: item.contentHtml === null ? null : stripContent(item.contentHtml, patterns),
  };
}

function movedFrom(source: ClaimedSource, permanentUrl: string | null): string | null {
  return permanentUrl && permanentUrl !== source.url ? permanentUrl : null;
}

function result(
  sourceId: string,
  outcome: RefreshOutcome,
  status: number | null,
  counts: StoreCounts,
  skipped: number,
  error: string | null,
  durationMs: number,
  plan: PlannedFetch,
  movedTo: string | null,
): RefreshResult {
  return { sourceId, outcome, status, counts, skipped, error, durationMs, nextFetchAt: plan.at, nextFetchReason: plan.reason, movedTo };
}
