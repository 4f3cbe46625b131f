import { didYouMean } from '../did-you-mean.js';
import type { NamedRiver, RiverSettings, Source } from '../domain.js';
import { TributaryError } from '../errors.js';
import type { StoryFilter } from '../store/items-query.js';
import type { RiverFilter } from '../store/river-query.js';
import { formatFeedQuery } from './query-params.js';
import type { FeedFormat } from './render-feed.js';

// What each feed route serves (feed-routes.ts), before format, page or archive are chosen: the
// river (/feed.*), a named river of feeds.yaml `rivers:` (/rivers/<name>.*), one configured feed
// (/sources/<id>/feed.*) or one tag (/tags/<tag>/feed.*). Pure: feeds.yaml in, a filter, a title,
// a ttl, and whether it is a WebSub topic out; an unknown name is a not-found error naming it.

/** What the feeds need of feeds.yaml. `feeds`, `rivers` and `settings` may be left out: none, defaults. */
export interface FeedRiverConfig {
  readonly title: string;
  readonly baseUrl: string | null;
  readonly feeds?: readonly Source[];
  readonly rivers?: readonly NamedRiver[];
  readonly settings?: Pick<RiverSettings, 'everyMs' | 'websubHub' | 'footer'>;
}

export const FEED_FORMATS: readonly FeedFormat[] = ['rss', 'atom', 'json'];
export const FEED_EXTENSIONS: Readonly<Record<FeedFormat, string>> = { rss: '.xml', atom: '.atom', json: '.json' };

/** Used for ttl when no feed of an output is known (no feeds.yaml given): settings.every's default. */
const DEFAULT_EVERY_MS = 15 * 60_000;

/**
 * The paths of the feeds Tributary pings a WebSub hub for, and advertises it on: the river and
 * every named river, in every format. Per-source and per-tag feeds and filtered URLs are left out
 * (a ping per source would be hundreds of requests per change); they advertise no hub, so their
 * readers keep polling instead of waiting for pushes that never come.
 */
export function riverFeedPaths(config: { readonly rivers?: readonly NamedRiver[] }): string[] {
  const bases = ['/feed', ...(config.rivers ?? []).map((r) => `/rivers/${r.name}`)];
  return bases.flatMap((b) => FEED_FORMATS.map((f) => `${b}${FEED_EXTENSIONS[f]}`));
}

/** One feed, before format, page or archive are chosen. */
export interface FeedOutput {
  /** Path without the format's extension: /feed, /rivers/x, /sources/x/feed, /tags/x/feed (encoded). */
  readonly basePath: string;
  /** The canonical query of the subscription document ('' or '?...'): the self URL's. */
  readonly query: string;
  readonly filter: RiverFilter;
  readonly limit: number;
  readonly title: string;
  readonly description: string | null;
  /** How often its stories can change: the shortest poll interval among its feeds. */
  readonly everyMs: number;
  readonly footer: boolean;
  /** A WebSub topic (riverFeedPaths pings it): its subscription document advertises the hub. */
  readonly topic: boolean;
}

/** /feed.*: the river, narrowed by the feed's own ?source, ?tag and ?q (parseFeedQuery). */
export function riverOutput(river: FeedRiverConfig, f: StoryFilter): FeedOutput {
  const filter: RiverFilter = {
    ...(f.sources?.length ? { sources: f.sources } : {}),
    ...(f.tags?.length ? { tags: f.tags } : {}),
    ...(f.q !== undefined ? { q: f.q } : {}),
  };
  const query = formatFeedQuery(f);
  return {
    basePath: '/feed',
    query,
    filter,
    limit: f.limit,
    title: river.title,
    description: describeFilter(filter),
    everyMs: shortestEvery(river, filter),
    footer: river.settings?.footer ?? true,
    topic: query === '',
  };
}

/** /rivers/<file>: the river's name and the format its extension asks for; not-found otherwise. */
export function riverFile(file: string): { name: string; format: FeedFormat } {
  const dot = file.lastIndexOf('.');
  const format = FEED_FORMATS.find((f) => FEED_EXTENSIONS[f] === file.slice(dot));
  if (dot <= 0 || format === undefined) {
    throw new TributaryError('not-found', `no such feed: /rivers/${short(file)}; a river is served as /rivers/NAME.xml, .atom or .json`);
  }
  return { name: file.slice(0, dot), format };
}

export function namedRiverOutput(river: FeedRiverConfig, name: string, limit: number): FeedOutput {
  const rivers = river.rivers ?? [];
  const named = rivers.find((r) => r.name === name);
  if (!named) {
    const guess = didYouMean(name, rivers.map((r) => r.name));
    const hint = guess ? `; did you mean "${guess}"?` : rivers.length ? `; rivers: ${rivers.map((r) => r.name).join(', ')}` : '; feeds.yaml defines none';
    throw new TributaryError('not-found', `no river named ${JSON.stringify(short(name))}${hint}`);
  }
  const filter: RiverFilter = {
    ...(named.sources.length ? { sources: named.sources } : {}),
    ...(named.tags.length ? { tags: named.tags } : {}),
    ...(named.q !== null ? { q: named.q } : {}),
    ...(named.excludePublishers.length ? { excludePublishers: named.excludePublishers } : {}),
    ...(named.since !== null ? { since: new Date(named.since) } : {}),
  };
  const query = formatFeedQuery({ limit });
  return {
    basePath: `/rivers/${named.name}`,
    query,
    filter,
    limit,
    title: named.title ?? `${river.title}: ${named.name}`,
    description: describeFilter(filter),
    everyMs: shortestEvery(river, filter),
    footer: named.footer ?? river.settings?.footer ?? true,
    topic: query === '',
  };
}

export function sourceOutput(river: FeedRiverConfig, id: string, limit: number): FeedOutput {
  const feeds = river.feeds ?? [];
  // Only feeds in feeds.yaml: a removed feed's stories stay in the river, but not as a feed of their own.
  const source = feeds.find((s) => s.id === id);
  if (!source) {
    const guess = didYouMean(id, feeds.map((s) => s.id));
    throw new TributaryError('not-found', `no feed with id ${JSON.stringify(short(id))} in feeds.yaml${guess ? `; did you mean "${guess}"?` : ''}`);
  }
  const filter: RiverFilter = { sources: [source.id] };
  return {
    basePath: `/sources/${source.id}/feed`,
    query: formatFeedQuery({ limit }),
    filter,
    limit,
    title: `${river.title}: ${source.name ?? source.id}`,
    description: describeFilter(filter),
    everyMs: source.everyMs,
    footer: river.settings?.footer ?? true,
    topic: false,
  };
}

export function tagOutput(river: FeedRiverConfig, rawTag: string, limit: number): FeedOutput {
  // Tags are stored lower-case (sources.ts), so /tags/Politics is /tags/politics.
  const tag = rawTag.trim().toLowerCase();
  const tags = [...new Set((river.feeds ?? []).flatMap((s) => s.tags))];
  if (!tags.includes(tag)) {
    const guess = didYouMean(tag, tags);
    throw new TributaryError('not-found', `no feed in feeds.yaml has the tag ${JSON.stringify(short(tag))}${guess ? `; did you mean "${guess}"?` : ''}`);
  }
  const filter: RiverFilter = { tags: [tag] };
  return {
    basePath: `/tags/${encodeURIComponent(tag)}/feed`,
    query: formatFeedQuery({ limit }),
    filter,
    limit,
    title: `${river.title}: ${tag}`,
    description: describeFilter(filter),
    everyMs: shortestEvery(river, filter),
    footer: river.settings?.footer ?? true,
    topic: false,
  };
}

/**
 * The shortest poll interval among the enabled feeds an output draws from (named by `sources`,
 * else carrying one of `tags`, else all): the river cannot change more often than its fastest
 * feed is read, so that is how long a reader may keep it.
 */
function shortestEvery(river: FeedRiverConfig, filter: RiverFilter): number {
  const fallback = river.settings?.everyMs ?? DEFAULT_EVERY_MS;
  const feeds = (river.feeds ?? []).filter(
    (s) =>
      s.enabled &&
      (filter.sources?.length ? filter.sources.includes(s.id) : filter.tags?.length ? s.tags.some((t) => filter.tags!.includes(t)) : true),
  );
  return feeds.length ? Math.min(...feeds.map((s) => s.everyMs)) : fallback;
}

/** RSS <ttl> and Cache-Control max-age, in minutes: the output's interval, 1 to 60 minutes. */
export function ttlMinutesFor(everyMs: number): number {
  return Math.min(60, Math.max(1, Math.ceil(everyMs / 60_000)));
}

/** A line saying which stories a filtered feed carries; null for the whole river. */
function describeFilter(filter: RiverFilter): string | null {
  const parts: string[] = [];
  if (filter.sources?.length) parts.push(`via ${filter.sources.join(', ')}`);
  if (filter.tags?.length) parts.push(`tagged ${filter.tags.join(', ')}`);
  if (filter.q !== undefined) parts.push(`matching "${filter.q}"`);
  if (filter.excludePublishers?.length) parts.push(`not from ${filter.excludePublishers.join(', ')}`);
  if (filter.since) parts.push(`since ${filter.since.toISOString().slice(0, 10)}`);
  return parts.length ? `Stories ${parts.join(', ')}` : null;
}

function short(s: string): string {
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}
