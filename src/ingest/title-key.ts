// Normalised titles: the first half of near-duplicate detection (the second is simhash.ts). One wire
// story carried by several newspapers keeps its headline but each paper dresses it differently:
// "BREAKING: Storm hits coast - The Daily Paper", "Storm hits coast | Gazette", "Storm Hits Coast".
// The key folds those differences away so equal keys mean "same headline".

/** Letters NFKD does not decompose (they are not base letter + mark), folded by hand. */
const LETTER_FOLDS: Record<string, string> = {
  ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', ł: 'l', đ: 'd', ð: 'd', þ: 'th', ı: 'i', ħ: 'h', ŧ: 't',
};
const LETTER_FOLD_RE = new RegExp(`[${Object.keys(LETTER_FOLDS).join('')}]`, 'g');

/** Apostrophes and quote marks join words ("don't" -> "dont", "Smith’s" -> "smiths") rather than split them. */
const APOSTROPHES = /['’‘`´ʼ]/g;

/**
 * Words of a text for matching: lower-cased, accents folded (NFKD, combining marks removed),
 * apostrophes dropped, any other punctuation or symbol a word boundary. Shared by titleKey and
 * simhash so both see "Café's" and "cafes" as the same word.
 */
export function foldWords(text: string): string[] {
  const folded = text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(LETTER_FOLD_RE, (c) => LETTER_FOLDS[c] ?? c)
    .replace(APOSTROPHES, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
  return folded === '' ? [] : folded.split(' ');
}

/**
 * Tags newsrooms put in front of a headline that say nothing about the story. Only with a colon
 * (or in brackets): "Live updates: Storm" keeps "live updates", which is part of that headline, and
 * "Update on the budget" is a headline, not a tag.
 */
const LEADING_TAG = /^\s*(?:\[\s*)?(?:breaking(?: news)?|update[sd]?|exclusive|just in|developing|watch|video)\s*(?:\]\s*[:\-–—|]?|[:\-–—|])\s*/i;

/**
 * Separators before a site-name suffix: " - Publisher", " | Site", " — Site", " · Site". The spaces
 * around are required, so "COVID-19" or "Jean-Luc" are never split.
 */
const SUFFIX_SEPARATOR = /\s+(?:[-–—|·•])\s+/g;

/** A suffix longer than this is part of the headline ("Storm hits - thousands without power tonight"). */
const MAX_SUFFIX_WORDS = 4;
/** Never cut a title down to less than this: "Obituary - John Smith" must not become "obituary". */
const MIN_REMAINING_WORDS = 2;

/**
 * Normalised title: leading tags ("BREAKING:", "UPDATE:", "EXCLUSIVE:") removed, a trailing
 * " - Publisher name" / " | Site" suffix removed (only the last segment, only when it is short),
 * then lower-cased, accents folded, punctuation and quotes removed, whitespace collapsed.
 * Empty or punctuation-only titles give ''.
 */
export function titleKey(title: string): string {
  let t = title.replace(/\s+/g, ' ').trim();
  // Tags can stack ("BREAKING: EXCLUSIVE: ..."); a few rounds is plenty.
  for (let i = 0; i < 3; i++) {
    const stripped = t.replace(LEADING_TAG, '');
    if (stripped === t || foldWords(stripped).length === 0) break;
    t = stripped;
  }
  t = stripSiteSuffix(t);
  return foldWords(t).join(' ');
}

function stripSiteSuffix(title: string): string {
  let last: RegExpExecArray | null = null;
  for (const m of title.matchAll(SUFFIX_SEPARATOR)) last = m as RegExpExecArray;
  if (!last) return title;
  const head = title.slice(0, last.index);
  const suffix = title.slice(last.index + last[0].length);
  const suffixWords = foldWords(suffix).length;
  if (suffixWords > MAX_SUFFIX_WORDS) return title;
  if (foldWords(head).length < MIN_REMAINING_WORDS) return title;
  return head;
}

/**
 * Jaccard similarity of two title keys' word sets (0..1): |A ∩ B| / |A ∪ B|. Two empty keys give 0
 * (nothing to agree on).
 */
export function titleJaccard(a: string, b: string): number {
  const wa = new Set(a.split(' ').filter(Boolean));
  const wb = new Set(b.split(' ').filter(Boolean));
  if (wa.size === 0 || wb.size === 0) return 0;
  let common = 0;
  for (const w of wa) if (wb.has(w)) common++;
  return common / (wa.size + wb.size - common);
}
