// RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 element trees (as parse-feed.ts builds them) to ParsedFeed.
// Pure: no I/O, no rss-parser types; every URL made absolute here, every text settled as HTML or text.
import type { Enclosure, OriginRef, ParsedFeed, ParsedItem } from '../domain.js';
import { feedSchedule } from './feed-schedule.js';
import { parseDate } from './parse-date.js';
import { escapeHtml, htmlToText, resolveHtmlUrls } from './sanitize-html.js';
import { all, attr, first, text, type XmlElement, type XmlParse } from './xml-element.js';

/** Map a parsed XML feed document to ParsedFeed, by its root element (<feed> is Atom, else RSS). */
export function mapXmlFeed(doc: XmlParse, feedUrl: string): ParsedFeed {
  return doc.rootName === 'feed' ? atomFeed(doc, feedUrl) : rssFeed(doc, feedUrl);
}

/**
 * The item/entry elements as the whole document has them. `doc.items` carries only the fields
 * parse-feed.ts copies out of rss-parser's output (ITEM_FIELDS); media elements (enclosure,
 * media:*, itunes:image) are read from the element tree under the root instead, where rss-parser
 * took its items from, in the same order (RSS 2.0 and 0.9x: channel/item, RSS 1.0: item under the
 * root, Atom: entry). Each copied field is the very array the tree holds, which confirms the pairing;
 * should it ever not hold, items are read without media rather than with another item's.
 */
function fullItems(doc: XmlParse): readonly XmlElement[] {
  const { rootName, root, items } = doc;
  const tree =
    rootName === 'feed' ? all(root, 'entry') : rootName === 'rdf:RDF' ? all(root, 'item') : all(first(root, 'channel') ?? {}, 'item');
  const paired = tree.length === items.length && items.every((item, i) => sameElement(item, tree[i] as XmlElement));
  return paired ? tree : items;
}

function sameElement(copy: XmlElement, full: XmlElement): boolean {
  const keys = Object.keys(copy);
  return keys.length === 0 || keys.some((k) => copy[k] === full[k]);
}

// ---------------------------------------------------------------------------------------------
// RSS 0.9x, 1.0 (RDF) and 2.0

function rssFeed(doc: XmlParse, feedUrl: string): ParsedFeed {
  const { rootName, root, items } = doc;
  const channel = first(root, 'channel') ?? {};
  const rootBase = withBase({ url: feedUrl, explicit: false }, root);
  const channelBase = withBase(rootBase, channel);
  const homeUrl = httpUrl(rssLink(channel), channelBase.url);
  // Relative item links resolve against xml:base when one is declared, else against the channel's
  // own link (RSS has no base of its own; publishers mean their site), else the feed URL.
  const itemParent = rootName === 'rdf:RDF' ? rootBase : channelBase;
  const itemBase = itemParent.explicit ? itemParent : { url: homeUrl ?? itemParent.url, explicit: false };
  const full = fullItems(doc);
  const prefixes = mediaPrefixes(root);
  return {
    format: 'rss',
    title: plainText(rssTitle(first(channel, 'title'))),
    homeUrl,
    items: items.map((item, i) => rssItem(item, itemBase, itemMedia(full[i] ?? item, itemBase, prefixes))),
    schedule: feedSchedule(doc),
  };
}

function rssItem(node: XmlElement, parentBase: Base, media: ItemMedia): ParsedItem {
  const base = withBase(parentBase, node);
  const guidNode = first(node, 'guid');
  const guid = text(guidNode).trim() || node.$?.['rdf:about']?.trim() || null;
  // RSS 2.0: a guid is the item's permalink unless isPermaLink="false".
  const permalink = guidNode && attr(guidNode, 'isPermaLink')?.toLowerCase() !== 'false' ? httpUrl(text(guidNode), null) : null;
  const source = first(node, 'source');
  return {
    guid,
    title: rssTitle(first(node, 'title')) ?? rssTitle(first(node, 'dc:title')),
    link: httpUrl(rssLink(node), base.url) ?? permalink ?? pickLink(all(node, 'atom:link'), base),
    origLink: httpUrl(text(first(node, 'feedburner:origLink')), base.url),
    dcSource: dcSource(node, base),
    author: authorText(text(first(node, 'dc:creator'))) ?? authorText(text(first(node, 'author'))),
    publishedAt: dateOf(node, 'pubDate') ?? dateOf(node, 'dc:date'),
    updatedAt: dateOf(node, 'atom:updated') ?? dateOf(node, 'dcterms:modified'),
    summaryHtml: htmlOf(first(node, 'description'), base),
    contentHtml: htmlOf(first(node, 'content:encoded'), base),
    categories: [...all(node, 'category').map(text), ...all(node, 'dc:subject').map(text)],
    origin: source ? origin(plainText(text(source)), httpUrl(attr(source, 'url') ?? '', base.url), null) : null,
    enclosures: media.enclosures,
    image: media.image,
  };
}

/**
 * RSS says a title is text, yet many feeds put HTML in it (`1930ft<sup>2</sup>`, `Q&amp;amp;A`).
 * Like feedparser, read it as HTML only when it looks like HTML (a known inline tag or an entity), so
 * a literal "a <review>" title keeps its words.
 */
function rssTitle(node: XmlElement | undefined): string | null {
  const raw = text(node).trim();
  if (!raw) return null;
  return LOOKS_LIKE_HTML.test(raw) ? raw : escapeHtml(raw);
}

const LOOKS_LIKE_HTML =
  /<\/?(?:a|abbr|b|big|br|cite|code|del|dfn|em|font|i|img|ins|kbd|mark|p|q|s|samp|small|span|strike|strong|sub|sup|time|tt|u|var)\b[^>]*>|&(?:#\d+|#x[0-9a-f]+|[a-z][a-z0-9]*);/i;

/**
 * RSS <link> holds the URL as text. Some feeds also (or instead) put Atom-style links in the RSS
 * namespace (`<link rel="self" href="…"/>`): the first text link wins, else an alternate href.
 */
function rssLink(node: XmlElement): string {
  const links = all(node, 'link');
  const withText = links.find((l) => text(l).trim() !== '');
  if (withText) return text(withText).trim();
  const alternate = links.find((l) => (attr(l, 'rel') ?? 'alternate').trim().toLowerCase() === 'alternate' && attr(l, 'href'));
  return alternate ? (attr(alternate, 'href') ?? '') : '';
}

// ---------------------------------------------------------------------------------------------
// Atom 1.0 (RFC 4287) and 0.3

function atomFeed(doc: XmlParse, feedUrl: string): ParsedFeed {
  const { root, items } = doc;
  const base = withBase({ url: feedUrl, explicit: false }, root);
  const feedAuthor = personName(first(root, 'author'));
  const full = fullItems(doc);
  const prefixes = mediaPrefixes(root);
  return {
    format: 'atom',
    title: plainText(textConstruct(first(root, 'title'))),
    homeUrl: pickLink(all(root, 'link'), base),
    items: items.map((entry, i) => atomEntry(entry, base, feedAuthor, itemMedia(full[i] ?? entry, base, prefixes))),
    schedule: feedSchedule(doc),
  };
}

function atomEntry(node: XmlElement, parentBase: Base, feedAuthor: string | null, media: ItemMedia): ParsedItem {
  const base = withBase(parentBase, node);
  const content = first(node, 'content');
  const updatedAt = dateOf(node, 'updated') ?? dateOf(node, 'modified');
  return {
    guid: text(first(node, 'id')).trim() || null,
    title: textConstruct(first(node, 'title')),
    link: pickLink(all(node, 'link'), base),
    origLink: httpUrl(text(first(node, 'feedburner:origLink')), base.url),
    dcSource: dcSource(node, base),
    // RFC 4287 §4.2.1: an entry without an author inherits the feed's.
    author: personName(first(node, 'author')) ?? authorText(text(first(node, 'dc:creator'))) ?? feedAuthor,
    // Atom requires <updated> but not <published>: an entry that only says when it was last updated
    // is dated by that, rather than by when we first saw it.
    publishedAt: dateOf(node, 'published') ?? dateOf(node, 'issued') ?? dateOf(node, 'created') ?? updatedAt,
    updatedAt,
    summaryHtml: constructHtml(first(node, 'summary'), base),
    // Out-of-line content (src=) is a link to elsewhere, not content.
    contentHtml: content && attr(content, 'src') === undefined ? constructHtml(content, base) : null,
    categories: [...all(node, 'category').map((c) => attr(c, 'term') ?? text(c)), ...all(node, 'dc:subject').map(text)],
    origin: atomSource(first(node, 'source'), base),
    enclosures: media.enclosures,
    image: media.image,
  };
}

/** Atom <source> (RFC 4287 §4.2.11): the feed an entry was copied from. */
function atomSource(source: XmlElement | undefined, parentBase: Base): OriginRef | null {
  if (!source) return null;
  const base = withBase(parentBase, source);
  const links = all(source, 'link');
  // Prefer the origin's feed URL (rel=self), matching what RSS <source url> gives.
  const url = pickLink(links, base, 'self') ?? pickLink(links, base);
  return origin(plainText(textConstruct(first(source, 'title'))), url, text(first(source, 'id')).trim() || null);
}

/**
 * Dublin Core `dc:source` of an item or entry: "a related resource from which the described resource
 * is derived". Aggregators use it for the original story's URL. Only a URL counts (free text such
 * as "Reuters" names no resource we can link to); a relative one resolves like the item's link.
 */
function dcSource(node: XmlElement, base: Base): string | null {
  const source = first(node, 'dc:source');
  if (!source) return null;
  // RSS 1.0 writes a resource as <dc:source rdf:resource="…"/>.
  const value = text(source).trim() || attr(source, 'rdf:resource')?.trim() || '';
  const looksLikeUrl = /^[a-z][a-z0-9+.-]*:/i.test(value) || value.startsWith('/') || value.startsWith('.');
  return looksLikeUrl ? httpUrl(value, withBase(base, source).url) : null;
}

/**
 * The entry's page among its links: rel="alternate" (the default when rel is absent, RFC 4287
 * §4.2.7.2), preferring an HTML type. rel=self/replies/enclosure/edit/related never qualify.
 */
function pickLink(links: readonly XmlElement[], base: Base, rel = 'alternate'): string | null {
  const candidates = links.filter((l) => (attr(l, 'rel') ?? 'alternate').trim().toLowerCase() === rel && attr(l, 'href'));
  const html = candidates.find((l) => /html/i.test(attr(l, 'type') ?? 'text/html')) ?? candidates[0];
  if (!html) return null;
  return httpUrl(attr(html, 'href') ?? '', withBase(base, html).url);
}

function personName(person: XmlElement | undefined): string | null {
  return person ? authorText(text(first(person, 'name'))) : null;
}

/** An Atom text construct (or RSS text element) as an HTML fragment; null when absent or empty. */
function textConstruct(node: XmlElement | undefined): string | null {
  if (!node) return null;
  const type = (attr(node, 'type') ?? '').toLowerCase();
  const mode = attr(node, 'mode');
  const raw = text(node);
  if (mode === 'base64') return null; // Atom 0.3 binary content: nothing we can show
  if (type === 'html' || type === 'text/html') return nonEmpty(raw.trim());
  if (mode === 'escaped' && type !== 'text/plain') return nonEmpty(raw.trim());
  if (type.includes('/') && !type.startsWith('text/')) return null; // some other media type
  return nonEmpty(escapeHtml(raw.trim())); // "text" (the default): escape into HTML
}

function constructHtml(node: XmlElement | undefined, base: Base): string | null {
  const html = textConstruct(node);
  if (html === null || !node) return html;
  const own = withBase(base, node);
  return own.explicit ? resolveHtmlUrls(html, own.url) : html;
}

/** RSS description/content:encoded: HTML by convention (RSS 2.0 spec, "entity-encoded HTML"). */
function htmlOf(node: XmlElement | undefined, base: Base): string | null {
  if (!node) return null;
  const html = nonEmpty(text(node).trim());
  if (html === null) return null;
  const own = withBase(base, node);
  // With an explicit xml:base only we know the base; without one, normalize-item resolves against
  // the item link, which is what RSS publishers write relative URLs against.
  return own.explicit ? resolveHtmlUrls(html, own.url) : html;
}

// ---------------------------------------------------------------------------------------------
// Enclosures and the story's image: RSS <enclosure>, Atom rel="enclosure", Media RSS, iTunes

/** A gallery of hundreds is not something to republish: the first few are kept. */
const MAX_ENCLOSURES = 10;

// Media RSS (https://www.rssboard.org/media-rss). Feeds also write it without the trailing slash.
const MRSS_NAMESPACE = /^https?:\/\/search\.yahoo\.com\/mrss\/?$/i;
const ITUNES_NAMESPACE = 'http://www.itunes.com/dtds/podcast-1.0.dtd';
const IMAGE_PATH = /\.(?:jpe?g|png|gif|webp|avif|bmp|svg)$/i;

interface ItemMedia {
  readonly enclosures: Enclosure[];
  readonly image: string | null;
}

interface MediaPrefixes {
  readonly media: readonly string[];
  readonly itunes: readonly string[];
}

/**
 * The prefixes a document binds to Media RSS and iTunes on its root (the element names xml2js gives
 * are the qualified names as written), plus the conventional `media` and `itunes`, which feeds use
 * even when they forget to declare them.
 */
function mediaPrefixes(root: XmlElement): MediaPrefixes {
  const media = new Set(['media']);
  const itunes = new Set(['itunes']);
  for (const [name, value] of Object.entries(root.$ ?? {})) {
    if (!name.startsWith('xmlns:')) continue;
    const prefix = name.slice('xmlns:'.length);
    if (MRSS_NAMESPACE.test(value.trim())) media.add(prefix);
    if (value.trim() === ITUNES_NAMESPACE) itunes.add(prefix);
  }
  return { media: [...media], itunes: [...itunes] };
}

/**
 * What an item carries besides text. Enclosures, in order: RSS <enclosure> (the spec expects one,
 * feeds write several), Atom links with rel="enclosure" (RFC 4287 §4.2.7.2), then Media RSS
 * media:content that is not an image; of a media:group (alternative renditions of one object) only
 * its isDefault member, else its first. The image: the widest media:content image (Media RSS lists
 * renditions, often smallest first), else a media:thumbnail (of the item, a group or a content), else
 * itunes:image, else the first enclosure that is an image. URLs resolve against the item's base
 * and the element's own xml:base; only http(s) is kept; duplicates merge, keeping what each says.
 */
function itemMedia(node: XmlElement, itemBase: Base, prefixes: MediaPrefixes): ItemMedia {
  const base = withBase(itemBase, node);
  const media = (parent: XmlElement, local: string): XmlElement[] => prefixes.media.flatMap((p) => all(parent, `${p}:${local}`));
  const enclosures: Enclosure[] = [];
  const add = (url: string | null, type: string | undefined, length: string | undefined): void => {
    if (url !== null) addEnclosure(enclosures, { url, type: mimeType(type), length: byteLength(length) });
  };

  for (const e of all(node, 'enclosure')) add(mediaUrl(attr(e, 'url'), e, base), attr(e, 'type'), attr(e, 'length'));
  for (const link of all(node, 'link')) {
    if ((attr(link, 'rel') ?? '').trim().toLowerCase() === 'enclosure') {
      add(mediaUrl(attr(link, 'href'), link, base), attr(link, 'type'), attr(link, 'length'));
    }
  }
  const groups = media(node, 'group');
  const direct = media(node, 'content');
  const contents = [...direct, ...groups.flatMap((g) => media(g, 'content'))];
  // The enclosures among media:content: every direct one, and one rendition per group.
  const listed = new Set(direct);
  for (const group of groups) {
    const members = media(group, 'content');
    const chosen = members.find((c) => attr(c, 'isDefault')?.trim().toLowerCase() === 'true') ?? members[0];
    if (chosen) listed.add(chosen);
  }
  const images: { url: string; width: number }[] = [];
  for (const content of contents) {
    const url = mediaUrl(attr(content, 'url'), content, base);
    if (url === null) continue;
    const type = mimeType(attr(content, 'type'));
    if (isImage(attr(content, 'medium'), type, url)) {
      images.push({ url, width: byteLength(attr(content, 'width')) ?? 0 });
    } else if (listed.has(content)) {
      add(url, attr(content, 'type'), attr(content, 'fileSize'));
    }
  }
  // A stable sort: equal (or unknown) widths keep document order.
  images.sort((a, b) => b.width - a.width);
  const thumbnails = [node, ...groups, ...contents].flatMap((n) => media(n, 'thumbnail')).map((t) => mediaUrl(attr(t, 'url'), t, base));
  // iTunes writes <itunes:image href="…"/>; some feeds put the URL in the text instead.
  const itunes = prefixes.itunes.flatMap((p) => all(node, `${p}:image`)).map((i) => mediaUrl(attr(i, 'href') ?? text(i), i, base));
  const image =
    images[0]?.url ??
    thumbnails.find((u) => u !== null) ??
    itunes.find((u) => u !== null) ??
    enclosures.find((e) => isImage(undefined, e.type, e.url))?.url ??
    null;
  return { enclosures: enclosures.slice(0, MAX_ENCLOSURES), image };
}

/** Adds an enclosure, or completes the one already listed under the same URL. */
function addEnclosure(list: Enclosure[], next: Enclosure): void {
  const at = list.findIndex((e) => e.url === next.url);
  const known = list[at];
  if (known === undefined) {
    if (list.length < MAX_ENCLOSURES) list.push(next);
    return;
  }
  list[at] = { url: known.url, type: known.type ?? next.type, length: known.length ?? next.length };
}

function mediaUrl(ref: string | undefined, element: XmlElement, base: Base): string | null {
  return ref === undefined ? null : httpUrl(ref, withBase(base, element).url);
}

/** medium="image" says so; another medium says not; without one, an image/* type or file name. */
function isImage(medium: string | undefined, type: string | null, url: string): boolean {
  const m = medium?.trim().toLowerCase();
  if (m) return m === 'image';
  if (type !== null) return type.startsWith('image/');
  try {
    return IMAGE_PATH.test(new URL(url).pathname);
  } catch {
    return false;
  }
}

// RFC 6838 §4.2 restricted names; parameters (`; codecs=…`) are dropped.
const MIME_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/;

function mimeType(raw: string | undefined): string | null {
  const type = (raw ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return MIME_TYPE.test(type) ? type : null;
}

/** A size in bytes (or a pixel width): a positive integer, else unknown. "0" is how feeds say unknown. */
function byteLength(raw: string | undefined): number | null {
  const t = (raw ?? '').trim();
  if (!/^\d{1,16}$/.test(t)) return null;
  const n = Number(t);
  return n > 0 && Number.isSafeInteger(n) ? n : null;
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

/** The base URI in scope (XML Base, RFC 3986 §5.1) and whether a document declared it. */
interface Base {
  readonly url: string;
  readonly explicit: boolean;
}

/**
 * Apply an element's xml:base, resolved against the enclosing base (nested bases compose). rss-parser
 * drops xml:base from its own output; we read it from the raw attributes (`$`) that the root (via the
 * validator), each item (via customFields) and each child element carry, walking down in document
 * order, so no second parse or regex scan of the document is needed.
 */
function withBase(base: Base, node: XmlElement): Base {
  const declared = node.$?.['xml:base'];
  if (declared === undefined) return base;
  try {
    return { url: new URL(declared.trim(), base.url).href, explicit: true };
  } catch {
    return base;
  }
}

function httpUrl(ref: string, base: string | null): string | null {
  const trimmed = ref.trim();
  if (!trimmed) return null;
  try {
    const url = base === null ? new URL(trimmed) : new URL(trimmed, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

function origin(name: string | null, url: string | null, id: string | null): OriginRef | null {
  return name === null && url === null && id === null ? null : { name, url, id };
}

function dateOf(node: XmlElement, name: string): Date | null {
  return parseDate(text(first(node, name)));
}

/** RSS <author> is "email (Name)" (RSS 2.0 spec); keep the name when there is one. */
function authorText(raw: string): string | null {
  const named = /^\s*\S+@\S+\s*\((.+)\)\s*$/.exec(raw);
  return plainText(named?.[1] ?? raw);
}

function plainText(html: string | null): string | null {
  return html === null ? null : nonEmpty(htmlToText(html));
}

function nonEmpty(s: string): string | null {
  return s.trim() === '' ? null : s;
}
