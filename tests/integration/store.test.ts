import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { NormalizedItem, Source } from '../../src/domain.js';
import { attributePublisher, type KnownSource } from '../../src/ingest/attribute.js';
import { lockDataDir } from '../../src/store/data-dir-lock.js';
import { storeItems } from '../../src/store/items-repo.js';
import { migrate } from '../../src/store/migrate.js';
import {
  claimDueSources,
  deferSource,
  listKnownSources,
  listMovedSources,
  recordFetchFailure,
  recordFetchSuccess,
  syncSources,
} from '../../src/store/sources-repo.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.close();
});

const src = (id: string, over: Partial<Source> = {}): Source => ({
  id,
  url: `https://${id}.example/feed`,
  name: id.toUpperCase(),
  homepage: `https://${id}.example/`,
  tags: [],
  everyMs: 15 * 60_000,
  enabled: true,
  adaptive: false,
  kind: 'publisher',
  content: 'summary',
  strip: [],
  resolveCanonical: false,
  ...over,
});

function item(url: string | null, over: Partial<NormalizedItem> = {}): NormalizedItem {
  return {
    identityKey: url ? `url:${url}` : `guid:x:${over.guid ?? 'g'}`,
    canonicalUrl: url,
    guid: url,
    link: url,
    title: 'A story',
    author: null,
    summary: '<p>text</p>',
    content: null,
    publishedAt: new Date('2026-11-29T10:00:00Z'),
    updatedAt: null,
    categories: [],
    origin: null,
    contentHash: 'h1',
    titleKey: 'a story',
    simhash: '0000000000000000',
    enclosures: [],
    image: null,
    ...over,
  };
}

async function reset(): Promise<void> {
  await t.db.deleteFrom('fetch_log').execute();
  await t.db.deleteFrom('hosts').execute();
  await t.db.deleteFrom('item_sources').execute();
  await t.db.deleteFrom('items').execute();
  await t.db.deleteFrom('sources').execute();
}

async function store(sourceId: string, items: NormalizedItem[], tags: string[] = []) {
  const known = await listKnownSources(t.db);
  const via = known.find((k) => k.id === sourceId) as KnownSource;
  return t.db.transaction().execute((trx) =>
    storeItems(
      trx,
      { id: sourceId, tags },
      items.map((i) => ({ item: i, storyId: `id-${i.identityKey}`, publisher: attributePublisher(i, via, known) })),
    ),
  );
}

describe('syncSources', () => {
  beforeEach(reset);

  it('adds, changes and deactivates sources to match feeds.yaml, keeping removed rows', async () => {
    expect(await syncSources(t.db, [src('a'), src('b')])).toEqual({ added: ['a', 'b'], changed: [], removed: [] });
    expect(await syncSources(t.db, [src('a'), src('b')])).toEqual({ added: [], changed: [], removed: [] });
    const r = await syncSources(t.db, [src('a', { url: 'https://a.example/new' }), src('c')]);
    expect(r).toEqual({ added: ['c'], changed: ['a'], removed: ['b'] });
    const rows = await t.db.selectFrom('sources').select(['id', 'url', 'active']).orderBy('id').execute();
    expect(rows).toEqual([
      { id: 'a', url: 'https://a.example/new', active: true },
      { id: 'b', url: 'https://b.example/feed', active: false },
      { id: 'c', url: 'https://c.example/feed', active: true },
    ]);
    // Re-adding a removed source reactivates it.
    expect((await syncSources(t.db, [src('a', { url: 'https://a.example/new' }), src('b'), src('c')])).changed).toEqual(['b']);
  });
});

describe('claimDueSources', () => {
  beforeEach(reset);

  it('leases due sources once: a second claimer gets the rest, never the same source', async () => {
    await syncSources(t.db, ['a', 'b', 'c', 'd', 'e'].map((id) => src(id)));
    const [one, two] = await Promise.all([
      claimDueSources(t.db, { owner: 'w1', limit: 3, leaseMs: 60_000 }),
      claimDueSources(t.db, { owner: 'w2', limit: 3, leaseMs: 60_000 }),
    ]);
    const ids = [...one, ...two].map((s) => s.id).sort();
    expect(ids).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await claimDueSources(t.db, { owner: 'w3', limit: 10, leaseMs: 60_000 })).toEqual([]);
  });

  it('a recorded poll releases the lease and schedules the next one; expired leases are reclaimed', async () => {
    await syncSources(t.db, [src('a'), src('b')]);
    const [a, b] = await claimDueSources(t.db, { owner: 'w1', limit: 2, leaseMs: 1_000 });
    await recordFetchSuccess(t.db, a!, 'w1', { status: 200, etag: '"x"', lastModified: null, nextFetchAt: new Date(Date.now() + 3_600_000), nextFetchReason: 'interval 1h' });
    await recordFetchFailure(t.db, b!, 'w1', { status: 500, error: 'HTTP 500', nextFetchAt: new Date(Date.now() - 1), nextFetchReason: 'backoff', countsAsError: true });
    const rows = await t.db.selectFrom('sources').select(['id', 'etag', 'error_count', 'last_error', 'lease_owner']).orderBy('id').execute();
    expect(rows).toEqual([
      { id: 'a', etag: '"x"', error_count: 0, last_error: null, lease_owner: null },
      { id: 'b', etag: null, error_count: 1, last_error: 'HTTP 500', lease_owner: null },
    ]);
    // b is due again (its next time passed); a is not.
    expect((await claimDueSources(t.db, { owner: 'w2', limit: 5, leaseMs: 1_000 })).map((s) => s.id)).toEqual(['b']);
    // A crashed worker's lease expires and the source is picked up again.
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await claimDueSources(t.db, { owner: 'w3', limit: 5, leaseMs: 60_000 })).map((s) => s.id)).toEqual(['b']);
    // --all ignores the schedule but not live leases.
    expect((await claimDueSources(t.db, { owner: 'w4', limit: 5, leaseMs: 60_000, ignoreSchedule: true })).map((s) => s.id)).toEqual(['a']);
  });
});

describe('sources: gone, moved, paused hosts, deferrals', () => {
  beforeEach(reset);

  it('never claims a gone source until its url changes in feeds.yaml, which also forgets the move', async () => {
    await syncSources(t.db, [src('a'), src('b')]);
    const [a] = await claimDueSources(t.db, { owner: 'w1', limit: 1, leaseMs: 60_000, ids: ['a'] });
    await recordFetchFailure(t.db, a!, 'w1', {
      status: 410,
      error: 'HTTP 410 Gone',
      nextFetchAt: new Date(Date.now() - 1),
      nextFetchReason: 'gone',
      countsAsError: false,
      gone: true,
      permanentUrl: 'https://a.example/moved',
    });
    let row = await t.db.selectFrom('sources').selectAll().where('id', '=', 'a').executeTakeFirstOrThrow();
    expect(row).toMatchObject({ error_count: 0, effective_url: 'https://a.example/moved', host_key: 'a.example' });
    expect(row.gone_at).toBeInstanceOf(Date);
    expect((await claimDueSources(t.db, { owner: 'w2', limit: 5, leaseMs: 60_000, ignoreSchedule: true })).map((x) => x.id)).toEqual(['b']);
    expect(await listMovedSources(t.db)).toEqual([{ id: 'a', url: 'https://a.example/feed', effectiveUrl: 'https://a.example/moved' }]);

    await syncSources(t.db, [src('a', { url: 'https://a.example/new-feed' }), src('b')]);
    row = await t.db.selectFrom('sources').selectAll().where('id', '=', 'a').executeTakeFirstOrThrow();
    expect(row).toMatchObject({ gone_at: null, effective_url: null, next_fetch_reason: 'url changed in feeds.yaml' });
    const [again] = await claimDueSources(t.db, { owner: 'w3', limit: 5, leaseMs: 60_000, ids: ['a'] });
    expect(again).toMatchObject({ id: 'a', fetchUrl: 'https://a.example/new-feed', effectiveUrl: null });
  });

  it('fetches a moved source from its new address and keeps the feed schedule hints across polls', async () => {
    await syncSources(t.db, [src('a')]);
    const [a] = await claimDueSources(t.db, { owner: 'w1', limit: 1, leaseMs: 60_000 });
    const schedule = { ttlMinutes: 60, updatePeriod: 'daily' as const, updateFrequency: 2, skipHours: [1, 2], skipDays: ['Sunday'] };
    await recordFetchSuccess(t.db, a!, 'w1', {
      status: 200,
      etag: null,
      lastModified: null,
      feedSchedule: schedule,
      permanentUrl: 'https://feeds.a-cdn.net/a',
      nextFetchAt: new Date(Date.now() - 1),
      nextFetchReason: 'ttl 60m',
    });
    const [b] = await claimDueSources(t.db, { owner: 'w1', limit: 1, leaseMs: 60_000 });
    expect(b).toMatchObject({ fetchUrl: 'https://feeds.a-cdn.net/a', hostKey: 'a-cdn.net', feedSchedule: schedule });
  });

  it('skips sources whose host is paused, and deferral is not a failure', async () => {
    await syncSources(t.db, [src('a'), src('b')]);
    await t.db.insertInto('hosts').values({ host_key: 'a.example', paused_until: new Date(Date.now() + 60_000), pause_reason: 'HTTP 429' }).execute();
    const claimed = await claimDueSources(t.db, { owner: 'w1', limit: 5, leaseMs: 60_000, ignoreSchedule: true });
    expect(claimed.map((x) => x.id)).toEqual(['b']);
    const until = new Date(Date.now() + 30_000);
    await deferSource(t.db, 'b', 'w1', until, 'waiting for b.example: busy');
    const row = await t.db.selectFrom('sources').selectAll().where('id', '=', 'b').executeTakeFirstOrThrow();
    expect(row).toMatchObject({ error_count: 0, last_error: null, lease_owner: null, next_fetch_reason: 'waiting for b.example: busy' });
    expect(row.next_fetch_at).toEqual(until);
  });
});

describe('storeItems', () => {
  beforeEach(async () => {
    await reset();
    await syncSources(t.db, [src('daily', { tags: ['news'] }), src('agg', { name: 'Aggregator' })]);
  });

  it('stores new stories once; re-polling changes nothing', async () => {
    const items = [item('https://daily.example/a'), item('https://daily.example/b', { contentHash: 'h2' })];
    expect(await store('daily', items, ['news'])).toEqual({ new: 2, updated: 0, unchanged: 0 });
    expect(await store('daily', items, ['news'])).toEqual({ new: 0, updated: 0, unchanged: 2 });
    const rows = await t.db.selectFrom('items').select(['identity_key', 'tags', 'publisher_name']).orderBy('identity_key').execute();
    expect(rows).toEqual([
      { identity_key: 'url:https://daily.example/a', tags: ['news'], publisher_name: 'DAILY' },
      { identity_key: 'url:https://daily.example/b', tags: ['news'], publisher_name: 'DAILY' },
    ]);
  });

  it('an edit by the same source updates the story in place with a later updated_at', async () => {
    await store('daily', [item('https://daily.example/a')]);
    const before = await t.db.selectFrom('items').selectAll().executeTakeFirstOrThrow();
    const counts = await store('daily', [item('https://daily.example/a', { title: 'A story (updated)', contentHash: 'h9' })]);
    expect(counts).toEqual({ new: 0, updated: 1, unchanged: 0 });
    const after = await t.db.selectFrom('items').selectAll().executeTakeFirstOrThrow();
    expect(after.title).toBe('A story (updated)');
    expect(after.published_at).toEqual(before.published_at);
    expect(after.updated_at.getTime()).toBeGreaterThan(before.updated_at.getTime());
  });

  it('aggregator first, publisher second: one story, the publisher\'s text and credit, via both', async () => {
    const fromAgg = item('https://daily.example/a', { title: 'A story | Aggregator', summary: '<p>text</p><p>You can view this story on their website by CLICKING HERE</p>', contentHash: 'agg', publishedAt: new Date('2026-11-29T11:00:00Z') });
    expect(await store('agg', [fromAgg])).toMatchObject({ new: 1 });
    let row = await t.db.selectFrom('items').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ publisher_name: 'DAILY', publisher_source_id: 'daily', publisher_rank: 3, content_source_id: 'agg' });
    expect(await store('daily', [item('https://daily.example/a')], ['news'])).toMatchObject({ new: 0, updated: 1 });
    row = await t.db.selectFrom('items').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ title: 'A story', content_source_id: 'daily', publisher_name: 'DAILY', tags: ['news'] });
    expect(row.published_at).toEqual(new Date('2026-11-29T10:00:00Z'));
    // The aggregator polling again does not take the text back.
    expect(await store('agg', [fromAgg])).toMatchObject({ unchanged: 1 });
    row = await t.db.selectFrom('items').selectAll().executeTakeFirstOrThrow();
    expect(row.title).toBe('A story');
    const via = await t.db.selectFrom('item_sources').select('source_id').orderBy('source_id').execute();
    expect(via.map((v) => v.source_id)).toEqual(['agg', 'daily']);
  });

  it('a material edit keeps the replaced version as a revision; a trivial one is no edit', async () => {
    const body = (extra: string) => `<p>${'The council met on Tuesday to discuss the new bridge and its budget. '.repeat(6)}${extra}</p>`;
    await store('daily', [item('https://daily.example/a', { summary: body(''), contentHash: 'v1' })]);
    // Whitespace and a tracking link: stored, but not an edit.
    expect(await store('daily', [item('https://daily.example/a', { summary: body(' <a href="https://x.example/?utm_source=y">more</a>'), contentHash: 'v2' })])).toMatchObject({ updated: 0, unchanged: 1 });
    expect(await t.db.selectFrom('item_revisions').selectAll().execute()).toHaveLength(0);
    // A new paragraph: a material edit, the previous version kept.
    const counts = await store('daily', [
      item('https://daily.example/a', { summary: body('') + '<p>Late on Tuesday the council voted seven to two to approve the bridge, with work to start in spring.</p>', contentHash: 'v3' }),
    ]);
    expect(counts).toMatchObject({ updated: 1 });
    const revisions = await t.db.selectFrom('item_revisions').selectAll().execute();
    expect(revisions).toHaveLength(1);
    expect(revisions[0]).toMatchObject({ content_hash: 'v2', source_id: 'daily' });
  });

  it('a link-less story whose guid changes at every poll stays one story', async () => {
    const linkless = (guid: string) =>
      item(null, { guid, identityKey: `guid:daily:${guid}`, title: 'Road closed on Main Street', titleKey: 'road closed on main street', publishedAt: null });
    expect(await store('daily', [linkless('g-1')])).toMatchObject({ new: 1 });
    expect(await store('daily', [linkless('g-2')])).toMatchObject({ new: 0, unchanged: 1 });
    expect(await store('daily', [linkless('g-3')])).toMatchObject({ new: 0 });
    expect(await t.db.selectFrom('items').select('id').execute()).toHaveLength(1);
  });

  it('link-less items without a title, or sharing one title in one feed, stay distinct stories', async () => {
    const linkless = (guid: string, titleKey: string) =>
      item(null, { guid, identityKey: `guid:daily:${guid}`, title: titleKey || '(untitled)', titleKey, publishedAt: null });
    expect(await store('daily', [linkless('a-1', 'untitled'), linkless('a-2', 'untitled'), linkless('b-1', 'notice'), linkless('b-2', 'notice')])).toMatchObject({
      new: 4,
    });
    expect(await t.db.selectFrom('item_sources').select('item_id').execute()).toHaveLength(4);
  });

  it('one feed listing a story twice stores it once', async () => {
    expect(await store('daily', [item('https://daily.example/a'), item('https://daily.example/a', { guid: 'other' })])).toEqual({ new: 1, updated: 0, unchanged: 0 });
  });

  it('two sources storing the same story at the same moment end with one row', async () => {
    const results = await Promise.all([store('daily', [item('https://daily.example/race')]), store('agg', [item('https://daily.example/race')])]);
    expect(results.map((r) => r.new).sort()).toEqual([0, 1]);
    const n = await t.db.selectFrom('items').select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(1);
    expect(Number((await t.db.selectFrom('item_sources').select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow()).n)).toBe(2);
  });
});

describe('migrate', () => {
  it('is idempotent and records versions', async () => {
    expect(await migrate(t.db)).toEqual([]);
    const versions = await t.db.selectFrom('schema_migrations').select('version').orderBy('version').execute();
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('embedded data directory lock', () => {
  it('refuses a second holder with a message naming the holder, and frees on release', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-lock-'));
    const lock = lockDataDir(dir);
    // A foreign live process holding it (our parent) is refused by name.
    fs.writeFileSync(lock.file, JSON.stringify({ pid: process.ppid, hostname: os.hostname(), command: 'tributary serve', started_at: 'then' }));
    expect(() => lockDataDir(dir)).toThrow(new RegExp(`in use by process ${process.ppid} .*tributary serve`));
    // A stale lock (its process is gone) is taken over.
    fs.writeFileSync(lock.file, JSON.stringify({ pid: 2 ** 22 + 7, hostname: os.hostname(), command: 'x', started_at: 'then' }));
    const again = lockDataDir(dir);
    again.release();
    expect(fs.existsSync(lock.file)).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
