import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { currentIdentity, IDENTITY_VERSION, identityKeyFor, preferredUrl, storyIdFor } from '../../src/ingest/identity.js';
import { storyIdFor as storyIdFromNormalize } from '../../src/ingest/normalize-item.js';

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

describe('IDENTITY_VERSION', () => {
  it('is 2 (issue #4 rules; bump it with every rule change)', () => {
    expect(IDENTITY_VERSION).toBe(2);
  });
});

describe('identityKeyFor', () => {
  it.each([
    { name: 'a canonical URL', input: { canonicalUrl: 'https://pub.example/a', sourceId: 's', guid: 'g' }, expected: 'url:https://pub.example/a' },
    { name: 'http folded to https', input: { canonicalUrl: 'http://pub.example/a', sourceId: 's', guid: null }, expected: 'url:https://pub.example/a' },
    { name: 'www. folded', input: { canonicalUrl: 'https://www.pub.example/a', sourceId: 's', guid: null }, expected: 'url:https://pub.example/a' },
    { name: 'amp. folded', input: { canonicalUrl: 'https://amp.pub.example/a', sourceId: 's', guid: null }, expected: 'url:https://pub.example/a' },
    { name: 'a trailing slash folded', input: { canonicalUrl: 'https://pub.example/a/', sourceId: 's', guid: null }, expected: 'url:https://pub.example/a' },
    { name: 'the URL wins over the guid', input: { canonicalUrl: 'https://pub.example/a', sourceId: 's', guid: 'tag:x' }, expected: 'url:https://pub.example/a' },
    { name: 'a guid without a URL', input: { canonicalUrl: null, sourceId: 's', guid: 'tag:pub.example,2026:1' }, expected: 'guid:s:tag:pub.example,2026:1' },
    { name: 'a guid is trimmed', input: { canonicalUrl: null, sourceId: 's', guid: '  g1 ' }, expected: 'guid:s:g1' },
    { name: 'a guid of 500 characters is kept', input: { canonicalUrl: null, sourceId: 's', guid: 'y'.repeat(500) }, expected: `guid:s:${'y'.repeat(500)}` },
    { name: 'a longer guid is hashed', input: { canonicalUrl: null, sourceId: 's', guid: 'x'.repeat(501) }, expected: `guid:s:sha256:${sha256('x'.repeat(501))}` },
    { name: 'the title when there is neither', input: { canonicalUrl: null, sourceId: 's', guid: null, title: 'Only a title' }, expected: `guid:s:title:${sha256('Only a title')}` },
    { name: 'a blank guid falls to the title', input: { canonicalUrl: null, sourceId: 's', guid: '  ', title: 'T' }, expected: `guid:s:title:${sha256('T')}` },
  ])('$name', ({ input, expected }) => {
    expect(identityKeyFor(input)).toBe(expected);
  });

  it.each([
    { name: 'nothing at all', input: { canonicalUrl: null, sourceId: 's', guid: null } },
    { name: 'blank guid and title', input: { canonicalUrl: null, sourceId: 's', guid: ' ', title: '  ' } },
    { name: 'an empty canonical URL', input: { canonicalUrl: '', sourceId: 's', guid: null, title: null } },
  ])('is null for $name', ({ input }) => {
    expect(identityKeyFor(input)).toBeNull();
  });

  it('gives guids of two sources two identities', () => {
    const a = identityKeyFor({ canonicalUrl: null, sourceId: 'a', guid: '1' });
    const b = identityKeyFor({ canonicalUrl: null, sourceId: 'b', guid: '1' });
    expect(a).not.toBe(b);
  });
});

describe('currentIdentity (a stored story under the current rules)', () => {
  it.each([
    {
      name: 'a v1 http key is folded',
      stored: { identityKey: 'url:http://x.example/a', canonicalUrl: 'http://x.example/a' },
      expected: { identityKey: 'url:https://x.example/a', canonicalUrl: 'http://x.example/a' },
    },
    {
      name: 'a v1 www. key is folded, the display URL kept',
      stored: { identityKey: 'url:https://www.x.example/a', canonicalUrl: 'https://www.x.example/a' },
      expected: { identityKey: 'url:https://x.example/a', canonicalUrl: 'https://www.x.example/a' },
    },
    {
      name: 'a v1 AMP URL is mapped to the article, display URL too',
      stored: { identityKey: 'url:https://x.example/2026/story/amp/', canonicalUrl: 'https://x.example/2026/story/amp/' },
      expected: { identityKey: 'url:https://x.example/2026/story', canonicalUrl: 'https://x.example/2026/story/' },
    },
    {
      name: 'a v1 key already in v2 form is unchanged',
      stored: { identityKey: 'url:https://x.example/a', canonicalUrl: 'https://x.example/a' },
      expected: { identityKey: 'url:https://x.example/a', canonicalUrl: 'https://x.example/a' },
    },
    {
      name: 'a url key without a stored canonical URL uses the key',
      stored: { identityKey: 'url:http://www.x.example/a/', canonicalUrl: null },
      expected: { identityKey: 'url:https://x.example/a', canonicalUrl: 'http://www.x.example/a/' },
    },
    {
      name: 'a guid key is kept',
      stored: { identityKey: 'guid:s:tag:x,2026:1', canonicalUrl: null },
      expected: { identityKey: 'guid:s:tag:x,2026:1', canonicalUrl: null },
    },
    {
      name: 'a title key is kept',
      stored: { identityKey: `guid:s:title:${sha256('T')}`, canonicalUrl: null },
      expected: { identityKey: `guid:s:title:${sha256('T')}`, canonicalUrl: null },
    },
    {
      name: 'an unreadable stored URL is kept as it is',
      stored: { identityKey: 'url:not a url', canonicalUrl: 'not a url' },
      expected: { identityKey: 'url:not a url', canonicalUrl: 'not a url' },
    },
  ])('$name', ({ stored, expected }) => {
    expect(currentIdentity(stored)).toEqual(expected);
  });

  it('agrees with identityKeyFor for a new item with the same canonical URL', () => {
    const canonical = 'http://www.x.example/2026/story/';
    const fresh = identityKeyFor({ canonicalUrl: canonical, sourceId: 's', guid: null });
    expect(currentIdentity({ identityKey: `url:${canonical}`, canonicalUrl: canonical }).identityKey).toBe(fresh);
  });

  it('is a fixed point on its own output (a v2 key recomputed is itself)', () => {
    const once = currentIdentity({ identityKey: 'url:http://amp.x.example/s/amp/', canonicalUrl: 'http://amp.x.example/s/amp/' });
    const url = once.identityKey.slice('url:'.length);
    expect(currentIdentity({ identityKey: once.identityKey, canonicalUrl: url }).identityKey).toBe(once.identityKey);
  });
});

describe('preferredUrl', () => {
  it.each([
    { name: 'https over the kept http', kept: 'http://x.example/a', other: 'https://x.example/a', expected: 'https://x.example/a' },
    { name: 'the kept https over http', kept: 'https://x.example/a', other: 'http://x.example/a', expected: 'https://x.example/a' },
    { name: 'the kept one when both are https', kept: 'https://www.x.example/a', other: 'https://x.example/a', expected: 'https://www.x.example/a' },
    { name: 'the other when the kept one is null', kept: null, other: 'https://x.example/a', expected: 'https://x.example/a' },
    { name: 'the kept one when the other is null', kept: 'http://x.example/a', other: null, expected: 'http://x.example/a' },
  ])('$name', ({ kept, other, expected }) => {
    expect(preferredUrl(kept, other)).toBe(expected);
  });
});

describe('storyIdFor', () => {
  it('is the same function normalize-item.ts exports (the store imports it from there)', () => {
    expect(storyIdFromNormalize).toBe(storyIdFor);
  });

  it('does not depend on the rules version (the v1 value of a known key)', () => {
    expect(storyIdFor('url:https://publisher.example/2024/05/bridge?id=7')).toBe('5h23e44pg4ptyr43z2u7');
  });
});
