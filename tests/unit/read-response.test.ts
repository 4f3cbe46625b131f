import { describe, expect, it } from 'vitest';
import {
  cacheControlDirectives,
  cacheControlMaxAge,
  cacheValidators,
  charsetFromContentType,
  classifyStatus,
  conditionalHeaders,
  contentCodings,
  contentLength,
  decodeBody,
  decodeWindows1252,
  describeStatus,
  detectCharset,
  expiresAt,
  hasNoContent,
  headerList,
  headerValue,
  isNotModified,
  isPermanentRedirect,
  isZlibHeader,
  normalizeCharset,
  parseHttpDate,
  parseRetryAfter,
  permanentRedirectTarget,
  responseHints,
  xmlDeclaredEncoding,
  type HeaderMap,
  type RedirectHop,
} from '../../src/ingest/read-response.js';
import { deflateRawSync, deflateSync } from 'node:zlib';

const ascii = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const utf16le = (s: string): Buffer => Buffer.from(s, 'utf16le');
const utf16be = (s: string): Buffer => {
  const le = Buffer.from(s, 'utf16le');
  return Buffer.from(le).swap16();
};
const bom = {
  utf8: Buffer.from([0xef, 0xbb, 0xbf]),
  utf16le: Buffer.from([0xff, 0xfe]),
  utf16be: Buffer.from([0xfe, 0xff]),
};

describe('classifyStatus', () => {
  it.each([
    { name: '200 OK', status: 200, want: 'ok' },
    { name: '203 non-authoritative', status: 203, want: 'ok' },
    { name: '204 no content', status: 204, want: 'ok' },
    { name: '304 not modified', status: 304, want: 'not-modified' },
    { name: '301 moved permanently', status: 301, want: 'redirect' },
    { name: '302 found', status: 302, want: 'redirect' },
    { name: '303 see other', status: 303, want: 'redirect' },
    { name: '307 temporary', status: 307, want: 'redirect' },
    { name: '308 permanent', status: 308, want: 'redirect' },
    { name: '300 multiple choices is not followed', status: 300, want: 'error' },
    { name: '305 use proxy is not followed', status: 305, want: 'error' },
    { name: '404', status: 404, want: 'error' },
    { name: '429', status: 429, want: 'error' },
    { name: '500', status: 500, want: 'error' },
    { name: '100 informational', status: 100, want: 'error' },
  ])('$name', ({ status, want }) => {
    expect(classifyStatus(status)).toBe(want);
  });

  it('isNotModified and hasNoContent', () => {
    expect(isNotModified(304)).toBe(true);
    expect(isNotModified(200)).toBe(false);
    expect(hasNoContent(204)).toBe(true);
    expect(hasNoContent(205)).toBe(true);
    expect(hasNoContent(200)).toBe(false);
  });

  it.each([
    { name: 'standard phrase', status: 404, text: undefined, want: '404 Not Found' },
    { name: "server's phrase wins", status: 404, text: 'Nope', want: '404 Nope' },
    { name: 'blank server phrase', status: 500, text: ' ', want: '500 Internal Server Error' },
    { name: 'unknown status', status: 599, text: '', want: '599' },
  ])('describeStatus: $name', ({ status, text, want }) => {
    expect(describeStatus(status, text)).toBe(want);
  });
});

describe('headers', () => {
  it.each<{ name: string; headers: HeaderMap; key: string; want: string | null }>([
    { name: 'lower-case name', headers: { etag: '"a"' }, key: 'ETag', want: '"a"' },
    { name: 'mixed-case stored name', headers: { ETag: '"a"' }, key: 'etag', want: '"a"' },
    { name: 'array takes the first', headers: { 'set-cookie': ['a', 'b'] }, key: 'set-cookie', want: 'a' },
    { name: 'blank is absent', headers: { etag: '  ' }, key: 'etag', want: null },
    { name: 'missing', headers: {}, key: 'etag', want: null },
  ])('headerValue: $name', ({ headers, key, want }) => {
    expect(headerValue(headers, key)).toBe(want);
  });

  it.each<{ name: string; headers: HeaderMap; want: number | null }>([
    { name: 'number', headers: { 'content-length': '1234' }, want: 1234 },
    { name: 'absent', headers: {}, want: null },
    { name: 'negative', headers: { 'content-length': '-1' }, want: null },
    { name: 'garbage', headers: { 'content-length': '12abc' }, want: null },
    { name: 'too large to be exact', headers: { 'content-length': '99999999999999999999' }, want: null },
  ])('contentLength: $name', ({ headers, want }) => {
    expect(contentLength(headers)).toBe(want);
  });

  it.each<{ name: string; headers: HeaderMap; want: string[] }>([
    { name: 'none', headers: {}, want: [] },
    { name: 'gzip', headers: { 'content-encoding': 'gzip' }, want: ['gzip'] },
    { name: 'x-gzip alias', headers: { 'content-encoding': 'x-gzip' }, want: ['gzip'] },
    { name: 'identity dropped', headers: { 'content-encoding': 'identity' }, want: [] },
    { name: 'stacked, case-folded', headers: { 'content-encoding': 'Deflate, BR' }, want: ['deflate', 'br'] },
    { name: 'unsupported kept to be named', headers: { 'content-encoding': 'zstd' }, want: ['zstd'] },
  ])('contentCodings: $name', ({ headers, want }) => {
    expect(contentCodings(headers)).toEqual(want);
  });

  it.each([
    { name: 'zlib stream', bytes: deflateSync(Buffer.from('hello')), want: true },
    { name: 'raw deflate', bytes: deflateRawSync(Buffer.from('hello')), want: false },
    { name: 'one byte', bytes: Buffer.from([0x78]), want: false },
    { name: 'empty', bytes: Buffer.alloc(0), want: false },
  ])('isZlibHeader: $name', ({ bytes, want }) => {
    expect(isZlibHeader(bytes)).toBe(want);
  });
});

describe('conditional requests', () => {
  it.each<{ name: string; headers: HeaderMap; want: { etag: string | null; lastModified: string | null } }>([
    {
      name: 'both',
      headers: { etag: 'W/"abc"', 'last-modified': 'Tue, 01 Apr 2025 10:00:00 GMT' },
      want: { etag: 'W/"abc"', lastModified: 'Tue, 01 Apr 2025 10:00:00 GMT' },
    },
    { name: 'none', headers: {}, want: { etag: null, lastModified: null } },
    { name: 'blank etag', headers: { etag: '' }, want: { etag: null, lastModified: null } },
  ])('cacheValidators: $name', ({ headers, want }) => {
    expect(cacheValidators(headers)).toEqual(want);
  });

  it.each([
    { name: 'nothing stored', validators: { etag: null, lastModified: null }, want: {} },
    { name: 'etag only', validators: { etag: '"v1"', lastModified: null }, want: { 'if-none-match': '"v1"' } },
    {
      name: 'last-modified echoed verbatim',
      validators: { etag: null, lastModified: 'Tue, 01 Apr 2025 10:00:00 GMT' },
      want: { 'if-modified-since': 'Tue, 01 Apr 2025 10:00:00 GMT' },
    },
    {
      name: 'both',
      validators: { etag: 'W/"x"', lastModified: 'Tue, 01 Apr 2025 10:00:00 GMT' },
      want: { 'if-none-match': 'W/"x"', 'if-modified-since': 'Tue, 01 Apr 2025 10:00:00 GMT' },
    },
    { name: 'header-breaking etag dropped', validators: { etag: '"a"\r\nX-Evil: 1', lastModified: null }, want: {} },
    { name: 'blank values dropped', validators: { etag: '  ', lastModified: '' }, want: {} },
  ])('conditionalHeaders: $name', ({ validators, want }) => {
    expect(conditionalHeaders(validators)).toEqual(want);
  });
});

describe('charsets', () => {
  it.each([
    { name: 'plain', ct: 'text/xml; charset=utf-8', want: 'utf-8' },
    { name: 'quoted, upper case param', ct: 'application/rss+xml; CHARSET="ISO-8859-1"', want: 'ISO-8859-1' },
    { name: 'spaces and other params', ct: 'text/xml ; foo=bar ; charset = windows-1252 ', want: 'windows-1252' },
    { name: 'no charset', ct: 'application/atom+xml', want: null },
    { name: 'no content type', ct: null, want: null },
    { name: 'empty charset', ct: 'text/xml; charset=', want: null },
  ])('charsetFromContentType: $name', ({ ct, want }) => {
    expect(charsetFromContentType(ct)).toBe(want);
  });

  it.each([
    { name: 'iso-8859-1 is windows-1252 (WHATWG)', label: 'ISO-8859-1', want: 'windows-1252' },
    { name: 'us-ascii is windows-1252 (WHATWG)', label: 'us-ascii', want: 'windows-1252' },
    { name: 'utf8 alias', label: 'utf8', want: 'utf-8' },
    { name: 'utf-16 means little-endian', label: 'UTF-16', want: 'utf-16le' },
    { name: 'gb2312 is gbk', label: 'gb2312', want: 'gbk' },
    { name: 'shift_jis', label: 'Shift_JIS', want: 'shift_jis' },
    { name: 'koi8-r', label: 'KOI8-R', want: 'koi8-r' },
    { name: 'unknown label', label: 'x-no-such-charset', want: null },
    { name: 'replacement encoding refused', label: 'iso-2022-kr', want: null },
    { name: 'empty', label: '', want: null },
  ])('normalizeCharset: $name', ({ label, want }) => {
    expect(normalizeCharset(label)).toBe(want);
  });

  it.each([
    { name: 'double quotes', bytes: ascii('<?xml version="1.0" encoding="ISO-8859-1"?><rss/>'), want: 'windows-1252' },
    { name: 'single quotes, spaces', bytes: ascii("<?xml version='1.0'   encoding = 'koi8-r' ?>"), want: 'koi8-r' },
    { name: 'leading whitespace tolerated', bytes: ascii('\n  <?xml version="1.0" encoding="gb2312"?>'), want: 'gbk' },
    { name: 'no encoding attribute', bytes: ascii('<?xml version="1.0"?><rss/>'), want: null },
    { name: 'no declaration', bytes: ascii('<rss version="2.0"/>'), want: null },
    { name: 'encoding= outside the declaration ignored', bytes: ascii('<rss><a encoding="koi8-r"/></rss>'), want: null },
    { name: '"UTF-16" in an ASCII document means utf-8', bytes: ascii('<?xml version="1.0" encoding="UTF-16"?>'), want: 'utf-8' },
    { name: 'UTF-16LE without BOM by null bytes', bytes: utf16le('<?xml version="1.0"?><rss/>'), want: 'utf-16le' },
    { name: 'UTF-16BE without BOM by null bytes', bytes: utf16be('<?xml version="1.0"?><rss/>'), want: 'utf-16be' },
    { name: 'unknown declared label', bytes: ascii('<?xml version="1.0" encoding="x-bogus"?>'), want: null },
    {
      name: 'declaration beyond the first KiB is not looked for',
      bytes: ascii(' '.repeat(2000) + '<?xml version="1.0" encoding="koi8-r"?>'),
      want: null,
    },
  ])('xmlDeclaredEncoding: $name', ({ bytes, want }) => {
    expect(xmlDeclaredEncoding(bytes)).toBe(want);
  });

  const latin1Decl = ascii('<?xml version="1.0" encoding="ISO-8859-1"?><title>caf\xe9</title>');
  it.each<{ name: string; bytes: Uint8Array; ct: string | null; want: string }>([
    { name: 'ISO-8859-1 declared in XML', bytes: latin1Decl, ct: 'application/rss+xml', want: 'windows-1252' },
    { name: 'windows-1252 in the header', bytes: ascii('<rss/>'), ct: 'text/xml; charset=windows-1252', want: 'windows-1252' },
    {
      name: 'header beats the XML declaration (RFC 7303)',
      bytes: ascii('<?xml version="1.0" encoding="ISO-8859-1"?>'),
      ct: 'text/xml; charset=utf-8',
      want: 'utf-8',
    },
    {
      name: 'UTF-8 BOM beats the header',
      bytes: Buffer.concat([bom.utf8, ascii('<rss/>')]),
      ct: 'text/xml; charset=iso-8859-1',
      want: 'utf-8',
    },
    { name: 'UTF-16LE BOM', bytes: Buffer.concat([bom.utf16le, utf16le('<rss/>')]), ct: null, want: 'utf-16le' },
    { name: 'UTF-16BE BOM', bytes: Buffer.concat([bom.utf16be, utf16be('<rss/>')]), ct: 'text/xml', want: 'utf-16be' },
    {
      name: 'unknown header label falls through to the declaration',
      bytes: ascii('<?xml version="1.0" encoding="koi8-r"?>'),
      ct: 'text/xml; charset=x-unknown',
      want: 'koi8-r',
    },
    { name: 'unknown label everywhere is utf-8', bytes: ascii('<?xml version="1.0" encoding="nope"?>'), ct: 'text/xml; charset=nada', want: 'utf-8' },
    { name: 'JSON Feed without charset is utf-8', bytes: ascii('{"version":"https://jsonfeed.org/version/1.1"}'), ct: 'application/feed+json', want: 'utf-8' },
    { name: 'empty body', bytes: new Uint8Array(0), ct: null, want: 'utf-8' },
  ])('detectCharset: $name', ({ bytes, ct, want }) => {
    expect(detectCharset(bytes, ct)).toBe(want);
  });

  it.each<{ name: string; bytes: Uint8Array; ct: string | null; want: string }>([
    { name: 'ISO-8859-1 declared in XML', bytes: latin1Decl, ct: null, want: '<?xml version="1.0" encoding="ISO-8859-1"?><title>café</title>' },
    {
      name: 'windows-1252 curly quotes and euro from the header',
      bytes: Buffer.from([0x93, 0x80, 0x35, 0x94]),
      ct: 'text/plain; charset=windows-1252',
      want: '\u201c\u20ac5\u201d',
    },
    { name: 'UTF-8 BOM stripped', bytes: Buffer.concat([bom.utf8, Buffer.from('<rss>é</rss>')]), ct: null, want: '<rss>é</rss>' },
    {
      name: 'UTF-8 BOM stripped even when the header says latin1',
      bytes: Buffer.concat([bom.utf8, Buffer.from('é')]),
      ct: 'text/xml; charset=iso-8859-1',
      want: 'é',
    },
    { name: 'UTF-16LE with BOM', bytes: Buffer.concat([bom.utf16le, utf16le('<rss>日本</rss>')]), ct: null, want: '<rss>日本</rss>' },
    { name: 'UTF-16BE with BOM', bytes: Buffer.concat([bom.utf16be, utf16be('<rss>Ω</rss>')]), ct: null, want: '<rss>Ω</rss>' },
    { name: 'UTF-16LE without BOM', bytes: utf16le('<?xml version="1.0"?><a>ü</a>'), ct: null, want: '<?xml version="1.0"?><a>ü</a>' },
    {
      name: 'KOI8-R from the declaration',
      bytes: Buffer.concat([ascii('<?xml version="1.0" encoding="koi8-r"?>'), Buffer.from([0xf0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4])]),
      ct: null,
      want: '<?xml version="1.0" encoding="koi8-r"?>Привет',
    },
    {
      name: 'Shift_JIS from the header',
      bytes: Buffer.from([0x93, 0xfa, 0x96, 0x7b]),
      ct: 'text/xml; charset=Shift_JIS',
      want: '日本',
    },
    { name: 'invalid UTF-8 becomes U+FFFD, no crash', bytes: Buffer.from([0x61, 0xff, 0x62]), ct: null, want: 'a\ufffdb' },
    { name: 'unknown label decodes as utf-8', bytes: Buffer.from('naïve'), ct: 'text/xml; charset=klingon', want: 'naïve' },
  ])('decodeBody: $name', ({ bytes, ct, want }) => {
    expect(decodeBody(bytes, ct)).toBe(want);
  });

  it('decodeWindows1252 maps all of 0x80-0x9F as WHATWG does (not as latin1)', () => {
    const bytes = Uint8Array.from({ length: 32 }, (_, i) => 0x80 + i);
    expect(decodeWindows1252(bytes)).toBe(
      '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ',
    );
    expect(decodeWindows1252(Buffer.from('caf\xe9 A\xff', 'latin1'))).toBe('café Aÿ');
  });
});

describe('redirects', () => {
  it.each([
    { name: '301 moved permanently', status: 301, want: true },
    { name: '308 permanent redirect', status: 308, want: true },
    { name: '302 found', status: 302, want: false },
    { name: '303 see other', status: 303, want: false },
    { name: '307 temporary redirect', status: 307, want: false },
  ])('isPermanentRedirect: $name', ({ status, want }) => {
    expect(isPermanentRedirect(status)).toBe(want);
  });

  const hop = (status: number, location: string): RedirectHop => ({ status, location });
  it.each<{ name: string; hops: RedirectHop[]; want: string | null }>([
    { name: 'no redirect', hops: [], want: null },
    { name: '301', hops: [hop(301, 'https://a/')], want: 'https://a/' },
    { name: '301 -> 301: the last one', hops: [hop(301, 'https://a/'), hop(301, 'https://b/')], want: 'https://b/' },
    { name: '308 -> 301 count alike', hops: [hop(308, 'https://a/'), hop(301, 'https://b/')], want: 'https://b/' },
    { name: '301 -> 302: only the permanent move', hops: [hop(301, 'https://a/'), hop(302, 'https://b/')], want: 'https://a/' },
    {
      name: '308 -> 307 -> 301: the run ends at the first temporary hop',
      hops: [hop(308, 'https://a/'), hop(307, 'https://b/'), hop(301, 'https://c/')],
      want: 'https://a/',
    },
    { name: '302 -> 301: a temporary redirect first', hops: [hop(302, 'https://a/'), hop(301, 'https://b/')], want: null },
    { name: '303 alone', hops: [hop(303, 'https://a/')], want: null },
  ])('permanentRedirectTarget: $name', ({ hops, want }) => {
    expect(permanentRedirectTarget(hops)).toBe(want);
  });
});

// Every time-based case is resolved against this "now".
const NOW = new Date('2025-04-01T10:00:00Z');
const at = (iso: string): Date => new Date(iso);
const later = (seconds: number): Date => new Date(NOW.getTime() + seconds * 1000);

describe('HTTP dates', () => {
  it.each<{ name: string; value: string | null; want: Date | null }>([
    { name: 'IMF-fixdate', value: 'Sun, 06 Nov 1994 08:49:37 GMT', want: at('1994-11-06T08:49:37Z') },
    { name: 'rfc850, two-digit year more than 50 years ahead is last century', value: 'Sunday, 06-Nov-94 08:49:37 GMT', want: at('1994-11-06T08:49:37Z') },
    { name: 'rfc850, two-digit year within 50 years is this century', value: 'Saturday, 01-Jun-30 00:00:00 GMT', want: at('2030-06-01T00:00:00Z') },
    { name: 'asctime, space-padded day', value: 'Sun Nov  6 08:49:37 1994', want: at('1994-11-06T08:49:37Z') },
    { name: 'lower case names and UTC tolerated', value: 'tue, 01 apr 2025 10:00:00 UTC', want: NOW },
    { name: 'single-digit day tolerated', value: 'Tue, 1 Apr 2025 10:00:00 GMT', want: NOW },
    { name: 'surrounding whitespace', value: '  Tue, 01 Apr 2025 10:00:00 GMT ', want: NOW },
    { name: 'the invalid "0" of Expires', value: '0', want: null },
    { name: 'a bare number is not a year', value: '120', want: null },
    { name: 'ISO 8601 is not an HTTP-date', value: '2025-04-01T10:00:00Z', want: null },
    { name: 'numeric zone', value: 'Tue, 01 Apr 2025 10:00:00 +0000', want: null },
    { name: 'no zone (would be local time to Date.parse)', value: 'Tue, 01 Apr 2025 10:00:00', want: null },
    { name: '31 February', value: 'Mon, 31 Feb 2025 10:00:00 GMT', want: null },
    { name: 'hour 25', value: 'Tue, 01 Apr 2025 25:00:00 GMT', want: null },
    { name: 'unknown month', value: 'Tue, 01 Apx 2025 10:00:00 GMT', want: null },
    { name: 'unknown weekday', value: 'Xyz, 01 Apr 2025 10:00:00 GMT', want: null },
    { name: 'empty', value: '', want: null },
    { name: 'absent', value: null, want: null },
  ])('parseHttpDate: $name', ({ value, want }) => {
    expect(parseHttpDate(value, NOW)).toEqual(want);
  });
});

describe('parseRetryAfter (RFC 9110 §10.2.3)', () => {
  it.each<{ name: string; value: string | null; date?: string; want: Date | null }>([
    { name: 'delay-seconds', value: '120', want: later(120) },
    { name: 'zero means now', value: '0', want: NOW },
    { name: 'whitespace around seconds', value: ' 30 ', want: later(30) },
    { name: 'huge delay capped at 2^31 s', value: '99999999999999999999', want: later(2 ** 31) },
    { name: 'HTTP-date', value: 'Tue, 01 Apr 2025 10:05:00 GMT', want: later(300) },
    {
      name: "HTTP-date on a fast server clock, corrected by the response's Date",
      value: 'Tue, 01 Apr 2025 12:05:00 GMT',
      date: 'Tue, 01 Apr 2025 12:00:00 GMT',
      want: later(300),
    },
    { name: 'HTTP-date with an unreadable Date header: our clock', value: 'Tue, 01 Apr 2025 10:01:00 GMT', date: 'yesterday', want: later(60) },
    { name: 'HTTP-date already past means now', value: 'Tue, 01 Apr 2025 09:00:00 GMT', want: NOW },
    { name: 'negative', value: '-5', want: null },
    { name: 'fractional', value: '1.5', want: null },
    { name: 'garbage', value: 'soon', want: null },
    { name: 'seconds with a unit', value: '120s', want: null },
    { name: 'empty', value: '', want: null },
    { name: 'absent', value: null, want: null },
  ])('$name', ({ value, date, want }) => {
    expect(parseRetryAfter(value, NOW, date ?? null)).toEqual(want);
  });
});

describe('Cache-Control (RFC 9111 §5.2)', () => {
  it('cacheControlDirectives: lower-cased names, unquoted values, first occurrence wins', () => {
    expect([...cacheControlDirectives('Public, MAX-AGE="60", no-cache="Set-Cookie, X-A", max-age=5, must-revalidate')]).toEqual([
      ['public', null],
      ['max-age', '60'],
      ['no-cache', 'Set-Cookie, X-A'],
      ['must-revalidate', null],
    ]);
    expect(cacheControlDirectives(null).size).toBe(0);
  });

  it.each<{ name: string; value: string | null; want: number | null }>([
    { name: 'max-age', value: 'max-age=300', want: 300_000 },
    { name: 'among other directives', value: 'public, max-age=60, stale-while-revalidate=30', want: 60_000 },
    { name: 'case-insensitive name', value: 'Max-Age=60', want: 60_000 },
    { name: 'quoted value tolerated', value: 'max-age="60"', want: 60_000 },
    { name: 'spaces around = tolerated', value: 'max-age = 60', want: 60_000 },
    { name: 'empty list elements allowed', value: ', , max-age=5', want: 5_000 },
    { name: 'a comma inside a quoted value does not split', value: 'private="a, max-age=9", max-age=5', want: 5_000 },
    { name: 's-maxage ignored (we are not a shared cache)', value: 's-maxage=600', want: null },
    { name: 's-maxage does not shadow max-age', value: 's-maxage=600, max-age=60', want: 60_000 },
    { name: 'first max-age wins', value: 'max-age=60, max-age=120', want: 60_000 },
    { name: 'too large is 2^31 s (§1.2.2)', value: 'max-age=99999999999', want: 2 ** 31 * 1000 },
    { name: 'max-age=0 is 0', value: 'max-age=0', want: 0 },
    { name: 'must-revalidate with max-age=0 is 0', value: 'must-revalidate, max-age=0', want: 0 },
    { name: 'must-revalidate keeps max-age', value: 'max-age=60, must-revalidate', want: 60_000 },
    { name: 'no-store: no hint', value: 'no-store, max-age=60', want: null },
    { name: 'no-cache: no hint', value: 'no-cache', want: null },
    { name: 'no-cache beats max-age', value: 'max-age=60, no-cache', want: null },
    { name: 'field-qualified no-cache does not count', value: 'no-cache="set-cookie", max-age=60', want: 60_000 },
    { name: 'negative', value: 'max-age=-1', want: null },
    { name: 'fractional', value: 'max-age=1.5', want: null },
    { name: 'garbage', value: 'max-age=soon', want: null },
    { name: 'no value', value: 'max-age', want: null },
    { name: 'absent', value: null, want: null },
  ])('cacheControlMaxAge: $name', ({ value, want }) => {
    expect(cacheControlMaxAge(value)).toBe(want);
  });
});

describe('expiresAt (RFC 9111 §4.2.1, §5.3)', () => {
  it.each<{ name: string; headers: HeaderMap; want: Date | null }>([
    { name: 'Expires on our clock when there is no Date', headers: { expires: 'Tue, 01 Apr 2025 10:10:00 GMT' }, want: later(600) },
    {
      name: 'Expires - Date corrects a server clock two hours fast',
      headers: { expires: 'Tue, 01 Apr 2025 12:10:00 GMT', date: 'Tue, 01 Apr 2025 12:00:00 GMT' },
      want: later(600),
    },
    {
      name: 'and a server clock an hour slow',
      headers: { expires: 'Tue, 01 Apr 2025 09:10:00 GMT', date: 'Tue, 01 Apr 2025 09:00:00 GMT' },
      want: later(600),
    },
    {
      name: 'Age spent in a cache is subtracted',
      headers: { expires: 'Tue, 01 Apr 2025 12:10:00 GMT', date: 'Tue, 01 Apr 2025 12:00:00 GMT', age: '120' },
      want: later(480),
    },
    {
      name: 'an unreadable Date falls back to our clock',
      headers: { expires: 'Tue, 01 Apr 2025 10:10:00 GMT', date: 'now-ish' },
      want: later(600),
    },
    { name: '"0" means already expired', headers: { expires: '0' }, want: null },
    { name: '"-1" means already expired', headers: { expires: '-1' }, want: null },
    { name: 'in the past', headers: { expires: 'Tue, 01 Apr 2025 09:00:00 GMT' }, want: null },
    {
      name: 'equal to Date',
      headers: { expires: 'Tue, 01 Apr 2025 12:00:00 GMT', date: 'Tue, 01 Apr 2025 12:00:00 GMT' },
      want: null,
    },
    {
      name: 'older than its Age',
      headers: { expires: 'Tue, 01 Apr 2025 12:01:00 GMT', date: 'Tue, 01 Apr 2025 12:00:00 GMT', age: '90' },
      want: null,
    },
    { name: 'absent', headers: { date: 'Tue, 01 Apr 2025 12:00:00 GMT' }, want: null },
  ])('$name', ({ headers, want }) => {
    expect(expiresAt(headers, NOW)).toEqual(want);
  });
});

describe('responseHints', () => {
  const EXPIRES_IN_10_MIN = 'Tue, 01 Apr 2025 10:10:00 GMT';
  it.each<{ name: string; headers: HeaderMap; want: { maxAgeMs: number | null; expiresAt: Date | null; retryAfter: Date | null } }>([
    { name: 'nothing', headers: {}, want: { maxAgeMs: null, expiresAt: null, retryAfter: null } },
    { name: 'max-age', headers: { 'cache-control': 'max-age=900' }, want: { maxAgeMs: 900_000, expiresAt: null, retryAfter: null } },
    {
      name: 'max-age minus Age',
      headers: { 'cache-control': 'max-age=300', age: '100' },
      want: { maxAgeMs: 200_000, expiresAt: null, retryAfter: null },
    },
    {
      name: 'Age past max-age leaves 0',
      headers: { 'cache-control': 'max-age=300', age: '400' },
      want: { maxAgeMs: 0, expiresAt: null, retryAfter: null },
    },
    { name: 'Expires alone', headers: { expires: EXPIRES_IN_10_MIN }, want: { maxAgeMs: null, expiresAt: later(600), retryAfter: null } },
    {
      name: 'Expires ignored when max-age is present',
      headers: { 'cache-control': 'max-age=60', expires: EXPIRES_IN_10_MIN },
      want: { maxAgeMs: 60_000, expiresAt: null, retryAfter: null },
    },
    {
      name: 'Expires ignored even when max-age is malformed',
      headers: { 'cache-control': 'max-age=soon', expires: EXPIRES_IN_10_MIN },
      want: { maxAgeMs: null, expiresAt: null, retryAfter: null },
    },
    {
      name: 'Expires ignored under no-store',
      headers: { 'cache-control': 'no-store', expires: EXPIRES_IN_10_MIN },
      want: { maxAgeMs: null, expiresAt: null, retryAfter: null },
    },
    {
      name: 's-maxage does not hide Expires',
      headers: { 'cache-control': 's-maxage=60', expires: EXPIRES_IN_10_MIN },
      want: { maxAgeMs: null, expiresAt: later(600), retryAfter: null },
    },
    {
      name: 'Cache-Control over several field lines',
      headers: { 'cache-control': ['public', 'max-age=60'] },
      want: { maxAgeMs: 60_000, expiresAt: null, retryAfter: null },
    },
    {
      name: 'Retry-After as a date, skew-corrected by Date',
      headers: { 'retry-after': 'Tue, 01 Apr 2025 12:02:00 GMT', date: 'Tue, 01 Apr 2025 12:00:00 GMT' },
      want: { maxAgeMs: null, expiresAt: null, retryAfter: later(120) },
    },
    { name: 'Retry-After in seconds', headers: { 'Retry-After': '90' }, want: { maxAgeMs: null, expiresAt: null, retryAfter: later(90) } },
  ])('$name', ({ headers, want }) => {
    expect(responseHints(headers, NOW)).toEqual(want);
  });

  it.each<{ name: string; headers: HeaderMap; want: string | null }>([
    { name: 'one line', headers: { 'cache-control': 'max-age=5' }, want: 'max-age=5' },
    { name: 'several lines joined', headers: { 'cache-control': ['public', ' max-age=5 '] }, want: 'public, max-age=5' },
    { name: 'mixed-case stored name', headers: { 'Cache-Control': 'no-store' }, want: 'no-store' },
    { name: 'blank', headers: { 'cache-control': ' ' }, want: null },
    { name: 'absent', headers: {}, want: null },
  ])('headerList: $name', ({ headers, want }) => {
    expect(headerList(headers, 'cache-control')).toBe(want);
  });
});
