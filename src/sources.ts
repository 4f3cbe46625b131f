// feeds.yaml -> validated, deeply frozen RiverConfig.
// A pure parser (parseFeedsYaml) that reports every problem at once as file:line:col, a thin file
// loader, and a watcher that re-validates on edits so the river picks up new feeds without a restart.
//
// Positions come from the YAML document's nodes (yaml's parseDocument + LineCounter), not from a
// plain-object schema validator: once a document is turned into plain JS the line numbers are gone,
// and "line 42: unknown key" is the whole point of validating a hand-edited file.

import { readFile } from 'node:fs/promises';
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, visit, type Document, type Node, type YAMLMap } from 'yaml';
import { didYouMean } from './did-you-mean.js';
import type { ContentPolicy, NamedRiver, RiverConfig, RiverSettings, Source, SourceKind } from './domain.js';
import { describeError } from './errors.js';
import { DAY, formatDuration, MINUTE, parseByteSize, parseDuration, SECOND } from './durations.js';
import { readStripPattern, stripPatternProblem } from './ingest/strip-content.js';

export interface ConfigProblem {
  readonly file: string;
  /** 1-based line of the offending key or value. */
  readonly line: number;
  /** 1-based column of the offending key or value. */
  readonly col: number;
  readonly message: string;
}

export type ParseResult = { ok: true; config: RiverConfig } | { ok: false; problems: ConfigProblem[] };

/** `file:line:col: message`, the shape compilers use, so editors and terminals make it clickable. */
export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.message}`;
}

// ---------------------------------------------------------------------------------------------
// Durations and sizes

const TOP_KEYS = ['title', 'base_url', 'settings', 'feeds', 'rivers'] as const;
const SETTINGS_KEYS = [
  'every',
  'allow_private_networks',
  'timeout',
  'max_body',
  'concurrency',
  'host_concurrency',
  'host_gap',
  'min_interval',
  'max_interval',
  'adaptive',
  'websub_hub',
  'footer',
] as const;
const FEED_KEYS = [
  'id',
  'url',
  'name',
  'homepage',
  'tags',
  'every',
  'enabled',
  'adaptive',
  'kind',
  'content',
  'strip',
  'resolve_canonical',
] as const;
// Issue #5: named feeds, each a filter over the river.
const RIVER_KEYS = ['name', 'title', 'sources', 'tags', 'q', 'exclude_publishers', 'since', 'footer'] as const;
/** Longest `q` of a river: the same bound as the feeds' ?q= (src/http/query-params.ts). */
const MAX_RIVER_QUERY_LENGTH = 200;

// Issue #4. An aggregator's items are other publishers' stories (credit goes to them); `content` is
// what the republished entry carries of a source's text. Summary by default: republishing whole
// articles is the publisher's call, made explicitly per feed.
const SOURCE_KINDS: readonly SourceKind[] = ['publisher', 'aggregator'];
const CONTENT_POLICIES: readonly ContentPolicy[] = ['full', 'summary', 'none'];
const DEFAULT_KIND: SourceKind = 'publisher';
const DEFAULT_CONTENT: ContentPolicy = 'summary';

const DEFAULT_TITLE = 'Tributary';
const DEFAULT_SETTINGS: RiverSettings = {
  everyMs: 15 * MINUTE,
  allowPrivateNetworks: false,
  fetchTimeoutMs: 30 * SECOND,
  maxBodyBytes: 10 * 1024 ** 2,
  concurrency: 8,
  hostConcurrency: 2,
  hostGapMs: SECOND,
  minIntervalMs: MINUTE,
  maxIntervalMs: DAY,
  adaptive: false,
  websubHub: null,
  // The footer line credits the publisher inside republished full text, where readers that show
  // only content (no <source>, no author) would otherwise lose the attribution.
  footer: true,
};

// Polling faster than every 10s is rude to publishers and gains nothing for news; slower than a week
// is a feed that should be disabled instead.
const EVERY_LIMITS = { min: 10 * SECOND, max: 7 * DAY };
const TIMEOUT_LIMITS = { min: SECOND, max: 10 * MINUTE };
// Bodies are held in memory as one string while parsed, so a gigabyte is already far beyond any real feed.
const MAX_BODY_LIMITS = { min: 1024, max: 1024 ** 3 };
const CONCURRENCY_LIMITS = { min: 1, max: 64 };
// Politeness towards one publisher: a handful of parallel requests at most, and a gap that can be
// zero (tests, one's own servers) up to a minute.
const HOST_CONCURRENCY_LIMITS = { min: 1, max: 16 };
const HOST_GAP_LIMITS = { min: 0, max: MINUTE };
// Floor and ceiling of the time between two polls of one source.
const INTERVAL_LIMITS = { min: 10 * SECOND, max: 30 * DAY };

const ID_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

// ---------------------------------------------------------------------------------------------
// The parser

/**
 * Validates feeds.yaml text. Every problem found is reported, in document order, each pointing at
 * the key or value at fault; `file` is only used to label the problems.
 */
export function parseFeedsYaml(text: string, file: string): ParseResult {
  const lineCounter = new LineCounter();
  // A byte-order mark is invisible in editors; leaving it in would shift every column on line 1.
  const doc = parseDocument(text.replace(/^\uFEFF/, ''), { lineCounter, prettyErrors: false });
  const report = new Reporter(file, lineCounter);

  for (const err of doc.errors) {
    const message =
      err.code === 'DUPLICATE_KEY'
        ? `duplicate key ${keyNameAt(doc, err.pos[0])}; a key may appear only once in a mapping`
        : `invalid YAML: ${err.message}`;
    report.at(err.pos[0], message);
  }
  // A duplicate key leaves the document's shape intact, so validation can go on and report the rest;
  // any other syntax error means the structure is a guess, and checking it would only add noise.
  if (doc.errors.some((e) => e.code !== 'DUPLICATE_KEY')) return { ok: false, problems: report.sorted() };

  const config = new Validator(doc, report).river();
  if (report.problems.length > 0 || config === null) return { ok: false, problems: report.sorted() };
  return { ok: true, config: deepFreeze(config) };
}

class Reporter {
  readonly problems: ConfigProblem[] = [];
  constructor(
    private readonly file: string,
    private readonly lineCounter: LineCounter,
  ) {}

  at(offset: number, message: string): void {
    const { line, col } = this.lineCounter.linePos(offset);
    this.problems.push({ file: this.file, line, col, message });
  }

  lineOf(offset: number): number {
    return this.lineCounter.linePos(offset).line;
  }

  sorted(): ConfigProblem[] {
    // Array.prototype.sort is stable, so problems at the same spot keep the order they were found in.
    return [...this.problems].sort((a, b) => a.line - b.line || a.col - b.col);
  }
}

/** A key of a mapping as found in the document, its value with aliases resolved, and where to point. */
interface Entry {
  readonly keyOffset: number;
  /** Where a problem with the value points: the value itself, or the key when the value is empty. */
  readonly offset: number;
  readonly value: Node | null;
}

type Entries = ReadonlyMap<string, Entry>;

class Validator {
  constructor(
    private readonly doc: Document,
    private readonly report: Reporter,
  ) {}

  river(): RiverConfig | null {
    const top = this.doc.contents;
    if (top === null || isNull(top)) {
      this.report.at(0, 'the file is empty; expected a mapping with a "feeds" list (use "feeds: []" for none)');
      return null;
    }
    const root = this.deref(top);
    if (!isMap(root)) {
      this.report.at(start(top), `the top level must be a mapping with title, settings and feeds, got ${describe(root)}`);
      return null;
    }
    // A setting written at the top level is a common slip; point at where it belongs.
    const entries = this.entries(root, 'at top level', TOP_KEYS, (key) => {
      const setting = didYouMean(key, SETTINGS_KEYS);
      return setting === null ? null : `settings.${setting}`;
    });

    const title = this.optionalText(entries.get('title'), 'title') ?? DEFAULT_TITLE;
    const baseUrl = this.baseUrl(entries.get('base_url'));
    const settings = this.settings(entries.get('settings'), baseUrl !== null || entries.has('base_url'));
    const feedsEntry = entries.get('feeds');
    if (feedsEntry === undefined) {
      this.report.at(start(root), 'missing required key "feeds" (a list of feeds; use "feeds: []" for none)');
      return null;
    }
    const feeds = this.feeds(feedsEntry, settings.everyMs, settings.adaptive);
    const rivers = this.rivers(entries.get('rivers'), feeds);
    return { title, baseUrl, settings, feeds, rivers };
  }

  /** `hasBaseUrl`: base_url is given (a hub fetches the feeds at their public URLs, which it makes). */
  private settings(entry: Entry | undefined, hasBaseUrl: boolean): RiverSettings {
    if (entry === undefined || isNull(entry.value)) return DEFAULT_SETTINGS;
    if (!isMap(entry.value)) {
      this.report.at(entry.offset, `settings must be a mapping, got ${describe(entry.value)}`);
      return DEFAULT_SETTINGS;
    }
    const e = this.entries(entry.value, 'in settings', SETTINGS_KEYS);
    const hubEntry = e.get('websub_hub');
    if (hubEntry !== undefined && !isNull(hubEntry.value) && !hasBaseUrl) {
      this.report.at(
        hubEntry.offset,
        'settings.websub_hub needs base_url: the hub fetches the feeds at their public URLs, and pings name them by it',
      );
    }
    const minInterval = this.duration(e.get('min_interval'), 'settings.min_interval', INTERVAL_LIMITS) ?? DEFAULT_SETTINGS.minIntervalMs;
    let maxInterval = this.duration(e.get('max_interval'), 'settings.max_interval', INTERVAL_LIMITS) ?? DEFAULT_SETTINGS.maxIntervalMs;
    if (maxInterval < minInterval) {
      const at = e.get('max_interval') ?? e.get('min_interval')!;
      this.report.at(at.offset, 'settings.max_interval must not be shorter than settings.min_interval');
      maxInterval = minInterval;
    }
    return {
      everyMs: this.duration(e.get('every'), 'settings.every', EVERY_LIMITS) ?? DEFAULT_SETTINGS.everyMs,
      allowPrivateNetworks:
        this.boolean(e.get('allow_private_networks'), 'settings.allow_private_networks') ??
        DEFAULT_SETTINGS.allowPrivateNetworks,
      fetchTimeoutMs: this.duration(e.get('timeout'), 'settings.timeout', TIMEOUT_LIMITS) ?? DEFAULT_SETTINGS.fetchTimeoutMs,
      maxBodyBytes: this.byteSize(e.get('max_body'), 'settings.max_body') ?? DEFAULT_SETTINGS.maxBodyBytes,
      concurrency: this.integer(e.get('concurrency'), 'settings.concurrency', CONCURRENCY_LIMITS) ?? DEFAULT_SETTINGS.concurrency,
      hostConcurrency:
        this.integer(e.get('host_concurrency'), 'settings.host_concurrency', HOST_CONCURRENCY_LIMITS) ??
        DEFAULT_SETTINGS.hostConcurrency,
      hostGapMs: this.duration(e.get('host_gap'), 'settings.host_gap', HOST_GAP_LIMITS) ?? DEFAULT_SETTINGS.hostGapMs,
      minIntervalMs: minInterval,
      maxIntervalMs: maxInterval,
      adaptive: this.boolean(e.get('adaptive'), 'settings.adaptive') ?? DEFAULT_SETTINGS.adaptive,
      websubHub: this.optionalHttpUrl(e.get('websub_hub'), 'settings.websub_hub') ?? DEFAULT_SETTINGS.websubHub,
      footer: this.boolean(e.get('footer'), 'settings.footer') ?? DEFAULT_SETTINGS.footer,
    };
  }

  /**
   * `rivers:` named feeds. Their `sources` and `tags` must name feeds and tags this file has: a
   * misspelt id would otherwise be a river that stays empty forever without saying why.
   */
  private rivers(entry: Entry | undefined, feeds: readonly Source[]): NamedRiver[] {
    if (entry === undefined || isNull(entry.value)) return [];
    if (!isSeq(entry.value)) {
      this.report.at(entry.offset, `rivers must be a list of named feeds, got ${describe(entry.value)}`);
      return [];
    }
    const feedIds = feeds.map((f) => f.id);
    const feedTags = [...new Set(feeds.flatMap((f) => f.tags))];
    const rivers: NamedRiver[] = [];
    const names = new Map<string, { index: number; offset: number }>();

    entry.value.items.forEach((raw, index) => {
      const where = `rivers[${index}]`;
      const item = this.deref(isNode(raw) ? raw : null);
      const itemOffset = isNode(raw) ? start(raw) : entry.offset;
      if (!isMap(item)) {
        this.report.at(itemOffset, `${where} must be a mapping with at least a name, got ${describe(item)}`);
        return;
      }
      const e = this.entries(item, `in ${where}`, RIVER_KEYS);
      const name = this.required(e, 'name', where, itemOffset) ? this.id(e.get('name')!, `${where}.name`, 'name') : undefined;
      if (typeof name === 'string') {
        const nameEntry = e.get('name')!;
        const first = names.get(name);
        if (first === undefined) names.set(name, { index, offset: nameEntry.offset });
        else
          this.report.at(
            nameEntry.offset,
            `duplicate name "${name}" in ${where}; first used by rivers[${first.index}] on line ${this.report.lineOf(first.offset)}`,
          );
      }
      const title = this.optionalText(e.get('title'), `${where}.title`);
      const sources = this.references(e.get('sources'), `${where}.sources`, feedIds);
      const tags = this.tags(e.get('tags'), `${where}.tags`, feedTags);
      const q = this.optionalText(e.get('q'), `${where}.q`);
      if (q !== undefined && q.length > MAX_RIVER_QUERY_LENGTH) {
        this.report.at(e.get('q')!.offset, `${where}.q must be at most ${MAX_RIVER_QUERY_LENGTH} characters, got ${q.length}`);
      }
      const excludePublishers = this.textList(e.get('exclude_publishers'), `${where}.exclude_publishers`);
      const since = this.instant(e.get('since'), `${where}.since`);
      const footer = this.boolean(e.get('footer'), `${where}.footer`);
      if (typeof name !== 'string') return;
      rivers.push({
        name,
        title: title ?? null,
        sources: sources ?? [],
        tags: tags ?? [],
        q: q !== undefined && q.length <= MAX_RIVER_QUERY_LENGTH ? q : null,
        excludePublishers: excludePublishers ?? [],
        since: since ?? null,
        footer: footer ?? null,
      });
    });
    return rivers;
  }

  private feeds(entry: Entry, defaultEveryMs: number, defaultAdaptive: boolean): Source[] {
    if (!isSeq(entry.value)) {
      const hint = isNull(entry.value) ? '; use "feeds: []" for an empty river' : '';
      this.report.at(entry.offset, `feeds must be a list, got ${describe(entry.value)}${hint}`);
      return [];
    }
    const sources: Source[] = [];
    const ids = new Map<string, { index: number; offset: number }>();
    const urls = new Map<string, { index: number; offset: number }>();

    entry.value.items.forEach((raw, index) => {
      const where = `feeds[${index}]`;
      const item = this.deref(isNode(raw) ? raw : null);
      const itemOffset = isNode(raw) ? start(raw) : entry.offset;
      if (!isMap(item)) {
        this.report.at(itemOffset, `${where} must be a mapping with at least id and url, got ${describe(item)}`);
        return;
      }
      const e = this.entries(item, `in ${where}`, FEED_KEYS);
      const id = this.required(e, 'id', where, itemOffset) ? this.id(e.get('id')!, `${where}.id`) : undefined;
      const url = this.required(e, 'url', where, itemOffset) ? this.httpUrl(e.get('url')!, `${where}.url`) : undefined;

      if (typeof id === 'string') {
        const idEntry = e.get('id')!;
        const first = ids.get(id);
        if (first === undefined) ids.set(id, { index, offset: idEntry.offset });
        else
          this.report.at(
            idEntry.offset,
            `duplicate id "${id}" in ${where}; first used by feeds[${first.index}] on line ${this.report.lineOf(first.offset)}`,
          );
      }
      if (typeof url === 'string') {
        // Two entries for one feed would fetch it twice and attribute its stories twice.
        const urlEntry = e.get('url')!;
        const key = feedUrlKey(url);
        const first = urls.get(key);
        if (first === undefined) urls.set(key, { index, offset: urlEntry.offset });
        else
          this.report.at(
            urlEntry.offset,
            `duplicate url "${url}" in ${where}; the same feed as feeds[${first.index}] on line ${this.report.lineOf(first.offset)}`,
          );
      }

      const name = this.optionalText(e.get('name'), `${where}.name`);
      const homepage = this.optionalHttpUrl(e.get('homepage'), `${where}.homepage`);
      const tags = this.tags(e.get('tags'), `${where}.tags`);
      const everyMs = this.duration(e.get('every'), `${where}.every`, EVERY_LIMITS);
      const enabled = this.boolean(e.get('enabled'), `${where}.enabled`);
      const adaptive = this.boolean(e.get('adaptive'), `${where}.adaptive`);
      const kind = this.oneOf(e.get('kind'), `${where}.kind`, SOURCE_KINDS);
      const content = this.oneOf(e.get('content'), `${where}.content`, CONTENT_POLICIES);
      const strip = this.stripPatterns(e.get('strip'), `${where}.strip`);
      const resolveCanonical = this.boolean(e.get('resolve_canonical'), `${where}.resolve_canonical`);
      if (typeof id !== 'string' || typeof url !== 'string') return;
      sources.push({
        id,
        url,
        name: name ?? null,
        homepage: homepage ?? null,
        tags: tags ?? [],
        everyMs: everyMs ?? defaultEveryMs,
        enabled: enabled ?? true,
        adaptive: adaptive ?? defaultAdaptive,
        kind: kind ?? DEFAULT_KIND,
        content: content ?? DEFAULT_CONTENT,
        strip: strip ?? [],
        resolveCanonical: resolveCanonical ?? false,
      });
    });
    return sources;
  }

  // --- mappings ---------------------------------------------------------------------------

  /** The known keys of a mapping; unknown and non-string keys are reported with a suggestion. */
  private entries(
    map: YAMLMap,
    where: string,
    known: readonly string[],
    elsewhere: (key: string) => string | null = () => null,
  ): Entries {
    const out = new Map<string, Entry>();
    for (const pair of map.items) {
      const keyNode = isNode(pair.key) ? pair.key : null;
      const keyOffset = keyNode !== null ? start(keyNode) : start(map);
      if (keyNode === null || !isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === 'object') {
        this.report.at(keyOffset, `keys ${where} must be plain names, got ${describe(keyNode)}`);
        continue;
      }
      const key = String(keyNode.value);
      if (!known.includes(key)) {
        const suggestion = didYouMean(key, known) ?? elsewhere(key);
        const hint = suggestion === null ? `; known keys are ${known.join(', ')}` : `; did you mean "${suggestion}"?`;
        this.report.at(keyOffset, `unknown key "${key}" ${where}${hint}`);
        continue;
      }
      // yaml has already reported a repeated key; keep the first so later checks see one value.
      if (out.has(key)) continue;
      const rawValue = isNode(pair.value) ? pair.value : null;
      const value = rawValue === null ? null : this.deref(rawValue);
      const offset = rawValue === null || isNull(rawValue) ? keyOffset : start(rawValue);
      out.set(key, { keyOffset, offset, value });
    }
    return out;
  }

  private required(e: Entries, key: string, where: string, offset: number): boolean {
    const entry = e.get(key);
    if (entry === undefined || isNull(entry.value)) {
      this.report.at(entry?.keyOffset ?? offset, `${where} is missing required key "${key}"`);
      return false;
    }
    return true;
  }

  /** Aliases (`*name`) are followed so an anchored value validates like one written out. */
  private deref(node: Node | null): Node | null {
    if (node !== null && isAlias(node)) return node.resolve(this.doc) ?? null;
    return node;
  }

  // --- scalars ------------------------------------------------------------------------------
  // Each reader returns the value, `undefined` when the key is absent or null (so the caller applies
  // the default), or `undefined` after reporting a problem; the caller never needs to tell which.

  private string(entry: Entry | undefined, label: string): string | undefined {
    if (entry === undefined || isNull(entry.value)) return undefined;
    if (isScalar(entry.value) && typeof entry.value.value === 'string') return entry.value.value.trim();
    const quote = isScalar(entry.value) ? '; put it in quotes if it is meant as text' : '';
    this.report.at(entry.offset, `${label} must be a string, got ${describe(entry.value)}${quote}`);
    return undefined;
  }

  /** A free-text value: trimmed, and an empty string counts as absent. */
  private optionalText(entry: Entry | undefined, label: string): string | undefined {
    const s = this.string(entry, label);
    return s === '' ? undefined : s;
  }

  private id(entry: Entry, label: string, noun = 'id'): string | undefined {
    const s = this.string(entry, label);
    if (s === undefined) return undefined;
    // Ids are stored and shown in "via" lists; a stable slug keeps them safe in URLs and SQL alike.
    if (!ID_RE.test(s)) {
      this.report.at(
        entry.offset,
        `${label} "${s}" is not a valid ${noun}; use 1-64 lower-case letters, digits, "-" or "_", starting with a letter or digit`,
      );
      return undefined;
    }
    return s;
  }

  private httpUrl(entry: Entry, label: string): string | undefined {
    const s = this.string(entry, label);
    if (s === undefined) return undefined;
    const url = parseHttpUrl(s);
    if (url === null) {
      this.report.at(entry.offset, `${label} must be an absolute http or https URL, got "${s}"`);
      return undefined;
    }
    return url.href;
  }

  private optionalHttpUrl(entry: Entry | undefined, label: string): string | undefined {
    if (entry === undefined || isNull(entry.value)) return undefined;
    return this.httpUrl(entry, label);
  }

  private baseUrl(entry: Entry | undefined): string | null {
    if (entry === undefined || isNull(entry.value)) return null;
    const href = this.httpUrl(entry, 'base_url');
    if (href === undefined) return null;
    const url = new URL(href);
    // Self links are built by appending paths, so a query or fragment here would end up mid-URL.
    if (url.search !== '' || url.hash !== '') {
      this.report.at(entry.offset, `base_url must not have a query or fragment, got "${href}"`);
      return null;
    }
    // Stored without a trailing slash, so callers can always append "/feed.xml".
    return href.replace(/\/+$/, '');
  }

  private boolean(entry: Entry | undefined, label: string): boolean | undefined {
    if (entry === undefined || isNull(entry.value)) return undefined;
    if (isScalar(entry.value) && typeof entry.value.value === 'boolean') return entry.value.value;
    // YAML 1.2 (what the yaml package reads) has only true/false; "yes" and "on" are plain strings.
    this.report.at(entry.offset, `${label} must be true or false, got ${describe(entry.value)}`);
    return undefined;
  }

  /** `known`, when given, is the set the tags must come from (a river's tags: those of the feeds). */
  private tags(entry: Entry | undefined, label: string, known?: readonly string[]): string[] | undefined {
    if (entry === undefined || isNull(entry.value)) return undefined;
    if (!isSeq(entry.value)) {
      this.report.at(entry.offset, `${label} must be a list of strings, got ${describe(entry.value)}`);
      return undefined;
    }
    const tags: string[] = [];
    let ok = true;
    entry.value.items.forEach((raw, i) => {
      const node = this.deref(isNode(raw) ? raw : null);
      const offset = isNode(raw) ? start(raw) : entry.offset;
      if (!isScalar(node) || typeof node.value !== 'string' || node.value.trim() === '') {
        this.report.at(offset, `${label}[${i}] must be a non-empty string, got ${describe(node)}`);
        ok = false;
        return;
      }
      // Tags are matched case-insensitively by readers (?tag=Politics), so they are stored folded.
      const tag = node.value.trim().toLowerCase();
      if (known !== undefined && !known.includes(tag)) {
        const guess = didYouMean(tag, known);
        const hint = guess !== null ? `; did you mean "${guess}"?` : known.length ? `; the feeds' tags are ${listed(known)}` : '; no feed has tags';
        this.report.at(offset, `${label}[${i}] "${tag}" is not a tag of any feed${hint}`);
        ok = false;
        return;
      }
      if (!tags.includes(tag)) tags.push(tag);
    });
    return ok ? tags : undefined;
  }

  /** A list of feed ids, each of which must be a feed of this file; duplicates dropped. */
  private references(entry: Entry | undefined, label: string, ids: readonly string[]): string[] | undefined {
    const values = this.textList(entry, label, (value, offset, i) => {
      if (ids.includes(value)) return true;
      const guess = didYouMean(value, ids);
      const hint = guess !== null ? `; did you mean "${guess}"?` : ids.length ? `; feed ids are ${listed(ids)}` : '; there are no feeds';
      this.report.at(offset, `${label}[${i}] "${value}" is not the id of a feed${hint}`);
      return false;
    });
    return values;
  }

  /** A list of non-empty strings, trimmed, duplicates dropped; `check` may reject an item (having reported it). */
  private textList(
    entry: Entry | undefined,
    label: string,
    check: (value: string, offset: number, index: number) => boolean = () => true,
  ): string[] | undefined {
    if (entry === undefined || isNull(entry.value)) return undefined;
    if (!isSeq(entry.value)) {
      const hint = isScalar(entry.value) && typeof entry.value.value === 'string' ? `; write a list, e.g. [${JSON.stringify(entry.value.value)}]` : '';
      this.report.at(entry.offset, `${label} must be a list of strings, got ${describe(entry.value)}${hint}`);
      return undefined;
    }
    const values: string[] = [];
    let ok = true;
    entry.value.items.forEach((raw, i) => {
      const node = this.deref(isNode(raw) ? raw : null);
      const offset = isNode(raw) ? start(raw) : entry.offset;
      if (!isScalar(node) || typeof node.value !== 'string' || node.value.trim() === '') {
        const quote = isScalar(node) && node.value !== null && typeof node.value !== 'string' ? '; put it in quotes if it is meant as text' : '';
        this.report.at(offset, `${label}[${i}] must be a non-empty string, got ${describe(node)}${quote}`);
        ok = false;
        return;
      }
      const value = node.value.trim();
      if (!check(value, offset, i)) {
        ok = false;
        return;
      }
      if (!values.includes(value)) values.push(value);
    });
    return ok ? values : undefined;
  }

  /**
   * A date (midnight UTC) or an RFC 3339 date-time with its offset, as an ISO 8601 UTC string.
   * YAML 1.2 reads an unquoted 2026-01-01 as text, so both spellings arrive here as strings.
   */
  private instant(entry: Entry | undefined, label: string): string | undefined {
    if (entry === undefined || isNull(entry.value)) return undefined;
    const v = isScalar(entry.value) ? entry.value.value : undefined;
    const at = typeof v === 'string' ? parseInstant(v.trim()) : v instanceof Date ? v : null;
    if (at === null) {
      this.report.at(entry.offset, `${label} must be a date like 2026-01-01 or a date-time like 2026-01-01T08:00:00Z, got ${describe(entry.value)}`);
      return undefined;
    }
    return at.toISOString();
  }

  /** One of a few words, exactly (they are lower-case in feeds.yaml and the docs); a near miss gets a suggestion. */
  private oneOf<T extends string>(entry: Entry | undefined, label: string, allowed: readonly T[]): T | undefined {
    if (entry === undefined || isNull(entry.value)) return undefined;
    const v = isScalar(entry.value) ? entry.value.value : undefined;
    if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
    const suggestion = typeof v === 'string' ? didYouMean(v, allowed) : null;
    const hint = suggestion === null ? '' : `; did you mean "${suggestion}"?`;
    this.report.at(entry.offset, `${label} must be one of ${allowed.join(', ')}, got ${describe(entry.value)}${hint}`);
    return undefined;
  }

  /**
   * `strip:` patterns: text, or `css:SELECTOR` (checked by compiling it), each reported at its own
   * line:col. Stored trimmed, `css:` prefixes lower-cased, duplicates dropped.
   */
  private stripPatterns(entry: Entry | undefined, label: string): string[] | undefined {
    if (entry === undefined || isNull(entry.value)) return undefined;
    if (!isSeq(entry.value)) {
      const hint = isScalar(entry.value) && typeof entry.value.value === 'string' ? `; write a list, e.g. [${JSON.stringify(entry.value.value)}]` : '';
      this.report.at(entry.offset, `${label} must be a list of text or css:SELECTOR patterns, got ${describe(entry.value)}${hint}`);
      return undefined;
    }
    const patterns: string[] = [];
    let ok = true;
    entry.value.items.forEach((raw, i) => {
      const node = this.deref(isNode(raw) ? raw : null);
      const offset = isNode(raw) ? start(raw) : entry.offset;
      if (!isScalar(node) || typeof node.value !== 'string' || node.value.trim() === '') {
        // `- Source: NewsNow` and `- css: .promo` are YAML mappings, a slip easy to make with patterns.
        const quote = isMap(node)
          ? '; put the pattern in quotes (an unquoted ": " makes it a YAML mapping)'
          : isScalar(node) && node.value !== null && typeof node.value !== 'string'
            ? '; put it in quotes if it is meant as text'
            : '';
        this.report.at(offset, `${label}[${i}] must be a non-empty string, got ${describe(node)}${quote}`);
        ok = false;
        return;
      }
      const problem = stripPatternProblem(node.value);
      if (problem !== null) {
        this.report.at(offset, `${label}[${i}] ${JSON.stringify(node.value.trim())} ${problem}`);
        ok = false;
        return;
      }
      const pattern = readStripPattern(node.value);
      const stored = pattern.kind === 'css' ? `css:${pattern.selector}` : pattern.text;
      if (!patterns.includes(stored)) patterns.push(stored);
    });
    return ok ? patterns : undefined;
  }

  private duration(entry: Entry | undefined, label: string, limits: { min: number; max: number }): number | undefined {
    if (entry === undefined || isNull(entry.value)) return undefined;
    const ms = this.scalarAs(entry, parseDuration);
    if (ms === null) {
      this.report.at(
        entry.offset,
        `${label} must be a duration like 30s, 15m, 2h, 1d or 1h30m, or a number of seconds, got ${describe(entry.value)}`,
      );
      return undefined;
    }
    return this.inRange(entry, label, ms, limits, formatDuration);
  }

  private byteSize(entry: Entry | undefined, label: string): number | undefined {
    if (entry === undefined || isNull(entry.value)) return undefined;
    const bytes = this.scalarAs(entry, parseByteSize);
    if (bytes === null) {
      this.report.at(
        entry.offset,
        `${label} must be a size like 10MiB, 512KB or a number of bytes (units B, KB, KiB, MB, MiB, GB, GiB), got ${describe(entry.value)}`,
      );
      return undefined;
    }
    return this.inRange(entry, label, bytes, MAX_BODY_LIMITS, (n) => `${n} bytes`);
  }

  private integer(entry: Entry | undefined, label: string, limits: { min: number; max: number }): number | undefined {
    if (entry === undefined || isNull(entry.value)) return undefined;
    const v = isScalar(entry.value) ? entry.value.value : undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.report.at(entry.offset, `${label} must be a whole number, got ${describe(entry.value)}`);
      return undefined;
    }
    return this.inRange(entry, label, v, limits, String);
  }

  /** Durations and sizes may be written as text (`15m`) or as a bare YAML integer (`900`). */
  private scalarAs(entry: Entry, parse: (text: string) => number | null): number | null {
    if (!isScalar(entry.value)) return null;
    const v = entry.value.value;
    if (typeof v === 'string') return parse(v);
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return parse(String(v));
    return null;
  }

  private inRange(
    entry: Entry,
    label: string,
    n: number,
    limits: { min: number; max: number },
    show: (n: number) => string,
  ): number | undefined {
    if (n >= limits.min && n <= limits.max) return n;
    this.report.at(entry.offset, `${label} must be between ${show(limits.min)} and ${show(limits.max)}, got ${describe(entry.value)}`);
    return undefined;
  }
}

// --- node helpers ---------------------------------------------------------------------------

/** The name of the key starting at `offset`, quoted, for yaml's own duplicate-key error. */
function keyNameAt(doc: Document, offset: number): string {
  let name = '';
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
        name = JSON.stringify(String(pair.key.value));
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return name || '(complex key)';
}

function isNode(x: unknown): x is Node {
  return isScalar(x) || isMap(x) || isSeq(x) || isAlias(x);
}

function isNull(node: Node | null): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

function start(node: Node): number {
  return node.range?.[0] ?? 0;
}

/** How a value reads in a message: `"text"`, `number 5`, `boolean true`, `a list`, `a mapping`, `nothing`. */
function describe(node: Node | null): string {
  if (node === null || isNull(node)) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    return typeof v === 'string' ? JSON.stringify(v) : `${typeof v} ${String(v)}`;
  }
  return 'an alias';
}

/** A short list for messages: the first few, quoted, then how many more. */
function listed(values: readonly string[]): string {
  const shown = values.slice(0, 8).map((v) => `"${v}"`).join(', ');
  return values.length > 8 ? `${shown} and ${values.length - 8} more` : shown;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** YYYY-MM-DD (UTC midnight) or an RFC 3339 date-time with an offset; null for anything else, 2026-02-30 included. */
export function parseInstant(text: string): Date | null {
  const date = DATE_RE.exec(text);
  const dateTime = date ? null : DATE_TIME_RE.exec(text);
  const m = date ?? dateTime;
  if (!m) return null;
  const [, y, mo, d] = m;
  // The calendar date must exist: Date.UTC would roll 2026-02-30 over into March.
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (day.getUTCFullYear() !== Number(y) || day.getUTCMonth() !== Number(mo) - 1 || day.getUTCDate() !== Number(d)) return null;
  if (date) return day;
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6] ?? '0') > 59) return null;
  const ms = Date.parse(text.toUpperCase());
  return Number.isNaN(ms) ? null : new Date(ms);
}

function parseHttpUrl(text: string): URL | null {
  if (!URL.canParse(text)) return null;
  const url = new URL(text);
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' ? url : null;
}

/**
 * What makes two feed URLs the same feed: the WHATWG parser already lower-cases scheme and host and
 * drops default ports (RFC 3986 section 6.2.3); a trailing slash and the fragment (never sent to the
 * server) are dropped on top of that. The query stays: it often selects the feed.
 */
/** The key two feed URLs must not share (duplicate detection, also for import-opml). */
export function feedUrlKey(href: string): string {
  const url = new URL(href);
  const pathname = url.pathname.replace(/\/+$/, '');
  return `${url.protocol}//${url.username}:${url.password}@${url.host}${pathname}${url.search}`;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Loading and watching

/** Reads and validates a feeds file; a missing or unreadable file is a problem at 1:1, never a throw. */
export async function loadFeedsFile(file: string): Promise<ParseResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { ok: false, problems: [readProblem(file, err)] };
  }
  return parseFeedsYaml(text, file);
}

export function readProblem(file: string, err: unknown): ConfigProblem {
  const code = err instanceof Error && 'code' in err ? err.code : undefined;
  const message =
    code === 'ENOENT'
      ? 'feeds file not found (create it, or point FEEDS_FILE at it)'
      : code === 'EISDIR'
        ? 'is a directory, expected a feeds.yaml file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'feeds file cannot be read: permission denied'
          : `feeds file cannot be read: ${describeError(err)}`;
  return { file, line: 1, col: 1, message };
}

/**
 * Where a feed's key is written in a feeds.yaml text: 1-based line and column of the value of
 * `key` in the feeds entry whose id is `id` (used to point at the line to edit), or null.
 */
export function locateFeedValue(text: string, id: string, key: string): { line: number; col: number } | null {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false });
  const feeds = isMap(doc.contents) ? doc.contents.get('feeds', true) : null;
  if (!isSeq(feeds)) return null;
  for (const entry of feeds.items) {
    if (!isMap(entry) || String(entry.get('id')) !== id) continue;
    const value = entry.get(key, true);
    if (!isNode(value) || !value.range) return null;
    const pos = lineCounter.linePos(value.range[0]);
    return { line: pos.line, col: pos.col };
  }
  return null;
}
