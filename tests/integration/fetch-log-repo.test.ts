import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FetchLogEntry } from '../../src/domain.js';
import { TributaryError } from '../../src/errors.js';
import { listFetchLog, recordFetchLog } from '../../src/store/fetch-log-repo.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

// Runs on PGlite, and on PostgreSQL when DATABASE_URL is set.

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.close();
});
beforeEach(async () => {
  await t.db.deleteFrom('fetch_log').execute();
  await t.db.deleteFrom('sources').execute();
  // fetch_log references sources.
  await t.db
    .insertInto('sources')
    .values(['a', 'b'].map((id) => ({ id, url: `https://${id}.example/feed`, name: null, homepage: null, every_seconds: 900 })))
    .execute();
});

const base = Date.parse('2026-11-29T10:00:00Z');
const minutes = (n: number) => n * 60_000;
const recent = () => Date.now() - minutes(60);

function entry(sourceId: string, startedAt: number, over: Partial<FetchLogEntry> = {}): FetchLogEntry {
  return {
    sourceId,
    startedAt: new Date(startedAt),
    url: `https://${sourceId}.example/feed`,
    outcome: 'updated',
    status: 200,
    bytes: 1234,
    durationMs: 87,
    itemsNew: 2,
    itemsUpdated: 1,
    itemsUnchanged: 17,
    error: null,
    ...over,
  };
}

describe('recordFetchLog and listFetchLog', () => {
  it('round-trips every field, nulls included, without exposing the serial id', async () => {
    const t0 = recent();
    const ok = entry('a', t0);
    const failed = entry('a', t0 + 1_000, { outcome: 'failed', status: null, bytes: null, durationMs: 30_000, itemsNew: 0, itemsUpdated: 0, itemsUnchanged: 0, error: 'connect ECONNREFUSED' });
    const limited = entry('a', t0 + 2_000, { outcome: 'rate-limited', status: 429, bytes: 0, error: 'Retry-After 120' });
    for (const e of [ok, failed, limited]) await recordFetchLog(t.db, e);
    expect(await listFetchLog(t.db, 'a')).toEqual([limited, failed, ok]);
  });

  it('lists newest first by start time, whatever the order of writing, and honours the limit', async () => {
    const t0 = recent();
    for (const offset of [2, 0, 3, 1]) await recordFetchLog(t.db, entry('a', t0 + minutes(offset), { itemsNew: offset }));
    expect((await listFetchLog(t.db, 'a')).map((e) => e.itemsNew)).toEqual([3, 2, 1, 0]);
    expect((await listFetchLog(t.db, 'a', 2)).map((e) => e.itemsNew)).toEqual([3, 2]);
    expect(await listFetchLog(t.db, 'a', 0)).toEqual([]);
    expect(await listFetchLog(t.db, 'nobody')).toEqual([]);
  });

  it('entries with the same start time list the later written first', async () => {
    const t0 = recent();
    await recordFetchLog(t.db, entry('a', t0, { outcome: 'deferred', itemsNew: 0 }));
    await recordFetchLog(t.db, entry('a', t0, { outcome: 'updated', itemsNew: 1 }));
    expect((await listFetchLog(t.db, 'a')).map((e) => e.outcome)).toEqual(['updated', 'deferred']);
  });

  it('stores fractional durations and counts as integers', async () => {
    await recordFetchLog(t.db, entry('a', recent(), { durationMs: 12.6, bytes: 99.4 }));
    const [row] = await listFetchLog(t.db, 'a');
    expect(row).toMatchObject({ durationMs: 13, bytes: 99 });
  });

  it('keeps a long error message to 2000 characters', async () => {
    await recordFetchLog(t.db, entry('a', recent(), { outcome: 'failed', error: 'x'.repeat(5000) }));
    const [row] = await listFetchLog(t.db, 'a');
    expect(row?.error).toHaveLength(2000);
  });
});

describe('recordFetchLog prunes the source\'s history', () => {
  it('to the newest maxEntries (default 50), counted by start time', async () => {
    const t0 = recent() - minutes(100);
    for (let i = 0; i < 55; i++) await recordFetchLog(t.db, entry('a', t0 + minutes(i), { itemsNew: i }));
    const kept = await listFetchLog(t.db, 'a', 100);
    expect(kept).toHaveLength(50);
    expect(kept[0]?.itemsNew).toBe(54);
    expect(kept.at(-1)?.itemsNew).toBe(5);

    // A smaller window; an older entry written late is the one dropped.
    await recordFetchLog(t.db, entry('a', t0 - minutes(1), { itemsNew: 999 }), { maxEntries: 3 });
    expect((await listFetchLog(t.db, 'a', 100)).map((e) => e.itemsNew)).toEqual([54, 53, 52]);
  });

  it('drops entries older than maxAgeMs (default 30 days), including the one just written', async () => {
    const now = Date.now();
    await recordFetchLog(t.db, entry('a', now - 31 * 24 * 3600_000, { itemsNew: 31 }));
    expect(await listFetchLog(t.db, 'a')).toEqual([]);

    await recordFetchLog(t.db, entry('a', now - 29 * 24 * 3600_000, { itemsNew: 29 }));
    await recordFetchLog(t.db, entry('a', now - minutes(90), { itemsNew: 1 }));
    await recordFetchLog(t.db, entry('a', now - minutes(5), { itemsNew: 0 }));
    expect((await listFetchLog(t.db, 'a')).map((e) => e.itemsNew)).toEqual([0, 1, 29]);

    await recordFetchLog(t.db, entry('a', now, { itemsNew: 7 }), { maxAgeMs: minutes(60) });
    expect((await listFetchLog(t.db, 'a')).map((e) => e.itemsNew)).toEqual([7, 0]);
  });

  it('leaves other sources\' history untouched', async () => {
    const t0 = recent();
    const year = { maxAgeMs: 365 * 24 * 3600_000 };
    await recordFetchLog(t.db, entry('b', Date.now() - 40 * 24 * 3600_000, { itemsNew: 40 }), year);
    for (let i = 0; i < 3; i++) await recordFetchLog(t.db, entry('b', t0 + i, { itemsNew: i }), year);
    for (let i = 0; i < 3; i++) await recordFetchLog(t.db, entry('a', t0 + i, { itemsNew: i }), { maxEntries: 1 });
    expect((await listFetchLog(t.db, 'a')).map((e) => e.itemsNew)).toEqual([2]);
    // b keeps all four, even the 40-day-old one: pruning a, with its defaults, never reaches b.
    expect((await listFetchLog(t.db, 'b')).map((e) => e.itemsNew)).toEqual([2, 1, 0, 40]);
  });
});

describe('recordFetchLog: bad input is named', () => {
  it.each([
    { name: 'an unknown source', e: () => entry('ghost', base), message: /fetch log of source "ghost": no such source/ },
    { name: 'an invalid start time', e: () => entry('a', Number.NaN), message: /fetch log of source "a": startedAt is not a valid date/ },
    { name: 'a non-finite duration', e: () => entry('a', base, { durationMs: Number.POSITIVE_INFINITY }), message: /fetch log of source "a": durationMs must be a finite number/ },
    { name: 'an unknown outcome', e: () => entry('a', base, { outcome: 'exploded' as FetchLogEntry['outcome'] }), message: /unknown outcome "exploded"/ },
  ])('$name', async ({ e, message }) => {
    const p = recordFetchLog(t.db, e());
    await expect(p).rejects.toThrow(message);
    await expect(p).rejects.toBeInstanceOf(TributaryError);
    expect(await t.db.selectFrom('fetch_log').select('id').execute()).toEqual([]);
  });

  it.each([
    { name: 'maxEntries 0', keep: { maxEntries: 0 }, message: /maxEntries must be an integer >= 1, got 0/ },
    { name: 'negative maxAgeMs', keep: { maxAgeMs: -5 }, message: /maxAgeMs must be > 0, got -5/ },
  ])('a bad window: $name', async ({ keep, message }) => {
    await expect(recordFetchLog(t.db, entry('a', recent()), keep)).rejects.toThrow(message);
  });
});
