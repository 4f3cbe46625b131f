// Feed dates come in two families: RFC 822 as amended by RFC 1123 and RFC 2822 (RSS pubDate) and
// ISO 8601 as profiled by RFC 3339 and W3C-DTF (Atom, dc:date, JSON Feed). Publishers bend both, so
// this parser accepts the common variants and returns null for anything else. It never calls
// Date.parse on free text: that treats strings without a zone as local time, which would make the
// result depend on the machine's time zone.

/**
 * Month names by index, in the languages whose feeds write RFC 822 dates with local names (UOL's
 * "Seg, 24 Set 2018", Spiegel's "Mär"): English, Portuguese, Spanish, French, German, Italian and
 * Dutch. A month is read from any prefix of three letters or more that names one month only
 * ("Sept", "Set", "févr", "Dez"); "jui" (juin or juillet?) names none.
 */
const MONTH_NAMES: readonly (readonly string[])[] = [
  ['january', 'janeiro', 'enero', 'janvier', 'januar', 'gennaio', 'januari'],
  ['february', 'fevereiro', 'febrero', 'février', 'fevrier', 'februar', 'febbraio', 'februari'],
  ['march', 'março', 'marco', 'marzo', 'mars', 'märz', 'maerz', 'maart'],
  ['april', 'abril', 'avril', 'aprile'],
  ['may', 'maio', 'mayo', 'mai', 'maggio', 'mei'],
  ['june', 'junho', 'junio', 'juin', 'juni', 'giugno'],
  ['july', 'julho', 'julio', 'juillet', 'juli', 'luglio'],
  ['august', 'agosto', 'août', 'aout', 'augustus'],
  ['september', 'setembro', 'septiembre', 'setiembre', 'septembre', 'settembre'],
  ['october', 'outubro', 'octubre', 'octobre', 'oktober', 'ottobre'],
  ['november', 'novembre', 'noviembre', 'novembro'],
  ['december', 'dezembro', 'diciembre', 'décembre', 'decembre', 'dezember', 'dicembre'],
];
/** Abbreviations that are not prefixes of their month's name. */
const MONTH_ABBREVIATIONS: Readonly<Record<string, number>> = { mrt: 2, mrz: 2 };

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
// zone; UTC is the least surprising reading of feeds that forget it). One-digit hours, minutes and
// seconds ("12:35:9", seen in generated feeds) are read as what they plainly mean.
const ISO =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,](\d+))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$/i;

// The pieces of the RFC 822 family. A day name is any word (it is ignored: a wrong one is common
// and the date says which day it is); the time may carry am/pm; the zone is a name, an offset or
// GMT+offset.
const DAY_NAME = String.raw`(?:\p{L}+\.?(?:\s*,\s*|\s+))?`;
const MONTH = String.raw`(\p{L}+)\.?`;
const TIME = String.raw`(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?(?:\s*([ap])\.?m\.?)?`;
const ZONE = String.raw`(?:\s*(\p{L}+|[+-]\d{2}:?\d{2}|\p{L}+[+-]\d{2}:?\d{2}))?`;

// RFC 822/2822 date-time: [day-name[,]] d month yy[yy] [hh:mm[:ss] [zone]], with the variants feeds
// use: no day name, full day/month names, "Sept", hyphens, single-digit days and hours.
const RFC822 = new RegExp(String.raw`^${DAY_NAME}(\d{1,2})[\s-]+${MONTH},?[\s-]+(\d{2,4})(?:,?\s+${TIME}${ZONE})?$`, 'iu');
// Month first, as US-style feeds write it: [day-name,] month d[st][,] yyyy [time [zone]].
const MONTH_FIRST = new RegExp(String.raw`^${DAY_NAME}${MONTH}\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})(?:,?\s+(?:at\s+)?${TIME}${ZONE})?$`, 'iu');
// asctime (C's ctime, RFC 9110 §5.6.7): day-name month d hh:mm:ss yyyy.
const ASCTIME = new RegExp(String.raw`^${DAY_NAME}${MONTH}\s+(\d{1,2})\s+${TIME}${ZONE}\s+(\d{4})$`, 'iu');
// Year first with slashes, as Chinese and Japanese CMSs write it: yyyy/m/d [hh:mm[:ss]]. Day-first
// and month-first slash dates are ambiguous (3/4/2024) and stay unread.
const SLASHED = new RegExp(String.raw`^(\d{4})/(\d{1,2})/(\d{1,2})(?:[\sT]+${TIME}${ZONE})?$`, 'iu');

/** Parse a feed date. Returns a Date (UTC instant) or null when the text is not a date we can read. */
export function parseDate(text: string | null | undefined): Date | null {
  if (typeof text !== 'string') return null;
  const s = withoutComments(text).replace(/\s+/g, ' ').trim();
  if (!s) return null;
  return parseIso(s) ?? parseRfc822(s) ?? parseMonthFirst(s) ?? parseSlashed(s);
}

/**
 * RFC 2822 §3.2.3: comments ("(PST)", "Thu(oh how I hate thursdays)") may appear between any tokens,
 * nest, and escape parentheses with a backslash. They carry nothing we need, so each becomes a space,
 * innermost first; a handful of rounds covers any nesting a date has room for.
 */
function withoutComments(text: string): string {
  let s = text.length > 200 ? text.slice(0, 200) : text;
  for (let round = 0; round < 5 && s.includes('('); round++) {
    const next = s.replace(/\((?:[^()\\]|\\.)*\)/g, ' ');
    if (next === s) break;
    s = next;
  }
  return s;
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
  const [, d, monthName, y, h, mi, sec, ampm, zone] = m;
  let year = Number(y);
  // RFC 2822 §4.3: a two-digit year is 2000+ below 50, else 1900+; a three-digit year is 1900+.
  if ((y ?? '').length === 2) year += year < 50 ? 2000 : 1900;
  else if ((y ?? '').length === 3) year += 1900;
  return dateTime(year, monthName, d, h, mi, sec, ampm, zone);
}

function parseMonthFirst(s: string): Date | null {
  let m = MONTH_FIRST.exec(s);
  if (m) {
    const [, monthName, d, y, h, mi, sec, ampm, zone] = m;
    return dateTime(Number(y), monthName, d, h, mi, sec, ampm, zone);
  }
  m = ASCTIME.exec(s);
  if (!m) return null;
  const [, monthName, d, h, mi, sec, ampm, zone, y] = m;
  return dateTime(Number(y), monthName, d, h, mi, sec, ampm, zone);
}

function parseSlashed(s: string): Date | null {
  const m = SLASHED.exec(s);
  if (!m) return null;
  const [, y, mo, d, h, mi, sec, ampm, zone] = m;
  const month = Number(mo) - 1;
  return dateTime(Number(y), month, d, h, mi, sec, ampm, zone);
}

/** The shared tail of the RFC 822 family: month by name or index, 12-hour clock, zone. */
function dateTime(
  year: number,
  month: string | number | undefined,
  day: string | undefined,
  hour: string | undefined,
  minute: string | undefined,
  second: string | undefined,
  ampm: string | undefined,
  zone: string | undefined,
): Date | null {
  const monthIdx = typeof month === 'number' ? month : monthIndex(month ?? '');
  if (monthIdx === null) return null;
  let h = Number(hour ?? 0);
  if (ampm !== undefined) {
    // 12-hour clock: 12 am is midnight, 12 pm is noon; "13:00 pm" is not a time.
    if (h < 1 || h > 12) return null;
    h = (h % 12) + (ampm.toLowerCase() === 'p' ? 12 : 0);
  }
  const offset = zone === undefined ? 0 : parseZone(zone);
  if (offset === null) return null;
  return build(year, monthIdx, Number(day), h, Number(minute ?? 0), Number(second ?? 0), 0, offset);
}

function monthIndex(name: string): number | null {
  const lower = name.toLowerCase().replace(/\.$/, '');
  const abbreviation = MONTH_ABBREVIATIONS[lower];
  if (abbreviation !== undefined) return abbreviation;
  if (lower.length < 3) return null;
  // Accept "Jan", "January", "Sept", "Set", "févr"; reject words that merely start like a month
  // ("Marsh") and prefixes of two different months ("jui").
  let found: number | null = null;
  for (const [index, names] of MONTH_NAMES.entries()) {
    if (!names.some((full) => full.startsWith(lower))) continue;
    if (found !== null && found !== index) return null;
    found = index;
  }
  return found;
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
