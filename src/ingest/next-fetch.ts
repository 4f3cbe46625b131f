// When a source is next due. Pure: the caller passes the clock and the random source.
// Success: the source's interval, spread by +-10% jitter so sources configured together do not
// poll in lock-step. Failure: exponential backoff with full jitter (AWS architecture blog,
// "Exponential Backoff And Jitter"), capped at 24 h, never sooner than the normal interval,
// so a dead feed is retried less and less but never silently dropped.

export const MAX_BACKOFF_MS = 24 * 60 * 60 * 1000;

export interface NextFetchInput {
  readonly now: Date;
  readonly everyMs: number;
  /** Consecutive failures including this one; 0 after a success. */
  readonly errorCount: number;
  readonly random?: () => number;
}

export function nextFetchAt({ now, everyMs, errorCount, random = Math.random }: NextFetchInput): Date {
  if (errorCount <= 0) {
    const jitter = (random() * 0.2 - 0.1) * everyMs;
    return new Date(now.getTime() + Math.max(1000, everyMs + jitter));
  }
  const ceiling = Math.min(MAX_BACKOFF_MS, everyMs * 2 ** Math.min(errorCount, 20));
  const delay = Math.max(everyMs, random() * ceiling);
  return new Date(now.getTime() + delay);
}
