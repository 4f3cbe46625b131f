import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { importOpmlFile, runImportOpml } from '../../src/commands/import-opml.js';
import { TributaryError } from '../../src/errors.js';
import { buildServer } from '../../src/http/server.js';
import { silentLogger } from '../../src/log.js';
import { parseOpml } from '../../src/opml.js';
import { parseFeedsYaml } from '../../src/sources.js';
import type { Database } from '../../src/store/database.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { resetRiver, seedSource } from '../helpers/seed.js';

// OPML out (GET /sources.opml on the real server over a seeded database) and in (importOpmlFile
// on real files), and the round trip: one river's export imported into another's feeds.yaml.

let tdb: TestDatabase;
let db: Kysely<Database>;
let app: FastifyInstance;
let base: string;
let dir: string;

beforeAll(async () => {
  tdb = await createTestDatabase();
  db = tdb.db;
  app = buildServer({
    db,
    river: () => ({ title: 'Morning & Evening River', baseUrl: null }),
    publicBaseUrl: () => 'https://river.example',
    logger: silentLogger(),
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  dir = await mkdtemp(path.join(os.tmpdir(), 'tributary-opml-'));
});

afterAll(async () => {
  await app?.close();
  await tdb?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await resetRiver(db);
});

async function seedSources(): Promise<void> {
  await seedSource(db, { id: 'city', name: 'City Paper', url: 'https://city.example/feed?format=rss&v=2', homepage: 'https://city.example/', tags: ['local', 'news'] });
  // No configured name: the feed's own title is what a reader should show.
  await seedSource(db, { id: 'tech', name: null, feedTitle: 'Tech <Blog> "Daily"', url: 'https://tech.example/atom', homepage: null, tags: [] });
  // Neither: the id.
  await seedSource(db, { id: 'bare', name: null, feedTitle: null, url: 'https://bare.example/rss', homepage: null, tags: ['misc'] });
  // Disabled in feeds.yaml, still configured: listed.
  await seedSource(db, { id: 'paused', name: 'Paused Weekly', url: 'https://paused.example/rss', enabled: false });
  // Removed from feeds.yaml: not ours to recommend any more.
  await seedSource(db, { id: 'removed', name: 'Gone Gazette', url: 'https://gone.example/rss', active: false });
}

async function get(pathAndQuery: string) {
  const res = await request(`${base}${pathAndQuery}`);
  const header = (name: string) => {
    const v = res.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  return { status: res.statusCode, header, text: await res.body.text() };
}

describe('GET /sources.opml', () => {
  it('exports the configured sources as OPML 2.0', async () => {
    await seedSources();
    const res = await get('/sources.opml');
    expect(res.status).toBe(200);
    expect(res.header('content-type')).toBe('text/x-opml; charset=utf-8');
    const doc = parseOpml(res.text);
    expect(doc.title).toBe('Morning & Evening River: sources');
    expect(doc.entries).toEqual([
      { kind: 'feed', title: 'bare', xmlUrl: 'https://bare.example/rss', htmlUrl: null, folders: [], categories: ['misc'] },
      { kind: 'feed', title: 'City Paper', xmlUrl: 'https://city.example/feed?format=rss&v=2', htmlUrl: 'https://city.example/', folders: [], categories: ['local', 'news'] },
      { kind: 'feed', title: 'Paused Weekly', xmlUrl: 'https://paused.example/rss', htmlUrl: 'http://paused.test/', folders: [], categories: [] },
      { kind: 'feed', title: 'Tech <Blog> "Daily"', xmlUrl: 'https://tech.example/atom', htmlUrl: null, folders: [], categories: [] },
    ]);
  });

  it('is well-formed XML to an independent parser (Python ElementTree)', async (ctx) => {
    const python = spawnSync('python3', ['--version']);
    if (python.status !== 0) {
      console.warn('opml.test.ts: python3 not found; the ElementTree check is skipped');
      ctx.skip();
    }
    await seedSources();
    const { text } = await get('/sources.opml');
    const script = [
      'import sys, xml.etree.ElementTree as ET',
      'root = ET.fromstring(sys.stdin.buffer.read())',
      'assert root.tag == "opml" and root.get("version") == "2.0", root.tag',
      'for o in root.iter("outline"): print(o.get("type"), o.get("xmlUrl"), o.get("text"), sep="|")',
    ].join('\n');
    const out = spawnSync('python3', ['-c', script], { input: text, encoding: 'utf8' });
    expect(out.stderr).toBe('');
    expect(out.stdout.trim().split('\n')).toEqual([
      'rss|https://bare.example/rss|bare',
      'rss|https://city.example/feed?format=rss&v=2|City Paper',
      'rss|https://paused.example/rss|Paused Weekly',
      'rss|https://tech.example/atom|Tech <Blog> "Daily"',
    ]);
  });

  it('answers an empty river with an empty list, and a query parameter with 400', async () => {
    const empty = await get('/sources.opml');
    expect(empty.status).toBe(200);
    expect(parseOpml(empty.text).entries).toEqual([]);
    const bad = await get('/sources.opml?format=json');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({ error: { code: 'bad_request', parameter: 'format' } });
  });
});

describe('importOpmlFile', () => {
  const FEEDS = `# Our river
title: Other River

feeds:
  # The paper of record.
  - id: city
    url: https://city.example/feed?format=rss&v=2
    name: City Paper
`;

  it('imports another river\'s export into feeds.yaml, keeping its comments and permissions', async () => {
    await seedSources();
    const opmlFile = path.join(dir, 'export.opml');
    const feedsFile = path.join(dir, 'feeds.yaml');
    await writeFile(opmlFile, (await get('/sources.opml')).text);
    await writeFile(feedsFile, FEEDS);
    await chmod(feedsFile, 0o640);

    const dry = await importOpmlFile({ opmlFile, feedsFile, dryRun: true });
    expect(dry.written).toBe(false);
    expect(dry.added.map((a) => a.id)).toEqual(['bare', 'paused-weekly', 'tech-blog-daily']);
    expect(await readFile(feedsFile, 'utf8')).toBe(FEEDS);

    const result = await importOpmlFile({ opmlFile, feedsFile });
    expect(result.written).toBe(true);
    expect(result.skipped).toEqual([
      { url: 'https://city.example/feed?format=rss&v=2', title: 'City Paper', reason: 'already in feeds.yaml as "city"' },
    ]);
    const text = await readFile(feedsFile, 'utf8');
    expect(text).toBe(`${FEEDS}  - id: bare
    url: https://bare.example/rss
    name: bare
    tags: [misc]
  - id: paused-weekly
    url: https://paused.example/rss
    name: Paused Weekly
    homepage: http://paused.test/
  - id: tech-blog-daily
    url: https://tech.example/atom
    name: Tech <Blog> "Daily"
`);
    expect((await stat(feedsFile)).mode & 0o777).toBe(0o640);
    const parsed = parseFeedsYaml(text, feedsFile);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    expect(parsed.config.feeds.map((f) => [f.id, f.url, f.tags])).toEqual([
      ['city', 'https://city.example/feed?format=rss&v=2', []],
      ['bare', 'https://bare.example/rss', ['misc']],
      ['paused-weekly', 'https://paused.example/rss', []],
      ['tech-blog-daily', 'https://tech.example/atom', []],
    ]);

    // Nothing new the second time: the file is not rewritten.
    const before = (await stat(feedsFile)).mtimeMs;
    const again = await importOpmlFile({ opmlFile, feedsFile });
    expect([again.written, again.added.length]).toEqual([false, 0]);
    expect((await stat(feedsFile)).mtimeMs).toBe(before);
  });

  it('runs as the command: prints a line per feed, exits 0; exits 1 naming the problem for bad input', async () => {
    const opmlFile = path.join(dir, 'cmd.opml');
    const feedsFile = path.join(dir, 'cmd.yaml');
    await writeFile(opmlFile, '<opml version="2.0"><body><outline text="Blog" xmlUrl="https://blog.example/feed"/><outline text="X" xmlUrl="ftp://x.example/"/></body></opml>');
    await writeFile(feedsFile, 'feeds: []\n');
    const out: string[] = [];
    const err: string[] = [];
    expect(await runImportOpml({ opmlFile, feedsFile }, { out: (l) => out.push(l), err: (l) => err.push(l) })).toBe(0);
    expect(out).toEqual([
      'added    blog  https://blog.example/feed',
      'skipped  ftp://x.example/: not an absolute http(s) URL',
      `1 feed to add, 1 skipped; ${feedsFile} updated`,
    ]);
    expect(await readFile(feedsFile, 'utf8')).toBe('feeds:\n  - id: blog\n    url: https://blog.example/feed\n    name: Blog\n');

    await writeFile(opmlFile, '<opml><body><outline></body>');
    err.length = 0;
    expect(await runImportOpml({ opmlFile, feedsFile }, { out: () => {}, err: (l) => err.push(l) })).toBe(1);
    expect(err).toEqual([
      'tributary import-opml: the OPML file is not well-formed XML at line 1, column 28: unexpected close tag',
    ]);
  });

  it.each([
    { name: 'a missing OPML file', opml: 'missing.opml', feeds: 'feeds.yaml', message: 'OPML file', why: 'not found' },
    { name: 'a missing feeds file', opml: 'export.opml', feeds: 'nope.yaml', message: 'feeds file', why: 'not found' },
    { name: 'a directory as the OPML file', opml: '.', feeds: 'feeds.yaml', message: 'OPML file', why: 'is a directory' },
  ])('says which file is wrong: $name', async ({ opml, feeds, message, why }) => {
    await writeFile(path.join(dir, 'export.opml'), '<opml version="2.0"><body/></opml>');
    await writeFile(path.join(dir, 'feeds.yaml'), FEEDS);
    const opmlFile = path.join(dir, opml);
    const feedsFile = path.join(dir, feeds);
    const err = await importOpmlFile({ opmlFile, feedsFile }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TributaryError);
    expect((err as TributaryError).kind).toBe('config');
    const wrong = message === 'OPML file' ? opmlFile : feedsFile;
    expect((err as TributaryError).message).toBe(`${message} ${wrong}: ${why}`);
  });
});
