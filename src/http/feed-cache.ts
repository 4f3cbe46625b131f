import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';

// Rendered feed documents kept in process, so a feed reader polling every minute costs one small
// query (the page's version, src/store/river-query.ts) instead of loading and rendering stories.
//
// Entries are keyed by the document's identity (format + self URL, whose query is already
// normalised) and carry the ETag they were rendered for. A lookup names the ETag the database
// says is current: a different one is a miss. So nothing is ever invalidated by message; a
// document whose stories changed simply stops matching, which keeps several processes (or a
// separate worker writing stories) correct without talking to each other.
//
// A document is also kept compressed, per content coding, the first time a client asks for that
// coding: most feed readers send Accept-Encoding, and compressing 100 KB on every poll would
// otherwise be most of what a cached request costs. The same settings as @fastify/compress
// (brotli quality 4, gzip's default level), so a cached and an uncached response look alike.
//
// Bounded twice: by entries (each key is a feed URL a client chose, filters included, so the key
// space is open) and by bytes, encodings included (a few huge archive days must not push
// everything else out, nor grow the heap). Least recently used goes first; a Map iterates in
// insertion order, so deleting and re-inserting on every hit makes its first key the least
// recently used.

export type ContentCoding = 'br' | 'gzip';

export interface FeedCacheOptions {
  /** Most documents kept (default 256). */
  readonly maxEntries?: number;
  /** Most bytes kept, compressed variants included (default 32 MiB). A larger document is not kept at all. */
  readonly maxBytes?: number;
}

export interface FeedCacheStats {
  readonly entries: number;
  readonly bytes: number;
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
}

/** One kept document. */
export interface CachedFeed {
  readonly body: Buffer;
  /** The body in a content coding, compressed on first use and kept with the document. */
  encoded(coding: ContentCoding): Buffer;
}

export interface FeedCache {
  /** The document rendered for `key` under exactly this ETag, or null. */
  get(key: string, etag: string): CachedFeed | null;
  /** Keeps a rendered body (replacing what `key` had); returns it as kept (or unkept, when too large). */
  set(key: string, etag: string, body: Buffer): CachedFeed;
  stats(): FeedCacheStats;
  clear(): void;
}

export const DEFAULT_CACHE_ENTRIES = 256;
export const DEFAULT_CACHE_BYTES = 32 * 1024 * 1024;

/** Bodies under this size go out uncompressed (the threshold @fastify/compress applies too). */
export const COMPRESS_THRESHOLD = 1024;

const ENCODERS: Readonly<Record<ContentCoding, (body: Buffer) => Buffer>> = {
  br: (body) =>
    brotliCompressSync(body, {
      params: {
        [zlibConstants.BROTLI_PARAM_MODE]: zlibConstants.BROTLI_MODE_TEXT,
        [zlibConstants.BROTLI_PARAM_QUALITY]: 4,
        [zlibConstants.BROTLI_PARAM_SIZE_HINT]: body.length,
      },
    }),
  gzip: (body) => gzipSync(body),
};

interface Entry {
  readonly etag: string;
  readonly doc: CachedFeed;
  bytes: number;
}

export function createFeedCache(options: FeedCacheOptions = {}): FeedCache {
  const maxEntries = options.maxEntries ?? DEFAULT_CACHE_ENTRIES;
  const maxBytes = options.maxBytes ?? DEFAULT_CACHE_BYTES;
  if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new RangeError(`feed cache: maxEntries must be a whole number >= 0, got ${maxEntries}`);
  if (!Number.isInteger(maxBytes) || maxBytes < 0) throw new RangeError(`feed cache: maxBytes must be a whole number >= 0, got ${maxBytes}`);

  const entries = new Map<string, Entry>();
  let bytes = 0;
  let hits = 0;
  let misses = 0;
  let evictions = 0;

  function remove(key: string): void {
    const old = entries.get(key);
    if (old === undefined) return;
    entries.delete(key);
    bytes -= old.bytes;
  }

  /** Evicts least recently used entries other than `keep` until `extra` more bytes fit. */
  function makeRoom(extra: number, keep: string): void {
    for (const key of [...entries.keys()]) {
      if (bytes + extra <= maxBytes) return;
      if (key === keep) continue;
      remove(key);
      evictions++;
    }
  }

  function document(key: string, body: Buffer): CachedFeed {
    const variants = new Map<ContentCoding, Buffer>();
    const doc: CachedFeed = {
      body,
      encoded(coding) {
        const known = variants.get(coding);
        if (known) return known;
        const encoded = ENCODERS[coding](body);
        // Kept only while this document is still the cached one, and when the bytes allow it.
        const entry = entries.get(key);
        if (entry?.doc === doc && entry.bytes + encoded.length <= maxBytes) {
          makeRoom(encoded.length, key);
          variants.set(coding, encoded);
          entry.bytes += encoded.length;
          bytes += encoded.length;
        }
        return encoded;
      },
    };
    return doc;
  }

  return {
    get(key, etag) {
      const entry = entries.get(key);
      if (entry === undefined || entry.etag !== etag) {
        misses++;
        return null;
      }
      hits++;
      // Most recently used goes to the end.
      entries.delete(key);
      entries.set(key, entry);
      return entry.doc;
    },

    set(key, etag, body) {
      remove(key);
      const doc = document(key, body);
      if (body.length > maxBytes || maxEntries === 0) return doc;
      while (entries.size >= maxEntries || bytes + body.length > maxBytes) {
        const oldest = entries.keys().next();
        if (oldest.done) break;
        remove(oldest.value);
        evictions++;
      }
      entries.set(key, { etag, doc, bytes: body.length });
      bytes += body.length;
      return doc;
    },

    stats() {
      return { entries: entries.size, bytes, hits, misses, evictions };
    },

    clear() {
      entries.clear();
      bytes = 0;
    },
  };
}

/**
 * The content coding to answer with (RFC 9110 section 12.5.3): br or gzip, whichever the client
 * weighs higher (br on a tie: smaller), `*` standing for any coding not named, q=0 meaning "not
 * this one", x-gzip an alias of gzip; null for none (identity).
 */
export function negotiateCoding(acceptEncoding: string | undefined): ContentCoding | null {
  if (!acceptEncoding) return null;
  const weights = new Map<string, number>();
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [token = '', ...params] = part.split(';').map((s) => s.trim());
    if (token === '') continue;
    const qParam = params.find((p) => /^q\s*=/.test(p));
    const q = qParam === undefined ? 1 : Number(qParam.replace(/^q\s*=\s*/, ''));
    const name = token === 'x-gzip' ? 'gzip' : token;
    if (!Number.isNaN(q) && !weights.has(name)) weights.set(name, Math.min(1, Math.max(0, q)));
  }
  const weightOf = (c: ContentCoding) => weights.get(c) ?? weights.get('*') ?? 0;
  const br = weightOf('br');
  const gzip = weightOf('gzip');
  if (br <= 0 && gzip <= 0) return null;
  return br >= gzip ? 'br' : 'gzip';
}
