// Serving the river to feed readers: requests/s for GET /feed.atom (50 entries) with and without
// the rendered-feed cache (src/http/feed-cache.ts), plain, gzip, and conditional (304).
// Run: npx tsx bench/feed-serving.ts [--seconds 5] [--connections 16] [--stories 300]
// With DATABASE_URL set it uses a fresh database on that PostgreSQL server, else in-memory PGlite.
//
// The load comes from a worker thread (its own event loop, on the other core): undici, keep-alive,
// `connections` requests in flight at all times. Server and client share the machine.
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { createFeedCache } from '../src/http/feed-cache.js';
import { buildServer } from '../src/http/server.js';
import { silentLogger } from '../src/log.js';
import { parseFeedsYaml } from '../src/sources.js';
import { createTestDatabase } from '../tests/helpers/db.js';
import { seedSource, seedStory } from '../tests/helpers/seed.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
    stories: { type: 'string', default: '300' },
  },
});
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const STORIES = Number(values.stories);
const SOURCES = 10;

const feedsYaml = `title: Bench river\nfeeds:\n${Array.from({ length: SOURCES }, (_, n) => `  - id: s${n}\n    url: http://s${n}.test/feed.xml\n    every: 15m\n    tags: [t${n % 3}]\n`).join('')}`;
const parsed = parseFeedsYaml(feedsYaml, 'bench.yaml');
if (!parsed.ok) throw new Error('bench feeds.yaml is invalid');
const river = parsed.config;

const tdb = await createTestDatabase();
for (let n = 0; n < SOURCES; n++) await seedSource(tdb.db, { id: `s${n}`, name: `Publisher ${n}`, tags: [`t${n % 3}`] });
const paragraph = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. ';
for (let i = 0; i < STORIES; i++) {
  await seedStory(tdb.db, {
    id: `story-${i}`,
    via: i % 7 === 0 ? [`s${i % SOURCES}`, `s${(i + 1) % SOURCES}`] : [`s${i % SOURCES}`],
    title: `Story number ${i} about the river`,
    summary: `<p>${paragraph.repeat(4)}</p><p>${paragraph.repeat(3)}</p>`,
    author: `Reporter ${i % 13}`,
    categories: ['News', `Topic ${i % 5}`],
    publishedAt: new Date(Date.UTC(2026, 2, 1) + i * 600_000),
  });
}

async function serve(cached: boolean) {
  const app = buildServer({
    db: tdb.db,
    river: () => river,
    publicBaseUrl: () => 'https://river.example',
    logger: silentLogger(),
    feedCache: cached ? createFeedCache() : null,
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url };
}

interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
}

const undiciPath = createRequire(import.meta.url).resolve('undici');
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { Pool } = require(${JSON.stringify(undiciPath)});
(async () => {
  const { url, path, headers, seconds, connections } = workerData;
  const pool = new Pool(url, { connections });
  const latencies = [];
  const statuses = {};
  const run = async (until, record) => {
    while (Date.now() < until) {
      const t0 = performance.now();
      const res = await pool.request({ path, method: 'GET', headers });
      await res.body.dump();
      if (record) {
        latencies.push(performance.now() - t0);
        statuses[res.statusCode] = (statuses[res.statusCode] || 0) + 1;
      }
    }
  };
  // One second of warm-up (JIT, connections, the cache's first fill), then the measured run.
  const warm = Date.now() + 1000;
  await Promise.all(Array.from({ length: connections }, () => run(warm, false)));
  const start = Date.now();
  const until = start + seconds * 1000;
  await Promise.all(Array.from({ length: connections }, () => run(until, true)));
  const elapsed = (Date.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] || 0;
  await pool.close();
  parentPort.postMessage({ requests: latencies.length, rps: latencies.length / elapsed, p50: pct(0.5), p99: pct(0.99), statuses });
})();
`;

function load(url: string, path: string, headers: Record<string, string>): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { eval: true, workerData: { url, path, headers, seconds: SECONDS, connections: CONNECTIONS } });
    worker.once('message', (m: LoadResult) => resolve(m));
    worker.once('error', reject);
  });
}

const rows: string[] = [];
for (const cached of [false, true]) {
  const { app, url } = await serve(cached);
  const first = await fetch(`${url}/feed.atom`);
  const etag = first.headers.get('etag') ?? '';
  const bytes = (await first.text()).length;
  for (const [label, headers] of [
    ['plain', {}],
    ['gzip', { 'accept-encoding': 'gzip' }],
    ['304 (If-None-Match)', { 'if-none-match': etag }],
  ] as const) {
    const r = await load(url, '/feed.atom', headers);
    const row = `| ${cached ? 'cached' : 'uncached'} | ${label} | ${Math.round(r.rps).toLocaleString('en')} | ${r.p50.toFixed(1)} ms | ${r.p99.toFixed(1)} ms | ${JSON.stringify(r.statuses)} |`;
    rows.push(row);
    console.log(row);
  }
  console.log(`  (${bytes.toLocaleString('en')} characters per document)`);
  await app.close();
}
console.log(`\n${tdb.url ? 'PostgreSQL' : 'PGlite'}, ${STORIES} stories, /feed.atom of 50 entries, ${CONNECTIONS} connections, ${SECONDS} s per row`);
console.log('| feedCache | request | requests/s | p50 | p99 | statuses |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(r);
await tdb.close();
