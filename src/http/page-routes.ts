import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { didYouMean } from '../did-you-mean.js';
import { BadRequestError } from '../errors.js';
import type { Db } from '../store/database.js';
import { listStories } from '../store/items-query.js';
import { listSourceStatuses } from '../store/sources-query.js';
import { VERSION } from '../version.js';
import { parseItemsQuery } from './query-params.js';
import { PAGE_CSP, renderErrorPage, renderRiverPage, type PageFeedLink, type PageFilter } from './render-page.js';

// GET / : the river as a page for people (render-page.ts), newest first, one entry per story
// cluster as in the feeds, with a search box (?q=, the same full-text filter as the feeds and the
// API), ?source= and ?tag= filters, and keyset paging (?cursor= from the "Older stories" link).
// Parameters are validated as the API's are (query-params.ts), but a mistake is answered with an
// HTML page naming the parameter, not JSON: a person followed a link or edited the address.

/** A named river (feeds.yaml `rivers:`), as far as the page needs it: where its feeds are and their title. */
export interface PageRiverLink {
  readonly name: string;
  readonly title?: string | null;
}

export interface PageRouteDeps {
  readonly db: Db;
  /** The river as feeds.yaml says now; `rivers` when the config has named rivers. */
  river(): { readonly title: string; readonly baseUrl: string | null; readonly rivers?: readonly PageRiverLink[] };
}

/** Stories per page: a screenful or three; the feeds are where readers take more. */
export const PAGE_SIZE = 30;

/** What the page accepts; `limit`, `since`, `until` and `collapse` are the API's business. */
export const PAGE_PARAMS = ['q', 'source', 'tag', 'cursor'] as const;

const FEED_TYPES = [
  { ext: 'xml', type: 'application/rss+xml', label: 'RSS' },
  { ext: 'atom', type: 'application/atom+xml', label: 'Atom' },
  { ext: 'json', type: 'application/feed+json', label: 'JSON Feed' },
] as const;

export function pageRoutes(deps: PageRouteDeps): RouteOptions[] {
  return [
    {
      method: 'GET',
      url: '/',
      handler: (req: FastifyRequest, reply: FastifyReply) => servePage(deps, req, reply),
    },
  ];
}

async function servePage(deps: PageRouteDeps, req: FastifyRequest, reply: FastifyReply) {
  const river = deps.river();
  void reply
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', PAGE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'strict-origin-when-cross-origin')
    .header('vary', 'accept-encoding');

  let filter: ReturnType<typeof parsePageQuery>;
  try {
    filter = parsePageQuery(req.query);
  } catch (err) {
    if (!(err instanceof BadRequestError)) throw err;
    void reply.header('cache-control', 'no-store');
    return reply
      .code(400)
      .send(renderErrorPage({ riverTitle: river.title, status: 400, message: err.message, parameter: err.parameter }));
  }

  const [page, sources] = await Promise.all([
    listStories(deps.db, {
      limit: PAGE_SIZE,
      collapseClusters: true,
      ...(filter.sources ? { sources: filter.sources } : {}),
      ...(filter.tags ? { tags: filter.tags } : {}),
      ...(filter.q !== undefined ? { q: filter.q } : {}),
      ...(filter.cursor ? { cursor: filter.cursor } : {}),
    }),
    // Removed sources too: their old stories still name them in "via".
    listSourceStatuses(deps.db, { includeInactive: true }),
  ]);
  const sourceNames = new Map(sources.map((s) => [s.id, s.name ?? s.feedTitle ?? s.id]));
  const prefix = river.baseUrl === null ? '' : `${river.baseUrl.replace(/\/+$/, '')}/`;

  const shown: PageFilter = { q: filter.q, sources: filter.sources, tags: filter.tags };
  // A short-lived cache: the page changes whenever a story lands, and costs a query to build.
  void reply.header('cache-control', 'public, max-age=60');
  return reply.send(
    renderRiverPage({
      title: river.title,
      stories: page.stories,
      filter: shown,
      paged: filter.cursor !== undefined,
      nextCursor: page.nextCursor,
      feeds: pageFeeds(prefix, river.title, shown, river.rivers ?? []),
      opmlHref: `${prefix}sources.opml`,
      sourceNames,
      sourceCount: sources.filter((s) => s.active).length,
      generator: `Tributary ${VERSION}`,
    }),
  );
}

/**
 * The feeds to advertise: the view being looked at (when filtered: the same filters on /feed.*,
 * listed first so a reader's "subscribe to this page" picks what the person sees), the default
 * river, then each named river. Hrefs are absolute under base_url when one is configured, else
 * relative to the page, which is right wherever the river is mounted.
 */
export function pageFeeds(
  prefix: string,
  title: string,
  filter: PageFilter,
  rivers: readonly PageRiverLink[],
): PageFeedLink[] {
  const feeds: PageFeedLink[] = [];
  const query = feedQuery(filter);
  if (query !== '') {
    const what = describe(filter);
    for (const f of FEED_TYPES) {
      feeds.push({ title: `${title}: ${what} (${f.label})`, type: f.type, href: `${prefix}feed.${f.ext}${query}`, label: null });
    }
  }
  for (const f of FEED_TYPES) feeds.push({ title: `${title} (${f.label})`, type: f.type, href: `${prefix}feed.${f.ext}`, label: f.label });
  for (const r of rivers) {
    const riverTitle = r.title ?? `${title}: ${r.name}`;
    for (const f of FEED_TYPES) {
      feeds.push({
        title: `${riverTitle} (${f.label})`,
        type: f.type,
        href: `${prefix}rivers/${encodeURIComponent(r.name)}.${f.ext}`,
        label: null,
      });
    }
  }
  return feeds;
}

function feedQuery(filter: PageFilter): string {
  const params = new URLSearchParams();
  if (filter.sources?.length) params.set('source', filter.sources.join(','));
  if (filter.tags?.length) params.set('tag', filter.tags.join(','));
  if (filter.q !== undefined) params.set('q', filter.q);
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

function describe(filter: PageFilter): string {
  const parts: string[] = [];
  if (filter.sources?.length) parts.push(`via ${filter.sources.join(', ')}`);
  if (filter.tags?.length) parts.push(`tagged ${filter.tags.join(', ')}`);
  if (filter.q !== undefined) parts.push(`matching "${filter.q}"`);
  return parts.join(', ');
}

/**
 * The page's query: only PAGE_PARAMS, values checked by the API's parser (same messages, same
 * limits). An empty search box submits `q=`; that means "no search", not an error.
 */
export function parsePageQuery(query: unknown) {
  const raw: Record<string, unknown> = {};
  if (query !== null && typeof query === 'object') {
    for (const [name, value] of Object.entries(query)) {
      if (!(PAGE_PARAMS as readonly string[]).includes(name)) {
        const short = name.length > 50 ? `${name.slice(0, 50)}…` : name;
        const guess = name.length >= 3 ? didYouMean(name, PAGE_PARAMS) : null;
        const hint = guess ? ` (did you mean "${guess}"?)` : '';
        throw new BadRequestError(short, `unknown parameter ${JSON.stringify(short)}${hint}; this page takes ${PAGE_PARAMS.join(', ')}`);
      }
      if (name === 'q' && typeof value === 'string' && value.trim() === '') continue;
      raw[name] = value;
    }
  }
  const parsed = parseItemsQuery(raw);
  return {
    q: parsed.q,
    sources: parsed.sources,
    // Tags are stored lower-case (sources.ts folds them) so that ?tag=Politics finds "politics".
    tags: parsed.tags ? [...new Set(parsed.tags.map((t) => t.toLowerCase()))] : undefined,
    cursor: parsed.cursor ?? undefined,
  };
}
