import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { didYouMean, editDistance } from '../../src/did-you-mean.js';
import type { RiverConfig } from '../../src/domain.js';
import {
  formatProblem,
  loadFeedsFile,
  parseFeedsYaml,
  type ConfigProblem,
} from '../../src/sources.js';
import { parseByteSize, parseDuration } from '../../src/durations.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The problems as `line:col: message`, in the order reported. */
function problemsOf(yaml: string): string[] {
  const result = parseFeedsYaml(yaml, 'feeds.yaml');
  if (result.ok) return [];
  return result.problems.map((p) => `${p.line}:${p.col}: ${p.message}`);
}

function configOf(yaml: string): RiverConfig {
  const result = parseFeedsYaml(yaml, 'feeds.yaml');
  if (!result.ok) throw new Error(`expected valid config, got:\n${result.problems.map(formatProblem).join('\n')}`);
  return result.config;
}

/** Lines joined with newlines; keeps the line numbers in expectations easy to count. */
const lines = (...ls: string[]): string => ls.join('\n') + '\n';

describe('parseFeedsYaml: each rule reports its message at the right line:col', () => {
  it.each([
    // --- document shape ---
    {
      name: 'empty file',
      yaml: '',
      problems: ['1:1: the file is empty; expected a mapping with a "feeds" list (use "feeds: []" for none)'],
    },
    {
      name: 'comments only',
      yaml: '# nothing here\n',
      problems: ['1:1: the file is empty; expected a mapping with a "feeds" list (use "feeds: []" for none)'],
    },
    {
      name: 'top level is a list',
      yaml: lines('- id: a', '  url: https://a.example/feed'),
      problems: ['1:1: the top level must be a mapping with title, settings and feeds, got a list'],
    },
    {
      name: 'top level is a scalar',
      yaml: lines('# a comment', 'hello'),
      problems: ['2:1: the top level must be a mapping with title, settings and feeds, got "hello"'],
    },
    {
      name: 'feeds missing',
      yaml: lines('title: River'),
      problems: ['1:1: missing required key "feeds" (a list of feeds; use "feeds: []" for none)'],
    },
    {
      name: 'feeds empty value',
      yaml: lines('title: River', 'feeds:'),
      problems: ['2:1: feeds must be a list, got nothing; use "feeds: []" for an empty river'],
    },
    {
      name: 'feeds is a mapping',
      yaml: lines('feeds:', '  id: a'),
      problems: ['2:3: feeds must be a list, got a mapping'],
    },
    {
      name: 'feed entry is not a mapping',
      yaml: lines('feeds:', '  - https://a.example/feed'),
      problems: ['2:5: feeds[0] must be a mapping with at least id and url, got "https://a.example/feed"'],
    },
    {
      name: 'settings is not a mapping',
      yaml: lines('settings: fast', 'feeds: []'),
      problems: ['1:11: settings must be a mapping, got "fast"'],
    },
    // --- YAML syntax ---
    {
      name: 'YAML syntax error stops validation',
      yaml: lines('feeds:', '  - id: a', '    url: [https://a.example', '  - id: b', 'titel: x'),
      problems: [
        '4:3: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
      ],
    },
    {
      name: 'duplicate key is reported and validation goes on',
      yaml: lines('title: A', 'title: B', 'feeds: []', 'colour: red'),
      problems: [
        '2:1: duplicate key "title"; a key may appear only once in a mapping',
        '4:1: unknown key "colour" at top level; known keys are title, base_url, settings, feeds, rivers',
      ],
    },
    // --- unknown keys ---
    {
      name: 'unknown top-level key with suggestion',
      yaml: lines('titel: River', 'feeds: []'),
      problems: ['1:1: unknown key "titel" at top level; did you mean "title"?'],
    },
    {
      name: 'camelCase spelling of a snake_case key',
      yaml: lines('baseUrl: https://river.example', 'feeds: []'),
      problems: ['1:1: unknown key "baseUrl" at top level; did you mean "base_url"?'],
    },
    {
      name: 'setting written at the top level',
      yaml: lines('every: 5m', 'feeds: []'),
      problems: ['1:1: unknown key "every" at top level; did you mean "settings.every"?'],
    },
    {
      name: 'unknown setting with suggestion',
      yaml: lines('settings:', '  concurency: 4', 'feeds: []'),
      problems: ['2:3: unknown key "concurency" in settings; did you mean "concurrency"?'],
    },
    {
      name: 'unknown feed key with suggestion (the brief example)',
      yaml: lines(
        'feeds:',
        '  - id: a',
        '    url: https://a.example/feed',
        '  - id: b',
        '    url: https://b.example/feed',
        '  - id: c',
        '    url: https://c.example/feed',
        '    homepge: https://c.example',
      ),
      problems: ['8:5: unknown key "homepge" in feeds[2]; did you mean "homepage"?'],
    },
    {
      name: 'transposed letters still suggest',
      yaml: lines('feeds:', '  - id: a', '    url: https://a.example/feed', '    nmae: A'),
      problems: ['4:5: unknown key "nmae" in feeds[0]; did you mean "name"?'],
    },
    {
      name: 'unknown feed key without a close match lists the known keys',
      yaml: lines('feeds:', '  - id: a', '    url: https://a.example/feed', '    colour: blue'),
      problems: ['4:5: unknown key "colour" in feeds[0]; known keys are id, url, name, homepage, tags, every, enabled, adaptive, kind, content, strip, resolve_canonical'],
    },
    // --- required keys and ids ---
    {
      name: 'missing id points at the entry',
      yaml: lines('feeds:', '  - url: https://a.example/feed'),
      problems: ['2:5: feeds[0] is missing required key "id"'],
    },
    {
      name: 'missing url points at the entry',
      yaml: lines('feeds:', '  - name: A', '    id: a'),
      problems: ['2:5: feeds[0] is missing required key "url"'],
    },
    {
      name: 'empty id points at the key',
      yaml: lines('feeds:', '  - url: https://a.example/feed', '    id:'),
      problems: ['3:5: feeds[0] is missing required key "id"'],
    },
    {
      name: 'id with upper case',
      yaml: lines('feeds:', '  - id: Fox-News', '    url: https://a.example/feed'),
      problems: [
        '2:9: feeds[0].id "Fox-News" is not a valid id; use 1-64 lower-case letters, digits, "-" or "_", starting with a letter or digit',
      ],
    },
    {
      name: 'id starting with a dash',
      yaml: lines('feeds:', '  - id: "-a"', '    url: https://a.example/feed'),
      problems: [
        '2:9: feeds[0].id "-a" is not a valid id; use 1-64 lower-case letters, digits, "-" or "_", starting with a letter or digit',
      ],
    },
    {
      name: 'id longer than 64 characters',
      yaml: lines('feeds:', `  - id: ${'a'.repeat(65)}`, '    url: https://a.example/feed'),
      problems: [
        `2:9: feeds[0].id "${'a'.repeat(65)}" is not a valid id; use 1-64 lower-case letters, digits, "-" or "_", starting with a letter or digit`,
      ],
    },
    {
      name: 'numeric id must be quoted',
      yaml: lines('feeds:', '  - id: 2600', '    url: https://a.example/feed'),
      problems: ['2:9: feeds[0].id must be a string, got number 2600; put it in quotes if it is meant as text'],
    },
    {
      name: 'duplicate id points at the second and names the first line',
      yaml: lines(
        'feeds:',
        '  - id: same',
        '    url: https://a.example/feed',
        '  - id: other',
        '    url: https://b.example/feed',
        '  - id: same',
        '    url: https://c.example/feed',
      ),
      problems: ['6:9: duplicate id "same" in feeds[2]; first used by feeds[0] on line 2'],
    },
    // --- URLs ---
    {
      name: 'url with a non-http scheme',
      yaml: lines('feeds:', '  - id: a', '    url: ftp://a.example/feed'),
      problems: ['3:10: feeds[0].url must be an absolute http or https URL, got "ftp://a.example/feed"'],
    },
    {
      name: 'relative url',
      yaml: lines('feeds:', '  - id: a', '    url: /feed.xml'),
      problems: ['3:10: feeds[0].url must be an absolute http or https URL, got "/feed.xml"'],
    },
    {
      name: 'url that is not a URL',
      yaml: lines('feeds:', '  - id: a', '    url: the npr feed'),
      problems: ['3:10: feeds[0].url must be an absolute http or https URL, got "the npr feed"'],
    },
    {
      name: 'url that is a list',
      yaml: lines('feeds:', '  - id: a', '    url: [https://a.example/feed]'),
      problems: ['3:10: feeds[0].url must be a string, got a list'],
    },
    {
      name: 'bad homepage',
      yaml: lines('feeds:', '  - id: a', '    url: https://a.example/feed', '    homepage: www.a.example'),
      problems: ['4:15: feeds[0].homepage must be an absolute http or https URL, got "www.a.example"'],
    },
    {
      name: 'bad base_url',
      yaml: lines('base_url: river.example.com', 'feeds: []'),
      problems: ['1:11: base_url must be an absolute http or https URL, got "river.example.com"'],
    },
    {
      name: 'base_url with a query',
      yaml: lines('base_url: https://river.example/?x=1', 'feeds: []'),
      problems: ['1:11: base_url must not have a query or fragment, got "https://river.example/?x=1"'],
    },
    // --- durations, sizes, numbers ---
    {
      name: 'duration that is not a duration',
      yaml: lines('feeds:', '  - id: a', '    url: https://a.example/feed', '    every: 15 minutes'),
      problems: [
        '4:12: feeds[0].every must be a duration like 30s, 15m, 2h, 1d or 1h30m, or a number of seconds, got "15 minutes"',
      ],
    },
    {
      name: 'poll interval below 10s',
      yaml: lines('settings:', '  every: 5s', 'feeds: []'),
      problems: ['2:10: settings.every must be between 10s and 7d, got "5s"'],
    },
    {
      name: 'poll interval in seconds below 10s',
      yaml: lines('settings:', '  every: 9', 'feeds: []'),
      problems: ['2:10: settings.every must be between 10s and 7d, got number 9'],
    },
    {
      name: 'poll interval above 7d',
      yaml: lines('feeds:', '  - id: a', '    url: https://a.example/feed', '    every: 8d'),
      problems: ['4:12: feeds[0].every must be between 10s and 7d, got "8d"'],
    },
    {
      name: 'timeout of zero',
      yaml: lines('settings:', '  timeout: 0s', 'feeds: []'),
      problems: ['2:12: settings.timeout must be between 1s and 10m, got "0s"'],
    },
    {
      name: 'timeout above 10m',
      yaml: lines('settings:', '  timeout: 11m', 'feeds: []'),
      problems: ['2:12: settings.timeout must be between 1s and 10m, got "11m"'],
    },
    {
      name: 'size with a lower-case unit',
      yaml: lines('settings:', '  max_body: 10mb', 'feeds: []'),
      problems: [
        '2:13: settings.max_body must be a size like 10MiB, 512KB or a number of bytes (units B, KB, KiB, MB, MiB, GB, GiB), got "10mb"',
      ],
    },
    {
      name: 'size too small to hold a feed',
      yaml: lines('settings:', '  max_body: 100', 'feeds: []'),
      problems: ['2:13: settings.max_body must be between 1024 bytes and 1073741824 bytes, got number 100'],
    },
    {
      name: 'concurrency of zero',
      yaml: lines('settings:', '  concurrency: 0', 'feeds: []'),
      problems: ['2:16: settings.concurrency must be between 1 and 64, got number 0'],
    },
    {
      name: 'concurrency above 64',
      yaml: lines('settings:', '  concurrency: 65', 'feeds: []'),
      problems: ['2:16: settings.concurrency must be between 1 and 64, got number 65'],
    },
    {
      name: 'concurrency as text',
      yaml: lines('settings:', '  concurrency: "8"', 'feeds: []'),
      problems: ['2:16: settings.concurrency must be a whole number, got "8"'],
    },
    {
      name: 'concurrency with a fraction',
      yaml: lines('settings:', '  concurrency: 1.5', 'feeds: []'),
      problems: ['2:16: settings.concurrency must be a whole number, got number 1.5'],
    },
    // --- wrong types ---
    {
      name: 'tags as a single string',
      yaml: lines('feeds:', '  - id: a', '    url: https://a.example/feed', '    tags: politics'),
      problems: ['4:11: feeds[0].tags must be a list of strings, got "politics"'],
    },
    {
      name: 'tags with a number and an empty string',
      yaml: lines('feeds:', '  - id: a', '    url: https://a.example/feed', '    tags: [news, 42, " "]'),
      problems: [
        '4:18: feeds[0].tags[1] must be a non-empty string, got number 42',
        '4:22: feeds[0].tags[2] must be a non-empty string, got " "',
      ],
    },
    {
      name: 'enabled as yes (YAML 1.2 has no yes)',
      yaml: lines('feeds:', '  - id: a', '    url: https://a.example/feed', '    enabled: yes'),
      problems: ['4:14: feeds[0].enabled must be true or false, got "yes"'],
    },
    {
      name: 'allow_private_networks as a number',
      yaml: lines('settings:', '  allow_private_networks: 1', 'feeds: []'),
      problems: ['2:27: settings.allow_private_networks must be true or false, got number 1'],
    },
    {
      name: 'name as a list',
      yaml: lines('feeds:', '  - id: a', '    url: https://a.example/feed', '    name: [A, B]'),
      problems: ['4:11: feeds[0].name must be a string, got a list'],
    },
    {
      name: 'title as a number',
      yaml: lines('title: 1843', 'feeds: []'),
      problems: ['1:8: title must be a string, got number 1843; put it in quotes if it is meant as text'],
    },
  ])('$name', ({ yaml, problems }) => {
    expect(problemsOf(yaml)).toEqual(problems);
  });
});

describe('parseFeedsYaml: kind, content, strip and resolve_canonical (issue #4)', () => {
  /** A one-feed file with the given extra lines; the extra lines start at line 4. */
  const feed = (...extra: string[]): string => lines('feeds:', '  - id: a', '    url: https://a.example/feed', ...extra);

  it.each([
    { name: 'kind publisher', extra: ['    kind: publisher'], expected: { kind: 'publisher' } },
    { name: 'kind aggregator', extra: ['    kind: aggregator'], expected: { kind: 'aggregator' } },
    { name: 'kind left empty takes the default', extra: ['    kind:'], expected: { kind: 'publisher' } },
    { name: 'content full', extra: ['    content: full'], expected: { content: 'full' } },
    { name: 'content summary', extra: ['    content: summary'], expected: { content: 'summary' } },
    { name: 'content none', extra: ['    content: none'], expected: { content: 'none' } },
    { name: 'resolve_canonical true', extra: ['    resolve_canonical: true'], expected: { resolveCanonical: true } },
    { name: 'resolve_canonical false', extra: ['    resolve_canonical: false'], expected: { resolveCanonical: false } },
    { name: 'strip empty list', extra: ['    strip: []'], expected: { strip: [] } },
    { name: 'strip empty value', extra: ['    strip:'], expected: { strip: [] } },
    {
      name: 'strip text patterns, trimmed, in order',
      extra: ['    strip:', '      - "  You can view this story on their website "', '      - CLICK HERE TO GET THE'],
      expected: { strip: ['You can view this story on their website', 'CLICK HERE TO GET THE'] },
    },
    {
      name: 'strip css patterns: prefix in any case, selector trimmed',
      extra: ['    strip: ["css:.share-bar", "CSS:  aside.promo > p ", "css:p:has(> a[href*=\'app.example\'])"]'],
      expected: { strip: ['css:.share-bar', 'css:aside.promo > p', "css:p:has(> a[href*='app.example'])"] },
    },
    {
      name: 'strip duplicates dropped',
      extra: ['    strip: ["Sponsored", "css:.ad", "Sponsored", "css: .ad"]'],
      expected: { strip: ['Sponsored', 'css:.ad'] },
    },
    {
      name: 'strip list shared through an anchor',
      extra: ['    strip: &boiler ["CLICK HERE TO GET THE"]'],
      expected: { strip: ['CLICK HERE TO GET THE'] },
    },
  ])('$name', ({ extra, expected }) => {
    expect(configOf(feed(...extra)).feeds[0]).toMatchObject(expected);
  });

  it.each([
    {
      name: 'misspelt kind suggests the word',
      extra: ['    kind: agregator'],
      problems: ['4:11: feeds[0].kind must be one of publisher, aggregator, got "agregator"; did you mean "aggregator"?'],
    },
    {
      name: 'kind in capitals suggests the lower-case word',
      extra: ['    kind: Aggregator'],
      problems: ['4:11: feeds[0].kind must be one of publisher, aggregator, got "Aggregator"; did you mean "aggregator"?'],
    },
    {
      name: 'kind that is no kind lists the choices',
      extra: ['    kind: newspaper'],
      problems: ['4:11: feeds[0].kind must be one of publisher, aggregator, got "newspaper"'],
    },
    {
      name: 'kind as a boolean',
      extra: ['    kind: true'],
      problems: ['4:11: feeds[0].kind must be one of publisher, aggregator, got boolean true'],
    },
    {
      name: 'misspelt content suggests the word',
      extra: ['    content: summery'],
      problems: ['4:14: feeds[0].content must be one of full, summary, none, got "summery"; did you mean "summary"?'],
    },
    {
      name: 'content that is no policy lists the choices',
      extra: ['    content: excerpt'],
      problems: ['4:14: feeds[0].content must be one of full, summary, none, got "excerpt"'],
    },
    {
      name: 'content as a list',
      extra: ['    content: [full]'],
      problems: ['4:14: feeds[0].content must be one of full, summary, none, got a list'],
    },
    {
      name: 'resolve_canonical as yes',
      extra: ['    resolve_canonical: yes'],
      problems: ['4:24: feeds[0].resolve_canonical must be true or false, got "yes"'],
    },
    {
      name: 'camelCase resolveCanonical suggests the key',
      extra: ['    resolveCanonical: true'],
      problems: ['4:5: unknown key "resolveCanonical" in feeds[0]; did you mean "resolve_canonical"?'],
    },
    {
      name: 'misspelt strip key suggests the key',
      extra: ['    stirp: ["Sponsored"]'],
      problems: ['4:5: unknown key "stirp" in feeds[0]; did you mean "strip"?'],
    },
    {
      name: 'strip as a single string suggests a list',
      extra: ['    strip: CLICK HERE TO GET THE'],
      problems: ['4:12: feeds[0].strip must be a list of text or css:SELECTOR patterns, got "CLICK HERE TO GET THE"; write a list, e.g. ["CLICK HERE TO GET THE"]'],
    },
    {
      name: 'strip as a mapping',
      extra: ['    strip:', '      text: Sponsored'],
      problems: ['5:7: feeds[0].strip must be a list of text or css:SELECTOR patterns, got a mapping'],
    },
    {
      name: 'strip item with an unquoted colon is a mapping: quote it',
      extra: ['    strip:', '      - Source: NewsNow'],
      problems: ['5:9: feeds[0].strip[0] must be a non-empty string, got a mapping; put the pattern in quotes (an unquoted ": " makes it a YAML mapping)'],
    },
    {
      name: 'strip item that is a number',
      extra: ['    strip: ["Sponsored", 404]'],
      problems: ['4:26: feeds[0].strip[1] must be a non-empty string, got number 404; put it in quotes if it is meant as text'],
    },
    {
      name: 'strip item that is blank',
      extra: ['    strip: ["  "]'],
      problems: ['4:13: feeds[0].strip[0] must be a non-empty string, got "  "'],
    },
    {
      name: 'strip text too short to be safe',
      extra: ['    strip: ["ad"]'],
      problems: ['4:13: feeds[0].strip[0] "ad" is too short to strip safely (at least 4 characters; every paragraph containing it is removed)'],
    },
    {
      name: 'strip css with an empty selector',
      extra: ['    strip: ["css:  "]'],
      problems: ['4:13: feeds[0].strip[0] "css:" has an empty CSS selector after "css:"'],
    },
    {
      name: 'strip css selector cut short, reported at its own line',
      extra: ['    strip:', '      - "Sponsored"', '      - "css:div["'],
      problems: ['6:9: feeds[0].strip[1] "css:div[" is not a valid CSS selector: Expected name, found the end of the selector'],
    },
    {
      name: 'strip css selector with an unknown pseudo-class',
      extra: ['    strip: ["css:p:promo"]'],
      problems: ['4:13: feeds[0].strip[0] "css:p:promo" is not a valid CSS selector: Unknown pseudo-class :promo'],
    },
    {
      name: 'strip css selector with a pseudo-element',
      extra: ['    strip: ["css:p::after"]'],
      problems: ['4:13: feeds[0].strip[0] "css:p::after" is not a valid CSS selector: Pseudo-elements are not supported by css-select'],
    },
    {
      name: 'strip css selector with an unclosed :not(',
      extra: ['    strip: ["css:p:not(.keep"]'],
      problems: ['4:13: feeds[0].strip[0] "css:p:not(.keep" is not a valid CSS selector: Missing closing parenthesis in :not (p:not(.keep)'],
    },
    {
      name: 'every bad strip item is reported, each at its own place',
      extra: ['    strip:', '      - "ok pattern"', '      - "css:>>"', '      - "no"'],
      problems: [
        '6:9: feeds[0].strip[1] "css:>>" is not a valid CSS selector: Did not expect successive traversals.',
        '7:9: feeds[0].strip[2] "no" is too short to strip safely (at least 4 characters; every paragraph containing it is removed)',
      ],
    },
  ])('$name', ({ extra, problems }) => {
    expect(problemsOf(feed(...extra))).toEqual(problems);
  });
});

describe('parseFeedsYaml: duplicate feed URLs', () => {
  it.each([
    { name: 'identical', first: 'https://a.example/feed', second: 'https://a.example/feed', duplicate: true },
    { name: 'host case differs', first: 'https://a.example/feed', second: 'https://A.Example/feed', duplicate: true },
    { name: 'scheme case differs', first: 'https://a.example/feed', second: 'HTTPS://a.example/feed', duplicate: true },
    { name: 'default port spelled out', first: 'https://a.example/feed', second: 'https://a.example:443/feed', duplicate: true },
    { name: 'trailing slash', first: 'https://a.example/feed/', second: 'https://a.example/feed', duplicate: true },
    { name: 'bare host with and without slash', first: 'https://a.example', second: 'https://a.example/', duplicate: true },
    { name: 'fragment only', first: 'https://a.example/feed', second: 'https://a.example/feed#top', duplicate: true },
    { name: 'different path case', first: 'https://a.example/Feed', second: 'https://a.example/feed', duplicate: false },
    { name: 'different query', first: 'https://a.example/feed?c=1', second: 'https://a.example/feed?c=2', duplicate: false },
    { name: 'http vs https', first: 'http://a.example/feed', second: 'https://a.example/feed', duplicate: false },
    { name: 'non-default port', first: 'https://a.example/feed', second: 'https://a.example:8443/feed', duplicate: false },
  ])('$name', ({ first, second, duplicate }) => {
    const yaml = lines('feeds:', '  - id: a', `    url: "${first}"`, '  - id: b', `    url: "${second}"`);
    const found = problemsOf(yaml);
    if (duplicate) {
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(/^5:10: duplicate url ".*" in feeds\[1\]; the same feed as feeds\[0\] on line 3$/);
    } else {
      expect(found).toEqual([]);
    }
  });
});

describe('parseFeedsYaml: all problems at once', () => {
  it('reports every problem in document order, not just the first', () => {
    const yaml = lines(
      'titel: River', // 1
      'settings:', // 2
      '  every: often', // 3
      'feeds:', // 4
      '  - id: a', // 5
      '    url: https://a.example/feed', // 6
      '    enabled: "no"', // 7
      '  - id: a', // 8
      '    url: mailto:news@a.example', // 9
      '  - url: https://c.example/feed', // 10
      '    tags: news', // 11
    );
    expect(problemsOf(yaml)).toEqual([
      '1:1: unknown key "titel" at top level; did you mean "title"?',
      '3:10: settings.every must be a duration like 30s, 15m, 2h, 1d or 1h30m, or a number of seconds, got "often"',
      '7:14: feeds[0].enabled must be true or false, got "no"',
      '8:9: duplicate id "a" in feeds[1]; first used by feeds[0] on line 5',
      '9:10: feeds[1].url must be an absolute http or https URL, got "mailto:news@a.example"',
      '10:5: feeds[2] is missing required key "id"',
      '11:11: feeds[2].tags must be a list of strings, got "news"',
    ]);
  });

  it('labels every problem with the file name it was given', () => {
    const result = parseFeedsYaml('feeds: {}\n', '/etc/tributary/feeds.yaml');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((p) => p.file)).toEqual(['/etc/tributary/feeds.yaml']);
  });
});

describe('parseFeedsYaml: valid files and defaults', () => {
  it('an empty feeds list is valid and gets every default', () => {
    expect(configOf('feeds: []\n')).toEqual({
      title: 'Tributary',
      baseUrl: null,
      settings: {
        everyMs: 15 * 60_000,
        allowPrivateNetworks: false,
        fetchTimeoutMs: 30_000,
        maxBodyBytes: 10 * 1024 * 1024,
        concurrency: 8,
        hostConcurrency: 2,
        hostGapMs: 1000,
        minIntervalMs: 60_000,
        maxIntervalMs: 24 * 3_600_000,
        adaptive: false,
        websubHub: null,
        footer: true,
      },
      feeds: [],
      rivers: [],
    });
  });

  it('a minimal feed gets its defaults, with every inherited from settings', () => {
    const config = configOf(lines('settings:', '  every: 20m', 'feeds:', '  - id: a', '    url: https://a.example/feed'));
    expect(config.feeds).toEqual([
      {
        id: 'a',
        url: 'https://a.example/feed',
        name: null,
        homepage: null,
        tags: [],
        everyMs: 20 * 60_000,
        enabled: true,
        adaptive: false,
        kind: 'publisher',
        content: 'summary',
        strip: [],
        resolveCanonical: false,
      },
    ]);
  });

  it('reads every key when all are given', () => {
    const config = configOf(
      lines(
        'title: "  My river  "',
        'base_url: https://river.example.com/news/',
        'settings:',
        '  every: 1h30m',
        '  allow_private_networks: true',
        '  timeout: 45',
        '  max_body: 2MiB',
        '  concurrency: 3',
        '  host_concurrency: 1',
        '  host_gap: 0',
        '  min_interval: 30s',
        '  max_interval: 12h',
        '  adaptive: true',
        '  websub_hub: https://hub.example/',
        '  footer: false',
        'feeds:',
        '  - id: fox-politics',
        '    url: https://moxie.foxnews.com/google-publisher/politics.xml',
        '    name: Fox News',
        '    homepage: https://www.foxnews.com',
        '    tags: [" Politics ", US, us]',
        '    every: 10m',
        '    enabled: false',
        '    adaptive: false',
        '    kind: aggregator',
        '    content: full',
        '    strip: ["You can view this story on their website", "css: div.app-promo > a"]',
        '    resolve_canonical: true',
      ),
    );
    expect(config).toEqual({
      title: 'My river',
      baseUrl: 'https://river.example.com/news',
      settings: {
        everyMs: 90 * 60_000,
        allowPrivateNetworks: true,
        fetchTimeoutMs: 45_000,
        maxBodyBytes: 2 * 1024 * 1024,
        concurrency: 3,
        hostConcurrency: 1,
        hostGapMs: 0,
        minIntervalMs: 30_000,
        maxIntervalMs: 12 * 3_600_000,
        adaptive: true,
        websubHub: 'https://hub.example/',
        footer: false,
      },
      feeds: [
        {
          id: 'fox-politics',
          url: 'https://moxie.foxnews.com/google-publisher/politics.xml',
          name: 'Fox News',
          homepage: 'https://www.foxnews.com/',
          tags: ['politics', 'us'],
          everyMs: 10 * 60_000,
          enabled: false,
          adaptive: false,
          kind: 'aggregator',
          content: 'full',
          strip: ['You can view this story on their website', 'css:div.app-promo > a'],
          resolveCanonical: true,
        },
      ],
      rivers: [],
    });
  });

  it('treats explicit nulls and empty names as absent', () => {
    const config = configOf(
      lines('title:', 'base_url: ~', 'settings:', 'feeds:', '  - id: a', '    url: https://a.example/feed', '    name: ""', '    tags:'),
    );
    expect(config.title).toBe('Tributary');
    expect(config.baseUrl).toBeNull();
    expect(config.settings.everyMs).toBe(15 * 60_000);
    expect(config.feeds[0]).toMatchObject({ name: null, tags: [] });
  });

  it('follows YAML anchors and aliases', () => {
    const config = configOf(
      lines(
        'feeds:',
        '  - id: a',
        '    url: https://a.example/feed',
        '    tags: &news [news, world]',
        '  - id: b',
        '    url: https://b.example/feed',
        '    tags: *news',
      ),
    );
    expect(config.feeds.map((f) => f.tags)).toEqual([
      ['news', 'world'],
      ['news', 'world'],
    ]);
  });

  it('ignores a byte-order mark for positions', () => {
    expect(problemsOf('\uFEFFtitel: x\nfeeds: []\n')).toEqual(['1:1: unknown key "titel" at top level; did you mean "title"?']);
  });

  it('returns a deeply frozen config', () => {
    const config = configOf(lines('feeds:', '  - id: a', '    url: https://a.example/feed', '    tags: [x]'));
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.settings)).toBe(true);
    expect(Object.isFrozen(config.feeds)).toBe(true);
    expect(Object.isFrozen(config.feeds[0])).toBe(true);
    expect(Object.isFrozen(config.feeds[0]!.tags)).toBe(true);
    expect(() => (config.feeds[0]!.tags as string[]).push('y')).toThrow(TypeError);
  });
});

describe('parseFeedsYaml: rivers and the settings of issue #5', () => {
  /** Two feeds (lines 1-7), then `rivers:` on line 8: river entries start on line 9. */
  const withRivers = (...riverLines: string[]): string =>
    lines(
      'feeds:',
      '  - id: city',
      '    url: https://city.example/feed',
      '    tags: [local, news]',
      '  - id: tech',
      '    url: https://tech.example/feed',
      '    tags: [tech]',
      ...riverLines,
    );
  const NAME_RULE = 'use 1-64 lower-case letters, digits, "-" or "_", starting with a letter or digit';

  it.each([
    { name: 'rivers is not a list', yaml: withRivers('rivers: tech'), problems: ['8:9: rivers must be a list of named feeds, got "tech"'] },
    {
      name: 'an entry is not a mapping',
      yaml: withRivers('rivers:', '  - tech'),
      problems: ['9:5: rivers[0] must be a mapping with at least a name, got "tech"'],
    },
    {
      name: 'missing name points at the entry',
      yaml: withRivers('rivers:', '  - title: Tech'),
      problems: ['9:5: rivers[0] is missing required key "name"'],
    },
    {
      name: 'a name that is not a slug',
      yaml: withRivers('rivers:', '  - name: Tech News'),
      problems: [`9:11: rivers[0].name "Tech News" is not a valid name; ${NAME_RULE}`],
    },
    {
      name: 'a duplicate name points at the second and names the first line',
      yaml: withRivers('rivers:', '  - name: t', '    tags: [tech]', '  - name: t'),
      problems: ['11:11: duplicate name "t" in rivers[1]; first used by rivers[0] on line 9'],
    },
    {
      name: 'unknown river key with suggestion',
      yaml: withRivers('rivers:', '  - name: t', '    exclude_publisher: [x]'),
      problems: ['10:5: unknown key "exclude_publisher" in rivers[0]; did you mean "exclude_publishers"?'],
    },
    {
      name: 'a source that is a typo of a feed id',
      yaml: withRivers('rivers:', '  - name: t', '    sources: [city, tehc]'),
      problems: ['10:21: rivers[0].sources[1] "tehc" is not the id of a feed; did you mean "tech"?'],
    },
    {
      name: 'a source far from every feed id lists them',
      yaml: withRivers('rivers:', '  - name: t', '    sources: [weather]'),
      problems: ['10:15: rivers[0].sources[0] "weather" is not the id of a feed; feed ids are "city", "tech"'],
    },
    {
      name: 'sources written as one string',
      yaml: withRivers('rivers:', '  - name: t', '    sources: city'),
      problems: ['10:14: rivers[0].sources must be a list of strings, got "city"; write a list, e.g. ["city"]'],
    },
    {
      name: 'a tag no feed has, folded, with suggestion',
      yaml: withRivers('rivers:', '  - name: t', '    tags: [Tec]'),
      problems: ['10:12: rivers[0].tags[0] "tec" is not a tag of any feed; did you mean "tech"?'],
    },
    {
      name: 'a date that does not exist',
      yaml: withRivers('rivers:', '  - name: t', '    since: 2026-02-30'),
      problems: ['10:12: rivers[0].since must be a date like 2026-01-01 or a date-time like 2026-01-01T08:00:00Z, got "2026-02-30"'],
    },
    {
      name: 'a year alone is not a date',
      yaml: withRivers('rivers:', '  - name: t', '    since: 2026'),
      problems: ['10:12: rivers[0].since must be a date like 2026-01-01 or a date-time like 2026-01-01T08:00:00Z, got number 2026'],
    },
    {
      name: 'a date-time without an offset is ambiguous',
      yaml: withRivers('rivers:', '  - name: t', '    since: 2026-01-01T08:00:00'),
      problems: ['10:12: rivers[0].since must be a date like 2026-01-01 or a date-time like 2026-01-01T08:00:00Z, got "2026-01-01T08:00:00"'],
    },
    {
      name: 'q too long',
      yaml: withRivers('rivers:', '  - name: t', `    q: ${'w'.repeat(201)}`),
      problems: ['10:8: rivers[0].q must be at most 200 characters, got 201'],
    },
    {
      name: 'footer that is not a boolean',
      yaml: withRivers('rivers:', '  - name: t', '    footer: yes'),
      problems: ['10:13: rivers[0].footer must be true or false, got "yes"'],
    },
    {
      name: 'a publisher to exclude that is not text',
      yaml: withRivers('rivers:', '  - name: t', '    exclude_publishers: [Wire, 5]'),
      problems: ['10:32: rivers[0].exclude_publishers[1] must be a non-empty string, got number 5; put it in quotes if it is meant as text'],
    },
    {
      name: 'a hub that is not http(s)',
      yaml: lines('base_url: https://river.example', 'settings:', '  websub_hub: ftp://hub.example/', 'feeds: []'),
      problems: ['3:15: settings.websub_hub must be an absolute http or https URL, got "ftp://hub.example/"'],
    },
    {
      name: 'a hub without base_url',
      yaml: lines('settings:', '  websub_hub: https://hub.example/', 'feeds: []'),
      problems: ['2:15: settings.websub_hub needs base_url: the hub fetches the feeds at their public URLs, and pings name them by it'],
    },
    {
      name: 'settings.footer that is not a boolean',
      yaml: lines('settings:', '  footer: "off"', 'feeds: []'),
      problems: ['2:11: settings.footer must be true or false, got "off"'],
    },
    {
      name: 'several problems in one river, in document order',
      yaml: withRivers('rivers:', '  - name: t', '    sources: [nope]', '    tags: [nada]', '    since: soon'),
      problems: [
        '10:15: rivers[0].sources[0] "nope" is not the id of a feed; feed ids are "city", "tech"',
        '11:12: rivers[0].tags[0] "nada" is not a tag of any feed; the feeds\' tags are "local", "news", "tech"',
        '12:12: rivers[0].since must be a date like 2026-01-01 or a date-time like 2026-01-01T08:00:00Z, got "soon"',
      ],
    },
  ])('$name', ({ yaml, problems }) => {
    expect(problemsOf(yaml)).toEqual(problems);
  });

  it('reads every key of a river, with names, ids, dates and tags normalised', () => {
    const config = configOf(
      withRivers(
        'rivers:',
        '  - name: local-tech',
        '    title: "  Local tech  "',
        '    sources: [tech, city, tech]',
        '    tags: [News, tech]',
        '    q: "  budget -rumour  "',
        '    exclude_publishers: [" Wire Service ", city]',
        '    since: 2026-01-01T09:30:00+01:00',
        '    footer: false',
        '  - name: all',
      ),
    );
    expect(config.rivers).toEqual([
      {
        name: 'local-tech',
        title: 'Local tech',
        sources: ['tech', 'city'],
        tags: ['news', 'tech'],
        q: 'budget -rumour',
        excludePublishers: ['Wire Service', 'city'],
        since: '2026-01-01T08:30:00.000Z',
        footer: false,
      },
      { name: 'all', title: null, sources: [], tags: [], q: null, excludePublishers: [], since: null, footer: null },
    ]);
    expect(Object.isFrozen(config.rivers)).toBe(true);
    expect(Object.isFrozen(config.rivers[0]!.sources)).toBe(true);
  });

  it.each([
    { name: 'a date is midnight UTC', since: '2026-01-01', iso: '2026-01-01T00:00:00.000Z' },
    { name: 'a quoted date', since: '"2026-03-31"', iso: '2026-03-31T00:00:00.000Z' },
    { name: 'a date-time in UTC', since: '2026-01-01T08:00:00Z', iso: '2026-01-01T08:00:00.000Z' },
    { name: 'a date-time with a negative offset', since: '2025-12-31T20:00-05:00', iso: '2026-01-01T01:00:00.000Z' },
    { name: 'a leap day', since: '2028-02-29', iso: '2028-02-29T00:00:00.000Z' },
  ])('since: $name', ({ since, iso }) => {
    expect(configOf(withRivers('rivers:', '  - name: t', `    since: ${since}`)).rivers[0]!.since).toBe(iso);
  });

  it('rivers may be absent, null or empty', () => {
    expect(configOf(withRivers()).rivers).toEqual([]);
    expect(configOf(withRivers('rivers:')).rivers).toEqual([]);
    expect(configOf(withRivers('rivers: []')).rivers).toEqual([]);
  });
});

describe('the committed feeds.yaml', () => {
  it('passes validation with 5 to 7 attributed publisher feeds', async () => {
    const result = await loadFeedsFile(path.join(REPO_ROOT, 'feeds.yaml'));
    if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
    const { config } = result;
    expect(config.title).toBe('Tributary river');
    expect(config.settings.everyMs).toBe(15 * 60_000);
    expect(config.settings.allowPrivateNetworks).toBe(false);
    expect(config.feeds.length).toBeGreaterThanOrEqual(5);
    expect(config.feeds.length).toBeLessThanOrEqual(7);
    // Hacker News links to other publishers' stories: marked as an aggregator so they are credited to them.
    expect(config.feeds.find((f) => f.id === 'hacker-news')).toMatchObject({ kind: 'aggregator' });
    expect(config.feeds.filter((f) => f.kind === 'aggregator').map((f) => f.id)).toEqual(['hacker-news']);
    for (const feed of config.feeds) {
      expect(feed.url).toMatch(/^https:\/\//);
      expect(feed.name).not.toBeNull();
      expect(feed.homepage).toMatch(/^https:\/\//);
      expect(feed.tags.length).toBeGreaterThan(0);
    }
  });
});

describe('loadFeedsFile', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tributary-sources-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads and validates a file, labelling problems with its path', async () => {
    const file = path.join(dir, 'bad.yaml');
    await writeFile(file, 'feeds:\n  - id: a\n');
    expect(await loadFeedsFile(file)).toEqual({
      ok: false,
      problems: [{ file, line: 2, col: 5, message: 'feeds[0] is missing required key "url"' }],
    });
  });

  it.each([
    { name: 'missing file', target: 'nope.yaml', message: 'feeds file not found (create it, or point FEEDS_FILE at it)' },
    { name: 'a directory', target: '.', message: 'is a directory, expected a feeds.yaml file' },
  ])('reports a $name as a problem at 1:1', async ({ target, message }) => {
    const file = path.join(dir, target);
    expect(await loadFeedsFile(file)).toEqual({ ok: false, problems: [{ file, line: 1, col: 1, message }] });
  });
});

describe('parseDuration', () => {
  it.each([
    { name: 'seconds', text: '30s', ms: 30_000 },
    { name: 'minutes', text: '15m', ms: 900_000 },
    { name: 'hours', text: '2h', ms: 7_200_000 },
    { name: 'days', text: '1d', ms: 86_400_000 },
    { name: 'hours and minutes', text: '1h30m', ms: 5_400_000 },
    { name: 'every unit', text: '1d2h3m4s', ms: 93_784_000 },
    { name: 'plain integer is seconds', text: '900', ms: 900_000 },
    { name: 'zero', text: '0s', ms: 0 },
    { name: 'surrounding spaces', text: ' 10m ', ms: 600_000 },
    { name: 'empty', text: '', ms: null },
    { name: 'unit alone', text: 'm', ms: null },
    { name: 'units out of order', text: '30m1h', ms: null },
    { name: 'upper-case unit', text: '15M', ms: null },
    { name: 'fraction', text: '1.5h', ms: null },
    { name: 'negative', text: '-5s', ms: null },
    { name: 'milliseconds are not a unit', text: '500ms', ms: null },
    { name: 'words', text: '15 minutes', ms: null },
    { name: 'space between parts', text: '1h 30m', ms: null },
    { name: 'too large to be exact', text: '99999999999999999999s', ms: null },
  ])('$name: $text', ({ text, ms }) => {
    expect(parseDuration(text)).toBe(ms);
  });
});

describe('parseByteSize', () => {
  it.each([
    { name: 'plain bytes', text: '4096', bytes: 4096 },
    { name: 'B', text: '512B', bytes: 512 },
    { name: 'KB is decimal', text: '512KB', bytes: 512_000 },
    { name: 'KiB is binary', text: '512KiB', bytes: 524_288 },
    { name: 'MB', text: '10MB', bytes: 10_000_000 },
    { name: 'MiB', text: '10MiB', bytes: 10_485_760 },
    { name: 'GB', text: '1GB', bytes: 1_000_000_000 },
    { name: 'GiB', text: '1GiB', bytes: 1_073_741_824 },
    { name: 'space before the unit', text: '10 MiB', bytes: 10_485_760 },
    { name: 'lower-case unit', text: '10mb', bytes: null },
    { name: 'unknown unit', text: '10TB', bytes: null },
    { name: 'fraction', text: '1.5MiB', bytes: null },
    { name: 'negative', text: '-1', bytes: null },
    { name: 'unit alone', text: 'MiB', bytes: null },
    { name: 'empty', text: '', bytes: null },
  ])('$name: $text', ({ text, bytes }) => {
    expect(parseByteSize(text)).toBe(bytes);
  });
});

describe('formatProblem', () => {
  it.each([
    {
      name: 'relative path',
      problem: { file: 'feeds.yaml', line: 3, col: 7, message: 'feeds must be a list, got a mapping' },
      text: 'feeds.yaml:3:7: feeds must be a list, got a mapping',
    },
    {
      name: 'absolute path',
      problem: { file: '/etc/tributary/feeds.yaml', line: 1, col: 1, message: 'the file is empty' },
      text: '/etc/tributary/feeds.yaml:1:1: the file is empty',
    },
  ])('$name', ({ problem, text }: { problem: ConfigProblem; text: string }) => {
    expect(formatProblem(problem)).toBe(text);
  });
});

describe('did-you-mean', () => {
  it.each([
    { name: 'identical', a: 'url', b: 'url', d: 0 },
    { name: 'one insertion', a: 'homepge', b: 'homepage', d: 1 },
    { name: 'one substitution', a: 'tigs', b: 'tags', d: 1 },
    { name: 'one transposition', a: 'nmae', b: 'name', d: 1 },
    { name: 'from empty', a: '', b: 'every', d: 5 },
    { name: 'unrelated', a: 'colour', b: 'url', d: 5 },
  ])('editDistance $name', ({ a, b, d }) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });

  it.each([
    { name: 'typo', input: 'homepge', expected: 'homepage' },
    { name: 'case and separators are ignored', input: 'Allow-Private-Networks', expected: 'allow_private_networks' },
    { name: 'camelCase', input: 'maxBody', expected: 'max_body' },
    { name: 'too far to be a typo', input: 'colour', expected: null },
    { name: 'short keys need a near match', input: 'ur', expected: 'url' },
    { name: 'short unrelated key', input: 'xy', expected: null },
  ])('didYouMean $name', ({ input, expected }) => {
    const known = ['id', 'url', 'name', 'homepage', 'tags', 'every', 'enabled', 'allow_private_networks', 'max_body'];
    expect(didYouMean(input, known)).toBe(expected);
  });
});
