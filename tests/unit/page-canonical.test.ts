import { describe, expect, it } from 'vitest';
import { canonicalFromHtml, MAX_SCAN_CHARS } from '../../src/ingest/page-canonical.js';

const PAGE = 'https://aggregator.example/news/2025/story-123?utm_source=rss';

/** A typical page around a head fragment. */
const doc = (head: string, body = '<p>Story text.</p>') =>
  `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Story</title>\n${head}\n</head>\n<body>${body}</body>\n</html>`;

describe('canonicalFromHtml: where the canonical points', () => {
  it.each([
    { name: 'an absolute canonical', html: doc('<link rel="canonical" href="https://aggregator.example/news/story-123">'), expected: 'https://aggregator.example/news/story-123' },
    {
      name: 'a canonical on another host (an aggregator naming the publisher)',
      html: doc('<link rel="canonical" href="https://publisher.example/2025/04/01/story">'),
      expected: 'https://publisher.example/2025/04/01/story',
    },
    { name: 'a root-relative href, against the page URL', html: doc('<link rel="canonical" href="/stories/123">'), expected: 'https://aggregator.example/stories/123' },
    { name: 'a path-relative href, against the page directory', html: doc('<link rel="canonical" href="story-123">'), expected: 'https://aggregator.example/news/2025/story-123' },
    { name: 'a dot-segment href', html: doc('<link rel="canonical" href="../2024/./old">'), expected: 'https://aggregator.example/news/2024/old' },
    { name: 'a protocol-relative href takes the page scheme', html: doc('<link rel="canonical" href="//publisher.example/story">'), expected: 'https://publisher.example/story' },
    { name: 'a query-only href', html: doc('<link rel="canonical" href="?id=7">'), expected: 'https://aggregator.example/news/2025/story-123?id=7' },
    { name: 'the fragment is dropped', html: doc('<link rel="canonical" href="https://publisher.example/story#comments">'), expected: 'https://publisher.example/story' },
    { name: 'surrounding whitespace in href is ignored', html: doc('<link rel="canonical" href="\n  https://publisher.example/story  \n">'), expected: 'https://publisher.example/story' },
    { name: 'a canonical equal to the page itself', html: doc(`<link rel="canonical" href="${PAGE}">`), expected: PAGE },
    { name: 'a plain http canonical is kept as http', html: doc('<link rel="canonical" href="http://publisher.example/story">'), expected: 'http://publisher.example/story' },
    { name: 'an IDN host in punycode', html: doc('<link rel="canonical" href="https://bücher.example/a">'), expected: 'https://xn--bcher-kva.example/a' },
  ])('$name', ({ html, expected }) => {
    expect(canonicalFromHtml(html, PAGE)).toBe(expected);
  });
});

describe('canonicalFromHtml: <base href>', () => {
  it.each([
    { name: 'an absolute base', head: '<base href="https://cdn.aggregator.example/a/"><link rel="canonical" href="story">', expected: 'https://cdn.aggregator.example/a/story' },
    { name: 'a relative base, itself resolved against the page', head: '<base href="/archive/"><link rel="canonical" href="story">', expected: 'https://aggregator.example/archive/story' },
    { name: 'a base after the link still applies (it is the document base)', head: '<link rel="canonical" href="story"><base href="https://other.example/x/">', expected: 'https://other.example/x/story' },
    {
      name: 'the first base with an href wins; one without href is skipped',
      head: '<base target="_blank"><base href="https://one.example/"><base href="https://two.example/"><link rel="canonical" href="s">',
      expected: 'https://one.example/s',
    },
    { name: 'a javascript: base is ignored', head: '<base href="javascript:alert(1)"><link rel="canonical" href="/s">', expected: 'https://aggregator.example/s' },
    { name: 'an unparseable base is ignored', head: '<base href="http://[broken"><link rel="canonical" href="/s">', expected: 'https://aggregator.example/s' },
    { name: 'a base does not change an absolute canonical', head: '<base href="https://cdn.example/"><link rel="canonical" href="https://publisher.example/s">', expected: 'https://publisher.example/s' },
    { name: 'a base in the body does not count', head: '<link rel="canonical" href="s">', body: '<base href="https://evil.example/">', expected: 'https://aggregator.example/news/2025/s' },
  ])('$name', ({ head, body, expected }) => {
    expect(canonicalFromHtml(doc(head, body), PAGE)).toBe(expected);
  });
});

describe('canonicalFromHtml: which link counts', () => {
  it.each([
    { name: 'rel in capitals', head: '<LINK REL="CANONICAL" HREF="/a">', expected: 'https://aggregator.example/a' },
    { name: 'rel as a token list', head: '<link rel="alternate  Canonical" href="/a">', expected: 'https://aggregator.example/a' },
    { name: 'rel tokens separated by newlines and tabs', head: '<link rel="\tme\ncanonical " href="/a">', expected: 'https://aggregator.example/a' },
    { name: 'a rel that only contains the word is not canonical', head: '<link rel="canonicalize" href="/x"><link rel="noncanonical" href="/y">', expected: null },
    { name: 'the first of several canonicals wins', head: '<link rel="canonical" href="/first"><link rel="canonical" href="/second">', expected: 'https://aggregator.example/first' },
    { name: 'a canonical without href is skipped', head: '<link rel="canonical"><link rel="canonical" href="/second">', expected: 'https://aggregator.example/second' },
    { name: 'other links are ignored', head: '<link rel="stylesheet" href="/s.css"><link rel="alternate" type="application/rss+xml" href="/feed"><link rel="canonical" href="/a">', expected: 'https://aggregator.example/a' },
    { name: 'unquoted attributes', head: '<link rel=canonical href=https://publisher.example/a>', expected: 'https://publisher.example/a' },
    { name: 'an unquoted href keeps its trailing slash before "/>"', head: '<link rel=canonical href=https://publisher.example/a/>', expected: 'https://publisher.example/a/' },
    { name: 'single-quoted attributes', head: "<link rel='canonical' href='/a?q=\"x\"'>", expected: 'https://aggregator.example/a?q=%22x%22' },
    { name: 'XHTML self-closing', head: '<link rel="canonical" href="/a" />', expected: 'https://aggregator.example/a' },
    { name: 'attributes in any order, across lines', head: '<link\n  href="/a"\n  rel="canonical"\n>', expected: 'https://aggregator.example/a' },
    { name: 'spaces around "="', head: '<link rel = "canonical" href = "/a">', expected: 'https://aggregator.example/a' },
    { name: 'the first of duplicated attributes wins', head: '<link rel="canonical" href="/first" href="/second">', expected: 'https://aggregator.example/first' },
    { name: '&amp; in the href is decoded', head: '<link rel="canonical" href="/a?x=1&amp;y=2">', expected: 'https://aggregator.example/a?x=1&y=2' },
    { name: 'a bare & that looks like an entity stays (attribute rules)', head: '<link rel="canonical" href="/a?x=1&copy=2&not=3">', expected: 'https://aggregator.example/a?x=1&copy=2&not=3' },
    { name: 'numeric character references are decoded', head: '<link rel="canonical" href="&#x2F;a&#47;b">', expected: 'https://aggregator.example/a/b' },
    { name: 'an encoded rel is decoded', head: '<link rel="&#99;anonical" href="/a">', expected: 'https://aggregator.example/a' },
    { name: '">" inside a quoted attribute of an earlier tag', head: '<meta name="description" content="a > b <link rel=canonical href=/fake>"><link rel="canonical" href="/real">', expected: 'https://aggregator.example/real' },
  ])('$name', ({ head, expected }) => {
    expect(canonicalFromHtml(doc(head), PAGE)).toBe(expected);
  });
});

describe('canonicalFromHtml: only the document head counts', () => {
  it.each([
    { name: 'a canonical in the body', html: doc('', '<link rel="canonical" href="/body">'), expected: null },
    { name: 'a canonical in a comment', html: doc('<!-- <link rel="canonical" href="/commented"> -->'), expected: null },
    { name: 'a conditional comment', html: doc('<!--[if IE]><link rel="canonical" href="/ie"><![endif]-->'), expected: null },
    { name: 'the abrupt comment "<!-->" ends at once', html: doc('<!--><link rel="canonical" href="/after">'), expected: 'https://aggregator.example/after' },
    { name: 'a comment closed by "--!>"', html: doc('<!-- x --!><link rel="canonical" href="/after">'), expected: 'https://aggregator.example/after' },
    { name: 'a canonical inside a script string', html: doc('<script>document.write("<link rel=canonical href=/js>")</script>'), expected: null },
    { name: 'after a script, whatever its case', html: doc('<SCRIPT type="text/javascript">var a = "</scr" + "ipt>";</Script ><link rel="canonical" href="/after">'), expected: 'https://aggregator.example/after' },
    { name: 'inside a style block', html: doc('<style>/* <link rel=canonical href=/css> */</style>'), expected: null },
    { name: 'inside noscript (pages are read with scripting on)', html: doc('<noscript><link rel="canonical" href="/noscript"></noscript>'), expected: null },
    { name: 'inside a template (inert content)', html: doc('<template><link rel="canonical" href="/tpl"></template>'), expected: null },
    { name: 'inside the title text', html: '<html><head><title>A <link rel=canonical href=/title> story</title></head></html>', expected: null },
    { name: 'after a title containing markup', html: '<head><title>A <b>bold</b> title</title><link rel="canonical" href="/a">', expected: 'https://aggregator.example/a' },
    { name: 'after an <img> that ended the head', html: doc('<img src="/pixel.gif"><link rel="canonical" href="/late">'), expected: null },
    { name: 'after a <div> that ended the head', html: '<html><head><div>x</div><link rel="canonical" href="/late"></head></html>', expected: null },
    { name: 'after text that ended the head', html: '<html><head>Hello <link rel="canonical" href="/late">', expected: null },
    { name: 'after a stray "<" (text)', html: '<head>< <link rel="canonical" href="/late">', expected: null },
    { name: 'after </body>', html: '<head></body><link rel="canonical" href="/late">', expected: null },
    { name: 'between </head> and <body> (still the head)', html: '<html><head><title>t</title></head>\n<link rel="canonical" href="/between"><body></body></html>', expected: 'https://aggregator.example/between' },
    { name: 'no <head> tag at all', html: '<link rel="canonical" href="/implied"><p>text</p>', expected: 'https://aggregator.example/implied' },
    { name: 'no <html> or <head>, after meta and title', html: '<meta charset=utf-8><title>x</title><link rel="canonical" href="/implied">', expected: 'https://aggregator.example/implied' },
    { name: 'a byte order mark and an XML declaration (XHTML)', html: '\uFEFF<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "x.dtd">\n<html xmlns="http://www.w3.org/1999/xhtml"><head><link rel="canonical" href="/x"/></head></html>', expected: 'https://aggregator.example/x' },
    { name: 'a long inline style before the link', html: doc(`<style>${'.a{color:red}'.repeat(10_000)}</style><link rel="canonical" href="/after-css">`), expected: 'https://aggregator.example/after-css' },
  ])('$name', ({ html, expected }) => {
    expect(canonicalFromHtml(html, PAGE)).toBe(expected);
  });

  it(`reads only the first ${MAX_SCAN_CHARS / 1024} KiB`, () => {
    const pad = (n: number) => `<meta name="pad" content="${'x'.repeat(n)}">`;
    const link = '<link rel="canonical" href="/a">';
    expect(canonicalFromHtml(`<head>${pad(MAX_SCAN_CHARS - 200)}${link}</head>`, PAGE)).toBe('https://aggregator.example/a');
    expect(canonicalFromHtml(`<head>${pad(MAX_SCAN_CHARS)}${link}</head>`, PAGE)).toBeNull();
  });
});

describe('canonicalFromHtml: unusable canonicals and junk give null', () => {
  it.each([
    { name: 'an empty document', html: '' },
    { name: 'no canonical', html: doc('<link rel="alternate" href="/feed">') },
    { name: 'only og:url (deliberately not used)', html: doc('<meta property="og:url" content="https://publisher.example/story">') },
    { name: 'an empty href', html: doc('<link rel="canonical" href="">') },
    { name: 'a whitespace href', html: doc('<link rel="canonical" href="   ">') },
    { name: 'a first canonical that is junk (later ones are not consulted)', html: doc('<link rel="canonical" href="javascript:void(0)"><link rel="canonical" href="/ok">') },
    { name: 'a mailto: canonical', html: doc('<link rel="canonical" href="mailto:editor@publisher.example">') },
    { name: 'a data: canonical', html: doc('<link rel="canonical" href="data:text/html,hi">') },
    { name: 'an unparseable canonical', html: doc('<link rel="canonical" href="https://[::1">') },
    { name: 'a canonical with an empty host', html: doc('<link rel="canonical" href="https://">') },
    { name: 'credentials in the canonical', html: doc('<link rel="canonical" href="https://user:pw@publisher.example/a">') },
    { name: 'an absurdly long canonical', html: doc(`<link rel="canonical" href="/${'a'.repeat(5000)}">`) },
    { name: 'the home page as canonical of an article (template bug)', html: doc('<link rel="canonical" href="https://aggregator.example/">') },
    { name: 'another site’s home page as canonical of an article', html: doc('<link rel="canonical" href="https://publisher.example">') },
    { name: 'plain text', html: 'This is not HTML at all, <link rel=canonical href=/x> nope.' },
    { name: 'JSON', html: '{"link": "<link rel=\\"canonical\\" href=\\"/x\\">"}' },
    { name: 'an RSS document', html: '<?xml version="1.0"?><rss><channel><link rel="canonical" href="/x"/></channel></rss>' },
    { name: 'binary garbage', html: '%PDF-1.7\n\u0000\u0001\u00ff<link rel=canonical href=/x>' },
    { name: 'an unterminated comment', html: '<head><!-- <link rel="canonical" href="/x">' },
    { name: 'an unterminated tag', html: '<head><link rel="canonical" href="/x' },
    { name: 'an unterminated script', html: '<head><script>var x = 1; <link rel="canonical" href="/x">' },
    { name: 'a lone "<"', html: '<' },
  ])('$name', ({ html }) => {
    expect(canonicalFromHtml(html, PAGE)).toBeNull();
  });

  it('keeps a root canonical when the page is a root itself', () => {
    expect(canonicalFromHtml(doc('<link rel="canonical" href="https://www.publisher.example/">'), 'https://publisher.example/')).toBe(
      'https://www.publisher.example/',
    );
  });

  it.each([
    { name: 'not a URL', pageUrl: 'story-123' },
    { name: 'not http(s)', pageUrl: 'file:///etc/passwd' },
  ])('throws a RangeError naming the pageUrl when it is $name', ({ pageUrl }) => {
    expect(() => canonicalFromHtml(doc(''), pageUrl)).toThrow(RangeError);
    expect(() => canonicalFromHtml(doc(''), pageUrl)).toThrow(pageUrl);
  });
});
