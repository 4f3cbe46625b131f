import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { ContentPolicy, Enclosure, FetchLogEntry, SourceKind, Story, StoryRevision } from '../../src/domain.js';
import type { Database } from '../../src/store/database.js';

// Test-only builders that insert rows directly, so read-side tests (API, feeds, end-to-end) can set
// up exactly the river they need without running the ingest pipeline. Defaults are chosen so a
// test names only what it asserts on.

export interface SeedSourceInput {
  readonly id: string;
  readonly url?: string;
  readonly name?: string | null;
  readonly homepage?: string | null;
  readonly tags?: readonly string[];
  readonly everySeconds?: number;
  readonly enabled?: boolean;
  readonly active?: boolean;
  readonly feedTitle?: string | null;
  readonly lastFetchedAt?: Date | null;
  readonly lastStatus?: number | null;
  readonly lastError?: string | null;
  readonly errorCount?: number;
  readonly nextFetchAt?: Date;
  readonly nextFetchReason?: string | null;
  readonly effectiveUrl?: string | null;
  readonly goneAt?: Date | null;
  /** Politeness key; default null (no host row joins). Pair with seedHost for a paused host. */
  readonly hostKey?: string | null;
  /** feeds.yaml `content`; default the column's default (summary). */
  readonly contentPolicy?: ContentPolicy;
  readonly kind?: SourceKind;
}

/** Inserts a source; defaults: url http://<id>.test/feed.xml, name "<id> News", homepage http://<id>.test/. */
export async function seedSource(db: Kysely<Database>, input: SeedSourceInput): Promise<void> {
  await db
    .insertInto('sources')
    .values({
      id: input.id,
      url: input.url ?? `http://${input.id}.test/feed.xml`,
      name: input.name === undefined ? `${input.id} News` : input.name,
      homepage: input.homepage === undefined ? `http://${input.id}.test/` : input.homepage,
      tags: [...(input.tags ?? [])],
      every_seconds: input.everySeconds ?? 900,
      enabled: input.enabled ?? true,
      active: input.active ?? true,
      feed_title: input.feedTitle ?? null,
      last_fetched_at: input.lastFetchedAt ?? null,
      last_status: input.lastStatus ?? null,
      last_error: input.lastError ?? null,
      error_count: input.errorCount ?? 0,
      ...(input.nextFetchAt ? { next_fetch_at: input.nextFetchAt } : {}),
      next_fetch_reason: input.nextFetchReason ?? null,
      effective_url: input.effectiveUrl ?? null,
      gone_at: input.goneAt ?? null,
      host_key: input.hostKey ?? null,
      ...(input.contentPolicy ? { content_policy: input.contentPolicy } : {}),
      ...(input.kind ? { kind: input.kind } : {}),
    })
    .execute();
}

export interface SeedHostInput {
  readonly hostKey: string;
  readonly pausedUntil?: Date | null;
  readonly pauseReason?: string | null;
  readonly lastRequestAt?: Date | null;
}

/** Inserts a hosts row (the per-host politeness state shared by workers). */
export async function seedHost(db: Kysely<Database>, input: SeedHostInput): Promise<void> {
  await db
    .insertInto('hosts')
    .values({
      host_key: input.hostKey,
      paused_until: input.pausedUntil ?? null,
      pause_reason: input.pauseReason ?? null,
      last_request_at: input.lastRequestAt ?? null,
    })
    .execute();
}

export type SeedFetchLogInput = Pick<FetchLogEntry, 'sourceId' | 'startedAt'> & Partial<Omit<FetchLogEntry, 'sourceId' | 'startedAt'>>;

/**
 * Inserts fetch_log rows in the order given (so ids rise in that order); defaults describe a
 * successful poll of http://<source>.test/feed.xml that found nothing new.
 */
export async function seedFetchLog(db: Kysely<Database>, entries: readonly SeedFetchLogInput[]): Promise<void> {
  for (const e of entries) {
    await db
      .insertInto('fetch_log')
      .values({
        source_id: e.sourceId,
        started_at: e.startedAt,
        url: e.url ?? `http://${e.sourceId}.test/feed.xml`,
        outcome: e.outcome ?? 'not-modified',
        status: e.status === undefined ? 304 : e.status,
        bytes: e.bytes === undefined ? null : e.bytes,
        duration_ms: e.durationMs ?? 12,
        items_new: e.itemsNew ?? 0,
        items_updated: e.itemsUpdated ?? 0,
        items_unchanged: e.itemsUnchanged ?? 0,
        error: e.error ?? null,
      })
      .execute();
  }
}

export interface SeedStoryInput {
  /** Source ids whose feeds carried the story, in the order they first did. The first one's version is stored. */
  readonly via: readonly string[];
  readonly id?: string;
  readonly title?: string;
  /** Canonical URL; default http://<publisher source>.test/<id>. */
  readonly url?: string | null;
  /** Default: the first `via` source, named as that source is. */
  readonly publisher?: {
    readonly name?: string;
    readonly url?: string | null;
    readonly sourceId?: string | null;
    readonly feedUrl?: string | null;
  };
  readonly author?: string | null;
  readonly publishedAt?: Date;
  /** Default: publishedAt. */
  readonly updatedAt?: Date;
  readonly summary?: string | null;
  readonly content?: string | null;
  /** Default: the union of the `via` sources' tags, as ingest stores them. */
  readonly tags?: readonly string[];
  readonly categories?: readonly string[];
  readonly guid?: string | null;
  /** When the first source carried it; the others follow a second apart. Default: publishedAt. */
  readonly firstSeenAt?: Date;
  /**
   * items.cluster_id: the id of the cluster's earliest member, set on every member including that
   * one, as the write side does. Default null (a story alone).
   */
  readonly clusterId?: string | null;
  /** items.enclosures; default none. */
  readonly enclosures?: readonly Enclosure[];
  /** items.image_url; default null. */
  readonly image?: string | null;
}

let counter = 0;

/**
 * Inserts a story and its item_sources rows; returns the Story the read side should give back.
 * Its text comes from the first `via` source, so that source's content policy is the story's.
 * alsoPublishedBy is returned empty: other members may be seeded later, so a test asserting on
 * a cluster reads the members back (or builds them with asMember).
 */
export async function seedStory(db: Kysely<Database>, input: SeedStoryInput): Promise<Story> {
  if (input.via.length === 0) throw new Error('seedStory: a story needs at least one source in `via`');
  counter += 1;
  const id = input.id ?? `story-${counter}`;
  const sources = await db
    .selectFrom('sources')
    .select(['id', 'name', 'homepage', 'url', 'tags', 'content_policy'])
    .where('id', 'in', [...input.via])
    .execute();
  const first = sources.find((s) => s.id === input.via[0]);
  if (!first) throw new Error(`seedStory: seed source ${input.via[0]} first`);
  const publishedAt = input.publishedAt ?? new Date(Date.UTC(2024, 0, 1) + counter * 60_000);
  const updatedAt = input.updatedAt ?? publishedAt;
  const publisher = {
    name: input.publisher?.name ?? first.name ?? first.id,
    url: input.publisher?.url === undefined ? first.homepage : input.publisher.url,
    sourceId: input.publisher?.sourceId === undefined ? first.id : input.publisher.sourceId,
    feedUrl: input.publisher?.feedUrl === undefined ? first.url : input.publisher.feedUrl,
  };
  const url = input.url === undefined ? `http://${publisher.sourceId ?? first.id}.test/${id}` : input.url;
  const tags = input.tags ? [...input.tags] : [...new Set(sources.flatMap((s) => s.tags))].sort();
  const title = input.title ?? `Story ${id}`;
  const summary = input.summary === undefined ? `<p>Summary of ${title}</p>` : input.summary;
  const content = input.content ?? null;
  const guid = input.guid === undefined ? `guid-${id}` : input.guid;

  await db
    .insertInto('items')
    .values({
      id,
      identity_key: url ? `url:${url}` : `guid:${first.id}:${guid ?? id}`,
      canonical_url: url,
      title,
      author: input.author ?? null,
      summary,
      content,
      categories: [...(input.categories ?? [])],
      tags,
      guid,
      publisher_name: publisher.name,
      publisher_url: publisher.url,
      publisher_source_id: publisher.sourceId,
      publisher_feed_url: publisher.feedUrl,
      content_source_id: first.id,
      content_hash: createHash('sha256').update(`${title}\n${summary ?? ''}\n${content ?? ''}`).digest('hex'),
      published_at: publishedAt,
      updated_at: updatedAt,
      cluster_id: input.clusterId ?? null,
      // jsonb written from text: node-postgres and PGlite serialise a JS value differently.
      enclosures: sql<string>`(${JSON.stringify(input.enclosures ?? [])}::text)::jsonb`,
      image_url: input.image ?? null,
    })
    .execute();
  const seenAt = (input.firstSeenAt ?? publishedAt).getTime();
  await db
    .insertInto('item_sources')
    .values(
      input.via.map((sourceId, i) => ({
        item_id: id,
        source_id: sourceId,
        guid,
        link: url,
        first_seen_at: new Date(seenAt + i * 1000),
        last_seen_at: new Date(seenAt + i * 1000),
      })),
    )
    .execute();

  return {
    id,
    title,
    url,
    publisher,
    via: [...input.via],
    author: input.author ?? null,
    publishedAt,
    updatedAt,
    summary,
    content,
    tags,
    categories: [...(input.categories ?? [])],
    guid,
    clusterId: input.clusterId ?? null,
    alsoPublishedBy: [],
    contentPolicy: first.content_policy,
    enclosures: (input.enclosures ?? []).map((e) => ({ ...e })),
    image: input.image ?? null,
  };
}

/** A seeded story as another member's alsoPublishedBy lists it. */
export function asMember(s: Story): Story['alsoPublishedBy'][number] {
  return { storyId: s.id, url: s.url, publisher: s.publisher, publishedAt: s.publishedAt };
}

export interface SeedRevisionInput {
  readonly itemId: string;
  readonly replacedAt: Date;
  readonly title: string;
  readonly summary?: string | null;
  readonly content?: string | null;
  /** Default: replacedAt. */
  readonly updatedAt?: Date;
  /** Default null. */
  readonly sourceId?: string | null;
}

/** Inserts an item_revisions row (an earlier version of a story); returns it as the read side gives it back. */
export async function seedRevision(db: Kysely<Database>, input: SeedRevisionInput): Promise<StoryRevision> {
  const summary = input.summary ?? null;
  const content = input.content ?? null;
  const updatedAt = input.updatedAt ?? input.replacedAt;
  await db
    .insertInto('item_revisions')
    .values({
      item_id: input.itemId,
      replaced_at: input.replacedAt,
      title: input.title,
      summary,
      content,
      content_hash: createHash('sha256').update(`${input.title}\n${summary ?? ''}\n${content ?? ''}`).digest('hex'),
      source_id: input.sourceId ?? null,
      updated_at: updatedAt,
    })
    .execute();
  return { replacedAt: input.replacedAt, title: input.title, summary, content, updatedAt, sourceId: input.sourceId ?? null };
}

/** Empties the tables the read side looks at (between tests sharing one database). */
export async function resetRiver(db: Kysely<Database>): Promise<void> {
  // fetch_log references sources; hosts and host_slots stand alone but carry state between tests.
  await db.deleteFrom('fetch_log').execute();
  await db.deleteFrom('host_slots').execute();
  await db.deleteFrom('item_revisions').execute();
  await db.deleteFrom('hosts').execute();
  await db.deleteFrom('item_sources').execute();
  await db.deleteFrom('items').execute();
  await db.deleteFrom('sources').execute();
}
