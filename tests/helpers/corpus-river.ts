// Rivers to check the output of, each running for real: publishers on 127.0.0.1 serving feeds,
// `tributary fetch --all` into a database of the river's own (a fresh PostgreSQL database when
// DATABASE_URL is set, else PGlite), then `serve` on 127.0.0.1.
//
// - startCorpusRiver(): about thirty documents of the shared real-world corpus (../shared/corpus),
//   picked for variety: RSS 2.0, RSS 1.0, Atom 1.0 and 0.3, JSON Feed 1.0 and 1.1; legacy
//   encodings (GB2312, windows-1251, ISO-8859-1); right-to-left text; entities and HTML in titles;
//   script and event handlers in content; illegal XML characters; relative links; enclosures;
//   duplicate guids; one publisher's stories in three formats (so stories are carried "via" several
//   feeds); sources under each content policy. Null when the corpus is absent (a fresh clone).
// - startFixtureRiver('river' | 'identity'): the end-to-end fixtures of river-e2e.test.ts and
//   identity-e2e.test.ts, configured the same way (aggregators, strip patterns, a page whose
//   rel=canonical names the publisher, a wire story carried by three papers).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunningRiver } from '../../src/serve.js';
import { contentTypeFor, corpusPresent, documentBytes, readManifest, type ManifestRow } from './corpus.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from './db.js';
import { startPublisher, type FixtureResponse, type Publisher } from './publisher.js';
import { createTestRiver, type TestRiver } from './river.js';

export interface RiverUnderTest {
  /** What the river is, for test names and messages. */
  readonly name: string;
  /** The river's title in feeds.yaml: every output's feed title. */
  readonly title: string;
  /** The running river, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /**
   * Every feed the river serves in the three formats, as paths without the extension: the default
   * river (/feed) first, then named rivers, per-source and per-tag feeds.
   */
  readonly feedPaths: readonly string[];
  /** What `tributary fetch --all` printed. */
  readonly fetchOutput: string;
  readonly sourceIds: readonly string[];
  close(): Promise<void>;
}

/** One corpus document in the sample, and what it brings. */
export interface CorpusPick {
  readonly path: string;
  readonly why: string;
  /** feeds.yaml options for its source (content policy, name, homepage). */
  readonly options?: { readonly content?: 'full' | 'summary' | 'none'; readonly name?: string; readonly homepage?: string; readonly tags?: readonly string[] };
}

const RSPARSER = 'feeds/RSParser/Tests/RSParserTests/Resources';
const FEEDPARSER = 'feeds/feedparser/tests/wellformed';

export const CORPUS_SAMPLE: readonly CorpusPick[] = [
  // RSS 2.0
  { path: `${RSPARSER}/489.rss`, why: 'dc:creator bylines and content:encoded', options: { content: 'full' } },
  { path: `${RSPARSER}/KatieFloyd.rss`, why: 'FeedBurner, iTunes, tracking parameters', options: { content: 'summary' } },
  { path: `${RSPARSER}/kc0011.rss`, why: 'GB2312-encoded Chinese, no guids' },
  { path: `${RSPARSER}/livemint.xml`, why: 'entities and HTML in titles, Media RSS' },
  { path: `${RSPARSER}/theomnishow.rss`, why: 'podcast enclosures', options: { tags: ['podcasts'], content: 'full' } },
  { path: 'feeds/miniflux-v2/internal/reader/parser/testdata/encoding_WINDOWS-1251.xml', why: 'windows-1251 Cyrillic', options: { name: 'Новости (windows-1251)' } },
  { path: 'feeds/miniflux-v2/internal/reader/parser/testdata/urdu_UTF8.xml', why: 'right-to-left Urdu', options: { content: 'full', tags: ['world'] } },
  { path: 'feeds/feedjira/spec/sample_feeds/HuffPostCanada.xml', why: 'HuffPost: media, tracking links' },
  { path: 'feeds/feed-rs/feed-rs/fixture/rss2/rss_2.0_spiegel.xml', why: 'German, umlauts, enclosure', options: { tags: ['podcasts', 'world'] } },
  { path: 'feeds/rss-parser/test/input/guardian.rss', why: 'The Guardian: a real news feed', options: { content: 'none' } },
  { path: 'feeds/node-feedparser/test/feeds/invalid-characters-gzipped.xml', why: 'illegal XML characters (gzip body)' },
  { path: 'feeds/lemon24-reader/tests/data/relative.rss', why: 'relative links and enclosure' },
  { path: `${FEEDPARSER}/sanitize/item_content_encoded_script.xml`, why: 'script in content:encoded, no title or link' },
  { path: `${FEEDPARSER}/rss/item_guid_isPermaLink_ValueError.xml`, why: 'bad isPermaLink value' },
  // RSS 1.0
  { path: 'feeds/feed-rs/feed-rs/fixture/rss1/rss_1.0_iso8859.xml', why: 'RSS 1.0 in ISO-8859-1' },
  { path: 'feeds/feed-extractor/tests/test-data/rdf-standard.xml', why: 'RSS 1.0 with dc and slash' },
  { path: 'feeds/feed-rs/feed-rs/fixture/rss1/rss_1.0_biorxiv.xml', why: 'RSS 1.0 from a preprint server', options: { content: 'summary' } },
  // Atom 1.0 and 0.3
  { path: `${RSPARSER}/DaringFireball.atom`, why: 'xml:base, duplicate links; same stories as the two below', options: { name: 'Daring Fireball', homepage: 'https://daringfireball.net/', content: 'full' } },
  { path: `${RSPARSER}/DaringFireball.rss`, why: 'the same publisher again (Atom served as .rss)' },
  { path: `${RSPARSER}/OneFootTsunami.atom`, why: 'entities in titles, thr' },
  { path: 'feeds/feedjira/spec/sample_feeds/google_alerts_atom.xml', why: 'HTML in titles, redirect links' },
  { path: 'feeds/feedjira/spec/sample_feeds/FeedBurnerXHTML.xml', why: 'XHTML content, xml:base' },
  { path: 'feeds/newsboat/test/data/items_without_titles.xml', why: 'entries without titles' },
  { path: 'feeds/feed-rs/feed-rs/fixture/atom/atom_example_2.xml', why: 'xml:base and escaped HTML titles' },
  { path: `${FEEDPARSER}/sanitize/entry_title_crazy.xml`, why: 'Atom 0.3, a title full of markup and script' },
  { path: `${FEEDPARSER}/sanitize/entry_content_onerror.xml`, why: 'Atom 0.3, onerror handler in content' },
  // JSON Feed
  { path: `${RSPARSER}/DaringFireball.json`, why: 'JSON Feed 1.0, the same stories a third time' },
  { path: `${RSPARSER}/authors.json`, why: 'JSON Feed 1.1 authors' },
  { path: 'feeds/feedjira/spec/sample_feeds/json_feed_with_escaped_uris.json', why: 'escaped URIs' },
  { path: 'feeds/lemon24-reader/tests/data/full.json', why: 'every JSON Feed field', options: { content: 'full' } },
  { path: 'feeds/feed-rs/feed-rs/fixture/jsonfeed/jsonfeed_elastic_1.1.json', why: 'JSON Feed 1.1 from Elastic' },
];

const DEFAULT_CONTENT_TYPE: Readonly<Record<string, string>> = {
  rss2: 'application/rss+xml',
  rss1: 'application/rdf+xml',
  rss09: 'application/rss+xml',
  atom1: 'application/atom+xml',
  atom03: 'application/atom+xml',
  jsonfeed: 'application/feed+json',
};

/** Settings every test river shares: loopback publishers allowed, no politeness delay between them. */
const SETTINGS = `settings:
  every: 15m
  allow_private_networks: true
  host_gap: 0
  host_concurrency: 8
`;

/** A river over the corpus sample; null (with the reason) when the corpus is absent. */
export async function startCorpusRiver(sample: readonly CorpusPick[] = CORPUS_SAMPLE): Promise<RiverUnderTest | null> {
  if (!corpusPresent()) return null;
  const rows = new Map(readManifest().map((r) => [r.path, r]));
  const picked: { pick: CorpusPick; row: ManifestRow }[] = [];
  for (const pick of sample) {
    const row = rows.get(pick.path);
    if (row === undefined) throw new Error(`corpus sample: ${pick.path} is not in the corpus manifest`);
    picked.push({ pick, row });
  }
  const routes: Record<string, FixtureResponse> = {};
  const feeds: string[] = [];
  picked.forEach(({ pick, row }, i) => {
    const id = `c${String(i + 1).padStart(2, '0')}-${slug(path.basename(row.path))}`;
    const route = `/${id}/${path.basename(row.path)}`;
    routes[route] = {
      body: Buffer.from(documentBytes(row)),
      contentType: contentTypeFor(row) ?? DEFAULT_CONTENT_TYPE[row.format] ?? 'application/xml',
      etag: `"${id}"`,
    };
    const o = pick.options ?? {};
    feeds.push(
      [
        `  - id: ${id}`,
        `    url: PUBLISHER${route}`,
        o.name && `    name: ${JSON.stringify(o.name)}`,
        o.homepage && `    homepage: ${o.homepage}`,
        o.content && `    content: ${o.content}`,
        o.tags && `    tags: [${o.tags.join(', ')}]`,
      ]
        .filter(Boolean)
        .join('\n'),
    );
  });
  const ids = feeds.map((f) => /id: (\S+)/.exec(f)?.[1] ?? '');
  const fireball = ids.filter((id) => id.includes('daringfireball'));
  return startRiver({
    name: `the corpus river (${picked.length} documents)`,
    title: 'Corpus river — «Ünïcödé» & <friends>',
    routes,
    // Named rivers (one by sources without footers, one by tag excluding a publisher) and a
    // per-source and a per-tag feed: the same renderers under other titles, filters and links.
    feedsYaml: `${SETTINGS}feeds:\n${feeds.join('\n')}
rivers:
  - name: fireball
    title: "Daring Fireball, thrice & <once>"
    sources: [${fireball.join(', ')}]
    footer: false
  - name: podcasts
    tags: [podcasts]
    exclude_publishers: [The Guardian]
`,
    extraFeeds: ['/rivers/fireball', '/rivers/podcasts', `/sources/${ids[0]}/feed`, '/tags/world/feed'],
  });
}

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const fixture = (dir: string, name: string): string => readFileSync(path.join(FIXTURES, dir, name), 'utf8');

/** The end-to-end fixture rivers, configured as their own end-to-end tests configure them. */
export async function startFixtureRiver(which: 'river' | 'identity'): Promise<RiverUnderTest> {
  if (which === 'river') {
    const feed = (name: string, contentType: string): FixtureResponse => ({ body: fixture('river', name), contentType, etag: `"${name}"` });
    return startRiver({
      name: 'the river fixtures (tests/fixtures/river)',
      title: 'Test river',
      routes: {
        '/daily/world.rss': feed('daily.rss', 'application/rss+xml; charset=utf-8'),
        '/gazette/feed.atom': feed('gazette.atom', 'application/atom+xml'),
        '/wire/feed.json': feed('wire.json', 'application/feed+json'),
        '/newsnow/rss': feed('newsnow.rss', 'application/rss+xml'),
      },
      extraFeeds: ['/sources/newsnow/feed', '/tags/news/feed'],
      feedsYaml: `${SETTINGS}feeds:
  - id: daily
    url: PUBLISHER/daily/world.rss
    name: Daily Planet
    homepage: https://www.dailyplanet.example/
    tags: [news, world]
  - id: gazette
    url: PUBLISHER/gazette/feed.atom
    tags: [local]
  - id: wire
    url: PUBLISHER/wire/feed.json
    name: Continental Wire
    homepage: https://wire.example/
  - id: newsnow
    url: PUBLISHER/newsnow/rss
    name: News Now
    homepage: https://newsnow.example/
    tags: [aggregated]
`,
    });
  }
  const rss = (name: string): FixtureResponse => ({ body: fixture('identity', name), contentType: 'application/rss+xml', etag: `"${name}"` });
  return startRiver({
    name: 'the identity fixtures (tests/fixtures/identity)',
    title: 'Identity river',
    routes: {
      '/daily.rss': rss('daily.rss'),
      '/newsnow.rss': rss('newsnow.rss'),
      '/gazette.rss': rss('gazette.rss'),
      '/tribune.rss': rss('tribune.rss'),
      '/herald.rss': rss('herald.rss'),
    },
    // An aggregator whose items link to its own pages; only the page says where the story lives.
    dynamicRoutes: (publisher) => {
      const storm = 'https://www.dailyplanet.example/world/2026/11/29/storm-hits-coast';
      publisher.setRoute('/pages/storm.html', {
        contentType: 'text/html; charset=utf-8',
        body: `<!doctype html><html><head><title>Storm</title><link rel="canonical" href="${storm}?utm_source=linkhub"></head><body><p>Storm.</p></body></html>`,
      });
      publisher.setRoute('/linkhub.rss', {
        contentType: 'application/rss+xml',
        body: `<?xml version="1.0"?><rss version="2.0"><channel><title>Link Hub</title><link>https://linkhub.example/</link><description>d</description>
<item><title>Storm hits the coast, thousands without power</title><link>${publisher.url('/pages/storm.html')}</link><guid>lh-1</guid><pubDate>Sun, 29 Nov 2026 09:00:00 GMT</pubDate>
<description>A storm, summarised.</description></item></channel></rss>`,
      });
    },
    // The aggregator first: its copy must still end up credited to the publisher.
    fetchFirst: ['newsnow'],
    extraFeeds: ['/sources/linkhub/feed', '/sources/gazette/feed'],
    feedsYaml: `${SETTINGS}feeds:
  - id: daily
    url: PUBLISHER/daily.rss
    name: Daily Planet
    homepage: https://www.dailyplanet.example/
  - id: newsnow
    url: PUBLISHER/newsnow.rss
    name: News Now
    homepage: https://newsnow.example/
    kind: aggregator
    strip:
      - You can view this story on their website
      - CLICK HERE TO GET THE
  - id: linkhub
    url: PUBLISHER/linkhub.rss
    name: Link Hub
    homepage: https://linkhub.example/
    kind: aggregator
    resolve_canonical: true
  - id: gazette
    url: PUBLISHER/gazette.rss
    name: Riverside Gazette
    homepage: https://www.riverside-gazette.example/
  - id: tribune
    url: PUBLISHER/tribune.rss
    name: Valley Tribune
    homepage: https://valleytribune.example/
  - id: herald
    url: PUBLISHER/herald.rss
    name: Harbor Herald
    homepage: https://www.harbor-herald.example/
`,
  });
}

interface RiverSpec {
  readonly name: string;
  readonly title: string;
  readonly routes: Record<string, FixtureResponse>;
  readonly dynamicRoutes?: (publisher: Publisher) => void;
  /** `feeds:` and `settings:` of feeds.yaml; PUBLISHER stands for the publisher's origin. */
  readonly feedsYaml: string;
  /** Feeds besides /feed to check (paths without extension). */
  readonly extraFeeds?: readonly string[];
  /** Source ids fetched on their own before `fetch --all`. */
  readonly fetchFirst?: readonly string[];
}

async function startRiver(spec: RiverSpec): Promise<RiverUnderTest> {
  let db: TestDatabase | null = null;
  let publisher: Publisher | null = null;
  let river: TestRiver | null = null;
  let running: RunningRiver | null = null;
  const close = async (): Promise<void> => {
    await running?.close();
    await publisher?.close();
    await db?.close();
    river?.cleanup();
  };
  try {
    if (usingPostgres) db = await createTestDatabase();
    publisher = await startPublisher(spec.routes);
    spec.dynamicRoutes?.(publisher);
    river = createTestRiver(db?.url ?? null);
    // base_url: self links name the river's public address, not the loopback port it is tested on.
    river.writeFeeds(`title: ${JSON.stringify(spec.title)}\nbase_url: http://river.test\n${spec.feedsYaml.replaceAll('PUBLISHER', publisher.origin)}`);
    for (const id of spec.fetchFirst ?? []) {
      const first = await river.cli('fetch', '--source', id);
      if (first.code !== 0) throw new Error(`${spec.name}: tributary fetch --source ${id} exited ${first.code}\n${first.out}\n${first.err}`);
    }
    const fetched = await river.cli('fetch', '--all');
    if (fetched.code !== 0) throw new Error(`${spec.name}: tributary fetch --all exited ${fetched.code}\n${fetched.out}\n${fetched.err}`);
    running = await river.serve();
    const sourceIds = [...spec.feedsYaml.matchAll(/^ {2}- id: (\S+)$/gm)].map((m) => m[1] ?? '');
    const feedPaths = ['/feed', ...(spec.extraFeeds ?? [])];
    return { name: spec.name, title: spec.title, url: running.url, feedPaths, fetchOutput: fetched.out, sourceIds, close };
  } catch (err) {
    await close();
    throw err;
  }
}

function slug(name: string): string {
  return name
    .replace(/\.[^.]+$/, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 24);
}
