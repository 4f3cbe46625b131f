// "did you mean ...?" for misspelt configuration keys. Hand-written because it is twenty lines and a
// dependency for it would be a bigger thing to review than the code.

/**
 * Optimal-string-alignment distance (Damerau-Levenshtein restricted to adjacent transpositions):
 * insertions, deletions, substitutions and swaps of two neighbouring characters each cost 1.
 * Transpositions matter because "homepgae" is the typo people actually make.
 */
export function editDistance(a: string, b: string): number {
  // Three rolling rows: the transposition step looks two rows back.
  let prev2: number[] = [];
  let prev: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur.push(d);
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[b.length]!;
}

// Case and separators carry no meaning for a suggestion: "baseUrl", "base-url" and "BASE_URL" all mean base_url.
function fold(key: string): string {
  return key.toLowerCase().replace(/[-_\s]/g, '');
}

/**
 * The candidate closest to `input`, or null when none is close enough to be a plausible typo
 * (at most a third of the input's length in edits, and at least one edit allowed).
 */
export function didYouMean(input: string, candidates: readonly string[]): string | null {
  const folded = fold(input);
  const limit = Math.max(1, Math.floor(folded.length / 3));
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(folded, fold(candidate));
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : null;
}
