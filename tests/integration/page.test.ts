import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { NamedRiver } from '../../src/domain.js';
import { chromium, type Browser, type Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAGE_SIZE } from '../../src/http/page-routes.js';
import { PAGE_CSP } from '../../src/http/render-page.js';
import { buildServer } from '../../src/http/server.js';
import { silentLogger } from '../../src/log.js';
import type { Database } from '../../src/store/database.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedSource, seedStory } from '../helpers/seed.js';

// GET / end to end: the real server on 127.0.0.1 over a seeded database (PGlite, or PostgreSQL
// with DATABASE_URL), checked over plain HTTP and then in headless Chromium (Debian's chromium
// driven by playwright-core), which also takes the screenshots kept in test-output/screenshots/.
// The river's pictures come from a second loopback server: no request leaves the machine.

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`page.test.ts: ${CHROMIUM} not found; the browser tests are skipped (apt-get install -y chromium)`);

const SCREENSHOTS = fileURLToPath(new URL('../../test-output/screenshots', import.meta.url));
const T0 = Date.UTC(2024, 4, 1, 8, 0, 0);
const at = (hours: number) => new Date(T0 + hours * 3_600_000);
/** Stories older than the ones asserted on, enough to need a second page. */
const FILLER = PAGE_SIZE + 2;

let tdb: TestDatabase;
let db: Kysely<Database>;
let app: FastifyInstance;
let base: string;
let images: Server;
let imageBase: string;
/** Named rivers the config has; a test sets them and puts them back. */
let rivers: NamedRiver[] = [];

beforeAll(async () => {
  tdb = await createTestDatabase();
  db = tdb.db;
  images = createServer((req, res) => {
    // A small picture in the river's palette; any path answers with it.
    res.writeHead(200, { 'content-type': 'image/svg+xml' });
    res.end(
      `<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200"><rect width="300" height="200" fill="#7fa7c9"/><circle cx="220" cy="70" r="34" fill="#f4d35e"/><path d="M0 200 L110 90 L190 170 L240 130 L300 190 V200 Z" fill="#33658a"/></svg>`,
    );
  });
  await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
  imageBase = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
  await seedRiver();
  app = buildServer({
    db,
    river: () => ({ title: 'Morning River', baseUrl: null, rivers }),
    publicBaseUrl: () => 'https://river.example',
    logger: silentLogger(),
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app?.close();
  await new Promise((resolve) => images?.close(resolve));
  await tdb?.close();
});

/**
 * The defining case and its neighbours:
 *   budget      City Paper's story, carried by City Paper and then the aggregator; the wire service
 *               ran the same story under its own URL (a cluster: "also published by Wire Service")
 *   marathon    Tech Blog, with a picture
 *   wire-rates  Wire Service, content: none (no summary on the page)
 *   escape      a title and summary full of markup characters
 *   filler-*    older stories for the second page
 */
async function seedRiver(): Promise<void> {
  await seedSource(db, { id: 'city', name: 'City Paper', homepage: 'http://city.test/', tags: ['local', 'news'] });
  await seedSource(db, { id: 'agg', name: 'Aggregator', tags: ['aggregated'], kind: 'aggregator' });
  await seedSource(db, { id: 'tech', name: 'Tech Blog', tags: ['tech'] });
  await seedSource(db, { id: 'wire', name: 'Wire Service', tags: ['news'], contentPolicy: 'none' });
  for (let i = 0; i < FILLER; i++) {
    await seedStory(db, {
      id: `filler-${String(i).padStart(2, '0')}`,
      via: ['city'],
      title: `Earlier: council notes, part ${i + 1}`,
      summary: `<p>Minutes of an earlier session, part ${i + 1}.</p>`,
      publishedAt: at(-100 + i),
    });
  }
  await seedStory(db, {
    id: 'budget',
    via: ['city', 'agg'],
    title: 'Council approves the budget',
    summary: '<p>The city budget passed after a <strong>long</strong> debate on Tuesday night.</p>',
    author: 'Jane Reporter',
    publishedAt: at(1),
    clusterId: 'budget',
  });
  await seedStory(db, {
    id: 'budget-wire',
    via: ['wire'],
    title: 'City council passes budget',
    url: 'http://wire.test/2024/05/city-budget',
    publishedAt: at(1.5),
    clusterId: 'budget',
  });
  await seedStory(db, {
    id: 'marathon',
    via: ['tech'],
    title: 'Running a marathon on a smartwatch',
    summary: '<p>Battery life matters more than <em>pace alerts</em>. A week with three watches.</p>',
    author: 'Sam Writer',
    image: `${imageBase}/marathon.svg`,
    publishedAt: at(2),
  });
  await seedStory(db, {
    id: 'wire-rates',
    via: ['wire'],
    title: 'Central bank holds rates',
    summary: '<p>This text must not be shown: the wire allows titles and links only.</p>',
    publishedAt: at(3),
  });
  await seedStory(db, {
    id: 'escape',
    via: ['tech'],
    title: '<script>alert(1)</script> & "quotes" in a title',
    summary: '<p>Less-than &lt;b&gt; stays text.</p>',
    publishedAt: at(4),
  });
}

async function get(pathAndQuery: string) {
  const res = await request(`${base}${pathAndQuery}`);
  const header = (name: string) => {
    const v = res.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  return { status: res.statusCode, header, text: await res.body.text() };
}

describe('GET / over HTTP', () => {
  it('is an HTML page with a content security policy that allows no script', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(res.header('content-type')).toBe('text/html; charset=utf-8');
    expect(res.header('content-security-policy')).toBe(PAGE_CSP);
    expect(PAGE_CSP).toContain("default-src 'none'");
    expect(PAGE_CSP).not.toContain('script-src');
    expect(res.text.startsWith('<!doctype html>')).toBe(true);
    expect(res.text).not.toContain('<script');
  });

  it('escapes a title full of markup', async () => {
    const { text } = await get('/');
    expect(text).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; "quotes" in a title');
    expect(text).not.toContain('<script>alert(1)');
  });

  it.each([
    { name: 'an unknown parameter, with a suggestion', query: '?tags=local', parameter: 'tags', says: 'did you mean' },
    { name: 'a cursor the server did not issue', query: '?cursor=not-a-cursor', parameter: 'cursor', says: 'cursor is not one this server issued' },
    { name: 'a search longer than allowed', query: `?q=${'x'.repeat(201)}`, parameter: 'q', says: 'at most 200 characters' },
  ])('answers $name with a friendly 400 page naming the parameter', async ({ query, parameter, says }) => {
    const res = await get(`/${query}`);
    expect(res.status).toBe(400);
    expect(res.header('content-type')).toBe('text/html; charset=utf-8');
    expect(res.text).toContain(`The parameter “${parameter}” is not right.`);
    expect(res.text).toContain(says);
    expect(res.text).toContain('<a href="./">Back to the newest stories</a>');
  });

  it('advertises the named rivers of feeds.yaml too', async () => {
    const named = (name: string, title: string | null): NamedRiver => ({
      name,
      title,
      sources: [],
      tags: ['tech'],
      q: null,
      excludePublishers: [],
      since: null,
      footer: null,
    });
    rivers = [named('tech', 'Tech only'), named('local', null)];
    try {
      const { text } = await get('/');
      const links = [...text.matchAll(/<link rel="alternate" type="([^"]+)" title="([^"]+)" href="([^"]+)">/g)].map((m) => [m[1], m[3], m[2]]);
      expect(links.slice(3)).toEqual([
        ['application/rss+xml', 'rivers/tech.xml', 'Tech only (RSS)'],
        ['application/atom+xml', 'rivers/tech.atom', 'Tech only (Atom)'],
        ['application/feed+json', 'rivers/tech.json', 'Tech only (JSON Feed)'],
        ['application/rss+xml', 'rivers/local.xml', 'Morning River: local (RSS)'],
        ['application/atom+xml', 'rivers/local.atom', 'Morning River: local (Atom)'],
        ['application/feed+json', 'rivers/local.json', 'Morning River: local (JSON Feed)'],
      ]);
    } finally {
      rivers = [];
    }
  });

  it('treats an empty search box as no search', async () => {
    const res = await get('/?q=+');
    expect(res.status).toBe(200);
    expect(res.text).toContain('Council approves the budget');
    expect(res.text).not.toContain('Results for');
  });
});

describe.skipIf(!haveChromium)('GET / in headless Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    await mkdir(SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** A fresh page that fails the test on any console error (a CSP violation is one). */
  async function open(options: Parameters<Browser['newPage']>[0] = {}): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, ...options });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    return { page, errors };
  }

  const storyIds = (page: Page) => page.locator('li.story').evaluateAll((els) => els.map((e) => e.getAttribute('data-story-id')));

  it('shows the newest stories with publisher, author, time, via, also published by and summary', async () => {
    const { page, errors } = await open();
    const res = await page.goto(`${base}/`);
    expect(res?.status()).toBe(200);
    expect(await page.title()).toBe('Morning River');

    const ids = await storyIds(page);
    expect(ids).toHaveLength(PAGE_SIZE);
    // Newest first; the cluster is one entry, its representative's (budget-wire is collapsed into it).
    expect(ids.slice(0, 4)).toEqual(['escape', 'wire-rates', 'marathon', 'budget']);
    expect(ids).not.toContain('budget-wire');

    const budget = page.locator('li[data-story-id="budget"]');
    const title = budget.locator('h2 a');
    expect(await title.textContent()).toBe('Council approves the budget');
    expect(await title.getAttribute('href')).toBe('http://city.test/budget');
    const publisher = budget.locator('.meta a.publisher');
    expect(await publisher.textContent()).toBe('City Paper');
    expect(await publisher.getAttribute('href')).toBe('http://city.test/');
    expect(await budget.locator('.meta .author').textContent()).toBe('by Jane Reporter');
    const time = budget.locator('.meta time');
    expect(await time.getAttribute('datetime')).toBe('2024-05-01T09:00:00.000Z');
    expect(await time.textContent()).toBe('1 May 2024, 09:00 UTC');
    expect(await budget.locator('.via').textContent()).toBe('via City Paper, Aggregator');
    expect(await budget.locator('.via a').evaluateAll((as) => as.map((a) => a.getAttribute('href')))).toEqual([
      '?source=city',
      '?source=agg',
    ]);
    const also = budget.locator('.also a');
    expect(await budget.locator('.also').textContent()).toBe('Also published by Wire Service');
    expect(await also.getAttribute('href')).toBe('http://wire.test/2024/05/city-budget');
    expect(await budget.locator('.summary').innerHTML()).toBe(
      '<p>The city budget passed after a <strong>long</strong> debate on Tuesday night.</p>',
    );

    // content: none -> title and link only.
    const rates = page.locator('li[data-story-id="wire-rates"]');
    expect(await rates.locator('.summary').count()).toBe(0);
    expect(await rates.textContent()).not.toContain('must not be shown');

    // Escaped, shown as text, never run.
    expect(await page.locator('li[data-story-id="escape"] h2').textContent()).toBe('<script>alert(1)</script> & "quotes" in a title');

    // The picture loaded from the loopback server, and the stylesheet applied under the CSP.
    const thumb = page.locator('li[data-story-id="marathon"] img.thumb');
    await thumb.scrollIntoViewIfNeeded();
    // Browser-side code reaches DOM globals through the element: the project compiles without the DOM library.
    await expect.poll(() => thumb.evaluate((img) => img.complete && img.naturalWidth)).toBe(300);
    expect(await page.locator('body').evaluate((b) => b.ownerDocument.defaultView.getComputedStyle(b).backgroundColor)).toBe('rgb(250, 249, 246)');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('advertises every output feed for autodiscovery', async () => {
    const { page } = await open();
    await page.goto(`${base}/`);
    const links = await page
      .locator('link[rel="alternate"]')
      .evaluateAll((els) => els.map((e) => [e.getAttribute('type'), e.getAttribute('href'), e.getAttribute('title')]));
    expect(links).toEqual([
      ['application/rss+xml', 'feed.xml', 'Morning River (RSS)'],
      ['application/atom+xml', 'feed.atom', 'Morning River (Atom)'],
      ['application/feed+json', 'feed.json', 'Morning River (JSON Feed)'],
    ]);
    // They resolve to the server's own feeds, which answer.
    for (const [, href] of links) {
      const url = new URL(href ?? '', page.url());
      expect(url.href.startsWith(`${base}/feed.`)).toBe(true);
      expect((await get(url.pathname)).status).toBe(200);
    }
    await page.close();
  });

  it('searches with the search box and clears the search', async () => {
    const { page, errors } = await open();
    await page.goto(`${base}/`);
    await page.fill('input[name="q"]', 'smartwatch battery');
    await Promise.all([page.waitForURL(/\?q=/), page.click('form.search button')]);
    expect(new URL(page.url()).searchParams.get('q')).toBe('smartwatch battery');
    expect(await storyIds(page)).toEqual(['marathon']);
    expect(await page.locator('.filters .query').textContent()).toBe('Results for “smartwatch battery”');
    expect(await page.inputValue('input[name="q"]')).toBe('smartwatch battery');
    expect(await page.title()).toBe('“smartwatch battery” · Morning River');
    // The filtered view is advertised first, so a reader subscribes to what the person sees.
    expect(await page.locator('link[rel="alternate"]').first().getAttribute('href')).toBe('feed.xml?q=smartwatch+battery');

    await Promise.all([page.waitForURL((u) => u.search === ''), page.click('.filters a.clear')]);
    expect((await storyIds(page)).slice(0, 4)).toEqual(['escape', 'wire-rates', 'marathon', 'budget']);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('filters by a "via" source, shown as a chip that removes the filter', async () => {
    const { page } = await open();
    await page.goto(`${base}/`);
    await Promise.all([page.waitForURL(/source=agg/), page.click('li[data-story-id="budget"] .via a:text("Aggregator")')]);
    expect(await storyIds(page)).toEqual(['budget']);
    expect(await page.locator('.chip-source').textContent()).toContain('Aggregator');
    // A search keeps the source filter (hidden field).
    await page.fill('input[name="q"]', 'budget');
    await Promise.all([page.waitForURL(/q=budget/), page.press('input[name="q"]', 'Enter')]);
    const params = new URL(page.url()).searchParams;
    expect([params.get('source'), params.get('q')]).toEqual(['agg', 'budget']);
    expect(await storyIds(page)).toEqual(['budget']);
    await Promise.all([page.waitForURL((u) => !u.search.includes('source')), page.click('.chip-source a')]);
    expect(new URL(page.url()).searchParams.get('q')).toBe('budget');
    await page.close();
  });

  it('pages to older stories and back to the newest', async () => {
    const { page } = await open();
    await page.goto(`${base}/`);
    const first = await storyIds(page);
    await Promise.all([page.waitForURL(/cursor=/), page.click('a.older')]);
    const second = await storyIds(page);
    // 4 recent stories + FILLER older ones, one page of PAGE_SIZE before this one.
    expect(second).toHaveLength(4 + FILLER - PAGE_SIZE);
    expect(second.filter((id) => first.includes(id))).toEqual([]);
    expect(second.at(-1)).toBe('filler-00');
    expect(await page.locator('a.older').count()).toBe(0);
    await Promise.all([page.waitForURL((u) => u.search === ''), page.click('a.newest')]);
    expect(await storyIds(page)).toEqual(first);
    await page.close();
  });

  it.each([
    { name: 'desktop', file: 'river-desktop.png', options: { viewport: { width: 1280, height: 900 } } },
    { name: 'mobile', file: 'river-mobile.png', options: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true } },
    { name: 'desktop, dark', file: 'river-dark.png', options: { viewport: { width: 1280, height: 900 }, colorScheme: 'dark' as const } },
    { name: 'search results, mobile', file: 'river-search-mobile.png', path: '/?q=budget&source=city', options: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true } },
  ])('takes a screenshot: $name', async ({ file, options, path: pagePath }) => {
    const { page, errors } = await open(options);
    await page.goto(`${base}${pagePath ?? '/'}`);
    await page.waitForLoadState('networkidle');
    const out = path.join(SCREENSHOTS, file);
    await page.screenshot({ path: out, fullPage: pagePath === undefined ? false : true });
    console.log(`screenshot: ${out}`);
    // Nothing is wider than the screen (no sideways scrolling on a phone).
    const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });
});
