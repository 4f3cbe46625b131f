import type { FetchLogEntry, SourceStatus } from '../domain.js';
import { sourceState, type SourceState } from '../http/api-routes.js';

// What `tributary sources` prints: one fixed-width row per source, and one source's fetch history
// for `--source ID`. Pure (the clock is a parameter) so the output can be asserted on exactly;
// `--json` uses the API's sourceJson/fetchLogJson instead, so the two never disagree on state.

/** Longest LAST ERROR cell; the full message is in `--json` and /api/sources. */
export const MAX_ERROR_WIDTH = 60;
/** Longest WHY cell (next_fetch_reason is short by design; a long one must not push ERRORS away). */
export const MAX_REASON_WIDTH = 32;
/** Longest ERROR cell of the history table. */
export const MAX_HISTORY_ERROR_WIDTH = 60;

/** Placeholder for "not applicable" (no next fetch for a gone or disabled source, no status). */
const NONE = '—';

/** One row per source plus a hint line under each moved one; sources in the order given. */
export function renderSourcesTable(sources: readonly SourceStatus[], now: Date): string {
  if (sources.length === 0) return 'no sources (add feeds to feeds.yaml)';
  const rows: string[][] = [];
  const notes = new Map<number, string>();
  for (const s of sources) {
    const state = sourceState(s, now);
    const next = nextFetch(s, state, now);
    rows.push([
      clean(s.id),
      state,
      s.lastFetchedAt ? ago(s.lastFetchedAt, now) : 'never',
      next.when,
      truncate(next.why, MAX_REASON_WIDTH),
      String(s.errorCount),
      s.lastError ? truncate(s.lastError, MAX_ERROR_WIDTH) : '',
    ]);
    // A permanent redirect (RFC 9110 §15.4.2 301, §15.4.9 308) is followed already; the person
    // running the river should still update feeds.yaml so the old URL can be forgotten.
    if (s.effectiveUrl && s.effectiveUrl !== s.url) {
      notes.set(rows.length - 1, `    moved permanently to ${clean(s.effectiveUrl)} (edit feeds.yaml)`);
    }
  }
  const lines = table(['ID', 'STATE', 'LAST FETCH', 'NEXT FETCH', 'WHY', 'ERRORS', 'LAST ERROR'], rows);
  const out: string[] = [lines[0]!];
  rows.forEach((_, i) => {
    out.push(lines[i + 1]!);
    const note = notes.get(i);
    if (note) out.push(note);
  });
  return out.join('\n');
}

/**
 * One source's polls, newest first as given. The URL fetched is shown once above the table, and
 * again under any poll that fetched another one (before a move, or after feeds.yaml changed).
 */
export function renderSourceHistory(entries: readonly FetchLogEntry[], now: Date): string {
  if (entries.length === 0) return 'no fetches recorded';
  const newestUrl = entries[0]!.url;
  const rows = entries.map((e) => [
    ago(e.startedAt, now),
    e.startedAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    e.outcome,
    e.status === null ? NONE : String(e.status),
    e.bytes === null ? NONE : formatBytes(e.bytes),
    `${e.durationMs}ms`,
    String(e.itemsNew),
    String(e.itemsUpdated),
    String(e.itemsUnchanged),
    e.error ? truncate(e.error, MAX_HISTORY_ERROR_WIDTH) : '',
  ]);
  const lines = table(['WHEN', 'STARTED', 'OUTCOME', 'STATUS', 'BYTES', 'TIME', 'NEW', 'UPD', 'SAME', 'ERROR'], rows);
  const out = [`URL ${clean(newestUrl)}`, lines[0]!];
  entries.forEach((e, i) => {
    out.push(lines[i + 1]!);
    if (e.url !== newestUrl) out.push(`    from ${clean(e.url)}`);
  });
  return out.join('\n');
}

/** NEXT FETCH and WHY: what the scheduler will do, in the words a person would use. */
function nextFetch(s: SourceStatus, state: SourceState, now: Date): { when: string; why: string } {
  if (state === 'disabled') return { when: NONE, why: s.active ? 'disabled in feeds.yaml' : 'not in feeds.yaml' };
  if (state === 'gone') return { when: NONE, why: '410 Gone: change its url' };
  // A host pause outranks the source's own schedule: no worker sends a request before it ends.
  const paused = s.hostPausedUntil && s.hostPausedUntil.getTime() > now.getTime() ? s.hostPausedUntil : null;
  if (paused && (!s.nextFetchAt || paused.getTime() > s.nextFetchAt.getTime())) {
    return { when: until(paused, now), why: 'host asked to wait' };
  }
  return { when: s.nextFetchAt ? until(s.nextFetchAt, now) : 'due', why: s.nextFetchReason ?? '' };
}

/** "3m ago", "2h ago", "5d ago": the largest whole unit, rounded down (never claims more recent). */
export function ago(at: Date, now: Date): string {
  const seconds = Math.floor((now.getTime() - at.getTime()) / 1000);
  // A time slightly ahead of our clock (another worker's, or the database's) is "just now" too.
  return seconds < 1 ? 'just now' : `${span(seconds)} ago`;
}

/** "in 12m", "in 40s", or "due" once the time has come. */
export function until(at: Date, now: Date): string {
  const ms = at.getTime() - now.getTime();
  if (ms <= 0) return 'due';
  // Whole seconds rounded up, so 300 ms away reads "in 1s", not "in 0s".
  return `in ${span(Math.ceil(ms / 1000))}`;
}

/** The largest unit that fits at least once, rounded down: 90 s -> "1m", 25 h -> "1d". */
function span(seconds: number): string {
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60]] as const) {
    if (seconds >= size) return `${Math.floor(seconds / size)}${unit}`;
  }
  return `${seconds}s`;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n}B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)}KiB`;
  return `${(n / 1024 / 1024).toFixed(1)}MiB`;
}

/**
 * One line of plain text: publishers' error messages and redirect targets reach the terminal, so
 * control characters (newlines, ANSI escape sequences) become spaces and runs of space collapse.
 */
function clean(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').replace(/\s+/g, ' ').trim();
}

/** At most `max` characters, the last being "…" when anything was cut (by code point, not UTF-16 unit). */
export function truncate(text: string, max: number): string {
  const chars = [...clean(text)];
  return chars.length <= max ? chars.join('') : `${chars.slice(0, max - 1).join('').trimEnd()}…`;
}

/** Left-aligned columns two spaces apart, trailing spaces trimmed; header first. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c + ' '.repeat(widths[i]! - width(c)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** Characters as a terminal counts them for our cells (code points; no wide CJK handling). */
function width(text: string): number {
  return [...text].length;
}
