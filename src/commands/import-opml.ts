// `tributary import-opml FILE`: add the feeds of an OPML subscription list (what feed readers
// export) to feeds.yaml, keeping the file's comments and layout. importOpml is the pure decision
// (which feeds, which ids, what is skipped and why) over two texts; importOpmlFile reads and
// writes the files around it. The running river picks the edit up through its feeds.yaml watcher.

import { chmod, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TributaryError } from '../errors.js';
import { appendFeedsToYaml, parseOpml, slugId, uniqueId, type NewFeedEntry, type OpmlSubscription } from '../opml.js';
import { feedUrlKey, formatProblem, parseFeedsYaml, type ConfigProblem } from '../sources.js';

export interface ImportedFeed {
  readonly id: string;
  readonly url: string;
}

export interface SkippedFeed {
  /** The xmlUrl as the OPML gave it ('' for an outline without one). */
  readonly url: string;
  /** The outline's title, to recognise it by in the report. */
  readonly title: string | null;
  readonly reason: string;
}

export interface ImportResult {
  /** The new feeds.yaml text (the input unchanged when nothing was added). */
  readonly text: string;
  readonly added: ImportedFeed[];
  readonly skipped: SkippedFeed[];
}

/**
 * Adds the OPML's feeds to a feeds.yaml text:
 * - every outline with an xmlUrl is a feed, however deeply nested; the names of the folders it
 *   sits in (and slash-free OPML `category` entries) become its tags, lower-cased as feeds.yaml
 *   stores them;
 * - ids are slugs of the outline's title (else of its site's or feed's host), made unique against
 *   the ids already in the file and those just given: `-2`, `-3`, ...;
 * - skipped and reported: URLs that are not absolute http(s), feeds already in the file (compared
 *   as feeds.yaml compares them: scheme and host case, default port, trailing slash, fragment),
 *   and feeds repeated in the OPML (a reader exports a feed once per folder it is in: those
 *   folders' tags are added to the one entry imported);
 * - the result is validated as feeds.yaml is at startup; an invalid feeds.yaml, before or after,
 *   is a TributaryError('config') listing every problem (an invalid OPML is a 'parse' error).
 */
export function importOpml(opmlText: string, feedsYamlText: string, feedsFile: string): ImportResult {
  const before = parseFeedsYaml(feedsYamlText, feedsFile);
  if (!before.ok) throw configError(`${feedsFile} is not valid; fix it before importing`, before.problems, feedsFile);
  const opml = parseOpml(opmlText);
  const shownFile = path.basename(feedsFile);

  const taken = new Set(before.config.feeds.map((f) => f.id));
  const existing = new Map(before.config.feeds.map((f) => [feedUrlKey(f.url), f.id]));
  const planned = new Map<string, { id: string; url: string; name: string | null; homepage: string | null; tags: string[] }>();
  const skipped: SkippedFeed[] = [];

  for (const sub of opml.entries) {
    if (sub.kind === 'problem') {
      skipped.push({ url: '', title: sub.title, reason: sub.reason });
      continue;
    }
    const url = httpUrl(sub.xmlUrl);
    if (url === null) {
      skipped.push({ url: sub.xmlUrl, title: sub.title, reason: 'not an absolute http(s) URL' });
      continue;
    }
    const key = feedUrlKey(url);
    const known = existing.get(key);
    if (known !== undefined) {
      skipped.push({ url: sub.xmlUrl, title: sub.title, reason: `already in ${shownFile} as "${known}"` });
      continue;
    }
    const tags = tagsOf(sub);
    const first = planned.get(key);
    if (first !== undefined) {
      const extra = tags.filter((t) => !first.tags.includes(t));
      first.tags.push(...extra);
      const merged = extra.length ? `, with its tags added there (${extra.join(', ')})` : '';
      skipped.push({ url: sub.xmlUrl, title: sub.title, reason: `repeated in the OPML; imported once as "${first.id}"${merged}` });
      continue;
    }
    const id = uniqueId(baseId(sub, url), taken);
    taken.add(id);
    // Some exporters put the URL in `text` when the feed had no title: that is no publisher name.
    const name = sub.title !== null && sub.title !== sub.xmlUrl ? sub.title : null;
    planned.set(key, { id, url, name, homepage: sub.htmlUrl === null ? null : httpUrl(sub.htmlUrl), tags });
  }

  const entries: NewFeedEntry[] = [...planned.values()];
  const text = appendFeedsToYaml(feedsYamlText, entries);
  const after = parseFeedsYaml(text, feedsFile);
  if (!after.ok) throw configError(`importing would make ${feedsFile} invalid; nothing was changed`, after.problems, feedsFile);
  return { text, added: entries.map((e) => ({ id: e.id, url: e.url })), skipped };
}

export interface ImportFileOptions {
  readonly opmlFile: string;
  readonly feedsFile: string;
  /** Report what would be added without writing feeds.yaml. */
  readonly dryRun?: boolean;
}

/**
 * Reads both files, imports, and writes feeds.yaml when feeds were added (and not dryRun). The new
 * text goes to a temporary file beside it that is then renamed over it, so the running river's
 * watcher never reads a half-written file; the file's permissions are kept.
 */
export async function importOpmlFile(opts: ImportFileOptions): Promise<ImportResult & { readonly written: boolean }> {
  const opmlText = decodeXml(await readInput(opts.opmlFile, 'OPML file'));
  const feedsText = (await readInput(opts.feedsFile, 'feeds file')).toString('utf8');
  const result = importOpml(opmlText, feedsText, opts.feedsFile);
  if (opts.dryRun || result.added.length === 0) return { ...result, written: false };
  const tmp = path.join(path.dirname(opts.feedsFile), `.${path.basename(opts.feedsFile)}.${process.pid}.tmp`);
  const { mode } = await stat(opts.feedsFile);
  await writeFile(tmp, result.text, 'utf8');
  await chmod(tmp, mode);
  await rename(tmp, opts.feedsFile);
  return { ...result, written: true };
}

/** One line for `tributary --help`. */
export const IMPORT_OPML_SUMMARY = 'add the feeds of an OPML subscription list to feeds.yaml, duplicates skipped';

/** The command's usage (the CLI appends its environment help). */
export const IMPORT_OPML_USAGE = `tributary import-opml FILE [--dry-run]

Adds every feed in FILE (an OPML subscription list, as feed readers export it) to feeds.yaml,
after its last feed, keeping the file's comments and layout. Folder names become tags; ids are
made from the feeds' titles (-2, -3, ... when taken). Feeds already in feeds.yaml or repeated in
FILE, and URLs that are not http(s), are skipped and listed. The result is validated before it is
written; a running river picks the change up by itself.

Options:
  --dry-run   list what would be added without changing feeds.yaml`;

/**
 * The command: imports, prints the report, and returns the exit code: 0 done (also when feeds were
 * skipped), 1 when the input is at fault (unreadable or invalid OPML, an invalid feeds.yaml, a
 * missing file). Anything else is thrown for the CLI's own handler.
 */
export async function runImportOpml(
  opts: ImportFileOptions,
  io: { readonly out: (line: string) => void; readonly err: (line: string) => void },
): Promise<number> {
  let result: Awaited<ReturnType<typeof importOpmlFile>>;
  try {
    result = await importOpmlFile(opts);
  } catch (err) {
    if (err instanceof TributaryError && (err.kind === 'parse' || err.kind === 'config')) {
      io.err(`tributary import-opml: ${err.message}`);
      return 1;
    }
    throw err;
  }
  for (const line of formatImportReport(result, opts.feedsFile, opts.dryRun === true)) io.out(line);
  return 0;
}

/** What the command prints: one line per feed added or skipped, then a summary. */
export function formatImportReport(result: ImportResult & { readonly written: boolean }, feedsFile: string, dryRun = false): string[] {
  const lines: string[] = [];
  const width = Math.max(0, ...result.added.map((a) => a.id.length));
  for (const a of result.added) lines.push(`added    ${a.id.padEnd(width)}  ${a.url}`);
  for (const s of result.skipped) {
    const what = s.url !== '' ? s.url : `"${s.title ?? '(untitled outline)'}"`;
    lines.push(`skipped  ${what}: ${s.reason}`);
  }
  const counts = `${result.added.length} feed${result.added.length === 1 ? '' : 's'} to add, ${result.skipped.length} skipped`;
  if (dryRun) lines.push(`${counts}; dry run, ${feedsFile} not changed`);
  else if (result.written) lines.push(`${counts}; ${feedsFile} updated`);
  else lines.push(`${counts}; ${feedsFile} not changed`);
  return lines;
}

// ---------------------------------------------------------------------------------------------

function configError(message: string, problems: readonly ConfigProblem[], file: string): TributaryError {
  return new TributaryError('config', [message, ...problems.map(formatProblem)].join('\n'), { subject: file });
}

/** Folder names, then category tags; trimmed, whitespace collapsed, lower-cased, once each. */
function tagsOf(sub: OpmlSubscription): string[] {
  const tags: string[] = [];
  for (const raw of [...sub.folders, ...sub.categories]) {
    const tag = raw.replace(/\s+/g, ' ').trim().toLowerCase();
    if (tag !== '' && !tags.includes(tag)) tags.push(tag);
  }
  return tags;
}

/** The id's stem: the title's slug, else the site's (or feed's) host ("www." dropped), else "feed". */
function baseId(sub: OpmlSubscription, feedUrl: string): string {
  const fromTitle = sub.title !== null && sub.title !== sub.xmlUrl ? slugId(sub.title) : '';
  if (fromTitle !== '') return fromTitle;
  const site = sub.htmlUrl === null ? null : httpUrl(sub.htmlUrl);
  const host = new URL(site ?? feedUrl).hostname.replace(/^www\./, '');
  return slugId(host) || 'feed';
}

function httpUrl(text: string): string | null {
  const trimmed = text.trim();
  if (!URL.canParse(trimmed)) return null;
  const url = new URL(trimmed);
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' ? url.href : null;
}

async function readInput(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : '';
    const why = code === 'ENOENT' ? 'not found' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : 'cannot be read';
    throw new TributaryError('config', `${what} ${file}: ${why}`, { subject: file, cause: err });
  }
}

/**
 * OPML files are XML and may say their encoding: a UTF-16 byte-order mark, or the XML declaration's
 * encoding (XML 1.0 section 4.3.3, e.g. ISO-8859-1 from older readers). UTF-8 otherwise, and when
 * the declared label is one the platform does not know.
 */
export function decodeXml(bytes: Buffer): string {
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes);
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes);
  const head = bytes.subarray(0, 256).toString('latin1');
  const declared = /^(?:\uFEFF|\xEF\xBB\xBF)?\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head)?.[1];
  if (declared) {
    try {
      return new TextDecoder(declared.toLowerCase()).decode(bytes);
    } catch {
      // An unknown label: read as UTF-8, the XML default.
    }
  }
  return new TextDecoder('utf-8').decode(bytes);
}
