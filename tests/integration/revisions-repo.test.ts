import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { listRevisions, MAX_REVISIONS_PER_STORY, recordRevision, type RevisionInput } from '../../src/store/revisions-repo.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

// Runs on PGlite, and on PostgreSQL when DATABASE_URL is set.

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.close();
});

const published = new Date('2026-05-14T08:00:00Z');

beforeEach(async () => {
  await t.db.deleteFrom('item_revisions').execute();
  await t.db.deleteFrom('items').execute();
  await t.db.deleteFrom('sources').execute();
  // item_revisions references items (item_id) and sources (source_id); items reference sources.
  await t.db
    .insertInto('sources')
    .values(['paper', 'wire'].map((id) => ({ id, url: `https://${id}.example/feed`, name: null, homepage: null, every_seconds: 900 })))
    .execute();
  await t.db
    .insertInto('items')
    .values(['s1', 's2'].map((id) => ({
      id,
      identity_key: `url:https://paper.example/${id}`,
      canonical_url: `https://paper.example/${id}`,
      title: `Story ${id}`,
      author: null,
      summary: null,
      content: null,
      guid: null,
      publisher_name: 'Paper',
      publisher_url: 'https://paper.example/',
      publisher_source_id: 'paper',
      publisher_feed_url: null,
      content_source_id: 'paper',
      content_hash: 'h-now',
      published_at: published,
      updated_at: published,
    })))
    .execute();
});

const minutes = (n: number) => n * 60_000;

function revision(itemId: string, replacedAtMinutes: number, over: Partial<RevisionInput> = {}): RevisionInput {
  return {
    itemId,
    replacedAt: new Date(published.getTime() + minutes(replacedAtMinutes)),
    title: `Title at ${replacedAtMinutes}`,
    summary: `<p>Summary at ${replacedAtMinutes}</p>`,
    content: `<p>Content at ${replacedAtMinutes}</p>`,
    contentHash: `h${replacedAtMinutes}`,
    sourceId: 'paper',
    updatedAt: new Date(published.getTime() + minutes(replacedAtMinutes - 1)),
    ...over,
  };
}

describe('recordRevision and listRevisions', () => {
  it('round-trip every domain field, nulls included, and nothing else (no serial id, no hash)', async () => {
    await recordRevision(t.db, revision('s1', 10));
    await recordRevision(t.db, revision('s1', 20, { summary: null, content: null, sourceId: null, title: 'Storm kills 15 — “at least”' }));
    expect(await listRevisions(t.db, 's1')).toEqual([
      {
        replacedAt: new Date('2026-05-14T08:20:00Z'),
        title: 'Storm kills 15 — “at least”',
        summary: null,
        content: null,
        updatedAt: new Date('2026-05-14T08:19:00Z'),
        sourceId: null,
      },
      {
        replacedAt: new Date('2026-05-14T08:10:00Z'),
        title: 'Title at 10',
        summary: '<p>Summary at 10</p>',
        content: '<p>Content at 10</p>',
        updatedAt: new Date('2026-05-14T08:09:00Z'),
        sourceId: 'paper',
      },
    ]);
    // The hash is kept in the row (the merge may compare against it) but is not part of the domain type.
    const stored = await t.db.selectFrom('item_revisions').select(['content_hash']).orderBy('replaced_at').execute();
    expect(stored.map((r) => r.content_hash)).toEqual(['h10', 'h20']);
  });

  it('list newest replaced first whatever the order of writing; ties list the later written first', async () => {
    for (const m of [30, 10, 40, 20]) await recordRevision(t.db, revision('s1', m));
    await recordRevision(t.db, revision('s1', 40, { title: 'written later at 40' }));
    expect((await listRevisions(t.db, 's1')).map((r) => r.title)).toEqual(['written later at 40', 'Title at 40', 'Title at 30', 'Title at 20', 'Title at 10']);
  });

  it('keep each story\'s revisions apart; a story without revisions lists none', async () => {
    await recordRevision(t.db, revision('s1', 1));
    await recordRevision(t.db, revision('s2', 2, { sourceId: 'wire' }));
    expect((await listRevisions(t.db, 's1')).map((r) => r.title)).toEqual(['Title at 1']);
    expect(await listRevisions(t.db, 's2')).toEqual([expect.objectContaining({ title: 'Title at 2', sourceId: 'wire' })]);
    expect(await listRevisions(t.db, 'no-such-story')).toEqual([]);
  });

  it('go with their story when it is deleted', async () => {
    await recordRevision(t.db, revision('s1', 1));
    await recordRevision(t.db, revision('s2', 1));
    await t.db.deleteFrom('items').where('id', '=', 's1').execute();
    expect(await listRevisions(t.db, 's1')).toEqual([]);
    expect(await listRevisions(t.db, 's2')).toHaveLength(1);
  });

  it('commit or roll back with the caller\'s transaction', async () => {
    await expect(
      t.db.transaction().execute(async (trx) => {
        await recordRevision(trx, revision('s1', 1));
        expect(await listRevisions(trx, 's1')).toHaveLength(1);
        throw new Error('merge failed');
      }),
    ).rejects.toThrow('merge failed');
    expect(await listRevisions(t.db, 's1')).toEqual([]);
  });
});

describe(`recordRevision keeps at most ${MAX_REVISIONS_PER_STORY} revisions per story`, () => {
  it('prunes the oldest in the same call, and never another story\'s', async () => {
    for (let m = 1; m <= 3; m++) await recordRevision(t.db, revision('s2', m));
    for (let m = 1; m <= 25; m++) await recordRevision(t.db, revision('s1', m));
    const kept = await listRevisions(t.db, 's1');
    // The bound, spelled out: 20, not whatever the constant says.
    expect(MAX_REVISIONS_PER_STORY).toBe(20);
    expect(kept).toHaveLength(20);
    expect(kept[0]?.title).toBe('Title at 25');
    expect(kept.at(-1)?.title).toBe('Title at 6');
    // Pruned rows are gone from the table, not just hidden by the list's limit.
    const counts = await t.db.selectFrom('item_revisions').select(['item_id', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('item_id').orderBy('item_id').execute();
    expect(counts.map((c) => ({ item_id: c.item_id, n: Number(c.n) }))).toEqual([
      { item_id: 's1', n: 20 },
      { item_id: 's2', n: 3 },
    ]);
    expect(await listRevisions(t.db, 's2')).toHaveLength(3);
  });

  it('drops a revision older than the newest 20 as soon as it is written', async () => {
    for (let m = 1; m <= 20; m++) await recordRevision(t.db, revision('s1', m));
    await recordRevision(t.db, revision('s1', -5, { title: 'late and old' }));
    const titles = (await listRevisions(t.db, 's1')).map((r) => r.title);
    expect(titles).toHaveLength(20);
    expect(titles).not.toContain('late and old');
    expect(titles.at(-1)).toBe('Title at 1');
  });
});

describe('recordRevision: bad input is named', () => {
  it.each([
    { name: 'an unknown story', r: () => revision('ghost', 1), message: /revision of story "ghost": no such story$/ },
    { name: 'an unknown source', r: () => revision('s1', 1, { sourceId: 'nobody' }), message: /revision of story "s1": no such source "nobody"$/ },
    { name: 'an empty story id', r: () => revision('', 1), message: /revision of a story: itemId is empty/ },
    { name: 'an invalid replacedAt', r: () => revision('s1', 1, { replacedAt: new Date(Number.NaN) }), message: /revision of story "s1": replacedAt is not a valid date/ },
    { name: 'an invalid updatedAt', r: () => revision('s1', 1, { updatedAt: new Date('yesterday-ish') }), message: /revision of story "s1": updatedAt is not a valid date/ },
    { name: 'an empty content hash', r: () => revision('s1', 1, { contentHash: '' }), message: /revision of story "s1": contentHash is empty/ },
  ])('$name', async ({ r, message }) => {
    const p = recordRevision(t.db, r());
    await expect(p).rejects.toThrow(message);
    await expect(p).rejects.toBeInstanceOf(TributaryError);
    expect(await t.db.selectFrom('item_revisions').select('id').execute()).toEqual([]);
  });
});
