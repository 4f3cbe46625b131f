-- Fetching as a good citizen (issue #3): permanent redirects, 410 Gone, why a source is next due,
-- per-host politeness shared by every worker process, and a bounded per-source fetch history.

ALTER TABLE sources
  -- Where the feed lives after a permanent redirect (301/308); fetched from here from then on.
  -- Cleared when the configured url changes.
  ADD COLUMN effective_url     text,
  -- 410 Gone: not polled again until its url in feeds.yaml changes.
  ADD COLUMN gone_at           timestamptz,
  -- Why next_fetch_at is what it is ("interval 15m", "ttl 60m", "skipHours", "backoff after 3 errors", ...).
  ADD COLUMN next_fetch_reason text,
  -- The politeness key of the url being fetched: its registrable domain (eTLD+1), or the IP literal.
  ADD COLUMN host_key          text,
  -- The feed's own polling hints (ttl, sy:updatePeriod/Frequency, skipHours, skipDays) from the
  -- last document parsed, so they still apply after 304 Not Modified answers.
  ADD COLUMN feed_schedule     jsonb,
  -- Adapt the interval to the source's observed posting rate (feeds.yaml adaptive).
  ADD COLUMN adaptive          boolean NOT NULL DEFAULT false;

-- One row per politeness key (registrable domain), shared by every worker.
CREATE TABLE hosts (
  host_key        text PRIMARY KEY,
  -- A publisher asked us to wait (429/503 with Retry-After): no request to this host before then.
  paused_until    timestamptz,
  pause_reason    text,
  -- When the latest request to this host started, for the minimum gap between requests.
  last_request_at timestamptz,
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Requests in flight to a host, one row each, across all workers; a crashed worker's rows expire.
CREATE TABLE host_slots (
  host_key    text NOT NULL,
  source_id   text NOT NULL,
  owner       text NOT NULL,
  lease_until timestamptz NOT NULL,
  PRIMARY KEY (host_key, source_id)
);

-- Each poll of each source, kept for a bounded window (pruned by the writer).
CREATE TABLE fetch_log (
  id              bigserial PRIMARY KEY,
  source_id       text NOT NULL REFERENCES sources (id),
  started_at      timestamptz NOT NULL,
  url             text NOT NULL,
  -- updated | not-modified | failed | rate-limited | gone | deferred
  outcome         text NOT NULL,
  status          integer,
  bytes           integer,
  duration_ms     integer NOT NULL,
  items_new       integer NOT NULL DEFAULT 0,
  items_updated   integer NOT NULL DEFAULT 0,
  items_unchanged integer NOT NULL DEFAULT 0,
  error           text
);

CREATE INDEX fetch_log_source_idx ON fetch_log (source_id, started_at DESC, id DESC);
