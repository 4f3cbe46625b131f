import { sql } from 'kysely';
import type { NormalizedItem } from '../domain.js';
import type { Attribution } from '../ingest/attribute.js';
import type { Db } from './database.js';

// The write side of stories. Identity belongs to the database: items.identity_key is unique, so an
// insert is an upsert and two writers racing on one story end with one row. The caller owns the
// transaction (one per source's batch, so a crash mid-poll leaves nothing half-written).

export interface IncomingItem {
  readonly item: NormalizedItem;
  /** Stable public id for the story (derived from identityKey). */
  readonly storyId: string;
  readonly publisher: Attribution;
}

export interface StoreCounts {
  new: number;
  updated: number;
  unchanged: number;
}

interface ExistingRow {
  id: string;
  identity_key: string;
  content_hash: string;
  content_source_id: string;
  publisher_rank: number;
  publisher_source_id: string | null;
  publisher_name: string;
  tags: string[];
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

/**
 * Stores one poll's items for `sourceId`. Decides per story:
 * - new identity: insert (published_at falls back to first-seen when the feed gave no date);
 * - same identity, this source's version is the stored one, text changed: an edit (new updated_at);
 * - same identity, this source is the story's publisher and the stored text came from someone
 *   else (an aggregator saw it first): the publisher's own version replaces it;
 * - otherwise unchanged; the appearance is still recorded in item_sources.
 */
export async function storeItems(
  db: Db,
  source: { readonly id: string; readonly tags: readonly string[] },
  incoming: readonly IncomingItem[],
  now: Date = new Date(),
): Promise<StoreCounts> {
  const counts: StoreCounts = { new: 0, updated: 0, unchanged: 0 };
  // A feed listing one story twice (two guids, one canonical URL) is one story: the first wins.
  const seen = new Set<string>();
  const batch = incoming.filter((x) => (seen.has(x.item.identityKey) ? false : (seen.add(x.item.identityKey), true)));
  if (batch.length === 0) return counts;

  // Stories are handled in identity order, and the ones this batch already has are locked up
  // front in that order, so two polls sharing stories lock them in the same order (no deadlock)
  // and decide on the same state. Unchanged stories then cost no statement of their own.
  batch.sort((a, b) => (a.item.identityKey < b.item.identityKey ? -1 : a.item.identityKey > b.item.identityKey ? 1 : 0));
  const existing = new Map<string, ExistingRow>();
  for (const keys of chunks(batch.map((x) => x.item.identityKey), CHUNK)) {
    const rows = await db.selectFrom('items').select(EXISTING_COLUMNS).where('identity_key', 'in', keys).orderBy('identity_key').forUpdate().execute();
    for (const row of rows) existing.set(row.identity_key, row);
  }

  const appearances: { item_id: string; source_id: string; guid: string | null; link: string | null; first_seen_at: Date; last_seen_at: Date }[] = [];
  for (const x of batch) {
    const { item } = x;
    let row = existing.get(item.identityKey);
    if (!row) {
      const insertedId = await insertStory(db, source, x, now);
      if (insertedId) {
        counts.new++;
        appearances.push({ item_id: insertedId, source_id: source.id, guid: item.guid, link: item.link, first_seen_at: now, last_seen_at: now });
        continue;
      }
      // Another writer stored it since we looked: lock it and decide as for a known story.
      row = await db.selectFrom('items').select(EXISTING_COLUMNS).where('identity_key', '=', item.identityKey).forUpdate().executeTakeFirst();
      if (!row) throw new Error(`story ${item.identityKey} vanished during upsert`);
    }
    const edited = await mergeStory(db, source, x, row, now);
    if (edited) counts.updated++;
    else counts.unchanged++;
    appearances.push({ item_id: row.id, source_id: source.id, guid: item.guid, link: item.link, first_seen_at: now, last_seen_at: now });
  }

  // Every appearance of this poll in one statement per chunk.
  for (const values of chunks(appearances, CHUNK)) {
    await db
      .insertInto('item_sources')
      .values(values)
      .onConflict((oc) =>
        oc.columns(['item_id', 'source_id']).doUpdateSet((eb) => ({
          guid: eb.ref('excluded.guid'),
          link: eb.ref('excluded.link'),
          last_seen_at: eb.ref('excluded.last_seen_at'),
        })),
      )
      .execute();
  }
  return counts;
}

const CHUNK = 500;
const EXISTING_COLUMNS = [
  'id',
  'identity_key',
  'content_hash',
  'content_source_id',
  'publisher_rank',
  'publisher_source_id',
  'publisher_name',
  'tags',
] as const;

function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** Inserts a story seen for the first time; null when another writer already stored it. */
async function insertStory(db: Db, source: { readonly id: string; readonly tags: readonly string[] }, x: IncomingItem, now: Date): Promise<string | null> {
  const { item, publisher } = x;
  // The feed gave no date: the story is dated by when we first saw it.
  const publishedAt = item.publishedAt ?? item.updatedAt ?? now;
  const inserted = await db
    .insertInto('items')
    .values({
      id: x.storyId,
      identity_key: item.identityKey,
      canonical_url: item.canonicalUrl,
      title: item.title,
      author: item.author,
      summary: item.summary,
      content: item.content,
      categories: [...item.categories],
      tags: [...source.tags],
      guid: item.guid,
      publisher_name: publisher.name,
      publisher_url: publisher.url,
      publisher_source_id: publisher.sourceId,
      publisher_feed_url: publisher.feedUrl,
      publisher_rank: publisher.rank,
      content_source_id: source.id,
      content_hash: item.contentHash,
      published_at: publishedAt,
      updated_at: item.updatedAt && item.updatedAt > publishedAt ? item.updatedAt : publishedAt,
      first_seen_at: now,
    })
    .onConflict((oc) => oc.column('identity_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted?.id ?? null;
}

/** Applies another sighting of a known (locked) story; true when it was an edit of its text. */
async function mergeStory(
  db: Db,
  source: { readonly id: string; readonly tags: readonly string[] },
  x: IncomingItem,
  row: ExistingRow,
  now: Date,
): Promise<boolean> {
  const { item, publisher } = x;
  const ownVersion = row.content_source_id === source.id;
  const publisherTakesOver = publisher.rank === 3 && publisher.sourceId === source.id && !ownVersion;
  const textChanged = row.content_hash !== item.contentHash;
  const betterAttribution =
    publisher.rank > row.publisher_rank ||
    (publisher.rank === row.publisher_rank && publisher.sourceId === row.publisher_source_id && publisher.name !== row.publisher_name && ownVersion);
  const tags = union(row.tags, source.tags);
  const tagsChanged = tags.length !== row.tags.length;
  const edit = (ownVersion && textChanged) || publisherTakesOver;
  if (!edit && !betterAttribution && !tagsChanged) return false;

  await db
    .updateTable('items')
    .set({
      tags,
      ...(betterAttribution || publisherTakesOver
        ? {
            publisher_name: publisher.name,
            publisher_url: publisher.url,
            publisher_source_id: publisher.sourceId,
            publisher_feed_url: publisher.feedUrl,
            publisher_rank: publisher.rank,
          }
        : {}),
      ...(edit
        ? {
            title: item.title,
            author: item.author,
            summary: item.summary,
            content: item.content,
            categories: [...item.categories],
            guid: item.guid,
            content_source_id: source.id,
            content_hash: item.contentHash,
            // An edit is dated by the publisher when it says so, else by when we saw it.
            ...(textChanged ? { updated_at: sql<Date>`greatest(updated_at, ${item.updatedAt ?? now})` } : {}),
            // The publisher's own date is authoritative over an aggregator's.
            ...(publisherTakesOver && item.publishedAt ? { published_at: item.publishedAt } : {}),
          }
        : {}),
    })
    .where('id', '=', row.id)
    .execute();
  return edit && textChanged;
}

/**
 * Publication times of the stories a source carried recently, newest first: the posting rate an
 * adaptive interval is derived from.
 */
export async function recentPostTimes(db: Db, sourceId: string, opts: { days?: number; limit?: number } = {}): Promise<Date[]> {
  const rows = await db
    .selectFrom('items as i')
    .innerJoin('item_sources as x', 'x.item_id', 'i.id')
    .select('i.published_at')
    .where('x.source_id', '=', sourceId)
    .where('i.published_at', '>', sql<Date>`now() - make_interval(days => ${opts.days ?? 30})`)
    .orderBy('i.published_at', 'desc')
    .limit(opts.limit ?? 50)
    .execute();
  return rows.map((r) => r.published_at);
}
