import { sql } from 'kysely';
import type { NormalizedItem } from '../domain.js';
import { siteHost, type Attribution } from '../ingest/attribute.js';
import { decideCluster } from '../ingest/cluster.js';
import { IDENTITY_VERSION } from '../ingest/identity.js';
import { isMaterialEdit } from '../ingest/material-edit.js';
import { htmlToText } from '../ingest/sanitize-html.js';
import { findClusterCandidates, setCluster } from './clusters-repo.js';
import type { Db } from './database.js';
import { recordRevision } from './revisions-repo.js';

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
  title: string;
  summary: string | null;
  content: string | null;
  content_hash: string;
  content_source_id: string;
  publisher_rank: number;
  publisher_source_id: string | null;
  publisher_name: string;
  tags: string[];
  updated_at: Date;
}

/** How far apart two sightings of one link-less story may be dated (guids regenerated per poll). */
const LINKLESS_WINDOW_MS = 2 * 24 * 3_600_000;
/** How far apart in time the members of one story cluster may be published. */
const CLUSTER_WINDOW_MS = 48 * 3_600_000;

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
 * An edit keeps the replaced version in item_revisions when it is material (a new title, or text
 * changed beyond whitespace, markup and tracking links); a trivial change is stored silently.
 * A new story joins a cluster when the same story was published by another publisher under
 * another URL (normalised title and SimHash of the text, within 48 h: src/ingest/cluster.ts).
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
  // A batch with stories not stored yet takes the story-writers' lock first: deciding which
  // cluster a new story joins must see every story committed before it, or two papers' copies
  // of one wire story stored at the same moment by two workers would each start a cluster.
  // Batches that only see known stories (most polls) never wait for it.
  const known = new Set<string>();
  for (const keys of chunks(batch.map((x) => x.item.identityKey), CHUNK)) {
    const rows = await db.selectFrom('items').select('identity_key').where('identity_key', 'in', keys).execute();
    for (const row of rows) known.add(row.identity_key);
  }
  if (batch.some((x) => !known.has(x.item.identityKey))) {
    await sql`select pg_advisory_xact_lock(${NEW_STORIES_LOCK})`.execute(db);
  }

  const existing = new Map<string, ExistingRow>();
  for (const keys of chunks(batch.map((x) => x.item.identityKey), CHUNK)) {
    const rows = await db.selectFrom('items').select(EXISTING_COLUMNS).where('identity_key', 'in', keys).orderBy('identity_key').forUpdate().execute();
    for (const row of rows) existing.set(row.identity_key, row);
  }

  // A link-less item may be a story seen before under another guid (a publisher that regenerates
  // guids), but only when its title says who it is: not when it has none, and not when the same
  // feed lists several link-less items under one title (those are distinct items).
  const linklessTitles = new Map<string, number>();
  for (const x of batch) if (x.item.canonicalUrl === null) linklessTitles.set(x.item.titleKey, (linklessTitles.get(x.item.titleKey) ?? 0) + 1);
  const twinCandidates = new Set(
    batch
      .filter((x) => x.item.canonicalUrl === null && !UNTITLED_KEYS.has(x.item.titleKey) && linklessTitles.get(x.item.titleKey) === 1)
      .map((x) => x.item.identityKey),
  );

  const appearances: { item_id: string; source_id: string; guid: string | null; link: string | null; first_seen_at: Date; last_seen_at: Date }[] = [];
  for (const x of batch) {
    const { item } = x;
    let row = existing.get(item.identityKey) ?? (twinCandidates.has(item.identityKey) ? await findLinklessTwin(db, source.id, item, now) : undefined);
    if (!row) {
      const insertedId = await insertStory(db, source, x, now);
      if (insertedId) {
        counts.new++;
        await clusterNewStory(db, insertedId, item, now);
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

  // Every appearance of this poll in one statement per chunk; one row per story (a statement may
  // not touch a row twice), the last sighting winning.
  const byStory = new Map(appearances.map((a) => [a.item_id, a]));
  for (const values of chunks([...byStory.values()], CHUNK)) {
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
/** Title keys that say nothing about which story an item is. */
const UNTITLED_KEYS = new Set(['', 'untitled']);
/** Advisory lock key serialising batches that store new stories (see storeItems). */
const NEW_STORIES_LOCK = 727_200_002;
const EXISTING_COLUMNS = [
  'id',
  'identity_key',
  'title',
  'summary',
  'content',
  'updated_at',
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
      identity_version: IDENTITY_VERSION,
      title_key: item.titleKey,
      simhash: item.simhash,
      // Cast from text: node-postgres and PGlite serialise a jsonb parameter differently.
      enclosures: sql<string>`(${JSON.stringify(item.enclosures)}::text)::jsonb`,
      image_url: item.image,
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

  // Is this a material edit (kept as a revision, with a new updated_at) or a trivial one
  // (whitespace, markup, tracking links: stored silently)? A publisher taking over the text
  // from an aggregator is not an edit of the story.
  const material =
    ownVersion && textChanged
      ? isMaterialEdit({ title: row.title, html: row.content ?? row.summary }, { title: item.title, html: item.content ?? item.summary }).material
      : false;
  if (material) {
    await recordRevision(db, {
      itemId: row.id,
      replacedAt: now,
      title: row.title,
      summary: row.summary,
      content: row.content,
      contentHash: row.content_hash,
      sourceId: row.content_source_id,
      updatedAt: row.updated_at,
    });
  }

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
            title_key: item.titleKey,
            simhash: item.simhash,
            enclosures: sql<string>`(${JSON.stringify(item.enclosures)}::text)::jsonb`,
            image_url: item.image,
            // A material edit is dated by the publisher when it says so, else by when we saw it.
            ...(material ? { updated_at: sql<Date>`greatest(updated_at, ${item.updatedAt ?? now})` } : {}),
            // The publisher's own date is authoritative over an aggregator's.
            ...(publisherTakesOver && item.publishedAt ? { published_at: item.publishedAt } : {}),
          }
        : {}),
    })
    .where('id', '=', row.id)
    .execute();
  // The publisher's own text replacing an aggregator's copy changes the story, without being an
  // edit of it (no revision, no new updated_at).
  return material || (publisherTakesOver && textChanged);
}

/**
 * A link-less story whose publisher regenerates its guid at every poll would be a new story each
 * time: the same source's link-less story with the same normalised title, dated within two days,
 * is taken to be the same story.
 */
async function findLinklessTwin(db: Db, sourceId: string, item: NormalizedItem, now: Date): Promise<ExistingRow | undefined> {
  const around = (item.publishedAt ?? now).getTime();
  return db
    .selectFrom('items')
    .select(EXISTING_COLUMNS)
    .where('canonical_url', 'is', null)
    .where('content_source_id', '=', sourceId)
    .where('title_key', '=', item.titleKey)
    .where('published_at', '>=', new Date(around - LINKLESS_WINDOW_MS))
    .where('published_at', '<=', new Date(around + LINKLESS_WINDOW_MS))
    .orderBy('published_at', 'desc')
    .limit(1)
    .forUpdate()
    .executeTakeFirst();
}

/** Puts a story just stored into the cluster of the same story from other publishers, if any. */
async function clusterNewStory(db: Db, storyId: string, item: NormalizedItem, now: Date): Promise<void> {
  if (!item.canonicalUrl) return;
  const publishedAt = item.publishedAt ?? item.updatedAt ?? now;
  // The SimHash lets the query drop far-off texts in SQL before any are loaded.
  const candidates = await findClusterCandidates(db, {
    around: publishedAt,
    windowMs: CLUSTER_WINDOW_MS,
    titleKey: item.titleKey,
    excludeId: storyId,
    simhash: item.simhash,
  });
  if (candidates.length === 0) return;
  const decision = decideCluster(
    {
      id: storyId,
      titleKey: item.titleKey,
      simhash: item.simhash,
      publishedAt,
      textLength: htmlToText(item.content ?? item.summary ?? '').length,
      canonicalHost: siteHost(item.canonicalUrl) ?? '',
    },
    candidates,
  );
  if (!decision.clusterWith) return;
  await setCluster(db, storyId, decision.clusterWith);
  // The cluster is represented by its earliest publication: when the newcomer was published
  // before the current root, it becomes the root (the feed shows the earliest publisher's entry).
  const root = await db.selectFrom('items').select('published_at').where('id', '=', decision.clusterWith).executeTakeFirst();
  if (root && publishedAt < root.published_at) {
    await db.updateTable('items').set({ cluster_id: storyId }).where('cluster_id', '=', decision.clusterWith).execute();
  }
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
