// Interpreting an HTTP response, kept apart from doing the request (fetch-feed.ts): every function
// here is pure over status codes, header values and bytes, so it is tested with built responses.
import { STATUS_CODES } from 'node:http';
import type { CacheValidators } from '../domain.js';

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
