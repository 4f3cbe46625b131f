import type { ColumnType, Generated, Kysely, Transaction } from 'kysely';
import type { Enclosure, FeedScheduleHints } from '../domain.js';

// Row types of the tables created by migrations/. Only store/ uses them.

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type DefaultedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface SourcesTable {
  id: string;
  url: string;
  name: string | null;
  homepage: string | null;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  every_seconds: number;
  enabled: Generated<boolean>;
  active: Generated<boolean>;
  feed_title: string | null;
  feed_home_url: string | null;
  etag: string | null;
  last_modified: string | null;
  last_fetched_at: Timestamp | null;
  last_status: number | null;
  last_error: string | null;
  error_count: Generated<number>;
  next_fetch_at: DefaultedTimestamp;
  lease_owner: string | null;
  lease_until: Timestamp | null;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
  effective_url: string | null;
  gone_at: Timestamp | null;
  next_fetch_reason: string | null;
  host_key: string | null;
  feed_schedule: ColumnType<FeedScheduleHints | null, string | null, string | null>;
  adaptive: Generated<boolean>;
  kind: Generated<'publisher' | 'aggregator'>;
  content_policy: Generated<'full' | 'summary' | 'none'>;
  strip: ColumnType<string[], string | undefined, string>;
  resolve_canonical: Generated<boolean>;
}

export interface HostsTable {
  host_key: string;
  paused_until: Timestamp | null;
  pause_reason: string | null;
  last_request_at: Timestamp | null;
  updated_at: DefaultedTimestamp;
}

export interface HostSlotsTable {
  host_key: string;
  source_id: string;
  owner: string;
  lease_until: Timestamp;
}

export interface FetchLogTable {
  id: Generated<string>;
  source_id: string;
  started_at: Timestamp;
  url: string;
  outcome: string;
  status: number | null;
  bytes: number | null;
  duration_ms: number;
  items_new: Generated<number>;
  items_updated: Generated<number>;
  items_unchanged: Generated<number>;
  error: string | null;
}

export interface ItemsTable {
  id: string;
  identity_key: string;
  canonical_url: string | null;
  title: string;
  author: string | null;
  summary: string | null;
  content: string | null;
  categories: ColumnType<string[], string[] | undefined, string[]>;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  guid: string | null;
  publisher_name: string;
  publisher_url: string | null;
  publisher_source_id: string | null;
  publisher_feed_url: string | null;
  publisher_rank: Generated<number>;
  content_source_id: string;
  content_hash: string;
  published_at: Timestamp;
  updated_at: Timestamp;
  first_seen_at: DefaultedTimestamp;
  search: ColumnType<string, never, never>;
  identity_version: Generated<number>;
  title_key: string | null;
  simhash: string | null;
  cluster_id: string | null;
  enclosures: ColumnType<Enclosure[], string | undefined, string>;
  image_url: string | null;
}

export interface ItemRevisionsTable {
  id: Generated<string>;
  item_id: string;
  replaced_at: Timestamp;
  title: string;
  summary: string | null;
  content: string | null;
  content_hash: string;
  source_id: string | null;
  updated_at: Timestamp;
}

export interface PageCanonicalsTable {
  url: string;
  canonical_url: string | null;
  status: number | null;
  error: string | null;
  fetched_at: Timestamp;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface ItemSourcesTable {
  item_id: string;
  source_id: string;
  guid: string | null;
  link: string | null;
  first_seen_at: DefaultedTimestamp;
  last_seen_at: DefaultedTimestamp;
}

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  applied_at: DefaultedTimestamp;
}

export interface Database {
  sources: SourcesTable;
  items: ItemsTable;
  item_sources: ItemSourcesTable;
  hosts: HostsTable;
  host_slots: HostSlotsTable;
  fetch_log: FetchLogTable;
  item_revisions: ItemRevisionsTable;
  page_canonicals: PageCanonicalsTable;
  meta: MetaTable;
  schema_migrations: SchemaMigrationsTable;
}

/** The handle every store function takes first: the database, or a transaction the caller owns. */
export type Db = Kysely<Database> | Transaction<Database>;
