import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { openDatabase } from '../../src/store/db.js';
import { acquireHostSlot, hostPauses, pauseHost, releaseHostSlot, type SlotRequest } from '../../src/store/hosts-repo.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';

// Runs on PGlite, and on PostgreSQL when DATABASE_URL is set. Times are real (short gaps and leases).

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.close();
});
beforeEach(async () => {
  await t.db.deleteFrom('host_slots').execute();
  await t.db.deleteFrom('hosts').execute();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function req(sourceId: string, over: Partial<SlotRequest> = {}): SlotRequest {
  return { hostKey: 'example.com', sourceId, owner: 'w1', limit: 2, gapMs: 0, leaseMs: 60_000, ...over };
}

async function slots(hostKey = 'example.com') {
  return t.db.selectFrom('host_slots').select(['source_id', 'owner']).where('host_key', '=', hostKey).orderBy('source_id').execute();
}

async function lastRequestAt(hostKey = 'example.com'): Promise<Date> {
  const row = await t.db.selectFrom('hosts').select('last_request_at').where('host_key', '=', hostKey).executeTakeFirstOrThrow();
  return row.last_request_at!;
}

describe('acquireHostSlot: concurrency limit', () => {
  it('grants up to the limit, then says busy; a release frees a slot', async () => {
    expect(await acquireHostSlot(t.db, req('a'))).toEqual({ ok: true });
    expect(await acquireHostSlot(t.db, req('b'))).toEqual({ ok: true });
    const third = await acquireHostSlot(t.db, req('c'));
    expect(third).toMatchObject({ ok: false, reason: 'busy', detail: '2 of 2 requests to example.com in flight' });
    expect(await slots()).toEqual([
      { source_id: 'a', owner: 'w1' },
      { source_id: 'b', owner: 'w1' },
    ]);

    await releaseHostSlot(t.db, { hostKey: 'example.com', sourceId: 'a' });
    expect(await acquireHostSlot(t.db, req('c'))).toEqual({ ok: true });
    expect((await slots()).map((s) => s.source_id)).toEqual(['b', 'c']);
    // Releasing a slot one does not hold is harmless.
    await releaseHostSlot(t.db, { hostKey: 'example.com', sourceId: 'nobody' });
    expect(await slots()).toHaveLength(2);
  });

  it('hosts have separate budgets', async () => {
    expect(await acquireHostSlot(t.db, req('a', { limit: 1 }))).toEqual({ ok: true });
    expect(await acquireHostSlot(t.db, req('b', { limit: 1 }))).toMatchObject({ ok: false, reason: 'busy' });
    expect(await acquireHostSlot(t.db, req('b', { limit: 1, hostKey: 'other.org' }))).toEqual({ ok: true });
  });

  it('busy: retry at the gap when it ends before the earliest lease, else at that lease end', async () => {
    expect(await acquireHostSlot(t.db, req('a', { limit: 1, leaseMs: 60_000 }))).toEqual({ ok: true });
    const before = Date.now();
    const byGap = await acquireHostSlot(t.db, req('b', { limit: 1, gapMs: 5_000 }));
    expect(byGap).toMatchObject({ ok: false, reason: 'busy' });
    if (byGap.ok) throw new Error('unreachable');
    // now + 5 s (database clock; allow for the clocks and the round trip).
    expect(byGap.retryAt.getTime()).toBeGreaterThan(before + 4_000);
    expect(byGap.retryAt.getTime()).toBeLessThan(Date.now() + 6_000);

    await releaseHostSlot(t.db, { hostKey: 'example.com', sourceId: 'a' });
    expect(await acquireHostSlot(t.db, req('a', { limit: 1, leaseMs: 2_000 }))).toEqual({ ok: true });
    const lease = await t.db.selectFrom('host_slots').select('lease_until').where('source_id', '=', 'a').executeTakeFirstOrThrow();
    const byLease = await acquireHostSlot(t.db, req('b', { limit: 1, gapMs: 5_000 }));
    expect(byLease).toEqual({ ok: false, reason: 'busy', retryAt: lease.lease_until, detail: '1 of 1 requests to example.com in flight' });
  });

  it('busy with no gap: retry now (a slot may be released any moment), never in the past', async () => {
    expect(await acquireHostSlot(t.db, req('a', { limit: 1 }))).toEqual({ ok: true });
    const before = Date.now();
    const r = await acquireHostSlot(t.db, req('b', { limit: 1, gapMs: 0 }));
    if (r.ok) throw new Error('expected busy');
    expect(r.reason).toBe('busy');
    expect(Math.abs(r.retryAt.getTime() - before)).toBeLessThan(2_000);
  });

  it('the same source re-acquiring replaces its own slot rather than taking a second', async () => {
    expect(await acquireHostSlot(t.db, req('a', { limit: 1, owner: 'w1' }))).toEqual({ ok: true });
    expect(await acquireHostSlot(t.db, req('a', { limit: 1, owner: 'w2' }))).toEqual({ ok: true });
    expect(await slots()).toEqual([{ source_id: 'a', owner: 'w2' }]);
    expect(await acquireHostSlot(t.db, req('b', { limit: 1 }))).toMatchObject({ ok: false, reason: 'busy' });
  });

  it('slots of a crashed worker are reclaimed once their lease ends', async () => {
    expect(await acquireHostSlot(t.db, req('a', { owner: 'crashed', leaseMs: 300 }))).toEqual({ ok: true });
    expect(await acquireHostSlot(t.db, req('b', { owner: 'crashed', leaseMs: 300 }))).toEqual({ ok: true });
    expect(await acquireHostSlot(t.db, req('c', { owner: 'w2' }))).toMatchObject({ ok: false, reason: 'busy' });
    await sleep(400);
    expect(await acquireHostSlot(t.db, req('c', { owner: 'w2' }))).toEqual({ ok: true });
    // The expired rows are gone, not merely ignored.
    expect(await slots()).toEqual([{ source_id: 'c', owner: 'w2' }]);
  });
});

describe('acquireHostSlot: minimum gap between request starts', () => {
  it('refuses within the gap with retryAt = last start + gap, and grants after it', async () => {
    const gapMs = 300;
    expect(await acquireHostSlot(t.db, req('a', { gapMs }))).toEqual({ ok: true });
    const last = await lastRequestAt();
    const r = await acquireHostSlot(t.db, req('b', { gapMs }));
    if (r.ok) throw new Error('expected gap');
    expect(r.reason).toBe('gap');
    expect(r.detail).toBe('less than 300 ms since the last request to example.com started');
    expect(Math.abs(r.retryAt.getTime() - (last.getTime() + gapMs))).toBeLessThanOrEqual(1);

    // The gap counts from the start: releasing at once does not let the next one in early.
    await releaseHostSlot(t.db, { hostKey: 'example.com', sourceId: 'a' });
    expect(await acquireHostSlot(t.db, req('b', { gapMs }))).toMatchObject({ ok: false, reason: 'gap' });

    await sleep(Math.max(0, r.retryAt.getTime() - Date.now()) + 50);
    expect(await acquireHostSlot(t.db, req('b', { gapMs }))).toEqual({ ok: true });
    expect((await lastRequestAt()).getTime()).toBeGreaterThanOrEqual(last.getTime() + gapMs);
  });

  it('a refused request does not move the gap along', async () => {
    expect(await acquireHostSlot(t.db, req('a', { gapMs: 300 }))).toEqual({ ok: true });
    const last = await lastRequestAt();
    await acquireHostSlot(t.db, req('b', { gapMs: 300 }));
    await acquireHostSlot(t.db, req('c', { gapMs: 300 }));
    expect(await lastRequestAt()).toEqual(last);
  });
});

describe('pauseHost and hostPauses', () => {
  it('a pause blocks with reason "paused" and retryAt = until; a shorter later pause does not shorten it', async () => {
    const until = new Date(Date.now() + 3_600_000);
    await pauseHost(t.db, 'example.com', until, '429 Too Many Requests');
    const r = await acquireHostSlot(t.db, req('a'));
    expect(r).toEqual({
      ok: false,
      reason: 'paused',
      retryAt: until,
      detail: `example.com asked us to wait until ${until.toISOString()}: 429 Too Many Requests`,
    });
    expect(await slots()).toEqual([]);

    await pauseHost(t.db, 'example.com', new Date(Date.now() + 60_000), '503 Service Unavailable');
    expect(await hostPauses(t.db)).toEqual(new Map([['example.com', { until, reason: '429 Too Many Requests' }]]));

    const later = new Date(Date.now() + 7_200_000);
    await pauseHost(t.db, 'example.com', later, '503 Service Unavailable');
    expect(await hostPauses(t.db, ['example.com'])).toEqual(new Map([['example.com', { until: later, reason: '503 Service Unavailable' }]]));
  });

  it('the pause comes before the concurrency and gap checks, and ends on time', async () => {
    expect(await acquireHostSlot(t.db, req('a', { limit: 1 }))).toEqual({ ok: true });
    const until = new Date(Date.now() + 300);
    await pauseHost(t.db, 'example.com', until, 'Retry-After');
    expect(await acquireHostSlot(t.db, req('b', { limit: 1 }))).toMatchObject({ ok: false, reason: 'paused', retryAt: until });
    await releaseHostSlot(t.db, { hostKey: 'example.com', sourceId: 'a' });
    await sleep(400);
    expect(await acquireHostSlot(t.db, req('b', { limit: 1 }))).toEqual({ ok: true });
    // An ended pause is not listed.
    expect(await hostPauses(t.db)).toEqual(new Map());
  });

  it('a new pause replaces an ended one', async () => {
    await pauseHost(t.db, 'example.com', new Date(Date.now() - 60_000), 'old');
    const until = new Date(Date.now() + 60_000);
    await pauseHost(t.db, 'example.com', until, 'new');
    expect(await hostPauses(t.db)).toEqual(new Map([['example.com', { until, reason: 'new' }]]));
  });

  it('hostPauses lists only the asked hosts, and only pauses still in the future', async () => {
    const soon = new Date(Date.now() + 60_000);
    await pauseHost(t.db, 'a.example.com', soon, 'one');
    await pauseHost(t.db, 'b.org', soon, 'two');
    await pauseHost(t.db, 'c.net', new Date(Date.now() - 1_000), 'over');
    await acquireHostSlot(t.db, req('x', { hostKey: 'never-paused.io' }));
    expect([...(await hostPauses(t.db)).keys()]).toEqual(['a.example.com', 'b.org']);
    expect(await hostPauses(t.db, ['b.org', 'c.net', 'never-paused.io', 'unknown.dev'])).toEqual(new Map([['b.org', { until: soon, reason: 'two' }]]));
    expect(await hostPauses(t.db, [])).toEqual(new Map());
  });

  it('rejects an invalid date, naming the host', async () => {
    await expect(pauseHost(t.db, 'example.com', new Date('nope'), 'x')).rejects.toThrow(/"until" for example\.com is not a valid date/);
  });
});

describe('acquireHostSlot: many workers at once', () => {
  it('ten concurrent acquires with a limit of two give exactly two slots', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => acquireHostSlot(t.db, req(`s${i}`, { owner: `w${i}` }))));
    expect(results.filter((r) => r.ok)).toHaveLength(2);
    expect(results.filter((r) => !r.ok && r.reason === 'busy')).toHaveLength(8);
    expect(await slots()).toHaveLength(2);
  });

  it('ten concurrent acquires within one gap give exactly one slot', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => acquireHostSlot(t.db, req(`s${i}`, { limit: 10, gapMs: 5_000 }))));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.reason === 'gap')).toHaveLength(9);
  });

  it.runIf(usingPostgres)('two worker processes (two connection pools) share one budget on a new host', async () => {
    const other = await openDatabase({ kind: 'postgres', url: t.url!, poolSize: 5 });
    try {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => acquireHostSlot(i % 2 ? other.db : t.db, req(`s${i}`, { hostKey: 'fresh.example.com', owner: `p${i % 2}` }))),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(2);
      expect(await slots('fresh.example.com')).toHaveLength(2);
    } finally {
      await other.close();
    }
  });
});

describe('acquireHostSlot: bad settings are named', () => {
  it.each([
    { name: 'limit 0', over: { limit: 0 }, message: /limit \(host_concurrency\) must be an integer >= 1, got 0/ },
    { name: 'fractional limit', over: { limit: 1.5 }, message: /limit \(host_concurrency\) must be an integer >= 1, got 1.5/ },
    { name: 'negative gap', over: { gapMs: -1 }, message: /gapMs \(host_gap\) must be >= 0, got -1/ },
    { name: 'NaN lease', over: { leaseMs: Number.NaN }, message: /leaseMs must be > 0, got NaN/ },
    { name: 'empty host key', over: { hostKey: '' }, message: /hostKey is empty/ },
  ])('$name', async ({ over, message }) => {
    const p = acquireHostSlot(t.db, req('a', over));
    await expect(p).rejects.toThrow(message);
    await expect(p).rejects.toBeInstanceOf(TributaryError);
  });
});
