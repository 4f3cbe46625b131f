import { sql, type RawBuilder } from 'kysely';
import type { AlsoPublished, ContentPolicy, Enclosure, Story } from '../domain.js';
import type { Db } from './database.js';

// The read side of stories: the river, newest first, filtered and paged. Rows become domain
// `Story` objects in one function (toStory); nothing outside store/ sees these rows.
//
// Story clusters (one story carried by several publishers under different URLs, issue #4): the
// write side sets items.cluster_id to the id of the cluster's earliest member, on every member
// including that one; a story alone has cluster_id null. Each story is read with its cluster's
// other members (alsoPublishedBy), aggregated in the same query. With `collapseClusters` a
// cluster is one entry: its representative, the member whose id is the cluster_id.

export interface StoryCursor {
  readonly publishedAt: Date;
  readonly id: string;
}

export interface StoryFilter {
  /** Stories that came via any of these sources (item_sources), not only the ones they published. */
  readonly sources?: readonly string[];
  /** Stories carrying any of these tags. */
  readonly tags?: readonly string[];
  /** PostgreSQL full-text search (websearch syntax: quotes, `or`, `-word`). */
  readonly q?: string;
  /** Inclusive lower bound on published_at. */
  readonly since?: Date;
  /** Exclusive upper bound on published_at. */
  readonly until?: Date;
  readonly limit: number;
  /** Continue after this story (the last one of the previous page). */
  readonly cursor?: StoryCursor | null;
  /**
   * One entry per story cluster (the merged feeds; /api/items?collapse=true): only the cluster's
   * representative is listed, carrying the other members in alsoPublishedBy. Ordering, paging and
   * since/until go by the representative's published_at. `sources`, `tags` and `q` match the
   * cluster as a whole: the entry is shown when ANY member matches. A cluster is one story, and
   * the question a filter asks is "did this story come through source X / concern tag Y / use
   * word Z": if only the representative counted, a feed of ?source=agg would silently lose every
   * story the aggregator carried second (its copy is collapsed under the earlier publisher's).
   */
  readonly collapseClusters?: boolean;
}

export interface StoryPage {
  readonly stories: Story[];
  /** Cursor of the next page, null on the last page. */
  readonly nextCursor: string | null;
}

// A cursor is the (published_at, id) of the last story shown, as base64url JSON. It is opaque to
// clients (they must not build one) but not secret: it names nothing they could not see anyway.
export function encodeCursor(c: StoryCursor): string {
  return Buffer.from(JSON.stringify([c.publishedAt.toISOString(), c.id]), 'utf8').toString('base64url');
}

/** The cursor, or null when `s` is not one we made (garbage, truncated, tampered). */
export function decodeCursor(s: string): StoryCursor | null {
  if (s.length === 0 || s.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(s)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) return null;
  const [at, id] = parsed as unknown[];
  if (typeof at !== 'string' || typeof id !== 'string' || id.length === 0) return null;
  const publishedAt = new Date(at);
  // Only the exact form encodeCursor writes: rejects "2024" and other loosely parsed dates.
  if (Number.isNaN(publishedAt.getTime()) || publishedAt.toISOString() !== at) return null;
  return { publishedAt, id };
}

function storiesQuery(db: Db) {
  return db
    .selectFrom('items as i')
    // content_source_id is NOT NULL and references sources: an inner join loses no story.
    .innerJoin('sources as cs', 'cs.id', 'i.content_source_id')
    .select([
      'i.id',
      'i.title',
      'i.canonical_url',
      'i.publisher_name',
      'i.publisher_url',
      'i.publisher_source_id',
      'i.publisher_feed_url',
      'i.author',
      'i.published_at',
      'i.updated_at',
      'i.summary',
      'i.content',
      'i.tags',
      'i.categories',
      'i.guid',
      'i.cluster_id',
      'i.enclosures',
      'i.image_url',
      // The policy of the source whose version of the text is stored: it decides what may be
      // republished of that text.
      'cs.content_policy',
      // The sources a story came through, aggregated in the same query (no query per story), in the
      // order they first carried it: the first one is the feed we saw it in first.
      sql<string[]>`array(select x.source_id from item_sources x where x.item_id = i.id order by x.first_seen_at, x.source_id)`.as(
        'via',
      ),
      // The cluster's other members, earliest first, also in the same query. With cluster_id null
      // the comparison is never true, so a story alone gets []. Times travel as epoch milliseconds
      // (bigint -> JSON number): the text form of a timestamptz in JSON depends on the session's
      // TimeZone, a number does not.
      sql<unknown>`coalesce((
        select json_agg(json_build_object(
                 'id', m.id,
                 'url', m.canonical_url,
                 'name', m.publisher_name,
                 'publisher_url', m.publisher_url,
                 'source_id', m.publisher_source_id,
                 'feed_url', m.publisher_feed_url,
                 'published_ms', floor(extract(epoch from m.published_at) * 1000)::bigint
               ) order by m.published_at, m.id)
        from items m
        where m.cluster_id = i.cluster_id and m.id <> i.id
      ), '[]'::json)`.as('also_published_by'),
    ]);
}

type StoryRow = Awaited<ReturnType<ReturnType<typeof storiesQuery>['executeTakeFirstOrThrow']>>;

/** The one place a row becomes a Story. */
function toStory(row: StoryRow): Story {
  return {
    id: row.id,
    title: row.title,
    url: row.canonical_url,
    publisher: {
      name: row.publisher_name,
      url: row.publisher_url,
      sourceId: row.publisher_source_id,
      feedUrl: row.publisher_feed_url,
    },
    via: row.via,
    author: row.author,
    publishedAt: toDate(row.published_at),
    updatedAt: toDate(row.updated_at),
    summary: row.summary,
    content: row.content,
    tags: row.tags,
    categories: row.categories,
    guid: row.guid,
    clusterId: row.cluster_id,
    alsoPublishedBy: toAlsoPublished(row.also_published_by, row.id),
    contentPolicy: toContentPolicy(row.content_policy),
    enclosures: toEnclosures(row.enclosures, row.id),
    image: row.image_url,
  };
}

/**
 * items.enclosures (jsonb, written by items-repo from NormalizedItem.enclosures): an array of
 * {url, type, length}. Both drivers parse jsonb; text is accepted too. An entry of another shape
 * is dropped rather than failing the whole river over one story's attachment.
 */
function toEnclosures(value: unknown, storyId: string): Enclosure[] {
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  if (parsed === null || parsed === undefined) return [];
  if (!Array.isArray(parsed)) throw new Error(`items-query: enclosures of story ${storyId} are not a JSON array`);
  return parsed.flatMap((e: unknown): Enclosure[] => {
    if (typeof e !== 'object' || e === null) return [];
    const { url, type, length } = e as Record<string, unknown>;
    if (typeof url !== 'string' || url === '') return [];
    return [{ url, type: typeof type === 'string' ? type : null, length: typeof length === 'number' && Number.isFinite(length) ? length : null }];
  });
}

interface MemberRow {
  id: string;
  url: string | null;
  name: string;
  publisher_url: string | null;
  source_id: string | null;
  feed_url: string | null;
  published_ms: number | string;
}

function toAlsoPublished(value: unknown, storyId: string): AlsoPublished[] {
  // Both drivers parse json columns; text is accepted too in case a driver is configured not to.
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  if (!Array.isArray(parsed)) throw new Error(`items-query: cluster members of story ${storyId} are not a JSON array`);
  return (parsed as MemberRow[]).map((m) => ({
    storyId: m.id,
    url: m.url,
    publisher: { name: m.name, url: m.publisher_url, sourceId: m.source_id, feedUrl: m.feed_url },
    publishedAt: new Date(Number(m.published_ms)),
  }));
}

// The column's CHECK constraint allows only these; anything else would be a schema drift, and the
// strictest reading (no text) is the safe one to fall back to.
function toContentPolicy(value: string): ContentPolicy {
  return value === 'full' || value === 'summary' || value === 'none' ? value : 'none';
}

// Both drivers return timestamptz as Date; this guards against a driver configured to return text.
function toDate(v: Date | string): Date {
  return v instanceof Date ? v : new Date(v);
}

/**
 * The conditions of `sources`, `tags` and `q` on the items row aliased `t` (the story itself, or a
 * member of its cluster when collapsing).
 */
function matchConditions(filter: StoryFilter, t: 'i' | 'm'): RawBuilder<boolean>[] {
  const col = (name: string) => sql.ref(`${t}.${name}`);
  const conditions: RawBuilder<boolean>[] = [];
  if (filter.sources && filter.sources.length > 0) {
    // "via", not "published by": an aggregator's feed filter shows what that feed carried.
    conditions.push(
      sql<boolean>`exists (select 1 from item_sources f where f.item_id = ${col('id')} and f.source_id in (${sql.join([...filter.sources])}))`,
    );
  }
  if (filter.tags && filter.tags.length > 0) {
    // `&&` (overlap) is what the GIN index on items.tags serves. The array is built from one
    // parameter per tag so both drivers bind plain text values.
    conditions.push(sql<boolean>`${col('tags')} && array[${sql.join(filter.tags.map((tag) => sql`${tag}::text`))}]`);
  }
  if (filter.q !== undefined) {
    // websearch_to_tsquery never fails on user input (unlike to_tsquery); 'english' stems both
    // sides, so "running" finds "run". Same configuration as the generated `search` column.
    conditions.push(sql<boolean>`${col('search')} @@ websearch_to_tsquery('english'::regconfig, ${filter.q})`);
  }
  return conditions;
}

/**
 * True for the one row that stands for its cluster: a story alone, a cluster's representative
 * (id = cluster_id), and, so that no story is ever hidden by an inconsistent cluster, a member
 * whose cluster_id names no representative (that row is missing or now belongs elsewhere): such
 * members are shown each on its own rather than not at all.
 */
const IS_ENTRY = sql<boolean>`(
  i.cluster_id is null
  or i.cluster_id = i.id
  or not exists (select 1 from items r where r.id = i.cluster_id and r.cluster_id = r.id)
)`;

export async function listStories(db: Db, filter: StoryFilter): Promise<StoryPage> {
  let query = storiesQuery(db);
  if (filter.collapseClusters) {
    query = query.where(IS_ENTRY);
    const conditions = matchConditions(filter, 'm');
    if (conditions.length > 0) {
      // The entry's members: itself and, for a representative, every row naming it as cluster.
      query = query.where(
        sql<boolean>`exists (
          select 1 from items m
          where (m.id = i.id or (i.cluster_id = i.id and m.cluster_id = i.id))
            and ${sql.join(conditions, sql` and `)}
        )`,
      );
    }
  } else {
    for (const condition of matchConditions(filter, 'i')) query = query.where(condition);
  }
  if (filter.since) query = query.where('i.published_at', '>=', filter.since);
  if (filter.until) query = query.where('i.published_at', '<', filter.until);
  if (filter.cursor) {
    // Keyset pagination: rows strictly after the last one shown in (published_at DESC, id DESC)
    // order. Unlike OFFSET, stories arriving meanwhile (newer, so before the cursor) cannot shift
    // a page, so nothing is shown twice or skipped. published_at is written from JS Dates
    // (millisecond precision), so the cursor's Date compares exactly. Collapsed pages are the same
    // order restricted to entries, so the same cursor works there.
    const { publishedAt, id } = filter.cursor;
    query = query.where(sql<boolean>`(i.published_at, i.id) < (${publishedAt.toISOString()}::timestamptz, ${id}::text)`);
  }
  // One row more than asked tells whether there is a next page without counting.
  const rows = await query
    .orderBy('i.published_at', 'desc')
    .orderBy('i.id', 'desc')
    .limit(filter.limit + 1)
    .execute();
  const stories = rows.slice(0, filter.limit).map(toStory);
  const last = stories.at(-1);
  const nextCursor =
    rows.length > filter.limit && last ? encodeCursor({ publishedAt: last.publishedAt, id: last.id }) : null;
  return { stories, nextCursor };
}

export async function getStory(db: Db, id: string): Promise<Story | null> {
  const row = await storiesQuery(db).where('i.id', '=', id).executeTakeFirst();
  return row ? toStory(row) : null;
}
