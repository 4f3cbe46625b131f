// When a source is next due, and why. Pure: the caller passes the clock, the random source and what
// it knows (the feed's schedule hints, the response's caching hints, recent publication times).
//
// The rules, in order (issue #3):
// 1. A base: the source's interval, or with `adaptive` one derived from its posting rate. After a
//    success it is spread by +-10% jitter so sources configured together do not poll in lock-step;
//    after a failure it grows by exponential backoff with full jitter (AWS Architecture Blog,
//    "Exponential Backoff And Jitter"), so a dead feed is retried less and less but never dropped.
// 2. Publisher hints are hard lower bounds, never jittered: RSS <ttl>, sy:updatePeriod/Frequency,
//    Cache-Control max-age and Expires (RFC 9111 §4.2.1), Retry-After (RFC 9110 §10.2.3). We never
//    poll sooner than the publisher asks. The feed's hints also bound retries after a failure: a
//    retry is a poll like any other.
// 3. The operator's floor and ceiling (settings.min_interval / max_interval) bound everything, the
//    hints included (see clampToBounds for why even Retry-After).
// 4. skipHours/skipDays (RSS 2.0, GMT) move the time out of the publisher's blackout hours.
import type { FeedScheduleHints, ResponseHints } from '../domain.js';
import { DAY, HOUR, MINUTE, SECOND } from '../durations.js';
import { TributaryError } from '../errors.js';

/** The longest a failing source waits between retries, whatever its interval. */
export const MAX_BACKOFF_MS = DAY;

export interface PlanInput {
  readonly now: Date;
  /** The source's configured interval. */
  readonly everyMs: number;
  /** Floor (settings.min_interval). */
  readonly minIntervalMs: number;
  /** Ceiling (settings.max_interval). */
  readonly maxIntervalMs: number;
  /** Consecutive failures including this one; 0 after a success. */
  readonly errorCount: number;
  /** The latest document's hints (also used after a 304 or a failure). */
  readonly feed?: FeedScheduleHints | null;
  /** Cache-Control max-age / Expires / Retry-After of this response. */
  readonly response?: ResponseHints | null;
  /** Publication times of the source's recent stories, when adaptive is on (null or absent: off). */
  readonly postedAt?: readonly Date[] | null;
  readonly random?: () => number;
}

export interface PlannedFetch {
  readonly at: Date;
  /** The rule that decided, e.g. "interval 15m", "ttl 60m (ceiling)", "backoff after 3 errors, skipHours". */
  readonly reason: string;
}

interface Step {
  readonly ms: number;
  readonly reason: string;
}

/** When to fetch the source next, and which rule decided. Throws TributaryError('config') on impossible bounds. */
export function planNextFetch(input: PlanInput): PlannedFetch {
  checkInput(input);
  const { now, errorCount, random = Math.random } = input;
  const base = baseInterval(input);
  let step: Step;
  if (errorCount >= 1) {
    const errors = Math.floor(errorCount);
    // Full jitter over a window that doubles per failure, but never sooner than the normal base.
    const window = Math.min(MAX_BACKOFF_MS, input.maxIntervalMs, base.ms * 2 ** Math.min(errors, 20));
    step = { ms: Math.max(base.ms, random() * window), reason: `backoff after ${errors} error${errors === 1 ? '' : 's'}` };
  } else {
    step = { ms: base.ms + (random() * 0.2 - 0.1) * base.ms, reason: base.reason };
  }
  for (const hint of publisherHints(input)) if (hint.ms > step.ms) step = hint;
  const bounded = clampToBounds(step, input);
  const start = now.getTime();
  const skipped = skipBlackouts(start + bounded.ms, input.feed);
  if (skipped.rules.length === 0) return { at: new Date(Math.round(start + bounded.ms)), reason: bounded.reason };
  const reason = `${bounded.reason}, ${skipped.rules.join(', ')}`;
  // The ceiling wins over the publisher's blackout: "looked at again within max_interval" is the
  // operator's promise, and a feed that skips six days of seven would otherwise wait almost a week.
  const latest = start + input.maxIntervalMs;
  return skipped.at > latest ? { at: new Date(Math.round(latest)), reason: `${reason} (ceiling)` } : { at: new Date(Math.round(skipped.at)), reason };
}

/**
 * The floor protects publishers from a misconfigured interval or a tiny hint; the ceiling also caps
 * publisher hints, Retry-After included: a year-long Retry-After (or a misread date) would otherwise
 * silence the feed until someone notices. Asking again at the ceiling is cheap, and a publisher who
 * still wants us away says so again (and host-wide pauses are the poller's business).
 */
function clampToBounds(step: Step, { minIntervalMs, maxIntervalMs }: PlanInput): Step {
  if (step.ms < minIntervalMs) return { ms: minIntervalMs, reason: `${step.reason} (floor)` };
  if (step.ms > maxIntervalMs) return { ms: maxIntervalMs, reason: `${step.reason} (ceiling)` };
  return step;
}

// ---------------------------------------------------------------------------------------------
// The base interval, adaptive or not

/** Posts further back than this say little about how the source posts now. */
const ADAPTIVE_WINDOW_MS = 30 * DAY;
/** Fewer recent posts than this are too few to trust a rate faster than the configured one. */
const ADAPTIVE_MIN_POSTS = 3;
/** Adaptation refines the operator's interval, it does not replace it (see baseInterval). */
const ADAPTIVE_FASTEST = 1 / 4;
const ADAPTIVE_SLOWEST = 8;

/**
 * The configured interval, or with adaptive on (postedAt given) half the mean gap between posts:
 * polling twice per expected post means a story waits on average a quarter of the source's typical
 * gap, at most half of it. The mean gap is the observed span (from the oldest post considered, or
 * the window's start when older posts exist, up to now) over the number of posts in it. Unlike the
 * median of consecutive gaps it is not fooled by bursts (ten stories posted in one minute once a
 * day have a median gap of seconds, but a mean gap of 2.4 h), and because the span runs up to now,
 * the open silence since the last post counts: a source that stops posting drifts slowly toward
 * the slow end as its posts age out of the window, instead of jumping there.
 *
 * The result stays within [everyMs / 4, everyMs * 8]: `every` is the operator's statement of how
 * fresh the source should be. At most 4x more often bounds the extra load a flood (or a feed that
 * misdates its items) can cause a publisher; at most 8x less often means a quiet source that wakes
 * up is still noticed within a few hours with the default 15 m. With fewer than three recent posts
 * the rate is not trusted to speed polling up, only to slow it down.
 */
function baseInterval({ now, everyMs, postedAt }: PlanInput): Step {
  const configured: Step = { ms: everyMs, reason: `interval ${humanDuration(everyMs)}` };
  if (!postedAt) return configured;
  const t = now.getTime();
  // Distinct times only: feeds that stamp every item with the build time must not look like a flood.
  // Future times (clock skew, scheduled posts) are not posts yet.
  const times = [...new Set(postedAt.map((d) => d.getTime()).filter((ms) => Number.isFinite(ms) && ms <= t))];
  if (times.length === 0) return configured; // nothing published yet: no evidence either way
  const windowStart = t - ADAPTIVE_WINDOW_MS;
  const recent = times.filter((ms) => ms > windowStart).length;
  const oldest = times.reduce((a, b) => Math.min(a, b));
  const span = t - Math.max(windowStart, oldest);
  const slowest = everyMs * ADAPTIVE_SLOWEST;
  if (recent >= ADAPTIVE_MIN_POSTS) {
    const ms = clamp(span / recent / 2, everyMs * ADAPTIVE_FASTEST, slowest);
    return { ms, reason: `adaptive ~${formatRate(recent, span)}` };
  }
  const ms = clamp(span / Math.max(recent, 1) / 2, everyMs, slowest);
  const seen = recent === 0 ? 'no posts' : `${recent} post${recent === 1 ? '' : 's'}`;
  return { ms, reason: `adaptive, ${seen} in ${humanDuration(span)}` };
}

function formatRate(posts: number, spanMs: number): string {
  const perHour = (posts * HOUR) / spanMs;
  const [value, unit] = perHour >= 1 ? [perHour, 'h'] : perHour * 24 >= 1 ? [perHour * 24, 'd'] : [perHour * 24 * 7, 'wk'];
  const shown = value >= 10 ? String(Math.round(value)) : String(Math.round(value * 10) / 10);
  return `${shown} post${shown === '1' ? '' : 's'}/${unit}`;
}

// ---------------------------------------------------------------------------------------------
// Publisher hints (lower bounds)

/** sy:updatePeriod lengths; the module does not define a month or a year, so calendar averages. */
const PERIOD_MS = { hourly: HOUR, daily: DAY, weekly: 7 * DAY, monthly: 30 * DAY, yearly: 365 * DAY } as const;

function publisherHints({ now, feed, response }: PlanInput): Step[] {
  const hints: Step[] = [];
  const t = now.getTime();
  if (feed?.ttlMinutes != null && feed.ttlMinutes > 0) {
    hints.push({ ms: feed.ttlMinutes * MINUTE, reason: `ttl ${feed.ttlMinutes}m` });
  }
  if (feed?.updatePeriod) {
    const frequency = feed.updateFrequency != null && feed.updateFrequency > 0 ? feed.updateFrequency : 1;
    hints.push({ ms: PERIOD_MS[feed.updatePeriod] / frequency, reason: `sy:updatePeriod ${feed.updatePeriod}${frequency === 1 ? '' : `/${frequency}`}` });
  }
  if (response?.maxAgeMs != null && response.maxAgeMs > 0) {
    hints.push({ ms: response.maxAgeMs, reason: `Cache-Control max-age ${humanDuration(response.maxAgeMs)}` });
  }
  // RFC 9111 §5.3: Expires is ignored when max-age is present.
  if (response?.expiresAt && response.maxAgeMs == null) hints.push({ ms: response.expiresAt.getTime() - t, reason: 'Expires' });
  if (response?.retryAfter) hints.push({ ms: response.retryAfter.getTime() - t, reason: 'Retry-After' });
  // Past dates and NaN (an invalid Date) are no hint.
  return hints.filter((h) => Number.isFinite(h.ms) && h.ms > 0);
}

// ---------------------------------------------------------------------------------------------
// skipHours / skipDays

const UTC_DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday']; // Date#getUTCDay order

/**
 * Move `at` to the start of the next hour that is neither a skipped hour nor on a skipped day, in
 * GMT as RSS 2.0 says. A feed that skips all 24 hours (or all 7 days) would never be polled: that
 * is a broken feed, not a request, so that rule is ignored.
 */
function skipBlackouts(at: number, feed: FeedScheduleHints | null | undefined): { at: number; rules: string[] } {
  const hours = new Set((feed?.skipHours ?? []).filter((h) => Number.isInteger(h) && h >= 0 && h <= 24).map((h) => h % 24));
  const days = new Set((feed?.skipDays ?? []).map((d) => UTC_DAYS.indexOf(d.trim().toLowerCase())).filter((i) => i >= 0));
  if (hours.size === 24) hours.clear();
  if (days.size === 7) days.clear();
  let t = at;
  let movedHours = false;
  let movedDays = false;
  // Each pass moves to a later hour boundary; some hour of some day in the next week is allowed.
  for (let pass = 0; pass <= 7 * 24; pass++) {
    const d = new Date(t);
    if (days.has(d.getUTCDay())) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
      movedDays = true;
    } else if (hours.has(d.getUTCHours())) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1);
      movedHours = true;
    } else {
      break;
    }
  }
  return { at: t, rules: [...(movedHours ? ['skipHours'] : []), ...(movedDays ? ['skipDays'] : [])] };
}

// ---------------------------------------------------------------------------------------------
// Helpers

/**
 * A duration for people reading a reason: its largest unit and the next one when non-zero ("15m",
 * "1h30m", "2d", "45s"), rounded down. Unlike durations.ts's formatDuration (exact, for config
 * values: 90 minutes is "90m"), this one reads at a glance and never prints "5400.5s".
 */
export function humanDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '0s';
  if (ms < SECOND) return `${Math.round(ms)}ms`;
  const units: ReadonlyArray<readonly [string, number]> = [['d', DAY], ['h', HOUR], ['m', MINUTE], ['s', SECOND]];
  const i = units.findIndex(([, size]) => ms >= size);
  const [bigUnit, bigSize] = units[i] ?? ['s', SECOND];
  const big = Math.floor(ms / bigSize);
  const next = units[i + 1];
  const small = next ? Math.floor((ms - big * bigSize) / next[1]) : 0;
  return next && small > 0 ? `${big}${bigUnit}${small}${next[0]}` : `${big}${bigUnit}`;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

function checkInput({ now, everyMs, minIntervalMs, maxIntervalMs, errorCount }: PlanInput): void {
  const checks: ReadonlyArray<readonly [field: string, ok: boolean, expected: string, got: unknown]> = [
    ['now', Number.isFinite(now.getTime()), 'a valid date', now],
    ['everyMs', Number.isFinite(everyMs) && everyMs > 0, 'a positive number of milliseconds', everyMs],
    ['minIntervalMs', Number.isFinite(minIntervalMs) && minIntervalMs >= 0, 'zero or a positive number of milliseconds', minIntervalMs],
    ['maxIntervalMs', Number.isFinite(maxIntervalMs) && maxIntervalMs > 0 && maxIntervalMs >= minIntervalMs, `a positive number of milliseconds, at least minIntervalMs (${minIntervalMs})`, maxIntervalMs],
    ['errorCount', Number.isFinite(errorCount), 'a number', errorCount],
  ];
  const failed = checks.find(([, ok]) => !ok);
  if (failed) {
    const [field, , expected, got] = failed;
    throw new TributaryError('config', `cannot plan the next fetch: ${field} must be ${expected}, got ${String(got)}`, { subject: field });
  }
}
