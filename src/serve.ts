import type { AppConfig } from './config.js';
import type { RiverConfig } from './domain.js';
import type { Logger } from './log.js';
import { loadRiver, openStore, publicBaseUrl } from './app.js';
import { riverFeedPaths } from './http/feed-outputs.js';
import { buildServer } from './http/server.js';
import { createWebSubPublisher } from './http/websub.js';
import { closeFetchAgents } from './ingest/fetch-feed.js';
import { startScheduler, type Scheduler } from './scheduler/poller.js';
import { formatProblem } from './sources.js';
import { watchFeedsFile } from './sources-watch.js';
import { syncSources } from './store/sources-repo.js';


type WebSubPublisher = ReturnType<typeof createWebSubPublisher>;
// `tributary serve`: the composition root of the long-running process. Config, database,
// migrations, sources synced from feeds.yaml, the scheduler, HTTP, a feeds.yaml watcher, and an
// orderly shutdown on SIGINT/SIGTERM.

export interface RunningRiver {
  /** Where HTTP listens; empty when running as a worker only. */
  readonly url: string;
  /** Resolves when the process has shut down. */
  close(): Promise<void>;
}

export interface ServeOptions {
  /** Poll sources on schedule (default true). `serve --no-worker` leaves polling to `tributary worker`. */
  readonly worker?: boolean;
  /** Serve HTTP (default true). `tributary worker` runs the scheduler alone. */
  readonly http?: boolean;
}

export async function serve(config: AppConfig, logger: Logger, opts: ServeOptions = {}): Promise<RunningRiver> {
  let river: RiverConfig = await loadRiver(config);
  const store = await openStore(config, logger);
  const { db } = store;
  try {
    const synced = await syncSources(db, river.feeds);
    logger.info({ feeds_file: config.feedsFile, sources: river.feeds.length, ...synced }, 'sources loaded');
  } catch (err) {
    await store.close();
    throw err;
  }

  // WebSub (settings.websub_hub): the process that polls pings the hub when stories land.
  let websub: WebSubPublisher | null = null;
  const startWebSub = () =>
    river.settings.websubHub && opts.worker !== false
      ? createWebSubPublisher({
          hubUrl: river.settings.websubHub,
          publicBaseUrl: () => publicBaseUrl(river, config),
          riverPaths: () => riverFeedPaths(river),
          logger,
        })
      : null;
  websub = startWebSub();

  const scheduler: Scheduler | null =
    opts.worker === false
      ? null
      : startScheduler({ db, logger, settings: () => river.settings, onStoriesChanged: () => websub?.notifyChanged() });

  // An edit to feeds.yaml applies without a restart; an invalid edit is reported and the last
  // good configuration keeps running.
  let applying = Promise.resolve();
  const watcher = watchFeedsFile(config.feedsFile, {
    onChange(next) {
      applying = applying.then(async () => {
        try {
          const synced = await syncSources(db, next.feeds);
          const hubChanged = next.settings.websubHub !== river.settings.websubHub;
          river = next;
          if (hubChanged) {
            // The hub is fixed when a publisher is made: replace it.
            await websub?.close();
            websub = startWebSub();
          }
          logger.info({ feeds_file: config.feedsFile, ...synced }, 'feeds.yaml reloaded');
          scheduler?.poke();
        } catch (err) {
          logger.error({ err, feeds_file: config.feedsFile }, 'could not apply feeds.yaml change');
        }
      });
    },
    onInvalid(problems) {
      logger.error(
        { feeds_file: config.feedsFile, problems: problems.map(formatProblem) },
        'feeds.yaml is invalid; keeping the last good configuration',
      );
    },
    onError(err) {
      logger.error({ err, feeds_file: config.feedsFile }, 'watching feeds.yaml failed');
    },
  }, { current: river });

  const app =
    opts.http === false
      ? null
      : buildServer({
          db,
          logger,
          river: () => river,
          publicBaseUrl: () => publicBaseUrl(river, config),
        });
  let address = '';
  try {
    if (app) address = await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    watcher.close();
    await scheduler?.stop();
    await store.close();
    throw err;
  }
  if (app) logger.info({ url: address, public_url: publicBaseUrl(river, config), database: store.description, worker: scheduler !== null }, 'serving the river');
  else logger.info({ database: store.description, sources: river.feeds.length }, 'worker polling');

  let closing: Promise<void> | null = null;
  return {
    url: address,
    close() {
      closing ??= (async () => {
        watcher.close();
        await app?.close();
        await scheduler?.stop();
        await applying;
        await websub?.close();
        await store.close();
        await closeFetchAgents();
      })();
      return closing;
    },
  };
}
