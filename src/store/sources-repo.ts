import { sql } from 'kysely';
import type { Source } from '../domain.js';
import type { KnownSource } from '../ingest/attribute.js';
import type { Db } from './database.js';

// The write side of sources: keeping rows in step with feeds.yaml, leasing due sources to one
// poller at a time, and recording each poll's outcome.

export interface SyncResult {
  readonly added: string[];
  readonly changed: string[];
  readonly removed: string[];
}

/**
 * Makes the sources table match the configured list. New sources are due at once; a source whose
 * URL changed forgets its validators and errors and is due at once; sources no longer configured
 * become inactive (never deleted: their stories keep their attribution).
 */
export async function syncSources(db: Db, sources: readonly Source[]): Promise<SyncResult> {
  const existing = await db.selectFrom('sources').select(['id', 'url', 'name', 'homepage', 'tags', 'every_seconds', 'enabled', 'active']).execute();
  const byId = new Map(existing.map((r) => [r.id, r]));
  const result: SyncResult = { added: [], changed: [], removed: [] };
  for (const s of sources) {
    const everySeconds = Math.max(1, Math.round(s.everyMs / 1000));
    const row = byId.get(s.id);
    const values = { url: s.url, name: s.name, homepage: s.homepage, tags: [...s.tags], every_seconds: everySeconds, enabled: s.enabled };
    if (!row) {
      await db
        .insertInto('sources')
        .values({ id: s.id, ...values, active: true, next_fetch_at: new Date() })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      result.added.push(s.id);
      continue;
    }
    const urlChanged = row.url !== s.url;
    const same =
      !urlChanged &&
      row.name === s.name &&
      row.homepage === s.homepage &&
      row.tags.join('\u0000') === s.tags.join('\u0000') &&
      row.every_seconds === everySeconds &&
      row.enabled === s.enabled &&
      row.active;
    if (same) continue;
    await db
      .updateTable('sources')
      .set({
        ...values,
        active: true,
        updated_at: new Date(),
        ...(urlChanged || !row.active
          ? { etag: null, last_modified: null, error_count: 0, last_error: null, next_fetch_at: new Date() }
          : {}),
      })
      .where('id', '=', s.id)
      .execute();
    // A shorter interval takes effect now rather than after the old, longer wait.
    if (!urlChanged && row.active && everySeconds < row.every_seconds) {
      await db
        .updateTable('sources')
        .set({ next_fetch_at: sql<Date>`least(next_fetch_at, coalesce(last_fetched_at, now()) + make_interval(secs => ${everySeconds}))` })
        .where('id', '=', s.id)
        .execute();
    }
    result.changed.push(s.id);
  }
  const configured = new Set(sources.map((s) => s.id));
  for (const row of existing) {
    if (row.active && !configured.has(row.id)) {
      await db.updateTable('sources').set({ active: false, lease_owner: null, lease_until: null, updated_at: new Date() }).where('id', '=', row.id).execute();
      result.removed.push(row.id);
    }
  }
  return result;
}

export interface ClaimedSource {
  readonly id: string;
  readonly url: string;
  readonly name: string | null;
  readonly homepage: string | null;
  readonly tags: string[];
  readonly everyMs: number;
  readonly etag: string | null;
  readonly lastModified: string | null;
  readonly errorCount: number;
  readonly feedTitle: string | null;
  readonly feedHomeUrl: string | null;
}

export interface ClaimOptions {
  readonly owner: string;
  readonly limit: number;
  readonly leaseMs: number;
  /** Claim regardless of next_fetch_at (`fetch --all`). */
  readonly ignoreSchedule?: boolean;
  /** Only these sources. */
  readonly ids?: readonly string[];
  /** Never these (already polled in this pass). */
  readonly exclude?: readonly string[];
}

/**
 * Leases up to `limit` due sources to `owner`. FOR UPDATE SKIP LOCKED lets overlapping ticks and
 * other processes claim disjoint sets without waiting on each other; the lease expiry means a
 * crashed poller's sources are picked up again once it passes.
 */
export async function claimDueSources(db: Db, opts: ClaimOptions): Promise<ClaimedSource[]> {
  if (opts.limit <= 0) return [];
  const leaseSeconds = Math.ceil(opts.leaseMs / 1000);
  const due = db
    .selectFrom('sources')
    .select('id')
    .where('active', '=', true)
    .where('enabled', '=', true)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', sql<Date>`now()`)]))
    .$if(!opts.ignoreSchedule, (qb) => qb.where('next_fetch_at', '<=', sql<Date>`now()`))
    .$if(opts.ids !== undefined, (qb) => qb.where('id', 'in', opts.ids!.length ? [...opts.ids!] : ['\u0000']))
    .$if(Boolean(opts.exclude?.length), (qb) => qb.where('id', 'not in', [...opts.exclude!]))
    .orderBy('next_fetch_at')
    .orderBy('id')
    .limit(opts.limit)
    .forUpdate()
    .skipLocked();
  const rows = await db
    .updateTable('sources')
    .set({ lease_owner: opts.owner, lease_until: sql<Date>`now() + make_interval(secs => ${leaseSeconds})` })
    .where('id', 'in', due)
    .returning(['id', 'url', 'name', 'homepage', 'tags', 'every_seconds', 'etag', 'last_modified', 'error_count', 'feed_title', 'feed_home_url'])
    .execute();
  return rows
    .map((r) => ({
      id: r.id,
      url: r.url,
      name: r.name,
      homepage: r.homepage,
      tags: r.tags,
      everyMs: r.every_seconds * 1000,
      etag: r.etag,
      lastModified: r.last_modified,
      errorCount: r.error_count,
      feedTitle: r.feed_title,
      feedHomeUrl: r.feed_home_url,
    }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

export interface FetchSuccess {
  readonly status: number;
  readonly etag: string | null;
  readonly lastModified: string | null;
  readonly feedTitle?: string | null;
  readonly feedHomeUrl?: string | null;
  readonly nextFetchAt: Date;
}

/** Records a successful poll (200 or 304) and releases the lease. */
export async function recordFetchSuccess(db: Db, id: string, owner: string, outcome: FetchSuccess): Promise<void> {
  await db
    .updateTable('sources')
    .set({
      last_fetched_at: new Date(),
      last_status: outcome.status,
      last_error: null,
      error_count: 0,
      etag: outcome.etag,
      last_modified: outcome.lastModified,
      next_fetch_at: outcome.nextFetchAt,
      lease_owner: null,
      lease_until: null,
      updated_at: new Date(),
      ...(outcome.feedTitle !== undefined ? { feed_title: outcome.feedTitle } : {}),
      ...(outcome.feedHomeUrl !== undefined ? { feed_home_url: outcome.feedHomeUrl } : {}),
    })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('lease_owner', '=', owner), eb('lease_owner', 'is', null)]))
    .execute();
}

export interface FetchFailure {
  readonly status: number | null;
  readonly error: string;
  readonly nextFetchAt: Date;
}

/** Records a failed poll on the source's row (the loop goes on) and releases the lease. */
export async function recordFetchFailure(db: Db, id: string, owner: string, outcome: FetchFailure): Promise<void> {
  await db
    .updateTable('sources')
    .set((eb) => ({
      last_fetched_at: new Date(),
      last_status: outcome.status,
      last_error: outcome.error.slice(0, 2000),
      error_count: eb('error_count', '+', 1),
      next_fetch_at: outcome.nextFetchAt,
      lease_owner: null,
      lease_until: null,
      updated_at: new Date(),
    }))
    .where('id', '=', id)
    .where((eb) => eb.or([eb('lease_owner', '=', owner), eb('lease_owner', 'is', null)]))
    .execute();
}

/** Active sources, as attribution needs them to match a story's host to its publisher. */
export async function listKnownSources(db: Db): Promise<KnownSource[]> {
  const rows = await db
    .selectFrom('sources')
    .select(['id', 'url', 'name', 'homepage', 'feed_title', 'feed_home_url'])
    .where('active', '=', true)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ id: r.id, url: r.url, name: r.name, homepage: r.homepage, feedTitle: r.feed_title, feedHomeUrl: r.feed_home_url }));
}
