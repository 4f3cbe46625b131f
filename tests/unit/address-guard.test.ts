import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  BlockedAddressError,
  assertPublicLiteral,
  guardLookup,
  isPublicAddress,
  nonPublicReason,
} from '../../src/ingest/address-guard.js';

describe('isPublicAddress', () => {
  it.each([
    // IPv4 that must be refused
    { name: 'loopback 127.0.0.1', ip: '127.0.0.1', want: false },
    { name: 'loopback 127.255.255.254', ip: '127.255.255.254', want: false },
    { name: 'unspecified 0.0.0.0', ip: '0.0.0.0', want: false },
    { name: '"this network" 0.1.2.3', ip: '0.1.2.3', want: false },
    { name: 'RFC 1918 10/8', ip: '10.1.2.3', want: false },
    { name: 'RFC 1918 172.16/12 low', ip: '172.16.0.1', want: false },
    { name: 'RFC 1918 172.16/12 high', ip: '172.31.255.255', want: false },
    { name: 'RFC 1918 192.168/16', ip: '192.168.1.1', want: false },
    { name: 'link-local', ip: '169.254.1.1', want: false },
    { name: 'cloud metadata', ip: '169.254.169.254', want: false },
    { name: 'CGNAT 100.64/10', ip: '100.64.0.1', want: false },
    { name: 'CGNAT upper end (Alibaba metadata)', ip: '100.100.100.200', want: false },
    { name: 'IETF protocol assignments', ip: '192.0.0.8', want: false },
    { name: 'TEST-NET-1', ip: '192.0.2.1', want: false },
    { name: 'TEST-NET-2', ip: '198.51.100.7', want: false },
    { name: 'TEST-NET-3', ip: '203.0.113.9', want: false },
    { name: 'benchmarking 198.18/15', ip: '198.19.255.1', want: false },
    { name: 'multicast', ip: '224.0.0.251', want: false },
    { name: 'reserved 240/4', ip: '240.0.0.1', want: false },
    { name: 'broadcast', ip: '255.255.255.255', want: false },
    // IPv4 that is fine
    { name: 'public 8.8.8.8', ip: '8.8.8.8', want: true },
    { name: 'public 1.1.1.1', ip: '1.1.1.1', want: true },
    { name: 'just below 172.16/12', ip: '172.15.255.255', want: true },
    { name: 'just above 172.16/12', ip: '172.32.0.1', want: true },
    { name: 'just above CGNAT', ip: '100.128.0.1', want: true },
    { name: 'just above benchmarking', ip: '198.20.0.1', want: true },
    // IPv6 that must be refused
    { name: 'IPv6 loopback', ip: '::1', want: false },
    { name: 'IPv6 unspecified', ip: '::', want: false },
    { name: 'IPv6 loopback, bracketed as in URLs', ip: '[::1]', want: false },
    { name: 'ULA fc00::/7', ip: 'fd12:3456:789a::1', want: false },
    { name: 'AWS metadata over IPv6 (ULA)', ip: 'fd00:ec2::254', want: false },
    { name: 'link-local fe80::/10', ip: 'fe80::1', want: false },
    { name: 'link-local with zone index', ip: 'fe80::1%eth0', want: false },
    { name: 'multicast ff02::1', ip: 'ff02::1', want: false },
    { name: 'discard-only 100::/64', ip: '100::1', want: false },
    { name: 'documentation 2001:db8::/32', ip: '2001:db8::1', want: false },
    { name: 'documentation 3fff::/20', ip: '3fff:0:1::1', want: false },
    { name: 'benchmarking 2001:2::/48', ip: '2001:2::1', want: false },
    { name: 'IPv4-mapped loopback', ip: '::ffff:127.0.0.1', want: false },
    { name: 'IPv4-mapped loopback, hex form', ip: '::ffff:7f00:1', want: false },
    { name: 'IPv4-mapped metadata', ip: '::ffff:169.254.169.254', want: false },
    { name: 'IPv4-mapped private', ip: '::ffff:10.0.0.1', want: false },
    { name: 'IPv4-compatible (deprecated) loopback', ip: '::127.0.0.1', want: false },
    { name: 'NAT64 of a private address', ip: '64:ff9b::192.168.0.1', want: false },
    { name: '6to4 of a private address', ip: '2002:c0a8:101::1', want: false },
    // IPv6 that is fine
    { name: 'public IPv6 (Google DNS)', ip: '2001:4860:4860::8888', want: true },
    { name: 'public IPv6 (Cloudflare)', ip: '2606:4700:4700::1111', want: true },
    { name: 'IPv4-mapped public', ip: '::ffff:8.8.8.8', want: true },
    { name: 'NAT64 of a public address', ip: '64:ff9b::8.8.8.8', want: true },
    // Not addresses at all
    { name: 'hostname', ip: 'localhost', want: false },
    { name: 'empty', ip: '', want: false },
    { name: 'out-of-range octet', ip: '256.1.1.1', want: false },
  ])('$name', ({ ip, want }) => {
    expect(isPublicAddress(ip)).toBe(want);
  });

  it.each([
    { name: 'loopback', ip: '127.0.0.1', want: /loopback/ },
    { name: 'metadata is link-local', ip: '169.254.169.254', want: /link-local.*metadata/ },
    { name: 'private', ip: '192.168.0.10', want: /private \(RFC 1918\)/ },
    { name: 'mapped', ip: '::ffff:10.0.0.1', want: /private.*embedded in IPv6/ },
    { name: 'ULA', ip: 'fc00::1', want: /unique local/ },
    { name: 'not an address', ip: 'example.com', want: /not an IP address/ },
  ])('nonPublicReason names the range: $name', ({ ip, want }) => {
    expect(nonPublicReason(ip)).toMatch(want);
  });
});

describe('assertPublicLiteral', () => {
  it.each([
    { name: 'hostname is left to the resolver', host: 'feeds.example.com', blocked: false },
    { name: 'public literal', host: '93.184.215.14', blocked: false },
    { name: 'loopback literal', host: '127.0.0.1', blocked: true },
    { name: 'bracketed IPv6 loopback as URL.hostname gives it', host: '[::1]', blocked: true },
  ])('$name', ({ host, blocked }) => {
    const run = (): void => assertPublicLiteral(host);
    if (blocked) expect(run).toThrow(BlockedAddressError);
    else expect(run).not.toThrow();
  });
});

/** A stand-in for DNS (not our code): answers from a table, in the `{ all: true }` shape. */
function fakeDns(table: Record<string, LookupAddress[]>): LookupFunction {
  return (hostname, _options, callback) => {
    const answers = table[hostname];
    if (!answers) callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
    else callback(null, answers);
  };
}

function lookupAll(lookup: LookupFunction, host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    lookup(host, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses as LookupAddress[])));
  });
}

function lookupOne(lookup: LookupFunction, host: string): Promise<{ address: string; family: number | undefined }> {
  return new Promise((resolve, reject) => {
    lookup(host, {}, (err, address, family) => (err ? reject(err) : resolve({ address: address as string, family })));
  });
}

describe('guardLookup', () => {
  const dns = fakeDns({
    'public.test': [{ address: '93.184.215.14', family: 4 }],
    'mixed.test': [
      { address: '10.0.0.5', family: 4 },
      { address: '93.184.215.14', family: 4 },
      { address: 'fd00::5', family: 6 },
      { address: '2606:4700::1', family: 6 },
    ],
    'rebound.test': [{ address: '127.0.0.1', family: 4 }],
    'metadata.test': [{ address: '169.254.169.254', family: 4 }],
    'empty.test': [],
  });
  const guarded = guardLookup(dns);

  it.each([
    { name: 'public answer passes', host: 'public.test', want: ['93.184.215.14'] },
    { name: 'private answers are dropped, public kept', host: 'mixed.test', want: ['93.184.215.14', '2606:4700::1'] },
  ])('all: $name', async ({ host, want }) => {
    expect((await lookupAll(guarded, host)).map((a) => a.address)).toEqual(want);
  });

  it('single-address form gets the first public answer', async () => {
    expect(await lookupOne(guarded, 'mixed.test')).toEqual({ address: '93.184.215.14', family: 4 });
  });

  it.each([
    { name: 'a name resolving to loopback (DNS rebinding)', host: 'rebound.test', want: /rebound\.test \(127\.0\.0\.1\).*loopback/ },
    { name: 'a name resolving to the metadata service', host: 'metadata.test', want: /169\.254\.169\.254.*link-local/ },
  ])('refuses $name', async ({ host, want }) => {
    const err = await lookupAll(guarded, host).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlockedAddressError);
    expect((err as Error).message).toMatch(want);
  });

  it('passes resolver errors through', async () => {
    await expect(lookupOne(guarded, 'nowhere.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(lookupOne(guarded, 'empty.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });
});
