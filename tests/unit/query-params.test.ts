import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../src/errors.js';
import {
  formatFeedQuery,
  parseFeedQuery,
  parseItemsQuery,
  parseNoQuery,
  parseSourcesQuery,
  parseTimestamp,
} from '../../src/http/query-params.js';
import { decodeCursor, encodeCursor, type StoryFilter } from '../../src/store/items-query.js';

const cursor = { publishedAt: new Date('2024-03-01T10:00:00.123Z'), id: 'abc123' };

function badRequest(fn: () => unknown): BadRequestError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BadRequestError) return err;
    throw err;
  }
  throw new Error('expected a BadRequestError, got none');
}

describe('parseItemsQuery accepts', () => {
  it.each<{ name: string; query: Record<string, string | string[]>; expected: StoryFilter }>([
    { name: 'nothing: the default limit', query: {}, expected: { limit: 50 } },
    { name: 'limit 1', query: { limit: '1' }, expected: { limit: 1 } },
    { name: 'limit 500', query: { limit: '500' }, expected: { limit: 500 } },
    { name: 'limit with a leading zero', query: { limit: '007' }, expected: { limit: 7 } },
    {
      name: 'comma-separated sources, trimmed, deduplicated and sorted',
      query: { source: ' b,a ,b,' },
      expected: { limit: 50, sources: ['a', 'b'] },
    },
    { name: 'repeated source parameters', query: { source: ['b', 'a,c'] }, expected: { limit: 50, sources: ['a', 'b', 'c'] } },
    { name: 'tags', query: { tag: 'tech,science' }, expected: { limit: 50, tags: ['science', 'tech'] } },
    { name: 'q, trimmed', query: { q: '  rust async  ' }, expected: { limit: 50, q: 'rust async' } },
    {
      name: 'since as a date, until as a date-time with Z',
      query: { since: '2024-01-01', until: '2024-02-01T12:30:00Z' },
      expected: { limit: 50, since: new Date('2024-01-01T00:00:00Z'), until: new Date('2024-02-01T12:30:00Z') },
    },
    { name: 'a cursor we issued', query: { cursor: encodeCursor(cursor) }, expected: { limit: 50, cursor } },
    { name: 'collapse=true: one entry per story cluster', query: { collapse: 'true' }, expected: { limit: 50, collapseClusters: true } },
    { name: 'collapse=1', query: { collapse: '1' }, expected: { limit: 50, collapseClusters: true } },
    // Left out rather than set false: the same filter as no parameter at all.
    { name: 'collapse=false is the default', query: { collapse: 'false' }, expected: { limit: 50 } },
  ])('$name', ({ query, expected }) => {
    expect(parseItemsQuery(query)).toEqual(expected);
  });
});

describe('parseItemsQuery rejects, naming the parameter', () => {
  it.each<{ name: string; query: Record<string, string | string[]>; parameter: string; message: RegExp }>([
    { name: 'limit=0', query: { limit: '0' }, parameter: 'limit', message: /1 to 500/ },
    { name: 'limit=501', query: { limit: '501' }, parameter: 'limit', message: /1 to 500/ },
    { name: 'limit=abc', query: { limit: 'abc' }, parameter: 'limit', message: /"abc"/ },
    { name: 'limit=-1', query: { limit: '-1' }, parameter: 'limit', message: /whole number/ },
    { name: 'limit=2.5', query: { limit: '2.5' }, parameter: 'limit', message: /whole number/ },
    { name: 'limit=1e2', query: { limit: '1e2' }, parameter: 'limit', message: /whole number/ },
    { name: 'empty limit', query: { limit: '' }, parameter: 'limit', message: /whole number/ },
    { name: 'limit given twice', query: { limit: ['5', '6'] }, parameter: 'limit', message: /2 times/ },
    { name: 'empty source', query: { source: ' , ' }, parameter: 'source', message: /at least one/ },
    { name: 'empty tag', query: { tag: '' }, parameter: 'tag', message: /at least one/ },
    { name: 'too many sources', query: { source: Array.from({ length: 51 }, (_, i) => `s${i}`).join(',') }, parameter: 'source', message: /at most 50/ },
    { name: 'blank q', query: { q: '   ' }, parameter: 'q', message: /empty/ },
    { name: 'q over 200 characters', query: { q: 'x'.repeat(201) }, parameter: 'q', message: /200/ },
    { name: 'since=garbage', query: { since: 'garbage' }, parameter: 'since', message: /ISO 8601/ },
    { name: 'until=yesterday', query: { until: 'yesterday' }, parameter: 'until', message: /ISO 8601/ },
    { name: 'until not after since', query: { since: '2024-02-01', until: '2024-02-01' }, parameter: 'until', message: /later than since/ },
    { name: 'cursor=garbage', query: { cursor: 'garbage' }, parameter: 'cursor', message: /next_cursor/ },
    { name: 'unknown parameter', query: { page: '2' }, parameter: 'page', message: /unknown parameter "page"/ },
    { name: 'typo, with a suggestion', query: { limt: '5' }, parameter: 'limt', message: /did you mean "limit"/ },
    { name: 'a sources-only parameter', query: { include_inactive: 'true' }, parameter: 'include_inactive', message: /not accepted here/ },
    { name: 'collapse=maybe', query: { collapse: 'maybe' }, parameter: 'collapse', message: /true or false, got "maybe"/ },
    { name: 'collapse given twice', query: { collapse: ['true', 'false'] }, parameter: 'collapse', message: /2 times/ },
  ])('$name', ({ query, parameter, message }) => {
    const err = badRequest(() => parseItemsQuery(query));
    expect(err.parameter).toBe(parameter);
    expect(err.message).toMatch(message);
  });
});

describe('parseFeedQuery', () => {
  it('takes limit, source, tag and q', () => {
    expect(parseFeedQuery({ limit: '10', source: 'a', tag: 't', q: 'x' })).toEqual({
      limit: 10,
      sources: ['a'],
      tags: ['t'],
      q: 'x',
    });
  });

  it.each([
    { name: 'cursor', query: { cursor: encodeCursor(cursor) } },
    { name: 'since', query: { since: '2024-01-01' } },
    { name: 'until', query: { until: '2024-01-01' } },
    // Feeds always show one entry per cluster.
    { name: 'collapse', query: { collapse: 'false' } },
  ])('rejects $name (feeds are subscriptions, not pages or windows)', ({ name, query }) => {
    const err = badRequest(() => parseFeedQuery(query));
    expect(err.parameter).toBe(name);
    expect(err.message).toMatch(/not accepted here; accepted: limit, source, tag, q/);
  });
});

describe('parseSourcesQuery and parseNoQuery', () => {
  it.each([
    { name: 'default', query: {}, expected: false },
    { name: 'true', query: { include_inactive: 'true' }, expected: true },
    { name: '1', query: { include_inactive: '1' }, expected: true },
    { name: 'false', query: { include_inactive: 'false' }, expected: false },
  ])('include_inactive: $name', ({ query, expected }) => {
    expect(parseSourcesQuery(query)).toEqual({ includeInactive: expected });
  });

  it('rejects include_inactive=maybe', () => {
    expect(badRequest(() => parseSourcesQuery({ include_inactive: 'maybe' })).parameter).toBe('include_inactive');
  });

  it('parseNoQuery rejects any parameter', () => {
    const err = badRequest(() => parseNoQuery({ limit: '5' }));
    expect(err.parameter).toBe('limit');
    expect(err.message).toMatch(/takes no parameters/);
  });
});

describe('parseTimestamp', () => {
  it.each([
    { name: 'date only is midnight UTC', value: '2024-05-01', expected: '2024-05-01T00:00:00.000Z' },
    { name: 'date-time without offset is UTC', value: '2024-05-01T12:00', expected: '2024-05-01T12:00:00.000Z' },
    { name: 'Z', value: '2024-05-01T12:00:00Z', expected: '2024-05-01T12:00:00.000Z' },
    { name: 'positive offset', value: '2024-05-01T12:00:00+02:00', expected: '2024-05-01T10:00:00.000Z' },
    { name: 'negative offset without colon', value: '2024-05-01T12:00:00-0130', expected: '2024-05-01T13:30:00.000Z' },
    { name: "a '+' decoded to a space", value: '2024-05-01T12:00:00 02:00', expected: '2024-05-01T10:00:00.000Z' },
    { name: 'fraction beyond milliseconds is truncated', value: '2024-05-01T12:00:00.123456Z', expected: '2024-05-01T12:00:00.123Z' },
    { name: 'space separator, lowercase z', value: '2024-05-01 12:00:00z', expected: '2024-05-01T12:00:00.000Z' },
    { name: 'leap day', value: '2024-02-29', expected: '2024-02-29T00:00:00.000Z' },
    { name: 'a year below 100 stays itself', value: '0050-01-01', expected: '0050-01-01T00:00:00.000Z' },
  ])('$name', ({ value, expected }) => {
    expect(parseTimestamp('since', value).toISOString()).toBe(expected);
  });

  it.each([
    { name: 'garbage', value: 'garbage' },
    { name: 'a Unix timestamp', value: '1714560000' },
    { name: 'an RFC 2822 date', value: 'Wed, 01 May 2024 12:00:00 GMT' },
    { name: 'month 13', value: '2024-13-01' },
    { name: 'February 30th', value: '2024-02-30' },
    { name: 'February 29th of a common year', value: '2023-02-29' },
    { name: 'hour 24', value: '2024-05-01T24:00:00Z' },
    { name: 'offset hour 24', value: '2024-05-01T12:00:00+24:00' },
    { name: 'trailing text', value: '2024-05-01T12:00:00Zjunk' },
  ])('rejects $name', ({ value }) => {
    const err = badRequest(() => parseTimestamp('until', value));
    expect(err.parameter).toBe('until');
    expect(err.message).toMatch(/ISO 8601/);
  });
});

describe('formatFeedQuery', () => {
  it.each<{ name: string; filter: StoryFilter; expected: string }>([
    { name: 'the whole river has no query', filter: { limit: 50 }, expected: '' },
    { name: 'a non-default limit', filter: { limit: 10 }, expected: '?limit=10' },
    {
      name: 'fixed parameter order, lists joined with commas, values encoded',
      filter: { limit: 50, q: 'a&b c', tags: ['x y'], sources: ['a', 'b'] },
      expected: '?source=a,b&tag=x%20y&q=a%26b%20c',
    },
  ])('$name', ({ filter, expected }) => {
    expect(formatFeedQuery(filter)).toBe(expected);
  });

  it('leaves collapseClusters out: feeds take no collapse parameter', () => {
    expect(formatFeedQuery({ limit: 50, collapseClusters: true, tags: ['t'] })).toBe('?tag=t');
  });

  it('round-trips through the parser', () => {
    const filter = parseFeedQuery({ tag: 'b,a', source: 'z', limit: '7', q: 'hello world' });
    const again = parseFeedQuery(Object.fromEntries(new URLSearchParams(formatFeedQuery(filter).slice(1))));
    expect(again).toEqual(filter);
  });
});

describe('cursors', () => {
  it('round-trip', () => {
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
  });

  it.each([
    { name: 'empty', value: '' },
    { name: 'not base64url', value: 'a+b/c=' },
    { name: 'base64url of garbage', value: Buffer.from('nope').toString('base64url') },
    { name: 'wrong shape', value: Buffer.from(JSON.stringify({ p: 1 })).toString('base64url') },
    { name: 'an invalid date', value: Buffer.from(JSON.stringify(['not a date', 'x'])).toString('base64url') },
    { name: 'a loosely written date', value: Buffer.from(JSON.stringify(['2024', 'x'])).toString('base64url') },
    { name: 'an empty id', value: Buffer.from(JSON.stringify(['2024-01-01T00:00:00.000Z', ''])).toString('base64url') },
  ])('decodeCursor rejects $name', ({ value }) => {
    expect(decodeCursor(value)).toBeNull();
  });
});
