// The element tree xml2js builds (through rss-parser) and the few accessors the XML stages share
// (parse-feed.ts builds it, map-xml-feed.ts and feed-schedule.ts read it). Kept in its own module so
// the readers do not import the dispatcher, which imports them.

/** An element as xml2js builds it: attributes in `$`, own text in `_`, ordered children in `$$`. */
export interface XmlElement {
  $?: Record<string, string>;
  _?: string;
  $$?: unknown[];
  '#name'?: string;
  [child: string]: unknown;
}

/** A parsed XML feed document: the root element and the item/entry elements (raw). */
export interface XmlParse {
  readonly rootName: string;
  readonly root: XmlElement;
  readonly items: readonly XmlElement[];
}

export function isElement(v: unknown): v is XmlElement {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The children named `name`, in document order. */
export function all(node: XmlElement, name: string): XmlElement[] {
  const v = node[name];
  if (!Array.isArray(v)) return [];
  // xml2js collapses a text-only element to its string; make every child an element again.
  return v.map((c): XmlElement => (typeof c === 'string' ? { _: c } : isElement(c) ? c : {}));
}

export function first(node: XmlElement, name: string): XmlElement | undefined {
  return all(node, name)[0];
}

/** The element's own text ('' when absent). */
export function text(node: XmlElement | undefined): string {
  return node && typeof node._ === 'string' ? node._ : '';
}

export function attr(node: XmlElement, name: string): string | undefined {
  const v = node.$?.[name];
  return typeof v === 'string' ? v : undefined;
}

/** `prefix:local` -> `local`. */
export function localPart(name: string): string {
  const colon = name.indexOf(':');
  return colon === -1 ? name : name.slice(colon + 1);
}
