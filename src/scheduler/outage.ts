// Telling a network outage from a dead feed. When this machine loses its network, every source
// fails at once with DNS or connection errors; counting those as the publishers' failures would
// push every source into long backoff and leave the river stale for hours after the network
// returns. So a network-level error counts against a source only when the network is known to
// work: some other host answered recently. Otherwise the source is retried at its normal interval
// and marked as a suspected outage. HTTP errors (404, 500, ...) always count: a publisher answered.

export interface OutageOptions {
  /** How long a successful response from any host vouches for the network (default 10 min). */
  readonly windowMs?: number;
  readonly now?: () => number;
}

const NETWORK_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ETIMEDOUT',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/** True for errors that say nothing about the publisher: we never reached it. */
export function isNetworkError(err: unknown): boolean {
  let cur: unknown = err;
  for (let depth = 0; cur && depth < 6; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    if ((cur as { reason?: unknown }).reason === 'network') return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}

export class OutageDetector {
  readonly #windowMs: number;
  readonly #now: () => number;
  #lastSuccessAt = Number.NEGATIVE_INFINITY;
  readonly #lastSuccessByHost = new Map<string, number>();

  constructor(opts: OutageOptions = {}) {
    this.#windowMs = opts.windowMs ?? 10 * 60_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Any HTTP response (even an error status) proves the network reaches that host. */
  reachable(hostKey: string | null): void {
    const t = this.#now();
    this.#lastSuccessAt = t;
    if (hostKey) this.#lastSuccessByHost.set(hostKey, t);
  }

  /**
   * Whether a network error on `hostKey` should be blamed on the publisher: only when some other
   * host was reachable within the window (so our own network works).
   */
  blamePublisher(hostKey: string | null): boolean {
    const t = this.#now();
    for (const [host, at] of this.#lastSuccessByHost) {
      if (host !== hostKey && t - at <= this.#windowMs) return true;
    }
    return false;
  }

  /** True when nothing at all has been reachable within the window. */
  get suspectOutage(): boolean {
    return this.#now() - this.#lastSuccessAt > this.#windowMs;
  }
}
