-- Republishing for feed readers (issue #5): enclosures and images carried through.
ALTER TABLE items
  -- [{url, type, length}] from RSS <enclosure>, media:content, JSON Feed attachments.
  ADD COLUMN enclosures jsonb NOT NULL DEFAULT '[]',
  -- The story's image (media:thumbnail, media:content medium=image, JSON Feed image).
  ADD COLUMN image_url  text;
