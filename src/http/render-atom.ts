import { Feed } from 'feed';
import { completeAtomEntries } from './render-atom-source.js';
import type { RiverView, StoryView } from './render-story.js';
import { escapeText, forXmlJsAttr, forXmlJsText, htmlForCdata } from './render-text.js';

// Atom 1.0 (RFC 4287) over the `feed` package, completed by render-atom-source.ts with what `feed`
// cannot write: each entry's <source> (§4.2.11), rel="alternate" on entry links, and the feed's
// alternate links to the other formats.

export function renderAtom(river: RiverView, stories: readonly StoryView[]): string {
  const feed = new Feed({
    // Feed-level id (§4.2.6) = the river's home page: permanent, and the same for every filter.
    // `feed` writes id, title and subtitle as text without its own sanitize(): forXmlJsText.
    id: forXmlJsText(river.homeUrl),
    title: forXmlJsText(river.title),
    description: river.description === null ? undefined : forXmlJsText(river.description),
    link: river.homeUrl,
    feed: river.selfUrl,
    updated: river.updated,
    // `feed` sanitize()s the generator itself.
    generator: river.generator,
  });
  for (const story of stories) {
    feed.addItem({
      // `feed` declares every entry title type="html" and puts it in CDATA; our titles are plain
      // text, so they are HTML-escaped: a title like "Why <div> matters" must not become markup,
      // and escaped text can never contain "]]>".
      title: escapeText(story.title),
      // §4.2.6: ids are permanent and never reused: the canonical URL, else the tag URI.
      id: story.id,
      // An empty link makes `feed` write <link href=""/>, which completeAtomEntries removes.
      link: story.url ?? '',
      date: story.updatedAt,
      published: story.publishedAt,
      description: story.summary === null ? undefined : htmlForCdata(story.summary),
      content: story.content === null ? undefined : htmlForCdata(story.content),
      // §4.1.2: an entry needs an author unless its feed or source has one; always give the byline.
      author: [{ name: forXmlJsText(story.byline) }],
      category: story.categories.map((term) => ({ term: forXmlJsAttr(term) })),
    });
  }
  return completeAtomEntries(feed.atom1(), river, stories);
}
