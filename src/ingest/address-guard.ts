// Server-side request forgery guard. feeds.yaml URLs and every redirect they lead to are fetched
// from inside the operator's network, so unless settings.allow_private_networks is on we refuse
// any address that is not globally reachable: loopback, private, link-local (which includes the
// cloud metadata service at 169.254.169.254), CGNAT, and the other special-purpose ranges of the
// IANA IPv4/IPv6 Special-Purpose Address Registries (RFC 6890).
//
// The check runs on the address we actually connect to: `guardLookup` wraps the resolver that the
// HTTP agent's sockets use, so neither DNS rebinding (a name that resolves to a public address
// when checked and a private one when connecting) nor a redirect to an internal name gets past it.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, isIPv4, type LookupFunction } from 'node:net';

type Range = readonly [network: string, prefix: number, what: string];

// IPv4 ranges that are not globally reachable (RFC 6890 and its updates).
const IPV4_RANGES: readonly Range[] = [
  ['0.0.0.0', 8, '"this network" (RFC 1122)'],
  ['10.0.0.0', 8, 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'carrier-grade NAT (RFC 6598)'],
  ['127.0.0.0', 8, 'loopback (RFC 1122)'],
  ['169.254.0.0', 16, 'link-local, incl. cloud metadata (RFC 3927)'],
  ['172.16.0.0', 12, 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'IETF protocol assignments (RFC 6890)'],
  ['192.0.2.0', 24, 'documentation (RFC 5737)'],
  ['192.88.99.0', 24, '6to4 relay anycast (RFC 7526)'],
  ['192.168.0.0', 16, 'private (RFC 1918)'],
  ['198.18.0.0', 15, 'benchmarking (RFC 2544)'],
  ['198.51.100.0', 24, 'documentation (RFC 5737)'],
  ['203.0.113.0', 24, 'documentation (RFC 5737)'],
  ['224.0.0.0', 4, 'multicast (RFC 5771)'],
  ['240.0.0.0', 4, 'reserved, incl. broadcast (RFC 1112, RFC 919)'],
];

// IPv6 is handled the other way round: only global unicast (2000::/3, RFC 4291 §2.4) can be public,
// which already excludes ::, ::1, ULA fc00::/7, link-local fe80::/10, site-local, multicast ff00::/8
// and the discard prefix 100::/64. Inside 2000::/3 these are still not globally reachable:
const IPV6_GLOBAL_RANGES: readonly Range[] = [
  ['2001:2::', 48, 'benchmarking (RFC 5180)'],
  ['2001:10::', 28, 'ORCHID (RFC 4843)'],
  ['2001:20::', 28, 'ORCHIDv2 (RFC 7343)'],
  ['2001:db8::', 32, 'documentation (RFC 3849)'],
  ['3fff::', 20, 'documentation (RFC 9637)'],
];

function blockListOf(ranges: readonly Range[], family: 'ipv4' | 'ipv6'): { list: BlockList; what: (ip: string) => string | null } {
  const list = new BlockList();
  const single = ranges.map(([net, prefix, what]) => {
    const one = new BlockList();
    one.addSubnet(net, prefix, family);
    list.addSubnet(net, prefix, family);
    return { one, what };
  });
  return {
    list,
    what: (ip) => (list.check(ip, family) ? (single.find((r) => r.one.check(ip, family))?.what ?? 'reserved') : null),
  };
}

const blockedV4 = blockListOf(IPV4_RANGES, 'ipv4');
const blockedV6 = blockListOf(IPV6_GLOBAL_RANGES, 'ipv6');
const globalUnicastV6 = new BlockList();
globalUnicastV6.addSubnet('2000::', 3, 'ipv6');

/** The address with URL brackets and an IPv6 zone index ("%eth0") removed. */
function bareAddress(ip: string): string {
  const unbracketed = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const zone = unbracketed.indexOf('%');
  return zone >= 0 ? unbracketed.slice(0, zone) : unbracketed;
}

/** The 8 groups of an IPv6 address (which must be valid), expanding "::" and a dotted-quad tail. */
function ipv6Groups(ip: string): number[] {
  let text = ip.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, -dotted[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const zeros = new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...zeros, ...right];
}

function ipv4FromGroups(hi: number, lo: number): string {
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
}

/**
 * The IPv4 address an IPv6 address stands for, when it embeds one a connection would reach:
 * IPv4-mapped ::ffff:0:0/96 (RFC 4291 §2.5.5.2), the NAT64 well-known prefix 64:ff9b::/96
 * (RFC 6052) and 6to4 2002::/16 (RFC 3056).
 */
function embeddedIPv4(groups: readonly number[]): string | null {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0xffff) return ipv4FromGroups(g6, g7);
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return ipv4FromGroups(g6, g7);
  if (g0 === 0x2002) return ipv4FromGroups(g1, g2);
  return null;
}

/**
 * Why an address is not public (e.g. "loopback (RFC 1122)"), or null when it is a globally
 * reachable unicast address. Input that is not an IP address at all is reported as such.
 */
export function nonPublicReason(ip: string): string | null {
  const address = bareAddress(ip.trim());
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  if (family === 4) return blockedV4.what(address);
  const groups = ipv6Groups(address);
  const v4 = embeddedIPv4(groups);
  if (v4 !== null) {
    const why = blockedV4.what(v4);
    return why === null ? null : `${why}, embedded in IPv6`;
  }
  if (!globalUnicastV6.check(address, 'ipv6')) {
    const g0 = groups[0] ?? 0;
    if (groups.every((g) => g === 0)) return 'unspecified (RFC 4291)';
    if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return 'loopback (RFC 4291)';
    if ((g0 & 0xfe00) === 0xfc00) return 'unique local (RFC 4193)';
    if ((g0 & 0xffc0) === 0xfe80) return 'link-local (RFC 4291)';
    if ((g0 & 0xff00) === 0xff00) return 'multicast (RFC 4291)';
    return 'not global unicast (RFC 4291)';
  }
  return blockedV6.what(address);
}

/** True only for a valid, globally reachable unicast IPv4 or IPv6 address. */
export function isPublicAddress(ip: string): boolean {
  return nonPublicReason(ip) === null;
}

/** The error a guarded connection fails with; fetch-feed turns it into FetchError 'blocked-address'. */
export class BlockedAddressError extends Error {
  readonly code = 'ERR_TRIBUTARY_BLOCKED_ADDRESS';
  readonly hostname: string;
  readonly address: string;
  readonly why: string;

  constructor(hostname: string, address: string, why: string) {
    const subject = hostname === address ? address : `${hostname} (${address})`;
    super(`${subject} is not a public address: ${why}`);
    this.name = 'BlockedAddressError';
    this.hostname = hostname;
    this.address = address;
    this.why = why;
  }
}

/** Throws BlockedAddressError when `hostname` is an IP literal that is not public. Literal hosts
 * never go through a resolver, so the connect-time lookup guard would not see them. */
export function assertPublicLiteral(hostname: string): void {
  const address = bareAddress(hostname);
  if (isIP(address) === 0) return;
  const why = nonPublicReason(address);
  if (why !== null) throw new BlockedAddressError(address, address, why);
}

type LookupOptions = Parameters<LookupFunction>[1];
type LookupCallback = Parameters<LookupFunction>[2];

/**
 * Wraps a resolver (dns.lookup by default) for use as a socket's `lookup` option so only public
 * addresses are ever connected to. Private answers are dropped; when none is left the lookup fails
 * with BlockedAddressError. Handles both lookup shapes Node uses: a single address, and
 * `{ all: true }` (which net.connect asks for when it races IPv4/IPv6, "happy eyeballs").
 */
export function guardLookup(resolve: LookupFunction = dnsLookup as LookupFunction): LookupFunction {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    const wantAll = typeof options === 'object' && options !== null && options.all === true;
    resolve(hostname, { ...options, all: true }, (err, result) => {
      if (err) {
        callback(err, '', 0);
        return;
      }
      const answers: LookupAddress[] = Array.isArray(result)
        ? result
        : typeof result === 'string'
          ? [{ address: result, family: isIPv4(result) ? 4 : 6 }]
          : [];
      const allowed = answers.filter((a) => isPublicAddress(a.address));
      const first = allowed[0];
      if (first === undefined) {
        const rejected = answers[0];
        const error = rejected
          ? new BlockedAddressError(hostname, rejected.address, nonPublicReason(rejected.address) ?? 'not public')
          : Object.assign(new Error(`${hostname} did not resolve to any address`), { code: 'ENOTFOUND' });
        callback(error, '', 0);
        return;
      }
      if (wantAll) callback(null, allowed);
      else callback(null, first.address, first.family);
    });
  };
}
