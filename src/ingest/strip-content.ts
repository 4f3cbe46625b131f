// Removes configured boilerplate from item HTML (feeds.yaml `strip:`): an aggregator's "You can view
// this story on their website by CLICKING HERE" line, "CLICK HERE TO GET THE … APP" promotions,
// share bars. Pure: HTML in, HTML out, never throws.
//
// Parsing uses node-html-parser: a forgiving HTML parser with a small DOM (parentNode, remove) and
// CSS selectors through css-select. Regexes cannot say "the paragraph that contains this sentence"
// once the sentence is split by a link or an entity; a DOM can. HTML that no pattern touches is
// returned exactly as given, so stripping never re-serialises (and so never alters) clean content.
import { HTMLElement, parse, TextNode } from 'node-html-parser';

/** Prefix of a pattern that is a CSS selector rather than text. */
export const CSS_PREFIX = 'css:';

// A text pattern removes every paragraph containing it, so a very short one ("a", "the") would wipe
// most of a story. Four characters still allows short markers such as "Ad:" plus a word.
const MIN_TEXT_PATTERN = 4;

export type StripPattern = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'css'; readonly selector: string };

/** Reads one `strip:` entry: `css:SELECTOR` (prefix in any case) or plain text. */
export function readStripPattern(raw: string): StripPattern {
  const trimmed = raw.trim();
  if (trimmed.toLowerCase().startsWith(CSS_PREFIX)) return { kind: 'css', selector: trimmed.slice(CSS_PREFIX.length).trim() };
  return { kind: 'text', text: trimmed };
}

const PROBE = parse('');

/**
 * What is wrong with a `strip:` entry, as the end of a sentence ("… is not a valid CSS selector: …"),
 * or null when it is usable. Selectors are checked by compiling them with the same engine that
 * applies them, so config validation and stripping cannot disagree.
 */
export function stripPatternProblem(raw: string): string | null {
  const pattern = readStripPattern(raw);
  if (pattern.kind === 'text') {
    const length = foldText(pattern.text).trim().length;
    return length < MIN_TEXT_PATTERN
      ? `is too short to strip safely (at least ${MIN_TEXT_PATTERN} characters; every paragraph containing it is removed)`
      : null;
  }
  if (pattern.selector === '') return `has an empty CSS selector after "${CSS_PREFIX}"`;
  try {
    PROBE.querySelectorAll(pattern.selector);
    return null;
  } catch (err) {
    // css-what says "Expected name, found " when the selector simply ends too early.
    const reason = (err instanceof Error ? err.message : String(err)).trim().replace(/found$/, 'found the end of the selector');
    return `is not a valid CSS selector${reason ? `: ${reason}` : ''}`;
  }
}

/**
 * The HTML with every part matching a pattern removed:
 * - text (case-insensitive; whitespace, entities and curly quotes folded): the smallest block element
 *   (p, li, div, blockquote, figure, h1-h6, …) whose text contains it; when the text sits in no
 *   block (loose text at the top level), just that text;
 * - `css:SELECTOR`: every matching element.
 * Elements emptied by a removal (a wrapper div left with nothing) go with it. Invalid patterns are
 * skipped (feeds.yaml validation reports them); unparseable HTML is returned unchanged.
 */
export function stripContent(html: string, patterns: readonly string[]): string {
  if (patterns.length === 0 || html.trim() === '') return html;
  try {
    const root = parse(html, PARSE_OPTIONS);
    let changed = false;
    for (const raw of patterns) {
      const pattern = readStripPattern(raw);
      if (pattern.kind === 'css') changed = stripSelector(root, pattern.selector) || changed;
      else if (stripPatternProblem(raw) === null) changed = stripText(root, foldText(pattern.text).trim()) || changed;
    }
    return changed ? root.toString() : html;
  } catch {
    // A parser or selector-engine bug must not lose the story: keep the content as it came.
    return html;
  }
}

// ---------------------------------------------------------------------------------------------
// HTML structure shared with find-attribution.ts

// pre is parsed as markup (links and paragraphs inside it are real); script/style/noscript stay raw.
const PARSE_OPTIONS = {
  comment: false,
  parseNoneClosedTags: true,
  blockTextElements: { script: true, noscript: true, style: true },
} as const;

/** Parses an HTML fragment the way stripping does (forgiving, never throws on tag soup). */
export function parseFragment(html: string): HTMLElement {
  return parse(html, PARSE_OPTIONS);
}

/** Elements that start a new block of text (HTML's flow content that is not phrasing content). */
const BLOCK_TAGS = new Set([
  'address', 'article', 'aside', 'blockquote', 'caption', 'center', 'dd', 'details', 'dialog', 'div', 'dl', 'dt',
  'fieldset', 'figcaption', 'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hgroup',
  'hr', 'li', 'main', 'nav', 'ol', 'p', 'pre', 'section', 'summary', 'table', 'tbody', 'td', 'tfoot', 'th',
  'thead', 'tr', 'ul',
]);

/** Elements whose content is not text a reader sees. */
const NON_TEXT_TAGS = new Set(['script', 'style', 'noscript', 'template', 'textarea']);

/** Content that keeps an element worth showing even without text. */
const MEDIA_SELECTOR = 'img, picture, video, audio, iframe, svg, object, embed';

/** Table structure: emptying a cell must not pull the row or table apart. */
const NEVER_PRUNED = new Set(['td', 'th', 'tr', 'thead', 'tbody', 'tfoot', 'table', 'caption']);

export function tagOf(el: HTMLElement): string {
  return (el.rawTagName ?? '').toLowerCase();
}

export function isBlock(el: HTMLElement): boolean {
  return BLOCK_TAGS.has(tagOf(el));
}

export function isNonText(el: HTMLElement): boolean {
  return NON_TEXT_TAGS.has(tagOf(el));
}

/**
 * Text folded for matching, one output string per input character (so positions map back):
 * lower-cased, typographic quotes and dashes as their ASCII forms, every kind of space (including
 * no-break space) as " ".
 */
export function foldChar(ch: string): string {
  if (/\s/.test(ch)) return ' ';
  const folded = FOLDED_PUNCTUATION[ch];
  return folded ?? ch.toLowerCase();
}

const FOLDED_PUNCTUATION: Record<string, string> = {
  '\u2018': "'", '\u2019': "'", '\u201b': "'", '\u2032': "'",
  '\u201c': '"', '\u201d': '"', '\u201f': '"', '\u2033': '"',
  '\u2010': '-', '\u2011': '-', '\u2012': '-', '\u2013': '-', '\u2014': '-',
};

/** foldChar over a whole string, with runs of spaces collapsed to one. */
export function foldText(text: string): string {
  let out = '';
  for (const ch of text) {
    const f = foldChar(ch);
    if (f === ' ' && out.endsWith(' ')) continue;
    out += f;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// CSS patterns

function stripSelector(root: HTMLElement, selector: string): boolean {
  let matches: HTMLElement[];
  try {
    matches = root.querySelectorAll(selector);
  } catch {
    return false; // an invalid selector strips nothing
  }
  for (const el of matches) removePruning(root, el);
  return matches.length > 0;
}

// ---------------------------------------------------------------------------------------------
// Text patterns

/**
 * A run of text as a reader sees it between two block boundaries: the text nodes of the inline
 * content directly inside one block (nested blocks and <br> end a run), and that block (the root
 * when the text is in no block). A pattern is matched within one run, never across paragraphs.
 */
interface Run {
  readonly container: HTMLElement;
  readonly nodes: TextNode[];
}

function collectRuns(root: HTMLElement): Run[] {
  const runs: Run[] = [];
  let current: Run | null = null;
  const walk = (el: HTMLElement, container: HTMLElement): void => {
    for (const child of el.childNodes) {
      if (child instanceof TextNode) {
        if (current === null) {
          current = { container, nodes: [] };
          runs.push(current);
        }
        current.nodes.push(child);
      } else if (child instanceof HTMLElement) {
        if (isNonText(child)) continue;
        if (isBlock(child) || tagOf(child) === 'br') {
          current = null;
          walk(child, child);
          current = null;
        } else {
          walk(child, container);
        }
      }
    }
  };
  walk(root, root);
  return runs;
}

/** Where a folded character came from: which node of the run, and its [start, end) in that node's text. */
interface Origin {
  readonly node: number;
  readonly start: number;
  end: number;
}

function foldRun(texts: readonly string[]): { folded: string; origins: Origin[] } {
  let folded = '';
  const origins: Origin[] = [];
  texts.forEach((text, node) => {
    for (let i = 0; i < text.length; i++) {
      const f = foldChar(text[i]!);
      const last = origins[origins.length - 1];
      if (f === ' ' && folded.endsWith(' ')) {
        // The collapsed space stands for the whole run of spaces (in this node), so a cut takes all.
        if (last && last.node === node) last.end = i + 1;
        continue;
      }
      for (const c of f) {
        folded += c;
        origins.push({ node, start: i, end: i + 1 });
      }
    }
  });
  return { folded, origins };
}

function stripText(root: HTMLElement, needle: string): boolean {
  if (needle === '') return false;
  let changed = false;
  for (const run of collectRuns(root)) {
    const texts = run.nodes.map((n) => n.text);
    const { folded, origins } = foldRun(texts);
    const matches: [number, number][] = [];
    for (let at = folded.indexOf(needle); at !== -1; at = folded.indexOf(needle, at + needle.length)) {
      matches.push([at, at + needle.length - 1]);
    }
    if (matches.length === 0) continue;
    changed = true;
    if (run.container !== root) {
      removePruning(root, run.container);
      continue;
    }
    // Loose text in no block: cut just the matched characters out of the text nodes they span.
    const cuts = new Map<number, [number, number][]>();
    for (const [from, to] of matches) {
      for (let k = from; k <= to; k++) {
        const o = origins[k]!;
        const list = cuts.get(o.node) ?? [];
        const lastCut = list[list.length - 1];
        if (lastCut && o.start <= lastCut[1]) lastCut[1] = Math.max(lastCut[1], o.end);
        else list.push([o.start, o.end]);
        cuts.set(o.node, list);
      }
    }
    for (const [index, ranges] of cuts) {
      const node = run.nodes[index]!;
      let text = texts[index]!;
      for (const [start, end] of [...ranges].reverse()) text = text.slice(0, start) + text.slice(end);
      node.rawText = escapeText(text);
      const parent = node.parentNode;
      if (text.trim() === '') node.remove();
      if (parent) pruneEmpty(root, parent);
    }
  }
  return changed;
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// ---------------------------------------------------------------------------------------------
// Removal

/** Removes `el`, then each ancestor left with nothing to show (no text, no media). */
function removePruning(root: HTMLElement, el: HTMLElement): void {
  const parent = el.parentNode;
  el.remove();
  if (parent) pruneEmpty(root, parent);
}

function pruneEmpty(root: HTMLElement, start: HTMLElement): void {
  let el: HTMLElement | null = start;
  while (el !== null && el !== root && el.parentNode !== null && !NEVER_PRUNED.has(tagOf(el)) && isEmpty(el)) {
    const parent: HTMLElement = el.parentNode;
    el.remove();
    el = parent;
  }
}

function isEmpty(el: HTMLElement): boolean {
  return el.text.trim() === '' && el.querySelector(MEDIA_SELECTOR) === null;
}
