import { describe, expect, it } from 'vitest';
import { MAX_BACKOFF_MS, nextFetchAt } from '../../src/ingest/next-fetch.js';

const now = new Date('2026-11-30T12:00:00Z');
const min = 60_000;

describe('nextFetchAt', () => {
  it.each([
    { name: 'success, no jitter drawn in the middle', errorCount: 0, everyMs: 15 * min, random: 0.5, expected: 15 * min },
    { name: 'success, lowest jitter is 10% early', errorCount: 0, everyMs: 10 * min, random: 0, expected: 9 * min },
    { name: 'success, highest jitter is 10% late', errorCount: 0, everyMs: 10 * min, random: 1, expected: 11 * min },
    { name: 'first failure never retries sooner than the interval', errorCount: 1, everyMs: 10 * min, random: 0, expected: 10 * min },
    { name: 'first failure, top of the window is two intervals', errorCount: 1, everyMs: 10 * min, random: 1, expected: 20 * min },
    { name: 'fifth failure window is 32 intervals', errorCount: 5, everyMs: 10 * min, random: 1, expected: 320 * min },
    { name: 'backoff is capped at 24 h', errorCount: 30, everyMs: 10 * min, random: 1, expected: MAX_BACKOFF_MS },
  ])('$name', ({ errorCount, everyMs, random, expected }) => {
    const at = nextFetchAt({ now, everyMs, errorCount, random: () => random });
    expect(at.getTime() - now.getTime()).toBe(expected);
  });
});
