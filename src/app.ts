import type { AppConfig } from './config.js';
import type { RiverConfig } from './domain.js';
import { TributaryError } from './errors.js';
import type { Logger } from './log.js';
import { formatProblem, loadFeedsFile } from './sources.js';
import { openDatabase, type DatabaseHandle } from './store/db.js';
import { migrate } from './store/migrate.js';
import { reidentify } from './store/reidentify.js';

// Shared start-up steps of the commands: read feeds.yaml once (fail fast with every problem
// listed), open the database the environment points at, bring its schema up to date.

export async function loadRiver(config: AppConfig): Promise<RiverConfig> {
  const result = await loadFeedsFile(config.feedsFile);
  if (!result.ok) {
    const lines = result.problems.map(formatProblem).join('\n');
    throw new TributaryError('config', `${config.feedsFile} is invalid:\n${lines}`, { subject: config.feedsFile });
  }
  return result.config;
}

export async function openStore(config: AppConfig, logger: Logger): Promise<DatabaseHandle> {
  const handle = config.databaseUrl
    ? await openDatabase({ kind: 'postgres', url: config.databaseUrl })
    : await openDatabase({ kind: 'pglite', dataDir: config.dataDir });
  try {
    const applied = await migrate(handle.db);
    if (applied.length) logger.info({ migrations: applied.map((m) => `${m.version}_${m.name}`) }, 'migrated');
    // Stories stored under older identity rules are re-keyed (and merged where the new rules say
    // two were one); a no-op when none are older.
    const rekeyed = await reidentify(handle.db, { logger });
    if (rekeyed.rekeyed || rekeyed.merged) logger.info(rekeyed, 'stories re-identified under the current identity rules');
  } catch (err) {
    await handle.close();
    throw err;
  }
  logger.debug({ database: handle.description }, 'database open');
  return handle;
}

/** The public URL self links use: feeds.yaml base_url, else http://localhost:PORT. */
export function publicBaseUrl(river: RiverConfig, config: AppConfig): string {
  return (river.baseUrl ?? `http://localhost:${config.port}`).replace(/\/+$/, '');
}
