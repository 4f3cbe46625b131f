import type { NormalizedItem, Publisher } from '../domain.js';

// Who published a story. In order (issue #2, "Attribution"):
//  3. a configured source whose homepage (or feed, or the site its feed links to) is on the story's
//     canonical host: the publisher's own feed, even when the story reached us through someone else;
//  2. the item's own origin as the feed states it (RSS <source url>, Atom <source>);
//  1. the source the story came through.
// The rank is stored with the story, so a later sighting only ever improves attribution.

export interface KnownSource {
  readonly id: string;
  readonly url: string;
  readonly name: string | null;
  readonly homepage: string | null;
  readonly feedTitle: string | null;
  readonly feedHomeUrl: string | null;
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
