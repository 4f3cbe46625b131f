import { sql } from 'kysely';
import type { FetchLogEntry } from '../domain.js';
import { TributaryError } from '../errors.js';
import type { Db } from './database.js';

// The per-source fetch history (issue #3): one row per poll, kept for a bounded window so the table
// stays small without a separate cleanup job — the writer prunes the source's history as it writes.

export interface FetchLogKeep {
  /** Newest entries kept per source (default 50). */
  readonly maxEntries?: number;
  /** Entries older than this are dropped (default 30 days). */
  readonly maxAgeMs?: number;
}

export const DEFAULT_FETCH_LOG_ENTRIES = 50;
export const DEFAULT_FETCH_LOG_AGE_MS = 30 * 24 * 3600_000;

const OUTCOMES: ReadonlySet<FetchLogEntry['outcome']> = new Set(['updated', 'not-modified', 'failed', 'rate-limited', 'gone', 'deferred']);

/** Appends one poll to the source's history and prunes that history to the window, in one call. */
export async function recordFetchLog(db: Db, entry: FetchLogEntry, keep: FetchLogKeep = {}): Promise<void> {
  const maxEntries = keep.maxEntries ?? DEFAULT_FETCH_LOG_ENTRIES;
  const maxAgeMs = keep.maxAgeMs ?? DEFAULT_FETCH_LOG_AGE_MS;
  const where = `fetch log of source "${entry.sourceId}"`;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TributaryError('config', `${where}: maxEntries must be an integer >= 1, got ${maxEntries}`, { subject: entry.sourceId });
  if (!Number.isFinite(maxAgeMs) || maxAgeMs <= 0) throw new TributaryError('config', `${where}: maxAgeMs must be > 0, got ${maxAgeMs}`, { subject: entry.sourceId });
  if (!OUTCOMES.has(entry.outcome)) throw new TributaryError('database', `${where}: unknown outcome "${String(entry.outcome)}"`, { subject: entry.sourceId });
  if (!(entry.startedAt instanceof Date) || Number.isNaN(entry.startedAt.getTime())) {
    throw new TributaryError('database', `${where}: startedAt is not a valid date`, { subject: entry.sourceId });
  }

  try {
    await db
      .insertInto('fetch_log')
      .values({
        source_id: entry.sourceId,
        started_at: entry.startedAt,
        url: entry.url,
        outcome: entry.outcome,
        status: int(entry.status, 'status', where),
        bytes: int(entry.bytes, 'bytes', where),
        // Durations come from performance.now() differences (fractions of a ms); the column is integer.
        duration_ms: int(entry.durationMs, 'durationMs', where) ?? 0,
        items_new: int(entry.itemsNew, 'itemsNew', where) ?? 0,
        items_updated: int(entry.itemsUpdated, 'itemsUpdated', where) ?? 0,
        items_unchanged: int(entry.itemsUnchanged, 'itemsUnchanged', where) ?? 0,
        error: entry.error === null ? null : entry.error.slice(0, 2000),
      })
      .execute();
  } catch (err) {
    // 23503 foreign_key_violation: the only foreign key is source_id.
    if (err instanceof Error && 'code' in err && err.code === '23503') {
      throw new TributaryError('database', `${where}: no such source`, { subject: entry.sourceId, cause: err });
    }
    throw err;
  }

  // One delete, walking fetch_log_source_idx (source_id, started_at desc, id desc): everything past
  // the newest maxEntries, and everything older than the window. Other sources are never touched.
  await db
    .deleteFrom('fetch_log')
    .where('source_id', '=', entry.sourceId)
    .where((eb) =>
      eb.or([
        eb('started_at', '<', sql<Date>`now() - make_interval(secs => ${maxAgeMs / 1000})`),
        eb(
          'id',
          'in',
          eb
            .selectFrom('fetch_log')
            .select('id')
            .where('source_id', '=', entry.sourceId)
            .orderBy('started_at', 'desc')
            .orderBy('id', 'desc')
            .offset(maxEntries),
        ),
      ]),
    )
    .execute();
}

/** The source's history, newest first. */
export async function listFetchLog(db: Db, sourceId: string, limit = DEFAULT_FETCH_LOG_ENTRIES): Promise<FetchLogEntry[]> {
  if (!Number.isInteger(limit) || limit < 1) return [];
  const rows = await db
    .selectFrom('fetch_log')
    .select(['source_id', 'started_at', 'url', 'outcome', 'status', 'bytes', 'duration_ms', 'items_new', 'items_updated', 'items_unchanged', 'error'])
    .where('source_id', '=', sourceId)
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toEntry);
}

type FetchLogRow = {
  source_id: string;
  started_at: Date;
  url: string;
  outcome: string;
  status: number | null;
  bytes: number | null;
  duration_ms: number;
  items_new: number;
  items_updated: number;
  items_unchanged: number;
  error: string | null;
};

/** The one place a fetch_log row becomes a domain entry (the bigserial id is never exposed). */
function toEntry(r: FetchLogRow): FetchLogEntry {
  return {
    sourceId: r.source_id,
    startedAt: r.started_at,
    url: r.url,
    // Only recordFetchLog writes this column, and it admits only the domain's outcomes.
    outcome: r.outcome as FetchLogEntry['outcome'],
    status: r.status,
    bytes: r.bytes,
    durationMs: r.duration_ms,
    itemsNew: r.items_new,
    itemsUpdated: r.items_updated,
    itemsUnchanged: r.items_unchanged,
    error: r.error,
  };
}

function int(value: number | null, field: string, where: string): number | null {
  if (value === null) return null;
  if (!Number.isFinite(value)) throw new TributaryError('database', `${where}: ${field} must be a finite number, got ${value}`);
  return Math.max(0, Math.round(value));
}
