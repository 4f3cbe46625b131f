import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import { startPublisher, type Publisher } from '../helpers/publisher.js';
import { createTestRiver, type TestRiver } from '../helpers/river.js';

// Issue #5's wiring in the running river: `serve` pings the WebSub hub of settings.websub_hub
// after the scheduler stores new stories (a fake hub on 127.0.0.1 records the publish pings),
// and `tributary import-opml FILE` edits feeds.yaml through the CLI.

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name: string) => fs.readFileSync(path.join(here, '../fixtures/river', name), 'utf8');

let db: TestDatabase | null = null;
let publisher: Publisher;
let river: TestRiver;
const pings: { mode: string | null; url: string | null }[] = [];

beforeAll(async () => {
  if (usingPostgres) db = await createTestDatabase();
  publisher = await startPublisher({
    '/daily.rss': { body: fixture('daily.rss'), etag: '"d1"', contentType: 'application/rss+xml' },
    // The fake hub: records form-encoded publish pings.
    '/hub': async (req, res) => {
      let body = '';
      for await (const chunk of req) body += String(chunk);
      const form = new URLSearchParams(body);
      pings.push({ mode: form.get('hub.mode'), url: form.get('hub.url') });
      res.writeHead(204).end();
    },
  });
  river = createTestRiver(db?.url ?? null);
});

afterAll(async () => {
  await publisher?.close();
  await db?.close();
  river?.cleanup();
});

async function waitFor(what: string, probe: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('publishing from a running river', () => {
  it('pings the WebSub hub with every river feed URL once new stories land, and advertises it', async () => {
    river.writeFeeds(`title: Hub river
base_url: http://river.test
settings:
  allow_private_networks: true
  websub_hub: ${publisher.url('/hub')}
feeds:
  - id: daily
    url: ${publisher.url('/daily.rss')}
rivers:
  - name: world
    sources: [daily]
`);
    const running = await river.serve();
    try {
      await waitFor('a publish ping', () => pings.length >= 6, 30_000);
      const urls = pings.map((p) => p.url).sort();
      expect(pings.every((p) => p.mode === 'publish')).toBe(true);
      expect(urls).toEqual(
        [
          'http://river.test/feed.atom',
          'http://river.test/feed.json',
          'http://river.test/feed.xml',
          'http://river.test/rivers/world.atom',
          'http://river.test/rivers/world.json',
          'http://river.test/rivers/world.xml',
        ].sort(),
      );
      const atom = await (await fetch(`${running.url}/feed.atom`)).text();
      expect(atom).toContain(`<link rel="hub" href="${publisher.url('/hub')}"/>`);
    } finally {
      await running.close();
    }
  });

  it('import-opml adds an OPML list to feeds.yaml through the CLI, keeping comments', async () => {
    river.writeFeeds(`# my river
feeds:
  - id: daily # the Planet
    url: ${publisher.url('/daily.rss')}
`);
    const opml = path.join(river.dir, 'subs.opml');
    fs.writeFileSync(
      opml,
      `<?xml version="1.0"?><opml version="2.0"><head><title>Subs</title></head><body>
<outline text="News"><outline type="rss" text="Gazette" xmlUrl="https://gazette.example/feed.xml" htmlUrl="https://gazette.example/"/>
<outline type="rss" text="Daily again" xmlUrl="${publisher.url('/daily.rss')}"/></outline></body></opml>`,
    );
    const r = await river.cli('import-opml', opml);
    expect(r.code, r.out + r.err).toBe(0);
    const yaml = fs.readFileSync(river.env.FEEDS_FILE!, 'utf8');
    expect(yaml).toContain('# my river');
    expect(yaml).toContain('# the Planet');
    expect(yaml).toContain('https://gazette.example/feed.xml');
    expect(`${r.out}\n${r.err}`).toMatch(/skip/i);
    expect((await river.cli('check')).code).toBe(0);
  });
});
