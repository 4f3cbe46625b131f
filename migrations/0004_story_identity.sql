-- Story identity and attribution across publishers (issue #4).

-- Per-source policy from feeds.yaml, kept on the row so every worker applies the same.
ALTER TABLE sources
  ADD COLUMN kind              text NOT NULL DEFAULT 'publisher' CHECK (kind IN ('publisher', 'aggregator')),
  ADD COLUMN content_policy    text NOT NULL DEFAULT 'summary' CHECK (content_policy IN ('full', 'summary', 'none')),
  ADD COLUMN strip             jsonb NOT NULL DEFAULT '[]',
  ADD COLUMN resolve_canonical boolean NOT NULL DEFAULT false;

ALTER TABLE items
  -- Which version of the identity rules computed identity_key (src/ingest/identity.ts).
  ADD COLUMN identity_version  smallint NOT NULL DEFAULT 1,
  -- Normalised title and a 64-bit SimHash of the text (16 hex digits): near-duplicate detection.
  ADD COLUMN title_key         text,
  ADD COLUMN simhash           text,
  -- The story cluster this story belongs to (the id of its earliest member); null when alone.
  ADD COLUMN cluster_id        text;

CREATE INDEX items_cluster_idx ON items (cluster_id) WHERE cluster_id IS NOT NULL;
CREATE INDEX items_title_key_idx ON items (title_key, published_at);

-- Earlier versions of a story, kept when a material edit replaces them.
CREATE TABLE item_revisions (
  id           bigserial PRIMARY KEY,
  item_id      text NOT NULL REFERENCES items (id) ON DELETE CASCADE,
  -- When the version below was replaced.
  replaced_at  timestamptz NOT NULL,
  title        text NOT NULL,
  summary      text,
  content      text,
  content_hash text NOT NULL,
  source_id    text REFERENCES sources (id),
  -- The publisher's own updated time of that version, when it gave one.
  updated_at   timestamptz NOT NULL
);

CREATE INDEX item_revisions_item_idx ON item_revisions (item_id, replaced_at DESC, id DESC);

-- rel=canonical of item pages (sources with resolve_canonical: true), cached.
CREATE TABLE page_canonicals (
  url           text PRIMARY KEY,
  canonical_url text,
  status        integer,
  error         text,
  fetched_at    timestamptz NOT NULL
);

-- Small key/value facts about the database itself (e.g. identity_rules_version).
CREATE TABLE meta (
  key   text PRIMARY KEY,
  value text NOT NULL
);

-- Start-up re-identification looks for stories keyed under older rules: keep that a cheap check.
CREATE INDEX items_identity_version_idx ON items (identity_version);
