import { sql } from 'kysely';
import { TributaryError } from '../errors.js';
import type { Db } from './database.js';

// The cache of item pages' rel=canonical (sources with resolve_canonical: true). One row per page
// URL, whatever source linked to it: the page is the page. A row records what the last fetch found,
// a canonical, none (canonical_url null, error null), or why it failed (error set), and when, so
// pages are fetched again only once their row is older than the caller's limit, which is longer
// for answers than for failures.

export interface CachedCanonical {
  /** The canonical the page declared; null when it declared none or the fetch failed. */
  readonly canonicalUrl: string | null;
  /** HTTP status of the page's response, when there was one. */
  readonly status: number | null;
  /** Why the page could not be read; null when it was. */
  readonly error: string | null;
  readonly fetchedAt: Date;
}

export interface CanonicalRecord {
  readonly url: string;
  readonly canonicalUrl: string | null;
  readonly status: number | null;
  readonly error: string | null;
}

/** URLs per query: far below PostgreSQL's 65,535 bind parameters, and a plan that stays cheap. */
const CHUNK = 1000;
/** Error text kept per row: enough for a cause chain, not a whole HTML error page. */
const MAX_ERROR_LENGTH = 1000;

/**
 * Cached entries for `urls` fetched less than `maxAgeMs` ago, or, for failures (error set), less
 * than `failureMaxAgeMs` ago (default: the same). Ages are measured on the database clock, which
 * every worker shares. URLs without a fresh entry are absent from the map.
 */
export async function getCachedCanonicals(
  db: Db,
  urls: readonly string[],
  maxAgeMs: number,
  failureMaxAgeMs: number = maxAgeMs,
): Promise<Map<string, CachedCanonical>> {
  checkAge('maxAgeMs', maxAgeMs);
  checkAge('failureMaxAgeMs', failureMaxAgeMs);
  const result = new Map<string, CachedCanonical>();
  const unique = [...new Set(urls)];
  const okAge = sql`make_interval(secs => ${maxAgeMs / 1000})`;
  const failedAge = sql`make_interval(secs => ${failureMaxAgeMs / 1000})`;
  for (let i = 0; i < unique.length; i += CHUNK) {
    const rows = await db
      .selectFrom('page_canonicals')
      .select(['url', 'canonical_url', 'status', 'error', 'fetched_at'])
      .where('url', 'in', unique.slice(i, i + CHUNK))
      .where(sql<boolean>`fetched_at > now() - case when error is null then ${okAge} else ${failedAge} end`)
      .execute();
    for (const r of rows) {
      result.set(r.url, { canonicalUrl: r.canonical_url, status: r.status, error: r.error, fetchedAt: r.fetched_at });
    }
  }
  return result;
}

/** Records what fetching a page found (or why it failed), replacing the page's previous entry;
 * fetched_at is the database's now(). */
export async function putCanonical(db: Db, record: CanonicalRecord): Promise<void> {
  if (!record.url) throw new TributaryError('database', 'putCanonical: url is empty', { subject: 'url' });
  if (record.status !== null && !(Number.isInteger(record.status) && record.status >= 100 && record.status <= 599)) {
    throw new TributaryError('database', `putCanonical(${record.url}): status must be an HTTP status or null, got ${record.status}`, {
      subject: record.url,
    });
  }
  const error = record.error === null ? null : record.error.slice(0, MAX_ERROR_LENGTH);
  await db
    .insertInto('page_canonicals')
    .values({ url: record.url, canonical_url: record.canonicalUrl, status: record.status, error, fetched_at: sql<Date>`now()` })
    .onConflict((oc) =>
      oc.column('url').doUpdateSet((eb) => ({
        canonical_url: eb.ref('excluded.canonical_url'),
        status: eb.ref('excluded.status'),
        error: eb.ref('excluded.error'),
        fetched_at: eb.ref('excluded.fetched_at'),
      })),
    )
    .execute();
}

/** Deletes entries older than `olderThanMs` (pages long gone from every feed); returns how many. */
export async function deleteStaleCanonicals(db: Db, olderThanMs: number): Promise<number> {
  checkAge('olderThanMs', olderThanMs);
  const result = await db
    .deleteFrom('page_canonicals')
    .where(sql<boolean>`fetched_at < now() - make_interval(secs => ${olderThanMs / 1000})`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

function checkAge(name: string, ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new TributaryError('config', `page canonicals cache: ${name} must be a number of milliseconds >= 0, got ${ms}`, { subject: name });
  }
}
