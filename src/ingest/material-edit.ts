// Is a new version of a stored story an edit worth keeping a revision for (issue #4, "Edits")?
// The content hash already says "something changed"; this says whether a reader would care. Only
// what a reader reads counts: the title, and the words of the text. Markup, link targets (tracking
// parameters), image URLs, attribute order, whitespace and typography are not the story.
import { decodeHtmlEntities, htmlToText } from './sanitize-html.js';

/** One version of a story as stored: its title and the HTML its text is read from (content, else summary). */
export interface EditVersion {
  readonly title: string;
  readonly html: string | null;
}

export interface EditVerdict {
  readonly material: boolean;
  /** Why, in words fit for a log line. */
  readonly reason: string;
}

// Thresholds, in changed words: max(words inserted, words deleted) over a word-level diff, so a
// replaced word counts once and an added sentence counts its length.
// - A typo fixed, a name's spelling corrected, a comma added: 1-3 words. Not an edit: publishers
//   fix these silently all day, and a revision per typo would bury the real ones.
// - A sentence added ("The company did not respond to a request for comment." is 10 words), a
//   paragraph added or removed, a passage rewritten: 8 words and up. An edit, however long the
//   story is: a new paragraph in a 3,000-word piece is as much news as in a 300-word one, so the
//   absolute floor is what decides for long texts.
// - Short texts (a 20-word summary) are judged by share instead: 3 of 20 words (15%) rewritten is a
//   different summary. At least 2 words must change, so one corrected word is never an edit.
/** Changed words that make an edit whatever the text's length (about half a news sentence). */
export const MIN_CHANGED_WORDS = 8;
/** Share of the longer version's words that makes an edit of a short text. */
export const MIN_CHANGED_SHARE = 0.15;
/** Fewest changed words the share rule accepts (one word is a typo fix). */
export const MIN_CHANGED_WORDS_BY_SHARE = 2;

/** The diff stops counting past this many edits: enough to report, cheap on very long texts. */
const REPORT_LIMIT = 200;

/**
 * Decides whether `after` is a material edit of `before`: the title changed (compared after
 * typographic normalisation, see `normalizeTitle`), or the text changed by at least
 * MIN_CHANGED_WORDS words, or by MIN_CHANGED_SHARE of its words (at least MIN_CHANGED_WORDS_BY_SHARE).
 *
 * A figure changed only in the body ("12 dead" -> "15 dead") counts as one changed word, like a
 * typo: feeds such as hnrss.org carry live counters in the description ("Points: 123",
 * "# Comments: 45") that change on every poll, and those must not become revisions. A changed
 * figure in the headline is an edit through the title rule.
 */
export function isMaterialEdit(before: EditVersion, after: EditVersion): EditVerdict {
  if (normalizeTitle(before.title) !== normalizeTitle(after.title)) {
    return { material: true, reason: `title changed: "${clip(collapse(before.title))}" -> "${clip(collapse(after.title))}"` };
  }

  const a = textWords(before.html);
  const b = textWords(after.html);
  const longer = Math.max(a.length, b.length);
  if (longer === 0) return { material: false, reason: 'no text in either version; title unchanged' };

  // Words needed for an edit at this length; max(inserted, deleted) >= needed is the test.
  const needed = Math.min(MIN_CHANGED_WORDS, Math.max(MIN_CHANGED_WORDS_BY_SHARE, Math.ceil(MIN_CHANGED_SHARE * longer)));
  const changed = changedWords(a, b, REPORT_LIMIT);
  const amount = changed.atLeast ? `at least ${changed.words}` : `${changed.words}`;
  const share = `${Math.round((changed.words / longer) * 1000) / 10}%`;
  if (changed.words >= needed) {
    return { material: true, reason: `text changed: ${amount} of ${longer} words (${changed.atLeast ? '>=' : ''}${share}; an edit from ${needed})` };
  }
  if (changed.words === 0) return { material: false, reason: 'same title and words; only markup, links, whitespace or typography differ' };
  return { material: false, reason: `minor text change: ${amount} of ${longer} words (${share}; an edit from ${needed})` };
}

/**
 * A title as compared: entities decoded, Unicode NFKC (full-width forms, ligatures, "…" -> "..."),
 * invisible characters dropped, quotes and dashes unified, whitespace collapsed, case folded.
 * Case is folded because a site-wide switch from Title Case to Sentence case would otherwise
 * "edit" every story in the feed at once; a headline whose meaning turns on case alone is rare.
 */
export function normalizeTitle(title: string): string {
  return typography(decodeHtmlEntities(title))
    .replace(/\s*-+\s*/g, '-') // "a - b", "a—b", "a -- b" are one headline
    .toLowerCase();
}

/** The words of an HTML fragment's text, normalised as titles are; scripts without spaces per character. */
export function textWords(html: string | null): string[] {
  const text = typography(htmlToText(html)).toLowerCase();
  return text.match(WORD) ?? [];
}

// A word: letters, marks and digits, joined by inner apostrophes, points, commas, colons and slashes
// ("don't", "3.5", "1,200", "10:32", "24/7"), so a punctuation-only fix (a comma added after a
// word) changes no word. Hyphens split words, so "well-known" and "well—known" read alike. Scripts
// written without spaces (Chinese, Japanese, Thai, Lao, Khmer, Burmese) count one character as one
// word: else a whole sentence would be one "word" and rewriting it would count as one change.
const UNSPACED = String.raw`\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}`;
const WORD_CHAR = String.raw`[^\P{L}${UNSPACED}]|[\p{M}\p{N}]`;
const WORD = new RegExp(String.raw`[${UNSPACED}]|(?:${WORD_CHAR})+(?:['.,:/](?:${WORD_CHAR})+)*`, 'gu');

const QUOTES: Record<string, string> = {
  '\u2018': "'", '\u2019': "'", '\u201a': "'", '\u201b': "'", '\u2032': "'", '\u2039': "'", '\u203a': "'", '`': "'", '\u00b4': "'",
  '\u201c': '"', '\u201d': '"', '\u201e': '"', '\u201f': '"', '\u2033': '"', '\u00ab': '"', '\u00bb': '"',
};

function typography(s: string): string {
  return s
    .normalize('NFKC')
    // Soft hyphen, zero-width space/joiners, word joiner, BOM: invisible, inserted by CMSes at will.
    .replace(/[\u00ad\u200b-\u200d\u2060\ufeff]/g, '')
    .replace(/[\u2018\u2019\u201a\u201b\u2032\u2039\u203a`\u00b4\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb]/g, (q) => QUOTES[q] ?? q)
    // Hyphen, non-breaking hyphen, figure/en/em dashes, horizontal bar, minus sign.
    .replace(/[\u2010-\u2015\u2212]/g, '-')
    .replace(/\s+/g, ' ')
    .trim();
}

function collapse(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function clip(s: string, max = 120): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/**
 * max(words inserted, words deleted) between two word sequences, from the length of the shortest
 * edit script. Counting stops past `limit`: then `atLeast` is true and `words` is a lower bound.
 */
export function changedWords(a: readonly string[], b: readonly string[], limit: number): { words: number; atLeast: boolean } {
  // ins - del = |b| - |a| and ins + del = D, so max(ins, del) = (D + ||b| - |a||) / 2.
  const delta = Math.abs(b.length - a.length);
  const d = editDistance(a, b, 2 * limit);
  // Past the bound D >= 2 * limit + 1, so max(ins, del) >= limit + 1; and never less than the length difference.
  if (d === null) return { words: Math.max(limit + 1, delta), atLeast: true };
  return { words: (d + delta) / 2, atLeast: false };
}

/**
 * Length of the shortest edit script (insertions + deletions) turning `a` into `b`, or null when it
 * is longer than `max`. Myers' O((N+M)·D) algorithm ("An O(ND) Difference Algorithm and Its
 * Variations", 1986), bounded by `max`, after trimming the common head and tail: an edit touches a
 * small part of a story, so this costs little even on very long texts.
 */
export function editDistance(a: readonly string[], b: readonly string[], max: number): number | null {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const n = endA - start;
  const m = endB - start;
  if (n + m === 0) return 0;
  if (Math.abs(n - m) > max) return null;
  const limit = Math.min(max, n + m);

  // v[k + offset]: the furthest x reached on diagonal k (k = x - y) with the current number of edits.
  const offset = limit + 1;
  const v = new Int32Array(2 * limit + 3);
  for (let d = 0; d <= limit; d++) {
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && (v[offset + k - 1] ?? 0) < (v[offset + k + 1] ?? 0));
      let x = down ? (v[offset + k + 1] ?? 0) : (v[offset + k - 1] ?? 0) + 1;
      let y = x - k;
      while (x < n && y < m && a[start + x] === b[start + y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return d;
    }
  }
  return null;
}
