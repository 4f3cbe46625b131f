import { describe, expect, it } from 'vitest';
import { canonicalUrl, urlHost } from '../../src/ingest/canonical-url.js';
import { isTrackingParam, TRACKING_PARAMS, TRACKING_PREFIXES } from '../../src/ingest/tracking-params.js';

describe('canonicalUrl: one case per tracking parameter in the data list', () => {
  const cases = [
    ...TRACKING_PARAMS.map((param) => ({ name: param, param })),
    ...TRACKING_PREFIXES.map((prefix) => ({ name: `${prefix}* (prefix)`, param: `${prefix}example` })),
  ];
  it.each(cases)('removes $name and keeps the other parameters', ({ param }) => {
    expect(canonicalUrl(`https://news.example/story?id=7&${param}=x123&page=2`)).toBe('https://news.example/story?id=7&page=2');
  });
  it.each(cases)('removes $name whatever its case', ({ param }) => {
    expect(canonicalUrl(`https://news.example/story?${param.toUpperCase()}=x123`)).toBe('https://news.example/story');
  });
});

describe('canonicalUrl rules', () => {
  it.each([
    { name: 'lower-cases the scheme and host', input: 'HTTPS://News.EXAMPLE/Story', expected: 'https://news.example/Story' },
    { name: 'keeps path case', input: 'https://news.example/A/b/C', expected: 'https://news.example/A/b/C' },
    { name: 'converts an IDN host to punycode', input: 'https://bücher.example/straße', expected: 'https://xn--bcher-kva.example/stra%C3%9Fe' },
    { name: 'removes the default https port', input: 'https://news.example:443/a', expected: 'https://news.example/a' },
    { name: 'removes the default http port', input: 'http://news.example:80/a', expected: 'http://news.example/a' },
    { name: 'keeps a non-default port', input: 'https://news.example:8443/a', expected: 'https://news.example:8443/a' },
    { name: 'removes the fragment', input: 'https://news.example/a#comments', expected: 'https://news.example/a' },
    { name: 'removes user and password', input: 'https://user:secret@news.example/a', expected: 'https://news.example/a' },
    { name: 'sorts parameters by name', input: 'https://news.example/a?b=2&a=1&c=3', expected: 'https://news.example/a?a=1&b=2&c=3' },
    { name: 'keeps the order of repeated names', input: 'https://news.example/a?t=2&a=0&t=1', expected: 'https://news.example/a?a=0&t=2&t=1' },
    { name: 'drops an empty query', input: 'https://news.example/a?', expected: 'https://news.example/a' },
    { name: 'drops a query left empty by tracking removal', input: 'https://news.example/a?utm_source=x&fbclid=y', expected: 'https://news.example/a' },
    { name: 'drops empty pairs', input: 'https://news.example/a?b=2&&a=1&', expected: 'https://news.example/a?a=1&b=2' },
    { name: 'keeps a parameter without a value', input: 'https://news.example/a?print', expected: 'https://news.example/a?print' },
    { name: 'keeps the encoding of values', input: 'https://news.example/s?q=a+b&r=a%20b', expected: 'https://news.example/s?q=a+b&r=a%20b' },
    { name: 'upper-cases percent-encoding hex', input: 'https://news.example/a%c3%a9?q=%c3%a9', expected: 'https://news.example/a%C3%A9?q=%C3%A9' },
    { name: 'decodes escaped unreserved characters', input: 'https://news.example/%7Euser/%41bc?q=%2D', expected: 'https://news.example/~user/Abc?q=-' },
    { name: 'keeps escaped reserved characters', input: 'https://news.example/a%2Fb?q=%26', expected: 'https://news.example/a%2Fb?q=%26' },
    { name: 'removes dot segments', input: 'https://news.example/a/./b/../c', expected: 'https://news.example/a/c' },
    { name: 'keeps a trailing slash', input: 'https://news.example/a/', expected: 'https://news.example/a/' },
    { name: 'does not add a trailing slash', input: 'https://news.example/a', expected: 'https://news.example/a' },
    { name: 'gives a bare host its root path', input: 'https://news.example', expected: 'https://news.example/' },
    { name: 'keeps www', input: 'https://www.news.example/a', expected: 'https://www.news.example/a' },
    { name: 'does not upgrade http', input: 'http://news.example/a', expected: 'http://news.example/a' },
    { name: 'trims whitespace', input: '  https://news.example/a \n', expected: 'https://news.example/a' },
    { name: 'encodes spaces in the path', input: 'https://news.example/a b', expected: 'https://news.example/a%20b' },
    { name: 'does not treat a tracking-like value as a name', input: 'https://news.example/a?q=utm_source', expected: 'https://news.example/a?q=utm_source' },
    { name: 'keeps parameters that merely contain a tracking name', input: 'https://news.example/a?my_fbclid=1&xutm_a=2', expected: 'https://news.example/a?my_fbclid=1&xutm_a=2' },
    { name: 'matches percent-encoded tracking names', input: 'https://news.example/a?utm%5Fsource=x&id=1', expected: 'https://news.example/a?id=1' },
    { name: 'keeps generic parameters (ref, source)', input: 'https://news.example/a?source=feed&ref=main', expected: 'https://news.example/a?ref=main&source=feed' },
    { name: 'IPv6 host', input: 'http://[::1]:8080/a', expected: 'http://[::1]:8080/a' },
  ])('$name', ({ input, expected }) => {
    expect(canonicalUrl(input)).toBe(expected);
  });

  it.each([
    { name: 'a relative path', input: '/stories/1', base: 'https://news.example/feed.xml', expected: 'https://news.example/stories/1' },
    { name: 'a sibling file', input: 'post.html?utm_medium=rss', base: 'https://news.example/blog/feed', expected: 'https://news.example/blog/post.html' },
    { name: 'a protocol-relative URL', input: '//cdn.example/a', base: 'https://news.example/', expected: 'https://cdn.example/a' },
    { name: 'an absolute URL ignores the base', input: 'http://other.example/a', base: 'https://news.example/', expected: 'http://other.example/a' },
  ])('resolves $name against the base', ({ input, base, expected }) => {
    expect(canonicalUrl(input, base)).toBe(expected);
  });

  it.each([
    { name: 'empty', input: '' },
    { name: 'relative without a base', input: '/stories/1' },
    { name: 'mailto', input: 'mailto:editor@news.example' },
    { name: 'javascript', input: 'javascript:alert(1)' },
    { name: 'data', input: 'data:text/html,<script>alert(1)</script>' },
    { name: 'ftp', input: 'ftp://files.example/a' },
    { name: 'a tag URI', input: 'tag:news.example,2024:1' },
    { name: 'a urn', input: 'urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a' },
    { name: 'garbage', input: 'http://' },
  ])('returns null for $name', ({ input }) => {
    expect(canonicalUrl(input)).toBeNull();
  });

  it('is idempotent', () => {
    const once = canonicalUrl('HTTPS://User@News.Example:443/a/../b%7e?z=1&utm_source=x&a=%c3%a9#frag');
    expect(once).toBe('https://news.example/b~?a=%C3%A9&z=1');
    expect(canonicalUrl(once ?? '')).toBe(once);
  });
});

describe('tracking parameter data', () => {
  it('has no duplicates, ignoring case', () => {
    const lower = TRACKING_PARAMS.map((p) => p.toLowerCase());
    expect(new Set(lower).size).toBe(lower.length);
  });

  it.each([
    { name: 'ref', param: 'ref' },
    { name: 'source', param: 'source' },
    { name: 'spm', param: 'spm' },
    { name: 'cmpid', param: 'cmpid' },
    { name: 'id', param: 'id' },
    { name: 'page', param: 'page' },
    { name: 'pk_id (pk_ is not a prefix)', param: 'pk_id' },
  ])('does not treat $name as tracking', ({ param }) => {
    expect(isTrackingParam(param)).toBe(false);
  });
});

describe('urlHost', () => {
  it.each([
    { name: 'lower-cases', input: 'https://News.Example/a', expected: 'news.example' },
    { name: 'strips www.', input: 'https://www.news.example/a', expected: 'news.example' },
    { name: 'keeps other subdomains', input: 'https://blog.news.example/', expected: 'blog.news.example' },
    { name: 'ignores the port', input: 'http://news.example:8080/', expected: 'news.example' },
    { name: 'punycodes IDN', input: 'https://www.bücher.example/', expected: 'xn--bcher-kva.example' },
    { name: 'strips only a leading www.', input: 'https://wwwnews.example/', expected: 'wwwnews.example' },
  ])('$name', ({ input, expected }) => {
    expect(urlHost(input)).toBe(expected);
  });

  it.each([
    { name: 'null', input: null },
    { name: 'empty', input: '' },
    { name: 'relative', input: '/a' },
    { name: 'mailto (no host)', input: 'mailto:a@b.example' },
  ])('returns null for $name', ({ input }) => {
    expect(urlHost(input)).toBeNull();
  });
});
