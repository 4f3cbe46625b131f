// The canonical URL is the story's identity across feeds: two feeds carrying the same story with
// different tracking, ports, fragments or parameter order must reach the same string. Each rule here
// is an equivalence that RFC 3986 §6 or common practice guarantees; nothing is guessed (no "www."
// stripping, no trailing-slash changes, no http -> https), because a wrong merge loses a story.
// Changing these rules changes identity keys: it needs a migration that recomputes them.
import { isTrackingParam } from './tracking-params.js';

/**
 * Canonical form of an absolute http(s) URL, or null when `raw` is not one (after resolving against
 * `base`, when given). Rules:
 * - scheme and host lower-cased, IDN hosts in punycode, default port removed (WHATWG URL does these);
 * - `user:pass@` removed (credentials never identify a story, and must not be republished);
 * - fragment removed (RFC 3986 §3.5: it is resolved by the client, the resource is the same);
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
  let url: URL;
  try {
    url = base === undefined ? new URL(trimmed) : new URL(trimmed, base);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (!url.hostname) return null;
  const path = normalizePercentEncoding(url.pathname);
  const query = canonicalQuery(url.search);
  return `${url.protocol}//${url.host}${path}${query}`;
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

function canonicalQuery(search: string): string {
  if (search.length <= 1) return '';
  // Work on the raw pairs, not URLSearchParams: re-serialising through it would rewrite encodings
  // (spaces as "+", "~" and "'" escaped), and servers do not all treat those as equal.
  const kept: { name: string; pair: string }[] = [];
  for (const pair of search.slice(1).split('&')) {
    if (!pair) continue; // "a=1&&b=2": empty pairs carry nothing
    const rawName = pair.split('=', 1)[0] ?? '';
    const name = decodeComponent(rawName);
    if (isTrackingParam(name)) continue;
    kept.push({ name, pair: normalizePercentEncoding(pair) });
  }
  if (kept.length === 0) return '';
  // Array.prototype.sort is stable (ES2019), which keeps repeated names in their published order.
  kept.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return `?${kept.map((k) => k.pair).join('&')}`;
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
