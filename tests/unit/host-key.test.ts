import { describe, expect, it } from 'vitest';
import { hostKeyFor } from '../../src/ingest/host-key.js';

describe('hostKeyFor: registrable domain (eTLD+1) by the public suffix list', () => {
  it.each([
    { name: 'a subdomain shares its publisher\'s key', url: 'https://feeds.bbci.co.uk/news/rss.xml', expected: 'bbci.co.uk' },
    { name: 'another subdomain of the same publisher', url: 'https://www.bbci.co.uk/', expected: 'bbci.co.uk' },
    { name: 'the registrable domain itself', url: 'https://example.com/feed', expected: 'example.com' },
    { name: 'deep subdomains', url: 'http://a.b.c.example.com/x', expected: 'example.com' },
    { name: 'a two-label ICANN suffix (co.uk)', url: 'https://news.example.co.uk/', expected: 'example.co.uk' },
    { name: 'an ICANN wildcard rule (*.kawasaki.jp)', url: 'https://a.b.kawasaki.jp/', expected: 'a.b.kawasaki.jp' },
    { name: 'an ICANN exception rule (!city.kawasaki.jp)', url: 'https://www.city.kawasaki.jp/', expected: 'city.kawasaki.jp' },
    { name: 'a private suffix: each blogspot blog is its own site', url: 'https://a.blogspot.com/feeds/posts/default', expected: 'a.blogspot.com' },
    { name: 'a private suffix: a subdomain of a blogspot blog', url: 'https://www.a.blogspot.com/', expected: 'a.blogspot.com' },
    { name: 'a private suffix: github.io pages', url: 'https://someone.github.io/feed.xml', expected: 'someone.github.io' },
    { name: 'a platform that is not on the list shares one key', url: 'https://writer.substack.com/feed', expected: 'substack.com' },
    { name: 'upper-case host is lower-cased', url: 'HTTPS://FEEDS.Example.COM/Feed', expected: 'example.com' },
    { name: 'port and credentials do not matter', url: 'https://u:p@feeds.example.com:8443/x', expected: 'example.com' },
    { name: 'a trailing dot names the same host', url: 'https://feeds.example.com./x', expected: 'example.com' },
    { name: 'an IDN is keyed by its punycode', url: 'https://blog.bücher.de/', expected: 'xn--bcher-kva.de' },
    { name: 'punycode input gives the same key', url: 'https://xn--bcher-kva.de/', expected: 'xn--bcher-kva.de' },
    { name: 'underscores in a label are tolerated', url: 'https://my_feeds.example.com/', expected: 'example.com' },
  ])('$name', ({ url, expected }) => {
    expect(hostKeyFor(url)).toBe(expected);
  });
});

describe('hostKeyFor: IP literals are their own key', () => {
  it.each([
    { name: 'IPv4', url: 'http://127.0.0.1:8080/feed', expected: '127.0.0.1' },
    { name: 'IPv4 in hex/short form, normalised by the URL parser', url: 'http://0x7f.1/feed', expected: '127.0.0.1' },
    { name: 'public IPv4', url: 'https://93.184.216.34/feed', expected: '93.184.216.34' },
    { name: 'IPv6 loopback, brackets removed', url: 'http://[::1]:3000/feed', expected: '::1' },
    { name: 'IPv6 in long form is compressed', url: 'http://[0:0:0:0:0:0:0:1]/', expected: '::1' },
    { name: 'IPv6 upper-case hex is lower-cased', url: 'https://[2001:DB8::A]/feed', expected: '2001:db8::a' },
  ])('$name', ({ url, expected }) => {
    expect(hostKeyFor(url)).toBe(expected);
  });
});

describe('hostKeyFor: hosts without a registrable domain are keyed by the hostname', () => {
  it.each([
    { name: 'localhost', url: 'http://localhost:8080/feed', expected: 'localhost' },
    { name: 'a single-label intranet name', url: 'http://intranet/feed.xml', expected: 'intranet' },
    { name: 'a TLD the list does not know', url: 'https://feeds.foo.invalidtld/rss', expected: 'feeds.foo.invalidtld' },
    { name: 'a reserved example TLD (RFC 2606)', url: 'https://daily.example/feed', expected: 'daily.example' },
    { name: 'a subdomain under an unknown TLD is not grouped by guess', url: 'https://a.corp.internal/feed', expected: 'a.corp.internal' },
    { name: 'a public suffix itself (ICANN)', url: 'https://co.uk/', expected: 'co.uk' },
    { name: 'a public suffix itself (private)', url: 'https://blogspot.com/', expected: 'blogspot.com' },
  ])('$name', ({ url, expected }) => {
    expect(hostKeyFor(url)).toBe(expected);
  });
});

describe('hostKeyFor: not an http(s) URL with a host', () => {
  it.each([
    { name: 'empty string', url: '' },
    { name: 'plain words', url: 'not a url' },
    { name: 'a bare host without a scheme', url: 'example.com/feed' },
    { name: 'a relative path', url: '/feed.xml' },
    { name: 'mailto', url: 'mailto:editor@example.com' },
    { name: 'file URL without a host', url: 'file:///etc/passwd' },
    { name: 'ftp URL (never fetched)', url: 'ftp://ftp.example.com/feed' },
    { name: 'data URL', url: 'data:text/xml,<rss/>' },
    { name: 'an invalid host', url: 'http://exa mple.com/' },
    { name: 'an unclosed IPv6 literal', url: 'http://[::1/' },
  ])('$name -> null', ({ url }) => {
    expect(hostKeyFor(url)).toBeNull();
  });
});
