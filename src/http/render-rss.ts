import { Feed, type Extension } from 'feed';
import type { RiverView, StoryView } from './render-story.js';
import { escapeAttr, escapeText, forXmlJsAttr, forXmlJsText, htmlForCdata } from './render-text.js';

// RSS 2.0 (https://www.rssboard.org/rss-specification) over the `feed` package. Where `feed` falls
// short, the element is written as an item extension (xml-js compact form) instead; see each note.

const DC_NS = 'http://purl.org/dc/elements/1.1/';

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
  });

  // `feed` writes one <atom:link rel="self">; this replaces that list with self plus the other
  // formats as rel=alternate, keeping the element where `feed` put it and its xmlns:atom.
  const atomLinks = [{ _attributes: { href: forXmlJsAttr(river.selfUrl), rel: 'self', type: 'application/rss+xml' } }];
  for (const format of ['atom', 'json'] as const) {
    const href = river.alternates[format];
    if (href) atomLinks.push({ _attributes: { href: forXmlJsAttr(href), rel: 'alternate', type: ALTERNATE_TYPES[format] } });
  }
  feed.addExtension({ name: 'atom:link', objects: atomLinks as unknown as Record<string, unknown> });

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
      // No `author`: RSS <author> must be an e-mail address; the byline goes to <dc:creator>.
      extensions: itemExtensions(story),
    });
  }
  return declareNamespace(feed.rss2(), 'dc', DC_NS);
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

function rssText(story: StoryView): { description: string | null; content: string | null } {
  const line = story.contentPolicy === 'none' ? null : alsoPublishedHtml(story);
  if (line === null) return { description: story.summary, content: story.content };
  return {
    description: story.summary !== null ? story.summary + line : story.content === null ? line : null,
    content: story.content === null ? null : story.content + line,
  };
}

function itemExtensions(story: StoryView): Extension[] {
  const extensions: Extension[] = [
    { name: 'title', objects: { _text: forXmlJsText(story.title) } },
    { name: 'dc:creator', objects: { _text: forXmlJsText(story.byline) } },
  ];
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
  return extensions;
}

/**
 * `feed` declares xmlns:dc only when some item has content:encoded, but every item carries
 * <dc:creator>; an undeclared prefix is a namespace well-formedness error (Namespaces in XML §5).
 * The root start tag comes before any data in the document, so the first `<rss ` is the root.
 */
function declareNamespace(xml: string, prefix: string, uri: string): string {
  const start = xml.indexOf('<rss ');
  const end = xml.indexOf('>', start);
  if (start === -1 || end === -1) throw new Error('render-rss: feed produced no <rss> root element');
  if (xml.slice(start, end).includes(` xmlns:${prefix}=`)) return xml;
  const at = start + '<rss'.length;
  return `${xml.slice(0, at)} xmlns:${prefix}="${escapeAttr(uri)}"${xml.slice(at)}`;
}
