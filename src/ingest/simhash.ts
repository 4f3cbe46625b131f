// SimHash (Charikar, "Similarity estimation techniques from rounding algorithms", STOC 2002; as used
// for near-duplicate web pages by Manku, Jain and Das Sarma, WWW 2007): each feature of the text is
// hashed to 64 bits; each bit position sums +1/-1 over the features; the fingerprint keeps the sign.
// Similar texts share most features, so their fingerprints differ in few bits, and the Hamming
// distance between fingerprints estimates how different the texts are.
import { createHash } from 'node:crypto';
import { foldWords } from './title-key.js';

/** The fingerprint of a text with no words. */
export const EMPTY_SIMHASH = '0000000000000000';

/**
 * Word 3-shingles: a 3-word window keeps some word order (two texts using the same vocabulary in a
 * different order differ), while one changed word disturbs only 3 features, so an agency story
 * edited lightly by each paper (a headline word, a dateline, a closing line) stays close.
 */
const SHINGLE = 3;

const SIMHASH_RE = /^[0-9a-f]{16}$/;

/** True when `s` is a SimHash as simhash() writes it (16 lower-case hex digits). */
export function isSimhash(s: string): boolean {
  return SIMHASH_RE.test(s);
}

/**
 * 64-bit SimHash of a plain text over word 3-shingles of its folded words (lower-cased, accents
 * folded, punctuation stripped: see foldWords), as 16 lower-case hex digits. A text of 1 or 2 words
 * is one shingle. Empty text gives '0000000000000000'.
 */
export function simhash(text: string): string {
  const words = foldWords(text);
  if (words.length === 0) return EMPTY_SIMHASH;
  const counts = new Int32Array(64);
  const n = Math.max(1, words.length - SHINGLE + 1);
  for (let i = 0; i < n; i++) {
    const shingle = words.slice(i, i + SHINGLE).join(' ');
    // Feature hash: the first 8 bytes of SHA-1. Stable across processes and versions (fingerprints
    // are stored), well mixed, and native, so a long article costs microseconds per shingle.
    const digest = createHash('sha1').update(shingle).digest();
    const hi = digest.readUInt32BE(0);
    const lo = digest.readUInt32BE(4);
    for (let b = 0; b < 32; b++) {
      counts[b] = (counts[b] ?? 0) + ((hi >>> (31 - b)) & 1 ? 1 : -1);
      counts[32 + b] = (counts[32 + b] ?? 0) + ((lo >>> (31 - b)) & 1 ? 1 : -1);
    }
  }
  let hi = 0;
  let lo = 0;
  for (let b = 0; b < 32; b++) {
    if ((counts[b] ?? 0) > 0) hi |= 1 << (31 - b);
    if ((counts[32 + b] ?? 0) > 0) lo |= 1 << (31 - b);
  }
  return hex32(hi) + hex32(lo);
}

function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

/** Number of differing bits between two SimHashes (0..64). Throws on a value that is not 16 hex digits. */
export function hammingDistance(a: string, b: string): number {
  for (const [name, v] of [['a', a], ['b', b]] as const) {
    if (!isSimhash(v)) throw new RangeError(`hammingDistance: argument ${name} (${JSON.stringify(v.slice(0, 40))}) is not a SimHash of 16 lower-case hex digits`);
  }
  return popcount32(parseInt(a.slice(0, 8), 16) ^ parseInt(b.slice(0, 8), 16)) + popcount32(parseInt(a.slice(8), 16) ^ parseInt(b.slice(8), 16));
}

function popcount32(x: number): number {
  let v = x >>> 0;
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
