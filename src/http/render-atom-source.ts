import type { RiverView, StoryView } from './render-story.js';
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
// - the feed's rel=alternate links to the same river in the other formats.
//
// Method: entries are located in document order and matched to stories by position. Markup can be
// recognised by plain search because everything `feed` writes outside CDATA is escaped text (no raw
// `<`), attributes were escaped before (forXmlJsAttr, safeUrl), and CDATA sections are skipped.
// Inserted XML is built here with escapeText/escapeAttr. A count mismatch throws: it would be a bug.

const ALTERNATE_TYPES = {
  rss: 'application/rss+xml',
  json: 'application/feed+json',
} as const;

// `feed` indents with 4 spaces; entries sit at depth 1.
const CHILD = '        ';
const GRANDCHILD = '            ';

export function completeAtomEntries(xml: string, river: RiverView, stories: readonly StoryView[]): string {
  const bounds = locateEntries(xml);
  if (bounds.length !== stories.length) {
    throw new Error(`render-atom: expected ${stories.length} <entry> elements in feed's output, found ${bounds.length}`);
  }
  const firstEntry = bounds[0]?.start ?? xml.length;
  const parts = [withFeedAlternates(xml.slice(0, firstEntry), river)];
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

/** The Atom <source> element for a story: the publisher as the feed it came from. */
function atomSourceElement(story: StoryView): string {
  const { publisher } = story;
  const lines: string[] = [];
  const id = publisher.feedUrl ?? publisher.url;
  // §4.2.11 lists no required children; id (the publisher's feed URL, which is how Atom identifies
  // a feed it cannot see) is omitted only when we know no address at all.
  if (id !== null) lines.push(`<id>${escapeText(id)}</id>`);
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
  const related = relatedLinks(story);
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
  extra.push(atomSourceElement(story));
  return out + extra.map((element) => `    ${element}\n    `).join('');
}

/** Adds rel=alternate links to the other formats right after the feed's rel=self link. */
function withFeedAlternates(header: string, river: RiverView): string {
  const selfAt = header.indexOf('<link rel="self"');
  if (selfAt === -1) throw new Error('render-atom: no rel=self link in feed\'s output');
  const at = header.indexOf('/>', selfAt) + '/>'.length;
  const links: string[] = [];
  for (const format of ['rss', 'json'] as const) {
    const href = river.alternates[format];
    if (href) links.push(`\n    <link rel="alternate" type="${ALTERNATE_TYPES[format]}" href="${escapeAttr(href)}"/>`);
  }
  return header.slice(0, at) + links.join('') + header.slice(at);
}
