import { Feed } from 'feed';
import { completeAtomEntries } from './render-atom-source.js';
import type { RiverView, StoryView } from './render-story.js';
import { escapeText, forXmlJsAttr, forXmlJsText, htmlForCdata } from './render-text.js';

// Atom 1.0 (RFC 4287) over the `feed` package, completed by render-atom-source.ts with what `feed`
// cannot write: each entry's <source> (§4.2.11), rel="alternate" on entry links, enclosure links and
// media:thumbnail, and the feed's alternate, paging (RFC 5005) and hub links.

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
      // The footer, when there is one, ends the content.
      content: story.content === null ? undefined : htmlForCdata(story.content + (story.footer ?? '')),
      // §4.1.1: a feed without an <author> of its own (this one) needs one in every entry, so every
      // entry has the byline (§4.2.1 would otherwise take it from <source>, which readers ignore).
      // <email> only with an address the validator accepts (render-story.ts splitAuthor).
      author: [
        { name: forXmlJsText(story.byline), ...(story.authorEmail === null || story.author === null ? {} : { email: story.authorEmail }) },
      ],
      category: story.categories.map((term) => ({ term: forXmlJsAttr(term) })),
    });
  }
  return completeAtomEntries(feed.atom1(), river, stories);
}
