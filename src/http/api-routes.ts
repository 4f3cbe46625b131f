import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { AlsoPublished, FetchLogEntry, SourceStatus, Story, StoryRevision } from '../domain.js';
import { TributaryError } from '../errors.js';
import type { Db } from '../store/database.js';
import { getStory, listStories } from '../store/items-query.js';
import { listRevisions } from '../store/revisions-repo.js';
import { getSourceHistory, getSourceStatus, listSourceStatuses, pingDatabase } from '../store/sources-query.js';
import { parseItemsQuery, parseNoQuery, parseSourcesQuery } from './query-params.js';

// The JSON API: stories (filtered, paged by cursor), sources with their fetch state and history,
// and a health check. JSON keys are snake_case; domain objects become JSON only in the *Json
// functions below, which take domain objects only, so the CLI's --json prints the same shapes.
//
// Content policy in the API: the API serves the river's operators, not its subscribers, so it
// shows what was stored to explain what the feeds do: `summary` always, `content` (the full text)
// only when the policy of the source it came from is `full`, i.e. only where the feeds republish
// it too. `content_policy` says which applies, so an operator sees why a feed entry has no text.

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
        const revisions = await listRevisions(db, story.id);
        return { ...storyJson(story), cluster: clusterJson(story), revisions: revisions.map(revisionJson) };
      },
    },
    {
      method: 'GET',
      url: '/api/sources',
      handler: async (req: FastifyRequest) => {
        const sources = await listSourceStatuses(db, parseSourcesQuery(req.query));
        // One clock for the whole list (not `.map(sourceJson)`: map's index would arrive as `now`).
        const now = new Date();
        return { sources: sources.map((s) => sourceJson(s, now)) };
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
        const history = await getSourceHistory(db, id);
        return { ...sourceJson(source), history: history.map(fetchLogJson) };
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
    content: s.contentPolicy === 'full' ? s.content : null,
    content_policy: s.contentPolicy,
    tags: s.tags,
    categories: s.categories,
    guid: s.guid,
    // The stored cluster id (the id of the cluster's earliest member), null for a story alone.
    cluster_id: s.clusterId,
    also_published_by: s.alsoPublishedBy.map(memberJson),
  };
}

/** A member of a story cluster, as also_published_by and cluster.members list it. */
export function memberJson(m: AlsoPublished) {
  return {
    id: m.storyId,
    url: m.url,
    publisher: { name: m.publisher.name, url: m.publisher.url },
    published_at: m.publishedAt.toISOString(),
  };
}

/**
 * The story's cluster with every member, itself included, earliest first (published_at, then id,
 * as the store orders alsoPublishedBy); null when no other story shares it.
 */
export function clusterJson(s: Story) {
  if (s.clusterId === null || s.alsoPublishedBy.length === 0) return null;
  const self: AlsoPublished = { storyId: s.id, url: s.url, publisher: s.publisher, publishedAt: s.publishedAt };
  const members = [...s.alsoPublishedBy, self].sort(
    (a, b) => a.publishedAt.getTime() - b.publishedAt.getTime() || (a.storyId < b.storyId ? -1 : a.storyId > b.storyId ? 1 : 0),
  );
  return { id: s.clusterId, members: members.map(memberJson) };
}

/** An earlier version of a story; the store lists them newest replaced first. */
export function revisionJson(r: StoryRevision) {
  return {
    replaced_at: r.replacedAt.toISOString(),
    title: r.title,
    summary: r.summary,
    updated_at: r.updatedAt.toISOString(),
    source_id: r.sourceId,
  };
}

/** A source's condition at a glance, for people: the API's `state` and the CLI's STATE column. */
export type SourceState = 'ok' | 'error' | 'gone' | 'disabled' | 'moved' | 'rate-limited' | 'new';

/**
 * Derives one state from the stored fields. Several can hold at once, so the first that holds wins,
 * ordered by what a person most needs to know (and what most explains why the source is or is not
 * being polled):
 *   1. disabled      `enabled: false` in feeds.yaml, or removed from it: not polled by choice
 *   2. gone          the publisher answered 410 Gone: not polled until the url in feeds.yaml changes
 *   3. rate-limited  its host asked us to wait (429/503 Retry-After) and the pause has not run out;
 *                    before `error` because such answers usually also count as errors, and the
 *                    pause, not the error count, decides when the source is polled next
 *   4. error         the latest poll failed (error_count > 0, or an error not counted against
 *                    the source, such as a suspected network outage)
 *   5. new           never fetched yet
 *   6. moved         fetched fine, but from a permanent redirect's target: feeds.yaml should follow
 *   7. ok
 * `now` is a parameter so the same answer can be asserted on; the store already drops pauses that
 * ended before the query ran, so the default is right for anything rendered at once.
 */
export function sourceState(s: SourceStatus, now: Date = new Date()): SourceState {
  if (!s.enabled || !s.active) return 'disabled';
  if (s.goneAt) return 'gone';
  if (s.hostPausedUntil && s.hostPausedUntil.getTime() > now.getTime()) return 'rate-limited';
  // A failure that did not count against the source (a suspected network outage) is still a failure.
  if (s.errorCount > 0 || s.lastError !== null) return 'error';
  if (!s.lastFetchedAt) return 'new';
  if (s.effectiveUrl) return 'moved';
  return 'ok';
}

export function sourceJson(s: SourceStatus, now: Date = new Date()) {
  return {
    id: s.id,
    url: s.url,
    name: s.name,
    homepage: s.homepage,
    tags: s.tags,
    enabled: s.enabled,
    // Only false with ?include_inactive=true: the source was removed from feeds.yaml.
    active: s.active,
    state: sourceState(s, now),
    feed_title: s.feedTitle,
    // Where the feed is really fetched from after a 301/308 (RFC 9110 §15.4.2, §15.4.9); null when
    // it has not moved. `url` stays what feeds.yaml says, so the two can be compared.
    effective_url: s.effectiveUrl,
    gone: s.goneAt !== null,
    gone_at: s.goneAt?.toISOString() ?? null,
    last_fetched_at: s.lastFetchedAt?.toISOString() ?? null,
    last_status: s.lastStatus,
    last_error: s.lastError,
    error_count: s.errorCount,
    item_count: s.itemCount,
    next_fetch_at: s.nextFetchAt?.toISOString() ?? null,
    next_fetch_reason: s.nextFetchReason,
    host_paused_until: s.hostPausedUntil?.toISOString() ?? null,
  };
}

export function fetchLogJson(e: FetchLogEntry) {
  return {
    started_at: e.startedAt.toISOString(),
    url: e.url,
    outcome: e.outcome,
    status: e.status,
    bytes: e.bytes,
    duration_ms: e.durationMs,
    items_new: e.itemsNew,
    items_updated: e.itemsUpdated,
    items_unchanged: e.itemsUnchanged,
    error: e.error,
  };
}

export type StoryJson = ReturnType<typeof storyJson>;
export type SourceJson = ReturnType<typeof sourceJson>;
export type FetchLogJson = ReturnType<typeof fetchLogJson>;

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
