import { describe, expect, it } from 'vitest';
import { ago, MAX_ERROR_WIDTH, renderSourceHistory, renderSourcesTable, truncate, until } from '../../src/commands/sources-table.js';
import type { FetchLogEntry, SourceStatus } from '../../src/domain.js';

// `tributary sources`: the fixed-width table over SourceStatus, and one source's history.

const NOW = new Date('2024-05-01T12:00:00Z');
const min = (n: number) => new Date(NOW.getTime() + n * 60_000);

const LONG_ERROR =
  'fetch failed: HTTP 503 Service Unavailable from http://broken.test/feed.xml after 3 retries within 30000 ms';

function source(over: Partial<SourceStatus> & { id: string }): SourceStatus {
  return {
    url: `http://${over.id}.test/feed.xml`,
    name: null,
    homepage: null,
    tags: [],
    enabled: true,
    active: true,
    feedTitle: null,
    lastFetchedAt: min(-3),
    lastStatus: 200,
    lastError: null,
    errorCount: 0,
    itemCount: 4,
    nextFetchAt: min(12),
    nextFetchReason: 'interval 15m',
    effectiveUrl: null,
    goneAt: null,
    hostPausedUntil: null,
    ...over,
  };
}

/** A row's cells: columns are separated by at least two spaces, cells hold single spaces at most. */
const cells = (line: string) => line.split(/ {2,}/);

describe('renderSourcesTable', () => {
  it.each([
    {
      name: 'never fetched',
      source: source({ id: 'fresh', lastFetchedAt: null, lastStatus: null, nextFetchAt: min(-1), nextFetchReason: 'new source' }),
      row: ['fresh', 'new', 'never', 'due', 'new source', '0'],
    },
    {
      name: 'ok',
      source: source({ id: 'city' }),
      row: ['city', 'ok', '3m ago', 'in 12m', 'interval 15m', '0'],
    },
    {
      name: 'erroring with long error',
      source: source({ id: 'broken', errorCount: 4, lastError: LONG_ERROR, nextFetchAt: min(120), nextFetchReason: 'backoff after 4 errors' }),
      row: ['broken', 'error', '3m ago', 'in 2h', 'backoff after 4 errors', '4', `${LONG_ERROR.slice(0, MAX_ERROR_WIDTH - 1)}…`],
    },
    {
      name: 'gone',
      source: source({ id: 'gone', goneAt: min(-60), lastStatus: 410, errorCount: 1, lastError: 'HTTP 410 Gone' }),
      row: ['gone', 'gone', '3m ago', '—', '410 Gone: change its url', '1', 'HTTP 410 Gone'],
    },
    {
      name: 'moved',
      source: source({ id: 'moved', effectiveUrl: 'https://new.example/feed.xml' }),
      row: ['moved', 'moved', '3m ago', 'in 12m', 'interval 15m', '0'],
      note: '    moved permanently to https://new.example/feed.xml (edit feeds.yaml)',
    },
    {
      name: 'rate-limited (the pause is later than the schedule)',
      source: source({ id: 'busy', hostPausedUntil: min(45), lastStatus: 429, errorCount: 1, lastError: 'HTTP 429' }),
      row: ['busy', 'rate-limited', '3m ago', 'in 45m', 'host asked to wait', '1', 'HTTP 429'],
    },
    {
      name: 'rate-limited (the schedule is later than the pause)',
      source: source({ id: 'busy', hostPausedUntil: min(5), nextFetchAt: min(90), nextFetchReason: 'Retry-After' }),
      row: ['busy', 'rate-limited', '3m ago', 'in 1h', 'Retry-After', '0'],
    },
    {
      name: 'disabled',
      source: source({ id: 'off', enabled: false }),
      row: ['off', 'disabled', '3m ago', '—', 'disabled in feeds.yaml', '0'],
    },
    {
      name: 'removed from feeds.yaml',
      source: source({ id: 'old', active: false }),
      row: ['old', 'disabled', '3m ago', '—', 'not in feeds.yaml', '0'],
    },
    {
      name: 'a pause that already ended',
      source: source({ id: 'rested', hostPausedUntil: min(-1) }),
      row: ['rested', 'ok', '3m ago', 'in 12m', 'interval 15m', '0'],
    },
  ])('$name', ({ source: s, row, note }) => {
    const lines = renderSourcesTable([s], NOW).split('\n');
    expect(cells(lines[0]!)).toEqual(['ID', 'STATE', 'LAST FETCH', 'NEXT FETCH', 'WHY', 'ERRORS', 'LAST ERROR']);
    expect(cells(lines[1]!)).toEqual(row);
    expect(lines[2]).toBe(note);
    expect(lines).toHaveLength(note ? 3 : 2);
  });

  it('aligns columns across rows and puts the move note under its row', () => {
    const out = renderSourcesTable(
      [
        source({ id: 'fresh', lastFetchedAt: null, nextFetchAt: min(-1), nextFetchReason: 'new source' }),
        source({ id: 'broken-publisher', errorCount: 12, lastError: 'HTTP 500', nextFetchAt: min(600), nextFetchReason: 'backoff' }),
        source({ id: 'moved', effectiveUrl: 'https://new.example/feed.xml' }),
        source({ id: 'off', enabled: false }),
      ],
      NOW,
    );
    expect(out).toBe(
      [
        'ID                STATE     LAST FETCH  NEXT FETCH  WHY                     ERRORS  LAST ERROR',
        'fresh             new       never       due         new source              0',
        'broken-publisher  error     3m ago      in 10h      backoff                 12      HTTP 500',
        'moved             moved     3m ago      in 12m      interval 15m            0',
        '    moved permanently to https://new.example/feed.xml (edit feeds.yaml)',
        'off               disabled  3m ago      —           disabled in feeds.yaml  0',
      ].join('\n'),
    );
  });

  it('keeps publisher text on one line and free of terminal escapes', () => {
    const out = renderSourcesTable(
      [source({ id: 'evil', errorCount: 1, lastError: 'bad\nthing\u001b[31m red\r\n', effectiveUrl: 'https://x.test/\u0007feed' })],
      NOW,
    );
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    const lines = out.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/bad thing \[31m red$/);
  });

  it('says so when there are no sources', () => {
    expect(renderSourcesTable([], NOW)).toBe('no sources (add feeds to feeds.yaml)');
  });
});

describe('renderSourceHistory', () => {
  const entry = (over: Partial<FetchLogEntry>): FetchLogEntry => ({
    sourceId: 'city',
    startedAt: min(-3),
    url: 'https://city.example/feed.xml',
    outcome: 'updated',
    status: 200,
    bytes: 20_480,
    durationMs: 312,
    itemsNew: 2,
    itemsUpdated: 1,
    itemsUnchanged: 17,
    error: null,
    ...over,
  });

  it('shows each poll newest first, and the older URL where it differed', () => {
    const out = renderSourceHistory(
      [
        entry({}),
        entry({ startedAt: min(-18), outcome: 'not-modified', status: 304, bytes: null, durationMs: 45, itemsNew: 0, itemsUpdated: 0, itemsUnchanged: 0 }),
        entry({
          startedAt: min(-200),
          url: 'http://city.test/feed.xml',
          outcome: 'failed',
          status: null,
          bytes: null,
          durationMs: 30_000,
          itemsNew: 0,
          itemsUpdated: 0,
          itemsUnchanged: 0,
          error: 'timeout after 30000 ms',
        }),
      ],
      NOW,
    );
    expect(out).toBe(
      [
        'URL https://city.example/feed.xml',
        'WHEN     STARTED               OUTCOME       STATUS  BYTES    TIME     NEW  UPD  SAME  ERROR',
        '3m ago   2024-05-01T11:57:00Z  updated       200     20.0KiB  312ms    2    1    17',
        '18m ago  2024-05-01T11:42:00Z  not-modified  304     —        45ms     0    0    0',
        '3h ago   2024-05-01T08:40:00Z  failed        —       —        30000ms  0    0    0     timeout after 30000 ms',
        '    from http://city.test/feed.xml',
      ].join('\n'),
    );
  });

  it('truncates long errors', () => {
    const out = renderSourceHistory([entry({ outcome: 'failed', error: LONG_ERROR })], NOW);
    const last = cells(out.split('\n')[2]!).at(-1)!;
    expect(last.endsWith('…')).toBe(true);
    expect([...last]).toHaveLength(60);
  });

  it('says so when nothing was recorded', () => {
    expect(renderSourceHistory([], NOW)).toBe('no fetches recorded');
  });
});

describe('relative times', () => {
  it.each([
    { name: 'now', at: NOW, expected: 'just now' },
    { name: 'slightly in the future (clock skew)', at: new Date(NOW.getTime() + 5_000), expected: 'just now' },
    { name: 'seconds', at: new Date(NOW.getTime() - 42_500), expected: '42s ago' },
    { name: 'rounded down to minutes', at: min(-3.9), expected: '3m ago' },
    { name: 'hours', at: min(-150), expected: '2h ago' },
    { name: 'days', at: min(-60 * 24 * 3 - 5), expected: '3d ago' },
  ])('ago: $name', ({ at, expected }) => {
    expect(ago(at, NOW)).toBe(expected);
  });

  it.each([
    { name: 'past is due', at: min(-1), expected: 'due' },
    { name: 'exactly now is due', at: NOW, expected: 'due' },
    { name: 'under a second rounds up', at: new Date(NOW.getTime() + 300), expected: 'in 1s' },
    { name: 'minutes', at: min(12), expected: 'in 12m' },
    { name: 'hours', at: min(61), expected: 'in 1h' },
    { name: 'days', at: min(60 * 48), expected: 'in 2d' },
  ])('until: $name', ({ at, expected }) => {
    expect(until(at, NOW)).toBe(expected);
  });
});

describe('truncate', () => {
  it.each([
    { name: 'short text unchanged', text: 'HTTP 500', max: 10, expected: 'HTTP 500' },
    { name: 'exactly max unchanged', text: 'abcdefghij', max: 10, expected: 'abcdefghij' },
    { name: 'cut with an ellipsis', text: 'abcdefghijk', max: 10, expected: 'abcdefghi…' },
    { name: 'no space before the ellipsis', text: 'abcdefgh jk', max: 10, expected: 'abcdefgh…' },
    { name: 'astral characters are not split', text: '😀😀😀😀', max: 3, expected: '😀😀…' },
  ])('$name', ({ text, max, expected }) => {
    expect(truncate(text, max)).toBe(expected);
  });
});
