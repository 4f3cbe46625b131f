// Reading a response body under a size limit: undo the content codings while streaming and stop the
// moment the decoded size passes the limit, so neither a huge body nor a gzip bomb is ever held
// (or inflated) past it. The I/O half of the body; deciding what the bytes mean is read-response.ts.
import { pipeline, Duplex, Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import type { Dispatcher } from 'undici';
import { describeError } from '../errors.js';
import {
  contentCodings,
  contentLength,
  isSupportedCoding,
  isZlibHeader,
  type ContentCoding,
  type HeaderMap,
} from './read-response.js';

/** Why a body could not be read. The caller (fetch-feed.ts) adds the URL's context and status. */
export type BodyFailureReason = 'too-large' | 'decode';

export class BodyError extends Error {
  readonly reason: BodyFailureReason;
  constructor(reason: BodyFailureReason, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BodyError';
    this.reason = reason;
  }
}

// Publishers' compressed streams are sometimes cut short; browsers and curl show what arrived,
// so a truncated stream is flushed rather than failed (the parser will complain if it matters).
const ZLIB_OPTIONS: zlib.ZlibOptions = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
const BROTLI_OPTIONS: zlib.BrotliOptions = { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH };

/**
 * The decoded body, at most `maxBytes` long. Throws BodyError 'too-large' past the limit (or when
 * Content-Length already says so) and 'decode' for an unknown or corrupt content coding; network
 * errors and aborts pass through unchanged. The body stream is always destroyed on the way out.
 */
export async function readBody(body: Readable, headers: HeaderMap, url: string, maxBytes: number): Promise<Buffer> {
  const declared = contentLength(headers);
  // Content-Length counts the compressed bytes; inflating never makes a real feed smaller, so a
  // declared length over the limit is refused before a single byte is read.
  if (declared !== null && declared > maxBytes) {
    abandon(body);
    throw new BodyError('too-large', `Response from ${url} declares ${declared} bytes, over ${limitText(maxBytes)}`);
  }

  const codings = contentCodings(headers);
  const unsupported = codings.find((c) => !isSupportedCoding(c));
  if (unsupported !== undefined) {
    abandon(body);
    throw new BodyError('decode', `Unsupported Content-Encoding "${unsupported}" from ${url}`);
  }
  // Codings are listed in the order they were applied, so they are undone last to first.
  const decoders = (codings as ContentCoding[]).reverse().map(createDecoder);
  const last = decoders.at(-1);
  // pipeline() forwards errors and destroys every stream when any one fails or is destroyed.
  if (last !== undefined) pipeline([body, ...decoders], () => undefined);
  const stream: Readable | Duplex = last ?? body;

  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      total += chunk.byteLength;
      if (total > maxBytes) {
        // Leaving the loop destroys the stream (and the pipeline behind it) and so the connection:
        // neither the network nor the inflater is asked for another byte.
        throw new BodyError('too-large', `Response from ${url} is larger than ${limitText(maxBytes)}`);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (isDecompressionError(err)) {
      throw new BodyError('decode', `Cannot decompress the ${codings.join(', ')} body from ${url}: ${describeError(err)}`, {
        cause: err,
      });
    }
    throw err;
  } finally {
    abandon(body);
    for (const decoder of decoders) abandon(decoder);
  }
  return Buffer.concat(chunks, total);
}

/** Drops a body we will not read. dump() reads a little so the connection can be reused, and
 * destroys it past that or after a second; it is not awaited so a slow body cannot delay the
 * outcome (the fetch's own signal is released once the outcome is known). */
export function discardBody(body: Dispatcher.ResponseData['body']): void {
  body.dump({ limit: 64 * 1024, signal: AbortSignal.timeout(1_000) }).catch(() => undefined);
}

/** Destroys a stream we are done with. An unfinished undici body emits an AbortError when
 * destroyed; nobody is listening for it any more, so it must not become an uncaught exception. */
function abandon(stream: Readable | Duplex): void {
  if (stream.destroyed) return;
  stream.on('error', () => undefined);
  stream.destroy();
}

function createDecoder(coding: ContentCoding): Duplex {
  switch (coding) {
    case 'gzip':
      return zlib.createGunzip(ZLIB_OPTIONS);
    case 'br':
      return zlib.createBrotliDecompress(BROTLI_OPTIONS);
    case 'deflate':
      return createDeflateDecoder();
  }
}

/**
 * "deflate" should be zlib-wrapped (RFC 9110 §8.4.1.2) but some servers send raw deflate, as
 * browsers accept both. Which one it is shows in the first two bytes, so the inflater is picked
 * once they have arrived; chunks then flow through it with backpressure intact, so a deflate
 * bomb is inflated no faster than we read it.
 */
function createDeflateDecoder(): Duplex {
  return Duplex.from(async function* inflateAny(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    const input = source[Symbol.asyncIterator]();
    const head: Buffer[] = [];
    let headBytes = 0;
    while (headBytes < 2) {
      const next = await input.next();
      if (next.done) break;
      head.push(next.value);
      headBytes += next.value.byteLength;
    }
    const inflater = isZlibHeader(Buffer.concat(head))
      ? zlib.createInflate(ZLIB_OPTIONS)
      : zlib.createInflateRaw(ZLIB_OPTIONS);
    async function* replay(): AsyncGenerator<Buffer> {
      yield* head;
      for (;;) {
        const next = await input.next();
        if (next.done) return;
        yield next.value;
      }
    }
    pipeline(Readable.from(replay()), inflater, () => undefined);
    try {
      yield* inflater as AsyncIterable<Buffer>;
    } finally {
      inflater.destroy();
    }
  });
}

/** Errors raised by zlib itself (bad data), as opposed to a network error passing through it. */
function isDecompressionError(err: unknown): boolean {
  if (!(err instanceof Error) || !('code' in err) || typeof err.code !== 'string') return false;
  // zlib: Z_DATA_ERROR, Z_BUF_ERROR...; brotli: ERR__ERROR_FORMAT_*, ERR_BROTLI_*.
  return /^(Z_|ERR__|ERR_BROTLI|ERR_ZLIB)/.test(err.code);
}

/** "the 10 MiB (10485760 bytes) body limit (settings.max_body)" */
function limitText(maxBytes: number): string {
  const mib = maxBytes / (1024 * 1024);
  const human = mib >= 1 ? `${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB` : `${Math.ceil(maxBytes / 1024)} KiB`;
  return `the ${human} (${maxBytes} bytes) body limit (settings.max_body)`;
}
