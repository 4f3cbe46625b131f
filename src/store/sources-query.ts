import { sql } from 'kysely';
import type { FetchLogEntry, SourceStatus } from '../domain.js';
import type { Db } from './database.js';
import { listFetchLog } from './fetch-log-repo.js';

// The read side of sources: per-source state and fetch history for the API and the CLI.

export interface ListSourcesOptions {
  /** Also list sources removed from feeds.yaml (kept so their stories stay attributed). */
  readonly includeInactive?: boolean;
}

/** How many fetch_log rows /api/sources/:id and `tributary sources --source` show by default. */
export const DEFAULT_HISTORY_LIMIT = 50;

function statusQuery(db: Db) {
  return (
    db
      .selectFrom('sources as s')
      // A host row exists only once some worker has touched the host; sources without a host_key
      // (never synced by this version) simply have no pause.
      .leftJoin('hosts as h', 'h.host_key', 's.host_key')
      .select([
        's.id',
        's.url',
        's.name',
        's.homepage',
        's.tags',
        's.enabled',
        's.active',
        's.feed_title',
        's.last_fetched_at',
        's.last_status',
        's.last_error',
        's.error_count',
        's.next_fetch_at',
        's.next_fetch_reason',
        's.effective_url',
        's.gone_at',
        // A pause that has run out is history, not state: compared with the database clock, the
        // same clock the workers use to decide whether they may send a request.
        sql<Date | null>`case when h.paused_until > now() then h.paused_until end`.as('host_paused_until'),
        // Stories this source carried (not only published): a count per source, in the same query.
        // ::int because node-postgres returns bigint counts as strings.
        sql<number>`(select count(*)::int from item_sources x where x.source_id = s.id)`.as('item_count'),
      ])
  );
}

type StatusRow = Awaited<ReturnType<ReturnType<typeof statusQuery>['executeTakeFirstOrThrow']>>;

/** The one place a row becomes a SourceStatus. */
function toSourceStatus(row: StatusRow): SourceStatus {
  return {
    id: row.id,
    url: row.url,
    name: row.name,
    homepage: row.homepage,
    tags: row.tags,
    enabled: row.enabled,
    active: row.active,
    feedTitle: row.feed_title,
    lastFetchedAt: row.last_fetched_at,
    lastStatus: row.last_status,
    lastError: row.last_error,
    errorCount: row.error_count,
    itemCount: row.item_count,
    nextFetchAt: row.next_fetch_at,
    nextFetchReason: row.next_fetch_reason,
    effectiveUrl: row.effective_url,
    goneAt: row.gone_at,
    hostPausedUntil: row.host_paused_until,
  };
}

/** Sources ordered by id; only those in feeds.yaml unless `includeInactive`. */
export async function listSourceStatuses(db: Db, opts: ListSourcesOptions = {}): Promise<SourceStatus[]> {
  let query = statusQuery(db);
  if (!opts.includeInactive) query = query.where('s.active', '=', true);
  const rows = await query.orderBy('s.id').execute();
  return rows.map(toSourceStatus);
}

/** One source by id, active or not (an old story's publisher may be a removed source). */
export async function getSourceStatus(db: Db, id: string): Promise<SourceStatus | null> {
  const row = await statusQuery(db).where('s.id', '=', id).executeTakeFirst();
  return row ? toSourceStatus(row) : null;
}

/**
 * The newest `limit` polls of one source, newest first (id breaks ties between polls started in
 * the same microsecond). An unknown source has an empty history; callers that must tell the two
 * apart look the source up first. The query and the row mapping are fetch-log-repo's (the writer's
 * module), so a fetch_log row becomes a FetchLogEntry in one place only.
 */
export function getSourceHistory(db: Db, id: string, limit = DEFAULT_HISTORY_LIMIT): Promise<FetchLogEntry[]> {
  return listFetchLog(db, id, limit);
}

/**
 * A round trip to the database, for health checks. Lives here because only store/ runs SQL.
 * Throws what the driver throws.
 */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
