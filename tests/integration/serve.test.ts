import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import { endlessBody, slowDrip, startPublisher, type Publisher } from '../helpers/publisher.js';
import { createTestRiver, type TestRiver } from '../helpers/river.js';

// The long-running river: the scheduler polls on its own, edits to feeds.yaml apply without a
// restart (and an invalid edit keeps the last good configuration), and one broken publisher
// never stops the others, in `serve` and in `fetch`.

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name: string) => fs.readFileSync(path.join(here, '../fixtures/river', name), 'utf8');

let db: TestDatabase | null = null;
let publisher: Publisher;

beforeAll(async () => {
  if (usingPostgres) db = await createTestDatabase();
  publisher = await startPublisher({
    '/daily.rss': { body: fixture('daily.rss'), etag: '"d1"', contentType: 'application/rss+xml' },
    '/wire.json': { body: fixture('wire.json'), etag: '"w1"', contentType: 'application/feed+json' },
    '/missing.xml': { status: 404, body: 'not here' },
    '/broken.xml': { status: 500, body: 'oops' },
    // Mismatched tags: broken beyond what the lenient parser repairs (a truncated end it would).
    '/malformed.xml': { body: '<?xml version="1.0"?><rss version="2.0"><channel><title>x</subtitle><item><title>y</title></item></channel></rss>', contentType: 'application/rss+xml' },
    '/page.html': { body: '<!doctype html><html><head><title>Home</title></head><body>hello</body></html>', contentType: 'text/html' },
    '/slow.xml': slowDrip({ intervalMs: 200 }),
    '/huge.xml': endlessBody(),
  });
});

afterAll(async () => {
  await publisher?.close();
  await db?.close();
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 25_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface SourceJson {
  id: string;
  last_status: number | null;
  last_error: string | null;
  item_count: number;
  next_fetch_at: string | null;
}

async function sources(base: string): Promise<SourceJson[]> {
  const res = await fetch(`${base}/api/sources`);
  return ((await res.json()) as { sources: SourceJson[] }).sources;
}

describe('serve', () => {
  let river: TestRiver;
  beforeAll(() => {
    river = createTestRiver(db?.url ?? null);
  });
  afterAll(() => river.cleanup());

  const feeds = (entries: string) => `title: Live river
settings:
  every: 15m
  allow_private_networks: true
feeds:
${entries}`;

  it('polls new sources at once, follows feeds.yaml edits, keeps the last good config on a bad edit', async () => {
    river.writeFeeds(feeds(`  - id: daily\n    url: ${publisher.url('/daily.rss')}\n    homepage: https://www.dailyplanet.example/\n`));
    const running = await river.serve();
    try {
      const base = running.url;
      // The scheduler polls the new source without being asked.
      await waitFor('daily to be polled', async () => (await sources(base)).find((s) => s.id === 'daily' && s.last_status === 200));
      const first = await sources(base);
      expect(first).toHaveLength(1);
      expect(first[0]).toMatchObject({ item_count: 2, last_error: null });
      expect(new Date(first[0]!.next_fetch_at!).getTime()).toBeGreaterThan(Date.now() + 10 * 60_000);

      // Add one source and remove the other: the new one is polled, the removed one disappears
      // from the source list but its stories stay.
      river.writeFeeds(feeds(`  - id: wire\n    url: ${publisher.url('/wire.json')}\n`));
      await waitFor('wire to be polled', async () => (await sources(base)).find((s) => s.id === 'wire' && s.last_status === 200));
      expect((await sources(base)).map((s) => s.id)).toEqual(['wire']);
      const items = (await (await fetch(`${base}/api/items`)).json()) as { items: { via: string[] }[] };
      expect(items.items.map((i) => i.via[0]).sort()).toEqual(['daily', 'daily', 'wire']);

      // An invalid edit is reported and ignored: the river keeps serving the last good config.
      river.writeFeeds(feeds(`  - id: wire\n    url: ${publisher.url('/wire.json')}\n    evry: 5m\n`));
      await new Promise((r) => setTimeout(r, 600));
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await sources(base)).map((s) => s.id)).toEqual(['wire']);
      const feed = await fetch(`${base}/feed.json`);
      expect(((await feed.json()) as { items: unknown[] }).items).toHaveLength(3);
      expect(await river.cli('check')).toMatchObject({ code: 1, out: expect.stringMatching(/feeds\.yaml:\d+:\d+: unknown key "evry".*did you mean "every"/) });
    } finally {
      await running.close();
    }
  });
});

describe('fetch over broken publishers', () => {
  let river: TestRiver;
  let own: TestDatabase | null = null;
  beforeAll(async () => {
    // A river of its own (its own database on PostgreSQL too, so counts are independent).
    own = usingPostgres ? await createTestDatabase() : null;
    river = createTestRiver(own?.url ?? null);
    const ids = ['daily', 'missing', 'broken', 'malformed', 'page', 'slow', 'huge', 'refused'];
    const urlOf = (id: string) =>
      id === 'daily' ? publisher.url('/daily.rss') : id === 'refused' ? 'http://127.0.0.1:9/feed.xml' : publisher.url(`/${id}.${id === 'page' ? 'html' : 'xml'}`);
    river.writeFeeds(`settings:
  allow_private_networks: true
  timeout: 2s
  max_body: 1MiB
feeds:
${ids.map((id) => `  - id: ${id}\n    url: ${urlOf(id)}\n`).join('')}`);
  });
  afterAll(async () => {
    river?.cleanup();
    await own?.close();
  });

  it('stores the healthy source, records each failure on its row, exits 0', async () => {
    const started = Date.now();
    const r = await river.cli('fetch', '--all');
    expect(r.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(r.out).toMatch(/8 sources polled, 7 failed, 2 new stories/);
    const running = await river.serve();
    try {
      const byId = new Map((await sources(running.url)).map((s) => [s.id, s]));
      expect(byId.get('daily')).toMatchObject({ last_status: 200, last_error: null, item_count: 2 });
      expect(byId.get('missing')).toMatchObject({ last_status: 404, last_error: expect.stringMatching(/404/) });
      expect(byId.get('broken')).toMatchObject({ last_status: 500, last_error: expect.stringMatching(/500/) });
      expect(byId.get('malformed')!.last_error).toBeTruthy();
      expect(byId.get('page')!.last_error).toMatch(/not a feed/i);
      expect(byId.get('slow')!.last_error).toMatch(/time/i);
      expect(byId.get('huge')!.last_error).toMatch(/limit|large/i);
      expect(byId.get('refused')!.last_error).toMatch(/ECONNREFUSED|refused|connect/i);
      // Failures back off: none is due again before its normal interval.
      for (const id of ['missing', 'broken', 'malformed', 'page', 'slow', 'huge', 'refused']) {
        expect(new Date(byId.get(id)!.next_fetch_at!).getTime(), id).toBeGreaterThan(Date.now() + 10 * 60_000);
      }
    } finally {
      await running.close();
    }
  });

  it('rejects an unknown --source without running', async () => {
    const r = await river.cli('fetch', '--source', 'nope');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no source with id nope/);
  });
});
