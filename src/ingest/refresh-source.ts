import type { Kysely } from 'kysely';
import type { NormalizedItem, RiverSettings } from '../domain.js';
import { describeError, TributaryError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Database } from '../store/database.js';
import { storeItems, type IncomingItem, type StoreCounts } from '../store/items-repo.js';
import {
  listKnownSources,
  recordFetchFailure,
  recordFetchSuccess,
  type ClaimedSource,
} from '../store/sources-repo.js';
import { attributePublisher } from './attribute.js';
import { FetchError, fetchFeed } from './fetch-feed.js';
import { nextFetchAt } from './next-fetch.js';
import { normalizeItem, storyIdFor } from './normalize-item.js';
import { parseFeed } from './parse-feed.js';

// One poll of one source, top to bottom: fetch (conditional) -> parse -> normalise -> attribute
// -> store, then record the outcome on the source's row. Never throws for a publisher's fault:
// every failure is recorded on the source and returned, so the caller's loop goes on.

export interface RefreshDeps {
  readonly db: Kysely<Database>;
  readonly logger: Logger;
  readonly settings: RiverSettings;
  /** The lease owner that claimed the source. */
  readonly owner: string;
  readonly now?: () => Date;
}

export interface RefreshResult {
  readonly sourceId: string;
  readonly outcome: 'updated' | 'not-modified' | 'failed';
  readonly status: number | null;
  readonly counts: StoreCounts;
  /** Items in the document that could not be identified (no link, guid or title). */
  readonly skipped: number;
  readonly error: string | null;
  readonly durationMs: number;
  readonly nextFetchAt: Date;
}

const ZERO: StoreCounts = { new: 0, updated: 0, unchanged: 0 };

export async function refreshSource(deps: RefreshDeps, source: ClaimedSource): Promise<RefreshResult> {
  const clock = deps.now ?? (() => new Date());
  const started = Date.now();
  const log = deps.logger.child({ source_id: source.id, url: source.url });
  let status: number | null = null;
  try {
    const fetched = await fetchFeed(
      source.url,
      { etag: source.etag, lastModified: source.lastModified },
      {
        timeoutMs: deps.settings.fetchTimeoutMs,
        maxBodyBytes: deps.settings.maxBodyBytes,
        allowPrivateNetworks: deps.settings.allowPrivateNetworks,
      },
    );
    status = fetched.status;
    const next = nextFetchAt({ now: clock(), everyMs: source.everyMs, errorCount: 0 });

    if (fetched.kind === 'not-modified') {
      // 304: nothing to parse or write but the source's own status and schedule (RFC 9110 §15.4.5).
      await recordFetchSuccess(deps.db, source.id, deps.owner, {
        status: 304,
        etag: fetched.etag ?? source.etag,
        lastModified: fetched.lastModified ?? source.lastModified,
        nextFetchAt: next,
      });
      const durationMs = Date.now() - started;
      log.info({ status: 304, duration_ms: durationMs }, 'not modified');
      return { sourceId: source.id, outcome: 'not-modified', status: 304, counts: ZERO, skipped: 0, error: null, durationMs, nextFetchAt: next };
    }

    const feed = await parseFeed(fetched.body, { url: fetched.finalUrl, contentType: fetched.contentType });
    const now = clock();
    const normalized: NormalizedItem[] = [];
    let skipped = 0;
    for (const parsed of feed.items) {
      const item = normalizeItem(parsed, { sourceId: source.id, feedUrl: fetched.finalUrl, now });
      if (item) normalized.push(item);
      else skipped++;
    }

    // The feed's own title and site inform attribution of this source's stories.
    const self = { ...source, feedTitle: feed.title ?? source.feedTitle, feedHomeUrl: feed.homeUrl ?? source.feedHomeUrl };
    const counts = await deps.db.transaction().execute(async (trx) => {
      const known = (await listKnownSources(trx)).map((k) => (k.id === self.id ? self : k));
      const incoming: IncomingItem[] = normalized.map((item) => ({
        item,
        storyId: storyIdFor(item.identityKey),
        publisher: attributePublisher(item, self, known),
      }));
      const stored = await storeItems(trx, { id: source.id, tags: source.tags }, incoming, now);
      await recordFetchSuccess(trx, source.id, deps.owner, {
        status: fetched.status,
        etag: fetched.etag,
        lastModified: fetched.lastModified,
        feedTitle: feed.title,
        feedHomeUrl: feed.homeUrl,
        nextFetchAt: next,
      });
      return stored;
    });
    const durationMs = Date.now() - started;
    log.info({ status: fetched.status, duration_ms: durationMs, bytes: fetched.bytes, ...counts, skipped }, 'fetched');
    return { sourceId: source.id, outcome: 'updated', status: fetched.status, counts, skipped, error: null, durationMs, nextFetchAt: next };
  } catch (err) {
    if (err instanceof FetchError) status = err.status;
    const message = describeError(err);
    const errorCount = source.errorCount + 1;
    const next = nextFetchAt({ now: clock(), everyMs: source.everyMs, errorCount });
    try {
      await recordFetchFailure(deps.db, source.id, deps.owner, { status, error: message, nextFetchAt: next });
    } catch (recordErr) {
      // The database itself failing is not the publisher's fault; the lease expires and another
      // tick retries the source.
      log.error({ err: recordErr }, 'could not record fetch failure');
    }
    const durationMs = Date.now() - started;
    const expected = err instanceof TributaryError && (err.kind === 'fetch' || err.kind === 'parse');
    log[expected ? 'warn' : 'error']({ status, duration_ms: durationMs, err: expected ? undefined : err, error: message, error_count: errorCount }, 'fetch failed');
    return { sourceId: source.id, outcome: 'failed', status, counts: ZERO, skipped: 0, error: message, durationMs, nextFetchAt: next };
  }
}
