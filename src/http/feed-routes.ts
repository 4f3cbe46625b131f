import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { Story } from '../domain.js';
import type { Db } from '../store/database.js';
import { listStories, type StoryFilter } from '../store/items-query.js';
import { VERSION } from '../version.js';
import { formatFeedQuery, parseFeedQuery } from './query-params.js';
import { FEED_CONTENT_TYPES, renderFeed, type FeedFormat, type RiverMeta } from './render-feed.js';

// The river as feeds: GET /feed.xml (RSS 2.0), /feed.atom (Atom 1.0), /feed.json (JSON Feed 1.1),
// each taking ?limit, ?source, ?tag and ?q (see FEED_PARAMS for why not since/until/cursor).
// A story cluster (one story carried by several publishers) is one entry: the earliest member's,
// naming the others ("also published by"); see StoryFilter.collapseClusters for how filters apply.
// Feed readers poll these every few minutes, so every response carries validators and most polls
// end in a bodiless 304 (RFC 9110 section 13). HEAD is served by fastify from the GET route.

export interface FeedRouteDeps {
  readonly db: Db;
  river(): { readonly title: string };
  publicBaseUrl(): string;
}

export const FEED_PATHS: Readonly<Record<FeedFormat, string>> = {
  rss: '/feed.xml',
  atom: '/feed.atom',
  json: '/feed.json',
};

/** Last-Modified of a river with no stories: any fixed date works, it only has to stay put. */
export const EMPTY_RIVER_LAST_MODIFIED = new Date(Date.UTC(2000, 0, 1));

export function feedRoutes(deps: FeedRouteDeps): RouteOptions[] {
  return (Object.keys(FEED_PATHS) as FeedFormat[]).map((format) => ({
    method: 'GET',
    url: FEED_PATHS[format],
    handler: (req: FastifyRequest, reply: FastifyReply) => serveFeed(deps, format, req, reply),
  }));
}

async function serveFeed(deps: FeedRouteDeps, format: FeedFormat, req: FastifyRequest, reply: FastifyReply) {
  const filter = parseFeedQuery(req.query);
  const { stories } = await listStories(deps.db, { ...filter, collapseClusters: true });
  const base = deps.publicBaseUrl().replace(/\/+$/, '');
  const query = formatFeedQuery(filter);
  const title = deps.river().title;
  const lastModified = feedLastModified(stories, new Date());

  const etag = feedEtag({ format, query, title, base, stories });
  // Sent on the 304 too: RFC 9110 section 15.4.5 wants the headers a 200 would have carried.
  // Vary is lowercase because @fastify/compress looks for that spelling before adding its own;
  // field names are case-insensitive (RFC 9110 section 5.1).
  void reply
    .header('etag', etag)
    .header('last-modified', lastModified.toUTCString())
    .header('cache-control', 'public, max-age=60')
    .header('vary', 'accept-encoding');

  if (isNotModified(req.headers, etag, lastModified)) return reply.code(304).send();

  const river: RiverMeta = {
    title,
    description: describeFilter(filter),
    selfUrl: `${base}${FEED_PATHS[format]}${query}`,
    homeUrl: `${base}/`,
    // The same river, same filters, in the other two formats (this one is selfUrl).
    alternates: Object.fromEntries(
      (Object.keys(FEED_PATHS) as FeedFormat[]).filter((f) => f !== format).map((f) => [f, `${base}${FEED_PATHS[f]}${query}`]),
    ),
    updated: lastModified,
    generator: `Tributary ${VERSION}`,
  };
  return reply.header('content-type', FEED_CONTENT_TYPES[format]).send(renderFeed(format, river, stories));
}

/**
 * A strong validator over everything the body is made from: format, normalised query, river
 * title, base URL, version, and each story's (id, updatedAt, via, content policy, cluster members).
 * via, the policy and the members are in because each changes the body without the story's
 * updatedAt changing: a story picked up by one more feed, a `content:` change in feeds.yaml, a
 * cluster gaining a member (a new "also published by").
 * The tag is the same whichever Content-Encoding is applied; caches key on it through Vary, and
 * these responses are never served in byte ranges, where a coding-blind strong tag could mislead.
 */
export function feedEtag(input: {
  readonly format: FeedFormat;
  readonly query: string;
  readonly title: string;
  readonly base: string;
  readonly stories: readonly Story[];
}): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify([input.format, input.query, input.title, input.base, VERSION]));
  for (const s of input.stories) {
    const others = s.alsoPublishedBy.map((o) => [o.storyId, o.url, o.publisher.name, o.publisher.url]);
    hash.update(JSON.stringify([s.id, s.updatedAt.getTime(), s.via, s.contentPolicy, others]));
  }
  return `"${hash.digest('base64url').slice(0, 32)}"`;
}

/**
 * The newest updatedAt among the stories, in whole seconds (HTTP-dates have no fractions, and
 * If-Modified-Since compares what we sent), never in the future: RFC 9110 section 8.8.2.1 forbids
 * a Last-Modified later than the response's Date, and a publisher's clock may be ahead.
 * A cluster's other members count with their publishedAt: an entry changes when a member joins,
 * which is no earlier than that member was published (the best lower bound the story carries),
 * so a cluster growing moves Last-Modified forward for clients that send only If-Modified-Since.
 */
export function feedLastModified(stories: readonly Story[], now: Date): Date {
  if (stories.length === 0) return EMPTY_RIVER_LAST_MODIFIED;
  const times = stories.flatMap((s) => [s.updatedAt.getTime(), ...s.alsoPublishedBy.map((o) => o.publishedAt.getTime())]);
  const newest = Math.min(Math.max(...times), now.getTime());
  return new Date(Math.floor(newest / 1000) * 1000);
}

/**
 * RFC 9110 section 13.2.2: If-None-Match decides when present (If-Modified-Since is then ignored);
 * otherwise If-Modified-Since, ignored when it is not a valid HTTP-date (section 13.1.3).
 */
export function isNotModified(
  headers: { readonly 'if-none-match'?: string | undefined; readonly 'if-modified-since'?: string | undefined },
  etag: string,
  lastModified: Date,
): boolean {
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) return etagListMatches(ifNoneMatch, etag);
  const ifModifiedSince = headers['if-modified-since'];
  if (ifModifiedSince === undefined) return false;
  const since = Date.parse(ifModifiedSince);
  return !Number.isNaN(since) && lastModified.getTime() <= since;
}

/**
 * If-None-Match is `*` or a list of entity tags; it matches by weak comparison (RFC 9110
 * section 13.1.2): W/ prefixes are ignored and opaque tags compared. Tags are matched rather than
 * split on commas because a comma may appear inside an opaque tag.
 */
export function etagListMatches(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  const ours = etag.replace(/^W\//, '');
  for (const m of header.matchAll(/(?:W\/)?("[^"]*")/g)) if (m[1] === ours) return true;
  return false;
}

/** A line saying which stories a filtered feed carries; null for the whole river. */
function describeFilter(filter: StoryFilter): string | null {
  const parts: string[] = [];
  if (filter.sources?.length) parts.push(`via ${filter.sources.join(', ')}`);
  if (filter.tags?.length) parts.push(`tagged ${filter.tags.join(', ')}`);
  if (filter.q !== undefined) parts.push(`matching "${filter.q}"`);
  return parts.length ? `Stories ${parts.join(', ')}` : null;
}
