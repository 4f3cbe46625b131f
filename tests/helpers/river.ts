import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli.js';
import { loadAppConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { serve, type RunningRiver } from '../../src/serve.js';
import { usingPostgres } from './db.js';

// A river under test: its own feeds.yaml and data directory in a temp folder, its own database
// (the test's PostgreSQL database when DATABASE_URL is set, else PGlite files in DATA_DIR, so a
// restart really reopens what was written).

export interface TestRiver {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  writeFeeds(yaml: string): void;
  /** Runs `tributary <args>` in-process; returns exit code and what it printed. */
  cli(...args: string[]): Promise<{ code: number; out: string; err: string }>;
  serve(): Promise<RunningRiver>;
  cleanup(): void;
}

export function createTestRiver(databaseUrl: string | null): TestRiver {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-river-'));
  const env: NodeJS.ProcessEnv = {
    FEEDS_FILE: path.join(dir, 'feeds.yaml'),
    DATA_DIR: path.join(dir, 'data'),
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    ...(usingPostgres && databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  };
  return {
    dir,
    env,
    writeFeeds(yaml) {
      fs.writeFileSync(env.FEEDS_FILE!, yaml);
    },
    async cli(...args) {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l), env, cwd: dir });
      return { code, out: out.join('\n'), err: err.join('\n') };
    },
    serve() {
      return serve(loadAppConfig(env, dir), silentLogger());
    },
    cleanup() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
