import sanitizeHtml from 'sanitize-html';

// Text hygiene shared by the three renderers. Stored text came from publishers we do not control,
// so every string is cleaned once (cleanText / safeUrl) and then encoded for the place it goes.

// XML 1.0 §2.2 `Char` excludes C0 controls other than TAB, LF and CR, the non-characters U+FFFE and
// U+FFFF, and surrogate code points. A single such character makes the whole document ill-formed,
// and a strict reader then drops the entire river, so they are removed rather than escaped (XML 1.0
// has no escape for them: `&#1;` is ill-formed too).
const XML_ILLEGAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
// A lone surrogate cannot be encoded as UTF-8 at all; U+FFFD is what a decoder would show.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Removes what XML 1.0 cannot carry; CR and CRLF become LF (what an XML parser would make of them anyway). */
export function cleanText(s: string): string {
  return s.replace(LONE_SURROGATE, '\uFFFD').replace(/\r\n?/g, '\n').replace(XML_ILLEGAL, '');
}

/** cleanText, trimmed, and null when nothing is left: an empty author or summary means "none". */
export function cleanOptional(s: string | null | undefined): string | null {
  if (s === null || s === undefined) return null;
  const cleaned = cleanText(s).trim();
  return cleaned === '' ? null : cleaned;
}

/**
 * Percent-encodes (as UTF-8) every character RFC 3986 §2 does not allow in a URI: controls, space,
 * `"`, `<`, `>`, `\`, `^`, `` ` ``, `{`, `|`, `}`, non-ASCII, `[`/`]` outside the host (§3.2.2 allows
 * them only around an IP literal) and a `%` that starts no escape. The WHATWG URL serializer leaves
 * several of these raw (`|` and `{}` in queries, for one), and the W3C validator rejects such a link,
 * guid or id (InvalidFullLink, an error). Canonical URLs without them are unchanged. Whatever the
 * input, the result can sit in an XML attribute without ending it or opening a tag.
 */
export function safeUrl(url: string): string {
  const trimmed = cleanText(url).replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '');
  const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(trimmed)?.[0] ?? '';
  return encodeOutside(authority, /[^A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]/gu) + encodeOutside(trimmed.slice(authority.length), NOT_URI_CHAR);
}

const NOT_URI_CHAR = /[^A-Za-z0-9\-._~:/?#@!$&'()*+,;=%]|%(?![0-9A-Fa-f]{2})/gu;

function encodeOutside(s: string, pattern: RegExp): string {
  return s.replace(pattern, (c) => (c === '%' ? '%25' : encodeURIComponent(c)));
}

/** Escapes character data: valid in XML element content and in HTML text alike. */
export function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Escapes a double-quoted XML attribute value. TAB and LF become character references because
 * attribute-value normalisation (XML 1.0 §3.3.3) would otherwise turn them into spaces.
 */
export function escapeAttr(s: string): string {
  return escapeText(s).replace(/"/g, '&quot;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;');
}

/**
 * HTML headed for a CDATA section. `]]>` would end the section early; `]]&gt;` is the same HTML
 * (a `>` in HTML text or attribute values may always be written `&gt;`) and can never close CDATA.
 * xml-js (under `feed`) splits only the first `]]>` of a string, so a second one broke out before.
 */
export function htmlForCdata(html: string): string {
  return html.replaceAll(']]>', ']]&gt;');
}

/**
 * `feed` writes most strings through xml-js, whose text writer first turns every `&amp;` back into
 * `&` ("to avoid double sanitization") and then escapes `&`, `<`, `>`. Encoding `&` beforehand makes
 * that round trip the identity, so a literal "&amp;" (say, a title about HTML) survives intact.
 * Not for values `feed` already passes through its own `sanitize()` (links, Atom ids, generator).
 */
export function forXmlJsText(s: string): string {
  return s.replace(/&/g, '&amp;');
}

/** xml-js escapes only `"` in attribute values; everything else an attribute needs is done here. */
export function forXmlJsAttr(s: string): string {
  return escapeText(s).replace(/\t/g, '&#9;').replace(/\n/g, '&#10;');
}

// Block-level boundaries become spaces so "<p>One</p><p>Two</p>" reads "One Two", not "OneTwo".
const BLOCK_TAG =
  /<(\/?(?:p|div|br|hr|li|ul|ol|dl|dt|dd|h[1-6]|blockquote|pre|table|tr|td|th|section|article|header|footer|figure|figcaption|aside|nav)\b)/gi;

/**
 * Plain text of an HTML fragment (JSON Feed's `summary` is plain text). sanitize-html with no
 * allowed tags drops markup and script/style bodies and leaves text with only `&`, `<`, `>`
 * escaped, which is undone here; whitespace is collapsed.
 */
export function htmlToPlainText(html: string): string {
  const escaped = sanitizeHtml(html.replace(BLOCK_TAG, ' <$1'), { allowedTags: [], allowedAttributes: {} });
  return escaped
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}
