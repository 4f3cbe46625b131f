import { describe, expect, it } from 'vitest';
import { attributePublisher, siteHost, type KnownSource } from '../../src/ingest/attribute.js';

const daily: KnownSource = { id: 'daily', url: 'https://feeds.dailyplanet.example/rss', name: 'Daily Planet', homepage: 'https://www.dailyplanet.example/', feedTitle: 'The Daily Planet - World', feedHomeUrl: null, kind: 'publisher' };
const dailySports: KnownSource = { ...daily, id: 'daily-sports', url: 'https://feeds.dailyplanet.example/sports', name: 'Daily Planet Sports' };
// Configured as a publisher (the issue #2 behaviour): credited as the fallback for what it carries.
const aggregator: KnownSource = { id: 'newsnow', url: 'https://agg.example/feed', name: 'News Now', homepage: 'https://agg.example', feedTitle: null, feedHomeUrl: null, kind: 'publisher' };
const noName: KnownSource = { id: 'wire', url: 'https://wire.example/feed.json', name: null, homepage: null, feedTitle: 'Wire Service', feedHomeUrl: 'https://wire.example/', kind: 'publisher' };
const bare: KnownSource = { id: 'bare', url: 'https://bare.example/rss', name: null, homepage: null, feedTitle: null, feedHomeUrl: null, kind: 'publisher' };
// The same aggregator marked `kind: aggregator` (issue #4); its feed is on a host of its own, as hnrss.org is for Hacker News.
const newsNow: KnownSource = { id: 'newsnow', url: 'https://feeds.newsnow-rss.example/uk', name: 'News Now', homepage: 'https://www.newsnow.example/', feedTitle: 'NewsNow UK', feedHomeUrl: null, kind: 'aggregator' };
const known = [daily, dailySports, aggregator, noName, bare];
const knownWithNewsNow = [daily, dailySports, newsNow, noName, bare];

describe('attributePublisher', () => {
  it.each([
    {
      name: 'aggregator item on a configured publisher host is credited to that publisher',
      item: { canonicalUrl: 'https://dailyplanet.example/world/a', origin: null },
      via: aggregator,
      expected: { name: 'Daily Planet', sourceId: 'daily', rank: 3, url: 'https://www.dailyplanet.example/', feedUrl: 'https://feeds.dailyplanet.example/rss' },
    },
    {
      name: 'two feeds of one site: the feed being read wins the tie',
      item: { canonicalUrl: 'https://www.dailyplanet.example/sports/x', origin: null },
      via: dailySports,
      expected: { name: 'Daily Planet Sports', sourceId: 'daily-sports', rank: 3 },
    },
    {
      name: 'two feeds of one site seen through a third: lowest id wins, independent of poll order',
      item: { canonicalUrl: 'https://www.dailyplanet.example/sports/x', origin: null },
      via: aggregator,
      expected: { name: 'Daily Planet', sourceId: 'daily', rank: 3 },
    },
    {
      name: 'publisher without a configured name uses its feed title, matched by the feed site link',
      item: { canonicalUrl: 'https://wire.example/story/1', origin: null },
      via: aggregator,
      expected: { name: 'Wire Service', sourceId: 'wire', rank: 3, url: 'https://wire.example/' },
    },
    {
      name: 'unknown host with an RSS <source> credits the named origin',
      item: { canonicalUrl: 'https://elsewhere.example/s/1', origin: { name: 'Elsewhere Times', url: 'https://elsewhere.example/rss' } },
      via: aggregator,
      expected: { name: 'Elsewhere Times', sourceId: null, rank: 2, url: 'https://elsewhere.example/', feedUrl: 'https://elsewhere.example/rss' },
    },
    {
      name: 'origin with a url but no name is named by its host',
      item: { canonicalUrl: 'https://elsewhere.example/s/1', origin: { name: null, url: 'https://www.elsewhere.example/rss' } },
      via: aggregator,
      expected: { name: 'elsewhere.example', rank: 2 },
    },
    {
      name: 'unknown host and no origin falls back to the source it came through',
      item: { canonicalUrl: 'https://elsewhere.example/s/1', origin: null },
      via: aggregator,
      expected: { name: 'News Now', sourceId: 'newsnow', rank: 1, url: 'https://agg.example' },
    },
    {
      name: 'link-less item falls back to the source',
      item: { canonicalUrl: null, origin: null },
      via: noName,
      expected: { name: 'Wire Service', sourceId: 'wire', rank: 1 },
    },
    {
      name: 'a source with no name, homepage or title is named by its feed host',
      item: { canonicalUrl: null, origin: null },
      via: bare,
      expected: { name: 'bare.example', sourceId: 'bare', rank: 1, url: 'https://bare.example/' },
    },
  ])('$name', ({ item, via, expected }) => {
    expect(attributePublisher(item, via, known)).toMatchObject(expected);
  });
});

describe('attributePublisher: items from a kind: aggregator source', () => {
  it.each([
    {
      name: 'story on a configured publisher host is credited to that publisher (rank 3)',
      item: { canonicalUrl: 'https://www.dailyplanet.example/world/a', origin: { name: 'The Planet', url: null } },
      expected: { name: 'Daily Planet', sourceId: 'daily', rank: 3, url: 'https://www.dailyplanet.example/', feedUrl: 'https://feeds.dailyplanet.example/rss' },
    },
    {
      name: 'unknown host: the publisher name the aggregator gives (RSS <source>), at the story origin',
      item: { canonicalUrl: 'https://www.elsewhere.example/s/1', origin: { name: ' Elsewhere Times ', url: 'https://elsewhere.example/rss' } },
      expected: { name: 'Elsewhere Times', sourceId: null, rank: 2, url: 'https://www.elsewhere.example/', feedUrl: 'https://elsewhere.example/rss' },
    },
    {
      name: 'unknown host, Atom source with only an id: named by the story host',
      item: { canonicalUrl: 'https://news.elsewhere.example/s/1', origin: { name: null, url: null, id: 'tag:elsewhere.example,2024:feed' } },
      expected: { name: 'news.elsewhere.example', sourceId: null, rank: 2, url: 'https://news.elsewhere.example/', feedUrl: null },
    },
    {
      name: 'unknown host, origin with a feed url but no name: named by the story host, not the feed host',
      item: { canonicalUrl: 'https://www.elsewhere.example/s/1', origin: { name: '', url: 'https://feeds.elsewhere-cdn.example/rss' } },
      expected: { name: 'elsewhere.example', rank: 2, url: 'https://www.elsewhere.example/', feedUrl: 'https://feeds.elsewhere-cdn.example/rss' },
    },
    {
      name: 'unknown host and no origin: credited to the host, never to the aggregator',
      item: { canonicalUrl: 'https://www.elsewhere.example/s/1?id=2', origin: null },
      expected: { name: 'elsewhere.example', sourceId: null, rank: 2, url: 'https://www.elsewhere.example/', feedUrl: null },
    },
    {
      name: "story on the aggregator's homepage host stays the aggregator's",
      item: { canonicalUrl: 'https://www.newsnow.example/discussion/42', origin: null },
      expected: { name: 'News Now', sourceId: 'newsnow', rank: 3, url: 'https://www.newsnow.example/' },
    },
    {
      name: "story on the aggregator's feed host stays the aggregator's",
      item: { canonicalUrl: 'https://feeds.newsnow-rss.example/item/7', origin: null },
      expected: { name: 'News Now', sourceId: 'newsnow', rank: 3 },
    },
    {
      name: "story on another subdomain of the aggregator (a click-tracking host) stays the aggregator's, not the host's",
      item: { canonicalUrl: 'https://c.newsnow.example/A/123456?-1:2', origin: null },
      expected: { name: 'News Now', sourceId: 'newsnow', rank: 1 },
    },
    {
      name: "story on a sibling host of the aggregator (same registrable domain) stays the aggregator's",
      via: { ...newsNow, homepage: 'https://uk.newsnow.co.uk/', url: 'https://feeds.newsnow.co.uk/uk.xml' },
      item: { canonicalUrl: 'https://c.newsnow.co.uk/A/123456', origin: null },
      expected: { name: 'News Now', sourceId: 'newsnow', rank: 1 },
    },
    {
      name: 'story on an aggregator-owned host with a named origin keeps the publisher rules: the named origin',
      item: { canonicalUrl: 'https://c.newsnow.example/A/123456?-1:2', origin: { name: 'Daily Mirror', url: null } },
      expected: { name: 'Daily Mirror', sourceId: null, rank: 2 },
    },
    {
      name: 'link-less item keeps the publisher rules: the named origin',
      item: { canonicalUrl: null, origin: { name: 'Elsewhere Times', url: 'https://elsewhere.example/rss' } },
      expected: { name: 'Elsewhere Times', sourceId: null, rank: 2 },
    },
    {
      name: "link-less item without an origin is the aggregator's own",
      item: { canonicalUrl: null, origin: null },
      expected: { name: 'News Now', sourceId: 'newsnow', rank: 1 },
    },
  ])('$name', ({ item, expected, via = newsNow }: { item: Parameters<typeof attributePublisher>[0]; expected: object; via?: KnownSource }) => {
    expect(attributePublisher(item, via, knownWithNewsNow)).toMatchObject(expected);
  });

  it('a publisher-kind source on the same inputs keeps the issue #2 rules (credited as the fallback)', () => {
    const asPublisher: KnownSource = { ...newsNow, kind: 'publisher' };
    expect(attributePublisher({ canonicalUrl: 'https://www.elsewhere.example/s/1', origin: null }, asPublisher, knownWithNewsNow)).toMatchObject({
      name: 'News Now',
      sourceId: 'newsnow',
      rank: 1,
    });
  });
});

describe('siteHost', () => {
  it.each([
    { name: 'strips www and lower-cases', url: 'https://WWW.Example.COM/a', expected: 'example.com' },
    { name: 'keeps other subdomains', url: 'https://news.example.com/', expected: 'news.example.com' },
    { name: 'null for relative', url: '/a/b', expected: null },
    { name: 'null for null', url: null, expected: null },
  ])('$name', ({ url, expected }) => {
    expect(siteHost(url)).toBe(expected);
  });
});
