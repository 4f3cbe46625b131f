import { sql, type RawBuilder } from 'kysely';
import type { Story } from '../domain.js';
import type { Db } from './database.js';
import { listStories, type StoryCursor } from './items-query.js';

// The read side of the output feeds (issue #5): which entries a feed document shows, and a cheap
// "version" of them that says whether a rendered document is still current.
//
// Every feed output (the river, a named river, a per-source or per-tag feed, one of their pages or
// archives) is one page of entries: one entry per story cluster, newest first, as
// listStories({ collapseClusters: true }) lists them. pageVersion reads that page in ONE query
// returning ONE row: the entries' ids and digests of everything a rendered entry depends on (dates,
// content hash, attribution, tags, via, cluster members, content policy), computed by the
// database, with no text transferred and nothing rendered. A process holding a rendered document
// compares versions instead of listening for invalidation messages, so any number of processes
// sharing the database stay correct: what they compare is the database.
//
// The entry selection (IS_ENTRY, the cluster-wide match of sources/tags/q, the order, the keyset)
// mirrors items-query.ts listStories(collapseClusters) exactly, because the stories of a page are
// then loaded with listStories itself (one Story mapping for the whole app) and picked by the ids
// pageVersion chose. The integration tests check the two agree. exclude_publishers, which
// listStories does not know, is decided here, in SQL, once.

export interface RiverFilter {
  /** Stories that came via any of these sources (cluster-wide, as listStories). */
  readonly sources?: readonly string[];
  /** Stories carrying any of these tags (cluster-wide). */
  readonly tags?: readonly string[];
  /** Full-text query, websearch syntax (cluster-wide). */
  readonly q?: string;
  /** Entries credited to these publishers (names, case-insensitive, or source ids) are left out. */
  readonly excludePublishers?: readonly string[];
  /** Inclusive lower bound on the entry's published_at. */
  readonly since?: Date;
  /** Exclusive upper bound on the entry's published_at. */
  readonly until?: Date;
}

/** The version of one page of a feed: what its rendering depends on, read without the text. */
export interface PageVersion {
  /** The page's entries, newest first, exclusions applied. */
  readonly ids: readonly string[];
  /** Where the next page starts (the last entry shown); null on the last page. */
  readonly nextCursor: StoryCursor | null;
  /** Newest updated_at among the entries and published_at among their cluster members; null when empty. */
  readonly newest: Date | null;
  /** Digests, made by the database, of the entries' rows, via lists, cluster members and content policies. */
  readonly digest: string;
  /** With `olderThan`: the publication time of the newest entry before it (see pageVersion). */
  readonly newestBefore: Date | null;
}

/**
 * The version of one page: up to `limit` entries after `cursor` (newest first) matching `filter`.
 * Reads the items index for the page and, for its entries only, their item_sources rows, cluster
 * members and sources rows; no summaries or content. `olderThan` asks in the same query for the
 * newest entry of `olderThan.filter` published before `olderThan.before`: the day an archive link
 * points to (RFC 5005 prev-archive). Exclusions do not apply to that one: a day whose only
 * entries are excluded gives an empty archive, which is still a correct one.
 */
export async function pageVersion(
  db: Db,
  filter: RiverFilter,
  page: { readonly limit: number; readonly cursor?: StoryCursor | null },
  olderThan?: { readonly filter: RiverFilter; readonly before: Date },
): Promise<PageVersion> {
  const conditions = riverConditions(filter);
  const excluded = exclusionCondition(filter.excludePublishers);
  if (excluded) conditions.push(sql<boolean>`not ${excluded}`);
  if (page.cursor) {
    // Keyset: strictly after the last entry shown, in (published_at DESC, id DESC) order.
    conditions.push(sql<boolean>`(i.published_at, i.id) < (${page.cursor.publishedAt.toISOString()}::timestamptz, ${page.cursor.id}::text)`);
  }
  // Times travel as epoch milliseconds: the text of a timestamptz depends on the session's
  // TimeZone, and two processes must compute the same digest from the same rows.
  const ms = (expr: RawBuilder<unknown>) => sql`floor(extract(epoch from ${expr}) * 1000)::bigint`;
  const result = await sql<{
    found: number;
    ids: string[] | null;
    last_ms: number | string | null;
    last_id: string | null;
    newest_updated_ms: number | string | null;
    newest_member_ms: number | string | null;
    newest_before_ms: number | string | null;
    rows_digest: string;
    via_digest: string;
    members_digest: string;
    policies: string;
  }>`
    with page as materialized (
      select i.id, i.published_at, i.updated_at, i.cluster_id, i.content_source_id,
             json_build_array(i.id, ${ms(sql`i.updated_at`)}, i.content_hash, i.content_source_id, i.canonical_url,
                              i.publisher_name, i.publisher_url, i.publisher_source_id, i.publisher_feed_url, i.tags)::text as row_stamp
      from items i
      where ${sql.join(conditions, sql` and `)}
      order by i.published_at desc, i.id desc
      limit ${page.limit + 1}
    ),
    shown as materialized (
      select * from page order by published_at desc, id desc limit ${page.limit}
    ),
    members as materialized (
      select m.cluster_id, m.id, m.canonical_url, m.publisher_name, m.publisher_url, m.publisher_source_id,
             m.publisher_feed_url, m.published_at
      from items m
      where m.cluster_id = any(array(select cluster_id from shown where cluster_id is not null))
    ),
    last as (
      select published_at, id from shown order by published_at, id limit 1
    )
    select
      (select count(*) from page)::int as found,
      (select array_agg(id order by published_at desc, id desc) from shown) as ids,
      (select ${ms(sql`published_at`)} from last) as last_ms,
      (select id from last) as last_id,
      (select ${ms(sql`max(updated_at)`)} from shown) as newest_updated_ms,
      (select ${ms(sql`max(published_at)`)} from members) as newest_member_ms,
      (select md5(coalesce(string_agg(row_stamp, ',' order by published_at desc, id desc), '')) from shown) as rows_digest,
      (select md5(coalesce(string_agg(x.item_id || ' ' || x.source_id, ',' order by x.item_id, x.first_seen_at, x.source_id), ''))
         from item_sources x where x.item_id = any(array(select id from shown))) as via_digest,
      (select md5(coalesce(string_agg(json_build_array(cluster_id, id, canonical_url, publisher_name, publisher_url,
                                                       publisher_source_id, publisher_feed_url, ${ms(sql`published_at`)})::text,
                                      ',' order by cluster_id, published_at, id), ''))
         from members) as members_digest,
      (select coalesce(string_agg(cs.id || '=' || cs.content_policy, ',' order by cs.id), '')
         from sources cs where cs.id = any(array(select content_source_id from shown))) as policies,
      ${olderThan ? sql`(select ${ms(sql`max(i.published_at)`)} from items i where ${sql.join(riverConditions(before(olderThan.filter, olderThan.before)), sql` and `)})` : sql`null::bigint`} as newest_before_ms`.execute(db);
  const row = result.rows[0];
  if (!row) throw new Error('river-query: pageVersion returned no row');
  const newest = Math.max(Number(row.newest_updated_ms ?? -Infinity), Number(row.newest_member_ms ?? -Infinity));
  return {
    ids: row.ids ?? [],
    nextCursor:
      row.found > page.limit && row.last_id !== null && row.last_ms !== null
        ? { publishedAt: new Date(Number(row.last_ms)), id: row.last_id }
        : null,
    newest: Number.isFinite(newest) ? new Date(newest) : null,
    digest: [row.rows_digest, row.via_digest, row.members_digest, row.policies].join(' '),
    newestBefore: row.newest_before_ms === null ? null : new Date(Number(row.newest_before_ms)),
  };
}

/** The filter narrowed to entries published before `t`. */
function before(filter: RiverFilter, t: Date): RiverFilter {
  return { ...filter, until: filter.until && filter.until < t ? filter.until : t };
}

/** Pages of listStories read at most to find a page's stories (exclusions may hide many rows). */
const MAX_LOAD_ROUNDS = 50;

/**
 * The stories of a page whose version was just read, in its order. listStories does not know
 * exclusions: it is read from the same cursor, a page at a time, and the chosen ids are kept
 * (without exclusions, one query of exactly the page). A story the version chose and that is
 * gone by now is left out.
 */
export async function loadRiverPage(
  db: Db,
  filter: RiverFilter,
  version: PageVersion,
  cursor: StoryCursor | null | undefined,
): Promise<Story[]> {
  if (version.ids.length === 0) return [];
  const wanted = new Set(version.ids);
  const found = new Map<string, Story>();
  let next: StoryCursor | null = cursor ?? null;
  for (let round = 0; round < MAX_LOAD_ROUNDS && found.size < wanted.size; round++) {
    const page = await listStories(db, {
      ...(filter.sources?.length ? { sources: filter.sources } : {}),
      ...(filter.tags?.length ? { tags: filter.tags } : {}),
      ...(filter.q !== undefined ? { q: filter.q } : {}),
      ...(filter.since ? { since: filter.since } : {}),
      ...(filter.until ? { until: filter.until } : {}),
      ...(next ? { cursor: next } : {}),
      // Without exclusions the first round reads exactly the page.
      limit: round === 0 ? version.ids.length : Math.max(100, version.ids.length),
      collapseClusters: true,
    });
    for (const s of page.stories) if (wanted.has(s.id)) found.set(s.id, s);
    const last = page.stories.at(-1);
    if (!page.nextCursor || !last) break;
    next = { publishedAt: last.publishedAt, id: last.id };
  }
  return version.ids.flatMap((id) => {
    const s = found.get(id);
    return s ? [s] : [];
  });
}

// ---------------------------------------------------------------------------------------------

/**
 * Left out by exclude_publishers: the entry's publisher, by source id or by name (case-insensitive,
 * spaces around ignored). The entry's own publisher counts: it is the one the reader sees credited.
 */
function exclusionCondition(excluded: readonly string[] | undefined): RawBuilder<boolean> | null {
  if (!excluded || excluded.length === 0) return null;
  const ids = sql.join(excluded.map((x) => sql`${x}::text`));
  const names = sql.join(excluded.map((x) => sql`${x.trim().toLowerCase()}::text`));
  return sql<boolean>`(i.publisher_source_id = any(array[${ids}]) or lower(btrim(i.publisher_name)) = any(array[${names}]))`;
}

/**
 * The entry conditions of listStories({ collapseClusters: true }) plus the time window: a story
 * alone or a cluster's representative (or an orphaned member, shown rather than hidden), matching
 * sources/tags/q through ANY member of its cluster.
 */
function riverConditions(filter: RiverFilter): RawBuilder<boolean>[] {
  const conditions: RawBuilder<boolean>[] = [
    sql<boolean>`(
      i.cluster_id is null
      or i.cluster_id = i.id
      or not exists (select 1 from items r where r.id = i.cluster_id and r.cluster_id = r.id)
    )`,
  ];
  const match: RawBuilder<boolean>[] = [];
  if (filter.sources && filter.sources.length > 0) {
    match.push(sql<boolean>`exists (select 1 from item_sources f where f.item_id = m.id and f.source_id in (${sql.join([...filter.sources])}))`);
  }
  if (filter.tags && filter.tags.length > 0) {
    match.push(sql<boolean>`m.tags && array[${sql.join(filter.tags.map((tag) => sql`${tag}::text`))}]`);
  }
  if (filter.q !== undefined) {
    match.push(sql<boolean>`m.search @@ websearch_to_tsquery('english'::regconfig, ${filter.q})`);
  }
  if (match.length > 0) {
    conditions.push(sql<boolean>`exists (
      select 1 from items m
      where (m.id = i.id or (i.cluster_id = i.id and m.cluster_id = i.id))
        and ${sql.join(match, sql` and `)}
    )`);
  }
  if (filter.since) conditions.push(sql<boolean>`i.published_at >= ${filter.since.toISOString()}::timestamptz`);
  if (filter.until) conditions.push(sql<boolean>`i.published_at < ${filter.until.toISOString()}::timestamptz`);
  return conditions;
}
