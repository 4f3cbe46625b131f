import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { FeedScheduleHints } from '../../src/domain.js';
import { EMPTY_SCHEDULE } from '../../src/ingest/feed-schedule.js';
import { parseFeed } from '../../src/ingest/parse-feed.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/feeds/', import.meta.url));
const fixture = (name: string): string => readFileSync(path.join(FIXTURES, name), 'utf8');
const URL_ = 'https://feeds.example/feed';

const hints = (partial: Partial<FeedScheduleHints>): FeedScheduleHints => ({ ...EMPTY_SCHEDULE, ...partial });

describe('feed schedule hints from fixture feeds', () => {
  it.each([
    {
      name: 'RSS 2.0 with ttl, skipHours (24 read as 0, duplicates dropped), skipDays and sy:',
      file: 'rss2-schedule.xml',
      expected: hints({ ttlMinutes: 60, skipHours: [0, 1, 2, 23], skipDays: ['Saturday', 'Sunday'], updatePeriod: 'hourly', updateFrequency: 2 }),
    },
    { name: 'RSS 1.0 with sy:updatePeriod " Daily " and frequency 2', file: 'rss1-syndication.xml', expected: hints({ updatePeriod: 'daily', updateFrequency: 2 }) },
    { name: 'Atom with the module under the syn: prefix, no frequency', file: 'atom-syndication.xml', expected: hints({ updatePeriod: 'weekly', updateFrequency: 1 }) },
    { name: 'RSS 2.0 with every hint written wrongly', file: 'rss2-schedule-junk.xml', expected: EMPTY_SCHEDULE },
    { name: 'RSS 2.0 without hints', file: 'rss2.xml', expected: EMPTY_SCHEDULE },
    { name: 'RSS 1.0 without hints', file: 'rss1-rdf.xml', expected: EMPTY_SCHEDULE },
    { name: 'Atom without hints', file: 'atom-xml-base.xml', expected: EMPTY_SCHEDULE },
    { name: 'JSON Feed 1.1 (no such hints exist)', file: 'jsonfeed-1.1.json', expected: EMPTY_SCHEDULE },
  ])('$name', async ({ file, expected }) => {
    const feed = await parseFeed(fixture(file), { url: URL_ });
    expect(feed.schedule).toEqual(expected);
  });

  it('still reads the items of a feed whose hints are all junk', async () => {
    const feed = await parseFeed(fixture('rss2-schedule-junk.xml'), { url: URL_ });
    expect(feed.items.map((i) => i.link)).toEqual(['https://junk.example/1']);
  });
});

const SY = 'http://purl.org/rss/1.0/modules/syndication/';
const rss = (channel: string, rootAttrs = ''): string =>
  `<?xml version="1.0"?><rss version="2.0" ${rootAttrs}><channel><title>T</title><link>https://site.example/</link>${channel}</channel></rss>`;
const rss1 = (channel: string): string =>
  `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:sy="${SY}"><channel rdf:about="https://r.example/"><title>R</title>${channel}</channel></rdf:RDF>`;
const atom = (children: string, attrs = ''): string => `<feed xmlns="http://www.w3.org/2005/Atom" ${attrs}><title>A</title>${children}</feed>`;

describe('feed schedule hints, value by value', () => {
  it.each([
    { name: 'ttl with surrounding space', body: rss('<ttl> 90 </ttl>'), expected: { ttlMinutes: 90 } },
    { name: 'fractional ttl kept', body: rss('<ttl>1.5</ttl>'), expected: { ttlMinutes: 1.5 } },
    { name: 'ttl 0 is no hint', body: rss('<ttl>0</ttl>'), expected: { ttlMinutes: null } },
    { name: 'negative ttl is no hint', body: rss('<ttl>-5</ttl>'), expected: { ttlMinutes: null } },
    { name: 'ttl with a unit is no hint', body: rss('<ttl>60 minutes</ttl>'), expected: { ttlMinutes: null } },
    { name: 'empty ttl is no hint', body: rss('<ttl/>'), expected: { ttlMinutes: null } },
    { name: 'the first of two ttl elements', body: rss('<ttl>30</ttl><ttl>60</ttl>'), expected: { ttlMinutes: 30 } },
    { name: 'hour 24 is midnight', body: rss('<skipHours><hour>24</hour></skipHours>'), expected: { skipHours: [0] } },
    { name: 'hours sorted, junk among them dropped', body: rss('<skipHours><hour>22</hour><hour>oops</hour><hour>03</hour><hour>25</hour></skipHours>'), expected: { skipHours: [3, 22] } },
    { name: 'two skipHours blocks merged', body: rss('<skipHours><hour>5</hour></skipHours><skipHours><hour>4</hour></skipHours>'), expected: { skipHours: [4, 5] } },
    { name: 'days in any case, Monday-first order', body: rss('<skipDays><day>SUNDAY</day><day>monday</day><day>Wednesday</day></skipDays>'), expected: { skipDays: ['Monday', 'Wednesday', 'Sunday'] } },
    { name: 'abbreviated and invented days dropped', body: rss('<skipDays><day>Tue</day><day>Fantabuday</day><day>Friday</day></skipDays>'), expected: { skipDays: ['Friday'] } },
    { name: 'period in capitals with a numeric frequency', body: rss(`<sy:updatePeriod>HOURLY</sy:updatePeriod><sy:updateFrequency> 4 </sy:updateFrequency>`, `xmlns:sy="${SY}"`), expected: { updatePeriod: 'hourly', updateFrequency: 4 } },
    { name: 'period without a frequency is once per period', body: rss('<sy:updatePeriod>monthly</sy:updatePeriod>', `xmlns:sy="${SY}"`), expected: { updatePeriod: 'monthly', updateFrequency: 1 } },
    { name: 'junk frequency falls back to once per period', body: rss('<sy:updatePeriod>yearly</sy:updatePeriod><sy:updateFrequency>often</sy:updateFrequency>', `xmlns:sy="${SY}"`), expected: { updatePeriod: 'yearly', updateFrequency: 1 } },
    { name: 'zero frequency falls back to once per period', body: rss('<sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>0</sy:updateFrequency>', `xmlns:sy="${SY}"`), expected: { updatePeriod: 'daily', updateFrequency: 1 } },
    { name: 'frequency without a period is per day (the module default)', body: rss('<sy:updateFrequency>3</sy:updateFrequency>', `xmlns:sy="${SY}"`), expected: { updatePeriod: 'daily', updateFrequency: 3 } },
    { name: 'unknown period makes both null', body: rss('<sy:updatePeriod>fortnightly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>', `xmlns:sy="${SY}"`), expected: { updatePeriod: null, updateFrequency: null } },
    { name: 'any prefix bound to the module URI', body: rss('<upd:updatePeriod>daily</upd:updatePeriod>', `xmlns:upd="${SY}"`), expected: { updatePeriod: 'daily', updateFrequency: 1 } },
    { name: 'module URI over https without the trailing slash', body: rss('<s:updatePeriod>weekly</s:updatePeriod>', 'xmlns:s="https://purl.org/rss/1.0/modules/syndication"'), expected: { updatePeriod: 'weekly' } },
    { name: 'namespace declared on the element itself', body: rss(`<x:updatePeriod xmlns:x="${SY}">hourly</x:updatePeriod>`), expected: { updatePeriod: 'hourly' } },
    { name: 'default namespace on the element itself', body: rss(`<updatePeriod xmlns="${SY}">hourly</updatePeriod>`), expected: { updatePeriod: 'hourly' } },
    { name: 'sy: bound to another namespace is not the module', body: rss('<sy:updatePeriod>hourly</sy:updatePeriod>', 'xmlns:sy="http://example.com/not-syndication"'), expected: { updatePeriod: null } },
    { name: 'undeclared sy: prefix trusted', body: rss('<sy:updatePeriod>daily</sy:updatePeriod>'), expected: { updatePeriod: 'daily' } },
    { name: 'undeclared unknown prefix ignored', body: rss('<zz:updatePeriod>daily</zz:updatePeriod>'), expected: { updatePeriod: null } },
    { name: 'unprefixed updatePeriod in RSS 2.0 is not the module', body: rss('<updatePeriod>daily</updatePeriod>'), expected: { updatePeriod: null } },
    { name: 'RSS 1.0 channel', body: rss1('<sy:updatePeriod>weekly</sy:updatePeriod><sy:updateFrequency>7</sy:updateFrequency>'), expected: { updatePeriod: 'weekly', updateFrequency: 7 } },
    { name: 'Atom feed with sy:', body: atom('<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>1</sy:updateFrequency>', `xmlns:sy="${SY}"`), expected: { updatePeriod: 'hourly', updateFrequency: 1 } },
    { name: 'Atom ignores RSS-only ttl and skipHours', body: atom('<ttl>60</ttl><skipHours><hour>1</hour></skipHours><skipDays><day>Monday</day></skipDays>'), expected: { ttlMinutes: null, skipHours: [], skipDays: [] } },
    { name: 'sy: inside an item is not the channel hint', body: rss(`<item><title>i</title><sy:updatePeriod>daily</sy:updatePeriod></item>`, `xmlns:sy="${SY}"`), expected: { updatePeriod: null } },
  ])('$name', async ({ body, expected }) => {
    const feed = await parseFeed(body, { url: URL_ });
    expect(feed.schedule).toMatchObject(expected);
  });

  it('gives JSON Feeds the shared empty schedule', async () => {
    const feed = await parseFeed('{"version":"https://jsonfeed.org/version/1.1","items":[]}', { url: URL_ });
    expect(feed.schedule).toBe(EMPTY_SCHEDULE);
    expect(Object.isFrozen(EMPTY_SCHEDULE) && Object.isFrozen(EMPTY_SCHEDULE.skipHours)).toBe(true);
  });
});
