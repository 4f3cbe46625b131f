import { sql } from 'kysely';
import { TributaryError } from '../errors.js';
import { canonicalHostOf, maxClusterDistance, type ClusterCandidate } from '../ingest/cluster.js';
import { isSimhash } from '../ingest/simhash.js';
import type { Db } from './database.js';

// Storage side of story clusters (issue #4). A cluster is the set of items sharing cluster_id, the
// id of its earliest member, which carries its own id too (items-query.ts picks that member as
// the cluster's representative). The decision of who joins is pure (ingest/cluster.ts); this
// module loads candidates for it and records the outcome. The caller owns the transaction.

export interface ClusterCandidateQuery {
  /** The story's publication time; candidates lie within ±windowMs of it. */
  readonly around: Date;
  readonly windowMs: number;
  /** The story's title key: every story in the window with the same key is a candidate. '' = none. */
  readonly titleKey: string;
  /** The story itself (already stored). */
  readonly excludeId: string;
  /** Bound on each of the two branches (same title; any), default 500. */
  readonly limit?: number;
  /**
   * The story's SimHash. When given, the "any story" branch keeps only stories whose SimHash lies
   * within maxDistance of it (computed in SQL), so the newest-`limit` bound is spent on stories
   * that can match rather than on the busiest hours of the window.
   */
  readonly simhash?: string;
  /** With `simhash`: the largest distance kept; default maxClusterDistance() of the default rules (16). */
  readonly maxDistance?: number;
}

const DEFAULT_LIMIT = 500;
const MAX_LIMIT = 10_000;

interface CandidateRow {
  id: string;
  cluster_id: string | null;
  title_key: string;
  simhash: string;
  published_at: Date | string;
  canonical_url: string | null;
  publisher_url: string | null;
  text_length: number;
}

/**
 * Recent stories the story might cluster with: those published within ±windowMs of `around`
 * that have a SimHash, being either (a) every one with the same title_key (bounded by limit), or
 * (b) any, newest first (bounded by limit; only the ones near `simhash` when it is given).
 * Newest first, at most 2×limit. Each branch is an index range scan that stops at its limit:
 * (a) on items_title_key_idx (title_key, published_at), (b) on items_published_idx (published_at
 * desc, id desc), filtered by SimHash distance when one is given.
 *
 * textLength approximates htmlToText(content, else summary).length: tags removed, whitespace
 * collapsed, entities left as written. canonicalHost is the canonical URL's host, else (a story
 * without a link) its publisher's.
 */
export async function findClusterCandidates(db: Db, q: ClusterCandidateQuery): Promise<ClusterCandidate[]> {
  const around = q.around.getTime();
  if (!Number.isFinite(around)) throw new RangeError('findClusterCandidates: q.around is not a valid date');
  if (!Number.isFinite(q.windowMs) || q.windowMs < 0) throw new RangeError(`findClusterCandidates: q.windowMs must be a non-negative number of ms, got ${q.windowMs}`);
  const limit = q.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new RangeError(`findClusterCandidates: q.limit must be an integer from 1 to ${MAX_LIMIT}, got ${limit}`);
  if (q.simhash !== undefined && !isSimhash(q.simhash)) throw new RangeError(`findClusterCandidates: q.simhash ${JSON.stringify(q.simhash.slice(0, 40))} is not 16 lower-case hex digits`);
  const maxDistance = q.maxDistance ?? maxClusterDistance();
  if (!Number.isInteger(maxDistance) || maxDistance < 0 || maxDistance > 64) throw new RangeError(`findClusterCandidates: q.maxDistance must be an integer from 0 to 64, got ${maxDistance}`);

  const lo = new Date(around - q.windowMs).toISOString();
  const hi = new Date(around + q.windowMs).toISOString();
  const inWindow = sql`published_at >= ${lo}::timestamptz and published_at <= ${hi}::timestamptz and id <> ${q.excludeId}::text and simhash is not null`;
  // Each branch projects its own rows, so no join back to items is needed; the text length (a
  // regexp over the stored HTML, the only costly column) is computed for the rows a branch emits,
  // at most `limit` each. UNION drops a story both branches found.
  const columns = sql`id, cluster_id, coalesce(title_key, '') as title_key, simhash, published_at, canonical_url, publisher_url,
    char_length(btrim(regexp_replace(regexp_replace(coalesce(nullif(content, ''), summary, ''),
      '<[^>]*>', ' ', 'g'), '[[:space:]]+', ' ', 'g')))::int as text_length`;
  // bit_count (PostgreSQL 14+) over the XOR of the two fingerprints read as bit(64) is their Hamming
  // distance. The CASE guards the cast: a malformed stored value is skipped, not an error.
  const near =
    q.simhash !== undefined && maxDistance < 64
      ? sql`and case when simhash ~ '^[0-9a-f]{16}$' then bit_count(('x' || simhash)::bit(64) # ('x' || ${q.simhash}::text)::bit(64)) end <= ${maxDistance}`
      : sql``;
  const anyStory = sql`select ${columns} from items where ${inWindow} ${near} order by published_at desc, id desc limit ${limit}`;
  const query = q.titleKey
    ? sql<CandidateRow>`(select ${columns} from items where title_key = ${q.titleKey}::text and ${inWindow} order by published_at desc limit ${limit})
        union (${anyStory})
        order by published_at desc, id desc`
    : sql<CandidateRow>`${anyStory}`;
  const { rows } = await query.execute(db);

  return rows.map((r) => ({
    id: r.id,
    clusterId: r.cluster_id,
    titleKey: r.title_key,
    simhash: r.simhash,
    publishedAt: r.published_at instanceof Date ? r.published_at : new Date(r.published_at),
    textLength: r.text_length,
    canonicalHost: canonicalHostOf(r.canonical_url) ?? canonicalHostOf(r.publisher_url),
  }));
}

/**
 * Puts a story into a cluster. The cluster's root (the story whose id is clusterId) gets its own
 * id too when it had no cluster yet, so every member, the earliest included, carries cluster_id.
 * Throws when the story or the root does not exist, or when the root already belongs to another
 * cluster (the caller must join that one: candidate.clusterId ?? candidate.id).
 */
export async function setCluster(db: Db, storyId: string, clusterId: string): Promise<void> {
  const rows = await db.selectFrom('items').select(['id', 'cluster_id']).where('id', 'in', [storyId, clusterId]).execute();
  const story = rows.find((r) => r.id === storyId);
  const root = rows.find((r) => r.id === clusterId);
  if (!story) throw new TributaryError('not-found', `setCluster: story ${storyId} does not exist`, { subject: storyId });
  if (!root) throw new TributaryError('not-found', `setCluster: cluster root ${clusterId} (for story ${storyId}) does not exist`, { subject: clusterId });
  if (root.cluster_id !== null && root.cluster_id !== clusterId) {
    throw new TributaryError('database', `setCluster: story ${clusterId} belongs to cluster ${root.cluster_id}; join that cluster, not ${clusterId}`, {
      subject: storyId,
    });
  }
  await db
    .updateTable('items')
    .set({ cluster_id: clusterId })
    .where((eb) => eb.or([eb('id', '=', storyId), eb.and([eb('id', '=', clusterId), eb('cluster_id', 'is', null)])]))
    .execute();
}

export interface ClusterMember {
  readonly id: string;
  readonly canonicalUrl: string | null;
  readonly publisherName: string;
  readonly publisherUrl: string | null;
  readonly publisherSourceId: string | null;
  readonly publisherFeedUrl: string | null;
  readonly publishedAt: Date;
}

/** The stories of a cluster, earliest first (published_at, then id). Empty for an unknown cluster. */
export async function clusterMembers(db: Db, clusterId: string): Promise<ClusterMember[]> {
  const rows = await db
    .selectFrom('items')
    .select(['id', 'canonical_url', 'publisher_name', 'publisher_url', 'publisher_source_id', 'publisher_feed_url', 'published_at'])
    .where('cluster_id', '=', clusterId)
    .orderBy('published_at')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    canonicalUrl: r.canonical_url,
    publisherName: r.publisher_name,
    publisherUrl: r.publisher_url,
    publisherSourceId: r.publisher_source_id,
    publisherFeedUrl: r.publisher_feed_url,
    publishedAt: r.published_at,
  }));
}
