// Where an aggregator's item really comes from, as far as the item itself says (issue #4). Pure.
//
// The order for what is in the document: dc:source first (a URL the aggregator states in markup
// meant for machines), then an attribution link in the content ("You can view this story on their
// website by CLICKING HERE", "Originally published at …", "Source: …"). The RSS <source url> names
// the publisher's *feed*, not the story, so it is used for credit (attribute.ts), not here; the
// page's rel=canonical is resolved elsewhere and slots in between the two.
import { HTMLElement, TextNode } from 'node-html-parser';
import type { ParsedItem } from '../domain.js';
import { hostKeyFor } from './host-key.js';
import { foldText, isBlock, isNonText, parseFragment, tagOf } from './strip-content.js';

/**
 * How an attribution phrase sits relative to its link:
 * - `adjacent`: only spaces and punctuation between phrase and link ("Source: <a>", "via <a>");
 *   used for short phrases that are everyday words elsewhere ("spoke via video link, <a>…");
 * - `near`: a few connecting words between them, within one sentence ("view this story on their
 *   website by <a>CLICKING HERE</a>"), before or after the link.
 * A link whose own text starts with a phrase ("<a>Read the original</a>") always qualifies.
 */
export interface AttributionPhrase {
  readonly phrase: string;
  readonly reach: 'adjacent' | 'near';
}

/** Written as folded text is (lower-case, one space between words); matched on word boundaries. */
export const ATTRIBUTION_PHRASES: readonly AttributionPhrase[] = [
  { phrase: 'view this story on their website', reach: 'near' },
  { phrase: 'view the original story', reach: 'near' },
  { phrase: 'originally published at', reach: 'near' },
  { phrase: 'originally published on', reach: 'near' },
  { phrase: 'originally published by', reach: 'near' },
  { phrase: 'originally appeared at', reach: 'near' },
  { phrase: 'originally appeared on', reach: 'near' },
  { phrase: 'read the original', reach: 'near' },
  { phrase: 'read the full story at', reach: 'near' },
  { phrase: 'read the full story on', reach: 'near' },
  { phrase: 'continue reading at', reach: 'near' },
  { phrase: 'continue reading on', reach: 'near' },
  { phrase: 'read more at', reach: 'near' },
  { phrase: 'read more on', reach: 'near' },
  { phrase: 'source:', reach: 'adjacent' },
  { phrase: 'via', reach: 'adjacent' },
];

/** Most characters of connecting words a `near` phrase may be from its link ("… website by "). */
const NEAR_GAP = 40;

/**
 * Query parameters that redirect and click-tracking wrappers carry the destination in
 * (`/redirect?url=…`, google.com/url?q=…, l.facebook.com/l.php?u=…): the wrapper is unwrapped, so an
 * aggregator's own tracking link to the publisher counts as a link to the publisher.
 */
const REDIRECT_PARAMS = ['url', 'u', 'q', 'target', 'dest', 'destination', 'redirect', 'redirect_url', 'redirect_uri', 'to', 'link', 'out', 'goto', 'r'];

export interface OriginalUrl {
  readonly url: string;
  readonly from: 'dc:source' | 'attribution-link';
}

/**
 * The original story URL an aggregator's item names: its dc:source when that is an http(s) story
 * URL off the aggregator's host, else the attribution link in its content (contentHtml, then
 * summaryHtml). Relative links resolve against the item's link. The URL is returned as published
 * (tracking parameters included): canonicalising it is the caller's next step.
 */
export function findOriginalUrl(
  item: Pick<ParsedItem, 'link' | 'contentHtml' | 'summaryHtml' | 'dcSource'>,
  aggregatorHost: string | null,
): OriginalUrl | null {
  const ownKey = ownHostKey(aggregatorHost);
  const dcSource = item.dcSource ? storyUrl(item.dcSource, null) : null;
  if (dcSource !== null && !isOwn(dcSource, ownKey)) return { url: dcSource, from: 'dc:source' };
  for (const html of [item.contentHtml, item.summaryHtml]) {
    if (!html) continue;
    const url = findAttributionLink(html, aggregatorHost, item.link);
    if (url !== null) return { url, from: 'attribution-link' };
  }
  return null;
}

/**
 * The first link (in document order) that an attribution phrase introduces and that points off
 * `ownHost` (compared by registrable domain, so www.agg.example and c.agg.example are both "own").
 * `ownHost` may be a host name or a URL; null accepts any host. Relative hrefs count only when
 * `baseUrl` resolves them. Links to a site's front page are not story URLs and are passed over.
 */
export function findAttributionLink(html: string, ownHost: string | null, baseUrl: string | null = null): string | null {
  const ownKey = ownHostKey(ownHost);
  try {
    for (const anchor of anchorsInOrder(parseFragment(html))) {
      const href = anchor.getAttribute('href');
      if (!href) continue;
      const url = storyUrl(href, baseUrl);
      if (url === null || isOwn(url, ownKey)) continue;
      if (isIntroduced(anchor)) return url;
    }
  } catch {
    // Pathological markup (nesting deep enough to exhaust the stack) names no attribution we can trust.
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// URLs

/** The aggregator's host (without "www.") and registrable domain. */
interface OwnHost {
  readonly host: string;
  readonly key: string | null;
}

function ownHostKey(ownHost: string | null): OwnHost | null {
  if (!ownHost) return null;
  const trimmed = ownHost.trim();
  const url = trimmed.includes('://') ? trimmed : `https://${trimmed}/`;
  const host = bareHost(url);
  return host === null ? null : { host, key: hostKeyFor(url) };
}

/**
 * On the aggregator's own site: the same registrable domain (c.newsnow.co.uk is NewsNow's as much
 * as www.newsnow.co.uk), or, for hosts the public suffix list cannot place, the host or a subdomain.
 */
function isOwn(url: string, own: OwnHost | null): boolean {
  if (own === null) return false;
  const host = bareHost(url);
  if (host === null) return false;
  return host === own.host || host.endsWith(`.${own.host}`) || (own.key !== null && hostKeyFor(url) === own.key);
}

function bareHost(url: string): string | null {
  try {
    const host = new URL(url).hostname.toLowerCase();
    return host.startsWith('www.') ? host.slice(4) : host || null;
  } catch {
    return null;
  }
}

/**
 * An absolute http(s) URL for `href` (resolved against `base` when relative), unwrapped from
 * redirect wrappers, or null when it is not one or names only a site's front page.
 */
function storyUrl(href: string, base: string | null): string | null {
  let url = httpUrl(href, base);
  // Wrappers can nest (a tracker around a redirector); a few levels is all real links use.
  for (let depth = 0; url !== null && depth < 3; depth++) {
    const inner = wrappedUrl(url);
    if (inner === null) break;
    url = inner;
  }
  if (url === null) return null;
  const parsed = new URL(url);
  return parsed.pathname === '/' && parsed.search === '' ? null : url;
}

function httpUrl(ref: string, base: string | null): string | null {
  const trimmed = ref.trim();
  if (!trimmed) return null;
  try {
    const url = base === null ? new URL(trimmed) : new URL(trimmed, base);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' ? url.href : null;
  } catch {
    return null;
  }
}

function wrappedUrl(url: string): string | null {
  const params = new URL(url).searchParams;
  for (const name of REDIRECT_PARAMS) {
    const value = params.get(name);
    if (value && /^https?:\/\//i.test(value.trim())) return httpUrl(value, null);
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Phrases

const ANCHOR = '\u0000';
const BREAK = '\u0001';

function anchorsInOrder(root: HTMLElement): HTMLElement[] {
  const out: HTMLElement[] = [];
  const walk = (el: HTMLElement): void => {
    for (const child of el.childNodes) {
      if (!(child instanceof HTMLElement) || isNonText(child)) continue;
      if (tagOf(child) === 'a') out.push(child);
      walk(child);
    }
  };
  walk(root);
  return out;
}

/** Whether an attribution phrase introduces the link: in its own text, or beside it in its block. */
function isIntroduced(anchor: HTMLElement): boolean {
  const own = foldText(anchor.text).trim();
  if (ATTRIBUTION_PHRASES.some(({ phrase }) => startsWithPhrase(own, phrase))) return true;
  const { before, after } = textBeside(anchor);
  return ATTRIBUTION_PHRASES.some((p) => endsNear(before, p) || (p.reach === 'near' && startsNear(after, p.phrase)));
}

/**
 * The folded text of the link's line (its nearest block, or the loose text around it, up to the
 * nearest block boundary or <br>) before and after the link.
 */
function textBeside(anchor: HTMLElement): { before: string; after: string } {
  let container: HTMLElement = anchor;
  while (container.parentNode !== null && !isBlock(container)) container = container.parentNode;
  let line = '';
  const walk = (el: HTMLElement): void => {
    for (const child of el.childNodes) {
      if (child instanceof TextNode) line += child.text;
      else if (child instanceof HTMLElement) {
        if (child === anchor) line += ANCHOR;
        else if (isNonText(child)) continue;
        else if (isBlock(child) || tagOf(child) === 'br') {
          line += BREAK;
          walk(child);
          line += BREAK;
        } else walk(child);
      }
    }
  };
  walk(container);
  const at = line.indexOf(ANCHOR);
  const before = line.slice(0, at).split(BREAK).pop() ?? '';
  const after = line.slice(at + 1).split(BREAK)[0] ?? '';
  return { before: foldText(before), after: foldText(after) };
}

function startsWithPhrase(text: string, phrase: string): boolean {
  return text.startsWith(phrase) && isBoundary(text, phrase.length);
}

/** The phrase ends just before the link: only punctuation between (adjacent), or a few words of one sentence (near). */
function endsNear(before: string, { phrase, reach }: AttributionPhrase): boolean {
  const at = lastPhraseAt(before, phrase);
  if (at === -1) return false;
  const gap = before.slice(at + phrase.length);
  if (reach === 'adjacent') return /^[\s:,\-–—]*$/.test(gap);
  return gap.length <= NEAR_GAP && !/[.!?]/.test(gap);
}

/** The phrase follows the link within a few words of the same sentence ("<a>Click here</a> to read the original"). */
function startsNear(after: string, phrase: string): boolean {
  const at = firstPhraseAt(after, phrase);
  if (at === -1) return false;
  const gap = after.slice(0, at);
  return gap.length <= NEAR_GAP && !/[.!?]/.test(gap);
}

function lastPhraseAt(text: string, phrase: string): number {
  for (let at = text.lastIndexOf(phrase); at !== -1; at = at === 0 ? -1 : text.lastIndexOf(phrase, at - 1)) {
    if (isBoundary(text, at) && isBoundary(text, at + phrase.length)) return at;
  }
  return -1;
}

function firstPhraseAt(text: string, phrase: string): number {
  for (let at = text.indexOf(phrase); at !== -1; at = text.indexOf(phrase, at + 1)) {
    if (isBoundary(text, at) && isBoundary(text, at + phrase.length)) return at;
  }
  return -1;
}

/** A word boundary at `i`: "via" must not match inside "aviation" or "viable". */
function isBoundary(text: string, i: number): boolean {
  const a = text[i - 1];
  const b = text[i];
  return a === undefined || b === undefined || !(isWordChar(a) && isWordChar(b));
}

function isWordChar(ch: string): boolean {
  return /[\p{L}\p{N}_]/u.test(ch);
}
