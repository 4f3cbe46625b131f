import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RiverConfig } from '../../src/domain.js';
import { riverFeedPaths } from '../../src/http/feed-outputs.js';
import { buildServer } from '../../src/http/server.js';
import { createWebSubPublisher, type WebSubPublisher, type WebSubPublisherOptions } from '../../src/http/websub.js';
import { silentLogger } from '../../src/log.js';
import { formatProblem, parseFeedsYaml } from '../../src/sources.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedSource, seedStory } from '../helpers/seed.js';

// The WebSub publisher against a fake hub on 127.0.0.1: a node:http server that records the
// publish pings (and answers as told), and in the last test fetches each pinged topic from the
// real feed server, as a hub does, to check what subscribers would get.

interface Ping {
  readonly at: number;
  readonly contentType: string | undefined;
  readonly mode: string | null;
  readonly url: string | null;
}

interface FakeHub {
  readonly url: string;
  readonly pings: Ping[];
  /** Status to answer a ping with (default 204); may be async to hold the answer. */
  answer: (ping: Ping) => number | Promise<number>;
  close(): Promise<void>;
}

async function startHub(): Promise<FakeHub> {
  const pings: Ping[] = [];
  const hub: { answer: FakeHub['answer'] } = { answer: () => 204 };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const ping: Ping = { at: Date.now(), contentType: req.headers['content-type'], mode: form.get('hub.mode'), url: form.get('hub.url') };
      if (req.method === 'POST') pings.push(ping);
      void Promise.resolve(hub.answer(ping)).then((status) => {
        res.statusCode = status;
        res.end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hub`,
    pings,
    get answer() {
      return hub.answer;
    },
    set answer(fn) {
      hub.answer = fn;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const YAML = (hub: string) => `
title: Test River
base_url: https://river.example
settings:
  websub_hub: ${hub}
feeds:
  - id: city
    url: http://city.test/feed.xml
    tags: [local]
  - id: tech
    url: http://tech.test/feed.xml
    tags: [tech]
rivers:
  - name: local
    tags: [local]
  - name: tech
    sources: [tech]
`;

function config(hub: string): RiverConfig {
  const result = parseFeedsYaml(YAML(hub), 'feeds.yaml');
  if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
  return result.config;
}

/** A logger whose lines are kept, to assert on what was logged. */
function recordingLogger() {
  const lines: { level: number; msg: string; url?: string; attempt?: number }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

async function waitFor(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const BASE = 'https://river.example';
const ALL_URLS = [
  '/feed.xml',
  '/feed.atom',
  '/feed.json',
  '/rivers/local.xml',
  '/rivers/local.atom',
  '/rivers/local.json',
  '/rivers/tech.xml',
  '/rivers/tech.atom',
  '/rivers/tech.json',
].map((p) => `${BASE}${p}`);

let hub: FakeHub;
const publishers: WebSubPublisher[] = [];

function publisher(overrides: Partial<WebSubPublisherOptions> = {}): WebSubPublisher {
  const river = config(hub.url);
  const p = createWebSubPublisher({
    hubUrl: hub.url,
    publicBaseUrl: () => `${BASE}/`,
    riverPaths: () => riverFeedPaths(river),
    logger: silentLogger(),
    debounceMs: 100,
    retryBaseMs: 20,
    ...overrides,
  });
  publishers.push(p);
  return p;
}

beforeAll(async () => {
  hub = await startHub();
});

afterEach(async () => {
  await Promise.all(publishers.splice(0).map((p) => p.close()));
  hub.pings.length = 0;
  hub.answer = () => 204;
});

afterAll(async () => {
  await hub?.close();
});

describe('WebSub publisher', () => {
  it('pings every river feed URL (the river and the named rivers, every format), form-encoded', async () => {
    const p = publisher();
    p.notifyChanged();
    await waitFor(() => hub.pings.length === ALL_URLS.length);
    expect(hub.pings.map((x) => x.url).sort()).toEqual([...ALL_URLS].sort());
    for (const ping of hub.pings) {
      expect(ping.mode).toBe('publish');
      expect(ping.contentType).toBe('application/x-www-form-urlencoded');
    }
  });

  it('coalesces the changes of a window into one ping per feed URL, sent when the window ends', async () => {
    const p = publisher({ debounceMs: 300 });
    const start = Date.now();
    for (let i = 0; i < 20; i++) {
      p.notifyChanged();
      await sleep(5);
    }
    await waitFor(() => hub.pings.length === ALL_URLS.length);
    expect(hub.pings[0]!.at - start).toBeGreaterThanOrEqual(290);
    await sleep(400);
    expect(hub.pings).toHaveLength(ALL_URLS.length);
    // A later change opens a new window: one more round.
    p.notifyChanged();
    await waitFor(() => hub.pings.length === 2 * ALL_URLS.length);
    expect(new Set(hub.pings.slice(ALL_URLS.length).map((x) => x.url))).toEqual(new Set(ALL_URLS));
  });

  it('a river that changes all the time is still pinged once per window (not a debounce that never fires)', async () => {
    const p = publisher({ debounceMs: 100 });
    const until = Date.now() + 450;
    while (Date.now() < until) {
      p.notifyChanged();
      await sleep(10);
    }
    await p.flush();
    const rounds = hub.pings.filter((x) => x.url === `${BASE}/feed.atom`).length;
    expect(rounds).toBeGreaterThanOrEqual(3);
    expect(rounds).toBeLessThanOrEqual(6);
  });

  it('retries a failed ping with backoff until the hub accepts it', async () => {
    const failures = new Map<string, number>();
    hub.answer = (ping) => {
      const n = failures.get(ping.url!) ?? 0;
      failures.set(ping.url!, n + 1);
      return n < 2 ? 503 : 202;
    };
    const { logger, lines } = recordingLogger();
    const p = publisher({ logger });
    p.notifyChanged();
    await waitFor(() => hub.pings.length === 3 * ALL_URLS.length);
    await p.flush();
    for (const url of ALL_URLS) expect(hub.pings.filter((x) => x.url === url)).toHaveLength(3);
    const retries = lines.filter((l) => l.msg === 'websub: hub ping failed; will retry' && l.url === `${BASE}/feed.xml`);
    expect(retries.map((l) => l.attempt)).toEqual([1, 2]);
    // The second retry waited about twice as long as the first.
    const times = hub.pings.filter((x) => x.url === `${BASE}/feed.xml`).map((x) => x.at);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(35);
  });

  it('a hub that cannot be reached is logged and given up on, never thrown', async () => {
    const { logger, lines } = recordingLogger();
    // A port nothing listens on: connections are refused at once.
    const p = publisher({ hubUrl: 'http://127.0.0.1:1/hub', logger, maxAttempts: 2, retryBaseMs: 10 });
    expect(() => p.notifyChanged()).not.toThrow();
    await waitFor(() => lines.filter((l) => l.msg.startsWith('websub: hub ping failed; giving up')).length === ALL_URLS.length);
    expect(lines.filter((l) => l.msg === 'websub: hub ping failed; will retry')).toHaveLength(ALL_URLS.length);
    // It keeps working: the next change tries again.
    p.notifyChanged();
    await waitFor(() => lines.filter((l) => l.msg === 'websub: hub ping failed; will retry').length === 2 * ALL_URLS.length);
  });

  it('a change while a ping is in flight is followed by another ping', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    hub.answer = async () => {
      await held;
      return 204;
    };
    const p = publisher({ debounceMs: 20 });
    p.notifyChanged();
    await waitFor(() => hub.pings.length === ALL_URLS.length);
    p.notifyChanged();
    await sleep(60);
    expect(hub.pings).toHaveLength(ALL_URLS.length);
    hub.answer = () => 204;
    release();
    await waitFor(() => hub.pings.length === 2 * ALL_URLS.length);
    await p.flush();
    expect(hub.pings).toHaveLength(2 * ALL_URLS.length);
  });

  it('close drops a pending window', async () => {
    const p = publisher({ debounceMs: 50 });
    p.notifyChanged();
    await p.close();
    await sleep(120);
    expect(hub.pings).toHaveLength(0);
    p.notifyChanged();
    await sleep(120);
    expect(hub.pings).toHaveLength(0);
  });
});

describe('WebSub end to end: the hub fetches what it was pinged for', () => {
  let tdb: TestDatabase;
  let app: FastifyInstance;
  let base: string;
  let river: RiverConfig;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    river = config(hub.url);
    app = buildServer({ db: tdb.db, river: () => river, publicBaseUrl: () => base, logger: silentLogger() });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    await seedSource(tdb.db, { id: 'city', tags: ['local'] });
    await seedSource(tdb.db, { id: 'tech', tags: ['tech'] });
    await seedStory(tdb.db, { id: 's1', via: ['city'], title: 'Bridge reopens' });
    await seedStory(tdb.db, { id: 's2', via: ['tech'], title: 'Chip shortage ends' });
  });

  afterAll(async () => {
    await app?.close();
    await tdb?.close();
  });

  it('every pinged topic serves a feed whose rel="self" is that topic and whose rel="hub" is the hub', async () => {
    const fetched: { topic: string; self: string | undefined; hub: string | undefined }[] = [];
    hub.answer = async (ping) => {
      // As a hub does: fetch the topic, then acknowledge.
      const res = await fetch(ping.url!);
      const text = await res.text();
      if (ping.url!.endsWith('.json')) {
        const feed = JSON.parse(text) as { feed_url: string; hubs?: { url: string }[] };
        fetched.push({ topic: ping.url!, self: feed.feed_url, hub: feed.hubs?.[0]?.url });
      } else {
        const attr = (rel: string) => new RegExp(`<(?:atom:)?link\\b(?=[^>]*rel="${rel}")[^>]*href="([^"]*)"`).exec(text)?.[1]?.replace(/&amp;/g, '&');
        fetched.push({ topic: ping.url!, self: attr('self'), hub: attr('hub') });
      }
      return 204;
    };
    const p = createWebSubPublisher({ hubUrl: hub.url, publicBaseUrl: () => base, riverPaths: () => riverFeedPaths(river), logger: silentLogger(), debounceMs: 10 });
    publishers.push(p);
    p.notifyChanged();
    await waitFor(() => fetched.length === ALL_URLS.length);
    expect(fetched.map((f) => f.topic).sort()).toEqual(ALL_URLS.map((u) => u.replace(BASE, base)).sort());
    for (const f of fetched) {
      expect(f.self).toBe(f.topic);
      expect(f.hub).toBe(hub.url);
    }
  });
});
