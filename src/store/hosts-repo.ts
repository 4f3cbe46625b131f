import { sql, type Kysely } from 'kysely';
import { TributaryError } from '../errors.js';
import type { Database, Db } from './database.js';

// Per-host politeness shared by every worker process (issue #3). A host is a politeness key (the
// registrable domain, see ingest/host-key.ts). Its budget lives in PostgreSQL, not in process memory,
// so two pollers on two machines never add up to more than one budget:
// - host_slots: one row per request in flight; a crashed worker's rows expire with their lease;
// - hosts.last_request_at: when the latest request started, for the minimum gap between requests;
// - hosts.paused_until: a publisher's 429/503 Retry-After (RFC 9110 §10.2.3), for every source on it.
// Being told to wait is not a failure: callers reschedule the source without counting an error.

export type SlotResult = { ok: true } | { ok: false; retryAt: Date; reason: 'paused' | 'busy' | 'gap'; detail: string };

export interface SlotRequest {
  readonly hostKey: string;
  readonly sourceId: string;
  /** The worker asking (for diagnosis of stuck slots). */
  readonly owner: string;
  /** Most requests in flight to the host (settings.host_concurrency). */
  readonly limit: number;
  /** Least time between the starts of two requests to the host (settings.host_gap). */
  readonly gapMs: number;
  /** How long the slot is held if never released (a crashed worker). */
  readonly leaseMs: number;
}

interface HostState {
  paused: boolean | null;
  paused_until: Date | null;
  pause_reason: string | null;
  live: number;
  busy_until: Date;
  in_gap: boolean | null;
  gap_until: Date | null;
}

/**
 * Takes one of the host's request slots for `sourceId`, or says why not and when to ask again.
 * Runs its own short transaction; a repeated acquire by the same source replaces its slot.
 */
export async function acquireHostSlot(db: Kysely<Database>, req: SlotRequest): Promise<SlotResult> {
  checkSlotRequest(req);
  const { hostKey, sourceId, owner, limit } = req;
  const gap = sql`make_interval(secs => ${req.gapMs / 1000})`;
  const lease = sql`make_interval(secs => ${req.leaseMs / 1000})`;
  return db.transaction().execute(async (trx) => {
    await trx.insertInto('hosts').values({ host_key: hostKey }).onConflict((oc) => oc.column('host_key').doNothing()).execute();
    // The row lock serialises every worker deciding about this host: count, check and take happen
    // as one step, so ten workers racing for a limit of two get exactly two slots.
    await trx.selectFrom('hosts').select('host_key').where('host_key', '=', hostKey).forUpdate().execute();

    // A separate statement, after the lock is ours: under READ COMMITTED each statement takes a
    // fresh snapshot, so this one sees the slot and last_request_at committed by whoever held the
    // lock before us (a subquery in the locking statement would still read the older snapshot).
    // statement_timestamp() rather than now(): now() is when our transaction began, possibly before
    // we queued on the lock; the database clock is used throughout so several machines agree.
    // The CTE drops expired slots (their workers crashed); the count skips them in the same statement.
    const { rows } = await sql<HostState>`
      with expired as (
        delete from host_slots where host_key = ${hostKey} and lease_until < statement_timestamp()
      )
      select
        h.paused_until > statement_timestamp() as paused,
        h.paused_until,
        h.pause_reason,
        s.live,
        greatest(least(s.earliest_lease, statement_timestamp() + ${gap}), statement_timestamp()) as busy_until,
        h.last_request_at + ${gap} > statement_timestamp() as in_gap,
        h.last_request_at + ${gap} as gap_until
      from hosts h
      cross join lateral (
        -- The asking source's own slot does not count: re-acquiring replaces it.
        select count(*)::int as live, min(lease_until) as earliest_lease
        from host_slots
        where host_key = h.host_key and source_id <> ${sourceId} and lease_until >= statement_timestamp()
      ) s
      where h.host_key = ${hostKey}
    `.execute(trx);
    const state = rows[0];
    if (!state) throw new TributaryError('database', `hosts row for "${hostKey}" vanished while locked`, { subject: hostKey });

    if (state.paused && state.paused_until) {
      const why = state.pause_reason ? `: ${state.pause_reason}` : '';
      return refuse('paused', state.paused_until, `${hostKey} asked us to wait until ${state.paused_until.toISOString()}${why}`);
    }
    if (state.live >= limit) {
      // A slot frees when its holder releases it (any moment) or its lease ends; ask again after
      // the gap, or at the earliest lease end if that is sooner.
      return refuse('busy', state.busy_until, `${state.live} of ${limit} requests to ${hostKey} in flight`);
    }
    if (state.in_gap && state.gap_until) {
      return refuse('gap', state.gap_until, `less than ${req.gapMs} ms since the last request to ${hostKey} started`);
    }

    await trx
      .insertInto('host_slots')
      .values({ host_key: hostKey, source_id: sourceId, owner, lease_until: sql<Date>`statement_timestamp() + ${lease}` })
      .onConflict((oc) =>
        oc.columns(['host_key', 'source_id']).doUpdateSet((eb) => ({ owner: eb.ref('excluded.owner'), lease_until: eb.ref('excluded.lease_until') })),
      )
      .execute();
    // The gap is measured from the start of this request, so it is stamped when the slot is taken.
    await trx
      .updateTable('hosts')
      .set({ last_request_at: sql<Date>`statement_timestamp()`, updated_at: sql<Date>`statement_timestamp()` })
      .where('host_key', '=', hostKey)
      .execute();
    return { ok: true } as const;
  });
}

/** Gives back the slot `sourceId` holds on the host (nothing happens when it holds none). */
export async function releaseHostSlot(db: Db, req: { readonly hostKey: string; readonly sourceId: string }): Promise<void> {
  await db.deleteFrom('host_slots').where('host_key', '=', req.hostKey).where('source_id', '=', req.sourceId).execute();
}

/**
 * Pauses every request to the host until `until` (a 429/503 Retry-After). An existing later pause
 * is kept, with its reason: a second, shorter Retry-After does not cut short what the publisher
 * asked for first.
 */
export async function pauseHost(db: Db, hostKey: string, until: Date, reason: string): Promise<void> {
  if (!hostKey) throw new TributaryError('database', 'pauseHost: hostKey is empty', { subject: 'hostKey' });
  if (!(until instanceof Date) || Number.isNaN(until.getTime())) {
    throw new TributaryError('database', `pauseHost: "until" for ${hostKey} is not a valid date`, { subject: hostKey });
  }
  await db
    .insertInto('hosts')
    .values({ host_key: hostKey, paused_until: until, pause_reason: reason, updated_at: sql<Date>`now()` })
    .onConflict((oc) =>
      oc.column('host_key').doUpdateSet({
        // greatest() ignores nulls, so a host never paused before takes the new time.
        paused_until: sql<Date>`greatest(hosts.paused_until, excluded.paused_until)`,
        pause_reason: sql<string | null>`case when hosts.paused_until > excluded.paused_until then hosts.pause_reason else excluded.pause_reason end`,
        updated_at: sql<Date>`now()`,
      }),
    )
    .execute();
}

/** Hosts whose pause is still in the future (all of them, or only `hostKeys`), by host key. */
export async function hostPauses(db: Db, hostKeys?: readonly string[]): Promise<Map<string, { until: Date; reason: string | null }>> {
  const result = new Map<string, { until: Date; reason: string | null }>();
  if (hostKeys !== undefined && hostKeys.length === 0) return result;
  const rows = await db
    .selectFrom('hosts')
    .select(['host_key', 'paused_until', 'pause_reason'])
    .where('paused_until', '>', sql<Date>`now()`)
    .$if(hostKeys !== undefined, (qb) => qb.where('host_key', 'in', [...new Set(hostKeys)]))
    .orderBy('host_key')
    .execute();
  for (const r of rows) if (r.paused_until) result.set(r.host_key, { until: r.paused_until, reason: r.pause_reason });
  return result;
}

function refuse(reason: 'paused' | 'busy' | 'gap', retryAt: Date, detail: string): SlotResult {
  return { ok: false, retryAt, reason, detail };
}

/** Wrong settings would otherwise surface as a SQL error or a host that is never fetched. */
function checkSlotRequest(req: SlotRequest): void {
  const where = `acquireHostSlot(${JSON.stringify(req.hostKey)}, source ${JSON.stringify(req.sourceId)})`;
  const bad = (what: string) => new TributaryError('config', `${where}: ${what}`, { subject: req.hostKey || req.sourceId });
  if (!req.hostKey) throw bad('hostKey is empty');
  if (!req.sourceId) throw bad('sourceId is empty');
  if (!req.owner) throw bad('owner is empty');
  if (!Number.isInteger(req.limit) || req.limit < 1) throw bad(`limit (host_concurrency) must be an integer >= 1, got ${req.limit}`);
  if (!Number.isFinite(req.gapMs) || req.gapMs < 0) throw bad(`gapMs (host_gap) must be >= 0, got ${req.gapMs}`);
  if (!Number.isFinite(req.leaseMs) || req.leaseMs <= 0) throw bad(`leaseMs must be > 0, got ${req.leaseMs}`);
}
