import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TributaryError } from '../errors.js';

// PGlite is one process's database: two processes writing one data directory would corrupt it.
// A lock file, created exclusively, names the holder; a second process gets a clear error naming it.
// A lock left by a process that no longer runs (crash, kill -9) is taken over.

interface LockInfo {
  pid: number;
  hostname: string;
  command: string;
  started_at: string;
}

export interface DataDirLock {
  readonly file: string;
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(file: string): LockInfo | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as LockInfo;
  } catch {
    return null;
  }
}

export function lockDataDir(dir: string): DataDirLock {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'tributary.lock');
  const me: LockInfo = {
    pid: process.pid,
    hostname: os.hostname(),
    command: process.argv.slice(1).map((a) => path.basename(a)).join(' '),
    started_at: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me) + '\n', { flag: 'wx' });
      let released = false;
      return {
        file,
        release() {
          if (released) return;
          released = true;
          const held = readLock(file);
          if (held?.pid === process.pid) fs.rmSync(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new TributaryError('database', `cannot create lock file ${file}`, { subject: dir, cause: err });
      }
    }
    const holder = readLock(file);
    const sameHost = holder?.hostname === me.hostname;
    if (holder && holder.pid !== process.pid && (!sameHost || isAlive(holder.pid))) {
      throw new TributaryError(
        'database',
        `the embedded database in ${dir} is in use by process ${holder.pid} on ${holder.hostname} ` +
          `(${holder.command || 'tributary'}, since ${holder.started_at}). ` +
          'Stop that process first, or set DATABASE_URL to a PostgreSQL database to run several processes.',
        { subject: dir },
      );
    }
    // Stale lock (holder gone, or unreadable half-written file): remove and try again.
    fs.rmSync(file, { force: true });
  }
  throw new TributaryError('database', `could not take the lock ${file}`, { subject: dir });
}
