// The few types that cross pipeline stages:
// feeds.yaml -> Source -> FetchOutcome -> ParsedFeed -> NormalizedItem -> (store) -> Story -> render.
// Nothing downstream of parse-feed sees rss-parser's types; nothing outside store/ sees SQL rows.

/** One publisher feed as configured in feeds.yaml (validated, defaults applied). */
export interface Source {
  readonly id: string;
  readonly url: string;
  /** Publisher name for attribution; when absent the feed's own title is used. */
  readonly name: string | null;
  readonly homepage: string | null;
  readonly tags: readonly string[];
  /** Poll interval in milliseconds (per-source `every`, else settings.every). */
  readonly everyMs: number;
  readonly enabled: boolean;
}

export interface RiverSettings {
  /** Default poll interval (settings.every, default 15m). */
  readonly everyMs: number;
  /** Allow fetching from loopback/private/link-local addresses (default false; tests set true). */
  readonly allowPrivateNetworks: boolean;
  /** Total time one fetch may take, headers and body (settings.timeout, default 30s). */
  readonly fetchTimeoutMs: number;
  /** Largest body accepted, counted while streaming, after decompression (settings.max_body, default 10 MiB). */
  readonly maxBodyBytes: number;
  /** How many sources are fetched at once (settings.concurrency, default 8). */
  readonly concurrency: number;
}

/** The whole validated feeds.yaml. */
export interface RiverConfig {
  readonly title: string;
  readonly baseUrl: string | null;
  readonly settings: RiverSettings;
  readonly feeds: readonly Source[];
}

/** What the fetch stage hands on: either a decoded body or "not modified". Failures are thrown as FetchError. */
export type FetchOutcome =
  | {
      readonly kind: 'ok';
      readonly status: number;
      /** The URL the body came from after redirects. */
      readonly finalUrl: string;
      readonly contentType: string | null;
      /** Body decoded to a JS string using header charset, BOM or XML declaration. */
      readonly body: string;
      readonly bytes: number;
      readonly etag: string | null;
      readonly lastModified: string | null;
    }
  | {
      readonly kind: 'not-modified';
      readonly status: 304;
      readonly finalUrl: string;
      readonly etag: string | null;
      readonly lastModified: string | null;
    };

/** Validators kept per source for conditional GET. */
export interface CacheValidators {
  readonly etag: string | null;
  readonly lastModified: string | null;
}

/** A publisher reference carried inside a feed item (RSS <source url>, Atom <source>). */
export interface OriginRef {
  readonly name: string | null;
  /** The origin's feed URL (RSS <source url>) or site URL. */
  readonly url: string | null;
  /** Atom <source><id>, when given. */
  readonly id?: string | null;
}

export interface ParsedItem {
  readonly guid: string | null;
  readonly title: string | null;
  /** Absolute URL (resolved against xml:base / feed URL), as published. */
  readonly link: string | null;
  /** feedburner:origLink, absolute. */
  readonly origLink: string | null;
  readonly author: string | null;
  readonly publishedAt: Date | null;
  readonly updatedAt: Date | null;
  /** Raw HTML (not yet sanitised) of the summary/description. */
  readonly summaryHtml: string | null;
  /** Raw HTML (not yet sanitised) of the full content. */
  readonly contentHtml: string | null;
  readonly categories: readonly string[];
  readonly origin: OriginRef | null;
}

export interface ParsedFeed {
  readonly format: 'rss' | 'atom' | 'json';
  readonly title: string | null;
  /** The feed's site (alternate) link, absolute. */
  readonly homeUrl: string | null;
  readonly items: readonly ParsedItem[];
}

/** An item ready for storage: canonical identity decided, HTML sanitised, dates settled. */
export interface NormalizedItem {
  /** Identity key: 'url:' + canonical URL, or 'guid:' + sourceId + ':' + guid when the item has no link. */
  readonly identityKey: string;
  readonly canonicalUrl: string | null;
  readonly guid: string | null;
  /** The link exactly as the feed published it (absolute). */
  readonly link: string | null;
  readonly title: string;
  readonly author: string | null;
  /** Sanitised HTML. */
  readonly summary: string | null;
  /** Sanitised HTML. */
  readonly content: string | null;
  readonly publishedAt: Date | null;
  readonly updatedAt: Date | null;
  readonly categories: readonly string[];
  readonly origin: OriginRef | null;
  /** Hash of the material fields (title, text): a change means the story was edited. */
  readonly contentHash: string;
}

export interface Publisher {
  readonly name: string;
  readonly url: string | null;
  /** The configured source id this publisher is, when it is one of ours. */
  readonly sourceId: string | null;
  /** The publisher's own feed URL, when known. */
  readonly feedUrl: string | null;
}

/** A stored story as the read side (API, renderers) sees it. */
export interface Story {
  /** Stable public id, derived from the identity key (never a database serial). */
  readonly id: string;
  readonly title: string;
  /** Canonical URL (null only for link-less items). */
  readonly url: string | null;
  readonly publisher: Publisher;
  /** Ids of the sources whose feeds carried this story. */
  readonly via: readonly string[];
  readonly author: string | null;
  readonly publishedAt: Date;
  readonly updatedAt: Date;
  readonly summary: string | null;
  readonly content: string | null;
  /** Tags of the sources the story came through. */
  readonly tags: readonly string[];
  /** Categories the publisher gave the story. */
  readonly categories: readonly string[];
  /** The guid the publisher used, when any. */
  readonly guid: string | null;
}

/** Per-source state as the API and CLI show it. */
export interface SourceStatus {
  readonly id: string;
  readonly url: string;
  readonly name: string | null;
  readonly homepage: string | null;
  readonly tags: readonly string[];
  readonly enabled: boolean;
  /** False when the source was removed from feeds.yaml (its stories stay). */
  readonly active: boolean;
  readonly feedTitle: string | null;
  readonly lastFetchedAt: Date | null;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly errorCount: number;
  readonly itemCount: number;
  readonly nextFetchAt: Date | null;
}
