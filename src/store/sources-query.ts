import { sql } from 'kysely';
import type { SourceStatus } from '../domain.js';
import type { Db } from './database.js';

// The read side of sources: per-source state for the API and the CLI.

export interface ListSourcesOptions {
  /** Also list sources removed from feeds.yaml (kept so their stories stay attributed). */
  readonly includeInactive?: boolean;
}

function statusQuery(db: Db) {
  return db.selectFrom('sources as s').select([
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
    // Stories this source carried (not only published): a count per source, in the same query.
    // ::int because node-postgres returns bigint counts as strings.
    sql<number>`(select count(*)::int from item_sources x where x.source_id = s.id)`.as('item_count'),
  ]);
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
 * A round trip to the database, for health checks. Lives here because only store/ runs SQL.
 * Throws what the driver throws.
 */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
