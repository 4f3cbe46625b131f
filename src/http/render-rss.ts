import { Feed, type Extension } from 'feed';
import type { RiverView, StoryView } from './render-story.js';
import { escapeAttr, escapeText, forXmlJsAttr, forXmlJsText, htmlForCdata, htmlToPlainText } from './render-text.js';

// RSS 2.0 (https://www.rssboard.org/rss-specification) over the `feed` package. Where `feed` falls
// short, the element is written as an item extension (xml-js compact form) instead; see each note.

const DC_NS = 'http://purl.org/dc/elements/1.1/';
const MEDIA_NS = 'http://search.yahoo.com/mrss/';
const FH_NS = 'http://purl.org/syndication/history/1.0';

/** River links written as <atom:link rel=…> (RFC 5005 paging, WebSub), in this order. */
const RIVER_LINK_RELS = [
  ['next', 'next'],
  ['prevArchive', 'prev-archive'],
  ['current', 'current'],
  ['hub', 'hub'],
] as const;

const ALTERNATE_TYPES = {
  atom: 'application/atom+xml',
  json: 'application/feed+json',
} as const;

export function renderRss(river: RiverView, stories: readonly StoryView[]): string {
  const feed = new Feed({
    // Strings `feed` writes as text without its own sanitize() go through forXmlJsText; URLs are
    // sanitize()d by `feed` itself and were made attribute-safe by safeUrl.
    title: forXmlJsText(river.title),
    // <description> is required on a channel (RSS 2.0 "Required channel elements").
    description: forXmlJsText(river.description ?? river.title),
    link: river.homeUrl,
    feed: river.selfUrl,
    updated: river.updated,
    generator: forXmlJsText(river.generator),
    // <ttl> (RSS 2.0 "Optional channel elements"): `feed` writes it before the items, where the
    // W3C validator wants channel metadata (MisplacedItem otherwise).
    ...(river.ttlMinutes === null ? {} : { ttl: river.ttlMinutes }),
  });

  // `feed` writes one <atom:link rel="self">; this replaces that list with self plus the other
  // formats as rel=alternate and the paging and hub links, keeping the element where `feed` put it
  // (before the items) and its xmlns:atom. RFC 5005 and WebSub define these rels for Atom links;
  // RSS borrows them through atom:link, as the W3C validator expects.
  const atomLinks: { _attributes: Record<string, string> }[] = [
    { _attributes: { href: forXmlJsAttr(river.selfUrl), rel: 'self', type: 'application/rss+xml' } },
  ];
  for (const format of ['atom', 'json'] as const) {
    const href = river.alternates[format];
    if (href) atomLinks.push({ _attributes: { href: forXmlJsAttr(href), rel: 'alternate', type: ALTERNATE_TYPES[format] } });
  }
  for (const [key, rel] of RIVER_LINK_RELS) {
    const href = river.links[key];
    if (href !== null) atomLinks.push({ _attributes: { href: forXmlJsAttr(href), rel } });
  }
  feed.addExtension({ name: 'atom:link', objects: atomLinks as unknown as Record<string, unknown> });
  // RFC 5005 §4: archive documents (they link back to the current feed) are marked fh:archive.
  const archive = river.links.current !== null;

  for (const story of stories) {
    const { description, content } = rssText(story);
    feed.addItem({
      // Given so `feed` creates <title> in its usual place; the `title` extension below then
      // replaces its value with a text node, since `feed` puts titles in CDATA and splits only the
      // first `]]>` (two would end the section early).
      title: story.title,
      // `feed` omits <link> for an empty link and, with no guid/id given, writes
      // <guid isPermaLink="true"> with the link: the canonical URL is the permalink.
      link: story.url ?? '',
      // Link-less stories get the stable tag URI as <guid isPermaLink="false">.
      guid: story.url === null ? forXmlJsText(story.id) : undefined,
      date: story.updatedAt,
      // `feed` writes <pubDate> from `published` in RFC 822 form (toUTCString, always GMT).
      published: story.publishedAt,
      description: description === null ? undefined : htmlForCdata(description),
      content: content === null ? undefined : htmlForCdata(content),
      category: story.categories.map((name) => ({ name: forXmlJsText(name) })),
      // No `author` here: see itemExtensions.
      extensions: itemExtensions(story),
    });
  }
  let xml = declareNamespace(feed.rss2(), 'dc', DC_NS);
  if (archive) {
    // Channel metadata must precede the items (the W3C validator's MisplacedItem), and `feed`
    // writes extensions after them: place <fh:archive/> before the first item ourselves.
    const at = xml.search(/<item>|<\/channel>/);
    xml = declareNamespace(`${xml.slice(0, at)}<fh:archive/>\n        ${xml.slice(at)}`, 'fh', FH_NS);
  }
  return stories.some(hasMedia) ? declareNamespace(xml, 'media', MEDIA_NS) : xml;
}

function hasMedia(story: StoryView): boolean {
  return story.enclosures.length > 0 || story.image !== null;
}

/**
 * "Also published by" in RSS. RSS 2.0 has no element for other publishers of the same story: its
 * <source> is the one channel the item came from, and a <category domain="…"> or a repeated
 * <source> would be hacks that readers show as tags or ignore. Saying nothing would leave RSS
 * subscribers (most of a river's readers) unaware that the story ran elsewhere, which the merged
 * feed promises to show. So one short HTML paragraph is appended to the text the entry carries:
 * to <description> and to <content:encoded> when present, because readers show one or the other.
 * Under policy `none` the entry carries no text at all, so not this line either; otherwise, with
 * no text to append to, the line is the description. Atom and JSON Feed carry the same
 * information as structure (rel=related links, `_tributary.also_published_by`), not as text.
 */
export function alsoPublishedHtml(story: StoryView): string | null {
  if (story.alsoPublishedBy.length === 0) return null;
  const names = story.alsoPublishedBy.map((other) =>
    other.url === null ? escapeText(other.name) : `<a href="${escapeAttr(other.url)}">${escapeText(other.name)}</a>`,
  );
  return `<p>Also published by: ${names.join(', ')}</p>`;
}

/**
 * <description> and <content:encoded>. The footer, when there is one, is the last paragraph of
 * content:encoded, after "also published by". A story with full text but no summary gets a
 * plain-text excerpt of it as its description: content:encoded wants a description before it
 * (W3C: NeedDescriptionBeforeContent), and readers that show only descriptions would show nothing.
 */
function rssText(story: StoryView): { description: string | null; content: string | null } {
  const line = story.contentPolicy === 'none' ? null : alsoPublishedHtml(story);
  const summary = story.summary ?? (story.content === null ? null : excerptHtml(story.content, story.title));
  return {
    description: summary === null ? line : summary + (line ?? ''),
    content: story.content === null ? null : story.content + (line ?? '') + (story.footer ?? ''),
  };
}

const EXCERPT_CHARS = 400;

/** The text of `html`, cut at a word near 400 characters, as HTML; the title when it has no text. */
function excerptHtml(html: string, title: string): string {
  const text = htmlToPlainText(html);
  if (text === '') return escapeText(title);
  if (text.length <= EXCERPT_CHARS) return escapeText(text);
  const cut = text.slice(0, EXCERPT_CHARS);
  const space = cut.lastIndexOf(' ');
  return `${escapeText((space > EXCERPT_CHARS / 2 ? cut.slice(0, space) : cut).trimEnd())}…`;
}

function itemExtensions(story: StoryView): Extension[] {
  const extensions: Extension[] = [{ name: 'title', objects: { _text: forXmlJsText(story.title) } }];
  // RSS 2.0 <author> is "the email address of the author", written "lawyer@boyer.net (Lawyer
  // Boyer)"; a name alone there is invalid (W3C: InvalidContact). So it is written only when the
  // author came with an address, and then instead of <dc:creator>: the two together say the same
  // thing twice (W3C: DuplicateItemSemantics). Every other byline, the publisher's name included
  // when the story names no author, is <dc:creator>.
  extensions.push(
    story.authorEmail !== null && story.author !== null
      ? { name: 'author', objects: { _text: forXmlJsText(`${story.authorEmail} (${story.author})`) } }
      : { name: 'dc:creator', objects: { _text: forXmlJsText(story.byline) } },
  );
  // RSS 2.0 <source>: "its value is the name of the RSS channel that the item came from, derived
  // from its <title>"; the url attribute is required and "links to the XMLization of the source",
  // so the publisher's feed URL, else its site; with neither the element is left out.
  const sourceUrl = story.publisher.feedUrl ?? story.publisher.url;
  if (sourceUrl !== null) {
    extensions.push({
      name: 'source',
      objects: { _attributes: { url: forXmlJsAttr(sourceUrl) }, _text: forXmlJsText(story.publisher.name) },
    });
  }
  return [...extensions, ...mediaExtensions(story)];
}

/**
 * Enclosures and the image. RSS 2.0 allows one <enclosure> per item (W3C: DuplicateEnclosure), so
 * it carries the first, with its required length and type (0 is the spec's "unknown" length).
 * Media RSS carries them all, as media:content (fileSize only when known: it must be positive), and
 * the story's image as media:thumbnail.
 */
function mediaExtensions(story: StoryView): Extension[] {
  const extensions: Extension[] = [];
  const [first] = story.enclosures;
  if (first !== undefined) {
    extensions.push({
      name: 'enclosure',
      objects: { _attributes: { url: forXmlJsAttr(first.url), length: String(first.length ?? 0), type: forXmlJsAttr(first.type) } },
    });
    const contents = story.enclosures.map((e) => ({
      _attributes: {
        url: forXmlJsAttr(e.url),
        type: forXmlJsAttr(e.type),
        ...(e.length === null ? {} : { fileSize: String(e.length) }),
        ...(e.medium === null ? {} : { medium: e.medium }),
      },
    }));
    // xml-js writes an array as repeated elements.
    extensions.push({ name: 'media:content', objects: contents as unknown as Record<string, unknown> });
  }
  if (story.image !== null) {
    extensions.push({ name: 'media:thumbnail', objects: { _attributes: { url: forXmlJsAttr(story.image) } } });
  }
  return extensions;
}

/**
 * `feed` declares xmlns:dc only when some item has content:encoded, but items carry <dc:creator>,
 * and it never declares xmlns:media; an undeclared prefix is a namespace well-formedness error
 * (Namespaces in XML §5). The root start tag comes before any data in the document, so the first
 * `<rss ` is the root.
 */
function declareNamespace(xml: string, prefix: string, uri: string): string {
  const start = xml.indexOf('<rss ');
  const end = xml.indexOf('>', start);
  if (start === -1 || end === -1) throw new Error('render-rss: feed produced no <rss> root element');
  if (xml.slice(start, end).includes(` xmlns:${prefix}=`)) return xml;
  const at = start + '<rss'.length;
  return `${xml.slice(0, at)} xmlns:${prefix}="${escapeAttr(uri)}"${xml.slice(at)}`;
}
