import { didYouMean } from '../did-you-mean.js';
import { BadRequestError, TributaryError } from '../errors.js';
import { decodeCursor, encodeCursor, type StoryCursor } from '../store/items-query.js';
import type { RiverFilter } from '../store/river-query.js';
import { FEED_EXTENSIONS, type FeedOutput } from './feed-outputs.js';
import type { FeedFormat, RiverLinks } from './render-feed.js';

// RFC 5005 for the output feeds: archived feeds (section 4) and paging (section 3). Pure.
//
// Archives: one archive document per UTC day of the entries' published_at, at the feed's own URL
// with ?archive=YYYY-MM-DD. A day, not a week or a month, because an archive holds the whole
// period in one document and a busy river carries thousands of stories a month; days without
// entries are skipped by the prev-archive chain, so a quiet river is not a walk through empty
// documents (an empty day's archive can still be asked for: an empty document).
//
// An archive must be stable (RFC 5005 section 4: "the set of entries contained in an archive
// document published at a particular URI SHOULD NOT change over time"), so a day is only archived
// once its stories have stopped arriving: publishers date stories before we fetch them (polls are
// minutes to hours apart, feeds are late), so a day is complete a whole day after it ends. Until
// then its stories are in the subscription document (the newest `limit` entries) and in its
// rel="next" pages. After that a day changes only when a story is edited, or one dated that day
// turns up very late ("modulo edits").
//
// Paging: the subscription document links rel="next" to the next older page, ?page=<cursor>, a
// keyset cursor (published_at, id) that, unlike an offset, is not shifted by stories arriving
// meanwhile. JSON Feed has only next_url: it carries that chain, and on archives the older archive.

const DAY_MS = 86_400_000;
/** An archive holds one whole day; beyond this many entries it is cut (logged by the caller). */
export const MAX_ARCHIVE_ENTRIES = 5000;
/** Minutes readers may keep an archive: a complete day changes only by edits. */
export const ARCHIVE_TTL_MINUTES = 24 * 60;
/** The query parameters this module reads, in the order self URLs write them. */
export const PAGING_PARAMS = ['page', 'archive'] as const;

export interface DayPeriod {
  /** Inclusive start, midnight UTC. */
  readonly from: Date;
  /** Exclusive end, the next midnight UTC. */
  readonly to: Date;
}

/** The UTC day containing `t`. */
export function dayOf(t: Date): DayPeriod {
  const from = Math.floor(t.getTime() / DAY_MS) * DAY_MS;
  return { from: new Date(from), to: new Date(from + DAY_MS) };
}

/** YYYY-MM-DD of a day (its `from`). */
export function formatDay(day: DayPeriod): string {
  return day.from.toISOString().slice(0, 10);
}

/**
 * Archives hold the days before this instant: days that ended at least a day ago. The day before
 * today is still open, its stories may still arrive (see the module comment).
 */
export function archivedBefore(now: Date): Date {
  return new Date(dayOf(now).from.getTime() - DAY_MS);
}

/** True when the day's archive is complete (and may be served and linked). */
export function isArchived(day: DayPeriod, now: Date): boolean {
  return day.to.getTime() <= archivedBefore(now).getTime();
}

/** ?archive=YYYY-MM-DD -> that day; a BadRequestError naming `archive` otherwise. */
export function parseArchiveDay(value: string): DayPeriod {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const bad = () =>
    new BadRequestError('archive', `archive must be a day like 2026-01-31 (the archive links of the feed name them), got ${quote(value)}`);
  if (!m) throw bad();
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const from = new Date(0);
  from.setUTCFullYear(y, mo - 1, d);
  // setUTCFullYear rolls 2026-02-30 over into March: such a day does not exist.
  if (from.getUTCFullYear() !== y || from.getUTCMonth() !== mo - 1 || from.getUTCDate() !== d) throw bad();
  return dayOf(from);
}

export interface PagingQuery {
  /** The other parameters, for the filter parser of the route. */
  readonly rest: Record<string, string | string[]>;
  readonly page: StoryCursor | null;
  readonly archive: DayPeriod | null;
}

/**
 * Splits a feed's query string into paging (page, archive) and the route's own parameters.
 * Unknown names are rejected here, with the full list of what the route accepts, so a typo is a 400
 * naming the parameter rather than a silently different feed.
 */
export function readPagingQuery(query: unknown, routeParams: readonly string[]): PagingQuery {
  if (query === undefined || query === null) return { rest: {}, page: null, archive: null };
  if (typeof query !== 'object') throw new BadRequestError('query', 'query string could not be read');
  const accepted = [...routeParams, ...PAGING_PARAMS];
  const rest: Record<string, string | string[]> = {};
  let page: StoryCursor | null = null;
  let archive: DayPeriod | null = null;
  for (const [name, value] of Object.entries(query)) {
    if (!accepted.includes(name)) throw unknownParameter(name, accepted);
    if (!(typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string')))) {
      throw new BadRequestError(name, `${name} has a value that is not text`);
    }
    if (name === 'page' || name === 'archive') {
      if (Array.isArray(value) && value.length !== 1) throw new BadRequestError(name, `${name} is given ${value.length} times; give it once`);
      const single = Array.isArray(value) ? value[0]! : value;
      if (name === 'archive') archive = parseArchiveDay(single);
      else {
        page = decodeCursor(single);
        if (!page) throw new BadRequestError('page', 'page is not one this server issued; follow the feed\'s rel="next" link unchanged');
      }
    } else {
      rest[name] = value as string | string[];
    }
  }
  if (page && archive) throw new BadRequestError('page', 'page and archive cannot be combined: an archive is one whole day, in one document');
  if (archive && rest.limit !== undefined) {
    throw new BadRequestError('limit', 'limit does not apply to archives: an archive holds every entry of its day');
  }
  return { rest, page, archive };
}

/** The query string of a subscription document plus one paging parameter, in a fixed order. */
export function withPaging(query: string, paging: { readonly page?: StoryCursor; readonly archive?: DayPeriod }): string {
  const parts: string[] = [];
  if (paging.page) parts.push(`page=${encodeCursor(paging.page)}`);
  if (paging.archive) parts.push(`archive=${formatDay(paging.archive)}`);
  if (parts.length === 0) return query;
  return query === '' ? `?${parts.join('&')}` : `${query}&${parts.join('&')}`;
}

/** Removes `limit=N` from a canonical query string: archives and `current` links are limit-free. */
export function withoutLimit(query: string): string {
  const parts = query.replace(/^\?/, '').split('&').filter((p) => p !== '' && !p.startsWith('limit='));
  return parts.length ? `?${parts.join('&')}` : '';
}

/** Which document of a feed a request asks for, and what it reads. */
export interface DocumentPlan {
  readonly kind: 'subscription' | 'page' | 'archive';
  readonly filter: RiverFilter;
  readonly limit: number;
  readonly cursor: StoryCursor | null;
  /** The archived day, for kind archive. */
  readonly day: DayPeriod | null;
  /** Self URL, absolute. */
  readonly selfUrl: string;
  readonly selfQuery: string;
  /**
   * Entries before this instant decide the prev-archive link: the archived days (subscription
   * document), the day before this one (archive); null for pages, which link none.
   */
  readonly olderThan: Date | null;
}

/** The document a request asks for: the subscription document, a rel="next" page, or a day's archive. */
export function planDocument(output: FeedOutput, format: FeedFormat, paging: PagingQuery, base: string, now: Date): DocumentPlan {
  const docUrl = `${base}${output.basePath}${FEED_EXTENSIONS[format]}`;
  if (paging.archive) {
    const day = paging.archive;
    if (!isArchived(day, now)) {
      throw new TributaryError(
        'not-found',
        `no archive for ${formatDay(day)} yet: a day is archived once it has been over for a day; its stories are in the feed itself`,
      );
    }
    const since = output.filter.since && output.filter.since > day.from ? output.filter.since : day.from;
    const selfQuery = withPaging(withoutLimit(output.query), { archive: day });
    return {
      kind: 'archive',
      filter: { ...output.filter, since, until: day.to },
      limit: MAX_ARCHIVE_ENTRIES,
      cursor: null,
      day,
      selfUrl: `${docUrl}${selfQuery}`,
      selfQuery,
      olderThan: day.from,
    };
  }
  const selfQuery = paging.page ? withPaging(output.query, { page: paging.page }) : output.query;
  return {
    kind: paging.page ? 'page' : 'subscription',
    filter: output.filter,
    limit: output.limit,
    cursor: paging.page,
    day: null,
    selfUrl: `${docUrl}${selfQuery}`,
    selfQuery,
    olderThan: paging.page ? null : archivedBefore(now),
  };
}

/**
 * The links that do not depend on the page's entries (rel="next" does, see documentOf):
 *  - subscription document: prev-archive to the newest archived day with entries; hub on topics;
 *  - archive: current (the subscription document) and prev-archive to the previous day with entries
 *    (RFC 5005 section 4: an archive MUST link prev-archive unless it is the oldest). JSON Feed has
 *    no archives: its next_url takes the prev-archive chain.
 * `newestBefore` is the newest entry before the archived days (subscription) or before this day (archive).
 */
export function linksOf(
  output: FeedOutput,
  format: FeedFormat,
  plan: DocumentPlan,
  base: string,
  newestBefore: Date | null,
  hub: string | null,
): RiverLinks {
  const docUrl = `${base}${output.basePath}${FEED_EXTENSIONS[format]}`;
  const archiveUrl = (t: Date) => `${docUrl}${withPaging(withoutLimit(output.query), { archive: dayOf(t) })}`;
  if (plan.kind === 'page') return {};
  if (plan.kind === 'subscription') {
    return {
      ...(newestBefore ? { prevArchive: archiveUrl(newestBefore) } : {}),
      ...(hub && output.topic ? { hub } : {}),
    };
  }
  const prev = newestBefore ? archiveUrl(newestBefore) : null;
  return {
    current: `${docUrl}${withoutLimit(output.query)}`,
    ...(prev ? { prevArchive: prev } : {}),
    ...(prev && format === 'json' ? { next: prev } : {}),
  };
}

function unknownParameter(name: string, accepted: readonly string[]): BadRequestError {
  // The name is the client's own text: echoed back, but cut short.
  const short = name.length > 50 ? `${name.slice(0, 50)}…` : name;
  const guess = name.length >= 3 ? didYouMean(name, accepted) : null;
  const hint = guess ? ` (did you mean "${guess}"?)` : '';
  return new BadRequestError(short, `parameter ${JSON.stringify(short)} is not accepted here${hint}; accepted: ${accepted.join(', ')}`);
}

function quote(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}
