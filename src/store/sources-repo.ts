import { sql } from 'kysely';
import type { FeedScheduleHints, Source, SourceKind } from '../domain.js';
import type { KnownSource } from '../ingest/attribute.js';
import { hostKeyFor } from '../ingest/host-key.js';
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
 * URL changed forgets its validators, errors, permanent redirect and gone state and is due at once;
 * sources no longer configured become inactive (never deleted: their stories keep their attribution).
 */
export async function syncSources(db: Db, sources: readonly Source[]): Promise<SyncResult> {
  const existing = await db
    .selectFrom('sources')
    .select([
      'id',
      'url',
      'name',
      'homepage',
      'tags',
      'every_seconds',
      'enabled',
      'active',
      'adaptive',
      'effective_url',
      'kind',
      'content_policy',
      'strip',
      'resolve_canonical',
    ])
    .execute();
  const byId = new Map(existing.map((r) => [r.id, r]));
  const result: SyncResult = { added: [], changed: [], removed: [] };
  for (const s of sources) {
    const everySeconds = Math.max(1, Math.round(s.everyMs / 1000));
    const row = byId.get(s.id);
    const values = {
      url: s.url,
      name: s.name,
      homepage: s.homepage,
      tags: [...s.tags],
      every_seconds: everySeconds,
      enabled: s.enabled,
      adaptive: s.adaptive,
      kind: s.kind,
      content_policy: s.content,
      // Cast from text: node-postgres and PGlite serialise a jsonb parameter differently.
      strip: sql<string>`(${JSON.stringify(s.strip)}::text)::jsonb`,
      resolve_canonical: s.resolveCanonical,
    };
    if (!row) {
      await db
        .insertInto('sources')
        .values({ id: s.id, ...values, active: true, next_fetch_at: new Date(), next_fetch_reason: 'new source', host_key: hostKeyFor(s.url) })
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
      row.adaptive === s.adaptive &&
      row.kind === s.kind &&
      row.content_policy === s.content &&
      JSON.stringify(row.strip) === JSON.stringify(s.strip) &&
      row.resolve_canonical === s.resolveCanonical &&
      row.active;
    if (same) continue;
    await db
      .updateTable('sources')
      .set({
        ...values,
        active: true,
        updated_at: new Date(),
        ...(urlChanged || !row.active
          ? {
              etag: null,
              last_modified: null,
              error_count: 0,
              last_error: null,
              // A new URL is a new start: forget where the old one redirected to and that it was gone.
              ...(urlChanged ? { effective_url: null, gone_at: null, host_key: hostKeyFor(s.url), feed_schedule: null } : {}),
              next_fetch_at: new Date(),
              next_fetch_reason: urlChanged ? 'url changed in feeds.yaml' : 'source re-added',
            }
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
  /** The configured URL (feeds.yaml). */
  readonly url: string;
  /** Where to fetch: the permanent-redirect target when the feed moved, else the configured URL. */
  readonly fetchUrl: string;
  readonly effectiveUrl: string | null;
  readonly hostKey: string | null;
  readonly name: string | null;
  readonly homepage: string | null;
  readonly tags: string[];
  readonly everyMs: number;
  readonly adaptive: boolean;
  readonly etag: string | null;
  readonly lastModified: string | null;
  readonly errorCount: number;
  readonly feedTitle: string | null;
  readonly feedHomeUrl: string | null;
  readonly feedSchedule: FeedScheduleHints | null;
  readonly kind: SourceKind;
  readonly strip: readonly string[];
  readonly resolveCanonical: boolean;
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
 * crashed poller's sources are picked up again once it passes. Gone sources (410) are never
 * claimed, nor sources whose host asked us to wait (429/503 Retry-After), even with --all.
 */
export async function claimDueSources(db: Db, opts: ClaimOptions): Promise<ClaimedSource[]> {
  if (opts.limit <= 0) return [];
  const leaseSeconds = Math.ceil(opts.leaseMs / 1000);
  const due = db
    .selectFrom('sources')
    .select('id')
    .where('active', '=', true)
    .where('enabled', '=', true)
    .where('gone_at', 'is', null)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', sql<Date>`now()`)]))
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('hosts')
            .select('hosts.host_key')
            .whereRef('hosts.host_key', '=', 'sources.host_key')
            .where('hosts.paused_until', '>', sql<Date>`now()`),
        ),
      ),
    )
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
    .returning([
      'id',
      'url',
      'effective_url',
      'host_key',
      'name',
      'homepage',
      'tags',
      'every_seconds',
      'adaptive',
      'etag',
      'last_modified',
      'error_count',
      'feed_title',
      'feed_home_url',
      'feed_schedule',
      'kind',
      'strip',
      'resolve_canonical',
    ])
    .execute();
  return rows
    .map((r) => ({
      id: r.id,
      url: r.url,
      fetchUrl: r.effective_url ?? r.url,
      effectiveUrl: r.effective_url,
      hostKey: r.host_key ?? hostKeyFor(r.effective_url ?? r.url),
      name: r.name,
      homepage: r.homepage,
      tags: r.tags,
      everyMs: r.every_seconds * 1000,
      adaptive: r.adaptive,
      etag: r.etag,
      lastModified: r.last_modified,
      errorCount: r.error_count,
      feedTitle: r.feed_title,
      feedHomeUrl: r.feed_home_url,
      feedSchedule: r.feed_schedule,
      kind: r.kind,
      strip: r.strip,
      resolveCanonical: r.resolve_canonical,
    }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** Where the feed lives now, when a permanent redirect moved it (null keeps the configured URL). */
function movedTo(configuredUrl: string, permanentUrl: string | null | undefined) {
  if (permanentUrl === undefined) return {};
  const effective = permanentUrl && permanentUrl !== configuredUrl ? permanentUrl : null;
  return { effective_url: effective, host_key: hostKeyFor(effective ?? configuredUrl) };
}

export interface FetchSuccess {
  readonly status: number;
  readonly etag: string | null;
  readonly lastModified: string | null;
  readonly feedTitle?: string | null;
  readonly feedHomeUrl?: string | null;
  /** The feed's own polling hints; undefined keeps the stored ones (a 304 has no document). */
  readonly feedSchedule?: FeedScheduleHints;
  /** The permanent-redirect target of this fetch (null: not moved); undefined leaves it as it was. */
  readonly permanentUrl?: string | null;
  readonly nextFetchAt: Date;
  readonly nextFetchReason: string;
}

/** Records a successful poll (200 or 304) and releases the lease. */
export async function recordFetchSuccess(db: Db, source: { id: string; url: string }, owner: string, outcome: FetchSuccess): Promise<void> {
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
      next_fetch_reason: outcome.nextFetchReason,
      lease_owner: null,
      lease_until: null,
      updated_at: new Date(),
      ...(outcome.feedTitle !== undefined ? { feed_title: outcome.feedTitle } : {}),
      ...(outcome.feedHomeUrl !== undefined ? { feed_home_url: outcome.feedHomeUrl } : {}),
      // Cast from text: node-postgres and PGlite serialise a jsonb parameter differently.
      ...(outcome.feedSchedule !== undefined ? { feed_schedule: sql<string>`(${JSON.stringify(outcome.feedSchedule)}::text)::jsonb` } : {}),
      ...movedTo(source.url, outcome.permanentUrl),
    })
    .where('id', '=', source.id)
    .where((eb) => eb.or([eb('lease_owner', '=', owner), eb('lease_owner', 'is', null)]))
    .execute();
}

export interface FetchFailure {
  readonly status: number | null;
  readonly error: string;
  readonly nextFetchAt: Date;
  readonly nextFetchReason: string;
  /** False for failures that are not the publisher's (rate limiting, a suspected network outage). */
  readonly countsAsError: boolean;
  /** 410 Gone: stop polling until the URL in feeds.yaml changes. */
  readonly gone?: boolean;
  readonly permanentUrl?: string | null;
}

/** Records a failed poll on the source's row (the loop goes on) and releases the lease. */
export async function recordFetchFailure(db: Db, source: { id: string; url: string }, owner: string, outcome: FetchFailure): Promise<void> {
  await db
    .updateTable('sources')
    .set((eb) => ({
      last_fetched_at: new Date(),
      last_status: outcome.status,
      last_error: outcome.error.slice(0, 2000),
      error_count: outcome.countsAsError ? eb('error_count', '+', 1) : eb.ref('error_count'),
      next_fetch_at: outcome.nextFetchAt,
      next_fetch_reason: outcome.nextFetchReason,
      lease_owner: null,
      lease_until: null,
      updated_at: new Date(),
      ...(outcome.gone ? { gone_at: new Date() } : {}),
      ...movedTo(source.url, outcome.permanentUrl),
    }))
    .where('id', '=', source.id)
    .where((eb) => eb.or([eb('lease_owner', '=', owner), eb('lease_owner', 'is', null)]))
    .execute();
}

/**
 * Gives a claimed source back without polling it (its host's budget is spent): not a failure,
 * nothing recorded but when to try again and why.
 */
export async function deferSource(db: Db, id: string, owner: string, until: Date, reason: string): Promise<void> {
  await db
    .updateTable('sources')
    .set({ next_fetch_at: until, next_fetch_reason: reason, lease_owner: null, lease_until: null })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .execute();
}

/** Active sources, as attribution needs them to match a story's host to its publisher. */
export async function listKnownSources(db: Db): Promise<KnownSource[]> {
  const rows = await db
    .selectFrom('sources')
    .select(['id', 'url', 'name', 'homepage', 'feed_title', 'feed_home_url', 'kind'])
    .where('active', '=', true)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    url: r.url,
    name: r.name,
    homepage: r.homepage,
    feedTitle: r.feed_title,
    feedHomeUrl: r.feed_home_url,
    kind: r.kind,
  }));
}

/** Sources that moved permanently (301/308): the edits to make to feeds.yaml. */
export async function listMovedSources(db: Db): Promise<{ id: string; url: string; effectiveUrl: string }[]> {
  const rows = await db
    .selectFrom('sources')
    .select(['id', 'url', 'effective_url'])
    .where('active', '=', true)
    .where('effective_url', 'is not', null)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ id: r.id, url: r.url, effectiveUrl: r.effective_url! }));
}
