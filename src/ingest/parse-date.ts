// Feed dates come in two families: RFC 822 as amended by RFC 1123 and RFC 2822 (RSS pubDate) and
// ISO 8601 as profiled by RFC 3339 and W3C-DTF (Atom, dc:date, JSON Feed). Publishers bend both, so
// this parser accepts the common variants and returns null for anything else. It never calls
// Date.parse on free text: that treats strings without a zone as local time, which would make the
// result depend on the machine's time zone.

const MONTHS: Record<string, number> = {
  jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11,
};

/** Named zones, in minutes east of UTC. */
const ZONES: Record<string, number> = {
  // RFC 822 §5.1 (kept by RFC 2822 §4.3 as obsolete zones).
  ut: 0, gmt: 0, z: 0, est: -300, edt: -240, cst: -360, cdt: -300, mst: -420, mdt: -360, pst: -480, pdt: -420,
  // Seen in real feeds although no RFC defines them; only unambiguous abbreviations are listed
  // (IST, BST and the like name several zones and fall through to "unknown").
  utc: 0, wet: 0, west: 60, cet: 60, cest: 120, eet: 120, eest: 180, jst: 540, kst: 540,
  hst: -600, akst: -540, akdt: -480, aest: 600, aedt: 660, nzst: 720, nzdt: 780,
};

// ISO 8601 / RFC 3339 / W3C-DTF: YYYY, YYYY-MM, YYYY-MM-DD, optionally "T" or a space and hh:mm,
// seconds, a fraction, and Z or ±hh[:mm]. A time without a zone is taken as UTC (RFC 3339 requires a
// zone; UTC is the least surprising reading of feeds that forget it).
const ISO =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$/i;

// RFC 822/2822 date-time: [day-name[,]] d month yy[yy] [hh:mm[:ss] [zone]], with the variants feeds
// use: no day name, full day/month names, "Sept", hyphens, single-digit days and hours.
const RFC822 =
  /^(?:[a-z]+\.?,?\s*)?(\d{1,2})[\s-]+([a-z]+)\.?,?[\s-]+(\d{2,4})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?(?:\s*([a-z]+|[+-]\d{2}:?\d{2}|[a-z]+[+-]\d{2}:?\d{2}))?)?$/i;

/** Parse a feed date. Returns a Date (UTC instant) or null when the text is not a date we can read. */
export function parseDate(text: string | null | undefined): Date | null {
  if (typeof text !== 'string') return null;
  // Trailing comments such as "(PST)" (RFC 2822 §3.2.2 CFWS) carry no information we need.
  const s = text.replace(/\([^)]*\)\s*$/, '').replace(/\s+/g, ' ').trim();
  if (!s) return null;
  return parseIso(s) ?? parseRfc822(s);
}

function parseIso(s: string): Date | null {
  const m = ISO.exec(s);
  if (!m) return null;
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  const offset = zone === undefined ? 0 : parseOffset(zone);
  if (offset === null) return null;
  const ms = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
  return build(Number(y), Number(mo ?? 1) - 1, Number(d ?? 1), Number(h ?? 0), Number(mi ?? 0), Number(sec ?? 0), ms, offset);
}

function parseRfc822(s: string): Date | null {
  const m = RFC822.exec(s);
  if (!m) return null;
  const [, d, monthName, y, h, mi, sec, zone] = m;
  const month = monthIndex(monthName ?? '');
  if (month === null) return null;
  let year = Number(y);
  // RFC 2822 §4.3: a two-digit year is 2000+ below 50, else 1900+; a three-digit year is 1900+.
  if ((y ?? '').length === 2) year += year < 50 ? 2000 : 1900;
  else if ((y ?? '').length === 3) year += 1900;
  const offset = zone === undefined ? 0 : parseZone(zone);
  if (offset === null) return null;
  return build(year, month, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(sec ?? 0), 0, offset);
}

function monthIndex(name: string): number | null {
  const lower = name.toLowerCase();
  const index = MONTHS[lower.slice(0, 3)];
  if (index === undefined) return null;
  // Accept "Jan", "January", "Sept"; reject words that merely start like a month ("Marsh").
  const full = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'][index] ?? '';
  return full.startsWith(lower) ? index : null;
}

/** "+05:30", "-0800", "+01" -> minutes east of UTC; "Z" -> 0. */
function parseOffset(zone: string): number | null {
  if (zone.toLowerCase() === 'z') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
  if (!m) return null;
  const hours = Number(m[2]);
  const minutes = Number(m[3] ?? 0);
  if (hours > 23 || minutes > 59) return null;
  return (m[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
}

function parseZone(zone: string): number | null {
  if (/^[+-]/.test(zone)) return parseOffset(zone);
  const lower = zone.toLowerCase();
  const gmtPlus = /^(?:gmt|utc|ut)([+-]\d{2}:?\d{2})$/.exec(lower);
  if (gmtPlus?.[1]) return parseOffset(gmtPlus[1]);
  const named = ZONES[lower];
  if (named !== undefined) return named;
  // Military zones: RFC 822 defined them with inverted signs, so RFC 1123 §5.2.14 and RFC 2822 §4.3
  // say to treat them (except Z, handled above) as -0000, "no information": we read them as UTC.
  if (/^[a-ik-z]$/.test(lower)) return 0;
  // An unknown alphabetic zone is at most a day off; keeping the date beats losing it.
  if (/^[a-z]{1,5}$/.test(lower)) return 0;
  return null;
}

function build(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number, offsetMinutes: number): Date | null {
  if (month < 0 || month > 11 || day < 1 || day > daysInMonth(year, month)) return null;
  // 24:00:00 is the end of the day (ISO 8601 §4.2.3); 60 seconds is a leap second (RFC 3339 §5.7),
  // which JavaScript time cannot represent: it is read as :59.
  if (hour === 24 && minute === 0 && second === 0) {
    // fine: Date arithmetic rolls it into the next day
  } else if (hour > 23 || minute > 59 || second > 60) {
    return null;
  }
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  date.setUTCFullYear(year, month, day);
  date.setUTCHours(hour, minute, Math.min(second, 59), ms);
  const time = date.getTime() - offsetMinutes * 60_000;
  return Number.isFinite(time) ? new Date(time) : null;
}

function daysInMonth(year: number, month: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month + 1, 0);
  return d.getUTCDate();
}
