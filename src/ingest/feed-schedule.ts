// What an RSS/Atom document says about how often to poll it, read from the channel (RSS) or feed
// (Atom) element. Pure. The planner (next-fetch.ts) treats these as lower bounds and blackout hours.
//
// - RSS 2.0 <ttl>, <skipHours>, <skipDays> (RSS 2.0 spec, "Elements of <channel>"; skipHours/skipDays
//   came from RSS 0.91). Only RSS channels carry them; Atom has no equivalent.
// - The RSS 1.0 syndication module (http://purl.org/rss/1.0/modules/syndication/): updatePeriod and
//   updateFrequency, which WordPress and others also put in RSS 2.0 and Atom feeds.
//
// Publishers get these wrong often (ttl "a", <hour>24</hour>, <day> Tuesday </day>, "Fantabuday"),
// so each value is read leniently where the intent is clear and dropped where it is not: a hint we
// cannot read is no hint, never an error that would lose the feed's stories.
import type { FeedScheduleHints } from '../domain.js';
import { all, attr, first, text, type XmlElement, type XmlParse } from './xml-element.js';

/** No hints: what JSON Feed documents and feeds without schedule elements give. */
export const EMPTY_SCHEDULE: FeedScheduleHints = Object.freeze({
  ttlMinutes: null,
  updatePeriod: null,
  updateFrequency: null,
  skipHours: Object.freeze([]) as readonly number[],
  skipDays: Object.freeze([]) as readonly string[],
});

type UpdatePeriod = NonNullable<FeedScheduleHints['updatePeriod']>;

/** The schedule hints of a parsed RSS 0.9x/1.0/2.0 or Atom document. */
export function feedSchedule({ rootName, root }: XmlParse): FeedScheduleHints {
  const isAtom = rootName === 'feed';
  const channel = isAtom ? root : first(root, 'channel');
  if (!channel) return EMPTY_SCHEDULE;
  const { updatePeriod, updateFrequency } = syndication(channel, root);
  return {
    ttlMinutes: isAtom ? null : ttlMinutes(text(first(channel, 'ttl'))),
    updatePeriod,
    updateFrequency,
    skipHours: isAtom ? [] : skipHours(channel),
    skipDays: isAtom ? [] : skipDays(channel),
  };
}

/** <ttl>: minutes to cache the channel. Anything but a positive number (ttl "a", "0", "-5") is no hint. */
function ttlMinutes(raw: string): number | null {
  const s = raw.trim();
  if (!/^\d+(?:\.\d+)?$/.test(s)) return null;
  const n = Number(s);
  return Number.isFinite(n) && n > 0 ? n : null;
}

/**
 * <skipHours><hour>: hours of the day, GMT, 0-23 (RSS 2.0). Netscape's RSS 0.91 numbered them 1-24,
 * and feeds still write 24: read it as hour 0 (midnight), the only reading that stays in range.
 * Sorted, without duplicates; junk entries are dropped one by one.
 */
function skipHours(channel: XmlElement): number[] {
  const hours = new Set<number>();
  for (const block of all(channel, 'skipHours')) {
    for (const hour of all(block, 'hour')) {
      const s = text(hour).trim();
      if (!/^\d{1,2}$/.test(s)) continue;
      const n = Number(s);
      if (n <= 24) hours.add(n % 24);
    }
  }
  return [...hours].sort((a, b) => a - b);
}

const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;

/**
 * <skipDays><day>: full English day names (RSS 2.0). Case and surrounding space are forgiven
 * ("monday", " Tuesday "); anything else (abbreviations, "Fantabuday") is dropped, since a guess
 * could silence the feed on a day the publisher did not mean. Monday-first, without duplicates.
 */
function skipDays(channel: XmlElement): string[] {
  const days = new Set<string>();
  for (const block of all(channel, 'skipDays')) {
    for (const day of all(block, 'day')) {
      const s = text(day).trim().toLowerCase();
      const name = DAYS.find((d) => d.toLowerCase() === s);
      if (name) days.add(name);
    }
  }
  return DAYS.filter((d) => days.has(d));
}

const PERIODS: ReadonlySet<string> = new Set<UpdatePeriod>(['hourly', 'daily', 'weekly', 'monthly', 'yearly']);
const SYNDICATION_NS = 'purl.org/rss/1.0/modules/syndication';
/** Prefixes the module is written with in the wild, trusted when no declaration is in sight. */
const COMMON_PREFIXES = new Set(['sy', 'syn']);

/**
 * updatePeriod / updateFrequency of the syndication module. The module's own defaults: a period
 * without a frequency means once per period; a frequency without a period means per day ("If
 * omitted, daily is assumed"). A period we cannot read makes both null: "5 per ???" is no hint.
 */
function syndication(channel: XmlElement, root: XmlElement): Pick<FeedScheduleHints, 'updatePeriod' | 'updateFrequency'> {
  const periodNode = syndicationElement(channel, root, 'updatePeriod');
  const frequencyNode = syndicationElement(channel, root, 'updateFrequency');
  const frequencyText = text(frequencyNode).trim();
  const frequency = /^\d+$/.test(frequencyText) && Number(frequencyText) > 0 ? Number(frequencyText) : null;
  if (periodNode === undefined) return frequency === null ? { updatePeriod: null, updateFrequency: null } : { updatePeriod: 'daily', updateFrequency: frequency };
  const period = text(periodNode).trim().toLowerCase();
  if (!PERIODS.has(period)) return { updatePeriod: null, updateFrequency: null };
  return { updatePeriod: period as UpdatePeriod, updateFrequency: frequency ?? 1 };
}

/**
 * The channel's child `local` in the syndication namespace. xml2js is not namespace-aware, so the
 * element's prefix is resolved by hand against the declarations in scope (the element, the channel,
 * the root: where feeds declare namespaces). With no declaration in sight (an undeclared prefix,
 * which sax accepts), the common prefixes `sy` and `syn` are trusted.
 */
function syndicationElement(channel: XmlElement, root: XmlElement, local: string): XmlElement | undefined {
  for (const key of Object.keys(channel)) {
    const colon = key.indexOf(':');
    const prefix = colon === -1 ? '' : key.slice(0, colon);
    if (key.slice(colon + 1) !== local) continue;
    const node = first(channel, key);
    if (!node) continue;
    const declaration = prefix === '' ? 'xmlns' : `xmlns:${prefix}`;
    const scope = [node, channel, root].find((el) => attr(el, declaration) !== undefined);
    const uri = scope ? attr(scope, declaration) : undefined;
    const matches = uri === undefined ? COMMON_PREFIXES.has(prefix) : isSyndicationNamespace(uri);
    if (matches) return node;
  }
  return undefined;
}

/** The module's namespace URI, forgiving https and a missing trailing slash. */
function isSyndicationNamespace(uri: string): boolean {
  return uri.trim().toLowerCase().replace(/^https?:\/\//, '').replace(/\/$/, '') === SYNDICATION_NS;
}
