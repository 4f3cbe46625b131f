import { destination, pino, type Logger } from 'pino';

export type { Logger };

// Structured logs with stable keys (source_id, url, status, duration_ms). JSON lines on stderr, so
// the CLI's own output on stdout stays clean for pipes. LOG_LEVEL sets the threshold.
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { app: 'tributary', pid: process.pid } }, destination({ fd: 2, sync: true }));
}

/** A logger that writes nothing, for tests and one-shot CLI commands run quietly. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
