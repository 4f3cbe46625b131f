import type { NormalizedItem, Publisher, SourceKind } from '../domain.js';
import { hostKeyFor } from './host-key.js';

// Who published a story. In order (issue #2, "Attribution"):
//  3. a configured source whose homepage (or feed, or the site its feed links to) is on the story's
//     canonical host: the publisher's own feed, even when the story reached us through someone else;
//  2. the item's own origin as the feed states it (RSS <source url>, Atom <source>);
//  1. the source the story came through.
// The rank is stored with the story, so a later sighting only ever improves attribution.
//
// A source marked `kind: aggregator` (issue #4) carries other publishers' stories, so it is never
// credited for a story that is not on its own site: rank 3 as above, else the publisher the item
// names (rank 2), else the story's host itself (rank 2). Its own pages (an "Ask HN" thread, a
// link-less item) stay its own.

export interface KnownSource {
  readonly id: string;
  readonly url: string;
  readonly name: string | null;
  readonly homepage: string | null;
  readonly feedTitle: string | null;
  readonly feedHomeUrl: string | null;
  readonly kind: SourceKind;
}

export interface Attribution extends Publisher {
  readonly rank: 1 | 2 | 3;
}

/** Host without a leading `www.`, lower-case; null for anything that is not an absolute URL. */
export function siteHost(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const host = new URL(url).hostname.toLowerCase();
    return host.startsWith('www.') ? host.slice(4) : host;
  } catch {
    return null;
  }
}

function originOf(url: string | null): string | null {
  if (!url) return null;
  try {
    return new URL(url).origin + '/';
  } catch {
    return null;
  }
}

function sourceHosts(s: KnownSource): string[] {
  const hosts = [siteHost(s.homepage), siteHost(s.feedHomeUrl), siteHost(s.url)];
  return hosts.filter((h): h is string => h !== null);
}

function asPublisher(s: KnownSource, rank: 1 | 3, fallbackHost: string | null): Attribution {
  return {
    name: s.name ?? s.feedTitle ?? fallbackHost ?? s.id,
    url: s.homepage ?? s.feedHomeUrl ?? originOf(s.url),
    sourceId: s.id,
    feedUrl: s.url,
    rank,
  };
}

export function attributePublisher(
  item: Pick<NormalizedItem, 'canonicalUrl' | 'origin'>,
  via: KnownSource,
  known: readonly KnownSource[],
): Attribution {
  const host = siteHost(item.canonicalUrl);
  if (host) {
    // The source we are reading wins a tie (two configured feeds of one site), then the lowest id,
    // so that attribution does not depend on which feed happened to be polled first.
    const candidates = [via, ...[...known].sort((a, b) => a.id.localeCompare(b.id))];
    const match = candidates.find((s) => sourceHosts(s).includes(host));
    if (match) return asPublisher(match, 3, host);
  }
  const origin = item.origin;
  if (via.kind === 'aggregator' && host && !isOwnStory(via, item.canonicalUrl)) {
    // "The name given by the aggregator, else the host" (issue #4). The publisher's site is the
    // story's own origin; the item's <source url> (the publisher's feed, when given) is kept as such.
    return {
      name: origin?.name?.trim() || host,
      url: originOf(item.canonicalUrl),
      sourceId: null,
      feedUrl: origin?.url ?? null,
      rank: 2,
    };
  }
  if (origin && (origin.name || origin.url)) {
    return {
      name: origin.name?.trim() || siteHost(origin.url) || 'unknown publisher',
      // RSS <source url> is the origin's feed; its site is best approximated by the story's own origin.
      url: originOf(item.canonicalUrl) ?? originOf(origin.url),
      sourceId: null,
      feedUrl: origin.url,
      rank: 2,
    };
  }
  return asPublisher(via, 1, siteHost(via.url));
}

/**
 * Whether a story is on one of the aggregator's own sites (its homepage, its feed's host, the site
 * its feed links to) or a subdomain of one, or shares their registrable domain: an aggregator's
 * click-tracking host (c.newsnow.co.uk) is as much its own as www.newsnow.co.uk.
 */
function isOwnStory(aggregator: KnownSource, storyUrl: string | null): boolean {
  const host = siteHost(storyUrl);
  const key = storyUrl === null ? null : hostKeyFor(storyUrl);
  if (host === null) return false;
  const ownUrls = [aggregator.homepage, aggregator.feedHomeUrl, aggregator.url].filter((u): u is string => u !== null);
  return ownUrls.some((u) => {
    const own = siteHost(u);
    if (own === null) return false;
    return host === own || host.endsWith(`.${own}`) || (key !== null && hostKeyFor(u) === key);
  });
}
