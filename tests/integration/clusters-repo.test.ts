import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decideCluster } from '../../src/ingest/cluster.js';
import { htmlToText } from '../../src/ingest/sanitize-html.js';
import { simhash } from '../../src/ingest/simhash.js';
import { titleKey } from '../../src/ingest/title-key.js';
import { clusterMembers, findClusterCandidates, setCluster } from '../../src/store/clusters-repo.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedSource } from '../helpers/seed.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.close();
});

const H = 3_600_000;
const T0 = Date.parse('2025-09-30T12:00:00Z');
const at = (hours: number): Date => new Date(T0 + hours * H);

interface Row {
  id: string;
  hours: number;
  title?: string;
  titleKey?: string | null;
  simhash?: string | null;
  url?: string | null;
  summary?: string | null;
  content?: string | null;
  clusterId?: string | null;
  publisher?: string;
  publisherUrl?: string | null;
}

/** Inserts an items row directly, with the identity columns the clustering reads. */
async function seedItem(r: Row): Promise<void> {
  const url = r.url === undefined ? `https://${r.id}.example/story` : r.url;
  const title = r.title ?? `Story ${r.id}`;
  await t.db
    .insertInto('items')
    .values({
      id: r.id,
      identity_key: url ? `url:${url}` : `guid:src:${r.id}`,
      canonical_url: url,
      title,
      summary: r.summary === undefined ? `<p>Summary of ${title}</p>` : r.summary,
      content: r.content ?? null,
      publisher_name: r.publisher ?? `${r.id} Paper`,
      publisher_url: r.publisherUrl === undefined ? (url ? new URL(url).origin + '/' : null) : r.publisherUrl,
      publisher_source_id: null,
      publisher_feed_url: null,
      content_source_id: 'src',
      content_hash: `h-${r.id}`,
      published_at: at(r.hours),
      updated_at: at(r.hours),
      title_key: r.titleKey === undefined ? titleKey(title) : r.titleKey,
      simhash: r.simhash === undefined ? '0123456789abcdef' : r.simhash,
      cluster_id: r.clusterId ?? null,
    })
    .execute();
}

beforeEach(async () => {
  await t.db.deleteFrom('item_sources').execute();
  await t.db.deleteFrom('items').execute();
  await t.db.deleteFrom('sources').execute();
  await seedSource(t.db, { id: 'src' });
});

const ids = (rows: readonly { id: string }[]): string[] => rows.map((r) => r.id);

describe('findClusterCandidates', () => {
  it('returns stories within ±window (bounds included), newest first, without the story itself', async () => {
    for (const [id, hours] of [['before-49h', -49], ['before-48h', -48], ['before-1h', -1], ['self', 0], ['after-47h', 47], ['after-48h', 48], ['after-49h', 49]] as const) {
      await seedItem({ id, hours });
    }
    const got = await findClusterCandidates(t.db, { around: at(0), windowMs: 48 * H, titleKey: 'nothing alike', excludeId: 'self' });
    expect(ids(got)).toEqual(['after-48h', 'after-47h', 'before-1h', 'before-48h']);
  });

  it('skips stories stored before fingerprints existed (no SimHash)', async () => {
    await seedItem({ id: 'old', hours: -1, simhash: null, titleKey: null });
    await seedItem({ id: 'new', hours: -2 });
    const got = await findClusterCandidates(t.db, { around: at(0), windowMs: 48 * H, titleKey: '', excludeId: 'x' });
    expect(ids(got)).toEqual(['new']);
  });

  it('keeps every same-title story even when newer ones fill the "any" branch’s limit', async () => {
    await seedItem({ id: 'same-title-oldest', hours: -40, title: 'Storm slams Florida coast' });
    for (let i = 1; i <= 5; i++) await seedItem({ id: `busy-${i}`, hours: -i, title: `Other story ${i}` });
    const got = await findClusterCandidates(t.db, { around: at(0), windowMs: 48 * H, titleKey: 'storm slams florida coast', excludeId: 'x', limit: 2 });
    expect(ids(got)).toEqual(['busy-1', 'busy-2', 'same-title-oldest']);
    // An empty title key matches nothing by title (it is not a headline).
    const none = await findClusterCandidates(t.db, { around: at(0), windowMs: 48 * H, titleKey: '', excludeId: 'x', limit: 2 });
    expect(ids(none)).toEqual(['busy-1', 'busy-2']);
  });

  it('with a SimHash, keeps only stories near it (or with the same title), skipping malformed stored values', async () => {
    const base = 'ffffffffffffffff';
    await seedItem({ id: 'd0', hours: -1, simhash: base });
    await seedItem({ id: 'd16', hours: -2, simhash: 'ffffffffffff0000' });
    await seedItem({ id: 'd17', hours: -3, simhash: 'fffffffffffe0000' });
    await seedItem({ id: 'd64', hours: -4, simhash: '0000000000000000' });
    await seedItem({ id: 'd64-same-title', hours: -5, simhash: '0000000000000000', title: 'Markets today' });
    await seedItem({ id: 'malformed', hours: -6, simhash: 'not hex at all!!' });
    const q = { around: at(0), windowMs: 48 * H, titleKey: 'markets today', excludeId: 'x', simhash: base };
    expect(ids(await findClusterCandidates(t.db, q))).toEqual(['d0', 'd16', 'd64-same-title']);
    expect(ids(await findClusterCandidates(t.db, { ...q, maxDistance: 17 }))).toEqual(['d0', 'd16', 'd17', 'd64-same-title']);
    expect(ids(await findClusterCandidates(t.db, { ...q, maxDistance: 64 }))).toEqual(['d0', 'd16', 'd17', 'd64', 'd64-same-title', 'malformed']);
  });

  it('maps rows: cluster id, title key, SimHash, date, host (www. folded; publisher’s for link-less stories)', async () => {
    await seedItem({ id: 'a', hours: -1, url: 'https://www.Paper.example/a?x=1', clusterId: 'root', title: 'BREAKING: Storm - Paper', simhash: 'abcdefabcdef0123' });
    await seedItem({ id: 'b', hours: -2, url: null, publisherUrl: 'https://blog.example/' });
    await seedItem({ id: 'c', hours: -3, url: null, publisherUrl: null, titleKey: null });
    const got = await findClusterCandidates(t.db, { around: at(0), windowMs: 48 * H, titleKey: '', excludeId: 'x' });
    expect(got[0]).toEqual({
      id: 'a',
      clusterId: 'root',
      titleKey: titleKey('BREAKING: Storm - Paper'),
      simhash: 'abcdefabcdef0123',
      publishedAt: at(-1),
      textLength: 'Summary of BREAKING: Storm - Paper'.length,
      canonicalHost: 'paper.example',
    });
    expect(got[0]?.publishedAt).toBeInstanceOf(Date);
    expect(got[1]).toMatchObject({ id: 'b', clusterId: null, canonicalHost: 'blog.example' });
    expect(got[2]).toMatchObject({ id: 'c', titleKey: '', canonicalHost: null });
  });

  it.each([
    { name: 'content, tags removed, whitespace collapsed', content: '<p>Hello <b>world</b></p>\n\n<p>Second   paragraph.</p>', summary: '<p>ignored</p>' },
    { name: 'summary when there is no content', content: null, summary: '<p>A short <a href="https://x.example/">summary</a> of the story.</p>' },
    { name: 'summary when content is empty', content: '', summary: '<div><p>Only the summary</p></div>' },
    { name: 'neither', content: null, summary: null },
  ])('textLength approximates the plain text’s length: $name', async ({ content, summary }) => {
    await seedItem({ id: 'a', hours: -1, content, summary });
    const [got] = await findClusterCandidates(t.db, { around: at(0), windowMs: H, titleKey: '', excludeId: 'x' });
    const plain = htmlToText(content || summary);
    expect(got?.textLength).toBe(plain.length);
  });

  it.each([
    { name: 'an invalid date', q: { around: new Date('nope') }, msg: /q\.around is not a valid date/ },
    { name: 'a negative window', q: { windowMs: -1 }, msg: /q\.windowMs must be a non-negative/ },
    { name: 'a zero limit', q: { limit: 0 }, msg: /q\.limit must be an integer from 1/ },
    { name: 'a malformed SimHash', q: { simhash: 'XYZ' }, msg: /q\.simhash "XYZ" is not 16 lower-case hex digits/ },
    { name: 'a distance over 64', q: { maxDistance: 65 }, msg: /q\.maxDistance must be an integer from 0 to 64/ },
  ])('rejects $name, naming the field', async ({ q, msg }) => {
    await expect(findClusterCandidates(t.db, { around: at(0), windowMs: H, titleKey: '', excludeId: 'x', ...q })).rejects.toThrow(msg);
  });
});

describe('setCluster', () => {
  it('puts the story in the cluster and gives the root its own id', async () => {
    await seedItem({ id: 'root', hours: 0 });
    await seedItem({ id: 'b', hours: 1 });
    await seedItem({ id: 'c', hours: 2 });
    await setCluster(t.db, 'b', 'root');
    await setCluster(t.db, 'c', 'root');
    await setCluster(t.db, 'c', 'root'); // idempotent
    const rows = await t.db.selectFrom('items').select(['id', 'cluster_id']).orderBy('id').execute();
    expect(rows).toEqual([
      { id: 'b', cluster_id: 'root' },
      { id: 'c', cluster_id: 'root' },
      { id: 'root', cluster_id: 'root' },
    ]);
  });

  it('leaves other stories alone', async () => {
    await seedItem({ id: 'root', hours: 0 });
    await seedItem({ id: 'b', hours: 1 });
    await seedItem({ id: 'bystander', hours: 1, clusterId: 'elsewhere' });
    await seedItem({ id: 'alone', hours: 1 });
    await setCluster(t.db, 'b', 'root');
    const rows = await t.db.selectFrom('items').select(['id', 'cluster_id']).where('id', 'in', ['bystander', 'alone']).orderBy('id').execute();
    expect(rows).toEqual([
      { id: 'alone', cluster_id: null },
      { id: 'bystander', cluster_id: 'elsewhere' },
    ]);
  });

  it.each([
    { name: 'the story does not exist', story: 'ghost', root: 'root', msg: /setCluster: story ghost does not exist/ },
    { name: 'the root does not exist', story: 'b', root: 'ghost', msg: /setCluster: cluster root ghost \(for story b\) does not exist/ },
    { name: 'the root is in another cluster', story: 'b', root: 'member', msg: /story member belongs to cluster root; join that cluster/ },
  ])('refuses when $name, changing nothing', async ({ story, root, msg }) => {
    await seedItem({ id: 'root', hours: 0, clusterId: 'root' });
    await seedItem({ id: 'member', hours: 1, clusterId: 'root' });
    await seedItem({ id: 'b', hours: 2 });
    await expect(setCluster(t.db, story, root)).rejects.toThrow(msg);
    const b = await t.db.selectFrom('items').select('cluster_id').where('id', '=', 'b').executeTakeFirstOrThrow();
    expect(b.cluster_id).toBeNull();
  });

  it('is undone with the caller’s transaction', async () => {
    await seedItem({ id: 'root', hours: 0 });
    await seedItem({ id: 'b', hours: 1 });
    await expect(
      t.db.transaction().execute(async (trx) => {
        await setCluster(trx, 'b', 'root');
        throw new Error('batch failed');
      }),
    ).rejects.toThrow('batch failed');
    const rows = await t.db.selectFrom('items').select('cluster_id').where('cluster_id', 'is not', null).execute();
    expect(rows).toEqual([]);
  });
});

describe('clusterMembers', () => {
  it('lists the members earliest first (ties by id) with their publishers', async () => {
    await seedItem({ id: 'late', hours: 3, clusterId: 'first', publisher: 'Late Paper', url: 'https://late.example/s' });
    await seedItem({ id: 'first', hours: 0, clusterId: 'first', publisher: 'First Paper', url: 'https://first.example/s' });
    await seedItem({ id: 'tie-b', hours: 1, clusterId: 'first' });
    await seedItem({ id: 'tie-a', hours: 1, clusterId: 'first' });
    await seedItem({ id: 'other', hours: 1, clusterId: 'other' });
    await seedItem({ id: 'alone', hours: 1 });
    const members = await clusterMembers(t.db, 'first');
    expect(ids(members)).toEqual(['first', 'tie-a', 'tie-b', 'late']);
    expect(members[0]).toEqual({
      id: 'first',
      canonicalUrl: 'https://first.example/s',
      publisherName: 'First Paper',
      publisherUrl: 'https://first.example/',
      publisherSourceId: null,
      publisherFeedUrl: null,
      publishedAt: at(0),
    });
    expect(members[0]?.publishedAt).toBeInstanceOf(Date);
  });

  it('is empty for an unknown cluster', async () => {
    await seedItem({ id: 'alone', hours: 0 });
    expect(await clusterMembers(t.db, 'nope')).toEqual([]);
  });
});

describe('candidates → decideCluster → setCluster → clusterMembers', () => {
  const WIRE =
    'A powerful storm slammed into the Florida coast early Tuesday, tearing roofs from homes, flooding low-lying neighborhoods and leaving more than 400,000 customers without electricity, officials said. The storm made landfall near Cedar Key shortly after 3 a.m. with sustained winds of 105 mph, the National Hurricane Center said, and was expected to weaken as it moved inland over northern Florida and southern Georgia through the day. Storm surge of up to 8 feet was reported in parts of Levy and Dixie counties, where deputies used boats to reach families who had ignored evacuation orders. Utility companies said they had staged thousands of line workers and expected to restore power to most customers within three days.';
  const OTHER =
    'Polls have closed across the eastern half of the country and the first results are coming in on a night that will decide control of the Senate and a string of closely watched races. Follow our live coverage for the latest results, analysis from our reporters in the key states and reaction from the candidates. Turnout appeared high in early-voting counties, election officials said, with long lines at some polling places after a surge of voters arriving after work. In Pennsylvania, officials warned that counting mail ballots could take until Wednesday.';

  it('three papers carrying one wire story become one cluster; a live blog with a look-alike headline stays out', async () => {
    const papers = [
      { id: 'ledger', hours: 0, title: 'Storm slams Florida coast - The Ledger', text: WIRE },
      { id: 'times', hours: 1, title: 'Storm slams Florida coast | Times', text: `By The Associated Press. ${WIRE}` },
      { id: 'live', hours: 1.5, title: 'Live updates: Election night', text: OTHER },
      { id: 'gazette', hours: 2, title: 'BREAKING: Storm slams Florida coast', text: WIRE.replace('early Tuesday', 'on Tuesday') },
    ];
    const outcomes: Record<string, string | null> = {};
    for (const p of papers) {
      const content = `<p>${p.text}</p>`;
      await seedItem({ id: p.id, hours: p.hours, title: p.title, content, simhash: simhash(p.text), url: `https://${p.id}.example/story` });
      const input = {
        id: p.id,
        titleKey: titleKey(p.title),
        simhash: simhash(p.text),
        publishedAt: at(p.hours),
        textLength: htmlToText(content).length,
        canonicalHost: `${p.id}.example`,
      };
      const candidates = await findClusterCandidates(t.db, { around: input.publishedAt, windowMs: 48 * H, titleKey: input.titleKey, excludeId: p.id, simhash: input.simhash });
      const decision = decideCluster(input, candidates);
      outcomes[p.id] = decision.clusterWith;
      if (decision.clusterWith) await setCluster(t.db, p.id, decision.clusterWith);
    }
    expect(outcomes).toEqual({ ledger: null, times: 'ledger', live: null, gazette: 'ledger' });
    const members = await clusterMembers(t.db, 'ledger');
    expect(members.map((m) => [m.id, m.publisherName])).toEqual([
      ['ledger', 'ledger Paper'],
      ['times', 'times Paper'],
      ['gazette', 'gazette Paper'],
    ]);
    const live = await t.db.selectFrom('items').select('cluster_id').where('id', '=', 'live').executeTakeFirstOrThrow();
    expect(live.cluster_id).toBeNull();
  });
});
