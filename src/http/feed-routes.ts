import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../store/database.js';
import { loadRiverPage, pageVersion, type PageVersion } from '../store/river-query.js';
import { VERSION } from '../version.js';
import {
  ARCHIVE_TTL_MINUTES,
  linksOf,
  MAX_ARCHIVE_ENTRIES,
  planDocument,
  readPagingQuery,
  withPaging,
  type DocumentPlan,
  type PagingQuery,
} from './archive.js';
import { COMPRESS_THRESHOLD, negotiateCoding, type CachedFeed, type FeedCache } from './feed-cache.js';
import {
  FEED_EXTENSIONS,
  FEED_FORMATS,
  namedRiverOutput,
  riverFile,
  riverOutput,
  sourceOutput,
  tagOutput,
  ttlMinutesFor,
  type FeedOutput,
  type FeedRiverConfig,
} from './feed-outputs.js';
import { FEED_PARAMS, parseFeedQuery } from './query-params.js';
import { FEED_CONTENT_TYPES, renderFeed, type FeedFormat, type RiverLinks, type RiverMeta } from './render-feed.js';

// The output feeds, each in RSS 2.0 (.xml), Atom 1.0 (.atom) and JSON Feed 1.1 (.json):
//   /feed.*                   the river; ?limit, ?source, ?tag, ?q
//   /rivers/<name>.*          a named river from feeds.yaml `rivers:`; ?limit
//   /sources/<id>/feed.*      the stories that came via one configured feed; ?limit
//   /tags/<tag>/feed.*        the stories of one tag the feeds use; ?limit
// and on every one ?page=<cursor> (rel="next" pages) and ?archive=YYYY-MM-DD (RFC 5005 archives,
// see archive.ts). A story cluster is one entry, the earliest member's, naming the others.
//
// Feed readers poll these every few minutes, so a request costs, in order:
//  1. the page's version and its archive link (river-query.ts: one query, one row, no text);
//  2. a 304 when the client's validator matches (RFC 9110 section 13);
//  3. else the rendered body kept in process for that URL under that ETag (feed-cache.ts);
//  4. else the stories are loaded and rendered, and kept.
// The ETag is computed from the version, so it is the cache's key too: no invalidation messages,
// and any number of processes stay correct. HEAD is served by fastify from the GET route.

export interface FeedRouteDeps {
  readonly db: Kysely<Database>;
  river(): FeedRiverConfig;
  publicBaseUrl(): string;
  /** Rendered documents kept in process; null renders every time. */
  readonly feedCache: FeedCache | null;
  /** The clock deciding which days are archived (tests move it). */
  now?(): Date;
}

export const FEED_PATHS: Readonly<Record<FeedFormat, string>> = {
  rss: '/feed.xml',
  atom: '/feed.atom',
  json: '/feed.json',
};

/** Last-Modified of a feed with no stories: any fixed date works, it only has to stay put. */
export const EMPTY_RIVER_LAST_MODIFIED = new Date(Date.UTC(2000, 0, 1));

export function feedRoutes(deps: FeedRouteDeps): RouteOptions[] {
  const routes: RouteOptions[] = [];
  for (const format of FEED_FORMATS) {
    const ext = FEED_EXTENSIONS[format];
    routes.push(
      getRoute(`/feed${ext}`, (req) => {
        const paging = readPagingQuery(req.query, FEED_PARAMS);
        return [riverOutput(deps.river(), parseFeedQuery(paging.rest)), paging];
      }, deps, format),
      getRoute(`/sources/:id/feed${ext}`, (req) => {
        const paging = readPagingQuery(req.query, ['limit']);
        return [sourceOutput(deps.river(), (req.params as { id: string }).id, limitOf(paging)), paging];
      }, deps, format),
      getRoute(`/tags/:tag/feed${ext}`, (req) => {
        const paging = readPagingQuery(req.query, ['limit']);
        return [tagOutput(deps.river(), (req.params as { tag: string }).tag, limitOf(paging)), paging];
      }, deps, format),
    );
  }
  routes.push({
    method: 'GET',
    url: '/rivers/:file',
    handler: async (req: FastifyRequest, reply: FastifyReply) => {
      const { name, format } = riverFile((req.params as { file: string }).file);
      const paging = readPagingQuery(req.query, ['limit']);
      const output = namedRiverOutput(deps.river(), name, limitOf(paging));
      return serveOutput(deps, output, format, paging, req, reply);
    },
  });
  return routes;
}

function limitOf(paging: PagingQuery): number {
  return parseFeedQuery(paging.rest).limit;
}

function getRoute(
  url: string,
  resolve: (req: FastifyRequest) => [FeedOutput, PagingQuery],
  deps: FeedRouteDeps,
  format: FeedFormat,
): RouteOptions {
  return {
    method: 'GET',
    url,
    handler: (req: FastifyRequest, reply: FastifyReply) => {
      const [output, paging] = resolve(req);
      return serveOutput(deps, output, format, paging, req, reply);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Serving one document

async function serveOutput(
  deps: FeedRouteDeps,
  output: FeedOutput,
  format: FeedFormat,
  paging: PagingQuery,
  req: FastifyRequest,
  reply: FastifyReply,
) {
  const now = deps.now?.() ?? new Date();
  const base = deps.publicBaseUrl().replace(/\/+$/, '');
  const river = deps.river();
  const plan = planDocument(output, format, paging, base, now);

  const version = await pageVersion(
    deps.db,
    plan.filter,
    { limit: plan.limit, cursor: plan.cursor },
    plan.olderThan ? { filter: output.filter, before: plan.olderThan } : undefined,
  );
  const fixedLinks = linksOf(output, format, plan, base, version.newestBefore, river.settings?.websubHub ?? null);
  const ttlMinutes = plan.kind === 'archive' ? ARCHIVE_TTL_MINUTES : ttlMinutesFor(output.everyMs);
  const doc = documentOf(output, format, plan, base, fixedLinks, ttlMinutes, version, now);

  if (isNotModified(req.headers, doc.etag, doc.lastModified)) return sendDocument(reply, format, doc, ttlMinutes).code(304).send();
  const cached = deps.feedCache?.get(cacheKey(format, plan.selfUrl), doc.etag) ?? null;
  if (cached) return sendBody(req, sendDocument(reply, format, doc, ttlMinutes), cached);

  // A miss: the stories the version chose, read after it. Not in one snapshot (a transaction
  // would cost two more round trips on every miss): a story edited in between makes the body newer
  // than its ETag, never older, so the next request sees a new version and renders again; a story
  // deleted in between (re-identification) is simply missing from this one body.
  const stories = await loadRiverPage(deps.db, plan.filter, version, plan.cursor);
  if (stories.length !== version.ids.length) {
    req.log.debug({ url: plan.selfUrl, chosen: version.ids.length, loaded: stories.length }, 'feed page changed while it was loaded');
  }
  if (plan.kind === 'archive' && version.nextCursor !== null) {
    req.log.warn({ url: plan.selfUrl, entries: MAX_ARCHIVE_ENTRIES }, 'archive day has more entries than one document holds; cut');
  }
  const body = Buffer.from(renderFeed(format, doc.meta, stories), 'utf8');
  const kept = deps.feedCache?.set(cacheKey(format, plan.selfUrl), doc.etag, body) ?? null;
  if (kept) return sendBody(req, sendDocument(reply, format, doc, ttlMinutes), kept);
  return sendDocument(reply, format, doc, ttlMinutes).send(body);
}

/**
 * A kept document goes out in the coding the client prefers, compressed once and kept with it
 * (feed-cache.ts). With Content-Encoding set, @fastify/compress leaves the body alone.
 */
function sendBody(req: FastifyRequest, reply: FastifyReply, doc: CachedFeed) {
  const coding = doc.body.length >= COMPRESS_THRESHOLD ? negotiateCoding(req.headers['accept-encoding']) : null;
  if (coding === null) return reply.send(doc.body);
  return reply.header('content-encoding', coding).send(doc.encoded(coding));
}

interface FeedDocument {
  readonly meta: RiverMeta;
  readonly etag: string;
  readonly lastModified: Date;
}

function documentOf(
  output: FeedOutput,
  format: FeedFormat,
  plan: DocumentPlan,
  base: string,
  fixedLinks: RiverLinks,
  ttlMinutes: number,
  version: PageVersion,
  now: Date,
): FeedDocument {
  const links: RiverLinks = { ...fixedLinks };
  if (plan.kind !== 'archive' && version.nextCursor) {
    links.next = `${base}${output.basePath}${FEED_EXTENSIONS[format]}${withPaging(output.query, { page: version.nextCursor })}`;
  }
  const lastModified = lastModifiedOf(version, now);
  const meta: RiverMeta = {
    title: output.title,
    description: output.description,
    selfUrl: plan.selfUrl,
    homeUrl: `${base}/`,
    // The same document in the other two formats (this one is selfUrl).
    alternates: Object.fromEntries(
      FEED_FORMATS.filter((f) => f !== format).map((f) => [f, `${base}${output.basePath}${FEED_EXTENSIONS[f]}${plan.selfQuery}`]),
    ),
    updated: lastModified,
    generator: `Tributary ${VERSION}`,
    links,
    ttlMinutes,
    footer: output.footer,
  };
  return { meta, etag: etagOf(format, meta, version), lastModified };
}

/**
 * A strong validator over everything the body is made from: the format, the document's metadata
 * (title, URLs, links, ttl, footer, generator version) and the page's version (its entries and the
 * digests of their dates, content hashes, attribution, via, content policies and cluster members:
 * river-query.ts). A story picked up by one more feed, a `content:` change in feeds.yaml or a
 * cluster gaining a member each change it.
 * The tag is the same whichever Content-Encoding is applied; caches key on it through Vary, and
 * these responses are never served in byte ranges, where a coding-blind strong tag could mislead.
 */
function etagOf(format: FeedFormat, meta: RiverMeta, version: PageVersion): string {
  const hash = createHash('sha256');
  // meta.updated is left out for version.newest: it is capped at the current time (see
  // lastModifiedOf), so a story dated in the future would otherwise change the tag every second.
  const { updated: _capped, ...fixed } = meta;
  hash.update(JSON.stringify([format, fixed, version.ids, version.digest, version.newest?.getTime() ?? null]));
  return `"${hash.digest('base64url').slice(0, 32)}"`;
}

/**
 * The newest updatedAt among the entries, in whole seconds (HTTP-dates have no fractions, and
 * If-Modified-Since compares what we sent), never in the future: RFC 9110 section 8.8.2.1 forbids
 * a Last-Modified later than the response's Date, and a publisher's clock may be ahead.
 * A cluster's other members count with their publishedAt: an entry changes when a member joins,
 * which is no earlier than that member was published (the best lower bound the story carries).
 */
function lastModifiedOf(version: PageVersion, now: Date): Date {
  if (version.newest === null) return EMPTY_RIVER_LAST_MODIFIED;
  return new Date(Math.floor(Math.min(version.newest.getTime(), now.getTime()) / 1000) * 1000);
}

function sendDocument(reply: FastifyReply, format: FeedFormat, doc: FeedDocument, ttlMinutes: number): FastifyReply {
  // Sent on the 304 too: RFC 9110 section 15.4.5 wants the headers a 200 would have carried.
  // max-age is the feed's ttl: the same figure RSS readers get in <ttl>. Vary is lowercase because
  // @fastify/compress looks for that spelling before adding its own (field names are
  // case-insensitive, RFC 9110 section 5.1).
  return reply
    .header('etag', doc.etag)
    .header('last-modified', doc.lastModified.toUTCString())
    .header('cache-control', `public, max-age=${ttlMinutes * 60}`)
    .header('vary', 'accept-encoding')
    .header('content-type', FEED_CONTENT_TYPES[format]);
}

function cacheKey(format: FeedFormat, selfUrl: string): string {
  return `${format} ${selfUrl}`;
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

