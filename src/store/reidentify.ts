import { sql, type Kysely, type Transaction } from 'kysely';
import { TributaryError } from '../errors.js';
import { currentIdentity, IDENTITY_VERSION, preferredUrl } from '../ingest/identity.js';
import type { Logger } from '../log.js';
import type { Database } from './database.js';

// The data migration that goes with a change of identity rules (src/ingest/identity.ts). Schema
// migrations are frozen SQL and cannot import the rules, so this runs at start, after migrate():
// every story whose identity_version is older than IDENTITY_VERSION gets its key recomputed from its
// stored canonical URL. Where the new rules say two stored stories are one (http://x.example/a and
// https://www.x.example/a), they are merged without losing or duplicating anything:
// - the earliest-seen story survives, with its id: ids are in published feeds and API URLs, and
//   are never changed (the merged-away id stops resolving: its story lives on under the survivor's);
// - appearances (item_sources) move to it, one per source, first seen the earliest and last seen
//   the latest of the two; revisions move to it; stories clustered under the merged-away id follow;
// - tags are united; the better-ranked publisher attribution wins, and with it the publisher's own
//   text when only the merged-away story had it (as storeItems lets the publisher's version win).
// Each batch is one transaction, so a crash leaves every story either old or fully re-identified,
// and the next start goes on from there. Re-running is a no-op.

/** The meta row recording which identity rules the stored keys follow. */
export const IDENTITY_META_KEY = 'identity_rules_version';

export interface ReidentifyCounts {
  /** Stories found with keys from older rules. */
  scanned: number;
  /** Surviving stories whose identity key changed. */
  rekeyed: number;
  /** Stories merged into another (their rows deleted). */
  merged: number;
}

export interface ReidentifyOptions {
  /** Stories per transaction (default 500). */
  readonly batchSize?: number;
  readonly logger?: Logger;
}

const DEFAULT_BATCH = 500;
/** Serialises re-identification across processes (migrate.ts uses 727_200_001). */
const LOCK_KEY = 727_200_004;
/**
 * A batch is retried when a concurrent writer got in the way: a deadlock with a poll locking the same
 * stories (40P01), a serialization failure (40001), or a poll inserting a story under the very key
 * being given to a stored one (23505): the retry then finds that story and merges it.
 */
const RETRYABLE = new Set(['40P01', '40001', '23505']);
const MAX_ATTEMPTS = 3;

/** Recomputes identity keys stored under older rules; see the header. Safe at every start. */
export async function reidentify(db: Kysely<Database>, opts: ReidentifyOptions = {}): Promise<ReidentifyCounts> {
  const batchSize = opts.batchSize ?? DEFAULT_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`reidentify: batchSize must be a positive integer, got ${String(batchSize)}`);
  }
  const log = opts.logger;
  const totals: ReidentifyCounts = { scanned: 0, rekeyed: 0, merged: 0 };
  try {
    // The usual start: nothing older, rules recorded. One query.
    const state = await sql<{ recorded: string | null; pending: boolean }>`
      select (select value from meta where key = ${IDENTITY_META_KEY}) as recorded,
             exists (select 1 from items where identity_version < ${IDENTITY_VERSION}) as pending`.execute(db);
    const recorded = state.rows[0]?.recorded ?? null;
    const recordedVersion = recorded !== null && /^\d+$/.test(recorded) ? Number(recorded) : null;
    if (!state.rows[0]?.pending && recordedVersion === IDENTITY_VERSION) return totals;
    if (recordedVersion !== null && recordedVersion > IDENTITY_VERSION) {
      // A newer release re-identified this database: its keys are not ours to rewrite, and stories
      // this release stores may duplicate some of them until the newer release runs again.
      log?.warn({ identity_version: IDENTITY_VERSION, recorded_version: recordedVersion }, 'database uses newer identity rules than this release');
    }

    for (;;) {
      const batch = await withRetry(() => db.transaction().execute((trx) => reidentifyBatch(trx, batchSize, log)));
      totals.scanned += batch.scanned;
      totals.rekeyed += batch.rekeyed;
      totals.merged += batch.merged;
      if (batch.selected < batchSize) break;
    }

    if (recordedVersion === null || recordedVersion < IDENTITY_VERSION) {
      await db
        .insertInto('meta')
        .values({ key: IDENTITY_META_KEY, value: String(IDENTITY_VERSION) })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value: String(IDENTITY_VERSION) }))
        .execute();
    }
  } catch (err) {
    throw new TributaryError('database', `re-identifying stored stories (identity rules v${IDENTITY_VERSION}) failed`, { subject: 'items', cause: err });
  }
  if (totals.scanned > 0) log?.info({ identity_version: IDENTITY_VERSION, ...totals }, 'stories re-identified');
  return totals;
}

async function withRetry<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
      if (attempt >= MAX_ATTEMPTS || !RETRYABLE.has(code)) throw err;
    }
  }
}

interface ScanRow {
  id: string;
  identity_key: string;
  canonical_url: string | null;
  first_seen_at: Date;
}

const MERGE_COLUMNS = [
  'id',
  'identity_key',
  'canonical_url',
  'identity_version',
  'first_seen_at',
  'tags',
  'title',
  'author',
  'summary',
  'content',
  'categories',
  'guid',
  'publisher_name',
  'publisher_url',
  'publisher_source_id',
  'publisher_feed_url',
  'publisher_rank',
  'content_source_id',
  'content_hash',
  'title_key',
  'simhash',
  'published_at',
  'updated_at',
  'cluster_id',
] as const;

type Trx = Transaction<Database>;

async function reidentifyBatch(trx: Trx, batchSize: number, log: Logger | undefined): Promise<ReidentifyCounts & { selected: number }> {
  await sql`select pg_advisory_xact_lock(${LOCK_KEY})`.execute(trx);
  // Earliest-seen first: a story merged into another is then almost always merged into one already
  // handled, so a survivor's new key is set once.
  const rows: ScanRow[] = await trx
    .selectFrom('items')
    .select(['id', 'identity_key', 'canonical_url', 'first_seen_at'])
    .where('identity_version', '<', IDENTITY_VERSION)
    .orderBy('first_seen_at')
    .orderBy('id')
    .limit(batchSize)
    .forUpdate()
    .execute();
  const counts = { selected: rows.length, scanned: rows.length, rekeyed: 0, merged: 0 };
  const inBatch = new Set(rows.map((r) => r.id));
  const gone = new Set<string>();

  for (const row of rows) {
    if (gone.has(row.id)) continue; // merged into an earlier story of this batch
    const next = currentIdentity({ identityKey: row.identity_key, canonicalUrl: row.canonical_url });
    const holder =
      next.identityKey === row.identity_key
        ? undefined
        : await trx.selectFrom('items').select(['id', 'first_seen_at']).where('identity_key', '=', next.identityKey).forUpdate().executeTakeFirst();
    if (!holder) {
      await trx
        .updateTable('items')
        .set({ identity_key: next.identityKey, canonical_url: next.canonicalUrl, identity_version: IDENTITY_VERSION })
        .where('id', '=', row.id)
        .execute();
      if (next.identityKey !== row.identity_key) counts.rekeyed++;
      continue;
    }

    // Two stored stories are one under the new rules: the earlier-seen one survives.
    const rowFirst = isEarlier(row, holder);
    const [keep, drop] = await loadPair(trx, rowFirst ? row.id : holder.id, rowFirst ? holder.id : row.id);
    await mergeStories(trx, keep, drop, next.identityKey);
    log?.debug({ story_id: keep.id, merged_id: drop.id, identity_key: next.identityKey }, 'stories merged by new identity rules');
    counts.merged++;
    gone.add(drop.id);
    if (rowFirst) counts.rekeyed++;
    // Stories of older rules dealt with here, before their own batch came, count as scanned too.
    for (const s of [keep, drop]) {
      if (s.identity_version < IDENTITY_VERSION && !inBatch.has(s.id)) {
        counts.scanned++;
        inBatch.add(s.id);
      }
    }
  }
  return counts;
}

function isEarlier(a: { id: string; first_seen_at: Date }, b: { id: string; first_seen_at: Date }): boolean {
  const ta = new Date(a.first_seen_at).getTime();
  const tb = new Date(b.first_seen_at).getTime();
  return ta < tb || (ta === tb && a.id < b.id);
}

type MergeRow = Awaited<ReturnType<typeof loadPair>>[number];

async function loadPair(trx: Trx, keepId: string, dropId: string) {
  const rows = await trx.selectFrom('items').select(MERGE_COLUMNS).where('id', 'in', [keepId, dropId]).execute();
  const keep = rows.find((r) => r.id === keepId);
  const drop = rows.find((r) => r.id === dropId);
  if (!keep || !drop) throw new Error(`stories ${keepId} and ${dropId} vanished while being merged`);
  return [keep, drop] as const;
}

/** Moves everything of `drop` onto `keep`, deletes `drop`, and gives `keep` the identity `key`. */
async function mergeStories(trx: Trx, keep: MergeRow, drop: MergeRow, key: string): Promise<void> {
  // Appearances: one row per (story, source). Where both stories came through one source, that
  // source first carried the story at the earlier time and last at the later; its guid and link
  // are those of the latest sighting.
  await sql`
    insert into item_sources (item_id, source_id, guid, link, first_seen_at, last_seen_at)
    select ${keep.id}::text, source_id, guid, link, first_seen_at, last_seen_at
    from item_sources where item_id = ${drop.id}
    on conflict (item_id, source_id) do update set
      guid = case when excluded.last_seen_at > item_sources.last_seen_at then excluded.guid else item_sources.guid end,
      link = case when excluded.last_seen_at > item_sources.last_seen_at then excluded.link else item_sources.link end,
      first_seen_at = least(item_sources.first_seen_at, excluded.first_seen_at),
      last_seen_at = greatest(item_sources.last_seen_at, excluded.last_seen_at)`.execute(trx);
  await trx.updateTable('item_revisions').set({ item_id: keep.id }).where('item_id', '=', drop.id).execute();
  // Cluster ids are story ids: members of a cluster named after the merged-away story follow it.
  await trx.updateTable('items').set({ cluster_id: keep.id }).where('cluster_id', '=', drop.id).where('id', '<>', drop.id).execute();
  await trx.deleteFrom('items').where('id', '=', drop.id).execute();

  const betterAttribution = drop.publisher_rank > keep.publisher_rank;
  const publisher = betterAttribution ? drop : keep;
  // The publisher's own text replaces another feed's copy, as in storeItems.
  const publisherId = publisher.publisher_source_id;
  const takeText = publisherId !== null && keep.content_source_id !== publisherId && drop.content_source_id === publisherId;
  const text = takeText ? drop : keep;
  const clusterId = keep.cluster_id ?? (drop.cluster_id === drop.id ? keep.id : drop.cluster_id);
  await trx
    .updateTable('items')
    .set({
      identity_key: key,
      canonical_url: preferredUrl(
        currentIdentity({ identityKey: keep.identity_key, canonicalUrl: keep.canonical_url }).canonicalUrl,
        currentIdentity({ identityKey: drop.identity_key, canonicalUrl: drop.canonical_url }).canonicalUrl,
      ),
      identity_version: IDENTITY_VERSION,
      tags: [...new Set([...keep.tags, ...drop.tags])],
      publisher_name: publisher.publisher_name,
      publisher_url: publisher.publisher_url,
      publisher_source_id: publisher.publisher_source_id,
      publisher_feed_url: publisher.publisher_feed_url,
      publisher_rank: publisher.publisher_rank,
      title: text.title,
      author: text.author,
      summary: text.summary,
      content: text.content,
      categories: text.categories,
      guid: text.guid,
      content_source_id: text.content_source_id,
      content_hash: text.content_hash,
      title_key: text.title_key,
      simhash: text.simhash,
      published_at: text.published_at,
      // Dated like the text it carries: the survivor's own unless the publisher's text came with it.
      updated_at: takeText ? latest(keep.updated_at, drop.updated_at) : keep.updated_at,
      cluster_id: clusterId,
    })
    .where('id', '=', keep.id)
    .execute();
}

function latest(...dates: Date[]): Date {
  return new Date(Math.max(...dates.map((d) => new Date(d).getTime())));
}
