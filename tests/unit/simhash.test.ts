import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EMPTY_SIMHASH, hammingDistance, isSimhash, simhash } from '../../src/ingest/simhash.js';

const LEAD =
  'A powerful storm slammed into the Florida coast early Tuesday, tearing roofs from homes, flooding low-lying neighborhoods and leaving more than 400,000 customers without electricity, officials said. The storm made landfall near Cedar Key shortly after 3 a.m. with sustained winds of 105 mph, the National Hurricane Center said.';

describe('simhash', () => {
  it.each([
    { name: 'empty text', text: '' },
    { name: 'whitespace only', text: '  \n\t ' },
    { name: 'punctuation only', text: '— … !!! ?? "" ()' },
  ])('$name gives the empty fingerprint', ({ text }) => {
    expect(simhash(text)).toBe(EMPTY_SIMHASH);
    expect(EMPTY_SIMHASH).toBe('0000000000000000');
  });

  it('is 16 lower-case hex digits, and stable across runs and versions (fingerprints are stored)', () => {
    const h = simhash(LEAD);
    expect(h).toMatch(/^[0-9a-f]{16}$/);
    expect(simhash(LEAD)).toBe(h);
    // One shingle: every bit takes the sign of that shingle's hash, so the fingerprint is the
    // feature hash itself, the first 8 bytes of SHA-1 of the folded words.
    expect(simhash('Hello')).toBe(createHash('sha1').update('hello').digest('hex').slice(0, 16));
    expect(simhash('Hello, World')).toBe(createHash('sha1').update('hello world').digest('hex').slice(0, 16));
    expect(simhash('one two three')).toBe(createHash('sha1').update('one two three').digest('hex').slice(0, 16));
  });

  it.each([
    { name: 'case', a: 'The Storm Hits The Coast Today', b: 'the storm hits the coast today' },
    { name: 'accents (NFKD, marks stripped)', a: 'Café résumé naïve coöperation', b: 'Cafe resume naive cooperation' },
    { name: 'punctuation and quotes', a: '“Storm,” he said — “it’s over!”', b: 'storm he said its over' },
    { name: 'whitespace and line breaks', a: 'storm\n\nhits   the\tcoast', b: 'storm hits the coast' },
    { name: 'letters NFKD keeps whole (ß, ø, æ)', a: 'Straße Ørsted Æther', b: 'strasse orsted aether' },
  ])('ignores $name', ({ a, b }) => {
    expect(simhash(a)).toBe(simhash(b));
  });

  it.each([
    { name: 'word order matters (3-word shingles)', a: 'storm hits coast then power fails across region', b: 'power fails across region then storm hits coast' },
    { name: 'a different number', a: 'more than 400,000 customers without power', b: 'more than 40,000 customers without power' },
  ])('distinguishes: $name', ({ a, b }) => {
    expect(simhash(a)).not.toBe(simhash(b));
  });

  it.each([
    { name: 'one word changed in a 50-word text', b: LEAD.replace('powerful', 'strong'), max: 12 },
    { name: 'a dateline added', b: `MIAMI (AP) — ${LEAD}`, max: 12 },
    { name: 'the text repeated as-is', b: LEAD, max: 0 },
  ])('similar texts are close: $name', ({ b, max }) => {
    expect(hammingDistance(simhash(LEAD), simhash(b))).toBeLessThanOrEqual(max);
  });

  it('unrelated texts are about half the bits apart', () => {
    const other =
      'Polls have closed across the eastern half of the country and the first results are coming in on a night that will decide control of the Senate and a string of closely watched governor races, election officials said.';
    const d = hammingDistance(simhash(LEAD), simhash(other));
    expect(d).toBeGreaterThanOrEqual(20);
    expect(d).toBeLessThanOrEqual(44);
  });
});

describe('hammingDistance', () => {
  it.each([
    { name: 'equal', a: '0123456789abcdef', b: '0123456789abcdef', d: 0 },
    { name: 'all bits', a: '0000000000000000', b: 'ffffffffffffffff', d: 64 },
    { name: 'lowest bit', a: '0000000000000000', b: '0000000000000001', d: 1 },
    { name: 'highest bit (sign of the high half)', a: '8000000000000000', b: '0000000000000000', d: 1 },
    { name: 'both halves', a: 'f0000000f0000000', b: '0000000000000000', d: 8 },
    { name: 'symmetric', a: 'aaaaaaaaaaaaaaaa', b: '5555555555555555', d: 64 },
    { name: 'mixed', a: 'a9bc2e1e79c9373f', b: 'aaf4c61ddcc5e8a2', d: 28 },
  ])('$name: $d', ({ a, b, d }) => {
    expect(hammingDistance(a, b)).toBe(d);
    expect(hammingDistance(b, a)).toBe(d);
  });

  it.each([
    { name: 'upper-case hex', a: 'ABCDEF0123456789', arg: 'a' },
    { name: 'too short', a: 'abc', arg: 'a' },
    { name: 'too long', a: '0123456789abcdef0', arg: 'a' },
    { name: 'not hex', a: 'zzzzzzzzzzzzzzzz', arg: 'a' },
    { name: 'empty', a: '', arg: 'a' },
  ])('rejects $name, naming the argument', ({ a, arg }) => {
    expect(() => hammingDistance(a, '0000000000000000')).toThrow(new RegExp(`argument ${arg} .*not a SimHash`));
    expect(() => hammingDistance('0000000000000000', a)).toThrow(/argument b .*not a SimHash/);
  });

  it.each([
    { name: 'a fingerprint', s: '0123456789abcdef', ok: true },
    { name: 'upper case', s: '0123456789ABCDEF', ok: false },
    { name: 'null-ish text', s: 'null', ok: false },
  ])('isSimhash: $name', ({ s, ok }) => {
    expect(isSimhash(s)).toBe(ok);
  });
});
