import { createHash } from 'node:crypto';
import { parse, type HTMLElement } from 'node-html-parser';
import { describe, expect, it } from 'vitest';
import type { ContentPolicy, Publisher, Story } from '../../src/domain.js';
import { BadRequestError } from '../../src/errors.js';
import { pageFeeds, parsePageQuery } from '../../src/http/page-routes.js';
import {
  href,
  humanUtc,
  PAGE_CSP,
  renderErrorPage,
  renderRiverPage,
  summaryHtml,
  SUMMARY_EXCERPT_CHARS,
  type RiverPageInput,
} from '../../src/http/render-page.js';
import { encodeCursor } from '../../src/store/items-query.js';

// The river page as HTML, parsed back with node-html-parser (a real HTML parser, so escaping is
// checked by what a browser would make of the markup, not by string search alone). The browser
// end to end (search, paging, screenshots) is tests/integration/page.test.ts.

const city: Publisher = { name: 'City Paper', url: 'https://city.example/', sourceId: 'city', feedUrl: 'https://city.example/feed' };

function story(overrides: Partial<Story> & Pick<Story, 'id'>): Story {
  return {
    title: `Story ${overrides.id}`,
    url: `https://city.example/${overrides.id}`,
    publisher: city,
    via: ['city'],
    author: null,
    publishedAt: new Date('2024-05-01T09:05:00Z'),
    updatedAt: new Date('2024-05-01T09:05:00Z'),
    summary: '<p>A short summary.</p>',
    content: null,
    tags: [],
    categories: [],
    guid: null,
    clusterId: null,
    alsoPublishedBy: [],
    contentPolicy: 'summary',
    enclosures: [],
    image: null,
    ...overrides,
  };
}

function input(overrides: Partial<RiverPageInput> = {}): RiverPageInput {
  return {
    title: 'Morning River',
    stories: [story({ id: 'one' })],
    filter: {},
    paged: false,
    nextCursor: null,
    feeds: pageFeeds('', 'Morning River', {}, []),
    opmlHref: 'sources.opml',
    sourceNames: new Map([
      ['city', 'City Paper'],
      ['agg', 'Aggregator'],
    ]),
    sourceCount: 2,
    generator: 'Tributary 0.1.0',
    ...overrides,
  };
}

const render = (overrides: Partial<RiverPageInput> = {}): HTMLElement => parse(renderRiverPage(input(overrides)));
const storyEl = (doc: HTMLElement, id: string): HTMLElement => {
  const el = doc.querySelector(`li[data-story-id="${id}"]`);
  if (!el) throw new Error(`no story ${id} on the page`);
  return el;
};

describe('renderRiverPage', () => {
  it('lists stories in the order given, each with its attribution', () => {
    const doc = render({
      stories: [
        story({ id: 'b', title: 'Second', author: 'Jane Reporter', via: ['city', 'agg'] }),
        story({
          id: 'a',
          title: 'First',
          alsoPublishedBy: [
            { storyId: 'w', url: 'https://wire.example/w', publisher: { name: 'Wire', url: 'https://wire.example/', sourceId: null, feedUrl: null }, publishedAt: new Date(0) },
            { storyId: 'x', url: null, publisher: { name: 'Linkless', url: 'https://linkless.example/', sourceId: null, feedUrl: null }, publishedAt: new Date(0) },
            { storyId: 'y', url: null, publisher: { name: 'Nowhere', url: null, sourceId: null, feedUrl: null }, publishedAt: new Date(0) },
          ],
        }),
      ],
    });
    expect(doc.querySelectorAll('li.story').map((li) => li.getAttribute('data-story-id'))).toEqual(['b', 'a']);
    const b = storyEl(doc, 'b');
    expect(b.querySelector('h2 a')?.getAttribute('href')).toBe('https://city.example/b');
    expect(b.querySelector('.publisher')?.getAttribute('href')).toBe('https://city.example/');
    expect(b.querySelector('.author')?.text).toBe('by Jane Reporter');
    expect(b.querySelector('time')?.getAttribute('datetime')).toBe('2024-05-01T09:05:00.000Z');
    expect(b.querySelector('time')?.text).toBe('1 May 2024, 09:05 UTC');
    expect(b.querySelector('.via')?.text).toBe('via City Paper, Aggregator');
    expect(b.querySelector('.also')).toBeNull();
    const a = storyEl(doc, 'a');
    expect(a.querySelector('.also')?.text).toBe('Also published by Wire, Linkless, Nowhere');
    expect(a.querySelectorAll('.also a').map((x) => x.getAttribute('href'))).toEqual(['https://wire.example/w', 'https://linkless.example/']);
  });

  it.each([
    { name: 'a title', field: { title: '<img src=x onerror=alert(1)> & "Q"' }, selector: 'h2', text: '<img src=x onerror=alert(1)> & "Q"' },
    { name: 'an author', field: { author: '</p><script>x()</script>' }, selector: '.author', text: 'by </p><script>x()</script>' },
    {
      name: 'a publisher name',
      field: { publisher: { ...city, name: '"><b>Bold</b>' } },
      selector: '.publisher',
      text: '"><b>Bold</b>',
    },
  ])('escapes $name', ({ field, selector, text }) => {
    const doc = render({ stories: [story({ id: 'x', ...field })] });
    expect(doc.querySelectorAll('script, img, b')).toHaveLength(0);
    expect(storyEl(doc, 'x').querySelector(selector)?.text).toBe(text);
  });

  it.each([
    { name: 'a javascript: story URL', field: { url: 'javascript:alert(1)' }, selector: 'h2 a', linked: false },
    { name: 'a data: story URL', field: { url: 'data:text/html,<b>x</b>' }, selector: 'h2 a', linked: false },
    { name: 'a link-less story', field: { url: null }, selector: 'h2 a', linked: false },
    { name: 'an http story URL', field: { url: 'http://city.example/a?b=1&c=2' }, selector: 'h2 a', linked: true },
    { name: 'a javascript: publisher URL', field: { publisher: { ...city, url: 'javascript:void(0)' } }, selector: '.meta a', linked: false },
    { name: 'a javascript: image', field: { image: 'javascript:alert(1)' }, selector: 'img', linked: false },
  ])('links only http(s) URLs: $name', ({ field, selector, linked }) => {
    const el = storyEl(render({ stories: [story({ id: 'x', ...field })] }), 'x');
    expect(el.querySelectorAll(selector).length > 0).toBe(linked);
    expect(el.toString()).not.toMatch(/javascript:|data:text/);
  });

  it('escapes attribute values: an ampersand in a story URL stays one character', () => {
    const html = renderRiverPage(input({ stories: [story({ id: 'x', url: 'http://city.example/a?b=1&c="2"' })] }));
    expect(html).toContain('href="http://city.example/a?b=1&amp;c=%222%22"');
  });

  it.each([
    { name: 'summary policy shows the summary', policy: 'summary' as ContentPolicy, shown: '<p>A <em>short</em> summary.</p>' },
    { name: 'full policy shows the summary too', policy: 'full' as ContentPolicy, shown: '<p>A <em>short</em> summary.</p>' },
    { name: 'none policy shows no text', policy: 'none' as ContentPolicy, shown: null },
  ])('$name', ({ policy, shown }) => {
    const el = storyEl(render({ stories: [story({ id: 'x', contentPolicy: policy, summary: '<p>A <em>short</em> summary.</p>' })] }), 'x');
    expect(el.querySelector('.summary')?.innerHTML ?? null).toBe(shown);
  });

  it('shows a picture beside the story, except under policy none', () => {
    const withImage = (policy: ContentPolicy) =>
      storyEl(render({ stories: [story({ id: 'x', contentPolicy: policy, image: 'https://city.example/x.jpg' })] }), 'x');
    expect(withImage('summary').querySelector('img.thumb')?.getAttribute('src')).toBe('https://city.example/x.jpg');
    expect(withImage('none').querySelector('img')).toBeNull();
  });

  it.each([
    { name: 'no filters', filter: {}, chips: [], query: null },
    { name: 'a search', filter: { q: 'budget <vote>' }, chips: [], query: 'Results for “budget <vote>” clear' },
    { name: 'a source with a known name', filter: { sources: ['city'] }, chips: ['source City Paper ×'], query: null },
    { name: 'an unknown source id', filter: { sources: ['gone'] }, chips: ['source gone ×'], query: null },
    { name: 'two tags', filter: { tags: ['local', 'news'] }, chips: ['tag local ×', 'tag news ×'], query: null },
  ])('shows the filters: $name', ({ filter, chips, query }) => {
    const doc = render({ filter });
    expect(doc.querySelectorAll('.chip').map((c) => c.text.replace(/\s+/g, ' ').trim())).toEqual(chips);
    const bar = doc.querySelector('.filters');
    expect(bar ? bar.querySelector('.query')?.text.concat(' ', bar.querySelector('.clear')?.text ?? '') ?? null : null).toBe(query);
    expect(doc.querySelector('input[name="q"]')?.getAttribute('value')).toBe(filter.q ?? '');
  });

  it('removing one filter keeps the others; the search form carries them as hidden fields', () => {
    const doc = render({ filter: { q: 'vote', sources: ['city'], tags: ['local', 'news'] } });
    expect(doc.querySelector('.clear')?.getAttribute('href')).toBe('?source=city&tag=local%2Cnews');
    expect(doc.querySelectorAll('.chip a').map((a) => a.getAttribute('href'))).toEqual([
      '?q=vote&tag=local%2Cnews',
      '?q=vote&source=city&tag=news',
      '?q=vote&source=city&tag=local',
    ]);
    expect(doc.querySelectorAll('form.search input[type="hidden"]').map((i) => [i.getAttribute('name'), i.getAttribute('value')])).toEqual([
      ['source', 'city'],
      ['tag', 'local'],
      ['tag', 'news'],
    ]);
  });

  it.each([
    { name: 'first page, more to come', paged: false, next: 'CUR', links: [['older', '?tag=x&cursor=CUR']] },
    { name: 'middle page', paged: true, next: 'CUR', links: [['newest', '?tag=x'], ['older', '?tag=x&cursor=CUR']] },
    { name: 'last page', paged: true, next: null, links: [['newest', '?tag=x']] },
    { name: 'only page', paged: false, next: null, links: [] },
  ])('pages: $name', ({ paged, next, links }) => {
    const doc = render({ filter: { tags: ['x'] }, paged, nextCursor: next });
    expect(doc.querySelectorAll('.pager a').map((a) => [a.classNames, a.getAttribute('href')])).toEqual(links);
  });

  it.each([
    { name: 'an empty river', filter: {}, paged: false, says: 'No stories yet.' },
    { name: 'a search without results', filter: { q: 'nothing' }, paged: false, says: 'No stories match.' },
    { name: 'past the last page', filter: {}, paged: true, says: 'No older stories.' },
  ])('says so for $name', ({ filter, paged, says }) => {
    const doc = render({ stories: [], filter, paged });
    expect(doc.querySelector('.river')).toBeNull();
    expect(doc.querySelector('.empty')?.text).toContain(says);
  });

  it('has a title, autodiscovery links and subscribe links', () => {
    const doc = render({ filter: { q: 'rates' }, feeds: pageFeeds('', 'Morning River', { q: 'rates' }, []) });
    expect(doc.querySelector('title')?.text).toBe('“rates” · Morning River');
    expect(doc.querySelectorAll('link[rel="alternate"]').map((l) => l.getAttribute('href'))).toEqual([
      'feed.xml?q=rates',
      'feed.atom?q=rates',
      'feed.json?q=rates',
      'feed.xml',
      'feed.atom',
      'feed.json',
    ]);
    expect(doc.querySelectorAll('.tagline a').map((a) => [a.text, a.getAttribute('href')])).toEqual([
      ['RSS', 'feed.xml'],
      ['Atom', 'feed.atom'],
      ['JSON Feed', 'feed.json'],
      ['OPML', 'sources.opml'],
    ]);
  });

  it('allows its own stylesheet, and nothing else, in the content security policy', () => {
    const html = renderRiverPage(input());
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
    const hash = createHash('sha256').update(style).digest('base64');
    expect(PAGE_CSP).toContain(`style-src 'sha256-${hash}'`);
    expect(PAGE_CSP).toContain("default-src 'none'");
    expect(html).not.toMatch(/<script|\sstyle="/);
  });
});

describe('summaryHtml', () => {
  const long = `<p>${'word '.repeat(200)}<b>end</b></p>`;
  it.each([
    { name: 'a short summary as it is', policy: 'summary' as ContentPolicy, summary: '<p>Hi <a href="https://x.example/">there</a></p>', out: '<p>Hi <a href="https://x.example/">there</a></p>' },
    { name: 'none under policy none', policy: 'none' as ContentPolicy, summary: '<p>Hi</p>', out: null },
    { name: 'none for an empty summary', policy: 'full' as ContentPolicy, summary: '  ', out: null },
    { name: 'none for markup without text', policy: 'full' as ContentPolicy, summary: '<p><br></p>', out: null },
    { name: 'none without a summary', policy: 'full' as ContentPolicy, summary: null, out: null },
  ])('gives $name', ({ policy, summary, out }) => {
    expect(summaryHtml(policy, summary)).toBe(out);
  });

  it('shortens a long summary to an escaped plain-text excerpt cut at a word', () => {
    const out = summaryHtml('summary', long.replace('word', '<i>a&lt;b</i>')) ?? '';
    expect(out.startsWith('<p>a&lt;b word word')).toBe(true);
    expect(out.endsWith('word…</p>')).toBe(true);
    expect(out.length).toBeLessThan(SUMMARY_EXCERPT_CHARS + 20);
    expect(out).not.toContain('<b>');
  });
});

describe('humanUtc', () => {
  it.each([
    { name: 'morning', at: '2024-05-01T09:05:00Z', out: '1 May 2024, 09:05 UTC' },
    { name: 'midnight', at: '2024-12-31T00:00:59Z', out: '31 Dec 2024, 00:00 UTC' },
    { name: 'an offset converted to UTC', at: '2024-01-01T01:30:00+02:00', out: '31 Dec 2023, 23:30 UTC' },
  ])('$name', ({ at, out }) => {
    expect(humanUtc(new Date(at))).toBe(out);
  });
});

describe('href', () => {
  it.each([
    { name: 'no filters', filter: {}, cursor: undefined, out: './' },
    { name: 'a search', filter: { q: 'a&b c' }, cursor: undefined, out: '?q=a%26b+c' },
    { name: 'lists joined', filter: { sources: ['a', 'b'], tags: ['t'] }, cursor: undefined, out: '?source=a%2Cb&tag=t' },
    { name: 'with a cursor', filter: {}, cursor: 'abc_-', out: '?cursor=abc_-' },
  ])('$name', ({ filter, cursor, out }) => {
    expect(href(filter, cursor)).toBe(out);
  });
});

describe('pageFeeds', () => {
  it.each([
    {
      name: 'the default river, relative',
      prefix: '',
      filter: {},
      rivers: [],
      out: [
        ['application/rss+xml', 'feed.xml', 'River (RSS)'],
        ['application/atom+xml', 'feed.atom', 'River (Atom)'],
        ['application/feed+json', 'feed.json', 'River (JSON Feed)'],
      ],
    },
    {
      name: 'under base_url, with named rivers',
      prefix: 'https://news.example/river/',
      filter: {},
      rivers: [{ name: 'tech', title: 'Tech only' }, { name: 'local', title: null }],
      out: [
        ['application/rss+xml', 'https://news.example/river/feed.xml', 'River (RSS)'],
        ['application/atom+xml', 'https://news.example/river/feed.atom', 'River (Atom)'],
        ['application/feed+json', 'https://news.example/river/feed.json', 'River (JSON Feed)'],
        ['application/rss+xml', 'https://news.example/river/rivers/tech.xml', 'Tech only (RSS)'],
        ['application/atom+xml', 'https://news.example/river/rivers/tech.atom', 'Tech only (Atom)'],
        ['application/feed+json', 'https://news.example/river/rivers/tech.json', 'Tech only (JSON Feed)'],
        ['application/rss+xml', 'https://news.example/river/rivers/local.xml', 'River: local (RSS)'],
        ['application/atom+xml', 'https://news.example/river/rivers/local.atom', 'River: local (Atom)'],
        ['application/feed+json', 'https://news.example/river/rivers/local.json', 'River: local (JSON Feed)'],
      ],
    },
    {
      name: 'a filtered view first',
      prefix: '',
      filter: { sources: ['city'], tags: ['local'] },
      rivers: [],
      out: [
        ['application/rss+xml', 'feed.xml?source=city&tag=local', 'River: via city, tagged local (RSS)'],
        ['application/atom+xml', 'feed.atom?source=city&tag=local', 'River: via city, tagged local (Atom)'],
        ['application/feed+json', 'feed.json?source=city&tag=local', 'River: via city, tagged local (JSON Feed)'],
        ['application/rss+xml', 'feed.xml', 'River (RSS)'],
        ['application/atom+xml', 'feed.atom', 'River (Atom)'],
        ['application/feed+json', 'feed.json', 'River (JSON Feed)'],
      ],
    },
  ])('$name', ({ prefix, filter, rivers, out }) => {
    expect(pageFeeds(prefix, 'River', filter, rivers).map((f) => [f.type, f.href, f.title])).toEqual(out);
  });
});

describe('renderErrorPage', () => {
  it('names the parameter and escapes the message', () => {
    const doc = parse(renderErrorPage({ riverTitle: 'River', status: 400, message: 'q must be <short>', parameter: 'q' }));
    expect(doc.querySelector('title')?.text).toBe('400 · River');
    expect(doc.querySelector('h2')?.text).toBe('The parameter “q” is not right.');
    expect(doc.querySelector('.error-message')?.text).toBe('q must be <short>');
    expect(doc.querySelector('main a')?.getAttribute('href')).toBe('./');
  });
});

describe('parsePageQuery', () => {
  const cursor = encodeCursor({ publishedAt: new Date('2024-05-01T09:00:00Z'), id: 'budget' });
  it.each([
    { name: 'nothing', query: {}, out: { q: undefined, sources: undefined, tags: undefined, cursor: undefined } },
    { name: 'an empty search box', query: { q: '  ' }, out: { q: undefined, sources: undefined, tags: undefined, cursor: undefined } },
    { name: 'every filter', query: { q: ' vote ', source: 'b,a', tag: ['x'] }, out: { q: 'vote', sources: ['a', 'b'], tags: ['x'], cursor: undefined } },
    { name: 'tags in any case, folded as stored', query: { tag: 'Politics,politics,Local' }, out: { q: undefined, sources: undefined, tags: ['local', 'politics'], cursor: undefined } },
    {
      name: 'a cursor',
      query: { cursor },
      out: { q: undefined, sources: undefined, tags: undefined, cursor: { publishedAt: new Date('2024-05-01T09:00:00Z'), id: 'budget' } },
    },
  ])('reads $name', ({ query, out }) => {
    expect(parsePageQuery(query)).toEqual(out);
  });

  it.each([
    { name: 'an API-only parameter', query: { limit: '5' }, parameter: 'limit', message: 'unknown parameter "limit"; this page takes q, source, tag, cursor' },
    { name: 'a typo', query: { soruce: 'a' }, parameter: 'soruce', message: 'unknown parameter "soruce" (did you mean "source"?)' },
    { name: 'a bad cursor', query: { cursor: '!!' }, parameter: 'cursor', message: 'cursor is not one this server issued' },
    { name: 'a repeated search', query: { q: ['a', 'b'] }, parameter: 'q', message: 'q is given 2 times' },
  ])('rejects $name, naming the parameter', ({ query, parameter, message }) => {
    let error: unknown;
    try {
      parsePageQuery(query);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).parameter).toBe(parameter);
    expect((error as BadRequestError).message).toContain(message);
  });
});
