import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Parser from 'rss-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import { startPublisher, type Publisher } from '../helpers/publisher.js';
import { createTestRiver, type TestRiver } from '../helpers/river.js';

// Issue #4 end to end: a publisher; an aggregator republishing its story under its own page URL
// with an attribution line, tracking links and promotional lines (and a story of an unconfigured
// publisher, and one of its own); three papers carrying one wire story under three URLs, plus
// three "Live updates" stories that must stay apart. Through fetch -> store -> the three feeds
// and the API, on the database this run uses.

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name: string) => fs.readFileSync(path.join(here, '../fixtures/identity', name), 'utf8');

const STORM = 'https://www.dailyplanet.example/world/2026/11/29/storm-hits-coast';
const WIRE_TITLE = 'Officials certify election results after weeks of recounts';

let db: TestDatabase | null = null;
let river: TestRiver;
let publisher: Publisher;

interface ApiItem {
  id: string;
  title: string;
  url: string;
  publisher: { name: string; url: string | null };
  via: string[];
  summary: string | null;
  cluster_id: string | null;
  also_published_by: { id: string; url: string; publisher: { name: string } }[];
}

beforeAll(async () => {
  if (usingPostgres) db = await createTestDatabase();
  const rss = (name: string) => ({ body: fixture(name), etag: `"${name}"`, contentType: 'application/rss+xml' });
  publisher = await startPublisher({
    '/daily.rss': rss('daily.rss'),
    '/newsnow.rss': rss('newsnow.rss'),
    '/gazette.rss': rss('gazette.rss'),
    '/tribune.rss': rss('tribune.rss'),
    '/herald.rss': rss('herald.rss'),
    '/pages/storm.html': {
      contentType: 'text/html; charset=utf-8',
      body: `<!doctype html><html><head><title>Storm</title><link rel="canonical" href="${STORM}?utm_source=linkhub"></head><body><p>Storm.</p></body></html>`,
    },
  });
  // An aggregator whose items link to its own pages; only the page says where the story lives.
  publisher.setRoute('/linkhub.rss', {
    contentType: 'application/rss+xml',
    body: `<?xml version="1.0"?><rss version="2.0"><channel><title>Link Hub</title><link>https://linkhub.example/</link><description>d</description>
<item><title>Storm hits the coast, thousands without power</title><link>${publisher.url('/pages/storm.html')}</link><guid>lh-1</guid><pubDate>Sun, 29 Nov 2026 09:00:00 GMT</pubDate>
<description>A storm, summarised.</description></item></channel></rss>`,
  });
  river = createTestRiver(db?.url ?? null);
  river.writeFeeds(`title: Identity river
settings:
  allow_private_networks: true
  host_gap: 0
  host_concurrency: 8
feeds:
  - id: daily
    url: ${publisher.url('/daily.rss')}
    name: Daily Planet
    homepage: https://www.dailyplanet.example/
  - id: newsnow
    url: ${publisher.url('/newsnow.rss')}
    name: News Now
    homepage: https://newsnow.example/
    kind: aggregator
    strip:
      - You can view this story on their website
      - CLICK HERE TO GET THE
  - id: linkhub
    url: ${publisher.url('/linkhub.rss')}
    name: Link Hub
    homepage: https://linkhub.example/
    kind: aggregator
    resolve_canonical: true
  - id: gazette
    url: ${publisher.url('/gazette.rss')}
    name: Riverside Gazette
    homepage: https://www.riverside-gazette.example/
  - id: tribune
    url: ${publisher.url('/tribune.rss')}
    name: Valley Tribune
    homepage: https://valleytribune.example/
  - id: herald
    url: ${publisher.url('/herald.rss')}
    name: Harbor Herald
    homepage: https://www.harbor-herald.example/
`);
  // The aggregator first: its copy must still end up credited to the publisher.
  expect((await river.cli('fetch', '--source', 'newsnow')).code).toBe(0);
  const all = await river.cli('fetch', '--all');
  expect(all.code, all.out + all.err).toBe(0);
});

afterAll(async () => {
  await publisher?.close();
  await db?.close();
  river?.cleanup();
});

describe('story identity and attribution across publishers', () => {
  it('the API lists each story once, credited to its publisher, with via and clusters', async () => {
    const running = await river.serve();
    try {
      const res = await fetch(`${running.url}/api/items?limit=100`);
      const items = ((await res.json()) as { items: ApiItem[] }).items;
      expect(items).toHaveLength(9);

      const storm = items.filter((i) => i.title.startsWith('Storm hits the coast'));
      expect(storm).toHaveLength(1);
      expect(storm[0]).toMatchObject({ url: STORM, publisher: { name: 'Daily Planet' } });
      expect([...storm[0]!.via].sort()).toEqual(['daily', 'linkhub', 'newsnow']);
      expect(storm[0]!.summary).not.toMatch(/CLICK HERE|view this story/i);

      const harbour = items.find((i) => i.title === 'Harbour reopens after repairs')!;
      expect(harbour.url).toBe('https://www.elsewhere-times.example/harbour-reopens');
      expect(harbour.publisher.name).toMatch(/elsewhere/i);
      expect(harbour.via).toEqual(['newsnow']);
      expect(harbour.summary).not.toMatch(/CLICK HERE TO GET/);

      const own = items.find((i) => i.title === 'News Now launches local edition')!;
      expect(own).toMatchObject({ url: 'https://newsnow.example/originals/local-edition', publisher: { name: 'News Now' } });

      const wire = items.filter((i) => i.title.startsWith(WIRE_TITLE));
      expect(wire.map((w) => w.publisher.name).sort()).toEqual(['Harbor Herald', 'Riverside Gazette', 'Valley Tribune']);
      const clusterIds = new Set(wire.map((w) => w.cluster_id));
      expect(clusterIds.size).toBe(1);
      expect([...clusterIds][0]).toBe(wire.find((w) => w.publisher.name === 'Riverside Gazette')!.id);
      for (const w of wire) expect(w.also_published_by).toHaveLength(2);

      const live = items.filter((i) => i.title.startsWith('Live updates'));
      expect(live).toHaveLength(3);
      for (const l of live) expect(l.cluster_id).toBeNull();

      const one = (await (await fetch(`${running.url}/api/items/${wire[0]!.id}`)).json()) as { cluster: { id: string; members: { publisher: { name: string } }[] } };
      expect(one.cluster.members.map((m) => m.publisher.name)).toEqual(['Riverside Gazette', 'Valley Tribune', 'Harbor Herald']);
    } finally {
      await running.close();
    }
  });

  it('the three feeds show each story once (the wire story as one entry, also published by the others)', async () => {
    const running = await river.serve();
    try {
      const parser = new Parser({ customFields: { item: [['source', 'source', { keepArray: false }], ['dc:creator', 'creator']] } });
      const rssText = await (await fetch(`${running.url}/feed.xml`)).text();
      const rss = await parser.parseString(rssText);
      expect(rss.items).toHaveLength(7);
      expect(rss.items.filter((i) => i.link === STORM)).toHaveLength(1);
      const rssWire = rss.items.filter((i) => i.title?.startsWith(WIRE_TITLE));
      expect(rssWire).toHaveLength(1);
      expect(rssWire[0]!.link).toBe('https://www.riverside-gazette.example/news/2026/11/29/officials-certify-election-results');
      expect(rssText).toMatch(/<source url="[^"]*">Daily Planet<\/source>/);

      const atomText = await (await fetch(`${running.url}/feed.atom`)).text();
      const atom = await parser.parseString(atomText);
      expect(atom.items).toHaveLength(7);
      const wireEntry = atomText.split('<entry>').find((e) => e.includes('/news/2026/11/29/officials-certify-election-results'))!;
      expect(wireEntry).toMatch(/<link rel="related" href="https:\/\/valleytribune\.example\/politics\/state\/election-certified-1234567"/);
      expect(wireEntry).toMatch(/<link rel="related" href="https:\/\/www\.harbor-herald\.example\/ap\/officials-certify-election-results-2026"/);
      const stormEntry = atomText.split('<entry>').find((e) => e.includes(STORM))!;
      expect(stormEntry).toMatch(/<source>[\s\S]*Daily Planet[\s\S]*<\/source>/);

      const json = (await (await fetch(`${running.url}/feed.json`)).json()) as {
        items: { url: string; title: string; _tributary: { publisher: string; via: string[]; also_published_by?: { name: string }[] } }[];
      };
      expect(json.items).toHaveLength(7);
      const jsonStorm = json.items.find((i) => i.url === STORM)!;
      expect(jsonStorm._tributary.publisher).toBe('Daily Planet');
      expect([...jsonStorm._tributary.via].sort()).toEqual(['daily', 'linkhub', 'newsnow']);
      // The aggregator's page was fetched once for its rel=canonical.
      expect(publisher.requestsTo('/pages/storm.html')).toHaveLength(1);
      const jsonWire = json.items.find((i) => i.title.startsWith(WIRE_TITLE))!;
      expect(jsonWire._tributary.publisher).toBe('Riverside Gazette');
      expect(jsonWire._tributary.also_published_by!.map((a) => a.name)).toEqual(['Valley Tribune', 'Harbor Herald']);
    } finally {
      await running.close();
    }
  });

  it('re-polling changes nothing: no new stories, no new clusters', async () => {
    const again = await river.cli('fetch', '--all');
    expect(again.out).toMatch(/6 sources polled, 0 failed, 0 new stories/);
    // The page's canonical came from the cache.
    expect(publisher.requestsTo('/pages/storm.html')).toHaveLength(1);
  });
});
