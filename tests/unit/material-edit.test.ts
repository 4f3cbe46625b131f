import { describe, expect, it } from 'vitest';
import {
  changedWords,
  editDistance,
  isMaterialEdit,
  normalizeTitle,
  textWords,
  type EditVersion,
} from '../../src/ingest/material-edit.js';

// A 300-word story as a publisher's feed carries it (sanitised HTML, links with tracking, an image).
const PARAGRAPHS = [
  'The city council voted on Tuesday night to approve a new budget for the harbour district, ending months of debate over how to pay for repairs to the ageing sea wall and the ferry terminal that depends on it.',
  'Council members passed the plan by seven votes to four after a session that lasted almost five hours. Supporters said the money would protect homes and businesses along the waterfront from the storms that have grown stronger in recent years.',
  '“We cannot keep patching a wall that was built for a different century,” said the council’s finance chair, who introduced the proposal in the spring. She said the first contracts could be signed before the end of the year.',
  'Opponents argued that the plan relies too heavily on a temporary increase in parking fees and a loan from the regional development bank. They warned that residents in other neighbourhoods would end up paying for work that mainly benefits the harbour.',
  'The ferry operator welcomed the vote. A spokesperson said the company had been forced to cancel crossings several times last winter because waves washed over the damaged sections of the wall and flooded the boarding area.',
  'Engineers hired by the city estimated last year that the wall could fail within a decade without major work. Their report recommended replacing the oldest stretch entirely and reinforcing the rest with new concrete and steel.',
  'The budget also sets aside money for a study of the district’s drainage system, which residents say backs up during heavy rain. A public meeting on the study is planned for next month at the library on Quay Street.',
  'The mayor, who had supported the plan from the start, is expected to sign the budget later this week. The regional government must still approve the loan before construction can begin, a process that usually takes several months.',
];

function story(paragraphs: readonly string[], opts: { utm?: string; img?: string; markup?: 'p' | 'div' } = {}): string {
  const tag = opts.markup ?? 'p';
  const link = `<a href="https://paper.example/harbour/budget?utm_source=${opts.utm ?? 'rss'}&amp;utm_medium=feed" rel="nofollow noopener">the full budget</a>`;
  const img = `<img src="${opts.img ?? 'https://cdn.paper.example/img/wall-800.jpg'}" alt="The sea wall" />`;
  return [`<figure>${img}</figure>`, ...paragraphs.map((p, i) => `<${tag}>${p}${i === 1 ? ` Read ${link}.` : ''}</${tag}>`)].join('\n');
}

const TITLE = 'Council approves harbour budget after five-hour debate';
const BASE = story(PARAGRAPHS);
const words = textWords(BASE).length;

function withParagraph(i: number, replace: (p: string) => string): string[] {
  return PARAGRAPHS.map((p, j) => (j === i ? replace(p) : p));
}

const NEW_PARAGRAPH =
  'Late on Wednesday the regional development bank said it would review the loan application at its next board meeting, and a spokesperson added that similar requests from coastal towns had been approved in the past two years.';

interface Case {
  readonly name: string;
  readonly before?: Partial<EditVersion>;
  readonly after: Partial<EditVersion>;
  readonly material: boolean;
  readonly reason?: RegExp;
}

function run({ before, after }: Case) {
  return isMaterialEdit({ title: TITLE, html: BASE, ...before }, { title: TITLE, html: BASE, ...after });
}

describe('the fixture', () => {
  it('is a story of about 300 words', () => {
    expect(words).toBeGreaterThanOrEqual(290);
    expect(words).toBeLessThanOrEqual(320);
  });
});

describe('isMaterialEdit: trivial changes are never edits', () => {
  it.each<Case>([
    { name: 'nothing changed', after: {}, material: false, reason: /only markup/ },
    { name: 'whitespace and line breaks in the HTML', after: { html: BASE.replace(/\n/g, '\n\n   ').replace(/ the /g, '  the\n') }, material: false },
    { name: 'markup only: <p> became <div>, emphasis added', after: { html: story(PARAGRAPHS, { markup: 'div' }).replace('seven votes', '<strong>seven</strong> votes') }, material: false },
    { name: 'tracking parameters in links changed', after: { html: story(PARAGRAPHS, { utm: 'newsletter-2024-05-14' }) }, material: false },
    { name: 'a link target changed entirely', after: { html: BASE.replace('https://paper.example/harbour/budget', 'https://paper.example/go/8812') }, material: false },
    { name: 'image URL changed (new CDN, resized)', after: { html: story(PARAGRAPHS, { img: 'https://img.cdn-two.example/w_1200,c_fill/wall.webp' }) }, material: false },
    { name: 'image added or removed', after: { html: BASE.replace(/<figure>.*?<\/figure>/, '') }, material: false },
    { name: 'attributes reordered', after: { html: BASE.replace('<img src="https://cdn.paper.example/img/wall-800.jpg" alt="The sea wall" />', '<img alt="The sea wall" src="https://cdn.paper.example/img/wall-800.jpg">') }, material: false },
    { name: 'curly quotes became straight quotes in the text', after: { html: BASE.replace(/[“”]/g, '"').replace(/’/g, "'") }, material: false },
    { name: 'entities instead of characters', after: { html: BASE.replace(/“/g, '&ldquo;').replace(/”/g, '&#8221;').replace(/’/g, '&rsquo;') }, material: false },
    { name: 'non-breaking spaces and soft hyphens', after: { html: BASE.replace('harbour district', 'harbour&nbsp;district').replace('neighbourhoods', 'neigh&shy;bour&shy;hoods') }, material: false },
    { name: 'punctuation only: commas added, a full stop fixed', after: { html: BASE.replace('On Tuesday', 'On Tuesday,').replace('almost five hours.', 'almost five hours,').replace('spring. She', 'spring, she') }, material: false },
    { name: 'the HTML comment a CMS adds', after: { html: `${BASE}<!-- generated 2024-05-14T10:32:00Z -->` }, material: false },
  ])('$name', (c) => {
    const verdict = run(c);
    expect(verdict.material).toBe(c.material);
    if (c.reason) expect(verdict.reason).toMatch(c.reason);
  });
});

describe('isMaterialEdit: the title', () => {
  it.each<Case>([
    { name: 'a changed number in the headline', before: { title: 'Storm kills 12 along the coast' }, after: { title: 'Storm kills 15 along the coast' }, material: true, reason: /title changed: "Storm kills 12 along the coast" -> "Storm kills 15 along the coast"/ },
    { name: 'a reworded headline', after: { title: 'Council backs harbour budget after long debate' }, material: true, reason: /^title changed/ },
    { name: 'a word added to the headline', after: { title: `${TITLE}, mayor to sign` }, material: true },
    { name: 'curly vs straight quotes', before: { title: 'Mayor: “We can’t wait”' }, after: { title: 'Mayor: "We can\'t wait"' }, material: false },
    { name: 'whitespace around and inside', before: { title: '  Council  approves harbour\nbudget ' }, after: { title: 'Council approves harbour budget' }, material: false },
    { name: 'en dash, em dash, hyphen, double hyphen', before: { title: 'Budget passes – mayor to sign' }, after: { title: 'Budget passes -- mayor to sign' }, material: false },
    { name: 'hyphen spacing', before: { title: 'Budget passes—mayor to sign' }, after: { title: 'Budget passes - mayor to sign' }, material: false },
    { name: 'an escaped ampersand vs a plain one', before: { title: 'Fish &amp; chips shop reopens' }, after: { title: 'Fish & chips shop reopens' }, material: false },
    { name: 'Title Case became Sentence case', before: { title: 'Council Approves Harbour Budget' }, after: { title: 'Council approves harbour budget' }, material: false },
    { name: 'ellipsis character vs three dots', before: { title: 'And then…' }, after: { title: 'And then...' }, material: false },
    { name: 'a title over an unchanged text is judged first', after: { title: 'Harbour budget approved', html: story(PARAGRAPHS, { utm: 'x' }) }, material: true, reason: /^title changed/ },
  ])('$name', (c) => {
    const verdict = run(c);
    expect(verdict.material).toBe(c.material);
    if (c.reason) expect(verdict.reason).toMatch(c.reason);
  });
});

describe('isMaterialEdit: the text of a 300-word story', () => {
  it.each<Case>([
    // A corrected typo is the commonest silent fix; a revision per typo would bury the real edits.
    { name: 'a corrected typo is not an edit', before: { html: story(withParagraph(3, (p) => p.replace('heavily', 'heavilly'))) }, after: {}, material: false, reason: /minor text change: 1 of \d+ words/ },
    { name: 'three scattered typos fixed are not an edit', before: { html: story(withParagraph(0, (p) => p.replace('approve', 'aprove')).map((p, i) => (i === 4 ? p.replace('welcomed', 'welcommed') : i === 6 ? p.replace('drainage', 'drainnage') : p))) }, after: {}, material: false, reason: /3 of/ },
    { name: 'a misspelt name corrected (two words) is not an edit', before: { html: story(withParagraph(7, (p) => p.replace('The mayor,', 'The mayer Jon,'))) }, after: { html: story(withParagraph(7, (p) => p.replace('The mayor,', 'The mayor John,'))) }, material: false },
    // hnrss.org-style live counters: the description changes on every poll.
    { name: 'a figure changed in the body alone is not an edit (live counters, see isMaterialEdit)', after: { html: story(withParagraph(1, (p) => p.replace('seven votes to four', 'eight votes to four'))) }, material: false },
    { name: 'a new paragraph is an edit', after: { html: story([...PARAGRAPHS.slice(0, 5), NEW_PARAGRAPH, ...PARAGRAPHS.slice(5)]) }, material: true, reason: /text changed: 37 of \d+ words/ },
    { name: 'a paragraph removed is an edit', after: { html: story(PARAGRAPHS.filter((_, i) => i !== 3)) }, material: true },
    { name: 'a one-sentence update at the end is an edit', after: { html: story([...PARAGRAPHS, 'The finance chair did not respond to a request for comment.']) }, material: true, reason: /text changed: 11 of/ },
    { name: 'a sentence rewritten (8 changed words: the threshold) is an edit', after: { html: story(withParagraph(4, (p) => p.replace('The ferry operator welcomed the vote.', 'The ferry operator, which had lobbied for the repairs, called the vote overdue.'))) }, material: true },
    { name: 'a clause of four words reworded is not an edit', after: { html: story(withParagraph(2, (p) => p.replace('before the end of the year', 'before the winter storms arrive'))) }, material: false },
    { name: 'the summary replaced by the full story is an edit', before: { html: `<p>${PARAGRAPHS[0]}</p>` }, after: {}, material: true },
    { name: 'text appearing where there was none is an edit', before: { html: null }, after: {}, material: true },
    { name: 'both without text, same title', before: { html: null }, after: { html: '<p> </p><img src="https://cdn.example/a.jpg">' }, material: false, reason: /no text/ },
  ])('$name', (c) => {
    const verdict = run(c);
    expect(verdict.material).toBe(c.material);
    if (c.reason) expect(verdict.reason).toMatch(c.reason);
  });
});

describe('isMaterialEdit: short and long texts', () => {
  const summary = '<p>The city council approved a new budget for the harbour district on Tuesday, ending months of debate over the ageing sea wall.</p>';
  const long = story([...PARAGRAPHS, ...PARAGRAPHS, ...PARAGRAPHS, ...PARAGRAPHS, ...PARAGRAPHS, ...PARAGRAPHS, ...PARAGRAPHS, ...PARAGRAPHS, ...PARAGRAPHS, ...PARAGRAPHS]);
  it.each<Case>([
    { name: 'a 22-word summary with one word fixed is not an edit', before: { html: summary }, after: { html: summary.replace('ageing', 'aging') }, material: false },
    { name: 'a 22-word summary with four words rewritten is an edit (18%)', before: { html: summary }, after: { html: summary.replace('ending months of debate', 'closing a long fight') }, material: true, reason: /an edit from 4\)/ },
    { name: 'a 5-word dek with two words changed is an edit', before: { html: '<p>Vote ends months of debate</p>' }, after: { html: '<p>Vote ends years of argument</p>' }, material: true },
    { name: 'a 3,000-word story with a new paragraph is an edit (about 1%)', before: { html: long }, after: { html: `${long}<p>${NEW_PARAGRAPH}</p>` }, material: true },
    { name: 'a 3,000-word story with a typo fixed is not an edit', before: { html: long }, after: { html: long.replace('heavily', 'heavilly') }, material: false },
  ])('$name', (c) => {
    const verdict = run(c);
    expect(verdict.material).toBe(c.material);
    if (c.reason) expect(verdict.reason).toMatch(c.reason);
  });

  it('a completely different 20,000-word text is an edit, decided without a full diff', () => {
    const a = Array.from({ length: 20_000 }, (_, i) => `alpha${i}`).join(' ');
    const b = Array.from({ length: 20_000 }, (_, i) => `beta${i}`).join(' ');
    const started = performance.now();
    const verdict = isMaterialEdit({ title: TITLE, html: `<p>${a}</p>` }, { title: TITLE, html: `<p>${b}</p>` });
    expect(verdict).toEqual({ material: true, reason: expect.stringMatching(/text changed: at least 201 of 20000 words/) });
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe('isMaterialEdit: scripts written without spaces', () => {
  const zh = '<p>市议会周二晚间投票批准了港口区的新预算，结束了数月来关于如何支付老化海堤和渡轮码头维修费用的争论。</p>';
  it.each<Case>([
    { name: 'one character corrected in Chinese is not an edit', before: { html: zh }, after: { html: zh.replace('晚间', '晚上') }, material: false },
    { name: 'a Chinese sentence added is an edit', before: { html: zh }, after: { html: `${zh}<p>市长预计将于本周晚些时候签署预算。</p>` }, material: true },
  ])('$name', (c) => {
    expect(run(c).material).toBe(c.material);
  });
});

describe('normalizeTitle and textWords', () => {
  it.each([
    { name: 'quotes, dashes, case, spacing', input: '  “Don’t Panic” — Says  Mayor ', expected: '"don\'t panic"-says mayor' },
    { name: 'full-width forms and ligatures (NFKC)', input: 'ＡＢＣ ﬁnal', expected: 'abc final' },
    { name: 'zero-width characters', input: 'break\u200bing\u00ad news\ufeff', expected: 'breaking news' },
    { name: 'guillemets', input: '«Oui» dit-il', expected: '"oui" dit-il' },
  ])('normalizeTitle: $name', ({ input, expected }) => {
    expect(normalizeTitle(input)).toBe(expected);
  });

  it.each([
    { name: 'numbers with separators stay one word', html: '<p>1,200 people at 10:32, 3.5% and 24/7</p>', expected: ['1,200', 'people', 'at', '10:32', '3.5', 'and', '24/7'] },
    { name: 'hyphens split, apostrophes join', html: '<p>well‑known doesn’t</p>', expected: ['well', 'known', "doesn't"] },
    { name: 'accents and marks stay in the word', html: '<p>Naïve café crème</p>', expected: ['naïve', 'café', 'crème'] },
    { name: 'block boundaries separate words', html: '<p>end</p><p>start</p>', expected: ['end', 'start'] },
    { name: 'scripts and styles are not text', html: '<p>a</p><script>var x = 1</script><style>p{}</style>', expected: ['a'] },
    { name: 'Japanese counts per character', html: '<p>東京で雨</p>', expected: ['東', '京', 'で', '雨'] },
    { name: 'null', html: null, expected: [] },
  ])('textWords: $name', ({ html, expected }) => {
    expect(textWords(html)).toEqual(expected);
  });
});

describe('editDistance (bounded Myers) agrees with a full LCS table', () => {
  // Insertions + deletions = |a| + |b| - 2 * LCS.
  function reference(a: readonly string[], b: readonly string[]): number {
    const dp: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
    for (let i = 1; i <= a.length; i++) {
      for (let j = 1; j <= b.length; j++) {
        dp[i]![j] = a[i - 1] === b[j - 1] ? dp[i - 1]![j - 1]! + 1 : Math.max(dp[i - 1]![j]!, dp[i]![j - 1]!);
      }
    }
    return a.length + b.length - 2 * dp[a.length]![b.length]!;
  }
  // A small deterministic generator (no Math.random: a failure must reproduce).
  function sequences(seed: number): [string[], string[]] {
    let s = seed;
    const next = () => ((s = (s * 1103515245 + 12345) % 2147483648), s);
    const alphabet = ['a', 'b', 'c', 'd'];
    const mk = () => Array.from({ length: next() % 12 }, () => alphabet[next() % alphabet.length]!);
    return [mk(), mk()];
  }

  it.each(Array.from({ length: 300 }, (_, i) => ({ name: `seed ${i}`, seed: i + 1 })))('$name', ({ seed }) => {
    const [a, b] = sequences(seed);
    const expected = reference(a, b);
    expect(editDistance(a, b, 100)).toBe(expected);
    // Bounded below the answer, it says "more than that" instead of a wrong number.
    if (expected > 0) expect(editDistance(a, b, expected - 1)).toBeNull();
    expect(editDistance(a, b, expected)).toBe(expected);
  });

  it.each([
    { name: 'equal', a: ['x', 'y'], b: ['x', 'y'], expected: { words: 0, atLeast: false } },
    { name: 'one word replaced counts once', a: ['x', 'y', 'z'], b: ['x', 'q', 'z'], expected: { words: 1, atLeast: false } },
    { name: 'three words added', a: ['x'], b: ['x', 'p', 'q', 'r'], expected: { words: 3, atLeast: false } },
    { name: 'two removed, one added', a: ['x', 'p', 'q', 'z'], b: ['x', 'r', 'z'], expected: { words: 2, atLeast: false } },
    { name: 'past the limit', a: ['a', 'b', 'c', 'd'], b: ['e', 'f', 'g', 'h'], limit: 2, expected: { words: 3, atLeast: true } },
  ])('changedWords: $name', ({ a, b, limit, expected }) => {
    expect(changedWords(a, b, limit ?? 50)).toEqual(expected);
  });
});
