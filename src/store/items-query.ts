import { sql } from 'kysely';
import type { Story } from '../domain.js';
import type { Db } from './database.js';

// The read side of stories: the river, newest first, filtered and paged. Rows become domain
// `Story` objects in one function (toStory); nothing outside store/ sees these rows.

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
  return db.selectFrom('items as i').select([
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
    // The sources a story came through, aggregated in the same query (no query per story), in the
    // order they first carried it: the first one is the feed we saw it in first.
    sql<string[]>`array(select x.source_id from item_sources x where x.item_id = i.id order by x.first_seen_at, x.source_id)`.as(
      'via',
    ),
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
  };
}

// Both drivers return timestamptz as Date; this guards against a driver configured to return text.
function toDate(v: Date | string): Date {
  return v instanceof Date ? v : new Date(v);
}

export async function listStories(db: Db, filter: StoryFilter): Promise<StoryPage> {
  let query = storiesQuery(db);
  if (filter.sources && filter.sources.length > 0) {
    const sources = [...filter.sources];
    // "via", not "published by": an aggregator's feed filter shows what that feed carried.
    query = query.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('item_sources as f')
          .select(sql`1`.as('one'))
          .whereRef('f.item_id', '=', 'i.id')
          .where('f.source_id', 'in', sources),
      ),
    );
  }
  if (filter.tags && filter.tags.length > 0) {
    // `&&` (overlap) is what the GIN index on items.tags serves. The array is built from one
    // parameter per tag so both drivers bind plain text values.
    query = query.where(sql<boolean>`i.tags && array[${sql.join(filter.tags.map((t) => sql`${t}::text`))}]`);
  }
  if (filter.q !== undefined) {
    // websearch_to_tsquery never fails on user input (unlike to_tsquery); 'english' stems both
    // sides, so "running" finds "run". Same configuration as the generated `search` column.
    query = query.where(sql<boolean>`i.search @@ websearch_to_tsquery('english'::regconfig, ${filter.q})`);
  }
  if (filter.since) query = query.where('i.published_at', '>=', filter.since);
  if (filter.until) query = query.where('i.published_at', '<', filter.until);
  if (filter.cursor) {
    // Keyset pagination: rows strictly after the last one shown in (published_at DESC, id DESC)
    // order. Unlike OFFSET, stories arriving meanwhile (newer, so before the cursor) cannot shift
    // a page, so nothing is shown twice or skipped. published_at is written from JS Dates
    // (millisecond precision), so the cursor's Date compares exactly.
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
