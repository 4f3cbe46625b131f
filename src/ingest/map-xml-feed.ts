// RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 element trees (as parse-feed.ts builds them) to ParsedFeed.
// Pure: no I/O, no rss-parser types; every URL made absolute here, every text settled as HTML or text.
import type { OriginRef, ParsedFeed, ParsedItem } from '../domain.js';
import { feedSchedule } from './feed-schedule.js';
import { parseDate } from './parse-date.js';
import { escapeHtml, htmlToText, resolveHtmlUrls } from './sanitize-html.js';
import { all, attr, first, text, type XmlElement, type XmlParse } from './xml-element.js';

/** Map a parsed XML feed document to ParsedFeed, by its root element (<feed> is Atom, else RSS). */
export function mapXmlFeed(doc: XmlParse, feedUrl: string): ParsedFeed {
  return doc.rootName === 'feed' ? atomFeed(doc, feedUrl) : rssFeed(doc, feedUrl);
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
  return {
    format: 'rss',
    title: plainText(rssTitle(first(channel, 'title'))),
    homeUrl,
    items: items.map((item) => rssItem(item, itemBase)),
    schedule: feedSchedule(doc),
  };
}

function rssItem(node: XmlElement, parentBase: Base): ParsedItem {
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
  return {
    format: 'atom',
    title: plainText(textConstruct(first(root, 'title'))),
    homeUrl: pickLink(all(root, 'link'), base),
    items: items.map((entry) => atomEntry(entry, base, feedAuthor)),
    schedule: feedSchedule(doc),
  };
}

function atomEntry(node: XmlElement, parentBase: Base, feedAuthor: string | null): ParsedItem {
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
