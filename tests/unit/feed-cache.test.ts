import { describe, expect, it } from 'vitest';
import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import { createFeedCache, negotiateCoding, type FeedCacheOptions } from '../../src/http/feed-cache.js';

const body = (text: string) => Buffer.from(text, 'utf8');

type Step = ['set', string, string, string] | ['get', string, string];

/** Runs steps on a fresh cache; returns what each get returned (text or null) and the final keys present. */
function run(options: FeedCacheOptions, steps: Step[]) {
  const cache = createFeedCache(options);
  const gets: (string | null)[] = [];
  for (const step of steps) {
    if (step[0] === 'set') cache.set(step[1], step[2], body(step[3]));
    else gets.push(cache.get(step[1], step[2])?.body.toString('utf8') ?? null);
  }
  return { cache, gets };
}

describe('createFeedCache', () => {
  it.each<{ name: string; options?: FeedCacheOptions; steps: Step[]; gets: (string | null)[] }>([
    { name: 'a hit under the same ETag', steps: [['set', 'k', '"v1"', 'doc'], ['get', 'k', '"v1"']], gets: ['doc'] },
    { name: 'a miss under another ETag (the stories changed)', steps: [['set', 'k', '"v1"', 'doc'], ['get', 'k', '"v2"']], gets: [null] },
    { name: 'a miss for an unknown key', steps: [['get', 'k', '"v1"']], gets: [null] },
    {
      name: 'set replaces what a key had',
      steps: [['set', 'k', '"v1"', 'old'], ['set', 'k', '"v2"', 'new'], ['get', 'k', '"v1"'], ['get', 'k', '"v2"']],
      gets: [null, 'new'],
    },
    {
      name: 'the least recently used goes first when entries are full',
      options: { maxEntries: 2 },
      steps: [['set', 'a', 'e', 'A'], ['set', 'b', 'e', 'B'], ['get', 'a', 'e'], ['set', 'c', 'e', 'C'], ['get', 'a', 'e'], ['get', 'b', 'e'], ['get', 'c', 'e']],
      gets: ['A', 'A', null, 'C'],
    },
    {
      name: 'bytes are bounded too',
      options: { maxBytes: 10 },
      steps: [['set', 'a', 'e', '12345'], ['set', 'b', 'e', '12345'], ['set', 'c', 'e', '123'], ['get', 'a', 'e'], ['get', 'b', 'e'], ['get', 'c', 'e']],
      gets: [null, '12345', '123'],
    },
    {
      name: 'a document larger than the whole budget is not kept, and drops the older version',
      options: { maxBytes: 4 },
      steps: [['set', 'a', 'e1', 'abc'], ['set', 'a', 'e2', 'abcdefgh'], ['get', 'a', 'e1'], ['get', 'a', 'e2']],
      gets: [null, null],
    },
    { name: 'maxEntries 0 keeps nothing', options: { maxEntries: 0 }, steps: [['set', 'a', 'e', 'A'], ['get', 'a', 'e']], gets: [null] },
  ])('$name', ({ options, steps, gets }) => {
    expect(run(options ?? {}, steps).gets).toEqual(gets);
  });

  it('counts bytes as UTF-8, hits, misses and evictions', () => {
    const { cache } = run({ maxEntries: 2 }, [
      ['set', 'a', 'e', 'é'],
      ['set', 'b', 'e', 'xyz'],
      ['get', 'a', 'e'],
      ['get', 'a', 'stale'],
      ['set', 'c', 'e', 'c'],
    ]);
    expect(cache.stats()).toEqual({ entries: 2, bytes: 2 + 1, hits: 1, misses: 1, evictions: 1 });
    cache.clear();
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0 });
  });

  it.each([
    { name: 'negative entries', options: { maxEntries: -1 } },
    { name: 'fractional bytes', options: { maxBytes: 1.5 } },
  ])('rejects $name', ({ options }) => {
    expect(() => createFeedCache(options)).toThrow(RangeError);
  });

  it('keeps each coding of a document once, counted in its bytes, and drops them with it', () => {
    const cache = createFeedCache();
    const text = '<feed>' + 'entry '.repeat(2000) + '</feed>';
    const doc = cache.set('k', 'e', body(text));
    const gz = doc.encoded('gzip');
    expect(gunzipSync(gz).toString('utf8')).toBe(text);
    expect(brotliDecompressSync(doc.encoded('br')).toString('utf8')).toBe(text);
    expect(cache.get('k', 'e')!.encoded('gzip')).toBe(gz);
    expect(cache.stats().bytes).toBe(text.length + gz.length + doc.encoded('br').length);
    cache.set('k', 'e2', body('new'));
    expect(cache.stats().bytes).toBe(3);
  });

  it('a coding that does not fit the byte budget is served but not kept; older documents make room for one that does', () => {
    const text = 'x'.repeat(4000);
    const small = createFeedCache({ maxBytes: 4000 });
    small.set('k', 'e', body(text)).encoded('gzip');
    expect(small.stats().bytes).toBe(4000);
    const roomy = createFeedCache({ maxBytes: 4100 });
    roomy.set('old', 'e', body('y'.repeat(90)));
    const doc = roomy.set('k', 'e', body(text));
    const gz = doc.encoded('gzip');
    expect(roomy.get('old', 'e')).toBeNull();
    expect(roomy.stats()).toMatchObject({ entries: 1, bytes: 4000 + gz.length });
  });
});

describe('negotiateCoding', () => {
  it.each([
    { name: 'no header', header: undefined, coding: null },
    { name: 'empty', header: '', coding: null },
    { name: 'gzip only', header: 'gzip', coding: 'gzip' },
    { name: 'x-gzip is gzip', header: 'x-gzip', coding: 'gzip' },
    { name: 'both: br is smaller', header: 'gzip, deflate, br', coding: 'br' },
    { name: 'gzip weighed higher', header: 'br;q=0.5, gzip;q=0.9', coding: 'gzip' },
    { name: 'br refused', header: 'br;q=0, gzip', coding: 'gzip' },
    { name: 'any coding', header: '*', coding: 'br' },
    { name: 'any but br', header: '*, br;q=0', coding: 'gzip' },
    { name: 'identity only', header: 'identity', coding: null },
    { name: 'everything refused', header: '*;q=0', coding: null },
    { name: 'upper case and spaces', header: 'GZIP ; Q=1', coding: 'gzip' },
    { name: 'deflate only (not offered)', header: 'deflate', coding: null },
  ])('$name', ({ header, coding }) => {
    expect(negotiateCoding(header)).toBe(coding);
  });
});
