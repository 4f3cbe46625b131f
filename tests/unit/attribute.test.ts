import { describe, expect, it } from 'vitest';
import { attributePublisher, siteHost, type KnownSource } from '../../src/ingest/attribute.js';

const daily: KnownSource = { id: 'daily', url: 'https://feeds.dailyplanet.example/rss', name: 'Daily Planet', homepage: 'https://www.dailyplanet.example/', feedTitle: 'The Daily Planet - World', feedHomeUrl: null };
const dailySports: KnownSource = { ...daily, id: 'daily-sports', url: 'https://feeds.dailyplanet.example/sports', name: 'Daily Planet Sports' };
const aggregator: KnownSource = { id: 'newsnow', url: 'https://agg.example/feed', name: 'News Now', homepage: 'https://agg.example', feedTitle: null, feedHomeUrl: null };
const noName: KnownSource = { id: 'wire', url: 'https://wire.example/feed.json', name: null, homepage: null, feedTitle: 'Wire Service', feedHomeUrl: 'https://wire.example/' };
const bare: KnownSource = { id: 'bare', url: 'https://bare.example/rss', name: null, homepage: null, feedTitle: null, feedHomeUrl: null };
const known = [daily, dailySports, aggregator, noName, bare];

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
