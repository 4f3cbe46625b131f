// Errors carry a kind, the subject they are about (source id, URL, file) and the cause.
// HTTP status mapping happens in one place (http/server.ts), never where errors are raised.

export type ErrorKind =
  | 'config' // feeds.yaml or environment is invalid
  | 'fetch' // a publisher could not be fetched (network, HTTP status, limits)
  | 'parse' // a publisher's document is not a feed we can read
  | 'database' // storage is unavailable or locked
  | 'bad-request' // a client sent a wrong parameter
  | 'not-found';

export class TributaryError extends Error {
  readonly kind: ErrorKind;
  readonly subject: string | null;

  constructor(kind: ErrorKind, message: string, options: { subject?: string | null; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TributaryError';
    this.kind = kind;
    this.subject = options.subject ?? null;
  }
}

/** A wrong query parameter or body field: answered with 400 and the parameter's name. */
export class BadRequestError extends TributaryError {
  readonly parameter: string;
  constructor(parameter: string, message: string) {
    super('bad-request', message, { subject: parameter });
    this.name = 'BadRequestError';
    this.parameter = parameter;
  }
}

/** One message line for logs and for the `last_error` column, including the cause chain. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 5; depth++) {
    const msg = cur instanceof Error ? cur.message : String(cur);
    const code = cur instanceof Error && 'code' in cur && typeof cur.code === 'string' ? ` (${cur.code})` : '';
    if (msg && !parts.some((p) => p.includes(msg))) parts.push(msg + code);
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return parts.join(': ') || 'unknown error';
}
