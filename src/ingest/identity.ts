// Story identity: which items are one story. The identity key is what the database's unique
// constraint (items.identity_key) compares, so these rules decide what the river shows once.
//
// THE RULES ARE A CONTRACT. Keys are stored; every change to identityKeyFor(), identityUrl() or
// canonicalUrl() (canonical-url.ts) that can change a key bumps IDENTITY_VERSION, documented below,
// and src/store/reidentify.ts then recomputes the stored keys (merging stories the new rules say are
// one) the next time the river starts. Story ids are not part of what changes: storyIdFor() names a
// story once, from the key it was first stored under, and that id is kept forever, even when the
// story's key is recomputed later (ids are in published feeds and API URLs).
//
// Versions:
// 1 (issue #2): 'url:' + canonicalUrl(link), else 'guid:' + source id + ':' + guid (hashed when
//   long), else 'guid:' + source id + ':title:' + sha256(title).
// 2 (issue #4): as 1, but the URL part is identityUrl(canonical): http/https, www./bare/amp. hosts,
//   trailing slashes and index files folded; canonicalUrl() also maps AMP forms to the article.
//   For an aggregator's item the canonical URL is the original story's (normalize-item.ts).
import { createHash } from 'node:crypto';
import { canonicalUrl, identityUrl } from './canonical-url.js';

export const IDENTITY_VERSION = 2;

/**
 * Longer guids are hashed in the identity key: a key must fit a B-tree index entry (PostgreSQL caps
 * those near 2.7 kB), and some feeds put whole URLs with long query strings or even text in <guid>.
 */
const MAX_GUID_KEY_CHARS = 500;

export interface IdentityInput {
  /** The item's canonical (display) URL, from canonicalUrl(); null when it has no usable link. */
  readonly canonicalUrl: string | null;
  /** The source the item came through: guids are only unique within one feed. */
  readonly sourceId: string;
  /** The item's guid, trimmed; null when absent. */
  readonly guid: string | null;
  /**
   * The item's title as plain text: the last resort of an item with neither link nor guid (what
   * tells it apart within its feed). Omitted or empty: such an item has no identity.
   */
  readonly title?: string | null;
}

/**
 * The identity key of an item: 'url:' + identityUrl(canonical URL); else 'guid:' + source id + ':'
 * + guid (a long guid as 'sha256:' + its hex digest); else 'guid:' + source id + ':title:' +
 * sha256(title); else null (nothing identifies it).
 */
export function identityKeyFor(input: IdentityInput): string | null {
  if (input.canonicalUrl) return `url:${identityUrl(input.canonicalUrl)}`;
  const guid = input.guid?.trim();
  if (guid) return `guid:${input.sourceId}:${guid.length > MAX_GUID_KEY_CHARS ? `sha256:${sha256Hex(guid)}` : guid}`;
  const title = input.title?.trim();
  if (title) return `guid:${input.sourceId}:title:${sha256Hex(title)}`;
  return null;
}

/** A stored story's identity as the current rules see it. */
export interface StoredIdentity {
  readonly identityKey: string;
  readonly canonicalUrl: string | null;
}

/**
 * Recomputes a stored story's identity under the current rules, from what was stored (the raw feed
 * item is gone): a 'url:' key from the stored canonical URL (re-canonicalised, so AMP forms stored
 * under older rules map to the article); any other key ('guid:' keys: link-less items, whose guid
 * or title is all there is) is kept as it is.
 */
export function currentIdentity(stored: StoredIdentity): StoredIdentity {
  if (!stored.identityKey.startsWith('url:')) return stored;
  const url = stored.canonicalUrl ?? stored.identityKey.slice('url:'.length);
  const canonical = canonicalUrl(url);
  // A stored URL the rules cannot read any more: keep the story as it is rather than guess.
  if (!canonical) return stored;
  return { identityKey: `url:${identityUrl(canonical)}`, canonicalUrl: canonical };
}

/**
 * Which of two display URLs of one story to keep when two stored stories become one: the https one
 * when only one is (it is known to be served securely), else the first (the surviving story's).
 */
export function preferredUrl(kept: string | null, other: string | null): string | null {
  if (!kept) return other;
  if (other && kept.startsWith('http:') && other.startsWith('https:')) return other;
  return kept;
}

/**
 * The public story id: the first 20 characters of the lower-case, unpadded base32 (RFC 4648 §6) of
 * SHA-256(identityKey), i.e. 100 bits. Part of the identity contract: ids appear in published feeds
 * and API URLs, so this function must never change, and it is applied once, to the key a story is
 * first stored under.
 */
export function storyIdFor(identityKey: string): string {
  const digest = createHash('sha256').update(identityKey, 'utf8').digest();
  return base32(digest).slice(0, 20);
}

const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}
