import compress from '@fastify/compress';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { BadRequestError, TributaryError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Database } from '../store/database.js';
import { apiRoutes } from './api-routes.js';
import { opmlRoutes } from './opml-routes.js';
import { pageRoutes } from './page-routes.js';
import { createFeedCache, type FeedCache } from './feed-cache.js';
import type { FeedRiverConfig } from './feed-outputs.js';
import { feedRoutes } from './feed-routes.js';

// The HTTP layer: every route in one list, one error handler mapping errors to statuses (the only
// place that does), compression for the feeds and the API. Routes get what they need through
// `deps`; none reads global state, so a test builds a server over its own database.

export interface ServerDeps {
  readonly db: Kysely<Database>;
  /**
   * The river as feeds.yaml says now (it may be reloaded while running): the whole RiverConfig,
   * whose feeds, rivers and settings decide the per-source, per-tag and named feeds, ttl and hub.
   */
  river(): FeedRiverConfig;
  /** Absolute URL the river is reachable at, e.g. https://news.example (no trailing slash needed). */
  publicBaseUrl(): string;
  readonly logger: Logger;
  /** Rendered feed documents kept in process; default: a cache of the default bounds; null: none. */
  readonly feedCache?: FeedCache | null;
  /** The clock deciding which days are archived (tests move it); default: the real one. */
  now?(): Date;
}

/** The body of every error response. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly parameter?: string };
}

export function buildServer(deps: ServerDeps): FastifyInstance {
  // Typed as fastify's logger interface so the instance is a plain FastifyInstance for callers.
  const logger: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    loggerInstance: logger,
    logController: new QuietRequestLogs(),
    // Feed and story ids are short; longer path parameters are answered 404 by the router.
    routerOptions: { maxParamLength: 200 },
  });

  // gzip and brotli for anything over 1 KiB (the default threshold); @fastify/compress sets
  // Content-Encoding and adds Vary: accept-encoding itself.
  void app.register(compress, { encodings: ['br', 'gzip'] });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const [status, body] = toErrorResponse(err);
    if (status >= 500) req.log.error({ err, method: req.method, url: req.url }, 'request failed');
    return reply.code(status).send(body);
  });

  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    const shown = path.length > 100 ? `${path.slice(0, 100)}…` : path;
    return reply.code(404).send(errorBody('not_found', `no such endpoint: ${req.method} ${shown}`));
  });

  const feedCache = deps.feedCache === undefined ? createFeedCache() : deps.feedCache;
  const routes = [...feedRoutes({ ...deps, feedCache }), ...apiRoutes(deps), ...pageRoutes(deps), ...opmlRoutes(deps)];
  // Registered as a plugin so they load after @fastify/compress and get its hooks.
  void app.register(async (scope) => {
    for (const route of routes) scope.route(route);
  });

  return app;
}

export function errorBody(code: string, message: string, parameter?: string): ErrorBody {
  return { error: parameter === undefined ? { code, message } : { code, parameter, message } };
}

/**
 * Error -> status and body. Client mistakes are shown as they are (their messages are written for
 * clients); anything else is a 500 with a generic message: details go to the log, not to clients.
 */
function toErrorResponse(err: FastifyError): [number, ErrorBody] {
  if (err instanceof BadRequestError) return [400, errorBody('bad_request', err.message, err.parameter)];
  if (err instanceof TributaryError && err.kind === 'not-found') return [404, errorBody('not_found', err.message)];
  if (err instanceof TributaryError && err.kind === 'bad-request') return [400, errorBody('bad_request', err.message)];
  // fastify's own client errors (malformed URL, unsupported body, ...) carry a 4xx statusCode.
  const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
  if (status >= 400 && status < 500) return [status, errorBody(status === 404 ? 'not_found' : 'bad_request', err.message)];
  return [500, errorBody('internal', 'internal server error')];
}

/**
 * One debug line per request with our stable keys instead of fastify's two info lines: a busy
 * river is polled by many feed readers every few minutes and those lines would drown the worker's.
 * Errors are logged by the error handler.
 */
class QuietRequestLogs extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(_error: Error | null | undefined, req: FastifyRequest, reply: FastifyReply): void {
    req.log.debug(
      { method: req.method, url: req.url, status: reply.statusCode, duration_ms: Math.round(reply.elapsedTime) },
      'request completed',
    );
  }

  override routeNotFound(): void {}
}
