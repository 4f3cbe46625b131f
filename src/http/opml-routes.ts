import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { renderOpml } from '../opml.js';
import type { Db } from '../store/database.js';
import { listSourceStatuses } from '../store/sources-query.js';
import { parseNoQuery } from './query-params.js';

// GET /sources.opml: the river's sources as an OPML 2.0 subscription list, so a person can follow
// the same publishers in their own reader. Only sources that are in feeds.yaml now (active);
// removed ones keep their stories in the river but are no longer "ours" to recommend.

export interface OpmlRouteDeps {
  readonly db: Db;
  river(): { readonly title: string };
}

/** The media type OPML is served with in practice (there is no registered one). */
export const OPML_CONTENT_TYPE = 'text/x-opml; charset=utf-8';

export function opmlRoutes(deps: OpmlRouteDeps): RouteOptions[] {
  return [
    {
      method: 'GET',
      url: '/sources.opml',
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        parseNoQuery(req.query);
        const sources = await listSourceStatuses(deps.db);
        const body = renderOpml(
          { title: `${deps.river().title}: sources`, dateCreated: new Date() },
          sources.map((s) => ({
            title: s.name ?? s.feedTitle ?? s.id,
            xmlUrl: s.url,
            htmlUrl: s.homepage,
            tags: s.tags,
          })),
        );
        return reply
          .header('content-type', OPML_CONTENT_TYPE)
          .header('cache-control', 'public, max-age=300')
          .header('vary', 'accept-encoding')
          .send(body);
      },
    },
  ];
}
