// Interpreting an HTTP response, kept apart from doing the request (fetch-feed.ts): every function
// here is pure over status codes, header values and bytes, so it is tested with built responses.
import { STATUS_CODES } from 'node:http';
import type { CacheValidators, ResponseHints } from '../domain.js';

/** Response headers as undici (and node:http) hand them over: lower-cased names, repeated ones as arrays. */
export type HeaderMap = Readonly<Record<string, string | readonly string[] | undefined>>;

/** The first value of a header, looked up case-insensitively; null when absent or empty. */
export function headerValue(headers: HeaderMap, name: string): string | null {
  const wanted = name.toLowerCase();
  let raw = headers[wanted];
  if (raw === undefined) {
    for (const [key, value] of Object.entries(headers)) {
      if (key.toLowerCase() === wanted) {
        raw = value;
        break;
      }
    }
  }
  const value = typeof raw === 'string' ? raw : raw?.[0];
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
}

/** A list-valued header (Cache-Control) with repeated field lines joined by commas, which RFC 9110
 * §5.3 makes equivalent to one line; null when absent or empty. */
export function headerList(headers: HeaderMap, name: string): string | null {
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    values.push(...(typeof value === 'string' ? [value] : value));
  }
  const joined = values
    .map((v) => v.trim())
    .filter((v) => v !== '')
    .join(', ');
  return joined || null;
}

// ---------------------------------------------------------------------------------------------
// Status codes

export type StatusClass = 'ok' | 'not-modified' | 'redirect' | 'error';

/** Redirects we follow ourselves (RFC 9110 §15.4). 300 and 305/306 are not automatic redirects. */
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** What the fetch stage does with a status: keep the body, keep the old copy, follow, or fail. */
export function classifyStatus(status: number): StatusClass {
  if (status >= 200 && status <= 299) return 'ok';
  if (status === 304) return 'not-modified';
  if (REDIRECT_STATUSES.has(status)) return 'redirect';
  return 'error';
}

/** RFC 9110 §15.4.5: 304 means our stored copy (identified by the validators we sent) is current. */
export function isNotModified(status: number): boolean {
  return status === 304;
}

/** 204 and 205 never carry content (RFC 9110 §15.3.5, §15.3.6); such a 2xx is an empty feed body. */
export function hasNoContent(status: number): boolean {
  return status === 204 || status === 205;
}

/** Redirects that say the resource moved for good (RFC 9110 §15.4.2, §15.4.9): a client may update
 * its stored link. 302/303/307 are temporary and are followed without being remembered. */
export function isPermanentRedirect(status: number): boolean {
  return status === 301 || status === 308;
}

/** One redirect followed: the status that sent us on and where to (already resolved). */
export interface RedirectHop {
  readonly status: number;
  readonly location: string;
}

/**
 * Where the feed now lives, as far as the publisher said so permanently: the target of the last
 * hop in the chain's *leading* run of 301/308. 301 -> 301 -> 200 gives the final URL; 301 -> 302
 * gives the 301's target (only that move was declared permanent); a chain that starts with a
 * temporary redirect gives null, since the configured URL is still the entry point.
 */
export function permanentRedirectTarget(hops: readonly RedirectHop[]): string | null {
  let target: string | null = null;
  for (const hop of hops) {
    if (!isPermanentRedirect(hop.status)) break;
    target = hop.location;
  }
  return target;
}

/** "404 Not Found": the status with its reason phrase (the server's, else the standard one). */
export function describeStatus(status: number, statusText?: string | null): string {
  const text = statusText?.trim() || STATUS_CODES[status] || '';
  return text ? `${status} ${text}` : String(status);
}

// ---------------------------------------------------------------------------------------------
// Conditional requests (RFC 9110 §13)

/** The validators a response offers for the next conditional request. */
export function cacheValidators(headers: HeaderMap): CacheValidators {
  return {
    etag: usableValidator(headerValue(headers, 'etag')),
    lastModified: usableValidator(headerValue(headers, 'last-modified')),
  };
}

/**
 * Request headers for a conditional GET. The validators are sent back exactly as received:
 * If-None-Match with the entity tag (weak tags are fine, §13.1.2 uses weak comparison), and
 * If-Modified-Since with the Last-Modified string itself, since many servers compare it as a
 * string rather than as a date (§13.1.3 recommends echoing the received value).
 */
export function conditionalHeaders(validators: CacheValidators): Record<string, string> {
  const headers: Record<string, string> = {};
  const etag = usableValidator(validators.etag);
  const lastModified = usableValidator(validators.lastModified);
  if (etag) headers['if-none-match'] = etag;
  if (lastModified) headers['if-modified-since'] = lastModified;
  return headers;
}

/** Validators come from publishers and from our database: drop empty ones and any that could not
 * be sent back as a header value (control characters would make the request itself fail). */
function usableValidator(value: string | null): string | null {
  const trimmed = value?.trim();
  if (!trimmed) return null;
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(trimmed)) return null;
  return trimmed;
}

// ---------------------------------------------------------------------------------------------
// Body size and content codings

/** Content-Length as a number; null when absent or not a single non-negative integer. */
export function contentLength(headers: HeaderMap): number | null {
  const value = headerValue(headers, 'content-length');
  if (value === null || !/^\d+$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : null;
}

export type ContentCoding = 'gzip' | 'deflate' | 'br';

/**
 * The content codings applied to the body, in the order they were applied (RFC 9110 §8.4: the
 * header lists them in application order, so decoding runs the list backwards). `identity` is a
 * no-op; `x-gzip` is gzip (§8.4.1.3). An unsupported coding is returned as-is so the caller can
 * name it in its error.
 */
export function contentCodings(headers: HeaderMap): string[] {
  const value = headerValue(headers, 'content-encoding');
  if (value === null) return [];
  return value
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity')
    .map((c) => (c === 'x-gzip' ? 'gzip' : c));
}

export function isSupportedCoding(coding: string): coding is ContentCoding {
  return coding === 'gzip' || coding === 'deflate' || coding === 'br';
}

/**
 * "deflate" is meant to be a zlib stream (RFC 9110 §8.4.1.2, RFC 1950) but some servers send raw
 * deflate (RFC 1951). A zlib stream starts with a CMF byte whose method is 8 and a FLG byte that
 * makes the 16-bit header a multiple of 31 (RFC 1950 §2.2); anything else is taken as raw.
 */
export function isZlibHeader(bytes: Uint8Array): boolean {
  const cmf = bytes[0];
  const flg = bytes[1];
  if (cmf === undefined || flg === undefined) return false;
  return (cmf & 0x0f) === 8 && cmf >> 4 <= 7 && (cmf * 256 + flg) % 31 === 0;
}

// ---------------------------------------------------------------------------------------------
// Character encoding

/** A charset label normalised to its WHATWG Encoding name (iso-8859-1 -> windows-1252, utf-16 ->
 * utf-16le, gb2312 -> gbk); null when the label names nothing TextDecoder can decode. */
export function normalizeCharset(label: string | null | undefined): string | null {
  const trimmed = label?.trim().replace(/^["']|["']$/g, '');
  if (!trimmed) return null;
  try {
    return new TextDecoder(trimmed).encoding;
  } catch {
    // RangeError for unknown labels and for the "replacement" encodings (iso-2022-kr, ...).
    return null;
  }
}

/** The raw `charset` parameter of a Content-Type value (RFC 9110 §8.3.2), unquoted; null if absent. */
export function charsetFromContentType(contentType: string | null): string | null {
  if (!contentType) return null;
  for (const param of contentType.split(';').slice(1)) {
    const eq = param.indexOf('=');
    if (eq < 0) continue;
    if (param.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    const value = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .trim();
    return value || null;
  }
  return null;
}

/** The encoding a byte order mark announces, and the BOM's length (WHATWG Encoding "BOM sniff"). */
export function bomCharset(bytes: Uint8Array): { charset: string; length: number } | null {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { charset: 'utf-8', length: 3 };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { charset: 'utf-16le', length: 2 };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { charset: 'utf-16be', length: 2 };
  return null;
}

/** How far into the document we look for an XML declaration. */
const XML_DECLARATION_SCAN_BYTES = 1024;

const XML_ENCODING = /^\s*<\?xml\s[^>]*?\bencoding\s*=\s*["']([A-Za-z][A-Za-z0-9._:-]*)["']/;

/**
 * The encoding an XML document declares for itself (XML 1.0 §4.3.3 and Appendix F).
 * - UTF-16 without a BOM is recognised by its null-byte pattern around the first '<'.
 * - Otherwise the first KiB is read as latin1, which is enough to find an ASCII declaration in
 *   any ASCII-compatible encoding. A document we could read that way cannot really be UTF-16,
 *   so a declared "UTF-16" there means UTF-8 (the same rule HTML applies to <meta charset>).
 */
export function xmlDeclaredEncoding(bytes: Uint8Array): string | null {
  if (bytes[0] === 0x3c && bytes[1] === 0x00 && bytes[2] !== 0x00 && bytes[3] === 0x00) return 'utf-16le';
  if (bytes[0] === 0x00 && bytes[1] === 0x3c && bytes[2] === 0x00 && bytes[3] !== 0x00) return 'utf-16be';
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, XML_DECLARATION_SCAN_BYTES));
  const match = XML_ENCODING.exec(head.toString('latin1'));
  if (!match?.[1]) return null;
  const charset = normalizeCharset(match[1]);
  return charset === 'utf-16le' || charset === 'utf-16be' ? 'utf-8' : charset;
}

/**
 * Which encoding to decode a feed body with, as a WHATWG encoding name:
 * 1. a byte order mark wins (WHATWG Encoding §6 "decode"; XML 1.0 Appendix F),
 * 2. then the Content-Type charset parameter (RFC 7303 §3.2: it overrides the XML declaration),
 * 3. then the XML declaration's encoding,
 * 4. else UTF-8 (the XML default, and what RFC 8259 requires of JSON Feed).
 * A label TextDecoder does not know is skipped rather than trusted, so the next rule decides.
 */
export function detectCharset(bytes: Uint8Array, contentType: string | null): string {
  return (
    bomCharset(bytes)?.charset ??
    normalizeCharset(charsetFromContentType(contentType)) ??
    xmlDeclaredEncoding(bytes) ??
    'utf-8'
  );
}

/** The body as a string: decoded with detectCharset's choice, BOM removed, invalid bytes as U+FFFD
 * (a feed with a few bad bytes is still worth reading; a strict decoder would throw it all away). */
export function decodeBody(bytes: Uint8Array, contentType: string | null): string {
  const charset = detectCharset(bytes, contentType);
  const bom = bomCharset(bytes);
  const content = bom ? bytes.subarray(bom.length) : bytes;
  const text =
    charset === 'windows-1252'
      ? decodeWindows1252(content)
      : new TextDecoder(charset, { fatal: false, ignoreBOM: true }).decode(content);
  // A BOM of another encoding (say a UTF-8 BOM decoded as windows-1252) is already gone above;
  // strip a stray U+FEFF some servers prepend after transcoding.
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

// WHATWG index-windows-1252 for bytes 0x80-0x9F; every other byte is its own code point.
const WINDOWS_1252_C1 =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

/**
 * windows-1252 (which WHATWG also uses for the iso-8859-1, latin1 and us-ascii labels) decoded by
 * hand: Node 20.18.3+ and 22.13+ decode it as ISO-8859-1, turning curly quotes, dashes and the euro
 * sign of 0x80-0x9F into C1 control characters (nodejs/node#56542, #60888).
 */
export function decodeWindows1252(bytes: Uint8Array): string {
  const latin1 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  return latin1.replace(/[\u0080-\u009f]/g, (c) => WINDOWS_1252_C1[c.charCodeAt(0) - 0x80] ?? c);
}

// ---------------------------------------------------------------------------------------------
// When to ask again: freshness (RFC 9111) and Retry-After (RFC 9110 §10.2.3)
//
// We only use these hints to avoid polling EARLIER than the publisher says; null means "no hint"
// and leaves the schedule to our own interval. Age, clocks and odd values are handled so that a
// hint is never later than the publisher meant.

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const TIME = String.raw`(\d{2}):(\d{2}):(\d{2})`;
// IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT"; rfc850-date "Sunday, 06-Nov-94 08:49:37 GMT";
// asctime-date "Sun Nov  6 08:49:37 1994" (RFC 9110 §5.6.7). Names are matched case-insensitively
// and "UTC" is taken for "GMT", leniencies some servers need; anything else is not a date.
const IMF_FIXDATE = new RegExp(String.raw`^[a-z]{3},\s+(\d{1,2})\s+([a-z]{3})\s+(\d{4})\s+${TIME}\s+(?:GMT|UTC)$`, 'i');
const RFC850_DATE = new RegExp(String.raw`^[a-z]{6,9},\s+(\d{1,2})-([a-z]{3})-(\d{2})\s+${TIME}\s+(?:GMT|UTC)$`, 'i');
const ASCTIME_DATE = new RegExp(String.raw`^[a-z]{3}\s+([a-z]{3})\s+(\d{1,2})\s+${TIME}\s+(\d{4})$`, 'i');

/**
 * An HTTP-date (RFC 9110 §5.6.7) in any of its three formats; null for anything else. Deliberately
 * stricter than Date.parse, which reads "0" or "120" as years and local-time strings as dates.
 * A two-digit rfc850 year more than 50 years ahead of `now` is taken as the past century's.
 */
export function parseHttpDate(value: string | null, now: Date): Date | null {
  const text = value?.trim();
  if (!text) return null;
  let day: string | undefined, month: string | undefined, year: number, time: (string | undefined)[];
  let m = IMF_FIXDATE.exec(text);
  if (m) {
    [day, month] = [m[1], m[2]];
    year = Number(m[3]);
    time = m.slice(4, 7);
  } else if ((m = RFC850_DATE.exec(text))) {
    [day, month] = [m[1], m[2]];
    const thisYear = now.getUTCFullYear();
    year = Math.floor(thisYear / 100) * 100 + Number(m[3]);
    if (year > thisYear + 50) year -= 100;
    time = m.slice(4, 7);
  } else if ((m = ASCTIME_DATE.exec(text))) {
    [month, day] = [m[1], m[2]];
    year = Number(m[6]);
    time = m.slice(3, 6);
  } else {
    return null;
  }
  if (!WEEKDAYS.includes(text.slice(0, 3).toLowerCase())) return null;
  const monthIndex = MONTHS.indexOf(month?.toLowerCase() ?? '');
  const [hh, mm, ss] = time.map(Number) as [number, number, number];
  const d = Number(day);
  if (monthIndex < 0 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60) return null;
  const ms = Date.UTC(year, monthIndex, d, hh, mm, Math.min(ss, 59));
  // Date.UTC rolls 31 Feb over into March: such a date is not a date.
  return new Date(ms).getUTCDate() === d ? new Date(ms) : null;
}

/** RFC 9111 §1.2.2: a delta-seconds too large to represent is taken as 2^31 seconds. */
const MAX_DELTA_SECONDS = 2 ** 31;

/** delta-seconds (1*DIGIT) in ms, capped as RFC 9111 §1.2.2 says; null if not a plain number. */
function deltaSecondsMs(value: string | null | undefined): number | null {
  if (value === null || value === undefined || !/^\d+$/.test(value)) return null;
  return Math.min(Number(value), MAX_DELTA_SECONDS) * 1000;
}

/** A time `ms` after `now`, or null when it falls outside what a Date can hold. */
function after(now: Date, ms: number): Date | null {
  const at = new Date(now.getTime() + ms);
  return Number.isNaN(at.getTime()) ? null : at;
}

/**
 * Retry-After (RFC 9110 §10.2.3) as a time: delay-seconds after `now`, or an HTTP-date. Negative,
 * fractional and unreadable values are null. An HTTP-date is on the publisher's clock, so when
 * the response's own Date header is given the wait is taken as the difference of the two (the
 * same clock-skew correction RFC 9111 §4.2.1 applies to Expires). A moment already past means
 * "retry now" and resolves to `now`.
 */
export function parseRetryAfter(value: string | null, now: Date, date: string | null = null): Date | null {
  const text = value?.trim() ?? '';
  const delay = deltaSecondsMs(text);
  if (delay !== null) return after(now, delay);
  const at = parseHttpDate(text, now);
  if (at === null) return null;
  const serverNow = parseHttpDate(date, now);
  const waitMs = at.getTime() - (serverNow ?? now).getTime();
  return after(now, Math.max(0, waitMs));
}

/**
 * Cache-Control directives (RFC 9111 §5.2): names lower-cased, values unquoted (null when a
 * directive has none). A directive given twice keeps its first value (§4.2.1 allows that).
 * Commas inside quoted values (no-cache="set-cookie, x") do not split directives.
 */
export function cacheControlDirectives(value: string | null): Map<string, string | null> {
  const directives = new Map<string, string | null>();
  // One list element per match; empty elements (", ,") are allowed, as RFC 9110 §5.6.1 asks.
  const pattern = /\s*(?:([^=,\s]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,]*))?)?\s*(?:,|$)/gy;
  const text = value ?? '';
  for (let m = pattern.exec(text); m !== null && m[0] !== ''; m = pattern.exec(text)) {
    const name = m[1]?.toLowerCase();
    if (!name || directives.has(name)) continue;
    const raw = m[2]?.trim();
    const unquoted = raw?.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    directives.set(name, unquoted ?? null);
  }
  return directives;
}

/**
 * The publisher promised no freshness at all: no-store (do not keep it) or an unqualified
 * no-cache (revalidate before every reuse, RFC 9111 §5.2.2.4). `no-cache="field"` only concerns
 * the named fields, so it does not count.
 */
function promisesNoFreshness(directives: Map<string, string | null>): boolean {
  return directives.has('no-store') || (directives.has('no-cache') && !directives.get('no-cache'));
}

/**
 * Cache-Control max-age in ms (RFC 9111 §5.2.2.1); s-maxage is for shared caches and ignored.
 * Our choice for the "don't cache" directives: no-store and no-cache give null ("no hint"),
 * because we only use max-age as a floor on the next poll and those promise nothing. An explicit
 * max-age=0 (with must-revalidate or not) gives 0, which as a floor also means "no wait".
 * A malformed max-age (negative, fractional, garbage) is null.
 */
export function cacheControlMaxAge(value: string | null): number | null {
  const directives = cacheControlDirectives(value);
  if (promisesNoFreshness(directives)) return null;
  return deltaSecondsMs(directives.get('max-age'));
}

/** The Age header (RFC 9111 §5.1) in ms: how long a cache in between has held the response. */
function ageMs(headers: HeaderMap): number {
  return deltaSecondsMs(headerValue(headers, 'age')) ?? 0;
}

/**
 * When the response stops being fresh by its Expires header (RFC 9111 §5.3), on our clock.
 * With a Date header the lifetime is Expires - Date (§4.2.1), which corrects for a publisher
 * whose clock is off, minus the Age a cache in between added; without one, Expires is read
 * against our clock. An invalid Expires ("0", "-1") means "already expired" (§5.3), as does a
 * time already past: both give null, no hint.
 */
export function expiresAt(headers: HeaderMap, now: Date): Date | null {
  const expires = parseHttpDate(headerValue(headers, 'expires'), now);
  if (expires === null) return null;
  const date = parseHttpDate(headerValue(headers, 'date'), now);
  const remainingMs =
    date === null ? expires.getTime() - now.getTime() : expires.getTime() - date.getTime() - ageMs(headers);
  return remainingMs > 0 ? after(now, remainingMs) : null;
}

/**
 * Everything a response says about when to ask again. maxAgeMs is the freshness left: max-age
 * minus Age (RFC 9111 §4.2.3), never below 0. Expires is ignored when max-age is present
 * (RFC 9111 §5.3), even a malformed one, and when no-store/no-cache promise no freshness.
 */
export function responseHints(headers: HeaderMap, now: Date): ResponseHints {
  const cacheControl = headerList(headers, 'cache-control');
  const directives = cacheControlDirectives(cacheControl);
  const maxAge = cacheControlMaxAge(cacheControl);
  const useExpires = !directives.has('max-age') && !promisesNoFreshness(directives);
  return {
    maxAgeMs: maxAge === null ? null : Math.max(0, maxAge - ageMs(headers)),
    expiresAt: useExpires ? expiresAt(headers, now) : null,
    retryAfter: parseRetryAfter(headerValue(headers, 'retry-after'), now, headerValue(headers, 'date')),
  };
}
