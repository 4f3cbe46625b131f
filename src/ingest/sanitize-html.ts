// Publisher HTML is hostile input: it ends up inside our republished feeds and API answers, where a
// reader's client renders it. We keep article markup and drop everything active (scripts, styles,
// frames, forms, event handlers, style attributes, non-http URLs). Built on sanitize-html (an
// allow-list over htmlparser2, the parser browsers' behaviour is modelled on) rather than regexes,
// because tag soup defeats regexes.
import sanitize from 'sanitize-html';

/** Markup a story may keep. Everything else is dropped, its text kept (except NON_TEXT_TAGS). */
const ALLOWED_TAGS: readonly string[] = [
  'p', 'br', 'hr', 'div', 'span',
  'a', 'em', 'strong', 'b', 'i', 'u', 's', 'del', 'ins', 'mark', 'small', 'sub', 'sup',
  'abbr', 'cite', 'q', 'blockquote', 'code', 'pre', 'kbd', 'samp', 'var', 'time',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6',
  'ul', 'ol', 'li', 'dl', 'dt', 'dd',
  'figure', 'figcaption', 'img', 'picture', 'source', 'audio', 'video', 'track',
  'table', 'caption', 'colgroup', 'col', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td',
  'details', 'summary',
];

// No global attributes at all: `style`, `class`, `id` and `on*` never survive. Media elements get
// `controls` but not `autoplay` (a republished story must not start playing by itself).
const ALLOWED_ATTRIBUTES: Record<string, string[]> = {
  a: ['href', 'title', 'rel'],
  img: ['src', 'srcset', 'sizes', 'alt', 'title', 'width', 'height'],
  source: ['src', 'srcset', 'sizes', 'media', 'type'],
  audio: ['src', 'controls', 'preload'],
  video: ['src', 'poster', 'controls', 'preload', 'width', 'height'],
  track: ['src', 'kind', 'srclang', 'label'],
  blockquote: ['cite'],
  q: ['cite'],
  del: ['cite', 'datetime'],
  ins: ['cite', 'datetime'],
  time: ['datetime'],
  abbr: ['title'],
  ol: ['start', 'reversed', 'type'],
  li: ['value'],
  td: ['colspan', 'rowspan', 'headers'],
  th: ['colspan', 'rowspan', 'headers', 'scope'],
  col: ['span'],
  colgroup: ['span'],
};

/** Elements whose text content is not article text: dropped with everything inside them. */
const NON_TEXT_TAGS = ['script', 'style', 'textarea', 'option', 'select', 'button', 'title', 'template', 'xmp', 'noembed', 'noframes', 'iframe', 'head'];

/** Attributes that hold one URL; `srcset` holds several and is handled on its own. */
const URL_ATTRIBUTES = ['href', 'src', 'cite', 'poster'];

/**
 * Only web links survive: `javascript:`, `vbscript:`, `data:` (including data:image, which can carry
 * SVG with script and lets a publisher smuggle any bytes into our output) and `file:` are dropped.
 */
const SAFE_SCHEMES = ['http', 'https'];

const SANITIZE_OPTIONS: sanitize.IOptions = {
  allowedTags: [...ALLOWED_TAGS],
  allowedAttributes: ALLOWED_ATTRIBUTES,
  allowedSchemes: SAFE_SCHEMES,
  allowedSchemesByTag: { a: [...SAFE_SCHEMES, 'mailto'] },
  // srcset is not listed: sanitize-html checks each of its candidates on its own (listing it would
  // judge the whole attribute by its first URL).
  allowedSchemesAppliedToAttributes: ['href', 'src', 'cite', 'poster'],
  allowProtocolRelative: true,
  disallowedTagsMode: 'discard',
  nonTextTags: NON_TEXT_TAGS,
  selfClosing: ['img', 'br', 'hr', 'source', 'track', 'col', 'wbr'],
  // An <img> or <source> whose only URL was unsafe is useless: drop the element, not just the attribute.
  exclusiveFilter: (frame) =>
    (frame.tag === 'img' || frame.tag === 'source') && !frame.attribs['src'] && !frame.attribs['srcset'],
};

/**
 * Sanitise publisher HTML for republishing. Relative `href`/`src`/`srcset`/`cite`/`poster` are made
 * absolute against `baseUrl` (our readers are on another origin, so relative URLs would break), and
 * every link gets `rel="nofollow noopener"` (we vouch for nothing; no `window.opener` access).
 */
export function sanitizeHtml(html: string, baseUrl: string | null): string {
  if (!html) return '';
  return sanitize(html, {
    ...SANITIZE_OPTIONS,
    transformTags: {
      '*': (tagName, attribs) => ({ tagName, attribs: absolutizeAttributes(attribs, baseUrl) }),
      a: (tagName, attribs) => ({ tagName, attribs: { ...attribs, rel: 'nofollow noopener' } }),
    },
  }).trim();
}

/**
 * Make the URLs in an HTML fragment absolute without sanitising it (the fragment stays "raw").
 * Used at the parse stage when an `xml:base` applies to a content element (RFC 3986 §5.1.2 base from
 * the enclosing entity): only the parser knows that base, so it resolves the URLs before the fragment
 * leaves it. Everything else in the markup is kept; sanitising happens later.
 */
export function resolveHtmlUrls(html: string, baseUrl: string): string {
  if (!html) return html;
  return sanitize(html, {
    allowedTags: false,
    allowedAttributes: false,
    allowVulnerableTags: true, // nothing is executed or allowed here: sanitizeHtml still runs later
    disallowedTagsMode: 'discard',
    nonTextTags: [],
    allowedSchemesAppliedToAttributes: [], // this pass only rewrites URLs; sanitizeHtml judges them later
    transformTags: { '*': (tagName, attribs) => ({ tagName, attribs: absolutizeAttributes(attribs, baseUrl) }) },
  });
}

function absolutizeAttributes(attribs: sanitize.Attributes, baseUrl: string | null): sanitize.Attributes {
  if (!baseUrl) return attribs;
  const out: sanitize.Attributes = { ...attribs };
  for (const name of URL_ATTRIBUTES) {
    const value = out[name];
    if (value !== undefined) out[name] = absolutize(value, baseUrl);
  }
  if (out['srcset'] !== undefined) out['srcset'] = absolutizeSrcset(out['srcset'], baseUrl);
  return out;
}

function absolutize(value: string, baseUrl: string): string {
  const trimmed = value.trim();
  // Fragment-only links point into the story itself; resolving them would point at the base page.
  if (trimmed === '' || trimmed.startsWith('#')) return value;
  try {
    return new URL(trimmed, baseUrl).href;
  } catch {
    return value; // not a URL at all: the scheme check in sanitize-html decides about it
  }
}

/**
 * Resolve each candidate of a `srcset` (HTML §4.8.4.2.2): a URL runs to the next whitespace; a URL
 * that ends in commas ends the candidate. Splitting on "," would break the many CDN URLs that
 * contain commas (`/w_300,c_fill/a.jpg`).
 */
export function absolutizeSrcset(srcset: string, baseUrl: string): string {
  const candidates: string[] = [];
  let i = 0;
  while (i < srcset.length) {
    while (i < srcset.length && /[\s,]/.test(srcset[i] ?? '')) i++;
    if (i >= srcset.length) break;
    let end = i;
    while (end < srcset.length && !/\s/.test(srcset[end] ?? '')) end++;
    let url = srcset.slice(i, end);
    i = end;
    let descriptor = '';
    if (url.endsWith(',')) {
      url = url.replace(/,+$/, '');
    } else {
      const comma = srcset.indexOf(',', i);
      const stop = comma === -1 ? srcset.length : comma;
      descriptor = srcset.slice(i, stop).trim();
      i = stop + 1;
    }
    if (url) candidates.push(descriptor ? `${absolutize(url, baseUrl)} ${descriptor}` : absolutize(url, baseUrl));
  }
  return candidates.join(', ');
}

// Text extraction: sanitize-html with no allowed tags decodes every HTML entity (htmlparser2 knows the
// full HTML5 table) and re-escapes only & < > " on output, so undoing those four gives plain text.
const TEXT_OPTIONS: sanitize.IOptions = {
  allowedTags: [],
  allowedAttributes: {},
  disallowedTagsMode: 'discard',
  nonTextTags: NON_TEXT_TAGS,
};

const UNESCAPE: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"' };

function unescapeBasic(s: string): string {
  return s.replace(/&(?:amp|lt|gt|quot);/g, (m) => UNESCAPE[m] ?? m);
}

/** Block-level boundaries become spaces, so "<p>a</p><p>b</p>" reads "a b", not "ab". */
const BLOCK_TAG = /<(\/?)(p|div|br|hr|li|ul|ol|dl|dt|dd|h[1-6]|tr|td|th|table|thead|tbody|tfoot|caption|blockquote|pre|figure|figcaption|section|article|header|footer|aside|nav|main|address|details|summary)\b/gi;

/** Plain text of an HTML fragment: tags stripped, entities decoded, whitespace collapsed. */
export function htmlToText(html: string | null | undefined): string {
  if (!html) return '';
  const spaced = html.replace(BLOCK_TAG, ' <$1$2');
  return unescapeBasic(sanitize(spaced, TEXT_OPTIONS)).replace(/\s+/g, ' ').trim();
}

/** Decode HTML entities in a string that is text, not markup (angle brackets are kept as they are). */
export function decodeHtmlEntities(text: string): string {
  if (!text.includes('&')) return text;
  return unescapeBasic(sanitize(text.replace(/</g, '&lt;').replace(/>/g, '&gt;'), TEXT_OPTIONS));
}

/** Escape plain text into HTML (for text constructs, JSON Feed content_text, summaries from text). */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * Text safe to put in an error message, a log line or a database column: control characters (a NUL
 * from a mis-decoded UTF-16 document would make PostgreSQL reject the row) shown as \uXXXX escapes,
 * cut to `max` characters.
 */
export function printableText(text: string, max = 300): string {
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
