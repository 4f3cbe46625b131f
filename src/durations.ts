// Durations (30s, 15m, 2h, 1d, 1h30m, or plain seconds) and byte sizes (10MiB, 512KB, or plain
// bytes) as written in feeds.yaml.

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

const DURATION_RE = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/**
 * `30s`, `15m`, `2h`, `1d`, combinations in descending order (`1h30m`), or a plain integer of
 * seconds. Returns milliseconds, or null when the text is not a duration. Units are lower-case
 * only: `15M` would read as months to some people.
 */
export function parseDuration(text: string): number | null {
  const t = text.trim();
  if (/^\d+$/.test(t)) return safeInteger(Number(t) * SECOND);
  const m = DURATION_RE.exec(t);
  if (t === '' || m === null) return null;
  const [, d = '0', h = '0', min = '0', s = '0'] = m;
  return safeInteger(Number(d) * DAY + Number(h) * HOUR + Number(min) * MINUTE + Number(s) * SECOND);
}

// Both decimal (SI) and binary (IEC) units, spelled exactly, because "10MB" and "10MiB" differ by 5%
// and guessing would hide that. A bare number is bytes.
const BYTE_UNITS: Readonly<Record<string, number>> = {
  B: 1,
  KB: 1000,
  KiB: 1024,
  MB: 1000 ** 2,
  MiB: 1024 ** 2,
  GB: 1000 ** 3,
  GiB: 1024 ** 3,
};

/** `10MiB`, `512KB`, `1 GiB`, `4096`: returns bytes, or null when the text is not a size. */
export function parseByteSize(text: string): number | null {
  const m = /^(\d+)\s*([A-Za-z]*)$/.exec(text.trim());
  if (m === null) return null;
  const unit = m[2] === '' ? 1 : BYTE_UNITS[m[2]!];
  return unit === undefined ? null : safeInteger(Number(m[1]) * unit);
}

function safeInteger(n: number): number | null {
  return Number.isSafeInteger(n) ? n : null;
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', DAY], ['h', HOUR], ['m', MINUTE]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms / SECOND}s`;
}

// ---------------------------------------------------------------------------------------------
// Schema: keys, defaults, limits
