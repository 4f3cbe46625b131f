import { describe, expect, it } from 'vitest';
import {
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
  hasNoContent,
  headerValue,
  isNotModified,
  isZlibHeader,
  normalizeCharset,
  xmlDeclaredEncoding,
  type HeaderMap,
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
