import { describe, expect, it } from 'vitest';
import { readStripPattern, stripContent, stripPatternProblem } from '../../src/ingest/strip-content.js';

// The boilerplate of the example: an aggregator republishing a publisher's story.
const VIEW_LINE =
  '<p>We support our Publishers and Content Creators. You can view this story on their website by <a href="https://www.dailyplanet.example/world/2024/05/01/storm?utm_source=newsnow">CLICKING HERE</a>.</p>';
const APP_LINE = '<p><strong>CLICK HERE TO GET THE NEWS NOW APP</strong></p>';
const AGGREGATOR_PATTERNS = ['You can view this story on their website', 'CLICK HERE TO GET THE'];

describe('stripContent: text patterns', () => {
  it.each([
    {
      name: "the issue's aggregator item: both boilerplate paragraphs go, the story stays",
      html: `<p>A storm hit the coast on Tuesday.</p>${VIEW_LINE}<p>Residents were evacuated.</p>${APP_LINE}`,
      patterns: AGGREGATOR_PATTERNS,
      expected: '<p>A storm hit the coast on Tuesday.</p><p>Residents were evacuated.</p>',
    },
    {
      name: 'case-insensitive',
      html: '<p>Story.</p><p>click here to get the News Now app</p>',
      patterns: ['CLICK HERE TO GET THE'],
      expected: '<p>Story.</p>',
    },
    {
      name: 'pattern split by inline markup still matches its paragraph',
      html: '<p>Story.</p><p>You can <em>view</em> this story on <a href="https://p.example/a">their website</a></p>',
      patterns: ['You can view this story on their website'],
      expected: '<p>Story.</p>',
    },
    {
      name: 'entities and no-break spaces fold to the text they show',
      html: '<p>Story.</p><p>CLICK&nbsp;HERE TO&#32;GET   THE&#x20;APP</p>',
      patterns: ['click here to get the'],
      expected: '<p>Story.</p>',
    },
    {
      name: 'curly apostrophes match straight ones',
      html: '<p>Story.</p><p>Publisher’s note: sponsored.</p>',
      patterns: ["publisher's note"],
      expected: '<p>Story.</p>',
    },
    {
      name: 'smallest block: the list item, not the list',
      html: '<ul><li>First point</li><li>Sponsored: buy this</li><li>Last point</li></ul>',
      patterns: ['Sponsored:'],
      expected: '<ul><li>First point</li><li>Last point</li></ul>',
    },
    {
      name: 'smallest block: the paragraph inside a div, and the div left empty goes too',
      html: '<div class="story"><p>Story.</p></div><div class="footer"><p>CLICK HERE TO GET THE APP</p></div>',
      patterns: ['CLICK HERE TO GET THE'],
      expected: '<div class="story"><p>Story.</p></div>',
    },
    {
      name: 'a div with other content keeps it when its matching paragraph goes',
      html: '<div><p>Story.</p><p>CLICK HERE TO GET THE APP</p></div>',
      patterns: ['CLICK HERE TO GET THE'],
      expected: '<div><p>Story.</p></div>',
    },
    {
      name: 'blockquote, figure caption and heading are blocks',
      html: '<h2>Download our app today</h2><figure><img src="a.jpg"><figcaption>Photo: Download our app today</figcaption></figure><blockquote>Quote</blockquote>',
      patterns: ['download our app'],
      expected: '<figure><img src="a.jpg"></figure><blockquote>Quote</blockquote>',
    },
    {
      name: 'loose text in no block: just the text is cut',
      html: 'A storm hit the coast. Get the app now! Residents were evacuated.',
      patterns: ['Get the app now!'],
      expected: 'A storm hit the coast.  Residents were evacuated.',
    },
    {
      name: 'loose text across a link: the text is cut and the emptied link goes',
      html: 'Story text. You can view this story on their website by <a href="https://p.example/a">CLICKING HERE</a>.',
      patterns: ['You can view this story on their website by clicking here'],
      expected: 'Story text. .',
    },
    {
      name: 'loose text with entities keeps the rest escaped',
      html: 'Fish &amp; chips &lt;3 Advertisement more',
      patterns: ['Advertisement'],
      expected: 'Fish &amp; chips &lt;3  more',
    },
    {
      name: 'every occurrence is removed',
      html: '<p>Advertisement</p><p>Story.</p><p>ADVERTISEMENT</p>',
      patterns: ['advertisement'],
      expected: '<p>Story.</p>',
    },
    {
      name: 'a pattern never matches across two paragraphs',
      html: '<p>you can view this</p><p>story on their website</p>',
      patterns: ['view this story on their website'],
      expected: '<p>you can view this</p><p>story on their website</p>',
    },
    {
      name: 'a pattern never matches across a line break',
      html: '<p>Click here to<br>get the app</p>',
      patterns: ['to get the app'],
      expected: '<p>Click here to<br>get the app</p>',
    },
    {
      name: 'text inside script or style is not story text',
      html: '<p>Story.</p><script>var s = "click here to get the app";</script>',
      patterns: ['click here to get the'],
      expected: '<p>Story.</p><script>var s = "click here to get the app";</script>',
    },
    {
      name: 'attribute values are not text',
      html: '<p><a href="https://p.example/?q=advertisement">Story</a></p>',
      patterns: ['advertisement'],
      expected: '<p><a href="https://p.example/?q=advertisement">Story</a></p>',
    },
    {
      name: 'a table cell emptied by a removal keeps the table whole',
      html: '<table><tr><td><p>Advertisement</p></td><td>Score 2-1</td></tr></table>',
      patterns: ['advertisement'],
      expected: '<table><tr><td></td><td>Score 2-1</td></tr></table>',
    },
    {
      name: 'patterns that are too short are ignored',
      html: '<p>Story about an ad.</p>',
      patterns: ['ad'],
      expected: '<p>Story about an ad.</p>',
    },
  ])('$name', ({ html, patterns, expected }) => {
    expect(stripContent(html, patterns)).toBe(expected);
  });
});

describe('stripContent: css patterns', () => {
  it.each([
    {
      name: 'class selector',
      html: '<p>Story.</p><div class="share-bar">Share on <a href="https://x.example/s">X</a></div>',
      patterns: ['css:.share-bar'],
      expected: '<p>Story.</p>',
    },
    {
      name: 'attribute selector on links to the app store, with their emptied paragraph',
      html: '<p>Story.</p><p><a href="https://apps.example/newsnow">Get the app</a></p>',
      patterns: ['css:a[href*="apps.example"]'],
      expected: '<p>Story.</p>',
    },
    {
      name: ':has() picks the paragraph around a link',
      html: '<p>Story with <a href="https://p.example/x">a link</a>.</p><p>More at <a href="https://agg.example/more">our site</a></p>',
      patterns: ['css:p:has(a[href^="https://agg.example"])'],
      expected: '<p>Story with <a href="https://p.example/x">a link</a>.</p>',
    },
    {
      name: 'child combinator and several matches',
      html: '<aside><p>Ad one</p></aside><p>Story.</p><aside><p>Ad two</p></aside>',
      patterns: ['css:aside > p'],
      expected: '<p>Story.</p>',
    },
    {
      name: 'prefix in capitals',
      html: '<p>Story.</p><div class="promo">Promo</div>',
      patterns: ['CSS: div.promo'],
      expected: '<p>Story.</p>',
    },
    {
      name: 'nothing matches: the HTML comes back exactly as given',
      html: '<p>Story&nbsp;text with <b>bold<i>unclosed</p><!-- note -->',
      patterns: ['css:.promo', 'Advertisement'],
      expected: '<p>Story&nbsp;text with <b>bold<i>unclosed</p><!-- note -->',
    },
    {
      name: 'an invalid selector strips nothing and does not throw',
      html: '<p>Story.</p>',
      patterns: ['css:div[', 'css:'],
      expected: '<p>Story.</p>',
    },
    {
      name: 'text and css patterns together',
      html: `<p>Story.</p>${VIEW_LINE}<div class="app">${APP_LINE}</div>`,
      patterns: ['You can view this story on their website', 'css:.app'],
      expected: '<p>Story.</p>',
    },
  ])('$name', ({ html, patterns, expected }) => {
    expect(stripContent(html, patterns)).toBe(expected);
  });
});

describe('stripContent: hostile and empty input never throws', () => {
  it.each([
    { name: 'empty string', html: '' },
    { name: 'only whitespace', html: '  \n ' },
    { name: 'stray closing tags', html: '</div></p>CLICK HERE TO GET THE APP</span>' },
    { name: 'unclosed tags', html: '<div><p>CLICK HERE TO GET THE APP<div><span>' },
    { name: 'angle brackets as text', html: '<<<>>> 1 < 2 > 0 CLICK HERE TO GET THE APP' },
    { name: 'unterminated attribute', html: '<a href="https://p.example/x>CLICK HERE TO GET THE APP' },
    { name: 'deep nesting', html: '<div>'.repeat(2000) + 'CLICK HERE TO GET THE APP' + '</div>'.repeat(2000) },
    { name: 'no patterns', html: '<p>CLICK HERE TO GET THE APP</p>', patterns: [] },
  ])('$name', ({ html, patterns = ['CLICK HERE TO GET THE', 'css:.x'] }) => {
    const out = stripContent(html, patterns);
    expect(typeof out).toBe('string');
    if (patterns.length > 0) expect(out.toLowerCase()).not.toContain('click here to get the');
    else expect(out).toBe(html);
  });
});

describe('stripPatternProblem and readStripPattern', () => {
  it.each([
    { name: 'plain text', raw: 'You can view this story', kind: 'text', problem: null },
    { name: 'four characters is enough', raw: ' Ads: ', kind: 'text', problem: null },
    { name: 'three characters is too short', raw: ' ad ', kind: 'text', problem: /too short/ },
    { name: 'css selector', raw: 'css:div.promo > a', kind: 'css', problem: null },
    { name: 'css prefix with spaces', raw: '  css:  .promo ', kind: 'css', problem: null },
    { name: 'empty css selector', raw: 'css:', kind: 'css', problem: /empty CSS selector/ },
    { name: 'broken css selector', raw: 'css:p[', kind: 'css', problem: /not a valid CSS selector/ },
    { name: 'unknown pseudo-class', raw: 'css:p:ad', kind: 'css', problem: /Unknown pseudo-class :ad/ },
  ])('$name', ({ raw, kind, problem }) => {
    expect(readStripPattern(raw).kind).toBe(kind);
    const found = stripPatternProblem(raw);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toMatch(problem);
  });
});
