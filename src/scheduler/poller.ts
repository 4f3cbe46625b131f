import os from 'node:os';
import { randomBytes } from 'node:crypto';
import cron from 'node-cron';
import type { Kysely } from 'kysely';
import type { RiverSettings } from '../domain.js';
import type { Logger } from '../log.js';
import { refreshSource, type RefreshResult } from '../ingest/refresh-source.js';
import type { Database } from '../store/database.js';
import { claimDueSources, type ClaimedSource } from '../store/sources-repo.js';
import { OutageDetector } from './outage.js';

// The scheduler: a node-cron tick claims due sources (leased in the database, so overlapping ticks
// and other processes never poll one source twice at once) and keeps at most `concurrency`
// refreshes running. A refresh never throws for a publisher's fault; anything else is caught per
// source and logged, so the loop never dies of one failure.

export interface PollerDeps {
  readonly db: Kysely<Database>;
  readonly logger: Logger;
  /** Read at every claim, so an edited feeds.yaml's settings apply without a restart. */
  readonly settings: () => RiverSettings;
  readonly owner?: string;
  /** Shared by every refresh of this process, to tell our network failing from a publisher failing. */
  readonly outage?: OutageDetector;
  /** Called after a refresh that stored new or edited stories (e.g. to ping a WebSub hub). */
  readonly onStoriesChanged?: (result: RefreshResult) => void;
}

export function newLeaseOwner(): string {
  return `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/** A lease long enough for a fetch that hits its timeout plus storing its items. */
function leaseMs(settings: RiverSettings): number {
  return settings.fetchTimeoutMs * 2 + 60_000;
}

async function safeRefresh(
  deps: PollerDeps,
  owner: string,
  outage: OutageDetector,
  maxHostWaitMs: number,
  source: ClaimedSource,
): Promise<RefreshResult | null> {
  try {
    const result = await refreshSource({ db: deps.db, logger: deps.logger, settings: deps.settings(), owner, outage, maxHostWaitMs }, source);
    if (result.counts.new + result.counts.updated > 0) deps.onStoriesChanged?.(result);
    return result;
  } catch (err) {
    deps.logger.error({ err, source_id: source.id }, 'refresh crashed');
    return null;
  }
}

export interface PassOptions {
  /** Poll every selected source regardless of its schedule (`fetch --all`). */
  readonly ignoreSchedule?: boolean;
  /** Only these source ids (`fetch --source`). */
  readonly ids?: readonly string[];
}

/**
 * One pass over the due sources, then return (`tributary fetch`). Each source is polled at most
 * once per pass, even with ignoreSchedule, because sources already handled are excluded.
 */
export async function runPass(deps: PollerDeps, opts: PassOptions = {}): Promise<RefreshResult[]> {
  const owner = deps.owner ?? newLeaseOwner();
  const outage = deps.outage ?? new OutageDetector();
  const results: RefreshResult[] = [];
  const handled = new Set<string>();
  const running = new Set<Promise<void>>();
  for (;;) {
    const settings = deps.settings();
    const free = Math.max(1, settings.concurrency - running.size);
    const ids = opts.ids?.filter((id) => !handled.has(id));
    // Sources already polled in this pass are excluded in the claim itself: claiming them
    // again would re-lease them and hide them from other pollers until the lease expired.
    const claimed =
      ids && ids.length === 0
        ? []
        : await claimDueSources(deps.db, {
            owner,
            limit: free,
            leaseMs: leaseMs(settings),
            exclude: [...handled],
            ...(opts.ignoreSchedule ? { ignoreSchedule: true } : {}),
            ...(ids ? { ids } : {}),
          });
    for (const source of claimed) {
      handled.add(source.id);
      // A one-shot pass waits for a host's budget (up to a minute) rather than skipping sources.
      const job = safeRefresh(deps, owner, outage, 60_000, source).then((r) => {
        if (r) results.push(r);
        running.delete(job);
      });
      running.add(job);
    }
    if (claimed.length < free) {
      // Nothing more is claimable now (sources leased by other pollers are theirs): drain, done.
      await Promise.all(running);
      break;
    }
    // Every slot was filled: wait for one to free, then look for more work.
    await Promise.race(running);
  }
  return results.sort((a, b) => a.sourceId.localeCompare(b.sourceId));
}

export interface Scheduler {
  /** Runs one claim round now (also used by tests and after a feeds.yaml change). */
  poke(): void;
  /** Stops claiming and waits for running refreshes to finish. */
  stop(): Promise<void>;
}

/** The long-running loop of `tributary serve`: a tick every few seconds keeps the slots filled. */
export function startScheduler(deps: PollerDeps, opts: { readonly cronExpression?: string } = {}): Scheduler {
  const owner = deps.owner ?? newLeaseOwner();
  const outage = deps.outage ?? new OutageDetector();
  const running = new Set<Promise<void>>();
  let stopped = false;
  let claiming = false;

  const fill = async (): Promise<void> => {
    if (stopped || claiming) return;
    claiming = true;
    try {
      const settings = deps.settings();
      const free = settings.concurrency - running.size;
      if (free <= 0) return;
      const claimed = await claimDueSources(deps.db, { owner, limit: free, leaseMs: leaseMs(settings) });
      for (const source of claimed) {
        // The loop gives a busy host's source back after a short wait and moves on.
        const job = safeRefresh(deps, owner, outage, 5_000, source).then(() => {
          running.delete(job);
          // A finished slot is refilled at once rather than at the next tick.
          if (!stopped) void fill();
        });
        running.add(job);
      }
    } catch (err) {
      // The database being briefly unavailable must not kill the loop: the next tick retries.
      deps.logger.error({ err }, 'scheduler tick failed');
    } finally {
      claiming = false;
    }
  };

  const task = cron.schedule(opts.cronExpression ?? '*/5 * * * * *', () => void fill());
  void fill();
  return {
    poke: () => void fill(),
    async stop() {
      stopped = true;
      await task.stop();
      await Promise.all(running);
    },
  };
}
