// Helpers for the good-citizen end-to-end tests (issue #3): a river with its own database and
// feeds.yaml, read back through the real HTTP API (`serve` without the worker, so reading never
// polls anything), small feed and feeds.yaml builders, and a resident-memory sampler.
//
//   const r = await startCitizenRiver(feedsYaml({ allow_private_networks: true }, [{ id: 'a', url }]));
//   await r.cli('fetch', '--all');
//   const a = await r.source('a');          // GET /api/sources/a (with its fetch history)
//   await r.close();
import fs from 'node:fs';
import path from 'node:path';
import { loadAppConfig } from '../../src/config.js';
import type { FetchLogJson, SourceJson } from '../../src/http/api-routes.js';
import { silentLogger } from '../../src/log.js';
import { serve } from '../../src/serve.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from './db.js';
import { createTestRiver, type TestRiver } from './river.js';

/** A source as GET /api/sources/:id answers (JSON: dates are ISO strings). */
export type SourceWithHistory = SourceJson & { history: FetchLogJson[] };

export interface CitizenRiver {
  readonly river: TestRiver;
  /** Absolute path of this river's feeds.yaml. */
  readonly feedsFile: string;
  writeFeeds(yaml: string): void;
  /** `tributary <args>` in-process. */
  cli(...args: string[]): Promise<{ code: number; out: string; err: string }>;
  /** GET /api/sources, by id. */
  sources(): Promise<Map<string, SourceJson>>;
  /** GET /api/sources/:id. */
  source(id: string): Promise<SourceWithHistory>;
  /** Several GETs against one `serve` (worker off), for reads that must see the same moment. */
  withApi<T>(use: (get: <J>(path: string) => Promise<J>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * A river of its own: PGlite files in a temp dir, or (DATABASE_URL set) a fresh PostgreSQL database.
 * Per river, not per file, because host budgets and Retry-After pauses are keyed by host, and every
 * publisher here is a loopback address: one test's 429 on 127.0.0.1 must not pause the next test.
 */
export async function startCitizenRiver(yaml: string): Promise<CitizenRiver> {
  const db: TestDatabase | null = usingPostgres ? await createTestDatabase() : null;
  const river = createTestRiver(db?.url ?? null);
  if (!db) {
    // A copy of a migrated, closed embedded database: creating one takes seconds, copying ~0.2 s.
    fs.cpSync(await pgliteTemplate(), path.join(river.env.DATA_DIR!, 'pglite'), { recursive: true });
  }
  river.writeFeeds(yaml);

  async function withApi<T>(use: (get: <J>(path: string) => Promise<J>) => Promise<T>): Promise<T> {
    // worker: false: HTTP only, so reading the state never polls a source as a side effect.
    const running = await serve(loadAppConfig(river.env, river.dir), silentLogger(), { worker: false });
    try {
      return await use(async <J>(path: string): Promise<J> => {
        const res = await fetch(`${running.url}${path}`);
        if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}: ${await res.text()}`);
        return (await res.json()) as J;
      });
    } finally {
      await running.close();
    }
  }

  return {
    river,
    feedsFile: river.env.FEEDS_FILE!,
    writeFeeds: (text) => river.writeFeeds(text),
    cli: (...args) => river.cli(...args),
    withApi,
    sources: () =>
      withApi(async (get) => {
        const body = await get<{ sources: SourceJson[] }>('/api/sources');
        return new Map(body.sources.map((s) => [s.id, s]));
      }),
    source: (id) => withApi((get) => get<SourceWithHistory>(`/api/sources/${encodeURIComponent(id)}`)),
    async close() {
      river.cleanup();
      await db?.close();
    },
  };
}

let template: { river: TestRiver; dir: Promise<string> } | null = null;

/** The data directory of one migrated embedded database per test file, made on first use. */
function pgliteTemplate(): Promise<string> {
  if (!template) {
    const river = createTestRiver(null);
    river.writeFeeds('feeds: []\n');
    const dir = river.cli('migrate').then((r) => {
      if (r.code !== 0) throw new Error(`migrating the template database failed: ${r.err}`);
      return path.join(river.env.DATA_DIR!, 'pglite');
    });
    template = { river, dir };
  }
  return template.dir;
}

/** Removes the template database (call in the file's afterAll). */
export function removeCitizenTemplate(): void {
  template?.river.cleanup();
  template = null;
}

export interface FeedEntry {
  readonly id: string;
  readonly url: string;
  readonly every?: string;
}

/** feeds.yaml text: `settings` as given (values written verbatim), then the feeds in order. */
export function feedsYaml(settings: Record<string, string | number | boolean>, feeds: readonly FeedEntry[]): string {
  const lines = ['title: Good citizen river', 'settings:'];
  for (const [key, value] of Object.entries(settings)) lines.push(`  ${key}: ${String(value)}`);
  lines.push('feeds:');
  for (const f of feeds) {
    lines.push(`  - id: ${f.id}`, `    url: ${f.url}`);
    if (f.every) lines.push(`    every: ${f.every}`);
  }
  return `${lines.join('\n')}\n`;
}

export interface RssOptions {
  /** Distinguishes the stories of one feed from another's (their links and guids). */
  readonly slug: string;
  readonly items?: number;
  /** RSS 2.0 <ttl>, minutes. */
  readonly ttl?: number;
  /** RSS 2.0 <skipHours>, GMT hours. */
  readonly skipHours?: readonly number[];
}

/** A small valid RSS 2.0 document with `items` stories (default 2). */
export function rssFeed(opts: RssOptions): string {
  const items = Array.from({ length: opts.items ?? 2 }, (_, i) => {
    const n = i + 1;
    return `<item><title>${opts.slug} story ${n}</title><link>https://${opts.slug}.example/story-${n}</link><guid>${opts.slug}-${n}</guid><pubDate>Sun, 29 Nov 2026 0${n % 10}:00:00 GMT</pubDate></item>`;
  }).join('\n');
  const ttl = opts.ttl === undefined ? '' : `<ttl>${opts.ttl}</ttl>`;
  const skip = opts.skipHours?.length ? `<skipHours>${opts.skipHours.map((h) => `<hour>${h}</hour>`).join('')}</skipHours>` : '';
  return `<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>${opts.slug} feed</title><link>https://${opts.slug}.example/</link><description>d</description>${ttl}${skip}
${items}
</channel></rss>`;
}

/**
 * `file:line:col` (1-based) of the value of the `url:` key that is exactly `url` (not merely starts
 * with it), as `tributary check` should point at it.
 */
export function urlPosition(file: string, url: string): string {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const at = lines.findIndex((l) => /^\s*(?:-\s+)?url:\s*(\S+)\s*$/.exec(l)?.[1] === url);
  if (at < 0) throw new Error(`no "url: ${url}" line in ${file}`);
  return `${file}:${at + 1}:${lines[at]!.indexOf(url) + 1}`;
}

/** The time as a number, failing clearly on null (a source that should have a time has none). */
export function ms(iso: string | null | undefined, what: string): number {
  if (iso === null || iso === undefined) throw new Error(`${what} is null`);
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`${what} is not a date: ${iso}`);
  return t;
}

export interface MemoryGrowth {
  /** Peak resident set size minus the size when sampling began, bytes. */
  readonly rss: number;
  /**
   * The same, not counting WebAssembly heaps: the embedded database (PGlite) is a WebAssembly
   * program whose ~200 MiB heap is allocated per open and freed only when garbage-collected, so
   * two of them can briefly coexist when the CLI reopens the database. Node reports those heaps in
   * `external` but not in `arrayBuffers`, whereas response bodies (Buffers) are in both, so they
   * still count here.
   */
  readonly withoutWasm: number;
}

/**
 * Samples this process's memory every few milliseconds until stopped (the CLI runs in-process, so
 * its fetches count).
 */
export function sampleMemory(everyMs = 5): { stop(): MemoryGrowth } {
  const read = () => {
    const m = process.memoryUsage();
    return { rss: m.rss, withoutWasm: m.rss - (m.external - m.arrayBuffers) };
  };
  const base = read();
  const peak = { ...base };
  const sample = () => {
    const now = read();
    peak.rss = Math.max(peak.rss, now.rss);
    peak.withoutWasm = Math.max(peak.withoutWasm, now.withoutWasm);
  };
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { rss: peak.rss - base.rss, withoutWasm: peak.withoutWasm - base.withoutWasm };
    },
  };
}

/** RFC 9110 HTTP-date (IMF-fixdate), `offsetMs` from now, whole seconds. */
export function httpDate(offsetMs: number): string {
  return new Date(Math.floor((Date.now() + offsetMs) / 1000) * 1000).toUTCString();
}
