-- One row per feeds.yaml entry. Rows of sources removed from feeds.yaml are kept (active = false)
-- so their stories keep their attribution and history.
CREATE TABLE sources (
  id              text PRIMARY KEY,
  url             text NOT NULL,
  name            text,
  homepage        text,
  tags            text[] NOT NULL DEFAULT '{}',
  every_seconds   integer NOT NULL CHECK (every_seconds > 0),
  enabled         boolean NOT NULL DEFAULT true,
  active          boolean NOT NULL DEFAULT true,
  -- learned from the publisher's feed
  feed_title      text,
  feed_home_url   text,
  -- conditional GET validators (RFC 9110 section 13)
  etag            text,
  last_modified   text,
  -- outcome of the latest poll
  last_fetched_at timestamptz,
  last_status     integer,
  last_error      text,
  error_count     integer NOT NULL DEFAULT 0,
  -- scheduling: due when next_fetch_at has passed; a lease stops two pollers taking one source
  next_fetch_at   timestamptz NOT NULL DEFAULT now(),
  lease_owner     text,
  lease_until     timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX sources_due_idx ON sources (next_fetch_at) WHERE active AND enabled;
