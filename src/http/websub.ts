import { request } from 'undici';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { USER_AGENT } from '../version.js';

// WebSub publisher (W3C WebSub, section 7 "Publishing"): when the river changes, tell the hub
// which topic URLs changed so it fetches them and pushes them to its subscribers. WebSub leaves
// the publisher-to-hub notice to the hub; the de-facto one, which public hubs accept
// (PubSubHubbub 0.4, websub.rocks), is a form-encoded POST of hub.mode=publish&hub.url=<topic>.
//
// A poll pass stores stories source after source, each calling notifyChanged(): the calls of a
// window (2 s by default) are coalesced into one ping per feed URL, sent at the end of the window
// that the first call opened. Not a debounce that restarts on every call: a river that changes
// every second would then never be pinged. A failed ping is logged and retried with exponential
// backoff; nothing here throws into the caller, a hub being down is not the scheduler's problem.

export interface WebSubPublisherOptions {
  /** The hub to ping (settings.websub_hub). */
  readonly hubUrl: string;
  /** Absolute URL the feeds are served at, as in their rel="self" links. */
  publicBaseUrl(): string;
  /** The feeds to ping for, as paths (feed-routes.ts riverFeedPaths): read at every ping, feeds.yaml may change. */
  riverPaths(): readonly string[];
  readonly logger: Logger;
  /** Window in which changes are coalesced (default 2 s). */
  readonly debounceMs?: number;
  /** Delay before the first retry of a failed ping (default 5 s), doubled at each failure. */
  readonly retryBaseMs?: number;
  /** Longest delay between retries (default 10 min). */
  readonly maxRetryMs?: number;
  /** Attempts per ping before giving up until the next change (default 8). */
  readonly maxAttempts?: number;
  /** Time allowed for the hub to answer (default 10 s). */
  readonly timeoutMs?: number;
}

export interface WebSubPublisher {
  /** The river changed (new or edited stories stored): ping the hub soon. Never throws. */
  notifyChanged(): void;
  /** Sends the pings of an open window now and waits for every ping in flight (tests, shutdown). */
  flush(): Promise<void>;
  /** Stops: pending pings and retries are dropped, pings in flight are waited for. */
  close(): Promise<void>;
}

interface TopicState {
  attempt: number;
  retry: NodeJS.Timeout | null;
  inFlight: Promise<void> | null;
  /** A change arrived while a ping was in flight: ping again when it is done. */
  again: boolean;
}

export function createWebSubPublisher(options: WebSubPublisherOptions): WebSubPublisher {
  const debounceMs = options.debounceMs ?? 2_000;
  const retryBaseMs = options.retryBaseMs ?? 5_000;
  const maxRetryMs = options.maxRetryMs ?? 10 * 60_000;
  const maxAttempts = options.maxAttempts ?? 8;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const log = options.logger.child({ hub: options.hubUrl });

  let window: NodeJS.Timeout | null = null;
  let closed = false;
  const topics = new Map<string, TopicState>();

  function topicUrls(): string[] {
    try {
      const base = options.publicBaseUrl().replace(/\/+$/, '');
      return [...new Set(options.riverPaths().map((p) => `${base}${p.startsWith('/') ? p : `/${p}`}`))];
    } catch (err) {
      log.error({ err }, 'websub: cannot list the feeds to ping');
      return [];
    }
  }

  function endWindow(): void {
    window = null;
    if (closed) return;
    for (const url of topicUrls()) {
      const state = topics.get(url) ?? { attempt: 0, retry: null, inFlight: null, again: false };
      topics.set(url, state);
      // A retry already waiting will send the news; one in flight may have been read by the hub
      // before this change, so it is followed by another.
      if (state.retry) continue;
      if (state.inFlight) state.again = true;
      else ping(url, state);
    }
  }

  function ping(url: string, state: TopicState): void {
    state.retry = null;
    state.again = false;
    state.inFlight = send(url).then(
      () => {
        state.inFlight = null;
        state.attempt = 0;
        log.debug({ url }, 'websub: hub pinged');
        if (state.again && !closed) ping(url, state);
      },
      (err: unknown) => {
        state.inFlight = null;
        state.attempt++;
        if (closed) return;
        if (state.attempt >= maxAttempts) {
          log.error({ url, attempts: state.attempt, err: describeError(err) }, 'websub: hub ping failed; giving up until the river changes again');
          state.attempt = 0;
          return;
        }
        const delay = Math.min(maxRetryMs, retryBaseMs * 2 ** (state.attempt - 1));
        log.warn({ url, attempt: state.attempt, retry_in_ms: delay, err: describeError(err) }, 'websub: hub ping failed; will retry');
        state.retry = setTimeout(() => ping(url, state), delay);
        state.retry.unref();
      },
    );
  }

  async function send(url: string): Promise<void> {
    const body = new URLSearchParams({ 'hub.mode': 'publish', 'hub.url': url }).toString();
    const res = await request(options.hubUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': USER_AGENT },
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    await res.body.dump();
    // Hubs answer 204 No Content (websub.rocks) or 202 Accepted; anything 2xx is an acceptance.
    if (res.statusCode < 200 || res.statusCode > 299) throw new Error(`hub answered ${res.statusCode} to the publish ping for ${url}`);
  }

  async function inFlight(): Promise<void> {
    // A completed ping may start another (state.again): wait until none is left.
    for (;;) {
      const pending = [...topics.values()].map((s) => s.inFlight).filter((p): p is Promise<void> => p !== null);
      if (pending.length === 0) return;
      await Promise.allSettled(pending);
    }
  }

  return {
    notifyChanged() {
      if (closed || window) return;
      window = setTimeout(endWindow, debounceMs);
      window.unref();
    },

    async flush() {
      if (window) {
        clearTimeout(window);
        endWindow();
      }
      await inFlight();
    },

    async close() {
      closed = true;
      if (window) clearTimeout(window);
      window = null;
      for (const state of topics.values()) {
        if (state.retry) clearTimeout(state.retry);
        state.retry = null;
      }
      await inFlight();
    },
  };
}
