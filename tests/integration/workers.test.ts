import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { startPublisher, type Publisher } from '../helpers/publisher.js';

// Several `tributary worker` processes sharing one PostgreSQL: every due source is polled exactly
// once per cycle (leases), no story is stored twice (unique identity), and the per-host budget
// holds across processes (host slots in the database). The embedded database is one process's by
// design, so this runs only when the suite runs against PostgreSQL (.ci/run does both).

const here = path.dirname(fileURLToPath(import.meta.url));
const SOURCES = 200;
const WORKERS = 3;
const HOST_LIMIT = 6;
const pgUrl = process.env.DATABASE_URL;
if (!pgUrl) console.warn('workers.test.ts: skipped on the embedded database (several processes need PostgreSQL; set DATABASE_URL)');

function feedXml(n: number, base: string): string {
  return `<?xml version="1.0"?>
<rss version="2.0"><channel><title>Feed ${n}</title><link>https://pub${n}.example/</link><description>d</description>
<item><title>Story of feed ${n}</title><link>https://pub${n}.example/story-${n}</link><guid>s-${n}</guid><pubDate>Sun, 29 Nov 2026 08:00:00 GMT</pubDate></item>
<item><title>The story everyone carries</title><link>https://wire.example/big-story?utm_source=feed${n}</link><guid>big-${n}</guid><pubDate>Sun, 29 Nov 2026 07:00:00 GMT</pubDate></item>
</channel></rss>`.replace('BASE', base);
}

describe.skipIf(!pgUrl)('several worker processes on one PostgreSQL', () => {
  let t: TestDatabase;
  let publisher: Publisher;
  let dir: string;
  const children: ChildProcess[] = [];
  const logs: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;

  beforeAll(async () => {
    t = await createTestDatabase();
    publisher = await startPublisher();
    for (let n = 0; n < SOURCES; n++) {
      const body = feedXml(n, publisher.origin);
      const etag = `"f${n}"`;
      publisher.setRoute(`/feed/${n}.xml`, async (req, res) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 25));
        inFlight--;
        if (req.headers['if-none-match'] === etag) res.writeHead(304, { etag }).end();
        else res.writeHead(200, { 'content-type': 'application/rss+xml', etag }).end(body);
      });
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-workers-'));
    const feeds = [
      'settings:',
      '  allow_private_networks: true',
      '  every: 1h',
      `  host_concurrency: ${HOST_LIMIT}`,
      '  host_gap: 0',
      '  concurrency: 4',
      'feeds:',
      ...Array.from({ length: SOURCES }, (_, n) => `  - id: feed-${String(n).padStart(3, '0')}\n    url: ${publisher.url(`/feed/${n}.xml`)}`),
    ].join('\n');
    fs.writeFileSync(path.join(dir, 'feeds.yaml'), feeds + '\n');
    const entry = path.join(here, '../helpers/cli-entry.ts');
    for (let w = 0; w < WORKERS; w++) {
      const child = spawn(process.execPath, ['--import', 'tsx', entry, 'worker'], {
        env: { ...process.env, DATABASE_URL: t.url!, FEEDS_FILE: path.join(dir, 'feeds.yaml'), DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'info' },
        cwd: path.join(here, '../..'),
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      logs[w] = '';
      child.stderr!.on('data', (d: Buffer) => (logs[w] += d.toString()));
      children.push(child);
    }
  }, 60_000);

  afterAll(async () => {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.on('exit', r)) : null)));
    await publisher?.close();
    await t?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!(await probe())) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${logs.map((l) => l.slice(-2000)).join('\n---\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const polledCount = async (status: number) =>
    Number(
      (await t.db.selectFrom('sources').select((eb) => eb.fn.countAll<string>().as('n')).where('last_status', '=', status).executeTakeFirstOrThrow()).n,
    );

  it('polls each source exactly once per cycle, shares the work, stores no story twice', async () => {
    await waitUntil('every source polled once', async () => (await polledCount(200)) === SOURCES);
    // Give a late duplicate poll a moment to show up, if there were one.
    await new Promise((r) => setTimeout(r, 1000));
    for (let n = 0; n < SOURCES; n++) expect(publisher.requestsTo(`/feed/${n}.xml`), `feed ${n}`).toHaveLength(1);

    const items = await t.db.selectFrom('items').select(['identity_key']).execute();
    expect(items).toHaveLength(SOURCES + 1);
    const big = await t.db
      .selectFrom('item_sources')
      .innerJoin('items', 'items.id', 'item_sources.item_id')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('items.canonical_url', '=', 'https://wire.example/big-story')
      .executeTakeFirstOrThrow();
    expect(Number(big.n)).toBe(SOURCES);

    // Every worker took part, and together they polled each source once.
    const perWorker = logs.map((l) => (l.match(/"msg":"fetched"/g) ?? []).length);
    expect(perWorker.every((n) => n > 0), `fetches per worker: ${perWorker.join(', ')}`).toBe(true);
    expect(perWorker.reduce((a, b) => a + b, 0)).toBe(SOURCES);
    // The host budget held across the three processes.
    expect(maxInFlight).toBeLessThanOrEqual(HOST_LIMIT);
    expect(maxInFlight).toBeGreaterThan(1);
  });

  it('a second cycle polls each source exactly once more, conditionally', async () => {
    await sql`update sources set next_fetch_at = now()`.execute(t.db);
    await waitUntil('every source polled twice', async () => (await polledCount(304)) === SOURCES);
    await new Promise((r) => setTimeout(r, 1000));
    for (let n = 0; n < SOURCES; n++) {
      const reqs = publisher.requestsTo(`/feed/${n}.xml`);
      expect(reqs, `feed ${n}`).toHaveLength(2);
      expect(reqs[1]!.headers['if-none-match']).toBe(`"f${n}"`);
    }
    const items = await t.db.selectFrom('items').select('id').execute();
    expect(items).toHaveLength(SOURCES + 1);
  });
});
