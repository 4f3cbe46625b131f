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
  /** Adapt the interval to the observed posting rate (per-feed `adaptive`, else settings.adaptive). */
  readonly adaptive: boolean;
  /** `aggregator`: its items are other publishers' stories; credit goes to them (issue #4). */
  readonly kind: SourceKind;
  /** What the republished entry carries of this source's stories (default summary). */
  readonly content: ContentPolicy;
  /** Patterns removed from item content: plain text (a line/paragraph containing it) or `css:SELECTOR`. */
  readonly strip: readonly string[];
  /** Fetch each item's page for its <link rel="canonical"> (politely, cached, bounded per poll). */
  readonly resolveCanonical: boolean;
}

export type SourceKind = 'publisher' | 'aggregator';
export type ContentPolicy = 'full' | 'summary' | 'none';

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
  /** Most requests in flight to one host (registrable domain) across all workers (settings.host_concurrency, default 2). */
  readonly hostConcurrency: number;
  /** Least time between two requests to one host, across all workers (settings.host_gap, default 1s). */
  readonly hostGapMs: number;
  /** Floor of the time between two polls of a source, whatever the interval or hints (settings.min_interval, default 1m). */
  readonly minIntervalMs: number;
  /** Ceiling of the time between two polls, including backoff and publisher hints (settings.max_interval, default 24h). */
  readonly maxIntervalMs: number;
  /** Default for adapting intervals to posting rates (settings.adaptive, default false). */
  readonly adaptive: boolean;
  /** WebSub hub the output feeds advertise (rel="hub") and Tributary pings on changes (settings.websub_hub); null for none. */
  readonly websubHub: string | null;
  /** "Originally published by X" line in the content of `content: full` stories (settings.footer, default true). */
  readonly footer: boolean;
}

/** A named feed of the river (feeds.yaml `rivers:`), served at /rivers/<name>.xml|.atom|.json. */
export interface NamedRiver {
  /** Slug used in the URL. */
  readonly name: string;
  /** Feed title; null for "<river title>: <name>". */
  readonly title: string | null;
  /** Stories that came via any of these feed ids (empty: any). */
  readonly sources: readonly string[];
  /** Stories carrying any of these tags, lower-case (empty: any). */
  readonly tags: readonly string[];
  /** Full-text query (websearch syntax), or null. */
  readonly q: string | null;
  /** Publishers whose stories are left out: publisher names (case-insensitive) or feed ids. */
  readonly excludePublishers: readonly string[];
  /** Oldest publication time shown, as an ISO 8601 UTC instant (a string, so the config stays frozen); null for no limit. */
  readonly since: string | null;
  /** Footer line for `content: full` stories; null inherits settings.footer. */
  readonly footer: boolean | null;
}

/** The whole validated feeds.yaml. */
export interface RiverConfig {
  readonly title: string;
  readonly baseUrl: string | null;
  readonly settings: RiverSettings;
  readonly feeds: readonly Source[];
  /** Named feeds (feeds.yaml `rivers:`), in file order. */
  readonly rivers: readonly NamedRiver[];
}

/** What a response says about when to ask again (RFC 9111 freshness, RFC 9110 Retry-After). */
export interface ResponseHints {
  /** Cache-Control max-age, in ms (s-maxage ignored: we are not a shared cache). */
  readonly maxAgeMs: number | null;
  /** Expires, when no max-age was given. */
  readonly expiresAt: Date | null;
  /** Retry-After (seconds or HTTP-date) resolved to a time. */
  readonly retryAfter: Date | null;
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
      /** Where the feed now lives when the chain began with permanent redirects (301/308); else null. */
      readonly permanentUrl: string | null;
      readonly hints: ResponseHints;
    }
  | {
      readonly kind: 'not-modified';
      readonly status: 304;
      readonly finalUrl: string;
      readonly etag: string | null;
      readonly lastModified: string | null;
      readonly permanentUrl: string | null;
      readonly hints: ResponseHints;
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
  /** dc:source: for aggregators often the original story's URL (absolute). */
  readonly dcSource?: string | null;
  /** RSS <enclosure>, media:content (non-image), JSON Feed attachments; absolute URLs. */
  readonly enclosures?: readonly Enclosure[];
  /** The story's image: media:thumbnail, media:content medium=image, JSON Feed image; absolute. */
  readonly image?: string | null;
}

export interface Enclosure {
  readonly url: string;
  /** MIME type, when given. */
  readonly type: string | null;
  /** Size in bytes, when given. */
  readonly length: number | null;
}

/** What the feed document says about how often to poll it (RSS 2.0 ttl/skipHours/skipDays, RSS 1.0 syndication module). */
export interface FeedScheduleHints {
  /** RSS <ttl>, minutes. */
  readonly ttlMinutes: number | null;
  /** sy:updatePeriod: hourly | daily | weekly | monthly | yearly. */
  readonly updatePeriod: 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly' | null;
  /** sy:updateFrequency: times per period (default 1 when a period is given). */
  readonly updateFrequency: number | null;
  /** RSS <skipHours>: hours 0-23 (GMT) in which not to poll. */
  readonly skipHours: readonly number[];
  /** RSS <skipDays>: day names (Monday..Sunday) on which not to poll. */
  readonly skipDays: readonly string[];
}

export interface ParsedFeed {
  readonly format: 'rss' | 'atom' | 'json';
  readonly title: string | null;
  /** The feed's site (alternate) link, absolute. */
  readonly homeUrl: string | null;
  readonly items: readonly ParsedItem[];
  readonly schedule: FeedScheduleHints;
}

/** An item ready for storage: canonical identity decided, HTML sanitised, dates settled. */
export interface NormalizedItem {
  /** Identity key (src/ingest/identity.ts): 'url:' + identity URL, or 'guid:' + sourceId + ':' + guid when the item has no link. */
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
  /** Normalised title, for grouping one story carried under different URLs. */
  readonly titleKey: string;
  /** 64-bit SimHash of the story's text, 16 hex digits. */
  readonly simhash: string;
  readonly enclosures: readonly Enclosure[];
  readonly image: string | null;
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
  /** The story cluster (one story carried by several publishers under different URLs), when any. */
  readonly clusterId: string | null;
  /** Other publishers that carried the same story (its cluster's other members), earliest first. */
  readonly alsoPublishedBy: readonly AlsoPublished[];
  /** What the republished entry may carry (the content policy of the source its text came from). */
  readonly contentPolicy: ContentPolicy;
  readonly enclosures: readonly Enclosure[];
  readonly image: string | null;
}

export interface AlsoPublished {
  readonly storyId: string;
  readonly url: string | null;
  readonly publisher: Publisher;
  readonly publishedAt: Date;
}

/** An earlier version of a story, replaced by a material edit. */
export interface StoryRevision {
  readonly replacedAt: Date;
  readonly title: string;
  readonly summary: string | null;
  readonly content: string | null;
  readonly updatedAt: Date;
  readonly sourceId: string | null;
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
  /** Why nextFetchAt is what it is (interval, ttl, skipHours, backoff, Retry-After, ...). */
  readonly nextFetchReason: string | null;
  /** Where the feed is fetched from after a permanent redirect (edit feeds.yaml to match); null when it has not moved. */
  readonly effectiveUrl: string | null;
  /** Set when the publisher answered 410 Gone: the source is not polled until its url in feeds.yaml changes. */
  readonly goneAt: Date | null;
  /** When the source's host asked us to wait (429/503 Retry-After), until then. */
  readonly hostPausedUntil: Date | null;
}

/** One poll of one source, as kept in the fetch history. */
export interface FetchLogEntry {
  readonly sourceId: string;
  readonly startedAt: Date;
  readonly url: string;
  readonly outcome: 'updated' | 'not-modified' | 'failed' | 'rate-limited' | 'gone' | 'deferred';
  readonly status: number | null;
  readonly bytes: number | null;
  readonly durationMs: number;
  readonly itemsNew: number;
  readonly itemsUpdated: number;
  readonly itemsUnchanged: number;
  readonly error: string | null;
}
