import { parse } from 'tldts';

// The politeness key of a URL: which budget (concurrent requests, gap, Retry-After pause) a request
// to it draws on. Issue #3 keys budgets by registrable domain so a publisher's many subdomains
// (feeds.bbci.co.uk, www.bbci.co.uk) share one: they are one operator's servers and one operator's
// rate limiter.
//
// Public suffix list sections: we use ICANN *and* private suffixes. The private section lists names
// under which unrelated parties get their own sites (blogspot.com, github.io, s3.amazonaws.com); it
// exists so that each such site is treated as its own registrable domain. With it, a.blogspot.com
// and b.blogspot.com are two publishers: a 429 from one does not pause the other, and a river of many
// hosted blogs is not squeezed through one 2-request budget. The cost: several tenants of one platform
// may be fetched in parallel — platforms built to host thousands of sites serve that routinely.

const tldOptions = { allowPrivateDomains: true, extractHostname: false } as const;

/**
 * The registrable domain (eTLD+1, lower-case) of an http(s) URL's host; IP literals (IPv4, or IPv6
 * without its brackets) as the address itself; hosts with no registrable domain (localhost,
 * single-label names, names under a TLD the public suffix list does not know, a public suffix
 * itself) as the hostname itself. Null when the string is not an http(s) URL with a host.
 */
export function hostKeyFor(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  // Only what we fetch needs a budget; other schemes have no host or an opaque one.
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  // The WHATWG parser has already lower-cased, converted IDNs to punycode (so bücher.de and
  // xn--bcher-kva.de share a key) and normalised IPv4 forms (0x7f.1 -> 127.0.0.1) and IPv6
  // (compressed, in brackets). A trailing dot names the same host (RFC 1034 §3.1 absolute name).
  let host = parsed.hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) return host.slice(1, -1);
  host = host.replace(/\.+$/, '');
  if (host === '') return null;
  const info = parse(host, tldOptions);
  if (info.isIp) return host;
  // Neither flag set means no list rule matched and tldts fell back to the list's default "*" rule,
  // i.e. it guessed the last label is a TLD (foo.internal, x.example). We do not know where such a
  // name's registration boundary is, so the host stands alone rather than sharing a guessed budget.
  if (info.domain && (info.isIcann || info.isPrivate)) return info.domain;
  return host;
}
