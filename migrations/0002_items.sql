-- One row per story: the unit that is republished. identity_key is 'url:<canonical url>', or
-- 'guid:<source id>:<guid>' for items without a link; the unique constraint decides identity, so two
-- writers racing on one story cannot duplicate it.
CREATE TABLE items (
  id                  text PRIMARY KEY,          -- stable public id derived from identity_key
  identity_key        text NOT NULL UNIQUE,
  canonical_url       text,
  title               text NOT NULL DEFAULT '',
  author              text,
  summary             text,
  content             text,
  categories          text[] NOT NULL DEFAULT '{}',
  tags                text[] NOT NULL DEFAULT '{}',  -- union of the tags of the sources it came through
  guid                text,                       -- the publisher's guid (of the version stored)
  publisher_name      text NOT NULL,
  publisher_url       text,
  publisher_source_id text REFERENCES sources (id),
  publisher_feed_url  text,
  -- how the publisher was decided: 3 = a configured source serves the story's host,
  -- 2 = the item named its origin (RSS/Atom <source>), 1 = the source the story came through
  publisher_rank      smallint NOT NULL DEFAULT 1,
  content_source_id   text NOT NULL REFERENCES sources (id),  -- whose version of title/text is stored
  content_hash        text NOT NULL,
  published_at        timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL,
  first_seen_at       timestamptz NOT NULL DEFAULT now(),
  search              tsvector GENERATED ALWAYS AS (
                        setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') ||
                        setweight(to_tsvector('english'::regconfig, coalesce(summary, '')), 'B')
                      ) STORED
);

CREATE INDEX items_published_idx ON items (published_at DESC, id DESC);
CREATE INDEX items_search_idx ON items USING gin (search);
CREATE INDEX items_tags_idx ON items USING gin (tags);

-- Each appearance of a story in a source's feed.
CREATE TABLE item_sources (
  item_id       text NOT NULL REFERENCES items (id) ON DELETE CASCADE,
  source_id     text NOT NULL REFERENCES sources (id),
  guid          text,
  link          text,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (item_id, source_id)
);

CREATE INDEX item_sources_source_idx ON item_sources (source_id, last_seen_at DESC);
-- A source's guid finds the story it already stored even when its link changed.
CREATE INDEX item_sources_guid_idx ON item_sources (source_id, guid);
