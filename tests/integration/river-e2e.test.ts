import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Parser from 'rss-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import { startPublisher } from '../helpers/publisher.js';
import { createTestRiver, type TestRiver } from '../helpers/river.js';

// The river end to end, on the database this run uses (PGlite or PostgreSQL): four publishers
// (RSS 2.0, Atom with xml:base, JSON Feed, and an aggregator republishing another's story with
// tracking links) served on 127.0.0.1 -> `tributary fetch` -> storage -> the three output feeds and
// the API, then a restart and a second, conditional poll.

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name: string) => fs.readFileSync(path.join(here, '../fixtures/river', name), 'utf8');

const STORM = 'https://www.dailyplanet.example/world/2026/11/29/storm-hits-coast';

let db: TestDatabase | null = null;
let river: TestRiver;
let publisher: Awaited<ReturnType<typeof startPublisher>>;

beforeAll(async () => {
  if (usingPostgres) db = await createTestDatabase();
  publisher = await startPublisher({
    '/daily/world.rss': { body: fixture('daily.rss'), etag: '"daily-v1"', headers: { 'content-type': 'application/rss+xml; charset=utf-8' } },
    '/gazette/feed.atom': { body: fixture('gazette.atom'), etag: '"gazette-v1"', headers: { 'content-type': 'application/atom+xml' } },
    '/wire/feed.json': { body: fixture('wire.json'), etag: '"wire-v1"', headers: { 'content-type': 'application/feed+json' } },
    '/newsnow/rss': { body: fixture('newsnow.rss'), etag: '"newsnow-v1"', headers: { 'content-type': 'application/rss+xml' } },
  });
  river = createTestRiver(db?.url ?? null);
  river.writeFeeds(`title: Test river
base_url: http://river.test
settings:
  every: 15m
  allow_private_networks: true
feeds:
  - id: daily
    url: ${publisher.url('/daily/world.rss')}
    name: Daily Planet
    homepage: https://www.dailyplanet.example/
    tags: [news, world]
  - id: gazette
    url: ${publisher.url('/gazette/feed.atom')}
    tags: [local]
  - id: wire
    url: ${publisher.url('/wire/feed.json')}
    name: Continental Wire
    homepage: https://wire.example/
  - id: newsnow
    url: ${publisher.url('/newsnow/rss')}
    name: News Now
    homepage: https://newsnow.example/
    tags: [aggregated]
`);
});

afterAll(async () => {
  await publisher?.close();
  await db?.close();
  river?.cleanup();
});

const requestsTo = (p: string) => publisher.requests.filter((r) => r.path === p);

interface ApiItem {
  id: string;
  title: string;
  url: string;
  publisher: { name: string; url: string | null };
  via: string[];
  author: string | null;
  published_at: string;
  updated_at: string;
  summary: string | null;
  tags: string[];
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  return (await res.json()) as T;
}

describe('the river, end to end', () => {
  let firstIds: string[] = [];

  it('polls the aggregator first: its copy of the publisher story is credited to the publisher', async () => {
    const r = await river.cli('fetch', '--source', 'newsnow');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/newsnow\s+updated\s+200\s+3\b/);
    const items = await river.cli('items', '--json');
    const stored = (JSON.parse(items.out) as { items: ApiItem[] }).items;
    const storm = stored.find((i) => i.url === STORM);
    expect(storm).toMatchObject({ publisher: { name: 'Daily Planet' }, via: ['newsnow'] });
  });

  it('polls everything: one story per canonical URL, each credited to its publisher', async () => {
    const r = await river.cli('fetch', '--all');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/4 sources polled, 0 failed, 4 new stories/);
    // The aggregator was polled again, conditionally, and answered 304.
    expect(r.out).toMatch(/newsnow\s+not-modified\s+304/);
    expect(requestsTo('/newsnow/rss')[1]?.headers['if-none-match']).toBe('"newsnow-v1"');
  });

  it('serves the river in RSS, Atom, JSON Feed and the API with attribution intact', async () => {
    const running = await river.serve();
    try {
      const base = running.url;
      const api = await getJson<{ items: ApiItem[]; next_cursor: string | null }>(`${base}/api/items`);
      // Newest first by publication time; the storm story carries its publisher's time, not the aggregator's.
      expect(api.items.map((i) => i.title)).toEqual([
        'Council approves new bridge',
        'Markets rally on rate hopes',
        'Storm hits the coast, thousands without power',
        'Local team wins the cup',
        'Election results certified',
        'News Now launches local edition',
        'Harbour reopens after repairs',
      ]);
      expect(api.items).toHaveLength(7);
      firstIds = api.items.map((i) => i.id).sort();
      const byUrl = new Map(api.items.map((i) => [i.url, i]));
      expect(byUrl.get(STORM)).toMatchObject({
        title: 'Storm hits the coast, thousands without power',
        publisher: { name: 'Daily Planet', url: 'https://www.dailyplanet.example/' },
        author: 'Lois Lane',
        published_at: '2026-11-29T08:00:00.000Z',
      });
      expect([...byUrl.get(STORM)!.via].sort()).toEqual(['daily', 'newsnow']);
      expect([...byUrl.get(STORM)!.tags].sort()).toEqual(['aggregated', 'news', 'world']);
      expect(byUrl.get(STORM)!.summary).not.toContain('CLICK HERE TO GET');
      // Atom xml:base resolution (feed and entry level) and tracking parameters removed.
      expect(byUrl.get('https://gazette.example/news/2026/council-bridge')).toMatchObject({ publisher: { name: 'Riverside Gazette' }, author: 'Jimmy Olsen', via: ['gazette'] });
      expect(byUrl.get('https://gazette.example/sports/cup-final')).toMatchObject({ published_at: '2026-11-29T06:15:00.000Z' });
      expect(byUrl.get('https://wire.example/stories/77-election-results')).toMatchObject({ publisher: { name: 'Continental Wire' }, author: 'Wire Staff' });
      expect(byUrl.get('https://newsnow.example/originals/local-edition')).toMatchObject({ publisher: { name: 'News Now' } });
      expect(byUrl.get('https://elsewhere.example/harbour-reopens')).toMatchObject({ publisher: { name: 'Elsewhere Times' }, via: ['newsnow'] });

      const sources = await getJson<{ sources: { id: string; item_count: number; last_status: number; last_error: string | null }[] }>(`${base}/api/sources`);
      expect(sources.sources.map((s) => [s.id, s.item_count, s.last_status, s.last_error])).toEqual([
        ['daily', 2, 200, null],
        ['gazette', 2, 200, null],
        ['newsnow', 3, 304, null],
        ['wire', 1, 200, null],
      ]);

      const parser = new Parser({ customFields: { item: [['source', 'source', { keepArray: false }], ['dc:creator', 'creator']] } });
      const rssRes = await fetch(`${base}/feed.xml`);
      expect(rssRes.headers.get('content-type')).toMatch(/^application\/rss\+xml/);
      const rssText = await rssRes.text();
      const rss = await parser.parseString(rssText);
      expect(rss.items).toHaveLength(7);
      const rssStorm = rss.items.filter((i) => i.link === STORM);
      expect(rssStorm).toHaveLength(1);
      expect(rssStorm[0]!.guid).toBe(STORM);
      expect(rssText).toMatch(/<source url="[^"]+">Daily Planet<\/source>/);
      expect((rssStorm[0] as unknown as { creator: string }).creator).toBe('Lois Lane');

      const atomRes = await fetch(`${base}/feed.atom`);
      expect(atomRes.headers.get('content-type')).toMatch(/^application\/atom\+xml/);
      const atomText = await atomRes.text();
      const atom = await parser.parseString(atomText);
      expect(atom.items.filter((i) => i.link === STORM)).toHaveLength(1);
      const stormEntry = atomText.split('<entry>').find((e) => e.includes(STORM))!;
      expect(stormEntry).toMatch(/<source>[\s\S]*<title[^>]*>Daily Planet<\/title>[\s\S]*<\/source>/);
      expect(stormEntry).toMatch(/<author>\s*<name>Lois Lane<\/name>/);

      const jsonRes = await fetch(`${base}/feed.json`);
      expect(jsonRes.headers.get('content-type')).toMatch(/^application\/feed\+json/);
      const json = (await jsonRes.json()) as { version: string; items: { url: string; id: string; authors?: { name: string }[]; _tributary: { publisher: string; via: string[] } }[] };
      expect(json.version).toBe('https://jsonfeed.org/version/1.1');
      const jsonStorm = json.items.filter((i) => i.url === STORM);
      expect(jsonStorm).toHaveLength(1);
      expect(jsonStorm[0]!._tributary.publisher).toBe('Daily Planet');
      expect([...jsonStorm[0]!._tributary.via].sort()).toEqual(['daily', 'newsnow']);

      // Conditional requests to the river itself.
      const etag = rssRes.headers.get('etag');
      expect(etag).toBeTruthy();
      const again = await fetch(`${base}/feed.xml`, { headers: { 'if-none-match': etag! } });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe('');
    } finally {
      await running.close();
    }
  });

  it('survives a restart: a second poll is conditional, nothing lost or duplicated', async () => {
    const before = publisher.requests.length;
    const r = await river.cli('fetch', '--all');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/4 sources polled, 0 failed, 0 new stories/);
    const fresh = publisher.requests.slice(before);
    expect(fresh).toHaveLength(4);
    for (const req of fresh) expect(req.headers['if-none-match'], req.path).toMatch(/^"\w+-v1"$/);
    expect(r.out.match(/not-modified\s+304/g)).toHaveLength(4);

    const items = JSON.parse((await river.cli('items', '--json', '--limit', '500')).out) as { items: ApiItem[] };
    expect(items.items.map((i) => i.id).sort()).toEqual(firstIds);
  });

  it('an edited story is updated in place, keeping its id and publication time', async () => {
    publisher.setRoute('/daily/world.rss', {
      body: fixture('daily.rss').replace('Markets rally on rate hopes', 'Markets rally on rate hopes as inflation cools'),
      etag: '"daily-v2"',
      headers: { 'content-type': 'application/rss+xml' },
    });
    const r = await river.cli('fetch', '--source', 'daily');
    expect(r.out).toMatch(/daily\s+updated\s+200\s+0\s+1\s+1/);
    const items = (JSON.parse((await river.cli('items', '--json', '--source', 'daily')).out) as { items: ApiItem[] }).items;
    const edited = items.find((i) => i.url === 'https://www.dailyplanet.example/business/markets-rally')!;
    expect(edited.title).toBe('Markets rally on rate hopes as inflation cools');
    expect(edited.published_at).toBe('2026-11-29T09:00:00.000Z');
    expect(new Date(edited.updated_at).getTime()).toBeGreaterThan(new Date(edited.published_at).getTime());
    expect(firstIds).toContain(edited.id);
  });

  it('a second process opening the same embedded database is refused by name', async () => {
    // Always on the embedded database (whatever this run uses), in a data directory of its own.
    const embedded = createTestRiver(null);
    try {
      embedded.writeFeeds(fs.readFileSync(river.env.FEEDS_FILE!, 'utf8'));
      expect((await embedded.cli('fetch', '--all')).code).toBe(0);
      const running = await embedded.serve();
      try {
        const entry = path.join(here, '../helpers/cli-entry.ts');
        const child = spawn(process.execPath, ['--import', 'tsx', entry, 'items'], {
          env: { ...process.env, ...embedded.env, DATABASE_URL: '' },
          cwd: path.join(here, '../..'),
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
        expect(code).toBe(2);
        expect(stderr).toContain(`in use by process ${process.pid}`);
      } finally {
        await running.close();
      }
      // Once released, the store opens again with everything in it.
      const items = JSON.parse((await embedded.cli('items', '--json', '--limit', '500')).out) as { items: ApiItem[] };
      expect(items.items).toHaveLength(7);
    } finally {
      embedded.cleanup();
    }
  });
});
