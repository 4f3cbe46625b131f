import { describe, expect, it } from 'vitest';
import { absolutizeSrcset, decodeHtmlEntities, escapeHtml, htmlToText, printableText, resolveHtmlUrls, sanitizeHtml } from '../../src/ingest/sanitize-html.js';

const BASE = 'https://publisher.example/2024/05/story.html';

describe('sanitizeHtml removes hostile markup', () => {
  it.each([
    { name: 'script element and its text', input: '<p>a</p><script>alert(1)</script>', expected: '<p>a</p>' },
    { name: 'script with odd casing', input: '<ScRiPt>alert(1)</sCrIpT>ok', expected: 'ok' },
    { name: 'style element and its text', input: '<style>body{display:none}</style><p>a</p>', expected: '<p>a</p>' },
    { name: 'iframe', input: '<iframe src="https://evil.example/"></iframe><p>a</p>', expected: '<p>a</p>' },
    { name: 'object and embed', input: '<object data="x.swf"><embed src="x.swf"></object>text', expected: 'text' },
    { name: 'form elements, keeping no controls', input: '<form action="https://evil.example/"><input name="q"><button>Go</button><select><option>1</option></select><textarea>t</textarea></form>after', expected: 'after' },
    { name: 'event handler attributes', input: '<p onclick="alert(1)" onmouseover="x()">a</p>', expected: '<p>a</p>' },
    { name: 'event handler on an image', input: '<img src="https://cdn.example/a.png" onerror="alert(1)">', expected: '<img src="https://cdn.example/a.png" />' },
    { name: 'style attributes', input: '<p style="position:fixed;top:0">a</p>', expected: '<p>a</p>' },
    { name: 'class and id attributes', input: '<p class="x" id="y">a</p>', expected: '<p>a</p>' },
    { name: 'javascript: links', input: '<a href="javascript:alert(1)">x</a>', expected: '<a rel="nofollow noopener">x</a>' },
    { name: 'javascript: with entities and whitespace', input: '<a href="&#106;ava&#x09;script&colon;alert(1)">x</a>', expected: '<a rel="nofollow noopener">x</a>' },
    { name: 'JAVASCRIPT: upper case with leading space', input: '<a href=" JAVASCRIPT:alert(1)">x</a>', expected: '<a rel="nofollow noopener">x</a>' },
    { name: 'vbscript: links', input: '<a href="vbscript:msgbox(1)">x</a>', expected: '<a rel="nofollow noopener">x</a>' },
    { name: 'data: links', input: '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>', expected: '<a rel="nofollow noopener">x</a>' },
    { name: 'data: images (the element goes)', input: '<p><img src="data:image/svg+xml;base64,PHN2Zz4=">a</p>', expected: '<p>a</p>' },
    { name: 'javascript: image src', input: '<img src="javascript:alert(1)" alt="x">', expected: '' },
    { name: 'unsafe srcset candidates', input: '<img srcset="data:image/png;base64,AAA 1x, https://cdn.example/b.png 2x">', expected: '<img srcset="https://cdn.example/b.png 2x" />' },
    { name: 'autoplay on video', input: '<video src="https://cdn.example/v.mp4" autoplay controls></video>', expected: '<video src="https://cdn.example/v.mp4" controls></video>' },
    { name: 'meta refresh and base', input: '<meta http-equiv="refresh" content="0;url=https://evil.example"><base href="https://evil.example/">a', expected: 'a' },
    { name: 'link and svg', input: '<link rel="stylesheet" href="x.css"><svg><script>alert(1)</script></svg>b', expected: 'b' },
    { name: 'HTML comments and conditional comments', input: '<!--[if IE]><script>alert(1)</script><![endif]-->a<!-- hi -->', expected: 'a' },
    { name: 'target attribute (tabnabbing)', input: '<a href="https://x.example/" target="_blank">x</a>', expected: '<a href="https://x.example/" rel="nofollow noopener">x</a>' },
    { name: 'a publisher rel is replaced', input: '<a href="https://x.example/" rel="sponsored opener">x</a>', expected: '<a href="https://x.example/" rel="nofollow noopener">x</a>' },
    { name: 'unclosed tags are closed', input: '<p><b>bold', expected: '<p><b>bold</b></p>' },
    { name: 'a stray less-than stays text', input: '<p>1 < 2</p>', expected: '<p>1 &lt; 2</p>' },
    { name: 'attribute breaking out of quotes', input: '<img src="https://cdn.example/a.png" alt="x&quot; onerror=&quot;alert(1)">', expected: '<img src="https://cdn.example/a.png" alt="x&quot; onerror=&quot;alert(1)" />' },
  ])('$name', ({ input, expected }) => {
    expect(sanitizeHtml(input, BASE)).toBe(expected);
  });
});

describe('sanitizeHtml keeps article markup', () => {
  it.each([
    { name: 'paragraphs and emphasis', input: '<p>a <em>b</em> <strong>c</strong> <b>d</b> <i>e</i> <u>f</u> <s>g</s></p>' },
    { name: 'headings', input: '<h1>a</h1><h2>b</h2><h6>c</h6>' },
    { name: 'lists', input: '<ul><li>a</li></ul><ol start="3"><li>b</li></ol><dl><dt>c</dt><dd>d</dd></dl>' },
    { name: 'quotes and code', input: '<blockquote cite="https://q.example/">a</blockquote><q>b</q><cite>c</cite><pre><code>d</code></pre>' },
    { name: 'figures', input: '<figure><img src="https://cdn.example/a.jpg" alt="A" width="10" height="20" /><figcaption>cap</figcaption></figure>' },
    { name: 'tables', input: '<table><caption>t</caption><thead><tr><th scope="col">h</th></tr></thead><tbody><tr><td colspan="2">d</td></tr></tbody></table>' },
    { name: 'misc inline', input: '<p>H<sub>2</sub>O x<sup>2</sup> <small>s</small> <abbr title="World Wide Web">WWW</abbr> <time datetime="2024-05-07">today</time></p>' },
    { name: 'rule and break', input: '<p>a<br />b</p><hr />' },
    { name: 'picture with sources', input: '<picture><source srcset="https://cdn.example/a.webp" type="image/webp" /><img src="https://cdn.example/a.jpg" alt="" /></picture>' },
    { name: 'audio with controls', input: '<audio src="https://cdn.example/a.mp3" controls></audio>' },
    { name: 'mailto links', input: '<a href="mailto:editor@publisher.example" rel="nofollow noopener">mail</a>' },
  ])('$name', ({ input }) => {
    expect(sanitizeHtml(input, BASE)).toBe(input);
  });
});

describe('sanitizeHtml makes URLs absolute', () => {
  it.each([
    { name: 'relative href', input: '<a href="../other.html">x</a>', expected: '<a href="https://publisher.example/2024/other.html" rel="nofollow noopener">x</a>' },
    { name: 'root-relative img src', input: '<img src="/img/a.png" alt="" />', expected: '<img src="https://publisher.example/img/a.png" alt="" />' },
    { name: 'protocol-relative src', input: '<img src="//cdn.example/a.png" />', expected: '<img src="https://cdn.example/a.png" />' },
    { name: 'srcset with descriptors', input: '<img srcset="a.jpg 1x, /b.jpg 2x" />', expected: '<img srcset="https://publisher.example/2024/05/a.jpg 1x, https://publisher.example/b.jpg 2x" />' },
    { name: 'blockquote cite', input: '<blockquote cite="/source">q</blockquote>', expected: '<blockquote cite="https://publisher.example/source">q</blockquote>' },
    { name: 'video poster', input: '<video poster="p.jpg" controls></video>', expected: '<video poster="https://publisher.example/2024/05/p.jpg" controls></video>' },
    { name: 'fragment links stay in the story', input: '<a href="#note-1">1</a>', expected: '<a href="#note-1" rel="nofollow noopener">1</a>' },
  ])('$name', ({ input, expected }) => {
    expect(sanitizeHtml(input, BASE)).toBe(expected);
  });

  it('leaves relative URLs alone without a base', () => {
    expect(sanitizeHtml('<img src="a.png" />', null)).toBe('<img src="a.png" />');
  });

  it('returns an empty string for empty input', () => {
    expect(sanitizeHtml('', BASE)).toBe('');
  });
});

describe('absolutizeSrcset', () => {
  it.each([
    { name: 'width descriptors', input: 'a.jpg 300w, b.jpg 600w', expected: 'https://x.example/p/a.jpg 300w, https://x.example/p/b.jpg 600w' },
    { name: 'commas inside a CDN URL', input: '/w_300,c_fill/a.jpg 300w, /w_600,c_fill/a.jpg 600w', expected: 'https://x.example/w_300,c_fill/a.jpg 300w, https://x.example/w_600,c_fill/a.jpg 600w' },
    { name: 'no descriptor', input: 'a.jpg', expected: 'https://x.example/p/a.jpg' },
    { name: 'URL ending in a comma', input: 'a.jpg,b.jpg 2x', expected: 'https://x.example/p/a.jpg,b.jpg 2x' },
    { name: 'extra whitespace', input: '  a.jpg   1x ,  b.jpg 2x  ', expected: 'https://x.example/p/a.jpg 1x, https://x.example/p/b.jpg 2x' },
  ])('$name', ({ input, expected }) => {
    expect(absolutizeSrcset(input, 'https://x.example/p/index.html')).toBe(expected);
  });
});

describe('resolveHtmlUrls', () => {
  it('resolves URLs without removing anything', () => {
    expect(resolveHtmlUrls('<p class="k"><img src="a.png"><a href="/b">b</a></p>', 'https://x.example/dir/')).toBe(
      '<p class="k"><img src="https://x.example/dir/a.png" /><a href="https://x.example/b">b</a></p>',
    );
  });
});

describe('htmlToText', () => {
  it.each([
    { name: 'strips tags', input: '<p>Hello <b>world</b></p>', expected: 'Hello world' },
    { name: 'separates blocks', input: '<p>one</p><p>two</p><ul><li>three</li><li>four</li></ul>', expected: 'one two three four' },
    { name: 'separates at line breaks', input: 'a<br>b<br/>c', expected: 'a b c' },
    { name: 'decodes named entities', input: 'Caf&eacute; &amp; cr&egrave;me &hellip; &ldquo;q&rdquo;', expected: 'Café & crème … “q”' },
    { name: 'decodes numeric entities', input: '&#8220;x&#x201D; &#36;5', expected: '“x” $5' },
    { name: 'keeps escaped markup as text', input: '&lt;script&gt;', expected: '<script>' },
    { name: 'decodes only once', input: '&amp;lt;b&amp;gt;', expected: '&lt;b&gt;' },
    { name: 'collapses whitespace and nbsp', input: '  a \n\t b&nbsp;&nbsp;c  ', expected: 'a b c' },
    { name: 'drops script and style text', input: 'a<script>var x = 1;</script><style>p{}</style>b', expected: 'ab' },
    { name: 'keeps a bare ampersand', input: 'AT&T', expected: 'AT&T' },
    { name: 'keeps quotes', input: '"quoted" \'single\'', expected: '"quoted" \'single\'' },
  ])('$name', ({ input, expected }) => {
    expect(htmlToText(input)).toBe(expected);
  });

  it.each([{ name: 'null', input: null }, { name: 'undefined', input: undefined }, { name: 'empty', input: '' }])('returns "" for $name', ({ input }) => {
    expect(htmlToText(input)).toBe('');
  });
});

describe('decodeHtmlEntities and escapeHtml', () => {
  it('decodes entities but keeps angle brackets', () => {
    expect(decodeHtmlEntities('a <b> &nbsp;&copy;')).toBe('a <b> \u00a0©');
  });
  it('escapes the characters HTML gives meaning to', () => {
    expect(escapeHtml('<a href="x">&</a>')).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;');
  });
});

describe('printableText', () => {
  it.each([
    { name: 'plain text unchanged', input: 'Unexpected close tag', expected: 'Unexpected close tag' },
    { name: 'NUL escaped', input: 'Char: \u0000', expected: 'Char: \\u0000' },
    { name: 'newline escaped', input: 'a\nb', expected: 'a\\u000ab' },
    { name: 'long text cut', input: 'x'.repeat(400), expected: `${'x'.repeat(300)}…` },
  ])('$name', ({ input, expected }) => {
    expect(printableText(input)).toBe(expected);
  });
});
