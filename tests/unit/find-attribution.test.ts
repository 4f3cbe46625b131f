import { describe, expect, it } from 'vitest';
import type { ParsedItem } from '../../src/domain.js';
import { ATTRIBUTION_PHRASES, findAttributionLink, findOriginalUrl } from '../../src/ingest/find-attribution.js';
import { mapXmlFeed } from '../../src/ingest/map-xml-feed.js';
import { parseFeed } from '../../src/ingest/parse-feed.js';

const STORY = 'https://www.dailyplanet.example/world/2024/05/01/storm-hits-coast';
const TRACKED = `${STORY}?utm_source=newsnow&utm_medium=referral&utm_campaign=feed`;

describe('findAttributionLink', () => {
  it.each([
    // --- the phrases, as aggregators write them ---
    {
      name: "the issue's aggregator line: view this story on their website by CLICKING HERE",
      html: `<p>A storm hit the coast.</p><p>We support our Publishers and Content Creators. You can view this story on their website by <a href="${TRACKED}">CLICKING HERE</a>.</p>`,
      own: 'www.newsnow.example',
      expected: TRACKED,
    },
    {
      name: 'originally published at',
      html: '<p><em>This article was originally published at <a href="https://theconversation.example/heat-pumps-work-123">The Conversation</a>.</em></p>',
      own: 'agg.example',
      expected: 'https://theconversation.example/heat-pumps-work-123',
    },
    {
      name: 'originally published on, with the publisher named before the link',
      html: '<p>This story was originally published on Grist at <a href="https://grist.example/climate/story-1/">grist.example</a>.</p>',
      own: 'agg.example',
      expected: 'https://grist.example/climate/story-1/',
    },
    {
      name: 'originally published by',
      html: '<p>Originally published by <a href="https://kff.example/health/article/x">KFF Health News</a></p>',
      own: 'agg.example',
      expected: 'https://kff.example/health/article/x',
    },
    {
      name: 'read the original, as the link text',
      html: '<p>Summary of the story.</p><p><a href="https://pub.example/2024/story">Read the original</a></p>',
      own: 'agg.example',
      expected: 'https://pub.example/2024/story',
    },
    {
      name: 'read the full story at',
      html: '<p>Read the full story at <a href="https://pub.example/news/42">Daily Planet</a></p>',
      own: 'agg.example',
      expected: 'https://pub.example/news/42',
    },
    {
      name: 'read the full story on, in a list item',
      html: '<ul><li>Read the full story on <a href="https://pub.example/news/43">pub.example</a></li></ul>',
      own: 'agg.example',
      expected: 'https://pub.example/news/43',
    },
    {
      name: 'Source: directly before the link',
      html: '<p>Story text.</p><p><strong>Source:</strong> <a href="https://pub.example/news/44">Daily Planet</a></p>',
      own: 'agg.example',
      expected: 'https://pub.example/news/44',
    },
    {
      name: 'via directly before the link',
      html: '<p>Great read (via <a href="https://blog.example/posts/why">Some Blog</a>)</p>',
      own: 'agg.example',
      expected: 'https://blog.example/posts/why',
    },
    {
      name: 'continue reading at',
      html: '<p>First paragraph… Continue reading at <a href="https://pub.example/longread">Daily Planet</a></p>',
      own: 'agg.example',
      expected: 'https://pub.example/longread',
    },
    {
      name: 'read more on, as the link text',
      html: '<p>Teaser. <a href="https://pub.example/news/45">Read more on Daily Planet »</a></p>',
      own: 'agg.example',
      expected: 'https://pub.example/news/45',
    },
    {
      name: 'the phrase after the link, in the same sentence',
      html: '<p><a href="https://pub.example/news/46">Click here</a> to view this story on their website.</p>',
      own: 'agg.example',
      expected: 'https://pub.example/news/46',
    },
    {
      name: 'loose text in no block',
      html: 'A storm hit the coast.<br>Source: <a href="https://pub.example/news/47">Daily Planet</a>',
      own: 'agg.example',
      expected: 'https://pub.example/news/47',
    },
    {
      name: 'phrase in capitals with no-break spaces',
      html: '<p>YOU&nbsp;CAN VIEW THIS STORY ON THEIR WEBSITE BY <a href="https://pub.example/news/48">CLICKING HERE</a></p>',
      own: 'agg.example',
      expected: 'https://pub.example/news/48',
    },
    // --- the aggregator's own links are passed over ---
    {
      name: "a link back to the aggregator's own host is ignored; the publisher's link after it wins",
      html:
        '<p>Read more at <a href="https://www.newsnow.example/h/World/Europe">NewsNow World</a></p>' +
        `<p>You can view this story on their website by <a href="${STORY}">CLICKING HERE</a>.</p>`,
      own: 'www.newsnow.example',
      expected: STORY,
    },
    {
      name: "a link to a subdomain of the aggregator's host is its own",
      html: '<p>Source: <a href="https://c.newsnow.example/A/1234567890?-9876:1">Daily Planet</a></p>',
      own: 'newsnow.example',
      expected: null,
    },
    {
      name: "a sibling host of the aggregator (same registrable domain) is its own",
      html: '<p>Source: <a href="https://c.newsnow.co.uk/A/1234567890">Daily Planet</a></p>',
      own: 'https://www.newsnow.co.uk/h/',
      expected: null,
    },
    {
      name: "the aggregator's click-tracking redirect is unwrapped to the publisher's URL",
      html: `<p>You can view this story on their website by <a href="https://c.newsnow.example/r?url=${encodeURIComponent(TRACKED)}">CLICKING HERE</a>.</p>`,
      own: 'www.newsnow.example',
      expected: TRACKED,
    },
    {
      name: 'a google.com/url wrapper is unwrapped',
      html: `<p>Originally published at <a href="https://www.google.com/url?sa=t&amp;q=${encodeURIComponent(STORY)}&amp;ved=2ah">Daily Planet</a></p>`,
      own: 'agg.example',
      expected: STORY,
    },
    {
      name: 'a wrapper around a link back to the aggregator stays its own',
      html: `<p>Source: <a href="https://l.social.example/l.php?u=${encodeURIComponent('https://www.newsnow.example/h/x')}">NewsNow</a></p>`,
      own: 'newsnow.example',
      expected: null,
    },
    {
      name: 'tracking parameters are kept as published (canonicalisation removes them later)',
      html: `<p>Source: <a href="${TRACKED}#comments">Daily Planet</a></p>`,
      own: 'agg.example',
      expected: `${TRACKED}#comments`,
    },
    // --- relative, odd and front-page links ---
    {
      name: 'a relative link without a base is ignored',
      html: '<p>Originally published at <a href="/2024/05/story">Daily Planet</a></p>',
      own: 'agg.example',
      expected: null,
    },
    {
      name: 'a relative link resolves against the base',
      html: '<p>Originally published at <a href="/2024/05/story">Daily Planet</a></p>',
      own: 'agg.example',
      base: 'https://pub.example/feed/',
      expected: 'https://pub.example/2024/05/story',
    },
    {
      name: "a relative link resolving onto the aggregator's host is its own",
      html: '<p>Read more at <a href="/story/123">our page</a></p>',
      own: 'agg.example',
      base: 'https://www.agg.example/item/9',
      expected: null,
    },
    {
      name: "a link to a site's front page is no story URL; the next link is taken",
      html: '<p>via <a href="https://www.theverge.example/">The Verge</a></p><p>Source: <a href="https://www.theverge.example/2024/5/1/story">the story</a></p>',
      own: 'agg.example',
      expected: 'https://www.theverge.example/2024/5/1/story',
    },
    {
      name: 'mailto and javascript links are ignored',
      html: '<p>Source: <a href="mailto:desk@pub.example">the desk</a> and via <a href="javascript:void(0)">here</a></p>',
      own: 'agg.example',
      expected: null,
    },
    {
      name: 'an anchor without href is ignored',
      html: '<p>Source: <a name="top">Daily Planet</a></p>',
      own: 'agg.example',
      expected: null,
    },
    // --- words that are not attribution ---
    {
      name: '"via" inside a sentence, far from the link, is not attribution',
      html: '<p>The senator spoke via video link, <a href="https://other.example/report/1">according to a report</a>.</p>',
      own: 'agg.example',
      expected: null,
    },
    {
      name: '"via" inside another word is not attribution',
      html: '<p>Aviation news: <a href="https://other.example/planes/1">new jet</a></p>',
      own: 'agg.example',
      expected: null,
    },
    {
      name: 'a sentence ends between the phrase and the link',
      html: '<p>You can view this story on their website. Related: <a href="https://other.example/related/1">another story</a></p>',
      own: 'agg.example',
      expected: null,
    },
    {
      name: 'too many words between the phrase and the link',
      html: '<p>Read more at the bottom of this page where we have collected all the coverage, including <a href="https://other.example/x/1">this</a></p>',
      own: 'agg.example',
      expected: null,
    },
    {
      name: 'the phrase in another paragraph does not introduce the link',
      html: '<p>Source:</p><p>See also <a href="https://other.example/x/2">this</a></p>',
      own: 'agg.example',
      expected: null,
    },
    {
      name: 'a plain link in the story text is not attribution',
      html: `<p>The storm, <a href="${STORY}">reported earlier</a>, hit the coast.</p>`,
      own: 'agg.example',
      expected: null,
    },
    // --- the first match in document order wins; own host may be absent ---
    {
      name: 'first attribution link in document order wins',
      html: '<p>Source: <a href="https://first.example/a/1">First</a></p><p>Originally published at <a href="https://second.example/b/2">Second</a></p>',
      own: 'agg.example',
      expected: 'https://first.example/a/1',
    },
    {
      name: 'no own host: any host counts',
      html: '<p>Source: <a href="https://www.agg.example/a/1">Agg</a></p>',
      own: null,
      expected: 'https://www.agg.example/a/1',
    },
    { name: 'empty HTML', html: '', own: 'agg.example', expected: null },
    { name: 'tag soup', html: '<p>Source: <a href="https://pub.example/x/1">Pub</b></div><<>', own: 'agg.example', expected: 'https://pub.example/x/1' },
  ])('$name', ({ html, own, base = null, expected }: { html: string; own: string | null; base?: string | null; expected: string | null }) => {
    expect(findAttributionLink(html, own, base)).toBe(expected);
  });

  it('keeps its phrases as data, covering the issue and the brief', () => {
    const phrases = ATTRIBUTION_PHRASES.map((p) => p.phrase);
    for (const phrase of ['view this story on their website', 'originally published at', 'originally published on', 'originally published by', 'read the original', 'read the full story at', 'read the full story on', 'source:', 'via', 'continue reading at', 'continue reading on', 'read more at', 'read more on']) {
      expect(phrases).toContain(phrase);
    }
  });
});

const item = (over: Partial<ParsedItem>): Pick<ParsedItem, 'link' | 'contentHtml' | 'summaryHtml' | 'dcSource'> => ({
  link: 'https://www.newsnow.example/A/123456',
  contentHtml: null,
  summaryHtml: null,
  ...over,
});

describe('findOriginalUrl', () => {
  it.each([
    {
      name: 'dc:source off the aggregator host comes first',
      item: item({ dcSource: 'https://pub.example/news/1', contentHtml: `<p>Source: <a href="${STORY}">Daily Planet</a></p>` }),
      expected: { url: 'https://pub.example/news/1', from: 'dc:source' },
    },
    {
      name: "dc:source on the aggregator's host is ignored; the attribution link is used",
      item: item({ dcSource: 'https://www.newsnow.example/h/World', contentHtml: `<p>Source: <a href="${STORY}">Daily Planet</a></p>` }),
      expected: { url: STORY, from: 'attribution-link' },
    },
    {
      name: 'dc:source that is not an http(s) URL is ignored',
      item: item({ dcSource: 'urn:isbn:0451450523' }),
      expected: null,
    },
    {
      name: "dc:source naming a site's front page is no story URL",
      item: item({ dcSource: 'https://www.reuters.example/' }),
      expected: null,
    },
    {
      name: 'the attribution link in the content',
      item: item({
        contentHtml: `<p>A storm hit the coast.</p><p>We support our Publishers and Content Creators. You can view this story on their website by <a href="${TRACKED}">CLICKING HERE</a>.</p><p>CLICK HERE TO GET THE NEWS NOW APP</p>`,
      }),
      expected: { url: TRACKED, from: 'attribution-link' },
    },
    {
      name: 'the summary when the content has none',
      item: item({ contentHtml: '<p>Just text.</p>', summaryHtml: `<p>Originally published at <a href="${STORY}">Daily Planet</a></p>` }),
      expected: { url: STORY, from: 'attribution-link' },
    },
    {
      name: "relative links resolve against the item link, the aggregator's page, so they are its own",
      item: item({ contentHtml: '<p>Read more at <a href="/h/World">World news</a></p>' }),
      expected: null,
    },
    { name: 'nothing names an original', item: item({ contentHtml: '<p>Just text.</p>' }), expected: null },
    { name: 'no content at all', item: item({}), expected: null },
  ])('$name', ({ item: input, expected }) => {
    expect(findOriginalUrl(input, 'www.newsnow.example')).toEqual(expected);
  });
});

// dc:source is read by map-xml-feed.ts; these go through the real parser on inline documents.
const rss = (itemXml: string, channelAttrs = ''): string => `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"${channelAttrs}>
  <channel>
    <title>NewsNow World</title>
    <link>https://www.newsnow.example/h/World</link>
    <description>World news</description>
    <item>
      <title>Storm hits coast</title>
      <link>https://www.newsnow.example/A/123456?-1:2</link>
      ${itemXml}
    </item>
  </channel>
</rss>`;

describe('dc:source in RSS items (parseFeed)', () => {
  it.each([
    { name: 'absolute URL', xml: `<dc:source>${STORY.replace(/&/g, '&amp;')}</dc:source>`, expected: STORY },
    { name: 'surrounding whitespace', xml: `<dc:source>\n  ${STORY}\n</dc:source>`, expected: STORY },
    { name: 'rdf:resource attribute', xml: `<dc:source rdf:resource="${STORY}"/>`, expected: STORY },
    { name: 'relative URL resolves against the item base', xml: '<dc:source>/world/story-2</dc:source>', expected: 'https://www.newsnow.example/world/story-2' },
    { name: 'free text names no URL', xml: '<dc:source>Reuters</dc:source>', expected: null },
    { name: 'a non-http scheme', xml: '<dc:source>ftp://files.example/story.txt</dc:source>', expected: null },
    { name: 'absent', xml: '', expected: null },
  ])('$name', async ({ xml, expected }) => {
    const feed = await parseFeed(rss(xml), { url: 'https://feeds.newsnow.example/world.xml' });
    expect(feed.items[0]).toMatchObject({ dcSource: expected });
  });

  it('feeds findOriginalUrl end to end', async () => {
    const feed = await parseFeed(rss(`<dc:source>${STORY}</dc:source>`), { url: 'https://feeds.newsnow.example/world.xml' });
    expect(findOriginalUrl(feed.items[0]!, 'www.newsnow.example')).toEqual({ url: STORY, from: 'dc:source' });
  });
});

describe('dc:source in the XML mapping (mapXmlFeed)', () => {
  const rssDoc = (item: Record<string, unknown>) => ({
    rootName: 'rss',
    root: { channel: [{ title: ['Agg'], link: ['https://www.newsnow.example/'] }] },
    items: [{ title: ['Storm'], link: ['https://www.newsnow.example/A/1'], ...item }],
  });
  it.each([
    { name: 'RSS item, absolute', item: { 'dc:source': [STORY] }, expected: STORY },
    { name: 'RSS item, a bare word is text, not a relative URL', item: { $: { 'xml:base': 'https://pub.example/news/' }, 'dc:source': ['story-3'] }, expected: null },
    { name: 'RSS item, ./relative against xml:base', item: { $: { 'xml:base': 'https://pub.example/news/' }, 'dc:source': ['./story-3'] }, expected: 'https://pub.example/news/story-3' },
    { name: 'RSS item, rdf:resource', item: { 'dc:source': [{ $: { 'rdf:resource': STORY } }] }, expected: STORY },
    { name: 'RSS item, javascript: URL', item: { 'dc:source': ['javascript:alert(1)'] }, expected: null },
  ])('$name', ({ item: raw, expected }) => {
    expect(mapXmlFeed(rssDoc(raw), 'https://feeds.newsnow.example/world.xml').items[0]).toMatchObject({ dcSource: expected });
  });

  it('Atom entry', () => {
    const doc = {
      rootName: 'feed',
      root: { title: [{ _: 'Agg' }] },
      items: [{ id: ['tag:agg,1'], title: [{ _: 'Storm' }], 'dc:source': [STORY] }],
    };
    expect(mapXmlFeed(doc, 'https://feeds.newsnow.example/atom.xml').items[0]).toMatchObject({ dcSource: STORY });
  });
});
