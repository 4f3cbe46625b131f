import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { TributaryError } from '../errors.js';
import { lockDataDir, type DataDirLock } from './data-dir-lock.js';
import type { Database } from './database.js';
import { PGliteDialect } from './pglite-dialect.js';

export type DatabaseTarget =
  | { readonly kind: 'postgres'; readonly url: string; readonly poolSize?: number }
  | { readonly kind: 'pglite'; readonly dataDir: string }
  | { readonly kind: 'pglite-memory' };

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly kind: 'postgres' | 'pglite';
  /** Where the data lives, for logs (password removed). */
  readonly description: string;
  close(): Promise<void>;
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres database';
  }
}

export async function openDatabase(target: DatabaseTarget): Promise<DatabaseHandle> {
  if (target.kind === 'postgres') {
    const pool = new pg.Pool({ connectionString: target.url, max: target.poolSize ?? 10 });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    try {
      const client = await pool.connect();
      client.release();
    } catch (err) {
      await db.destroy();
      throw new TributaryError('database', `cannot connect to PostgreSQL at ${redact(target.url)}`, {
        subject: 'DATABASE_URL',
        cause: err,
      });
    }
    return { db, kind: 'postgres', description: redact(target.url), close: () => db.destroy() };
  }

  let lock: DataDirLock | null = null;
  let pglite: PGlite;
  let description = 'in-memory PGlite';
  if (target.kind === 'pglite') {
    lock = lockDataDir(target.dataDir);
    const dir = path.join(target.dataDir, 'pglite');
    description = `PGlite in ${dir}`;
    try {
      pglite = await PGlite.create(dir);
    } catch (err) {
      lock.release();
      throw new TributaryError('database', `cannot open the embedded database in ${dir}`, { subject: dir, cause: err });
    }
  } else {
    pglite = await PGlite.create();
  }
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    kind: 'pglite',
    description,
    async close() {
      try {
        await db.destroy();
      } finally {
        lock?.release();
      }
    },
  };
}
