import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql, type Kysely } from 'kysely';
import { TributaryError } from '../errors.js';
import type { Database } from './database.js';

// Numbered, frozen SQL files in migrations/ (NNNN_name.sql), applied in order, each in its own
// transaction together with its row in schema_migrations. An advisory lock serialises processes
// that migrate at the same moment (several workers starting against one PostgreSQL).

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');
const LOCK_KEY = 727_200_001;

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export async function readMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const out: Migration[] = [];
  for (const file of files) {
    const m = /^(\d+)_([\w-]+)\.sql$/.exec(file);
    if (!m) throw new TributaryError('database', `migration file name must be NNNN_name.sql: ${file}`, { subject: file });
    const version = Number(m[1]);
    if (out.some((x) => x.version === version)) {
      throw new TributaryError('database', `two migrations share version ${version}`, { subject: file });
    }
    out.push({ version, name: m[2]!, sql: await fs.readFile(path.join(dir, file), 'utf8') });
  }
  return out;
}

/** Applies pending migrations; returns the ones applied now. */
export async function migrate(db: Kysely<Database>, dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const migrations = await readMigrations(dir);
  await sql`create table if not exists schema_migrations (
    version integer primary key,
    name text not null,
    applied_at timestamptz not null default now()
  )`.execute(db).catch(async (err: unknown) => {
    // Two processes creating the table at once: one wins, the other sees a unique violation.
    const exists = await sql`select to_regclass('schema_migrations') as t`.execute(db);
    if (!(exists.rows[0] as { t: unknown } | undefined)?.t) throw err;
  });
  const applied: Migration[] = [];
  for (const m of migrations) {
    const done = await db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${LOCK_KEY})`.execute(trx);
      const row = await trx.selectFrom('schema_migrations').select('version').where('version', '=', m.version).executeTakeFirst();
      if (row) return false;
      try {
        await sql.raw(m.sql).execute(trx);
      } catch (err) {
        throw new TributaryError('database', `migration ${m.version}_${m.name} failed`, { subject: m.name, cause: err });
      }
      await trx.insertInto('schema_migrations').values({ version: m.version, name: m.name }).execute();
      return true;
    });
    if (done) applied.push(m);
  }
  return applied;
}
