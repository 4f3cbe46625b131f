// The river read by a real feed reader: newsboat (Debian's package), the way a subscriber runs it.
// For each river (the real-world corpus sample and the end-to-end fixtures) and each XML output,
// `newsboat -x reload` fetches the feed from the river on 127.0.0.1 into a cache of its own (one
// cache per output: newsboat keys articles by guid across all its feeds, so two outputs of one
// river in one cache would merge), and the test reads that SQLite cache back with Python's sqlite3
// module: the feed's title and site, and each story's title, link, guid and author, must be what
// the river's API says. newsboat has no field for an entry's source, so the publisher reaches its
// readers as the byline of stories that name no author, which is checked with the rest.
//
// Skipped, with a warning, when newsboat is not installed (apt-get install newsboat).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusPresent } from '../helpers/corpus.js';
import { startCorpusRiver, startFixtureRiver, type RiverUnderTest } from '../helpers/corpus-river.js';

const hasNewsboat = spawnSync('newsboat', ['-v'], { stdio: 'ignore' }).status === 0;
if (!hasNewsboat) console.warn('newsboat test skipped: newsboat is not installed (apt-get install newsboat)');
const python = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import sqlite3'], { stdio: 'ignore' }).status === 0) ?? null;
if (hasNewsboat && python === null) console.warn('newsboat test skipped: no python3 with sqlite3 to read its cache');
const hasCorpus = corpusPresent();
if (hasNewsboat && !hasCorpus) console.warn('newsboat test: the corpus river is skipped (../shared/corpus is absent)');

/** The river's public address (base_url in tests/helpers/corpus-river.ts): the feeds' site link. */
const RIVER_HOME = 'http://river.test/';

interface ApiStory {
  id: string;
  title: string;
  url: string | null;
  author: string | null;
  publisher: { name: string; url: string | null };
}

interface NewsboatCache {
  feeds: { rssurl: string; url: string; title: string }[];
  items: { guid: string; title: string; author: string; url: string; feedurl: string; pubDate: number; content: string }[];
}

const READ_CACHE = String.raw`
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.row_factory = sqlite3.Row
feeds = [dict(r) for r in db.execute('select rssurl, url, title from rss_feed')]
items = [dict(r) for r in db.execute('select guid, title, author, url, feedurl, pubDate, content from rss_item where deleted = 0')]
json.dump({'feeds': feeds, 'items': items}, sys.stdout)
`;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    // Asynchronous on purpose: the river answering newsboat runs in this process's event loop.
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** `newsboat -x reload` of one feed URL into a fresh cache; returns the cache and newsboat's error log. */
async function readWithNewsboat(feedUrl: string): Promise<{ cache: NewsboatCache; errors: string[]; output: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-newsboat-'));
  try {
    fs.writeFileSync(path.join(dir, 'urls'), `${feedUrl}\n`);
    // max-items 0 keeps every article; nothing is fetched but the URL above (no full-page downloads).
    fs.writeFileSync(path.join(dir, 'config'), 'max-items 0\nreload-threads 1\ndownload-timeout 60\ndownload-full-page no\n');
    // A home of its own and no proxy settings: newsboat talks to 127.0.0.1 and nothing else.
    const env = { HOME: dir, PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', TERM: 'dumb' };
    const log = path.join(dir, 'error.log');
    const args = ['-x', 'reload', '-u', path.join(dir, 'urls'), '-c', path.join(dir, 'cache.db'), '-C', path.join(dir, 'config'), '-l', '3', '-d', log];
    const result = await run('newsboat', args, env, 120_000);
    if (result.code !== 0) throw new Error(`newsboat exited ${result.code}: ${result.out}`);
    const errors = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter((l) => /ERROR/.test(l)) : [];
    const read = await run(python ?? 'python3', ['-c', READ_CACHE, path.join(dir, 'cache.db')], { PATH: env.PATH }, 60_000);
    if (read.code !== 0) throw new Error(`reading newsboat's cache failed: ${read.out}`);
    return { cache: JSON.parse(read.out) as NewsboatCache, errors, output: result.out };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const norm = (s: string | null | undefined): string =>
  // eslint-disable-next-line no-control-regex
  (s ?? '').replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '').replace(/\s+/g, ' ').trim();

/** The byline a reader shows: the author's name (without an e-mail address), else the publisher. */
function expectedAuthor(story: ApiStory): string {
  const author = norm(story.author);
  const name = /^\S+@\S+\s+\((.+)\)$/.exec(author)?.[1] ?? /^(.+?)\s*<\S+@\S+>$/.exec(author)?.[1] ?? author;
  return norm(name) || norm(story.publisher.name) || story.publisher.url || 'Unknown publisher';
}

interface RiverCase {
  readonly name: string;
  readonly start: () => Promise<RiverUnderTest | null>;
}

const RIVERS: readonly RiverCase[] = [
  ...(hasCorpus ? [{ name: 'the corpus river', start: () => startCorpusRiver() }] : []),
  { name: 'the river fixtures', start: () => startFixtureRiver('river') },
  { name: 'the identity fixtures', start: () => startFixtureRiver('identity') },
];

const FORMATS = [
  { format: 'Atom', path: '/feed.atom' },
  { format: 'RSS', path: '/feed.xml' },
] as const;

describe.skipIf(!hasNewsboat || python === null).each(RIVERS)('newsboat reading $name', ({ start }) => {
  let river: RiverUnderTest;
  let stories: ApiStory[] = [];
  const read = new Map<string, Awaited<ReturnType<typeof readWithNewsboat>>>();

  beforeAll(async () => {
    const started = await start();
    if (started === null) throw new Error('river not started');
    river = started;
    const res = await fetch(`${river.url}/api/items?collapse=true&limit=500`);
    stories = ((await res.json()) as { items: ApiStory[] }).items;
    for (const { path: p } of FORMATS) read.set(p, await readWithNewsboat(`${river.url}${p}?limit=500`));
  }, 300_000);

  afterAll(async () => {
    await river?.close();
  });

  describe.each(FORMATS)('$format ($path)', ({ path: p }) => {
    it('reloads without errors, under the river\'s title and site', () => {
      const { cache, errors } = read.get(p)!;
      expect(errors).toEqual([]);
      expect(cache.feeds).toHaveLength(1);
      expect(norm(cache.feeds[0]?.title)).toBe(norm(river.title));
      // The feed's website, what newsboat opens for the feed: the river's home page.
      expect(cache.feeds[0]?.url).toBe(RIVER_HOME);
    });

    it('has every story once, with its title, link, guid and author (the publisher when no author)', () => {
      const { cache } = read.get(p)!;
      expect(stories.length).toBeGreaterThan(5);
      expect(cache.items).toHaveLength(stories.length);
      const byUrl = new Map(cache.items.map((i) => [i.url, i]));
      const problems: string[] = [];
      for (const story of stories) {
        // Link-less stories are found by their guid, the river's tag URI ending in the story id
        // (titles need not be unique: a feed may list several untitled items).
        const item = story.url !== null ? byUrl.get(story.url) : cache.items.find((i) => i.guid.endsWith(`:${story.id}`));
        if (item === undefined) {
          problems.push(`${story.url ?? story.id} ${JSON.stringify(story.title)}: not in newsboat's cache`);
          continue;
        }
        if (story.url !== null && item.guid !== story.url) problems.push(`${story.url}: guid ${JSON.stringify(item.guid)}`);
        if (story.url === null && (/^\d+$/.test(item.guid) || !item.guid.includes(encodeURIComponent(story.id)))) problems.push(`${story.id}: guid ${JSON.stringify(item.guid)}`);
        if (norm(item.title) !== norm(story.title)) problems.push(`${story.url ?? story.id}: title ${JSON.stringify(item.title)}, expected ${JSON.stringify(story.title)}`);
        if (norm(item.author) !== expectedAuthor(story)) problems.push(`${story.url ?? story.id}: author ${JSON.stringify(item.author)}, expected ${JSON.stringify(expectedAuthor(story))}`);
      }
      expect(problems.slice(0, 30), `${problems.length} differences`).toEqual([]);
    });
  });
});
