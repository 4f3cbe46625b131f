import { mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RiverConfig } from '../../src/domain.js';
import { formatProblem, parseFeedsYaml, type ConfigProblem } from '../../src/sources.js';
import { watchFeedsFile, type FeedsWatchHandlers } from '../../src/sources-watch.js';

type WatchEvent =
  | { type: 'change'; config: RiverConfig }
  | { type: 'invalid'; problems: ConfigProblem[] }
  | { type: 'error'; err: unknown };

/** Handlers that queue what they receive, and a way to wait (with a timeout) for the next event. */
function recorder(): { handlers: FeedsWatchHandlers; next(timeoutMs?: number): Promise<WatchEvent>; pending(): WatchEvent[] } {
  const queue: WatchEvent[] = [];
  let wake: (() => void) | null = null;
  const push = (e: WatchEvent): void => {
    queue.push(e);
    wake?.();
  };
  return {
    handlers: {
      onChange: (config) => push({ type: 'change', config }),
      onInvalid: (problems) => push({ type: 'invalid', problems }),
      onError: (err) => push({ type: 'error', err }),
    },
    async next(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (queue.length === 0) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no watch event within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wake = null;
      }
      return queue.shift()!;
    },
    pending: () => [...queue],
  };
}

const feedsYaml = (title: string, ids: string[] = ['a']): string =>
  [`title: ${title}`, 'feeds:', ...ids.flatMap((id) => [`  - id: ${id}`, `    url: https://${id}.example/feed`])].join('\n') + '\n';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const DEBOUNCE_MS = 40;

describe('watchFeedsFile', () => {
  let dir = '';
  let file = '';
  let watcher: { close(): void } | null = null;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tributary-watch-'));
    file = path.join(dir, 'feeds.yaml');
    await writeFile(file, feedsYaml('Original'));
  });

  afterEach(async () => {
    watcher?.close();
    watcher = null;
    await rm(dir, { recursive: true, force: true });
  });

  it('reports an in-place edit with the new config', async () => {
    const rec = recorder();
    watcher = watchFeedsFile(file, rec.handlers, { debounceMs: DEBOUNCE_MS });

    await writeFile(file, feedsYaml('Edited in place', ['a', 'b']));

    const event = await rec.next();
    expect(event.type).toBe('change');
    if (event.type !== 'change') return;
    expect(event.config.title).toBe('Edited in place');
    expect(event.config.feeds.map((f) => f.id)).toEqual(['a', 'b']);
    expect(Object.isFrozen(event.config)).toBe(true);
  });

  it('reports an edit saved by writing a temp file and renaming it over the original', async () => {
    const rec = recorder();
    watcher = watchFeedsFile(file, rec.handlers, { debounceMs: DEBOUNCE_MS });

    const temp = path.join(dir, '.feeds.yaml.swp');
    await writeFile(temp, feedsYaml('Replaced', ['c']));
    await rename(temp, file);

    const event = await rec.next();
    expect(event).toMatchObject({ type: 'change', config: { title: 'Replaced', feeds: [{ id: 'c' }] } });

    // The original inode is gone; the watch must still see the next replacement.
    const temp2 = path.join(dir, 'feeds.yaml.tmp');
    await writeFile(temp2, feedsYaml('Replaced again', ['d']));
    await rename(temp2, file);
    expect(await rec.next()).toMatchObject({ type: 'change', config: { title: 'Replaced again', feeds: [{ id: 'd' }] } });
  });

  it('reports an invalid edit with positioned problems, then the fix', async () => {
    const rec = recorder();
    watcher = watchFeedsFile(file, rec.handlers, { debounceMs: DEBOUNCE_MS });

    await writeFile(file, 'title: Broken\nfeeds:\n  - id: a\n    url: https://a.example/feed\n    homepge: https://a.example\n');
    const invalid = await rec.next();
    expect(invalid.type).toBe('invalid');
    if (invalid.type !== 'invalid') return;
    expect(invalid.problems.map(formatProblem)).toEqual([
      `${file}:5:5: unknown key "homepge" in feeds[0]; did you mean "homepage"?`,
    ]);

    await writeFile(file, feedsYaml('Fixed'));
    expect(await rec.next()).toMatchObject({ type: 'change', config: { title: 'Fixed' } });
  });

  it('does not fire for a save that leaves the content unchanged', async () => {
    const rec = recorder();
    watcher = watchFeedsFile(file, rec.handlers, { debounceMs: DEBOUNCE_MS });

    await writeFile(file, feedsYaml('Original'));
    // Let the identical save be read and compared on its own before the real edit arrives.
    await sleep(DEBOUNCE_MS * 5);
    await writeFile(file, feedsYaml('Really changed'));

    expect(await rec.next()).toMatchObject({ type: 'change', config: { title: 'Really changed' } });
    expect(rec.pending()).toEqual([]);
  });

  it('reports a deleted file once, then picks it up again when it is recreated', async () => {
    const rec = recorder();
    watcher = watchFeedsFile(file, rec.handlers, { debounceMs: DEBOUNCE_MS });

    await unlink(file);
    expect(await rec.next()).toEqual({
      type: 'invalid',
      problems: [{ file, line: 1, col: 1, message: 'feeds file not found (create it, or point FEEDS_FILE at it)' }],
    });

    await writeFile(file, feedsYaml('Recreated'));
    expect(await rec.next()).toMatchObject({ type: 'change', config: { title: 'Recreated' } });
  });

  it('survives a handler that throws, reporting it to onError', async () => {
    const rec = recorder();
    let calls = 0;
    watcher = watchFeedsFile(
      file,
      {
        ...rec.handlers,
        onChange: (config) => {
          calls++;
          if (calls === 1) throw new Error('handler exploded');
          rec.handlers.onChange(config);
        },
      },
      { debounceMs: DEBOUNCE_MS },
    );

    await writeFile(file, feedsYaml('First'));
    const failed = await rec.next();
    expect(failed.type).toBe('error');
    if (failed.type === 'error') expect((failed.err as Error).message).toBe('handler exploded');

    await writeFile(file, feedsYaml('Second'));
    expect(await rec.next()).toMatchObject({ type: 'change', config: { title: 'Second' } });
  });

  it('with `current`, reports at once a file that already differs from the running config', async () => {
    const running = parseFeedsYaml(feedsYaml('Loaded earlier'), file);
    if (!running.ok) throw new Error('fixture must be valid');
    const rec = recorder();
    // The file now says "Original": an edit landed between the caller's load and the watch.
    watcher = watchFeedsFile(file, rec.handlers, { debounceMs: DEBOUNCE_MS, current: running.config });
    expect(await rec.next()).toMatchObject({ type: 'change', config: { title: 'Original' } });
  });

  it('with `current` matching the file, stays quiet until a real edit', async () => {
    const running = parseFeedsYaml(feedsYaml('Original'), file);
    if (!running.ok) throw new Error('fixture must be valid');
    const rec = recorder();
    watcher = watchFeedsFile(file, rec.handlers, { debounceMs: DEBOUNCE_MS, current: running.config });
    // Give the initial check time to run (and, wrongly, fire) before the edit.
    await sleep(DEBOUNCE_MS * 5);
    await writeFile(file, feedsYaml('Edited'));
    expect(await rec.next()).toMatchObject({ type: 'change', config: { title: 'Edited' } });
    expect(rec.pending()).toEqual([]);
  });

  it('stops after close(), even with the polling backstop running fast', async () => {
    const rec = recorder();
    const w = watchFeedsFile(file, rec.handlers, { debounceMs: DEBOUNCE_MS, pollMs: 20 });

    // Prove it is live first, so silence afterwards means something.
    await writeFile(file, feedsYaml('Before close'));
    expect(await rec.next()).toMatchObject({ type: 'change', config: { title: 'Before close' } });

    w.close();
    w.close(); // closing twice is harmless
    await writeFile(file, feedsYaml('After close'));
    await expect(rec.next(DEBOUNCE_MS * 8)).rejects.toThrow(/no watch event/);
  });

  it('does not throw when the directory does not exist; reports it to onError', async () => {
    const rec = recorder();
    const missing = path.join(dir, 'no-such-dir', 'feeds.yaml');
    const w = watchFeedsFile(missing, rec.handlers, { debounceMs: DEBOUNCE_MS });
    const event = await rec.next();
    expect(event.type).toBe('error');
    if (event.type === 'error') expect((event.err as NodeJS.ErrnoException).code).toBe('ENOENT');
    w.close();
  });
});
