// Watching feeds.yaml: re-validates on edits so the river picks up new feeds without a restart.

import { readFileSync, unwatchFile, watch, watchFile, type FSWatcher, type Stats } from 'node:fs';
import path from 'node:path';
import type { RiverConfig } from './domain.js';
import { describeError } from './errors.js';
import { readFile } from 'node:fs/promises';
import { parseFeedsYaml, readProblem, type ConfigProblem, type ParseResult } from './sources.js';

export interface FeedsWatchHandlers {
  onChange(config: RiverConfig): void;
  onInvalid(problems: ConfigProblem[]): void;
  /** Watcher trouble and exceptions thrown by the handlers land here instead of escaping. */
  onError?(err: unknown): void;
}

export interface FeedsWatchOptions {
  /** Quiet time after the last file event before the file is re-read (default 150 ms). */
  debounceMs?: number;
  /** Interval of the stat-polling backstop (default 2 s). */
  pollMs?: number;
  /**
   * The config the caller is running with. When given, the file is checked once right away and
   * onChange fires if it no longer matches, so an edit made between the caller's own load and the
   * start of watching is not lost. Without it, the file's content at start is the baseline.
   */
  current?: RiverConfig;
}

/**
 * Calls onChange with the new config (or onInvalid with the problems) whenever the file's content
 * changes. It does not fire for the content the file has when watching starts (unless `current`
 * says the caller runs something else), nor for saves that leave the content as it was. It never
 * throws; close() stops it, and nothing fires after close().
 */
export function watchFeedsFile(
  file: string,
  handlers: FeedsWatchHandlers,
  opts: FeedsWatchOptions = {},
): { close(): void } {
  const abs = path.resolve(file);
  const debounceMs = opts.debounceMs ?? 150;
  const pollMs = opts.pollMs ?? 2000;

  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let reading = false;
  let again = false;
  // What was last seen: the text, or a marker for "could not read, because <code>" so an unreadable
  // file is reported once rather than on every event.
  let last = opts.current === undefined ? snapshotSync(abs) : UNSEEN;
  // The caller's running config, compared (as data) with the file once, on the first check.
  let baseline = opts.current === undefined ? null : JSON.stringify(opts.current);

  const safely = (fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      try {
        handlers.onError?.(err);
      } catch {
        // Nowhere left to report it; the watcher must survive its own handlers.
      }
    }
  };

  const check = async (): Promise<void> => {
    if (closed) return;
    // One read at a time; an event during a read earns exactly one more read afterwards.
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
      let text: string | null = null;
      let problem: ConfigProblem | null = null;
      let seen: string;
      try {
        text = await readFile(abs, 'utf8');
        seen = text;
      } catch (err) {
        problem = readProblem(file, err);
        seen = unreadableMarker(err);
      }
      if (closed || seen === last) return;
      last = seen;
      const result: ParseResult = text === null ? { ok: false, problems: [problem!] } : parseFeedsYaml(text, file);
      const expected = baseline;
      baseline = null;
      if (expected !== null && result.ok && JSON.stringify(result.config) === expected) return;
      safely(() => (result.ok ? handlers.onChange(result.config) : handlers.onInvalid(result.problems)));
    } finally {
      reading = false;
      if (again && !closed) {
        again = false;
        schedule();
      }
    }
  };

  const schedule = (): void => {
    if (closed) return;
    clearTimeout(timer);
    // Editors write in bursts (truncate, write, chmod; or write temp, rename): wait for quiet.
    timer = setTimeout(() => void check().catch((err: unknown) => safely(() => handlers.onError?.(err))), debounceMs);
  };

  // The directory is watched, not the file: editors that save by writing a temp file and renaming it
  // over the original replace the inode, and a watch on the old inode would go silent. Every event in
  // the directory triggers a re-read (the content comparison filters the noise), which also covers
  // symlink swaps such as Kubernetes ConfigMap updates, where the file's own name never appears.
  let dirWatcher: FSWatcher | null = null;
  try {
    dirWatcher = watch(path.dirname(abs), { persistent: false }, () => schedule());
    dirWatcher.on('error', (err) => safely(() => handlers.onError?.(err)));
  } catch (err) {
    safely(() => handlers.onError?.(err));
  }

  // Backstop: some filesystems (network mounts, some container bind mounts) deliver no inotify
  // events at all. Stat polling is cheap and the content comparison makes double triggers harmless.
  const onStat = (cur: Stats, prev: Stats): void => {
    if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size || cur.ino !== prev.ino) schedule();
  };
  watchFile(abs, { persistent: false, interval: pollMs }, onStat);
  if (opts.current !== undefined) schedule();

  return {
    close(): void {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      dirWatcher?.close();
      unwatchFile(abs, onStat);
    },
  };
}

// NUL never occurs in a YAML text, so these markers cannot collide with real content.
const UNSEEN = '\u0000unseen';

function snapshotSync(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    return unreadableMarker(err);
  }
}

function unreadableMarker(err: unknown): string {
  const code = err instanceof Error && 'code' in err ? String(err.code) : 'unknown';
  return `\u0000unreadable:${code}`;
}
