// Two forms of a story's URL:
// - canonicalUrl(): the display form, what the river links to. Each rule is an equivalence that
//   RFC 3986 §6 guarantees, or a mapping that is certain by the documented design of the thing that
//   produced the URL (tracking parameters, AMP caches and viewers, AMP endpoints). It never invents
//   a URL the publisher did not serve: no "www." stripping, no http -> https, trailing slash kept.
// - identityUrl(): the identity form, used only inside identity keys (src/ingest/identity.ts), never
//   shown. It also folds the differences a publisher's one site commonly shows under several
//   spellings: http/https, "www."/bare/"amp." host, a trailing slash, a directory index file.
// Both are part of the identity contract: changing a rule changes identity keys, so it needs a bump of
// IDENTITY_VERSION (identity.ts), whose migration (store/reidentify.ts) recomputes stored keys.
//
// AMP (Accelerated Mobile Pages) mappings, all in canonicalUrl(), and why each is certain:
// - AMP cache URLs: https://<sub>.cdn.ampproject.org/c/s/www.example.com/story is, by the AMP cache
//   URL format (amp.dev "AMP cache URL format"), a copy of https://www.example.com/story: `/c/` a
//   document (`/v/` the same document in a viewer), `s/` an https origin (absent: http), then the
//   origin's host and path, and the origin's query. The caches listed by the AMP project's
//   caches.json are Google's (cdn.ampproject.org) and Bing's (bing-amp.com); no one else can serve
//   under those names. The `<sub>` label only isolates origins in the browser: the path is authoritative.
// - Google's AMP viewer: https://www.google.<tld>/amp/s/www.example.com/story is the same mapping.
// - Viewer parameters `amp_js_v` (the AMP runtime version a viewer appends) and `usqp` (Google's
//   viewer experiment flag) say nothing about the page: removed everywhere.
// - `?amp`, `?amp=1` (the WordPress AMP plugin's query form) and `?outputType=amp` (Arc XP, e.g. the
//   Washington Post) select the AMP rendering of the very same article: removed.
// - A final path segment `amp` (`/2026/11/story/amp/` or `/2026/11/story/amp`): the WordPress AMP
//   endpoint convention (and Drupal's, Ghost's). The page before it is the article. Mapped only when
//   a segment precedes it (`/amp` alone is a site's AMP section, not an article).
// Deliberately NOT mapped (not certain, a wrong merge loses a story):
// - an `amp` segment elsewhere in the path (`/news/amp/world-1` is the BBC's AMP form, but `/amp/`
//   is also a section name: amplifier reviews, the AMP project's own docs);
// - `.amp.html` suffixes (`story.amp.html` -> `story.html` is one publisher's convention only);
// - the `amp.` host prefix in the display form (amp.example.com does not promise that
//   www.example.com or example.com serves the article): identityUrl() folds it instead, since the
//   publisher is the same and the path is the article's.
import { getDomain } from 'tldts';
import { isTrackingParam } from './tracking-params.js';

/**
 * Canonical (display) form of an absolute http(s) URL, or null when `raw` is not one (after
 * resolving against `base`, when given). Rules:
 * - scheme and host lower-cased, IDN hosts in punycode, default port removed (WHATWG URL does these);
 * - `user:pass@` removed (credentials never identify a story, and must not be republished);
 * - fragment removed (RFC 3986 §3.5: it is resolved by the client, the resource is the same);
 * - AMP cache and Google AMP viewer URLs unwrapped to the origin URL; AMP endpoints and parameters
 *   mapped to the plain article (see the header for the exact cases and why each is certain);
 * - tracking parameters removed (tracking-params.ts), the rest sorted by name, stably (repeated
 *   names keep their relative order, since `a=1&a=2` and `a=2&a=1` may differ); an empty `?` dropped;
 * - percent-encoding normalised in path and query (RFC 3986 §6.2.2.1-2: hex digits upper-cased,
 *   unreserved characters decoded), dot segments removed (§6.2.2.3, done by WHATWG URL);
 * - a trailing slash is kept as published.
 */
export function canonicalUrl(raw: string, base?: string): string | null {
  if (typeof raw !== 'string') return null;
  const trimmed = raw.trim();
  if (!trimmed) return null;
  let url = parseHttpUrl(trimmed, base);
  if (!url) return null;
  url = unwrapAmpCache(url) ?? url;
  const path = stripAmpSegment(normalizePercentEncoding(url.pathname));
  const query = canonicalQuery(url.search);
  return `${url.protocol}//${url.host}${path}${query}`;
}

/**
 * Identity form of a canonical URL: what two spellings of one story on one site have in common.
 * Folds, on top of canonicalUrl():
 * - http and https (a site serving both serves one story at both; no port given only, since an
 *   explicit port is a separate service): https is written;
 * - a leading `www.` or `amp.` label on the host (the publisher's own hosts; amp.example.com serves the
 *   AMP rendering of example.com's articles at the same paths), when what remains is still a
 *   registrable domain or below (never `www.co.uk` -> `co.uk`, never on IP addresses);
 * - a final `index.html`, `index.htm` or `index.php` segment (the directory index a web server
 *   serves for the directory itself: Apache's DirectoryIndex, nginx's index);
 * - trailing slashes on a non-root path (`/story/` and `/story`: CMSs redirect one to the other).
 * Anything that is not an http(s) URL is returned unchanged. Idempotent, and a fixed point of
 * canonicalUrl(), so a key computed from a stored identity form is the key itself.
 */
export function identityUrl(canonical: string): string {
  let current = canonicalUrl(canonical) ?? canonical;
  // Folds can expose another rule's input (`/story/amp/index.html` -> `/story/amp` -> `/story`):
  // apply them until nothing changes. Each round only shortens the URL, so this ends quickly.
  for (let round = 0; round < 8; round++) {
    const folded = foldOnce(current);
    const next = folded === current ? current : (canonicalUrl(folded) ?? folded);
    if (next === current) return current;
    current = next;
  }
  return current;
}

/** Host of a URL for attribution matching: lower-case, without a leading "www.". Null when invalid. */
export function urlHost(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const host = new URL(url.trim()).hostname.toLowerCase();
    if (!host) return null;
    return host.startsWith('www.') ? host.slice(4) : host;
  } catch {
    return null;
  }
}

function parseHttpUrl(s: string, base?: string): URL | null {
  let url: URL;
  try {
    url = base === undefined ? new URL(s) : new URL(s, base);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (!url.hostname) return null;
  return url;
}

/** AMP caches of the AMP project's caches.json: Google's and Bing's. */
const AMP_CACHE_HOST = /(?:^|\.)(?:cdn\.ampproject\.org|bing-amp\.com)$/;
/** Google's own domains (google.com, google.de, google.co.uk, google.com.au), with or without www. */
const GOOGLE_HOST = /^(?:www\.)?google\.(?:com|[a-z]{2}|co\.[a-z]{2}|com\.[a-z]{2})$/;

/** The origin URL of an AMP cache or Google AMP viewer URL; null when `url` is neither. */
function unwrapAmpCache(url: URL): URL | null {
  let rest: string | null = null;
  if (AMP_CACHE_HOST.test(url.hostname)) {
    // /c/ document, /v/ document in a viewer; /i/ (images) and /r/ (resources) are not stories.
    rest = /^\/[cv]\/(.+)$/.exec(url.pathname)?.[1] ?? null;
  } else if (GOOGLE_HOST.test(url.hostname)) {
    rest = /^\/amp\/(.+)$/.exec(url.pathname)?.[1] ?? null;
  }
  if (rest === null) return null;
  const secure = rest.startsWith('s/');
  const originPath = secure ? rest.slice(2) : rest;
  // The origin part must start with a host name (with a dot): anything else is not a cache URL
  // we understand, and is left alone rather than guessed at.
  if (!/^[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?(?:\/|$)/i.test(originPath)) return null;
  const origin = parseHttpUrl(`${secure ? 'https' : 'http'}://${originPath}${url.search}`);
  if (!origin) return null;
  // A cache URL of a cache URL (seen in the wild when viewers nest): unwrap all the way.
  return unwrapAmpCache(origin) ?? origin;
}

/** `/story/amp/` -> `/story/`, `/story/amp` -> `/story`; `/amp` and `/amp/` alone are kept. */
function stripAmpSegment(path: string): string {
  const m = /^(\/.*[^/]\/)amp(\/?)$/.exec(path);
  if (!m) return path;
  const before = m[1] ?? '/';
  // Keep the published trailing-slash style: `/story/amp/` -> `/story/`, `/story/amp` -> `/story`.
  return m[2] ? before : before.slice(0, -1);
}

/** An AMP rendering switch or AMP viewer parameter (see the header): removed from the query. */
function isAmpParam(name: string, value: string | null): boolean {
  const lower = name.toLowerCase();
  if (lower === 'amp_js_v' || lower === 'usqp') return true;
  if (lower === 'amp') return value === null || value === '' || value === '1';
  if (lower === 'outputtype') return value !== null && value.toLowerCase() === 'amp';
  return false;
}

function canonicalQuery(search: string): string {
  if (search.length <= 1) return '';
  // Work on the raw pairs, not URLSearchParams: re-serialising through it would rewrite encodings
  // (spaces as "+", "~" and "'" escaped), and servers do not all treat those as equal.
  const kept: { name: string; pair: string }[] = [];
  for (const pair of search.slice(1).split('&')) {
    if (!pair) continue; // "a=1&&b=2": empty pairs carry nothing
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? null : decodeComponent(pair.slice(eq + 1));
    if (isTrackingParam(name) || isAmpParam(name, value)) continue;
    kept.push({ name, pair: normalizePercentEncoding(pair) });
  }
  if (kept.length === 0) return '';
  // Array.prototype.sort is stable (ES2019), which keeps repeated names in their published order.
  kept.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return `?${kept.map((k) => k.pair).join('&')}`;
}

/** Host labels that name the publisher's own site under another spelling. */
const FOLDED_HOST_PREFIXES = ['www.', 'amp.'] as const;
const INDEX_FILE = /\/index\.(?:html?|php)$/;

/** One round of the identity folds over a canonical URL. */
function foldOnce(canonical: string): string {
  const url = parseHttpUrl(canonical);
  if (!url) return canonical;
  const scheme = url.port === '' ? 'https:' : url.protocol;
  let host = url.hostname;
  const prefix = FOLDED_HOST_PREFIXES.find((p) => host.startsWith(p));
  // getDomain is null for a public suffix (co.uk, github.io, blogspot.com) and for names with no
  // registrable part (localhost, "example"): then the label is the publisher's name itself.
  if (prefix && getDomain(host.slice(prefix.length), { allowPrivateDomains: true }) !== null) host = host.slice(prefix.length);
  let path = url.pathname.replace(INDEX_FILE, '/');
  if (path !== '/') path = path.replace(/\/+$/, '') || '/';
  const port = url.port === '' ? '' : `:${url.port}`;
  // url.host would repeat the brackets of an IPv6 literal; hostname keeps them too, so use it as is.
  return `${scheme}//${host}${port}${path}${url.search}`;
}

function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s; // malformed escapes: compare the raw text
  }
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Upper-case percent-encoding hex digits and decode escaped unreserved characters (RFC 3986 §6.2.2). */
function normalizePercentEncoding(s: string): string {
  return s.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}
