import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type DatabaseHandle } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';

// Each test file gets a database of its own so files run in parallel:
// - DATABASE_URL set: a fresh PostgreSQL database created on that server, dropped afterwards;
// - unset: an in-memory PGlite instance (share one per file: it takes a moment to boot).

export interface TestDatabase extends DatabaseHandle {
  /** Connection URL of this test's own PostgreSQL database; null on PGlite. */
  readonly url: string | null;
}

export const usingPostgres = Boolean(process.env.DATABASE_URL);

export async function createTestDatabase(): Promise<TestDatabase> {
  const base = process.env.DATABASE_URL;
  if (!base) {
    const handle = await openDatabase({ kind: 'pglite-memory' });
    await migrate(handle.db);
    return { ...handle, url: null, close: () => handle.close() };
  }
  const name = `tributary_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  const handle = await openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 5 });
  await migrate(handle.db);
  return {
    ...handle,
    url: url.toString(),
    async close() {
      await handle.close();
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop database if exists "${name}" with (force)`);
      await c.end();
    },
  };
}
