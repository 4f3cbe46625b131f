import { didYouMean } from '../did-you-mean.js';
import { BadRequestError } from '../errors.js';
import { decodeCursor, type StoryFilter } from '../store/items-query.js';

// Query strings -> validated filters. Pure: every mistake is a BadRequestError naming the
// parameter, answered with 400 by the one error handler in server.ts. Unknown parameters are
// rejected too, so a typo (`?limt=5`) is an error instead of silently returning the default.
//
// Values arrive as fastify parses them: a string, or an array of strings when the parameter is
// repeated (`?source=a&source=b`). List parameters accept both forms; the others reject repeats
// rather than guess which one was meant.

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;
export const MAX_QUERY_LENGTH = 200;
const MAX_LIST_ENTRIES = 50;
const MAX_LIST_ENTRY_LENGTH = 200;

/**
 * Parameters of /api/items. `collapse=true` lists one entry per story cluster, as the feeds do;
 * by default the API lists every story (each with its cluster id and the other members).
 */
export const ITEMS_PARAMS = ['limit', 'source', 'tag', 'q', 'since', 'until', 'cursor', 'collapse'] as const;
/**
 * Parameters of the feeds. A feed is a subscription polled for months, so it takes the filters
 * that stay meaningful over time (which sources, which tags, which words). Time windows and
 * cursors would freeze it or page it; clients wanting those use /api/items. No `collapse`: a feed
 * always shows one entry per story cluster.
 */
export const FEED_PARAMS = ['limit', 'source', 'tag', 'q'] as const;
/** Parameters of /api/sources. */
export const SOURCES_PARAMS = ['include_inactive'] as const;

const ALL_PARAMS: readonly string[] = [...ITEMS_PARAMS, ...SOURCES_PARAMS];

type ParamName = (typeof ITEMS_PARAMS)[number] | (typeof SOURCES_PARAMS)[number];

/** The query of /api/items. */
export function parseItemsQuery(query: unknown): StoryFilter {
  return parseStoryFilter(checkNames(query, ITEMS_PARAMS));
}

/** The query of /feed.xml, /feed.atom and /feed.json. */
export function parseFeedQuery(query: unknown): StoryFilter {
  return parseStoryFilter(checkNames(query, FEED_PARAMS));
}

export function parseSourcesQuery(query: unknown): { includeInactive: boolean } {
  const raw = checkNames(query, SOURCES_PARAMS);
  const v = raw.include_inactive;
  return { includeInactive: v === undefined ? false : parseBoolean('include_inactive', single('include_inactive', v)) };
}

/** For routes that take no parameters at all. */
export function parseNoQuery(query: unknown): void {
  checkNames(query, []);
}

/**
 * The filter as a canonical query string ('' or '?…'): defaults left out, lists sorted, fixed
 * parameter order. Two requests meaning the same feed get the same self URL and the same ETag.
 * collapseClusters is not written: feeds take no `collapse` parameter (they always collapse).
 */
export function formatFeedQuery(filter: StoryFilter): string {
  const parts: string[] = [];
  const list = (xs: readonly string[]) => xs.map(encodeURIComponent).join(',');
  if (filter.limit !== DEFAULT_LIMIT) parts.push(`limit=${filter.limit}`);
  if (filter.sources?.length) parts.push(`source=${list(filter.sources)}`);
  if (filter.tags?.length) parts.push(`tag=${list(filter.tags)}`);
  if (filter.q !== undefined) parts.push(`q=${encodeURIComponent(filter.q)}`);
  if (filter.since) parts.push(`since=${filter.since.toISOString()}`);
  if (filter.until) parts.push(`until=${filter.until.toISOString()}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

type RawQuery = Partial<Record<ParamName, string | string[]>>;

function checkNames(query: unknown, allowed: readonly ParamName[]): RawQuery {
  if (query === undefined || query === null) return {};
  if (typeof query !== 'object') throw new BadRequestError('query', 'query string could not be read');
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(query)) {
    if (!(allowed as readonly string[]).includes(name)) throw unknownParameter(name, allowed);
    if (typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string'))) {
      out[name] = value as string | string[];
    } else {
      throw new BadRequestError(name, `${name} has a value that is not text`);
    }
  }
  return out as RawQuery;
}

function unknownParameter(name: string, allowed: readonly string[]): BadRequestError {
  const accepted = allowed.length ? `accepted: ${allowed.join(', ')}` : 'this endpoint takes no parameters';
  // The name is the client's own text: echoed back, but cut short.
  const short = name.length > 50 ? `${name.slice(0, 50)}…` : name;
  const shown = JSON.stringify(short);
  if (ALL_PARAMS.includes(name)) return new BadRequestError(name, `parameter ${shown} is not accepted here; ${accepted}`);
  // Suggestions only for names long enough to be a typo of something (`x` is not a misspelt `q`).
  const guess = name.length >= 3 ? didYouMean(name, allowed) : null;
  const hint = guess ? ` (did you mean "${guess}"?)` : '';
  return new BadRequestError(short, `unknown parameter ${shown}${hint}; ${accepted}`);
}

function parseStoryFilter(raw: RawQuery): StoryFilter {
  const filter: { -readonly [K in keyof StoryFilter]: StoryFilter[K] } = { limit: DEFAULT_LIMIT };
  if (raw.limit !== undefined) filter.limit = parseLimit(single('limit', raw.limit));
  if (raw.source !== undefined) filter.sources = parseList('source', raw.source);
  if (raw.tag !== undefined) filter.tags = parseList('tag', raw.tag);
  if (raw.q !== undefined) filter.q = parseSearch(single('q', raw.q));
  if (raw.since !== undefined) filter.since = parseTimestamp('since', single('since', raw.since));
  if (raw.until !== undefined) filter.until = parseTimestamp('until', single('until', raw.until));
  if (filter.since && filter.until && filter.until.getTime() <= filter.since.getTime()) {
    throw new BadRequestError('until', 'until must be later than since (since is inclusive, until exclusive)');
  }
  // Set only when true, so "collapse=false" and no parameter give the same filter.
  if (raw.collapse !== undefined && parseBoolean('collapse', single('collapse', raw.collapse))) filter.collapseClusters = true;
  if (raw.cursor !== undefined) {
    const cursor = decodeCursor(single('cursor', raw.cursor));
    if (!cursor) throw new BadRequestError('cursor', 'cursor is not one this server issued; pass next_cursor from the previous page unchanged');
    filter.cursor = cursor;
  }
  return filter;
}

function single(name: string, value: string | string[]): string {
  if (typeof value === 'string') return value;
  if (value.length === 1) return value[0]!;
  throw new BadRequestError(name, `${name} is given ${value.length} times; give it once`);
}

function parseLimit(value: string): number {
  const n = /^\d{1,6}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw new BadRequestError('limit', `limit must be a whole number from 1 to ${MAX_LIMIT}, got ${quote(value)}`);
  }
  return n;
}

/** Comma-separated and/or repeated; trimmed, de-duplicated and sorted (order carries no meaning). */
function parseList(name: string, value: string | string[]): string[] {
  const entries = (typeof value === 'string' ? [value] : value)
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
  if (entries.length === 0) throw new BadRequestError(name, `${name} must name at least one value (comma-separated)`);
  const tooLong = entries.find((v) => v.length > MAX_LIST_ENTRY_LENGTH);
  if (tooLong !== undefined) throw new BadRequestError(name, `${name} values must be at most ${MAX_LIST_ENTRY_LENGTH} characters`);
  const unique = [...new Set(entries)].sort();
  if (unique.length > MAX_LIST_ENTRIES) throw new BadRequestError(name, `${name} may list at most ${MAX_LIST_ENTRIES} values`);
  return unique;
}

function parseSearch(value: string): string {
  const q = value.trim();
  if (q.length === 0) throw new BadRequestError('q', 'q must not be empty');
  if (q.length > MAX_QUERY_LENGTH) throw new BadRequestError('q', `q must be at most ${MAX_QUERY_LENGTH} characters`);
  return q;
}

function parseBoolean(name: string, value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new BadRequestError(name, `${name} must be true or false, got ${quote(value)}`);
}

// ISO 8601 as RFC 3339 profiles it (section 5.6): a date, or a date and time with optional seconds,
// fraction and offset. Lowercase t/z and a space separator are allowed as RFC 3339 permits.
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+\- ])(\d{2}):?(\d{2}))?)?$/;

/**
 * A date (midnight UTC) or date-time; a date-time without an offset is read as UTC, never as the
 * server's local time. A space where the offset's sign belongs is taken as '+': an unencoded '+'
 * in a query string arrives as a space (application/x-www-form-urlencoded).
 */
export function parseTimestamp(name: string, value: string): Date {
  const m = TIMESTAMP.exec(value);
  const bad = () =>
    new BadRequestError(name, `${name} must be an ISO 8601 date or date-time like 2024-05-01 or 2024-05-01T12:00:00Z, got ${quote(value)}`);
  if (!m) throw bad();
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', , sign, oh = '0', om = '0'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate() - (month === 2 && !isLeapYear(year) ? 1 : 0);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) throw bad();
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59 || Number(oh) > 23 || Number(om) > 59) throw bad();
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(Number(h), Number(mi), Number(s), Number(frac.padEnd(3, '0').slice(0, 3)));
  const offsetMinutes = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  return new Date(date.getTime() - (sign ? offsetMinutes : 0) * 60_000);
}

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function quote(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}
