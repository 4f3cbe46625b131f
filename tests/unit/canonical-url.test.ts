import { describe, expect, it } from 'vitest';
import { canonicalUrl, identityUrl, urlHost } from '../../src/ingest/canonical-url.js';
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

describe('canonicalUrl: AMP forms map to the plain article when certain', () => {
  it.each([
    { name: 'trailing /amp/ segment', input: 'https://x.example/2026/11/story/amp/', expected: 'https://x.example/2026/11/story/' },
    { name: 'trailing /amp segment', input: 'https://x.example/2026/11/story/amp', expected: 'https://x.example/2026/11/story' },
    { name: 'trailing /amp/ keeps the query', input: 'https://x.example/story/amp/?id=7', expected: 'https://x.example/story/?id=7' },
    { name: '?amp=1 removed', input: 'https://x.example/story?amp=1', expected: 'https://x.example/story' },
    { name: '?amp removed', input: 'https://x.example/story?amp', expected: 'https://x.example/story' },
    { name: '?amp= removed', input: 'https://x.example/story?amp=', expected: 'https://x.example/story' },
    { name: '?amp=1 removed, other parameters kept', input: 'https://x.example/story?p=2&amp=1', expected: 'https://x.example/story?p=2' },
    { name: '?outputType=amp removed', input: 'https://x.example/story?outputType=amp', expected: 'https://x.example/story' },
    { name: '?outputtype=AMP removed (any case)', input: 'https://x.example/story?outputtype=AMP', expected: 'https://x.example/story' },
    { name: 'AMP viewer parameters removed', input: 'https://x.example/story?amp_js_v=0.1&usqp=mq331AQ&id=3', expected: 'https://x.example/story?id=3' },
    { name: 'Google AMP cache /c/s/ (https origin)', input: 'https://www-example-com.cdn.ampproject.org/c/s/www.example.com/story', expected: 'https://www.example.com/story' },
    { name: 'Google AMP cache /c/ (http origin)', input: 'https://www-example-com.cdn.ampproject.org/c/www.example.com/story', expected: 'http://www.example.com/story' },
    { name: 'Google AMP cache /v/s/ (viewer)', input: 'https://www-example-com.cdn.ampproject.org/v/s/www.example.com/story?amp_js_v=0.1&usqp=mq331AQHKAFQArABIA', expected: 'https://www.example.com/story' },
    { name: 'Google AMP cache of an /amp/ page', input: 'https://www-example-com.cdn.ampproject.org/c/s/www.example.com/2026/11/story/amp/', expected: 'https://www.example.com/2026/11/story/' },
    { name: 'Google AMP cache keeps the origin query', input: 'https://www-example-com.cdn.ampproject.org/c/s/www.example.com/story?id=9&utm_source=x', expected: 'https://www.example.com/story?id=9' },
    { name: 'AMP cache without a subdomain', input: 'https://cdn.ampproject.org/c/s/www.example.com/story', expected: 'https://www.example.com/story' },
    { name: 'Bing AMP cache', input: 'https://www-example-com.bing-amp.com/c/s/www.example.com/story', expected: 'https://www.example.com/story' },
    { name: 'Google AMP viewer /amp/s/', input: 'https://www.google.com/amp/s/www.example.com/story', expected: 'https://www.example.com/story' },
    { name: 'Google AMP viewer /amp/ (http origin)', input: 'https://www.google.com/amp/www.example.com/story', expected: 'http://www.example.com/story' },
    { name: 'Google AMP viewer on a country domain', input: 'https://www.google.co.uk/amp/s/news.example.co.uk/a/amp', expected: 'https://news.example.co.uk/a' },
    { name: 'nested AMP cache and viewer', input: 'https://www.google.com/amp/s/www-example-com.cdn.ampproject.org/c/s/www.example.com/story', expected: 'https://www.example.com/story' },
  ])('$name', ({ input, expected }) => {
    expect(canonicalUrl(input)).toBe(expected);
  });

  it.each([
    { name: '/amp alone (a section, not an article)', input: 'https://x.example/amp' },
    { name: '/amp/ alone', input: 'https://x.example/amp/' },
    { name: 'an amp segment mid-path', input: 'https://x.example/news/amp/world-1' },
    { name: 'a segment merely ending in amp', input: 'https://x.example/reviews/champ' },
    { name: 'an upper-case AMP segment', input: 'https://x.example/story/AMP' },
    { name: '.amp.html (one publisher\'s convention)', input: 'https://x.example/story.amp.html' },
    { name: 'the amp. host prefix (identity only, see identityUrl)', input: 'https://amp.example.com/story' },
    { name: '?amp=0', input: 'https://x.example/story?amp=0' },
    { name: '?outputType=print', input: 'https://x.example/story?outputType=print' },
    { name: 'an AMP cache image (/i/)', input: 'https://www-example-com.cdn.ampproject.org/i/s/www.example.com/a.jpg' },
    { name: 'an AMP cache path with no origin host', input: 'https://cdn.ampproject.org/c/s/nohost/story' },
    { name: 'google.com/amp/ outside the viewer form', input: 'https://www.google.com/amp/' },
    { name: 'a look-alike cache host', input: 'https://cdn.ampproject.org.evil.example/c/s/www.example.com/story' },
    { name: 'a look-alike Google host', input: 'https://www.google.evil.example/amp/s/www.example.com/story' },
  ])('keeps $name', ({ input }) => {
    expect(canonicalUrl(input)).toBe(input);
  });
});

describe('identityUrl folds one site\'s spellings of a story', () => {
  it.each([
    { name: 'http -> https', input: 'http://x.example/a', expected: 'https://x.example/a' },
    { name: 'www. removed', input: 'https://www.x.example/a', expected: 'https://x.example/a' },
    { name: 'amp. removed', input: 'https://amp.theguardian.com/world/2026/story', expected: 'https://theguardian.com/world/2026/story' },
    { name: 'http and www. together', input: 'http://www.x.example/a', expected: 'https://x.example/a' },
    { name: 'a trailing slash on a non-root path', input: 'https://x.example/a/', expected: 'https://x.example/a' },
    { name: 'several trailing slashes', input: 'https://x.example/a//', expected: 'https://x.example/a' },
    { name: 'a trailing slash before a query', input: 'https://x.example/a/?id=1', expected: 'https://x.example/a?id=1' },
    { name: 'index.html', input: 'https://x.example/news/index.html', expected: 'https://x.example/news' },
    { name: 'index.htm', input: 'https://x.example/news/index.htm', expected: 'https://x.example/news' },
    { name: 'index.php with its query', input: 'https://x.example/index.php?p=12', expected: 'https://x.example/?p=12' },
    { name: 'index.html at the root', input: 'http://www.x.example/index.html', expected: 'https://x.example/' },
    { name: 'an AMP endpoint behind an index file', input: 'https://x.example/story/amp/index.html', expected: 'https://x.example/story' },
    { name: 'a registrable domain under a two-label suffix', input: 'http://www.bbc.co.uk/news/1', expected: 'https://bbc.co.uk/news/1' },
    { name: 'a tenant of a hosting platform', input: 'http://www.alice.blogspot.com/p/', expected: 'https://alice.blogspot.com/p' },
    { name: 'canonicalises first (tracking, AMP, case)', input: 'HTTP://WWW.X.example/a/amp/?utm_source=rss&amp=1', expected: 'https://x.example/a' },
  ])('$name', ({ input, expected }) => {
    expect(identityUrl(input)).toBe(expected);
  });

  it.each([
    { name: 'the root path', input: 'https://x.example/' },
    { name: 'an explicit port keeps its scheme', input: 'http://x.example:8080/a' },
    { name: 'an IPv4 host with a port', input: 'http://127.0.0.1:8080/a' },
    { name: 'an IPv6 host with a port', input: 'http://[::1]:8080/a' },
    { name: 'www. on a public suffix (www.co.uk)', input: 'https://www.co.uk/a' },
    { name: 'www. on a private suffix (www.github.io)', input: 'https://www.github.io/a' },
    { name: 'www. before a single label', input: 'https://www.localhost/a' },
    { name: 'amp. as the registrable name (amp.dev)', input: 'https://amp.dev/documentation' },
    { name: 'other subdomains', input: 'https://blog.x.example/a' },
    { name: 'a host merely starting with www', input: 'https://wwwx.example/a' },
    { name: 'other file names', input: 'https://x.example/news/index2.html' },
    { name: 'the query order and values', input: 'https://x.example/a?b=2&c=3' },
    { name: 'path case', input: 'https://x.example/A/b' },
  ])('keeps $name', ({ input }) => {
    expect(identityUrl(input)).toBe(input);
  });

  it.each([
    { name: 'not a URL', input: 'not a url' },
    { name: 'a tag URI', input: 'tag:x.example,2026:1' },
  ])('returns $name unchanged', ({ input }) => {
    expect(identityUrl(input)).toBe(input);
  });

  it.each([
    { name: 'http/https', a: 'http://x.example/2026/story', b: 'https://x.example/2026/story' },
    { name: 'www/bare', a: 'https://www.x.example/2026/story', b: 'https://x.example/2026/story' },
    { name: 'amp/plain (path)', a: 'https://x.example/2026/story/amp/', b: 'https://x.example/2026/story' },
    { name: 'amp/plain (host)', a: 'https://amp.x.example/2026/story', b: 'https://www.x.example/2026/story' },
    { name: 'amp/plain (cache)', a: 'https://x-example.cdn.ampproject.org/c/s/x.example/2026/story', b: 'http://x.example/2026/story/' },
    { name: 'trailing slash', a: 'https://x.example/2026/story/', b: 'https://x.example/2026/story' },
  ])('gives one identity to $name', ({ a, b }) => {
    expect(identityUrl(canonicalUrl(a) ?? a)).toBe(identityUrl(canonicalUrl(b) ?? b));
  });

  it.each([
    { name: 'different paths', a: 'https://x.example/a', b: 'https://x.example/b' },
    { name: 'different subdomains', a: 'https://blog.x.example/a', b: 'https://x.example/a' },
    { name: 'different queries', a: 'https://x.example/a?id=1', b: 'https://x.example/a?id=2' },
    { name: 'different ports', a: 'http://x.example:8080/a', b: 'http://x.example:8081/a' },
    { name: 'two tenants of one platform', a: 'https://alice.github.io/a', b: 'https://bob.github.io/a' },
    { name: 'path case', a: 'https://x.example/A', b: 'https://x.example/a' },
  ])('keeps apart $name', ({ a, b }) => {
    expect(identityUrl(canonicalUrl(a) ?? a)).not.toBe(identityUrl(canonicalUrl(b) ?? b));
  });

  it('is idempotent and a fixed point of canonicalUrl on every case above', () => {
    const inputs = [
      'http://www.x.example/a/',
      'https://amp.x.example/story/amp/index.html?amp=1',
      'https://www-example-com.cdn.ampproject.org/v/s/www.example.com/story/amp/',
      'http://x.example:8080/a//',
      'https://x.example/index.php?p=1&utm_source=x',
      'https://www.co.uk/a/',
    ];
    for (const input of inputs) {
      const once = identityUrl(input);
      expect(identityUrl(once), input).toBe(once);
      expect(canonicalUrl(once), input).toBe(once);
    }
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
