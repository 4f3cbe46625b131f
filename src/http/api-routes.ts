import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { SourceStatus, Story } from '../domain.js';
import { TributaryError } from '../errors.js';
import type { Db } from '../store/database.js';
import { getStory, listStories } from '../store/items-query.js';
import { getSourceStatus, listSourceStatuses, pingDatabase } from '../store/sources-query.js';
import { parseItemsQuery, parseNoQuery, parseSourcesQuery } from './query-params.js';

// The JSON API: stories (filtered, paged by cursor), sources with their fetch state, and a health
// check. JSON keys are snake_case; domain objects become JSON only in storyJson/sourceJson below.

export interface ApiRouteDeps {
  readonly db: Db;
}

/** How long /healthz waits for the database before answering 503 (a hung pool must not hang it). */
const HEALTH_TIMEOUT_MS = 5_000;

export function apiRoutes(deps: ApiRouteDeps): RouteOptions[] {
  const { db } = deps;
  return [
    {
      method: 'GET',
      url: '/api/items',
      handler: async (req: FastifyRequest) => {
        const page = await listStories(db, parseItemsQuery(req.query));
        return { items: page.stories.map(storyJson), next_cursor: page.nextCursor };
      },
    },
    {
      method: 'GET',
      url: '/api/items/:id',
      handler: async (req: FastifyRequest) => {
        parseNoQuery(req.query);
        const { id } = req.params as { id: string };
        const story = await getStory(db, id);
        if (!story) throw notFound('story', id);
        return storyJson(story);
      },
    },
    {
      method: 'GET',
      url: '/api/sources',
      handler: async (req: FastifyRequest) => {
        const sources = await listSourceStatuses(db, parseSourcesQuery(req.query));
        return { sources: sources.map(sourceJson) };
      },
    },
    {
      method: 'GET',
      url: '/api/sources/:id',
      handler: async (req: FastifyRequest) => {
        parseNoQuery(req.query);
        const { id } = req.params as { id: string };
        const source = await getSourceStatus(db, id);
        if (!source) throw notFound('source', id);
        return sourceJson(source);
      },
    },
    {
      method: 'GET',
      url: '/healthz',
      // Query parameters are ignored here: probes sometimes add their own, and must not fail on them.
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        void reply.header('cache-control', 'no-store');
        try {
          await withTimeout(pingDatabase(db), HEALTH_TIMEOUT_MS);
          return { status: 'ok', database: 'ok' };
        } catch (err) {
          req.log.error({ err }, 'health check: database unavailable');
          return reply.code(503).send({ status: 'error', database: 'error' });
        }
      },
    },
  ];
}

function notFound(what: 'story' | 'source', id: string): TributaryError {
  const shown = JSON.stringify(id.length > 100 ? `${id.slice(0, 100)}…` : id);
  return new TributaryError('not-found', `no ${what} with id ${shown}`, { subject: id });
}

export function storyJson(s: Story) {
  return {
    id: s.id,
    title: s.title,
    url: s.url,
    publisher: {
      name: s.publisher.name,
      url: s.publisher.url,
      source_id: s.publisher.sourceId,
      feed_url: s.publisher.feedUrl,
    },
    via: s.via,
    author: s.author,
    published_at: s.publishedAt.toISOString(),
    updated_at: s.updatedAt.toISOString(),
    summary: s.summary,
    content: s.content,
    tags: s.tags,
    categories: s.categories,
    guid: s.guid,
  };
}

export function sourceJson(s: SourceStatus) {
  return {
    id: s.id,
    url: s.url,
    name: s.name,
    homepage: s.homepage,
    tags: s.tags,
    enabled: s.enabled,
    // Only false with ?include_inactive=true: the source was removed from feeds.yaml.
    active: s.active,
    feed_title: s.feedTitle,
    last_fetched_at: s.lastFetchedAt?.toISOString() ?? null,
    last_status: s.lastStatus,
    last_error: s.lastError,
    error_count: s.errorCount,
    item_count: s.itemCount,
    next_fetch_at: s.nextFetchAt?.toISOString() ?? null,
  };
}

export type StoryJson = ReturnType<typeof storyJson>;
export type SourceJson = ReturnType<typeof sourceJson>;

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
