import { STORY_TAG_PREFIX, type RiverView, type StoryView } from './render-story.js';
import { escapeAttr, escapeText } from './render-text.js';

// Completes the Atom document `feed` wrote with what its Atom writer cannot express:
// - each entry's <source> (RFC 4287 §4.2.11) carrying the original publisher, so a story stays
//   credited to it when the river is read or re-aggregated;
// - rel="alternate" on entry links (the default rel per §4.2.7.2, written out for plain readers);
//   for link-less stories the empty <link href=""/> `feed` writes is removed, and since §4.1.1
//   requires content or an alternate link, such entries get a <content> element;
// - "also published by": one <link rel="related" href="STORY URL" title="PUBLISHER"/> per other
//   member of the story's cluster (§4.2.7.2: "related" is "a resource related to" the entry; §4.2.7.5
//   `title` is human-readable information about the link). Link-less members have no href to give
//   and are left out: Atom has no other place for them;
// - enclosures as <link rel="enclosure" href type length> (§4.2.7.2; length only when known) and
//   the story's image as <media:thumbnail url> (Media RSS), xmlns:media declared on the root;
// - the feed's rel=alternate links to the same river in the other formats (before the home page
//   link), and after rel=self the rel="next", "prev-archive", "current" (RFC 5005) and "hub"
//   (WebSub) links the river has: all before the first entry, as feed metadata after an entry is an
//   error to the W3C validator (MisplacedMetadata).
//
// Method: entries are located in document order and matched to stories by position. Markup can be
// recognised by plain search because everything `feed` writes outside CDATA is escaped text (no raw
// `<`), attributes were escaped before (forXmlJsAttr, safeUrl), and CDATA sections are skipped.
// Inserted XML is built here with escapeText/escapeAttr. A count mismatch throws: it would be a bug.

const ALTERNATE_TYPES = {
  rss: 'application/rss+xml',
  json: 'application/feed+json',
} as const;

const RIVER_LINK_RELS = [
  ['next', 'next'],
  ['prevArchive', 'prev-archive'],
  ['current', 'current'],
  ['hub', 'hub'],
] as const;

const ATOM_ROOT = '<feed xmlns="http://www.w3.org/2005/Atom">';
const MEDIA_NS = 'http://search.yahoo.com/mrss/';
/** RFC 5005 feed history namespace. */
const FH_NS = 'http://purl.org/syndication/history/1.0';

// `feed` indents with 4 spaces; entries sit at depth 1.
const CHILD = '        ';
const GRANDCHILD = '            ';

export function completeAtomEntries(xml: string, river: RiverView, stories: readonly StoryView[]): string {
  const bounds = locateEntries(xml);
  if (bounds.length !== stories.length) {
    throw new Error(`render-atom: expected ${stories.length} <entry> elements in feed's output, found ${bounds.length}`);
  }
  const firstEntry = bounds[0]?.start ?? xml.length;
  const usesMedia = stories.some((s) => s.image !== null);
  const header = withNamespace(withMediaNamespace(xml.slice(0, firstEntry), usesMedia), 'fh', FH_NS, river.links.current !== null);
  const parts = [withFeedLinks(header, river, stories.length === 0)];
  bounds.forEach((entry, i) => {
    const story = stories[i] as StoryView;
    parts.push(completeEntry(xml.slice(entry.start, entry.end), story));
    const next = bounds[i + 1]?.start ?? xml.length;
    parts.push(xml.slice(entry.end, next));
  });
  return parts.join('');
}

/** <link rel="related"> to the same story at each other publisher that has a URL for it. */
function relatedLinks(story: StoryView): string[] {
  return story.alsoPublishedBy
    .filter((other) => other.url !== null)
    .map((other) => `<link rel="related" href="${escapeAttr(other.url ?? '')}" title="${escapeAttr(other.name)}"/>`);
}

/** <link rel="enclosure"> per enclosure (type always, length when known). */
function enclosureLinks(story: StoryView): string[] {
  return story.enclosures.map(
    (e) => `<link rel="enclosure" href="${escapeAttr(e.url)}" type="${escapeAttr(e.type)}"${e.length === null ? '' : ` length="${e.length}"`}/>`,
  );
}

/**
 * The Atom <source> element for a story: the publisher as the feed it came from. §4.2.11 lists no
 * required children, but a source is feed metadata, and the W3C validator asks it for the feed's
 * own id, title and updated (MissingSourceElement). So:
 * - id: the publisher's feed URL (how Atom can name a feed whose own id it never saw), else its
 *   site, else a tag URI (RFC 4151) from its name, stable as long as the name is;
 * - title: the publisher's name; rel="self" its feed URL, rel="alternate" its site;
 * - updated: we keep no time of the publisher's feed itself; the story's own updated is the latest
 *   time we know that feed to have changed at (it carried this version of the story).
 * <rights> is left out: publishers' rights statements are not stored.
 */
function atomSourceElement(story: StoryView): string {
  const { publisher } = story;
  const lines: string[] = [];
  const id = publisher.feedUrl ?? publisher.url ?? `${STORY_TAG_PREFIX}publisher:${encodeURIComponent(publisher.name)}`;
  lines.push(`<id>${escapeText(id)}</id>`);
  lines.push(`<title>${escapeText(publisher.name)}</title>`);
  if (publisher.feedUrl !== null) lines.push(`<link rel="self" href="${escapeAttr(publisher.feedUrl)}"/>`);
  if (publisher.url !== null) lines.push(`<link rel="alternate" href="${escapeAttr(publisher.url)}"/>`);
  lines.push(`<updated>${story.updatedAt.toISOString()}</updated>`);
  return `<source>\n${lines.map((l) => GRANDCHILD + l).join('\n')}\n${CHILD}</source>`;
}

interface Bounds {
  /** Index of `<entry>`. */
  readonly start: number;
  /** Index of the matching `</entry>`. */
  readonly end: number;
}

function locateEntries(xml: string): Bounds[] {
  const bounds: Bounds[] = [];
  let from = 0;
  for (;;) {
    const start = indexOutsideCdata(xml, '<entry>', from);
    if (start === -1) return bounds;
    const end = indexOutsideCdata(xml, '</entry>', start);
    if (end === -1) throw new Error('render-atom: unterminated <entry> in feed\'s output');
    bounds.push({ start, end });
    from = end;
  }
}

/** Like indexOf, but a match inside a CDATA section does not count. */
function indexOutsideCdata(xml: string, needle: string, from: number): number {
  let pos = from;
  for (;;) {
    const hit = xml.indexOf(needle, pos);
    const cdata = xml.indexOf('<![CDATA[', pos);
    if (hit === -1 || cdata === -1 || hit < cdata) return hit;
    const cdataEnd = xml.indexOf(']]>', cdata + '<![CDATA['.length);
    if (cdataEnd === -1) return -1;
    pos = cdataEnd + ']]>'.length;
  }
}

/** `entry` runs from `<entry>` up to (not including) `</entry>`, ending in the closing tag's indent. */
function completeEntry(entry: string, story: StoryView): string {
  const linkAt = indexOutsideCdata(entry, '<link href="', 0);
  if (linkAt === -1) throw new Error(`render-atom: no <link> in feed's entry for story ${story.id}`);
  const linkEnd = entry.indexOf('/>', linkAt) + '/>'.length;
  const related = [...relatedLinks(story), ...enclosureLinks(story)];
  let out: string;
  if (story.url === null) {
    // Drop the element and the line it stood on.
    const lineStart = entry.lastIndexOf('\n', linkAt);
    out = entry.slice(0, lineStart) + entry.slice(linkEnd);
  } else {
    // rel="alternate" added, and the related links on the lines after it.
    const at = linkAt + '<link'.length;
    const after = related.map((l) => `\n${CHILD}${l}`).join('');
    out = `${entry.slice(0, at)} rel="alternate"${entry.slice(at, linkEnd)}${after}${entry.slice(linkEnd)}`;
  }
  const extra: string[] = story.url === null ? [...related] : [];
  if (story.url === null && story.content === null) {
    // The view applied the content policy: under `none` this is an empty <content>, which §4.1.1
    // accepts (it asks for the element, not for text in it).
    extra.push(`<content type="html">${escapeText(story.summary ?? '')}</content>`);
  }
  if (story.image !== null) extra.push(`<media:thumbnail url="${escapeAttr(story.image)}"/>`);
  extra.push(atomSourceElement(story));
  return out + extra.map((element) => `    ${element}\n    `).join('');
}

/**
 * Adds the alternate links to the other formats before the river's home page link, and the paging
 * and hub links after rel=self. The home page must be the last rel="alternate": newsboat takes the
 * last one as the feed's site (feedparser takes the first HTML one; both then agree on the home page).
 * A feed with no entries also gets an <author> (the river): RFC 4287 §4.1.1 excuses a feed from one
 * only when all its entries have one, which an empty feed satisfies only vacuously, and validators
 * disagree on that reading (feedvalidator used to report MissingElement author). With entries there
 * is none: every entry carries its own byline, and a feed-level author would claim the stories.
 */
function withFeedLinks(header: string, river: RiverView, empty: boolean): string {
  const selfAt = header.indexOf('<link rel="self"');
  if (selfAt === -1) throw new Error('render-atom: no rel=self link in feed\'s output');
  // `feed` writes the home page link just before rel=self (none for an empty homeUrl).
  const homeLink = header.lastIndexOf('<link rel="alternate"', selfAt);
  const homeAt = homeLink === -1 ? selfAt : homeLink;
  const afterSelf = header.indexOf('/>', selfAt) + '/>'.length;
  const alternates: string[] = [];
  for (const format of ['rss', 'json'] as const) {
    const href = river.alternates[format];
    if (href) alternates.push(`<link rel="alternate" type="${ALTERNATE_TYPES[format]}" href="${escapeAttr(href)}"/>\n    `);
  }
  const after: string[] = [];
  for (const [key, rel] of RIVER_LINK_RELS) {
    const href = river.links[key];
    if (href !== null) after.push(`\n    <link rel="${rel}" href="${escapeAttr(href)}"/>`);
  }
  // RFC 5005 §4: an archive document (one that links back to the current feed) MUST carry
  // <fh:archive/>, so readers know its content is stable (xmlns:fh is declared on the root).
  if (river.links.current !== null) after.push('\n    <fh:archive/>');
  if (empty) after.push(`\n    <author>\n${CHILD}<name>${escapeText(river.title)}</name>\n    </author>`);
  return header.slice(0, homeAt) + alternates.join('') + header.slice(homeAt, afterSelf) + after.join('') + header.slice(afterSelf);
}

/** Declares `prefix` on the root element when `needed`. */
function withNamespace(header: string, prefix: string, uri: string, needed: boolean): string {
  if (!needed) return header;
  // The root's opening, without its '>': other declarations may already follow it.
  const rootStart = ATOM_ROOT.slice(0, -1);
  const at = header.indexOf(rootStart);
  if (at === -1) throw new Error('render-atom: no <feed> root element in feed\'s output');
  const insertAt = header.indexOf('>', at);
  return `${header.slice(0, insertAt)} xmlns:${prefix}="${uri}"${header.slice(insertAt)}`;
}

/** Declares the Media RSS prefix on the root when some entry has a media:thumbnail. */
function withMediaNamespace(header: string, usesMedia: boolean): string {
  if (!usesMedia) return header;
  const at = header.indexOf(ATOM_ROOT);
  if (at === -1) throw new Error('render-atom: no <feed> root element in feed\'s output');
  const insertAt = at + ATOM_ROOT.length - 1;
  return `${header.slice(0, insertAt)} xmlns:media="${MEDIA_NS}"${header.slice(insertAt)}`;
}
