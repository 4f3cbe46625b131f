import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../src/errors.js';
import {
  archivedBefore,
  dayOf,
  formatDay,
  isArchived,
  parseArchiveDay,
  readPagingQuery,
  withoutLimit,
  withPaging,
} from '../../src/http/archive.js';
import { ttlMinutesFor } from '../../src/http/feed-outputs.js';
import { encodeCursor } from '../../src/store/items-query.js';

const t = (iso: string) => new Date(iso);

describe('archive days', () => {
  it.each([
    { name: 'midday', at: '2026-03-05T12:34:56.789Z', day: '2026-03-05' },
    { name: 'midnight belongs to the day it starts', at: '2026-03-05T00:00:00.000Z', day: '2026-03-05' },
    { name: 'the last millisecond', at: '2026-03-05T23:59:59.999Z', day: '2026-03-05' },
    { name: 'an offset is read in UTC', at: '2026-03-05T23:30:00-02:00', day: '2026-03-06' },
  ])('dayOf: $name', ({ at, day }) => {
    const d = dayOf(t(at));
    expect(formatDay(d)).toBe(day);
    expect(d.to.getTime() - d.from.getTime()).toBe(86_400_000);
  });

  it.each([
    { name: 'the day before yesterday is archived', now: '2026-03-10T00:00:01Z', day: '2026-03-08', archived: true },
    { name: 'yesterday is not (its stories may still arrive)', now: '2026-03-10T23:59:59Z', day: '2026-03-09', archived: false },
    { name: 'today is not', now: '2026-03-10T12:00:00Z', day: '2026-03-10', archived: false },
    { name: 'a future day is not', now: '2026-03-10T12:00:00Z', day: '2026-04-01', archived: false },
    { name: 'long ago is', now: '2026-03-10T12:00:00Z', day: '1999-12-31', archived: true },
  ])('isArchived: $name', ({ now, day, archived }) => {
    expect(isArchived(parseArchiveDay(day), t(now))).toBe(archived);
    expect(archivedBefore(t(now)).getTime() <= t(now).getTime()).toBe(true);
  });

  it.each([
    { name: 'not a date', value: 'last-week' },
    { name: 'a month', value: '2026-03' },
    { name: 'a date-time', value: '2026-03-05T00:00:00Z' },
    { name: 'a day that does not exist', value: '2026-02-29' },
    { name: 'month 13', value: '2026-13-01' },
  ])('parseArchiveDay rejects $name naming `archive`', ({ value }) => {
    expect(() => parseArchiveDay(value)).toThrow(BadRequestError);
    try {
      parseArchiveDay(value);
    } catch (err) {
      expect((err as BadRequestError).parameter).toBe('archive');
    }
  });

  it('parseArchiveDay reads leap days and years below 100 as written', () => {
    expect(formatDay(parseArchiveDay('2028-02-29'))).toBe('2028-02-29');
    expect(parseArchiveDay('0099-01-01').from.getUTCFullYear()).toBe(99);
  });
});

describe('paging query strings', () => {
  const cursor = { publishedAt: t('2026-03-05T10:00:00.000Z'), id: 'c1' };

  it.each([
    { name: 'nothing', query: {}, rest: {}, page: null, archive: null },
    { name: 'route parameters pass through', query: { limit: '5', tag: ['a', 'b'] }, rest: { limit: '5', tag: ['a', 'b'] }, page: null, archive: null },
    { name: 'a page', query: { page: encodeCursor(cursor) }, rest: {}, page: cursor, archive: null },
    { name: 'an archive', query: { archive: '2026-03-05', tag: 'x' }, rest: { tag: 'x' }, page: null, archive: '2026-03-05' },
  ])('reads $name', ({ query, rest, page, archive }) => {
    const got = readPagingQuery(query, ['limit', 'tag']);
    expect(got.rest).toEqual(rest);
    expect(got.page).toEqual(page);
    expect(got.archive ? formatDay(got.archive) : null).toBe(archive);
  });

  it.each([
    { name: 'an unknown parameter, with a suggestion', query: { pgae: 'x' }, parameter: 'pgae', message: /did you mean "page"\?.*accepted: limit, page, archive/ },
    { name: 'a filter the route does not take', query: { source: 'a' }, parameter: 'source', message: /not accepted here; accepted: limit, page, archive/ },
    { name: 'a garbled page', query: { page: 'nope' }, parameter: 'page', message: /rel="next"/ },
    { name: 'page twice', query: { page: ['a', 'b'] }, parameter: 'page', message: /given 2 times/ },
    { name: 'page and archive', query: { page: encodeCursor(cursor), archive: '2026-03-05' }, parameter: 'page', message: /cannot be combined/ },
    { name: 'limit with an archive', query: { archive: '2026-03-05', limit: '3' }, parameter: 'limit', message: /every entry of its day/ },
  ])('rejects $name', ({ query, parameter, message }) => {
    let caught: unknown;
    try {
      readPagingQuery(query, ['limit']);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(BadRequestError);
    expect((caught as BadRequestError).parameter).toBe(parameter);
    expect((caught as BadRequestError).message).toMatch(message);
  });

  it.each([
    { name: 'no query, a page', query: '', paging: { page: cursor }, url: `?page=${encodeCursor(cursor)}` },
    { name: 'a query, an archive', query: '?tag=x', paging: { archive: parseArchiveDay('2026-03-05') }, url: '?tag=x&archive=2026-03-05' },
    { name: 'nothing to add', query: '?limit=5', paging: {}, url: '?limit=5' },
  ])('withPaging: $name', ({ query, paging, url }) => {
    expect(withPaging(query, paging)).toBe(url);
  });

  it.each([
    { name: 'only a limit', query: '?limit=5', url: '' },
    { name: 'a limit among filters', query: '?limit=5&source=a&tag=b', url: '?source=a&tag=b' },
    { name: 'no limit', query: '?q=x', url: '?q=x' },
    { name: 'empty', query: '', url: '' },
  ])('withoutLimit: $name', ({ query, url }) => {
    expect(withoutLimit(query)).toBe(url);
  });
});

describe('ttlMinutesFor', () => {
  it.each([
    { name: 'whole minutes', everyMs: 15 * 60_000, ttl: 15 },
    { name: 'rounded up', everyMs: 90_000, ttl: 2 },
    { name: 'at least a minute', everyMs: 10_000, ttl: 1 },
    { name: 'at most an hour', everyMs: 6 * 3_600_000, ttl: 60 },
  ])('$name', ({ everyMs, ttl }) => {
    expect(ttlMinutesFor(everyMs)).toBe(ttl);
  });
});
