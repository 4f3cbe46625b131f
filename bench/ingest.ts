// Ingest throughput: N publisher feeds of M stories each, served on 127.0.0.1, polled by one
// process with the real pipeline (fetch -> parse -> normalise -> attribute -> store), then polled
// again (all 304s). Run: npx tsx bench/ingest.ts [--feeds 100] [--items 50]
// With DATABASE_URL set it uses a fresh database on that PostgreSQL server, else in-memory PGlite.
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import type { RiverSettings, Source } from '../src/domain.js';
import { closeFetchAgents } from '../src/ingest/fetch-feed.js';
import { silentLogger } from '../src/log.js';
import { runPass } from '../src/scheduler/poller.js';
import { syncSources } from '../src/store/sources-repo.js';
import { createTestDatabase } from '../tests/helpers/db.js';
import { startPublisher } from '../tests/helpers/publisher.js';

const { values } = parseArgs({ options: { feeds: { type: 'string', default: '100' }, items: { type: 'string', default: '50' } } });
const FEEDS = Number(values.feeds);
const ITEMS = Number(values.items);

function feed(n: number): string {
  const items = Array.from({ length: ITEMS }, (_, i) => {
    // One story in five is carried by every feed (a wire story), the rest are the feed's own.
    const link = i % 5 === 0 ? `https://wire.example/story-${i}?utm_source=f${n}` : `https://pub${n}.example/story-${i}`;
    return `<item><title>Story ${i} of feed ${n}</title><link>${link}</link><guid>g-${n}-${i}</guid>
<pubDate>Sun, 29 Nov 2026 ${String(i % 24).padStart(2, '0')}:00:00 GMT</pubDate>
<description><![CDATA[<p>Paragraph one of story ${i}, with <a href="/x?utm_medium=rss">a link</a>.</p><p>Paragraph two.</p>]]></description></item>`;
  }).join('\n');
  return `<?xml version="1.0"?><rss version="2.0"><channel><title>Feed ${n}</title><link>https://pub${n}.example/</link><description>d</description>${items}</channel></rss>`;
}

const db = await createTestDatabase();
const publisher = await startPublisher();
for (let n = 0; n < FEEDS; n++) publisher.setRoute(`/f/${n}.xml`, { body: feed(n), etag: `"v${n}"`, contentType: 'application/rss+xml' });
const sources: Source[] = Array.from({ length: FEEDS }, (_, n) => ({
  id: `f${n}`,
  url: publisher.url(`/f/${n}.xml`),
  name: null,
  homepage: `https://pub${n}.example/`,
  tags: [],
  everyMs: 3_600_000,
  enabled: true,
  adaptive: false,
  kind: 'publisher',
  content: 'summary',
  strip: [],
  resolveCanonical: false,
}));
const settings: RiverSettings = {
  everyMs: 3_600_000,
  allowPrivateNetworks: true,
  fetchTimeoutMs: 30_000,
  maxBodyBytes: 10 * 1024 ** 2,
  concurrency: 8,
  hostConcurrency: 8,
  hostGapMs: 0,
  minIntervalMs: 60_000,
  maxIntervalMs: 86_400_000,
  adaptive: false,
  websubHub: null,
  footer: true,
};
await syncSources(db.db, sources);
const deps = { db: db.db, logger: silentLogger(), settings: () => settings };

const t0 = performance.now();
const first = await runPass(deps, { ignoreSchedule: true });
const t1 = performance.now();
const second = await runPass(deps, { ignoreSchedule: true });
const t2 = performance.now();
// A publisher without validators: every poll is a full 200 of unchanged stories.
for (let n = 0; n < FEEDS; n++) publisher.setRoute(`/f/${n}.xml`, { body: feed(n), contentType: 'application/rss+xml' });
await sql`update sources set etag = null, last_modified = null`.execute(db.db);
const third = await runPass(deps, { ignoreSchedule: true });
const t3 = performance.now();
const stored = await sql<{ n: number }>`select count(*)::int as n from items`.execute(db.db);

const seen = FEEDS * ITEMS;
const firstS = (t1 - t0) / 1000;
const secondS = (t2 - t1) / 1000;
console.log(
  JSON.stringify(
    {
      database: db.kind,
      feeds: FEEDS,
      items_per_feed: ITEMS,
      items_seen: seen,
      stories_stored: stored.rows[0]!.n,
      failed: first.filter((r) => r.outcome === 'failed').length + second.filter((r) => r.outcome === 'failed').length,
      first_pass_s: +firstS.toFixed(2),
      first_pass_items_per_s: Math.round(seen / firstS),
      second_pass_s: +secondS.toFixed(2),
      second_pass_all_304: second.every((r) => r.outcome === 'not-modified'),
      conditional_speedup: +(firstS / secondS).toFixed(1),
      unchanged_200_pass_s: +((t3 - t2) / 1000).toFixed(2),
      unchanged_items_per_s: Math.round(seen / ((t3 - t2) / 1000)),
      third_pass_unchanged: third.reduce((n, r) => n + r.counts.unchanged, 0),
    },
    null,
    2,
  ),
);
await publisher.close();
await closeFetchAgents();
await db.close();
