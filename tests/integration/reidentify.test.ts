import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { IDENTITY_VERSION } from '../../src/ingest/identity.js';
import { IDENTITY_META_KEY, reidentify } from '../../src/store/reidentify.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

// Re-identification of stories stored under identity rules v1 (issue #2) by the v2 rules (issue
// #4). Runs on PGlite, and on PostgreSQL when DATABASE_URL is set. Rows are inserted directly, as
// an older release left them: v1 keys ('url:' + canonical URL), identity_version 1.

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.close();
});

const at = (hhmm: string): Date => new Date(`2026-11-29T${hhmm}:00Z`);

interface Via {
  readonly source: string;
  readonly first: string;
  readonly last?: string;
  readonly link?: string;
  readonly guid?: string;
}

interface SeedRow {
  readonly id: string;
  readonly key: string;
  /** Default: the URL in a 'url:' key, else null. */
  readonly canonical?: string | null;
  readonly version?: number;
  readonly firstSeen: string;
  readonly via: readonly Via[];
  readonly tags?: readonly string[];
  /** Publisher attribution: a source id (rank 3) or, absent, the first via source (rank 1). */
  readonly publisher?: string;
  readonly contentSource?: string;
  readonly title?: string;
  readonly publishedAt?: string;
  readonly clusterId?: string | null;
}

async function seed(rows: readonly SeedRow[]): Promise<void> {
  for (const r of rows) {
    const first = r.via[0]?.source ?? 'pub';
    const publisher = r.publisher ?? first;
    await t.db
      .insertInto('items')
      .values({
        id: r.id,
        identity_key: r.key,
        canonical_url: r.canonical === undefined ? (r.key.startsWith('url:') ? r.key.slice(4) : null) : r.canonical,
        identity_version: r.version ?? 1,
        title: r.title ?? `Story ${r.id}`,
        author: null,
        summary: `<p>${r.id}</p>`,
        content: null,
        tags: [...(r.tags ?? [])],
        guid: `guid-${r.id}`,
        publisher_name: publisher.toUpperCase(),
        publisher_url: `https://${publisher}.example/`,
        publisher_source_id: publisher,
        publisher_feed_url: `https://${publisher}.example/feed`,
        publisher_rank: r.publisher ? 3 : 1,
        content_source_id: r.contentSource ?? first,
        content_hash: `h-${r.id}`,
        published_at: at(r.publishedAt ?? r.firstSeen),
        updated_at: at(r.publishedAt ?? r.firstSeen),
        first_seen_at: at(r.firstSeen),
        cluster_id: r.clusterId ?? null,
      })
      .execute();
    for (const v of r.via) {
      await t.db
        .insertInto('item_sources')
        .values({
          item_id: r.id,
          source_id: v.source,
          guid: v.guid ?? `guid-${r.id}`,
          link: v.link ?? `https://${v.source}.example/r/${r.id}`,
          first_seen_at: at(v.first),
          last_seen_at: at(v.last ?? v.first),
        })
        .execute();
    }
  }
}

interface ItemSnapshot {
  id: string;
  identity_key: string;
  canonical_url: string | null;
  identity_version: number;
  title: string;
  tags: string[];
  publisher_name: string;
  publisher_source_id: string | null;
  publisher_rank: number;
  content_source_id: string;
  published_at: Date;
  updated_at: Date;
  first_seen_at: Date;
  cluster_id: string | null;
}

async function items(): Promise<Map<string, ItemSnapshot>> {
  const rows = await t.db
    .selectFrom('items')
    .select([
      'id',
      'identity_key',
      'canonical_url',
      'identity_version',
      'title',
      'tags',
      'publisher_name',
      'publisher_source_id',
      'publisher_rank',
      'content_source_id',
      'published_at',
      'updated_at',
      'first_seen_at',
      'cluster_id',
    ])
    .orderBy('id')
    .execute();
  return new Map(rows.map((r) => [r.id, r]));
}

async function appearances(): Promise<{ item_id: string; source_id: string; guid: string | null; link: string | null; first_seen_at: Date; last_seen_at: Date }[]> {
  return t.db.selectFrom('item_sources').selectAll().orderBy('item_id').orderBy('source_id').execute();
}

async function metaVersion(): Promise<string | null> {
  const row = await t.db.selectFrom('meta').select('value').where('key', '=', IDENTITY_META_KEY).executeTakeFirst();
  return row?.value ?? null;
}

beforeEach(async () => {
  await t.db.deleteFrom('item_revisions').execute();
  await t.db.deleteFrom('item_sources').execute();
  await t.db.deleteFrom('items').execute();
  await t.db.deleteFrom('sources').execute();
  await t.db.deleteFrom('meta').execute();
  await t.db
    .insertInto('sources')
    .values(['pub', 'agg', 'wire', 'other'].map((id) => ({ id, url: `https://${id}.example/feed`, name: null, homepage: null, every_seconds: 900 })))
    .execute();
});

/**
 * The river an older release left: four groups of stories the v2 rules fold into one each, and
 * stories that stay alone. In each group the earliest-seen story has an id that does not sort first,
 * so "earliest" cannot be confused with "smallest id".
 */
const V1_RIVER: readonly SeedRow[] = [
  // G1 http vs https: the earlier one is http and carries the publisher; the later one is already
  // in v2 form (but stored by v1). Another story is clustered under the later one's id.
  { id: 'g1b', key: 'url:http://x.example/a', firstSeen: '10:00', via: [{ source: 'pub', first: '10:00', last: '10:20' }], tags: ['news'], publisher: 'pub' },
  { id: 'g1a', key: 'url:https://x.example/a', firstSeen: '10:05', via: [{ source: 'agg', first: '10:05', last: '10:30' }], tags: ['agg'], clusterId: 'g1a' },
  { id: 'c1', key: 'url:https://cm.example/1', version: 2, firstSeen: '10:10', via: [{ source: 'wire', first: '10:10' }], clusterId: 'g1a' },
  // G2 www vs bare: the earlier one came through the aggregator; the later one is the publisher's own
  // (better attribution, its text wins), and both came through the aggregator (one via row).
  {
    id: 'g2z',
    key: 'url:https://www.y.example/b',
    firstSeen: '09:00',
    via: [
      { source: 'agg', first: '09:00', last: '09:10', link: 'https://agg.example/old', guid: 'agg-old' },
      { source: 'wire', first: '09:30', last: '09:40' },
    ],
    tags: ['agg'],
    publishedAt: '08:55',
  },
  {
    id: 'g2a',
    key: 'url:https://y.example/b',
    firstSeen: '09:20',
    via: [
      { source: 'agg', first: '09:20', last: '11:00', link: 'https://agg.example/new', guid: 'agg-new' },
      { source: 'pub', first: '09:20', last: '09:50' },
    ],
    tags: ['news', 'agg'],
    publisher: 'pub',
    contentSource: 'pub',
    title: 'Publisher title',
    publishedAt: '08:30',
  },
  // G3 AMP vs plain: the plain story is already at v2 and earlier; the AMP copy merges into it.
  { id: 'g3z', key: 'url:https://z.example/2026/story', version: 2, firstSeen: '08:00', via: [{ source: 'pub', first: '08:00' }], publisher: 'pub' },
  { id: 'g3a', key: 'url:https://z.example/2026/story/amp/', firstSeen: '12:00', via: [{ source: 'agg', first: '12:00' }] },
  // G4 trailing slash, www + http, amp. host: three spellings, none of them the v2 key.
  { id: 'g4z', key: 'url:https://w.example/c/', firstSeen: '07:00', via: [{ source: 'wire', first: '07:00' }] },
  { id: 'g4a', key: 'url:http://www.w.example/c', firstSeen: '07:30', via: [{ source: 'pub', first: '07:30' }] },
  { id: 'g4m', key: 'url:https://amp.w.example/c', firstSeen: '07:15', via: [{ source: 'agg', first: '07:15' }, { source: 'wire', first: '07:20' }] },
  // Alone: a v2-form key, a guid key, a key that changes without a merge.
  { id: 'u1', key: 'url:https://solo.example/s', firstSeen: '06:00', via: [{ source: 'pub', first: '06:00' }] },
  { id: 'u2', key: 'guid:pub:tag:pub.example,2026:1', canonical: null, firstSeen: '06:01', via: [{ source: 'pub', first: '06:01' }] },
  { id: 'u3', key: 'url:http://solo.example/t', firstSeen: '06:02', via: [{ source: 'other', first: '06:02' }] },
  // Already at v2: never recomputed, even though the v2 rules would fold its key.
  { id: 'v2keep', key: 'url:http://old.example/q', version: 2, firstSeen: '05:00', via: [{ source: 'other', first: '05:00' }] },
];

/** Stories of the v1 river stored with identity_version 1. */
const V1_COUNT = V1_RIVER.filter((r) => (r.version ?? 1) === 1).length;

describe.each([
  { name: 'one batch', batchSize: 500 },
  { name: 'batches of 2', batchSize: 2 },
  { name: 'batches of 1', batchSize: 1 },
])('reidentify v1 -> v2 ($name)', ({ batchSize }) => {
  beforeEach(async () => {
    await seed(V1_RIVER);
    await t.db
      .insertInto('item_revisions')
      .values({ item_id: 'g2a', replaced_at: at('09:45'), title: 'Old publisher title', summary: null, content: null, content_hash: 'h-old', source_id: 'pub', updated_at: at('08:30') })
      .execute();
  });

  it('returns the counts: every v1 story scanned, the merged ones and the surviving re-keyed ones', async () => {
    expect(V1_COUNT).toBe(11);
    // merged: g1a, g2a, g3a, g4a, g4m; rekeyed (surviving, key changed): g1b, g2z, g4z, u3.
    expect(await reidentify(t.db, { batchSize })).toEqual({ scanned: 11, rekeyed: 4, merged: 5 });
  });

  it('leaves one story per identity, each under the id of its earliest-seen member', async () => {
    await reidentify(t.db, { batchSize });
    const after = await items();
    expect([...after.keys()].sort()).toEqual(['c1', 'g1b', 'g2z', 'g3z', 'g4z', 'u1', 'u2', 'u3', 'v2keep']);
    expect(Object.fromEntries([...after.values()].map((r) => [r.id, r.identity_key]))).toEqual({
      c1: 'url:https://cm.example/1',
      g1b: 'url:https://x.example/a',
      g2z: 'url:https://y.example/b',
      g3z: 'url:https://z.example/2026/story',
      g4z: 'url:https://w.example/c',
      u1: 'url:https://solo.example/s',
      u2: 'guid:pub:tag:pub.example,2026:1',
      u3: 'url:https://solo.example/t',
      v2keep: 'url:http://old.example/q',
    });
    for (const r of after.values()) expect(r.identity_version, r.id).toBe(IDENTITY_VERSION);
    expect(await metaVersion()).toBe(String(IDENTITY_VERSION));
  });

  it('keeps every via row, once, merging the times of a source both stories came through', async () => {
    await reidentify(t.db, { batchSize });
    const rows = await appearances();
    const pairs = rows.map((r) => `${r.item_id}<-${r.source_id}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    expect(pairs).toEqual([
      'c1<-wire',
      'g1b<-agg',
      'g1b<-pub',
      'g2z<-agg',
      'g2z<-pub',
      'g2z<-wire',
      'g3z<-agg',
      'g3z<-pub',
      'g4z<-agg',
      'g4z<-pub',
      'g4z<-wire',
      'u1<-pub',
      'u2<-pub',
      'u3<-other',
      'v2keep<-other',
    ]);
    // g2: the aggregator carried both spellings: first seen at the earlier, last at the later, and
    // the guid and link of the latest sighting.
    const agg = rows.find((r) => r.item_id === 'g2z' && r.source_id === 'agg');
    expect(agg).toMatchObject({ first_seen_at: at('09:00'), last_seen_at: at('11:00'), link: 'https://agg.example/new', guid: 'agg-new' });
    // g4: wire carried two spellings (07:00 and 07:20): the earliest first sighting is kept.
    expect(rows.find((r) => r.item_id === 'g4z' && r.source_id === 'wire')).toMatchObject({ first_seen_at: at('07:00'), last_seen_at: at('07:20') });
    // A source that carried only the merged-away story keeps its own times.
    expect(rows.find((r) => r.item_id === 'g1b' && r.source_id === 'agg')).toMatchObject({ first_seen_at: at('10:05'), last_seen_at: at('10:30') });
  });

  it('unites tags, keeps the better attribution and the publisher\'s own text, moves revisions and cluster members', async () => {
    await reidentify(t.db, { batchSize });
    const after = await items();
    // g1: the survivor is the publisher's; the https spelling is the one linked to.
    expect(after.get('g1b')).toMatchObject({ tags: ['news', 'agg'], publisher_source_id: 'pub', publisher_rank: 3, canonical_url: 'https://x.example/a', first_seen_at: at('10:00') });
    // g2: the later, publisher-attributed story brings its attribution, text and publication date.
    expect(after.get('g2z')).toMatchObject({
      tags: ['agg', 'news'],
      publisher_name: 'PUB',
      publisher_source_id: 'pub',
      publisher_rank: 3,
      content_source_id: 'pub',
      title: 'Publisher title',
      published_at: at('08:30'),
      first_seen_at: at('09:00'),
      canonical_url: 'https://www.y.example/b',
    });
    const revisions = await t.db.selectFrom('item_revisions').select(['item_id', 'title']).execute();
    expect(revisions).toEqual([{ item_id: 'g2z', title: 'Old publisher title' }]);
    // g3: the AMP copy's aggregator joins the plain story, which keeps its publisher.
    expect(after.get('g3z')).toMatchObject({ publisher_source_id: 'pub', publisher_rank: 3, canonical_url: 'https://z.example/2026/story' });
    // g4: the survivor keeps its own (https) display URL and its aggregator-free attribution.
    expect(after.get('g4z')).toMatchObject({ canonical_url: 'https://w.example/c/', content_source_id: 'wire' });
    // The cluster named after the merged-away g1a now carries the survivor's id.
    expect(after.get('c1')?.cluster_id).toBe('g1b');
    expect(after.get('g1b')?.cluster_id).toBe('g1b');
  });

  it('changes nothing on a second run', async () => {
    await reidentify(t.db, { batchSize });
    const items1 = await items();
    const via1 = await appearances();
    expect(await reidentify(t.db, { batchSize })).toEqual({ scanned: 0, rekeyed: 0, merged: 0 });
    expect(await items()).toEqual(items1);
    expect(await appearances()).toEqual(via1);
  });

  it('leaves stories already at v2 untouched (not recomputed, not merged)', async () => {
    const before = await items();
    const viaBefore = (await appearances()).filter((r) => r.item_id === 'v2keep');
    await reidentify(t.db, { batchSize });
    expect((await items()).get('v2keep')).toEqual(before.get('v2keep'));
    expect((await appearances()).filter((r) => r.item_id === 'v2keep')).toEqual(viaBefore);
  });
});

describe('reidentify bookkeeping', () => {
  it('records the rules version on an empty database, then is a no-op', async () => {
    expect(await metaVersion()).toBeNull();
    expect(await reidentify(t.db)).toEqual({ scanned: 0, rekeyed: 0, merged: 0 });
    expect(await metaVersion()).toBe(String(IDENTITY_VERSION));
    expect(await reidentify(t.db)).toEqual({ scanned: 0, rekeyed: 0, merged: 0 });
  });

  it('picks up a v1 story written after the version was recorded', async () => {
    await reidentify(t.db);
    await seed([{ id: 'late', key: 'url:http://www.late.example/a/', firstSeen: '12:00', via: [{ source: 'agg', first: '12:00' }] }]);
    expect(await reidentify(t.db)).toEqual({ scanned: 1, rekeyed: 1, merged: 0 });
    expect((await items()).get('late')).toMatchObject({ identity_key: 'url:https://late.example/a', identity_version: IDENTITY_VERSION });
  });

  it('does not lower a version recorded by a newer release', async () => {
    await t.db.insertInto('meta').values({ key: IDENTITY_META_KEY, value: String(IDENTITY_VERSION + 1) }).execute();
    await seed([{ id: 'old', key: 'url:http://old.example/z', firstSeen: '12:00', via: [{ source: 'agg', first: '12:00' }] }]);
    expect(await reidentify(t.db)).toEqual({ scanned: 1, rekeyed: 1, merged: 0 });
    expect(await metaVersion()).toBe(String(IDENTITY_VERSION + 1));
  });

  it('merges two spellings seen at the same moment into the smaller id', async () => {
    await seed([
      { id: 'tie-b', key: 'url:http://tie.example/a', firstSeen: '12:00', via: [{ source: 'agg', first: '12:00' }] },
      { id: 'tie-a', key: 'url:https://www.tie.example/a', firstSeen: '12:00', via: [{ source: 'pub', first: '12:00' }] },
    ]);
    expect(await reidentify(t.db, { batchSize: 1 })).toEqual({ scanned: 2, rekeyed: 1, merged: 1 });
    expect([...(await items()).keys()]).toEqual(['tie-a']);
    expect((await appearances()).map((r) => `${r.item_id}<-${r.source_id}`)).toEqual(['tie-a<-agg', 'tie-a<-pub']);
  });

  it.each([
    { name: 'zero', batchSize: 0 },
    { name: 'negative', batchSize: -5 },
    { name: 'fractional', batchSize: 1.5 },
  ])('rejects a $name batch size, naming it', async ({ batchSize }) => {
    await expect(reidentify(t.db, { batchSize })).rejects.toThrow(/batchSize must be a positive integer/);
  });

  it('reports a database failure as a database error naming the rules version', async () => {
    // A missing table is what an unmigrated database looks like.
    await sql`alter table meta rename to meta_moved`.execute(t.db);
    try {
      const err = await reidentify(t.db).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TributaryError);
      expect(err).toMatchObject({ kind: 'database', message: expect.stringContaining(`identity rules v${IDENTITY_VERSION}`) });
    } finally {
      await sql`alter table meta_moved rename to meta`.execute(t.db);
    }
  });
});
