import { describe, expect, it } from 'vitest';
import { foldWords, titleJaccard, titleKey } from '../../src/ingest/title-key.js';

describe('titleKey', () => {
  it.each([
    // Folding
    { name: 'lower-cased', title: 'Storm Hits The Coast', key: 'storm hits the coast' },
    { name: 'accents folded', title: 'Pérez wins São Paulo mayoral race', key: 'perez wins sao paulo mayoral race' },
    { name: 'letters NFKD keeps whole', title: 'Ørsted and Straße', key: 'orsted and strasse' },
    { name: 'curly and straight quotes removed', title: '“Unacceptable,” says mayor of ‘flood plan’', key: 'unacceptable says mayor of flood plan' },
    { name: 'apostrophes join words', title: "Florida's governor: 'We're ready'", key: 'floridas governor were ready' },
    { name: 'punctuation becomes a word break', title: 'Storm/flood: what we know (so far)...', key: 'storm flood what we know so far' },
    { name: 'whitespace collapsed', title: '  Storm \n hits\t the   coast ', key: 'storm hits the coast' },
    { name: 'hyphenated words kept apart but kept', title: 'COVID-19 cases rise in Jean-Luc’s town', key: 'covid 19 cases rise in jean lucs town' },
    { name: 'HTML-free ampersand', title: 'Rock & roll hall of fame', key: 'rock roll hall of fame' },
    // Leading tags
    { name: 'BREAKING:', title: 'BREAKING: Storm hits the coast', key: 'storm hits the coast' },
    { name: 'Breaking News -', title: 'Breaking News - Storm hits the coast', key: 'storm hits the coast' },
    { name: 'UPDATE:', title: 'UPDATE: Storm hits the coast', key: 'storm hits the coast' },
    { name: 'Updated:', title: 'Updated: Storm hits the coast', key: 'storm hits the coast' },
    { name: 'EXCLUSIVE:', title: 'EXCLUSIVE: Mayor knew of flood risk', key: 'mayor knew of flood risk' },
    { name: '[WATCH]', title: '[WATCH] Storm hits the coast', key: 'storm hits the coast' },
    { name: 'stacked tags', title: 'BREAKING: EXCLUSIVE: Mayor knew of flood risk', key: 'mayor knew of flood risk' },
    { name: '"Live updates:" is part of the headline', title: 'Live updates: Storm hits the coast', key: 'live updates storm hits the coast' },
    { name: 'a headline starting with the word Update is not a tag', title: 'Update on the budget talks', key: 'update on the budget talks' },
    { name: 'a tag alone stays (nothing else to key on)', title: 'BREAKING:', key: 'breaking' },
    // Site suffixes
    { name: '" - Publisher"', title: 'Storm hits the coast - The Daily Courier', key: 'storm hits the coast' },
    { name: '" | Site"', title: 'Storm hits the coast | Gazette', key: 'storm hits the coast' },
    { name: '" — Site" (em dash)', title: 'Storm hits the coast — Tampa Bay Times', key: 'storm hits the coast' },
    { name: 'a four-word suffix is removed', title: 'Storm hits the coast - The New York Times', key: 'storm hits the coast' },
    { name: 'a five-word segment is headline, kept', title: 'Storm hits the coast - thousands lose power in Tampa', key: 'storm hits the coast thousands lose power in tampa' },
    { name: 'only the last segment goes', title: 'Storm - what we know - Gazette', key: 'storm what we know' },
    { name: 'never cut to a single word', title: 'Obituary - John Smith', key: 'obituary john smith' },
    { name: 'a dash without spaces is no separator', title: 'Senate passes COVID-19 bill-of-rights', key: 'senate passes covid 19 bill of rights' },
    { name: 'tag and suffix together', title: 'BREAKING: Storm hits the coast | WXYZ News', key: 'storm hits the coast' },
    // Degenerate input
    { name: 'empty', title: '', key: '' },
    { name: 'punctuation only', title: '—!?', key: '' },
  ])('$name', ({ title, key }) => {
    expect(titleKey(title)).toBe(key);
  });

  it('gives one key for one wire headline as five papers dress it', () => {
    const keys = new Set(
      [
        'Storm slams Florida coast, leaving 400,000 without power',
        'BREAKING: Storm slams Florida coast, leaving 400,000 without power - The Ledger',
        'Storm slams Florida coast, leaving 400,000 without power | Tampa Bay Times',
        '“Storm slams Florida coast, leaving 400,000 without power”',
        'STORM SLAMS FLORIDA COAST, LEAVING 400,000 WITHOUT POWER — WTSP',
      ].map(titleKey),
    );
    expect([...keys]).toEqual(['storm slams florida coast leaving 400 000 without power']);
  });
});

describe('foldWords', () => {
  it.each([
    { name: 'empty', text: '', words: [] },
    { name: 'mixed', text: 'L’Œuvre de Zoë: 5 stars!', words: ['loeuvre', 'de', 'zoe', '5', 'stars'] },
    { name: 'compatibility forms (ligature, full-width)', text: 'ﬁnal ＣＯＵＮＴ', words: ['final', 'count'] },
    { name: 'digits and letters of other scripts', text: 'Токио 2020 東京', words: ['токио', '2020', '東京'] },
  ])('$name', ({ text, words }) => {
    expect(foldWords(text)).toEqual(words);
  });
});

describe('titleJaccard', () => {
  it.each([
    { name: 'equal', a: 'storm hits the coast', b: 'storm hits the coast', j: 1 },
    { name: 'disjoint', a: 'storm hits coast', b: 'election night results', j: 0 },
    { name: 'live-updates pattern', a: 'live updates storm hits the coast', b: 'live updates election night', j: 2 / 8 },
    { name: 'one word added', a: 'storm hits the coast', b: 'storm hits the gulf coast', j: 4 / 5 },
    { name: 'repeated words count once', a: 'no no no', b: 'no', j: 1 },
    { name: 'empty side', a: '', b: 'storm', j: 0 },
    { name: 'both empty', a: '', b: '', j: 0 },
  ])('$name', ({ a, b, j }) => {
    expect(titleJaccard(a, b)).toBeCloseTo(j, 10);
  });
});
