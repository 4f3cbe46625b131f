// Near-duplicate story clusters (issue #4): one wire story carried by several publishers under
// different URLs becomes one cluster; different stories with look-alike headlines stay apart.
// Pure: the caller loads recent candidates (store/clusters-repo.ts) and stores the decision.
//
// The evidence is a normalised title (title-key.ts) and a 64-bit SimHash of the text (simhash.ts).
// Thresholds were chosen on measured distances (tests/unit/cluster.test.ts holds these texts):
//
//   same agency story, as papers edit it          distance   different stories                distance
//   wire vs wire + byline/copyright lines             6      "Markets" column Mon vs Tue          25
//   wire vs last 10% trimmed                          2      wire vs the same paper's follow-up   29
//   wire vs last 30% trimmed                         10      storm live blog vs election live     34
//   wire vs dateline/credit/wording edits             7      wire vs its own first sentence       33
//   byline version vs 30%-trimmed version            14      (unrelated texts: ~32 ± 4 by chance)
//   wire vs last 50% trimmed                         15
//   ~20-word summaries: verbatim 0, "(AP)" dropped 5, one word changed 10; two "Live updates"
//   template blurbs about different events: 12. Short texts cannot tell an edit from a template.
//
// A false merge hides a story from the river (the worse error); a missed merge only shows one wire
// story twice. So every rule demands text agreement, title agreement makes up for weaker text
// agreement only when both stories appeared close together, and short texts need both.
import { EMPTY_SIMHASH, hammingDistance, isSimhash } from './simhash.js';
import { titleJaccard } from './title-key.js';
import { siteHost } from './attribute.js';

/** The story being placed: just stored, with its fingerprints. */
export interface ClusterInput {
  readonly id: string;
  readonly titleKey: string;
  readonly simhash: string;
  readonly publishedAt: Date;
  /** Characters of the plain text the SimHash was computed from (htmlToText of content, else summary). */
  readonly textLength: number;
  /** Host of the canonical URL (see canonicalHostOf); null when the story has no URL. */
  readonly canonicalHost: string | null;
}

/** A recent story it might join. */
export interface ClusterCandidate extends ClusterInput {
  /** The cluster it is in (its earliest member's id), or null when alone. */
  readonly clusterId: string | null;
}

export interface ClusterRules {
  /** Stories further apart in time never cluster. */
  readonly windowMs: number;
  /** Stories this far apart may cluster on title + looser text agreement. */
  readonly titleWindowMs: number;
  /** Below this, there is no text to compare: never cluster. */
  readonly minTextChars: number;
  /** From this length on, a SimHash is reliable by itself. */
  readonly longTextChars: number;
  /** Long texts: this close is the same text, whatever the headlines. */
  readonly textDistance: number;
  /** Long texts with agreeing titles, within titleWindowMs. */
  readonly titleTextDistance: number;
  /** Title word-set Jaccard that counts as "agreeing titles" for long texts. */
  readonly titleJaccard: number;
  /** A short text: its distance bound, with titles (almost) equal. */
  readonly shortTextDistance: number;
  /** A short text: the title Jaccard it needs (1 = equal keys). */
  readonly shortTitleJaccard: number;
}

const HOUR = 3_600_000;

export const DEFAULT_CLUSTER_RULES: ClusterRules = Object.freeze({
  // A wire story reaches the papers carrying it within hours; 48 h also covers a weekend or a
  // weekly paper printing it a day later. Older stories are a different news cycle.
  windowMs: 48 * HOUR,
  // Daily columns repeat their headline ("Markets today") every day with templated text (measured
  // distance 25, close to the looser bound below): title-assisted matching only within 12 h, so
  // consecutive days must meet the strict text bound.
  titleWindowMs: 12 * HOUR,
  // ~10 words: fewer shingles than that and a SimHash says nothing (an empty text hashes to 0...0,
  // so two title-only items would otherwise look identical).
  minTextChars: 60,
  // ~80 words (~78 shingles): one edited word changes under 4% of the features. At 20 words one
  // word changes 15% and moves the hash as far as a different story on the same template does.
  longTextChars: 500,
  // Unrelated texts sit at 32 ± 4; the closest different long stories measured 24-25. 12 keeps
  // a wide margin (chance of an unrelated pair this close: ~1e-6) and takes trims up to ~30%.
  textDistance: 12,
  // Heavier edits of one story (half trimmed: 15, trimmed + byline: 14) need the headline to agree
  // too; still 8+ below the closest different stories.
  titleTextDistance: 16,
  // Half the headline words shared: papers re-headline wire copy ("Storm slams Florida coast" /
  // "Powerful storm slams Florida's Big Bend coast") but keep its key words. "Live updates: Storm
  // hits the coast" vs "Live updates: Election night" shares 2 of 8 words (0.25).
  titleJaccard: 0.5,
  // Verbatim or lightly edited agency summaries measured 0-12 ...
  shortTextDistance: 12,
  // ... but so did two template blurbs about different events (12), so the headline must be the
  // same (allowing one word in five or six: 0.8).
  shortTitleJaccard: 0.8,
});

/** The largest SimHash distance any rule accepts: a store may drop candidates further away unseen. */
export function maxClusterDistance(rules: ClusterRules = DEFAULT_CLUSTER_RULES): number {
  return Math.max(rules.textDistance, rules.titleTextDistance, rules.shortTextDistance);
}

export interface ClusterDecision {
  /** The cluster to join (the candidate's clusterId, else the candidate's id), or null. */
  readonly clusterWith: string | null;
  /** Why, for logs: the rule that matched and with whom, or the closest miss. */
  readonly reason: string;
}

/**
 * Host of a canonical URL for the same-publisher rule: lower case, a leading "www." dropped (the
 * identity rules fold www. already; this keeps older rows comparable). Null for no URL or an
 * unparseable one. The same host rule attribution uses.
 */
export const canonicalHostOf: (url: string | null | undefined) => string | null = siteHost;

interface Match {
  readonly candidate: ClusterCandidate;
  readonly clusterKey: string;
  readonly distance: number;
  readonly rule: string;
  readonly titleScore: number;
}

/**
 * Decides whether `story` joins the cluster of one of `candidates` (recent stories; the story
 * itself, stories without a usable SimHash and stories from its own canonical host are skipped).
 * Among matches the closest text wins, then the more similar title, then the earliest story.
 */
export function decideCluster(
  story: ClusterInput,
  candidates: readonly ClusterCandidate[],
  opts: Partial<ClusterRules> = {},
): ClusterDecision {
  const rules: ClusterRules = { ...DEFAULT_CLUSTER_RULES, ...opts };
  if (!isSimhash(story.simhash)) return { clusterWith: null, reason: `story ${story.id} has no valid SimHash (${JSON.stringify(story.simhash.slice(0, 20))})` };
  if (!Number.isFinite(story.publishedAt.getTime())) return { clusterWith: null, reason: `story ${story.id} has no valid publication time` };
  if (story.textLength < rules.minTextChars || story.simhash === EMPTY_SIMHASH) {
    return { clusterWith: null, reason: `text too short to compare (${story.textLength} < ${rules.minTextChars} characters)` };
  }

  // Never two stories of one publisher: its own different URLs are different stories (a
  // follow-up, a correction) or, when truly one story, the identity rules' business. A cluster
  // that already holds a story from this host is closed to it as well.
  const closed = new Set<string>();
  for (const c of candidates) if (sameHost(story, c)) closed.add(c.clusterId ?? c.id);

  let best: Match | null = null;
  let closest: { id: string; distance: number } | null = null;
  for (const c of candidates) {
    if (c.id === story.id || sameHost(story, c) || !isSimhash(c.simhash)) continue;
    const clusterKey = c.clusterId ?? c.id;
    if (closed.has(clusterKey)) continue;
    const distance = hammingDistance(story.simhash, c.simhash);
    if (!closest || distance < closest.distance) closest = { id: c.id, distance };
    const m = matchRule(story, c, distance, rules);
    if (!m) continue;
    const match: Match = { candidate: c, clusterKey, distance, rule: m.rule, titleScore: m.titleScore };
    if (!best || better(match, best)) best = match;
  }
  if (best) {
    return {
      clusterWith: best.clusterKey,
      reason: `${best.rule} with ${best.candidate.id} (distance ${best.distance}, title similarity ${best.titleScore.toFixed(2)})`,
    };
  }
  return {
    clusterWith: null,
    reason: closest
      ? `no match among ${candidates.length} candidates (closest text: ${closest.id} at distance ${closest.distance})`
      : `no comparable candidate among ${candidates.length}`,
  };
}

function matchRule(story: ClusterInput, c: ClusterCandidate, distance: number, rules: ClusterRules): { rule: string; titleScore: number } | null {
  const dt = Math.abs(story.publishedAt.getTime() - c.publishedAt.getTime());
  if (!(dt <= rules.windowMs)) return null; // NaN (a bad date) never matches
  if (c.textLength < rules.minTextChars || c.simhash === EMPTY_SIMHASH) return null;
  const titleScore = story.titleKey !== '' && story.titleKey === c.titleKey ? 1 : titleJaccard(story.titleKey, c.titleKey);
  const long = story.textLength >= rules.longTextChars && c.textLength >= rules.longTextChars;
  if (long) {
    if (distance <= rules.textDistance) return { rule: 'same text', titleScore };
    if (dt <= rules.titleWindowMs && distance <= rules.titleTextDistance && titleScore >= rules.titleJaccard) {
      return { rule: 'similar text and title', titleScore };
    }
    return null;
  }
  // A short text on either side: its SimHash alone cannot tell an edit from a template.
  if (dt <= rules.titleWindowMs && distance <= rules.shortTextDistance && titleScore >= rules.shortTitleJaccard) {
    return { rule: 'short text, same title', titleScore };
  }
  return null;
}

/** Same publisher: equal canonical hosts; two stories without URLs cannot be told apart, so count as same. */
function sameHost(a: ClusterInput, b: ClusterInput): boolean {
  return a.canonicalHost === b.canonicalHost;
}

function better(a: Match, b: Match): boolean {
  if (a.distance !== b.distance) return a.distance < b.distance;
  if (a.titleScore !== b.titleScore) return a.titleScore > b.titleScore;
  const ta = a.candidate.publishedAt.getTime();
  const tb = b.candidate.publishedAt.getTime();
  if (ta !== tb) return ta < tb;
  return a.candidate.id < b.candidate.id;
}
