import { describe, expect, it } from 'vitest';
import type { FeedScheduleHints, ResponseHints } from '../../src/domain.js';
import { TributaryError } from '../../src/errors.js';
import { EMPTY_SCHEDULE } from '../../src/ingest/feed-schedule.js';
import { humanDuration, MAX_BACKOFF_MS, planNextFetch, type PlanInput } from '../../src/ingest/next-fetch.js';

const sec = 1000;
const min = 60 * sec;
const hour = 60 * min;
const day = 24 * hour;

/** Monday, noon UTC. */
const NOON = new Date('2026-11-30T12:00:00Z');

const feed = (partial: Partial<FeedScheduleHints>): FeedScheduleHints => ({ ...EMPTY_SCHEDULE, ...partial });
const response = (partial: Partial<ResponseHints>): ResponseHints => ({ maxAgeMs: null, expiresAt: null, retryAfter: null, ...partial });
const inFromNoon = (ms: number): Date => new Date(NOON.getTime() + ms);

type Case = Partial<Omit<PlanInput, 'random'>> & { random?: number };

/** Defaults: 15 m interval, 1 m floor, 24 h ceiling, a success, the jitter draw in the middle (none). */
function plan(c: Case): { delay: number; reason: string; at: Date } {
  const { random = 0.5, ...rest } = c;
  const input: PlanInput = { now: NOON, everyMs: 15 * min, minIntervalMs: min, maxIntervalMs: day, errorCount: 0, ...rest, random: () => random };
  const planned = planNextFetch(input);
  return { delay: planned.at.getTime() - input.now.getTime(), reason: planned.reason, at: planned.at };
}

describe('planNextFetch after a success', () => {
  it.each([
    { name: 'the interval, jitter drawn in the middle', c: {}, delay: 15 * min, reason: 'interval 15m' },
    { name: 'lowest jitter is 10% early', c: { random: 0 }, delay: 13.5 * min, reason: 'interval 15m' },
    { name: 'highest jitter is 10% late', c: { random: 1 }, delay: 16.5 * min, reason: 'interval 15m' },
    { name: 'ttl longer than the interval wins', c: { feed: feed({ ttlMinutes: 60 }) }, delay: 60 * min, reason: 'ttl 60m' },
    { name: 'ttl shorter than the interval loses', c: { feed: feed({ ttlMinutes: 5 }) }, delay: 15 * min, reason: 'interval 15m' },
    { name: 'jitter never goes below a hint', c: { random: 0, feed: feed({ ttlMinutes: 14 }) }, delay: 14 * min, reason: 'ttl 14m' },
    { name: 'a hint is not jittered', c: { random: 1, feed: feed({ ttlMinutes: 30 }) }, delay: 30 * min, reason: 'ttl 30m' },
    { name: 'sy:updatePeriod hourly/2', c: { feed: feed({ updatePeriod: 'hourly', updateFrequency: 2 }) }, delay: 30 * min, reason: 'sy:updatePeriod hourly/2' },
    { name: 'sy:updatePeriod daily/2', c: { feed: feed({ updatePeriod: 'daily', updateFrequency: 2 }) }, delay: 12 * hour, reason: 'sy:updatePeriod daily/2' },
    { name: 'sy:updatePeriod without a frequency is once per period', c: { feed: feed({ updatePeriod: 'hourly', updateFrequency: null }) }, delay: hour, reason: 'sy:updatePeriod hourly' },
    { name: 'sy:updatePeriod hourly/100 is below the interval', c: { feed: feed({ updatePeriod: 'hourly', updateFrequency: 100 }) }, delay: 15 * min, reason: 'interval 15m' },
    { name: 'sy:updatePeriod weekly is capped at the ceiling', c: { feed: feed({ updatePeriod: 'weekly', updateFrequency: 1 }) }, delay: day, reason: 'sy:updatePeriod weekly (ceiling)' },
    { name: 'Cache-Control max-age', c: { response: response({ maxAgeMs: hour }) }, delay: hour, reason: 'Cache-Control max-age 1h' },
    { name: 'Cache-Control max-age of 90 minutes', c: { response: response({ maxAgeMs: 90 * min }) }, delay: 90 * min, reason: 'Cache-Control max-age 1h30m' },
    { name: 'max-age 0 is no hint', c: { response: response({ maxAgeMs: 0 }) }, delay: 15 * min, reason: 'interval 15m' },
    { name: 'Expires', c: { response: response({ expiresAt: inFromNoon(2 * hour) }) }, delay: 2 * hour, reason: 'Expires' },
    { name: 'Expires in the past is no hint', c: { response: response({ expiresAt: inFromNoon(-hour) }) }, delay: 15 * min, reason: 'interval 15m' },
    { name: 'Expires is ignored next to max-age (RFC 9111 §5.3)', c: { response: response({ maxAgeMs: 20 * min, expiresAt: inFromNoon(3 * hour) }) }, delay: 20 * min, reason: 'Cache-Control max-age 20m' },
    { name: 'Retry-After', c: { response: response({ retryAfter: inFromNoon(3 * hour) }) }, delay: 3 * hour, reason: 'Retry-After' },
    { name: 'an invalid Retry-After date is no hint', c: { response: response({ retryAfter: new Date(Number.NaN) }) }, delay: 15 * min, reason: 'interval 15m' },
    { name: 'a year-long Retry-After is capped at the ceiling', c: { response: response({ retryAfter: inFromNoon(365 * day) }) }, delay: day, reason: 'Retry-After (ceiling)' },
    {
      name: 'the latest of several hints wins',
      c: { feed: feed({ ttlMinutes: 30, updatePeriod: 'hourly', updateFrequency: 4 }), response: response({ maxAgeMs: 45 * min, retryAfter: inFromNoon(40 * min) }) },
      delay: 45 * min,
      reason: 'Cache-Control max-age 45m',
    },
    { name: 'an interval below the floor', c: { everyMs: 20 * sec }, delay: min, reason: 'interval 20s (floor)' },
    { name: 'a jittered interval just below the floor', c: { everyMs: min, random: 0 }, delay: min, reason: 'interval 1m (floor)' },
    { name: 'an interval above the ceiling', c: { everyMs: 2 * day }, delay: day, reason: 'interval 2d (ceiling)' },
    { name: 'a hint above a lowered ceiling', c: { maxIntervalMs: 6 * hour, feed: feed({ ttlMinutes: 720 }) }, delay: 6 * hour, reason: 'ttl 720m (ceiling)' },
  ])('$name', ({ c, delay, reason }) => {
    expect(plan(c)).toMatchObject({ delay, reason });
  });
});

describe('planNextFetch after failures', () => {
  it.each([
    { name: 'first failure never retries sooner than the interval', c: { errorCount: 1, random: 0 }, delay: 15 * min, reason: 'backoff after 1 error' },
    { name: 'first failure, top of the window is two intervals', c: { errorCount: 1, random: 1 }, delay: 30 * min, reason: 'backoff after 1 error' },
    { name: 'fifth failure window is 32 intervals', c: { errorCount: 5, random: 1 }, delay: 8 * hour, reason: 'backoff after 5 errors' },
    { name: 'full jitter within the window', c: { errorCount: 5, random: 0.25 }, delay: 2 * hour, reason: 'backoff after 5 errors' },
    { name: 'backoff is capped at 24 h', c: { errorCount: 30, random: 1, maxIntervalMs: 7 * day }, delay: MAX_BACKOFF_MS, reason: 'backoff after 30 errors' },
    { name: 'backoff is capped at a lower ceiling', c: { errorCount: 10, random: 1, maxIntervalMs: 6 * hour }, delay: 6 * hour, reason: 'backoff after 10 errors' },
    { name: 'a huge error count does not overflow', c: { errorCount: 1e9, random: 1 }, delay: MAX_BACKOFF_MS, reason: 'backoff after 1000000000 errors' },
    { name: 'an interval longer than the cap is still the least wait', c: { everyMs: 2 * day, maxIntervalMs: 3 * day, errorCount: 1, random: 1 }, delay: 2 * day, reason: 'backoff after 1 error' },
    { name: 'Retry-After beyond the backoff wins', c: { errorCount: 1, random: 1, response: response({ retryAfter: inFromNoon(2 * hour) }) }, delay: 2 * hour, reason: 'Retry-After' },
    { name: 'Retry-After sooner than the backoff loses', c: { errorCount: 5, random: 1, response: response({ retryAfter: inFromNoon(hour) }) }, delay: 8 * hour, reason: 'backoff after 5 errors' },
    { name: 'a year-long Retry-After on a failure is capped', c: { errorCount: 2, response: response({ retryAfter: inFromNoon(365 * day) }) }, delay: day, reason: 'Retry-After (ceiling)' },
    { name: 'the last document\'s ttl still bounds a retry', c: { errorCount: 1, random: 0, feed: feed({ ttlMinutes: 120 }) }, delay: 2 * hour, reason: 'ttl 120m' },
  ])('$name', ({ c, delay, reason }) => {
    expect(plan(c)).toMatchObject({ delay, reason });
  });

  it('widens the backoff window with each failure until the cap', () => {
    const tops = Array.from({ length: 12 }, (_, i) => plan({ errorCount: i + 1, random: 1 }).delay);
    expect(tops.slice(0, 4)).toEqual([30 * min, hour, 2 * hour, 4 * hour]);
    for (let i = 1; i < tops.length; i++) expect(tops[i]).toBeGreaterThanOrEqual(tops[i - 1] ?? 0);
    expect(tops.at(-1)).toBe(MAX_BACKOFF_MS);
  });
});

describe('planNextFetch with skipHours and skipDays (GMT)', () => {
  const at = (iso: string): Date => new Date(iso);
  it.each([
    { name: 'outside the skipped hours nothing moves', now: '2026-11-30T10:00:00Z', c: { feed: feed({ skipHours: [12] }) }, at: '2026-11-30T10:15:00Z', reason: 'interval 15m' },
    { name: 'a skipped hour moves to the next hour', now: '2026-11-30T11:50:00Z', c: { feed: feed({ skipHours: [12] }) }, at: '2026-11-30T13:00:00Z', reason: 'interval 15m, skipHours' },
    { name: 'a run of skipped hours wraps past midnight', now: '2026-11-30T22:50:00Z', c: { feed: feed({ skipHours: [23, 0, 1, 2] }) }, at: '2026-12-01T03:00:00Z', reason: 'interval 15m, skipHours' },
    { name: 'hour 24 from a sloppy caller is midnight', now: '2026-11-30T23:50:00Z', c: { feed: feed({ skipHours: [24] }) }, at: '2026-12-01T01:00:00Z', reason: 'interval 15m, skipHours' },
    { name: 'a skipped day moves to the next day\'s midnight', now: '2026-11-30T23:50:00Z', c: { maxIntervalMs: 2 * day, feed: feed({ skipDays: ['Tuesday'] }) }, at: '2026-12-02T00:00:00Z', reason: 'interval 15m, skipDays' },
    { name: 'a skipped weekend, with a week-long ceiling', now: '2026-12-04T23:50:00Z', c: { maxIntervalMs: 7 * day, feed: feed({ skipDays: ['Saturday', 'Sunday'] }) }, at: '2026-12-07T00:00:00Z', reason: 'interval 15m, skipDays' },
    { name: 'a skipped weekend, capped by a 24 h ceiling', now: '2026-12-04T23:50:00Z', c: { feed: feed({ skipDays: ['Saturday', 'Sunday'] }) }, at: '2026-12-05T23:50:00Z', reason: 'interval 15m, skipDays (ceiling)' },
    { name: 'day names in any case', now: '2026-11-30T23:50:00Z', c: { maxIntervalMs: 2 * day, feed: feed({ skipDays: ['tuesday'] }) }, at: '2026-12-02T00:00:00Z', reason: 'interval 15m, skipDays' },
    { name: 'skipped day then skipped morning hours', now: '2026-11-30T23:50:00Z', c: { maxIntervalMs: 7 * day, feed: feed({ skipDays: ['Tuesday'], skipHours: [0, 1, 2, 3, 4, 5] }) }, at: '2026-12-02T06:00:00Z', reason: 'interval 15m, skipHours, skipDays' },
    { name: 'all 24 hours skipped is ignored', now: '2026-11-30T11:50:00Z', c: { feed: feed({ skipHours: Array.from({ length: 24 }, (_, h) => h) }) }, at: '2026-11-30T12:05:00Z', reason: 'interval 15m' },
    { name: 'all 7 days skipped is ignored', now: '2026-11-30T11:50:00Z', c: { feed: feed({ skipDays: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] }) }, at: '2026-11-30T12:05:00Z', reason: 'interval 15m' },
    { name: 'all days skipped ignored, skipped hours still apply', now: '2026-11-30T11:50:00Z', c: { feed: feed({ skipHours: [12], skipDays: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] }) }, at: '2026-11-30T13:00:00Z', reason: 'interval 15m, skipHours' },
    { name: 'a ttl landing in a skipped hour', now: '2026-11-30T11:30:00Z', c: { feed: feed({ ttlMinutes: 60, skipHours: [12] }) }, at: '2026-11-30T13:00:00Z', reason: 'ttl 60m, skipHours' },
    { name: 'a floor-clamped time landing in a skipped hour', now: '2026-11-30T11:59:30Z', c: { everyMs: 10 * sec, feed: feed({ skipHours: [12] }) }, at: '2026-11-30T13:00:00Z', reason: 'interval 10s (floor), skipHours' },
    { name: 'a retry after a failure respects skipped hours', now: '2026-11-30T11:50:00Z', c: { errorCount: 1, random: 0, feed: feed({ skipHours: [12] }) }, at: '2026-11-30T13:00:00Z', reason: 'backoff after 1 error, skipHours' },
  ])('$name', ({ now, c, at: expected, reason }) => {
    const planned = plan({ ...c, now: at(now) });
    expect(planned.at.toISOString()).toBe(at(expected).toISOString());
    expect(planned.reason).toBe(reason);
  });
});

describe('planNextFetch with an adaptive interval', () => {
  /** Posts every `gap`, the latest `ago` before NOON, `count` of them. */
  const posts = (gap: number, count: number, ago = 0): Date[] => Array.from({ length: count }, (_, i) => inFromNoon(-ago - i * gap));

  it.each([
    { name: 'adaptive off (no postedAt) keeps the interval', c: { everyMs: hour }, delay: hour, reason: 'interval 1h' },
    { name: 'no stories yet keeps the interval', c: { everyMs: hour, postedAt: [] }, delay: hour, reason: 'interval 1h' },
    { name: 'an hourly poster: half its gap', c: { everyMs: hour, postedAt: posts(hour, 48, hour) }, delay: 30 * min, reason: 'adaptive ~1 post/h' },
    { name: 'posting every 10 minutes, capped at a quarter of the interval', c: { everyMs: hour, postedAt: posts(10 * min, 100, 10 * min) }, delay: 15 * min, reason: 'adaptive ~6 posts/h' },
    { name: 'a daily poster, capped at 8 intervals', c: { everyMs: hour, postedAt: posts(day, 20, day) }, delay: 8 * hour, reason: 'adaptive ~1 post/d' },
    { name: 'a weekly poster', c: { everyMs: hour, postedAt: posts(7 * day, 8, day) }, delay: 8 * hour, reason: 'adaptive ~1.2 posts/wk' },
    { name: 'bursts count by rate, not by their tiny gaps', c: { everyMs: 2 * hour, postedAt: [...posts(sec, 10, 2 * hour), ...posts(sec, 10, 26 * hour), ...posts(sec, 10, 50 * hour)] }, delay: (50 * hour + 9 * sec) / 30 / 2, reason: 'adaptive ~14 posts/d' },
    { name: 'two recent posts are too few to speed up', c: { everyMs: hour, postedAt: posts(min, 2, min) }, delay: hour, reason: 'adaptive, 2 posts in 2m' },
    { name: 'two posts over ten days slow down', c: { everyMs: hour, postedAt: posts(5 * day, 2, 5 * day) }, delay: 8 * hour, reason: 'adaptive, 2 posts in 10d' },
    { name: 'the same time stamped on every item is one post', c: { everyMs: hour, postedAt: Array.from({ length: 20 }, () => inFromNoon(-min)) }, delay: hour, reason: 'adaptive, 1 post in 1m' },
    { name: 'future-dated items are not posts yet', c: { everyMs: hour, postedAt: [...posts(-min, 30, -min)] }, delay: hour, reason: 'interval 1h' },
    { name: 'nothing in 30 days: the slow end, within the ceiling', c: { everyMs: hour, maxIntervalMs: 6 * hour, postedAt: posts(day, 5, 40 * day) }, delay: 6 * hour, reason: 'adaptive, no posts in 30d (ceiling)' },
    { name: 'jitter applies to the adaptive base', c: { everyMs: hour, random: 0, postedAt: posts(hour, 48, hour) }, delay: 27 * min, reason: 'adaptive ~1 post/h' },
    { name: 'a hint still wins over a fast adaptive base', c: { everyMs: hour, postedAt: posts(hour, 48, hour), feed: feed({ ttlMinutes: 60 }) }, delay: hour, reason: 'ttl 60m' },
    { name: 'backoff grows from the adaptive base', c: { everyMs: hour, errorCount: 2, random: 1, postedAt: posts(hour, 48, hour) }, delay: 2 * hour, reason: 'backoff after 2 errors' },
    { name: 'the floor still bounds a fast poster', c: { everyMs: 2 * min, minIntervalMs: 2 * min, postedAt: posts(sec * 10, 100, sec * 10) }, delay: 2 * min, reason: 'adaptive ~360 posts/h (floor)' },
  ])('$name', ({ c, delay, reason }) => {
    expect(plan(c)).toMatchObject({ delay, reason });
  });

  it('polls an hourly poster more often than a weekly poster', () => {
    const hourly = plan({ everyMs: hour, postedAt: posts(hour, 100, 20 * min) }).delay;
    const weekly = plan({ everyMs: hour, postedAt: posts(7 * day, 10, 2 * day) }).delay;
    expect(hourly).toBeLessThan(hour);
    expect(weekly).toBeGreaterThan(hour);
    expect(hourly).toBeLessThan(weekly);
  });

  it('lets a source that fell silent drift toward the ceiling', () => {
    // Posted every hour for 30 days, then nothing; planned after 0, 5, ..., 31 days of silence.
    const lastPost = NOON.getTime();
    const history = Array.from({ length: 30 * 24 + 1 }, (_, i) => new Date(lastPost - i * hour));
    const silences = [0, 5, 10, 15, 20, 25, 28, 31];
    const delays = silences.map((s) => plan({ now: new Date(lastPost + s * day), everyMs: hour, maxIntervalMs: 6 * hour, postedAt: history }).delay);
    for (let i = 1; i < delays.length; i++) expect(delays[i], `after ${silences[i]} days`).toBeGreaterThanOrEqual(delays[i - 1] ?? 0);
    expect(delays[0]).toBe(30 * min);
    expect(delays[2]).toBeGreaterThan(delays[0] ?? 0);
    expect(delays.at(-1)).toBe(6 * hour);
  });
});

describe('planNextFetch bounds', () => {
  it('never plans before now + floor nor after now + ceiling, whatever the inputs', () => {
    // A deterministic sweep (LCG) over intervals, errors, hints, skips and random draws.
    let seed = 42;
    const next = (): number => (seed = (seed * 1664525 + 1013904223) % 2 ** 32) / 2 ** 32;
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
    for (let i = 0; i < 2000; i++) {
      const minIntervalMs = pick([0, sec, min, 10 * min]);
      const maxIntervalMs = minIntervalMs + pick([0, min, hour, day, 7 * day]);
      const input: PlanInput = {
        now: inFromNoon(Math.floor(next() * 7 * day)),
        everyMs: pick([sec, min, 15 * min, day, 30 * day]),
        minIntervalMs,
        maxIntervalMs: Math.max(maxIntervalMs, 1),
        errorCount: pick([0, 0, 1, 3, 40]),
        feed: feed({ ttlMinutes: pick([null, 1, 60, 1e9]), updatePeriod: pick([null, 'hourly', 'yearly'] as const), skipHours: pick([[], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22], [12]]), skipDays: pick([[], ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']]) }),
        response: response({ maxAgeMs: pick([null, 0, hour]), retryAfter: pick([null, inFromNoon(400 * day)]) }),
        postedAt: pick([null, [], Array.from({ length: 20 }, () => inFromNoon(-next() * 40 * day))]),
        random: next,
      };
      const delay = planNextFetch(input).at.getTime() - input.now.getTime();
      expect(delay).toBeGreaterThanOrEqual(input.minIntervalMs);
      expect(delay).toBeLessThanOrEqual(input.maxIntervalMs);
    }
  });

  it.each([
    { name: 'a zero interval', c: { everyMs: 0 }, field: 'everyMs' },
    { name: 'a NaN interval', c: { everyMs: Number.NaN }, field: 'everyMs' },
    { name: 'a negative floor', c: { minIntervalMs: -1 }, field: 'minIntervalMs' },
    { name: 'a ceiling below the floor', c: { minIntervalMs: hour, maxIntervalMs: min }, field: 'maxIntervalMs' },
    { name: 'an invalid clock', c: { now: new Date(Number.NaN) }, field: 'now' },
    { name: 'an infinite error count', c: { errorCount: Number.POSITIVE_INFINITY }, field: 'errorCount' },
  ])('rejects $name, naming the field', ({ c, field }) => {
    let caught: unknown;
    try {
      plan(c);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TributaryError);
    expect((caught as TributaryError).kind).toBe('config');
    expect((caught as TributaryError).subject).toBe(field);
    expect((caught as TributaryError).message).toMatch(new RegExp(`^cannot plan the next fetch: ${field} must be `));
  });
});

describe('humanDuration', () => {
  it.each([
    { name: 'zero', ms: 0, expected: '0s' },
    { name: 'under a second', ms: 250, expected: '250ms' },
    { name: 'seconds', ms: 45 * sec, expected: '45s' },
    { name: 'minutes and seconds', ms: 2 * min + 5 * sec, expected: '2m5s' },
    { name: 'whole minutes', ms: 15 * min, expected: '15m' },
    { name: 'hours and minutes', ms: 90 * min, expected: '1h30m' },
    { name: 'seconds below the second unit dropped', ms: hour + 30 * sec, expected: '1h' },
    { name: 'whole days', ms: 2 * day, expected: '2d' },
    { name: 'days and hours', ms: 26 * hour + 59 * min, expected: '1d2h' },
  ])('$name', ({ ms, expected }) => {
    expect(humanDuration(ms)).toBe(expected);
  });
});
