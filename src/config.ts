// Environment -> frozen, validated AppConfig. Read once at boot by the composition root and passed
// down; nothing else reads process.env. A bad value stops the process before anything starts, with
// a message naming the variable (fastify/demo does the same with its env schema).

import path from 'node:path';
import { z } from 'zod';
import { TributaryError } from './errors.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface AppConfig {
  readonly port: number;
  readonly host: string;
  /** PostgreSQL connection string; null means the embedded PGlite database under dataDir. */
  readonly databaseUrl: string | null;
  /** Absolute. */
  readonly dataDir: string;
  /** Absolute. */
  readonly feedsFile: string;
  readonly logLevel: LogLevel;
}

// Empty counts as unset: `PORT=` in a compose file or .env file means "no value", not "port zero".
const unset = (v: unknown): unknown => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const envSchema = z.object({
  // 0 is allowed: it asks the OS for a free port, which tests and one-off runs use.
  PORT: z.preprocess(
    unset,
    z
      .string()
      .trim()
      .regex(/^\d{1,5}$/, { error: 'must be a whole number from 0 to 65535' })
      .transform(Number)
      .refine((n) => n <= 65535, { error: 'must be a whole number from 0 to 65535' })
      .default(8080),
  ),
  HOST: z.preprocess(
    unset,
    z
      .string()
      .trim()
      .regex(/^[^\s/]+$/, { error: 'must be a host name or IP address to listen on, such as 0.0.0.0 or 127.0.0.1' })
      .default('0.0.0.0'),
  ),
  DATABASE_URL: z.preprocess(
    unset,
    z
      .string()
      .trim()
      .refine((s) => /^postgres(ql)?:\/\//i.test(s) && URL.canParse(s), {
        error:
          'must be a postgres:// or postgresql:// URL (percent-encode special characters in the password), or unset to use the embedded database',
      })
      .optional(),
  ),
  DATA_DIR: z.preprocess(unset, z.string().default('./data')),
  FEEDS_FILE: z.preprocess(unset, z.string().default('./feeds.yaml')),
  LOG_LEVEL: z.preprocess(
    (v) => (typeof unset(v) === 'string' ? (v as string).trim().toLowerCase() : undefined),
    z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  ),
});

type EnvName = keyof z.infer<typeof envSchema>;

// Connection strings carry passwords; they must never be echoed into logs or terminals.
const SECRET: ReadonlySet<string> = new Set<EnvName>(['DATABASE_URL']);

/**
 * Validates the environment once. Throws TributaryError('config') naming every bad variable, with
 * the first one as the error's subject.
 */
export function loadAppConfig(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      const raw = env[name];
      const got = raw === undefined || SECRET.has(name) ? '' : ` (got ${JSON.stringify(raw)})`;
      return { name, text: `${name} ${issue.message}${got}` };
    });
    throw new TributaryError('config', `invalid environment: ${problems.map((p) => p.text).join('; ')}`, {
      subject: problems[0]?.name ?? null,
    });
  }
  const e = parsed.data;
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL ?? null,
    // Resolved here, once, so a later chdir or a relative path in a log line cannot mislead.
    dataDir: path.resolve(cwd, e.DATA_DIR),
    feedsFile: path.resolve(cwd, e.FEEDS_FILE),
    logLevel: e.LOG_LEVEL,
  });
}
