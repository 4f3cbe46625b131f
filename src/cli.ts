import fs from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadAppConfig, type AppConfig } from './config.js';
import type { SourceStatus, Story } from './domain.js';
import { IMPORT_OPML_SUMMARY, IMPORT_OPML_USAGE, runImportOpml } from './commands/import-opml.js';
import { renderSourceHistory, renderSourcesTable } from './commands/sources-table.js';
import { fetchLogJson, sourceJson } from './http/api-routes.js';
import { describeError, TributaryError } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { loadRiver, openStore } from './app.js';
import { serve, type RunningRiver } from './serve.js';
import { closeFetchAgents } from './ingest/fetch-feed.js';
import { runPass } from './scheduler/poller.js';
import { formatProblem, loadFeedsFile, locateFeedValue } from './sources.js';
import { listStories } from './store/items-query.js';
import { migrate } from './store/migrate.js';
import { listMovedSources, syncSources } from './store/sources-repo.js';
import { getSourceHistory, getSourceStatus, listSourceStatuses } from './store/sources-query.js';
import { VERSION } from './version.js';

// The `tributary` command. Output meant for people goes to stdout; logs (JSON) go to stderr.
// Exit codes: 0 done (also when some publishers failed: that is recorded, not fatal),
// 1 the input is invalid (check), 2 the command could not run at all.

type Out = (line: string) => void;

interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, string | boolean | string[] | undefined>, ctx: Ctx): Promise<number>;
}

interface Ctx {
  readonly out: Out;
  readonly err: Out;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  appConfig(): AppConfig;
  logger(config: AppConfig, quiet?: boolean): Logger;
}

const ENV_HELP = `Environment:
  FEEDS_FILE    feeds.yaml to read (default ./feeds.yaml)
  DATABASE_URL  PostgreSQL URL; unset = embedded database in DATA_DIR
  DATA_DIR      where the embedded database lives (default ./data)
  LOG_LEVEL     trace|debug|info|warn|error|silent (default info)`;

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

const commands: Record<string, Command> = {
  serve: {
    summary: 'serve the river over HTTP and poll sources on schedule',
    usage: `tributary serve [--no-worker]

Serves /feed.xml, /feed.atom, /feed.json, /api/items, /api/sources and /healthz on HOST:PORT
(default 0.0.0.0:8080), polls the sources of feeds.yaml on their schedule, and picks up edits to
feeds.yaml without a restart.

Options:
  --no-worker   serve HTTP only; poll with another process (needs DATABASE_URL)

Environment: PORT, HOST, plus
${ENV_HELP}`,
    options: { 'no-worker': { type: 'boolean' } },
    async run(values, ctx) {
      const config = ctx.appConfig();
      const logger = ctx.logger(config);
      if (values['no-worker'] && !config.databaseUrl) {
        logger.warn('serve --no-worker on the embedded database: nothing will poll (a worker needs DATABASE_URL to share it)');
      }
      return runUntilSignal(logger, await serve(config, logger, { worker: values['no-worker'] !== true }));
    },
  },
  worker: {
    summary: 'poll sources on schedule without serving HTTP (several may share one PostgreSQL)',
    usage: `tributary worker

Runs the scheduler and fetcher only. Several workers, on one machine or many, can share one
PostgreSQL database (DATABASE_URL): each due source is leased to one worker at a time, and the
politeness budget per publisher host is kept in the database, so it holds across all of them.
Pair with 'tributary serve --no-worker' for the HTTP side.

${ENV_HELP}`,
    options: {},
    async run(_values, ctx) {
      const config = ctx.appConfig();
      const logger = ctx.logger(config);
      return runUntilSignal(logger, await serve(config, logger, { http: false }));
    },
  },
  sources: {
    summary: 'show each source: state, last fetch, next fetch and why, errors',
    usage: `tributary sources [--source ID] [--all] [--json]

Options:
  --source ID   one source, with its fetch history
  --all         include sources removed from feeds.yaml
  --json        JSON as /api/sources (or /api/sources/:id) serves it

${ENV_HELP}`,
    options: { source: { type: 'string' }, all: { type: 'boolean' }, json: { type: 'boolean' } },
    async run(values, ctx) {
      const config = ctx.appConfig();
      const logger = ctx.logger(config, true);
      const store = await openStore(config, logger);
      try {
        const now = new Date();
        if (typeof values.source === 'string') {
          const status = await getSourceStatus(store.db, values.source);
          if (!status) throw new TributaryError('not-found', `no source with id ${values.source}`);
          const history = await getSourceHistory(store.db, values.source);
          if (values.json) ctx.out(JSON.stringify({ ...sourceJson(status), history: history.map(fetchLogJson) }, null, 2));
          else ctx.out(`${renderSourcesTable([status], now)}\n\n${renderSourceHistory(history, now)}`);
          return 0;
        }
        const statuses = await listSourceStatuses(store.db, { includeInactive: values.all === true });
        if (values.json) ctx.out(JSON.stringify({ sources: statuses.map((s) => sourceJson(s)) }, null, 2));
        else ctx.out(statuses.length ? renderSourcesTable(statuses, now) : 'no sources yet (run tributary fetch or serve)');
        return 0;
      } finally {
        await store.close();
      }
    },
  },
  fetch: {
    summary: 'poll due sources once, store their stories, print a summary, exit',
    usage: `tributary fetch [--all] [--source ID ...]

One pass over the sources that are due, then exit. Exits 0 even when some publishers failed
(their errors are recorded and printed); non-zero only when it could not run at all.

Options:
  --all          poll every enabled source regardless of its interval
  --source ID    poll only this source (repeatable; implies --all for it)
  --json         print the summary as JSON

${ENV_HELP}`,
    options: { all: { type: 'boolean' }, source: { type: 'string', multiple: true }, json: { type: 'boolean' } },
    async run(values, ctx) {
      const config = ctx.appConfig();
      const logger = ctx.logger(config, true);
      const river = await loadRiver(config);
      const ids = values.source as string[] | undefined;
      const unknown = (ids ?? []).filter((id) => !river.feeds.some((f) => f.id === id));
      if (unknown.length) throw new TributaryError('config', `no source with id ${unknown.join(', ')} in ${config.feedsFile}`);
      const store = await openStore(config, logger);
      try {
        await syncSources(store.db, river.feeds);
        const results = await runPass(
          { db: store.db, logger, settings: () => river.settings },
          { ...(values.all || ids ? { ignoreSchedule: true } : {}), ...(ids ? { ids } : {}) },
        );
        // Sources asked for by id but not polled: say why rather than 'nothing due'.
        const notPolled: string[] = [];
        for (const id of ids ?? []) {
          if (results.some((r) => r.sourceId === id)) continue;
          const status = await getSourceStatus(store.db, id);
          notPolled.push(`${id}: not polled: ${status ? whyNotPolled(status) : 'unknown source'}`);
        }
        if (values.json) {
          ctx.out(JSON.stringify({ results, not_polled: notPolled }, null, 2));
        } else if (results.length === 0) {
          if (notPolled.length) for (const line of notPolled) ctx.out(line);
          else ctx.out('no sources due (use --all to poll every source now)');
        } else {
          ctx.out(`${pad('SOURCE', 24)} ${pad('RESULT', 13)} ${pad('STATUS', 6)} ${pad('NEW', 4)} ${pad('UPD', 4)} ${pad('SAME', 4)} ${pad('TIME', 7)} ERROR / NEXT`);
          for (const r of results) {
            ctx.out(
              `${pad(r.sourceId, 24)} ${pad(r.outcome, 13)} ${pad(String(r.status ?? '-'), 6)} ${pad(String(r.counts.new), 4)} ${pad(String(r.counts.updated), 4)} ${pad(String(r.counts.unchanged), 4)} ${pad(`${r.durationMs}ms`, 7)} ${r.error ?? `next: ${r.nextFetchReason}`}`.trimEnd(),
            );
          }
          for (const r of results) {
            if (r.movedTo) ctx.out(`  ${r.sourceId} moved permanently to ${r.movedTo}: edit its url in feeds.yaml (tributary check shows where)`);
          }
          for (const line of notPolled) ctx.out(line);
          const failed = results.filter((r) => r.outcome === 'failed').length;
          const fresh = results.reduce((n, r) => n + r.counts.new, 0);
          ctx.out(`${results.length} sources polled, ${failed} failed, ${fresh} new stories`);
        }
        return 0;
      } finally {
        await store.close();
        await closeFetchAgents();
      }
    },
  },
  check: {
    summary: 'validate feeds.yaml and list every problem as file:line:col: message',
    usage: `tributary check [FILE]

Validates FILE (default: FEEDS_FILE or ./feeds.yaml). Exits 0 when valid, 1 with every problem
listed as file:line:col: message.`,
    options: {},
    async run(values, ctx) {
      const positionals = values._ as unknown as string[];
      const file = positionals[0] ?? ctx.appConfig().feedsFile;
      const result = await loadFeedsFile(file);
      if (!result.ok) {
        for (const p of result.problems) ctx.out(formatProblem(p));
        ctx.err(`${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} in ${file}`);
        return 1;
      }
      const enabled = result.config.feeds.filter((f) => f.enabled).length;
      ctx.out(`${file}: ok (${result.config.feeds.length} sources, ${enabled} enabled)`);
      for (const line of await movedAdvice(ctx, file)) ctx.out(line);
      return 0;
    },
  },
  items: {
    summary: 'list stored stories, newest first',
    usage: `tributary items [--source ID] [--tag T] [--q TEXT] [--since ISO] [--limit N] [--json]

Options:
  --source ID   stories that came through this source (repeatable)
  --tag T       stories from sources with this tag (repeatable)
  --q TEXT      full-text search (PostgreSQL websearch syntax: "exact phrase", -word, or)
  --since ISO   published at or after this time (e.g. 2026-11-01 or 2026-11-01T08:00:00Z)
  --limit N     at most N stories (1-500, default 20)
  --json        one JSON document instead of a table

${ENV_HELP}`,
    options: {
      source: { type: 'string', multiple: true },
      tag: { type: 'string', multiple: true },
      q: { type: 'string' },
      since: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    },
    async run(values, ctx) {
      const limit = values.limit === undefined ? 20 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new TributaryError('bad-request', `--limit must be an integer from 1 to 500, got "${String(values.limit)}"`);
      let since: Date | undefined;
      if (values.since !== undefined) {
        since = new Date(String(values.since));
        if (Number.isNaN(since.getTime())) throw new TributaryError('bad-request', `--since must be an ISO 8601 date, got "${String(values.since)}"`);
      }
      const config = ctx.appConfig();
      const logger = ctx.logger(config, true);
      const store = await openStore(config, logger);
      try {
        const { stories } = await listStories(store.db, {
          limit,
          ...(values.source ? { sources: values.source as string[] } : {}),
          ...(values.tag ? { tags: values.tag as string[] } : {}),
          ...(typeof values.q === 'string' && values.q.trim() ? { q: values.q } : {}),
          ...(since ? { since } : {}),
        });
        if (values.json) ctx.out(JSON.stringify({ items: stories.map(storyJson) }, null, 2));
        else for (const s of stories) ctx.out(storyLine(s));
        if (!values.json && stories.length === 0) ctx.err('no stories match');
        return 0;
      } finally {
        await store.close();
      }
    },
  },
  'import-opml': {
    summary: IMPORT_OPML_SUMMARY,
    usage: `${IMPORT_OPML_USAGE}\n\n${ENV_HELP}`,
    options: { 'dry-run': { type: 'boolean' } },
    async run(values, ctx) {
      const [file] = values._ as unknown as string[];
      if (!file) throw new TributaryError('bad-request', 'import-opml needs the OPML file: tributary import-opml FILE');
      return runImportOpml({ opmlFile: path.resolve(ctx.cwd, file), feedsFile: ctx.appConfig().feedsFile, dryRun: values['dry-run'] === true }, ctx);
    },
  },
  migrate: {
    summary: 'create or update the database schema, then exit',
    usage: `tributary migrate

Applies pending migrations (migrations/*.sql) to the database (DATABASE_URL, or the embedded one).
Other commands migrate on start too; this is for deploy scripts.

${ENV_HELP}`,
    options: {},
    async run(_values, ctx) {
      const config = ctx.appConfig();
      const logger = ctx.logger(config, true);
      const store = await openStore(config, logger);
      try {
        const again = await migrate(store.db);
        ctx.out(`schema up to date (${store.description})${again.length ? `; applied ${again.length}` : ''}`);
        return 0;
      } finally {
        await store.close();
      }
    },
  },
};

/** Why a source could not be polled now (gone, its host paused, disabled, another poller has it). */
function whyNotPolled(s: SourceStatus): string {
  if (!s.enabled) return 'disabled in feeds.yaml';
  if (s.goneAt) return `gone since ${s.goneAt.toISOString()} (410); change its url in feeds.yaml to poll it again`;
  if (s.hostPausedUntil) return `its host asked us to wait until ${s.hostPausedUntil.toISOString()} (Retry-After)`;
  return 'another poller holds it right now';
}

async function runUntilSignal(logger: Logger, running: RunningRiver): Promise<number> {
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      running.close().then(resolve, (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        resolve();
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

/**
 * The feeds.yaml edits that permanent redirects call for, as `file:line:col: message` lines.
 * Read from the database when there is one to read (PostgreSQL, or an embedded database that no
 * other process holds); checking the file never creates a database.
 */
async function movedAdvice(ctx: Ctx, file: string): Promise<string[]> {
  const config = ctx.appConfig();
  if (!config.databaseUrl && !fs.existsSync(path.join(config.dataDir, 'pglite'))) return [];
  let store;
  try {
    store = await openStore(config, ctx.logger(config, true));
  } catch (err) {
    return [`(moved feeds not checked: ${err instanceof TributaryError ? err.message : describeError(err)})`];
  }
  try {
    const moved = await listMovedSources(store.db);
    const text = fs.readFileSync(file, 'utf8');
    return moved.map((m) => {
      const at = locateFeedValue(text, m.id, 'url');
      return `${file}:${at?.line ?? 1}:${at?.col ?? 1}: feed "${m.id}" moved permanently (301/308) to ${m.effectiveUrl}; change its url to ${m.effectiveUrl}`;
    });
  } finally {
    await store.close();
  }
}

function storyJson(s: Story) {
  return {
    id: s.id,
    title: s.title,
    url: s.url,
    publisher: { name: s.publisher.name, url: s.publisher.url },
    via: s.via,
    author: s.author,
    published_at: s.publishedAt.toISOString(),
    updated_at: s.updatedAt.toISOString(),
    summary: s.summary,
    tags: s.tags,
  };
}

function storyLine(s: Story): string {
  const when = s.publishedAt.toISOString().slice(0, 16).replace('T', ' ');
  return `${when}  ${s.title}\n                  ${s.publisher.name}${s.via.length ? ` (via ${s.via.join(', ')})` : ''}  ${s.url ?? ''}`;
}

function mainHelp(): string {
  const names = Object.keys(commands);
  const width = Math.max(...names.map((n) => n.length)) + 2;
  return `tributary ${VERSION}: many publisher feeds in, one deduplicated, attributed river out

Usage: tributary <command> [options]

Commands:
${names.map((n) => `  ${pad(n, width)}${commands[n]!.summary}`).join('\n')}

Run 'tributary <command> --help' for a command's options.`;
}

export async function runCli(argv: readonly string[], io: { out: Out; err: Out; env?: NodeJS.ProcessEnv; cwd?: string } = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (l) => process.stderr.write(l + '\n'),
}): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(mainHelp());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    io.out(VERSION);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    io.err(`tributary: unknown command "${name}"\n\n${mainHelp()}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...rest], options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    io.err(`tributary ${name}: ${describeError(err)}\n\nUsage: ${command.usage}`);
    return 2;
  }
  if (parsed.values.help) {
    io.out(`Usage: ${command.usage}`);
    return 0;
  }
  if (parsed.positionals.length && name !== 'check' && name !== 'import-opml') {
    io.err(`tributary ${name}: unexpected argument "${parsed.positionals[0]}"\n\nUsage: ${command.usage}`);
    return 2;
  }
  const env = io.env ?? process.env;
  const cwd = io.cwd ?? process.cwd();
  let appConfig: AppConfig | null = null;
  const ctx: Ctx = {
    out: io.out,
    err: io.err,
    env,
    cwd,
    appConfig: () => (appConfig ??= loadAppConfig(env, cwd)),
    // One-shot commands log warnings only unless LOG_LEVEL asks for more: their summary is the output.
    logger: (config, quiet) => createLogger(quiet && !env.LOG_LEVEL ? 'warn' : config.logLevel),
  };
  try {
    return await command.run({ ...parsed.values, _: parsed.positionals } as never, ctx);
  } catch (err) {
    io.err(`tributary ${name}: ${err instanceof TributaryError ? err.message : describeError(err)}`);
    if (!(err instanceof TributaryError) && err instanceof Error && err.stack) io.err(err.stack);
    return 2;
  }
}
