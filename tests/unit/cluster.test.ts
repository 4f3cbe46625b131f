import { describe, expect, it } from 'vitest';
import {
  canonicalHostOf,
  decideCluster,
  DEFAULT_CLUSTER_RULES,
  maxClusterDistance,
  type ClusterCandidate,
} from '../../src/ingest/cluster.js';
import { hammingDistance, simhash } from '../../src/ingest/simhash.js';
import { titleKey } from '../../src/ingest/title-key.js';

// Realistic texts (written for these tests, modelled on agency copy). The distances between them
// are the measurements the thresholds in src/ingest/cluster.ts are justified on.

const WIRE = `MIAMI (AP) — A powerful storm slammed into the Florida coast early Tuesday, tearing roofs from homes, flooding low-lying neighborhoods and leaving more than 400,000 customers without electricity, officials said. The storm made landfall near Cedar Key shortly after 3 a.m. with sustained winds of 105 mph, the National Hurricane Center said, and was expected to weaken as it moved inland over northern Florida and southern Georgia through the day. "This is a dangerous storm and it is not over," Gov. Ron DeSantis said at a morning briefing in Tallahassee, urging residents in evacuation zones to stay put until emergency crews had cleared roads. Storm surge of up to 8 feet was reported in parts of Levy and Dixie counties, where sheriff's deputies used boats to reach families who had ignored evacuation orders. No deaths had been confirmed by midmorning, but officials warned that the toll of damage would not be clear until daylight allowed crews to survey the coast from the air. Utility companies said they had staged thousands of line workers from as far away as Texas and Ohio and expected to restore power to most customers within three days, though some rural areas could wait a week or longer. The storm is the third to strike Florida this season, which forecasters had predicted would be unusually active because of record-warm water in the Gulf of Mexico. Schools in 20 counties were closed on Tuesday, and several airports, including Tampa International, suspended flights until at least the afternoon. Forecasters said heavy rain could cause flash flooding in Georgia and the Carolinas later in the week as the remnants of the storm moved northeast. Associated Press writers in Tallahassee and Atlanta contributed to this report.`;

const SENTENCES = WIRE.split('. ');
/** The wire story with its last sentences cut, as papers trim agency copy to fit. */
const trimmed = (keep: number): string => SENTENCES.slice(0, Math.round(SENTENCES.length * keep)).join('. ');

const BYLINE = `By The Associated Press. ${WIRE} Copyright 2025 The Associated Press. All rights reserved. This material may not be published, broadcast, rewritten or redistributed.`;
const TRIM10 = trimmed(0.9);
const TRIM30 = trimmed(0.7);
const TRIM50 = trimmed(0.5);
const EDITED = WIRE.replace('MIAMI (AP) — ', 'MIAMI — ')
  .replace('Tuesday', 'Tuesday morning')
  .replace('105 mph', '105 miles per hour')
  .replace('Associated Press writers in Tallahassee and Atlanta contributed to this report.', 'Staff writer Jane Doe contributed to this report.');
const FIRST_SENTENCE = SENTENCES[0] ?? '';

const ELECTION = `Polls have closed across the eastern half of the country and the first results are coming in on a night that will decide control of the Senate and a string of closely watched governor's races. Follow our live coverage for the latest results, analysis from our reporters in the key states and reaction from the candidates' headquarters. Turnout appeared high in early-voting counties, election officials said, with long lines reported at some polling places in suburban Atlanta and Philadelphia after a surge of voters arriving after work. In Pennsylvania, where the Senate race is considered a tossup, officials warned that counting mail ballots could take until Wednesday. The first races to watch are in Virginia and Georgia, where results from rural counties usually arrive first and can give an early picture that changes as ballots from the cities are counted. Both parties spent heavily in the final week, and strategists said the outcome could hinge on a few thousand votes in a handful of suburban counties. We will update this page throughout the night as results are reported and races are called by the Associated Press.`;

const STORM_LIVE = `Follow our live coverage as a powerful storm hits the Florida coast. The storm made landfall near Cedar Key early Tuesday with winds of 105 mph, and more than 400,000 customers are without power. We will update this page throughout the day with the latest on evacuations, road closures and damage reports from our reporters across the state. Officials urged residents in evacuation zones to stay indoors until emergency crews have cleared the roads. Schools in 20 counties are closed and Tampa International Airport has suspended flights. Send us your photos and videos of the storm, but only if it is safe to do so.`;

const MARKETS_MON = `Stocks rose on Monday as investors weighed a fresh batch of corporate earnings and looked ahead to inflation data due later in the week. The S&P 500 gained 0.6 percent, the Dow Jones Industrial Average added 210 points, or 0.5 percent, and the Nasdaq composite climbed 0.9 percent. Technology shares led the advance after a chipmaker reported stronger-than-expected sales, while energy stocks fell as oil prices slipped below $78 a barrel. Treasury yields were little changed, with the 10-year note at 4.21 percent. In Europe, the Stoxx 600 closed up 0.3 percent, and in Asia, Japan's Nikkei rose 1.1 percent. Investors are watching Wednesday's consumer price report for signs that inflation is cooling enough for the Federal Reserve to cut interest rates at its next meeting.`;

const MARKETS_TUE = `Stocks fell on Tuesday as investors weighed disappointing results from two large retailers and looked ahead to inflation data due on Wednesday. The S&P 500 lost 0.4 percent, the Dow Jones Industrial Average dropped 150 points, or 0.4 percent, and the Nasdaq composite slipped 0.7 percent. Retail shares led the decline after a department store chain cut its forecast for the year, while bank stocks rose as Treasury yields climbed. The 10-year note rose to 4.29 percent. In Europe, the Stoxx 600 closed down 0.2 percent, and in Asia, Hong Kong's Hang Seng fell 1.3 percent. Investors are watching Wednesday's consumer price report for signs that inflation is cooling enough for the Federal Reserve to cut interest rates at its next meeting.`;

const FOLLOWUP = `The death toll from the storm that slammed into the Florida coast on Tuesday rose to six on Wednesday as crews reached isolated communities along the Big Bend, officials said. Four of the dead were found in Levy County, where storm surge of up to 8 feet swept through mobile home parks, the county sheriff said. Two men died in Georgia when trees fell on their vehicles. More than 250,000 customers were still without power on Wednesday evening, down from a peak of more than 400,000. Utility companies said they had staged thousands of line workers from as far away as Texas and Ohio and expected to restore power to most customers within three days, though some rural areas could wait a week or longer. Gov. Ron DeSantis toured the damage by helicopter and said the state would seek a federal disaster declaration for 15 counties. The storm is the third to strike Florida this season, which forecasters had predicted would be unusually active because of record-warm water in the Gulf of Mexico.`;

// ~20-word summaries, as summary-only feeds carry them.
const SUM = 'A powerful storm slammed into the Florida coast early Tuesday, tearing roofs from homes and leaving more than 400,000 customers without electricity.';
const SUM_AP = `MIAMI (AP) — ${SUM}`;
const SUM_1W = SUM.replace('early Tuesday', 'on Tuesday');
const MKT_MON_SHORT = 'Stocks rose on Monday as investors weighed corporate earnings. The S&P 500 gained 0.6 percent and the Nasdaq climbed 0.9 percent.';
const MKT_TUE_SHORT = 'Stocks fell on Tuesday as investors weighed retail earnings. The S&P 500 lost 0.4 percent and the Nasdaq slipped 0.7 percent.';
const LIVE_STORM_SHORT = 'Follow our live updates for the latest news as the storm hits the coast. Check back here for updates throughout the day.';
const LIVE_ELECTION_SHORT = 'Follow our live updates for the latest news as election night unfolds. Check back here for updates throughout the night.';

const H = 3_600_000;
const T0 = Date.parse('2025-09-30T07:00:00Z');

/** A story as the pipeline would hand it over: fingerprints computed from title and text. */
function story(id: string, host: string | null, title: string, text: string, hours = 0, clusterId: string | null = null): ClusterCandidate {
  return {
    id,
    clusterId,
    titleKey: titleKey(title),
    simhash: simhash(text),
    publishedAt: new Date(T0 + hours * H),
    textLength: text.length,
    canonicalHost: host,
  };
}

const STORM_TITLE = 'Storm slams Florida coast, leaving 400,000 without power';

describe('measured distances (the figures quoted in src/ingest/cluster.ts)', () => {
  it.each([
    { name: 'wire vs wire + byline/copyright lines', a: WIRE, b: BYLINE, d: 6 },
    { name: 'wire vs last 10% trimmed', a: WIRE, b: TRIM10, d: 2 },
    { name: 'wire vs last 30% trimmed', a: WIRE, b: TRIM30, d: 10 },
    { name: 'wire vs dateline/credit/wording edits', a: WIRE, b: EDITED, d: 7 },
    { name: 'byline version vs 30%-trimmed version', a: BYLINE, b: TRIM30, d: 14 },
    { name: 'wire vs last 50% trimmed', a: WIRE, b: TRIM50, d: 15 },
    { name: 'markets column Monday vs Tuesday', a: MARKETS_MON, b: MARKETS_TUE, d: 25 },
    { name: 'wire vs the same paper’s follow-up', a: WIRE, b: FOLLOWUP, d: 29 },
    { name: 'storm live blog vs election live blog', a: STORM_LIVE, b: ELECTION, d: 34 },
    { name: 'wire vs its own first sentence', a: WIRE, b: FIRST_SENTENCE, d: 33 },
    { name: 'short: verbatim summary', a: SUM, b: SUM, d: 0 },
    { name: 'short: summary with the dateline', a: SUM, b: SUM_AP, d: 5 },
    { name: 'short: one word changed', a: SUM, b: SUM_1W, d: 10 },
    { name: 'short: two live-updates template blurbs', a: LIVE_STORM_SHORT, b: LIVE_ELECTION_SHORT, d: 12 },
    { name: 'short: two markets template blurbs', a: MKT_MON_SHORT, b: MKT_TUE_SHORT, d: 19 },
  ])('$name: $d', ({ a, b, d }) => {
    expect(hammingDistance(simhash(a), simhash(b))).toBe(d);
  });

  it('texts called long or short here are on that side of the rules’ boundary', () => {
    for (const t of [WIRE, BYLINE, TRIM10, TRIM30, TRIM50, EDITED, ELECTION, STORM_LIVE, MARKETS_MON, MARKETS_TUE, FOLLOWUP]) {
      expect(t.length).toBeGreaterThanOrEqual(DEFAULT_CLUSTER_RULES.longTextChars);
    }
    for (const t of [FIRST_SENTENCE, SUM, SUM_AP, SUM_1W, MKT_MON_SHORT, MKT_TUE_SHORT, LIVE_STORM_SHORT, LIVE_ELECTION_SHORT]) {
      expect(t.length).toBeLessThan(DEFAULT_CLUSTER_RULES.longTextChars);
      expect(t.length).toBeGreaterThanOrEqual(DEFAULT_CLUSTER_RULES.minTextChars);
    }
  });
});

describe('decideCluster: one agency story on five newspapers', () => {
  it('forms one cluster whose id is the earliest member’s, whatever each paper did to the copy', () => {
    const papers = [
      story('ledger-1', 'theledger.example', STORM_TITLE, WIRE, 0),
      story('tbt-1', 'tampabay.example', `${STORM_TITLE} | Tampa Bay Times`, BYLINE, 0.5),
      story('courier-1', 'courier.example', `BREAKING: ${STORM_TITLE} - The Courier`, TRIM30, 1),
      story('gazette-1', 'gazette.example', STORM_TITLE.toUpperCase(), EDITED, 2),
      story('wtsp-1', 'wtsp.example', `“${STORM_TITLE}” — WTSP`, TRIM10, 3),
      // Half the copy cut: only close enough together with the headline (rule "similar text and title").
      story('herald-1', 'herald.example', `${STORM_TITLE} - Herald`, TRIM50, 4),
    ];
    const stored: ClusterCandidate[] = [];
    const decisions: (string | null)[] = [];
    for (const p of papers) {
      const d = decideCluster(p, stored);
      decisions.push(d.clusterWith);
      // What setCluster does: the story joins, the root carries its own id.
      const joined = d.clusterWith;
      for (let i = 0; i < stored.length; i++) {
        const s = stored[i];
        if (s && joined && s.id === joined && s.clusterId === null) stored[i] = { ...s, clusterId: joined };
      }
      stored.push({ ...p, clusterId: joined });
    }
    expect(decisions).toEqual([null, 'ledger-1', 'ledger-1', 'ledger-1', 'ledger-1', 'ledger-1']);
    expect(new Set(stored.map((s) => s.clusterId))).toEqual(new Set(['ledger-1']));
  });
});

interface Case {
  name: string;
  story: ClusterCandidate;
  candidates: ClusterCandidate[];
  expected: string | null;
  reason: RegExp;
}

const cases: Case[] = [
  // Similar headlines, different stories: must not merge.
  {
    name: '"Live updates: Storm hits the coast" vs "Live updates: Election night" (different text)',
    story: story('s', 'b.example', 'Live updates: Storm hits the coast', STORM_LIVE, 1),
    candidates: [story('e', 'a.example', 'Live updates: Election night', ELECTION, 0)],
    expected: null,
    reason: /no match among 1 candidates \(closest text: e at distance 34\)/,
  },
  {
    name: 'two "Live updates" template blurbs (short): texts as close as an edit, headlines differ',
    story: story('s', 'b.example', 'Live updates: Storm hits the coast', LIVE_STORM_SHORT, 1),
    candidates: [story('e', 'a.example', 'Live updates: Election night', LIVE_ELECTION_SHORT, 0)],
    expected: null,
    reason: /closest text: e at distance 12/,
  },
  {
    name: 'two "Markets today" columns on consecutive days (same headline, templated text)',
    story: story('tue', 'b.example', 'Markets today', MARKETS_TUE, 24),
    candidates: [story('mon', 'a.example', 'Markets today', MARKETS_MON, 0)],
    expected: null,
    reason: /distance 25/,
  },
  {
    name: 'two "Markets today" columns even 2 h apart (same headline, text too different)',
    story: story('tue', 'b.example', 'Markets today', MARKETS_TUE, 2),
    candidates: [story('mon', 'a.example', 'Markets today', MARKETS_MON, 0)],
    expected: null,
    reason: /distance 25/,
  },
  {
    name: 'two short "Markets today" summaries, same headline, same morning',
    story: story('tue', 'b.example', 'Markets today', MKT_TUE_SHORT, 1),
    candidates: [story('mon', 'a.example', 'Markets today', MKT_MON_SHORT, 0)],
    expected: null,
    reason: /distance 19/,
  },
  // The same publisher.
  {
    name: 'the same publisher’s own follow-up (shares two paragraphs)',
    story: story('fu', 'a.example', 'Storm death toll rises to six', FOLLOWUP, 30),
    candidates: [story('w', 'a.example', STORM_TITLE, WIRE, 0)],
    expected: null,
    reason: /no comparable candidate among 1/,
  },
  {
    name: 'a follow-up against other papers’ copies of the original story',
    story: story('fu', 'a.example', 'Storm death toll rises to six', FOLLOWUP, 30),
    candidates: [story('w', 'b.example', STORM_TITLE, WIRE, 0, 'w'), story('w2', 'c.example', STORM_TITLE, TRIM10, 1, 'w')],
    expected: null,
    reason: /distance 27/,
  },
  {
    name: 'the same publisher, identical text under a second URL: never clustered (identity rules’ business)',
    story: story('a2', 'a.example', STORM_TITLE, WIRE, 1),
    candidates: [story('a1', 'a.example', STORM_TITLE, WIRE, 0)],
    expected: null,
    reason: /no comparable candidate/,
  },
  {
    name: 'the same publisher again: a cluster already holding its story is closed to it',
    story: story('a2', 'a.example', STORM_TITLE, WIRE, 2),
    candidates: [story('a1', 'a.example', STORM_TITLE, WIRE, 0, 'a1'), story('b1', 'b.example', STORM_TITLE, TRIM10, 1, 'a1')],
    expected: null,
    reason: /no comparable candidate among 2/,
  },
  {
    name: 'www. and bare host are one publisher',
    story: story('a2', canonicalHostOf('https://www.a.example/story-2'), STORM_TITLE, WIRE, 1),
    candidates: [story('a1', canonicalHostOf('https://a.example/story-1'), STORM_TITLE, WIRE, 0)],
    expected: null,
    reason: /no comparable candidate/,
  },
  {
    name: 'two link-less stories: the publisher cannot be told apart, so no clustering',
    story: story('x2', null, STORM_TITLE, WIRE, 1),
    candidates: [story('x1', null, STORM_TITLE, WIRE, 0)],
    expected: null,
    reason: /no comparable candidate/,
  },
  {
    name: 'a link-less story and a linked one may cluster',
    story: story('x2', null, STORM_TITLE, WIRE, 1),
    candidates: [story('a1', 'a.example', STORM_TITLE, WIRE, 0)],
    expected: 'a1',
    reason: /same text with a1 \(distance 0/,
  },
  // Time.
  {
    name: 'the same text 30 h later (a weekly prints the wire story next day)',
    story: story('s', 'b.example', 'Florida recovers from storm', TRIM10, 30),
    candidates: [story('w', 'a.example', STORM_TITLE, WIRE, 0)],
    expected: 'w',
    reason: /same text with w \(distance 2/,
  },
  {
    name: 'the same text 3 days later is another news cycle',
    story: story('s', 'b.example', STORM_TITLE, WIRE, 72),
    candidates: [story('w', 'a.example', STORM_TITLE, WIRE, 0)],
    expected: null,
    reason: /no match/,
  },
  {
    name: 'half-trimmed copy, same headline, 2 h apart',
    story: story('s', 'b.example', STORM_TITLE, TRIM50, 2),
    candidates: [story('w', 'a.example', STORM_TITLE, WIRE, 0)],
    expected: 'w',
    reason: /similar text and title with w \(distance 15, title similarity 1\.00\)/,
  },
  {
    name: 'half-trimmed copy, same headline, 20 h apart: headline help only within 12 h',
    story: story('s', 'b.example', STORM_TITLE, TRIM50, 20),
    candidates: [story('w', 'a.example', STORM_TITLE, WIRE, 0)],
    expected: null,
    reason: /distance 15/,
  },
  // Headlines.
  {
    name: 'half-trimmed copy re-headlined, key words kept (Jaccard 0.58)',
    story: story('s', 'b.example', 'Storm slams Florida coast, knocking out power to 400,000', TRIM50, 1),
    candidates: [story('w', 'a.example', STORM_TITLE, WIRE, 0)],
    expected: 'w',
    reason: /similar text and title with w \(distance 15, title similarity 0\.58\)/,
  },
  {
    name: 'half-trimmed copy under an unrelated headline: not enough text agreement alone',
    story: story('s', 'b.example', 'Third storm of the season: what we know', TRIM50, 1),
    candidates: [story('w', 'a.example', STORM_TITLE, WIRE, 0)],
    expected: null,
    reason: /distance 15/,
  },
  {
    name: 'lightly edited full copy under a new headline: the text decides',
    story: story('s', 'b.example', 'Hurricane crashes ashore near Cedar Key', EDITED, 1),
    candidates: [story('w', 'a.example', STORM_TITLE, WIRE, 0)],
    expected: 'w',
    reason: /same text with w \(distance 7/,
  },
  // Short texts.
  {
    name: 'short: the agency summary with and without dateline, same headline',
    story: story('s', 'b.example', STORM_TITLE, SUM_AP, 1),
    candidates: [story('w', 'a.example', `${STORM_TITLE} - AP News`, SUM, 0)],
    expected: 'w',
    reason: /short text, same title with w \(distance 5/,
  },
  {
    name: 'short: one word changed, same headline',
    story: story('s', 'b.example', STORM_TITLE, SUM_1W, 1),
    candidates: [story('w', 'a.example', STORM_TITLE, SUM, 0)],
    expected: 'w',
    reason: /short text, same title with w \(distance 10/,
  },
  {
    name: 'short: the same summary under a different headline (title agreement required)',
    story: story('s', 'b.example', 'Third storm of the season makes landfall', SUM_AP, 1),
    candidates: [story('w', 'a.example', STORM_TITLE, SUM, 0)],
    expected: null,
    reason: /distance 5/,
  },
  {
    name: 'short: the same summary and headline a day later',
    story: story('s', 'b.example', STORM_TITLE, SUM, 24),
    candidates: [story('w', 'a.example', STORM_TITLE, SUM, 0)],
    expected: null,
    reason: /distance 0/,
  },
  {
    name: 'a 30-word summary vs the full story, same headline: too little shared text (a missed merge, accepted)',
    story: story('s', 'b.example', STORM_TITLE, FIRST_SENTENCE, 1),
    candidates: [story('w', 'a.example', STORM_TITLE, WIRE, 0)],
    expected: null,
    reason: /distance 33/,
  },
  {
    name: 'title-only items with the same headline: no text to compare',
    story: story('s', 'b.example', STORM_TITLE, '', 1),
    candidates: [story('w', 'a.example', STORM_TITLE, '', 0)],
    expected: null,
    reason: /text too short to compare \(0 < 60 characters\)/,
  },
  {
    name: 'a candidate without text is skipped',
    story: story('s', 'b.example', STORM_TITLE, WIRE, 1),
    candidates: [story('w', 'a.example', STORM_TITLE, '', 0)],
    expected: null,
    reason: /no match among 1/,
  },
  // Which cluster.
  {
    name: 'joins the candidate’s cluster, not the candidate',
    story: story('s', 'c.example', STORM_TITLE, WIRE, 2),
    candidates: [story('b', 'b.example', STORM_TITLE, TRIM10, 1, 'root')],
    expected: 'root',
    reason: /same text with b/,
  },
  {
    name: 'the closest text wins among two clusters',
    story: story('s', 'c.example', STORM_TITLE, TRIM10, 2),
    candidates: [story('y', 'b.example', STORM_TITLE, TRIM30, 0, 'Y'), story('x', 'a.example', STORM_TITLE, WIRE, 1, 'X')],
    expected: 'X',
    reason: /same text with x \(distance 2/,
  },
  {
    name: 'the story itself among the candidates is ignored',
    story: story('s', 'c.example', STORM_TITLE, WIRE, 2),
    candidates: [story('s', 'b.example', STORM_TITLE, WIRE, 2)],
    expected: null,
    reason: /no comparable candidate/,
  },
  {
    name: 'a candidate with a malformed SimHash is skipped, not a crash',
    story: story('s', 'b.example', STORM_TITLE, WIRE, 1),
    candidates: [{ ...story('w', 'a.example', STORM_TITLE, WIRE, 0), simhash: 'not-a-hash' }],
    expected: null,
    reason: /no comparable candidate/,
  },
  {
    name: 'a candidate with an invalid date is skipped',
    story: story('s', 'b.example', STORM_TITLE, WIRE, 1),
    candidates: [{ ...story('w', 'a.example', STORM_TITLE, WIRE, 0), publishedAt: new Date(Number.NaN) }],
    expected: null,
    reason: /no match/,
  },
  {
    name: 'no candidates',
    story: story('s', 'b.example', STORM_TITLE, WIRE, 1),
    candidates: [],
    expected: null,
    reason: /no comparable candidate among 0/,
  },
];

describe('decideCluster', () => {
  it.each(cases)('$name', ({ story: s, candidates, expected, reason }) => {
    const d = decideCluster(s, candidates);
    expect(d.clusterWith).toBe(expected);
    expect(d.reason).toMatch(reason);
  });

  it.each([
    { name: 'malformed SimHash', over: { simhash: 'XYZ' }, reason: /no valid SimHash/ },
    { name: 'invalid date', over: { publishedAt: new Date('garbage') }, reason: /no valid publication time/ },
  ])('a story with a $name gets no cluster and says why', ({ over, reason }) => {
    const s = { ...story('s', 'b.example', STORM_TITLE, WIRE, 1), ...over };
    const d = decideCluster(s, [story('w', 'a.example', STORM_TITLE, WIRE, 0)]);
    expect(d.clusterWith).toBeNull();
    expect(d.reason).toMatch(reason);
  });

  it.each([
    { name: 'a narrower window', opts: { windowMs: 12 * H }, expected: null },
    { name: 'a stricter text bound', opts: { textDistance: 1 }, expected: null },
    { name: 'the defaults', opts: {}, expected: 'w' },
  ])('rules can be overridden: $name', ({ opts, expected }) => {
    const s = story('s', 'b.example', 'Florida recovers from storm', TRIM10, 30);
    expect(decideCluster(s, [story('w', 'a.example', STORM_TITLE, WIRE, 0)], opts).clusterWith).toBe(expected);
  });

  it('maxClusterDistance is the loosest distance any rule accepts', () => {
    expect(maxClusterDistance()).toBe(16);
    expect(maxClusterDistance({ ...DEFAULT_CLUSTER_RULES, shortTextDistance: 20 })).toBe(20);
  });
});

describe('canonicalHostOf', () => {
  it.each([
    { name: 'plain', url: 'https://news.example.com/a', host: 'news.example.com' },
    { name: 'www. dropped', url: 'https://www.example.com/a', host: 'example.com' },
    { name: 'case folded', url: 'HTTPS://WWW.Example.COM/a', host: 'example.com' },
    { name: 'port ignored', url: 'http://example.com:8080/a', host: 'example.com' },
    { name: 'null', url: null, host: null },
    { name: 'empty', url: '', host: null },
    { name: 'not a URL', url: 'not a url', host: null },
  ])('$name', ({ url, host }) => {
    expect(canonicalHostOf(url)).toBe(host);
  });
});
