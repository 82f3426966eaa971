/**
 * What a guarded port lets through, as data (issue 10; modelled on Incus's per-NIC bridge
 * filter, lxc/incus internal/server/firewall/drivers/drivers_nftables_templates.go, but keyed
 * to the tap's own netdev hooks). Frames FROM the guest, in the ingress base chain `<port>`:
 *
 *   bandwidth-out  over the outbound rate                       → drop
 *   mac-source     Ethernet source ≠ the VM's MAC               → drop
 *   vlan, qinq     802.1Q / 802.1ad tagged                       → drop
 *   ip6            IPv6                                          → <port>/ip6
 *   arp, ip4       only with allowIPv4                           → <port>/arp, <port>/ip4
 *   ethertype      anything else                                 → drop
 *
 * `<port>/ip6`: fragmented ICMPv6 (RFC 6980) → drop; the source (→ <port>/ip6-source); router
 * advertisements and redirects → drop; neighbour advertisements (→ <port>/na), neighbour and
 * router solicitations (→ <port>/ns, <port>/rs): their link-layer options; DHCPv6 server
 * traffic (UDP source port 547) → drop; the rest → accept.
 *
 * Sources (`<port>/ip6-source`, returning when allowed): the link-local address of the MAC;
 * `::` only for neighbour solicitations (DAD) and MLDv2 reports; never a router's address;
 * then either exactly the pinned `addresses`, or the prefixes' addresses, except interface
 * identifiers made from another MAC (modified EUI-64, `…ff:fe…`): those belong to other VMs
 * (RFC 4291 App. A), and a guest's privacy or stable-privacy addresses are not of that form.
 * Neighbour advertisement targets (`<port>/na-target`) follow the same rules (without `::`).
 * An NA, NS or RS carries no option, or exactly one: its link-layer address option equal to
 * the MAC (or a DAD nonce): receivers use the first such option anywhere in the list, a
 * payload match sees one fixed offset, so nothing unchecked may follow or come first.
 *
 * Frames TO the guest only meet the inbound bandwidth limit, in the egress chain.
 */
import { isIPv6 } from 'node:net';

import { eui64Address } from '../mac.js';
import { ipv6ToBytes, type Prefixed } from '../validate.js';
import type { GuardChain, GuardRule, Match } from './rules.js';

/** A byte-rate limit (nft `limit rate over <rate> bytes/second burst <burst> bytes`). */
export interface RateLimit {
  /** Bytes per second. */
  rate: number;
  /** Bytes allowed above the rate in a burst. */
  burst: number;
}

/** The validated inputs of a port's policy. */
export interface GuardPolicy {
  mac: string;
  prefixes: Prefixed[];
  /** Pinned sources: when given, the only global (and IPv4) sources allowed. */
  addresses?: Array<{ address: string; family: 4 | 6 }>;
  /** Addresses a guest may never claim (the network's router). */
  routers: Array<{ address: string; family: 4 | 6 }>;
  allowIPv4: boolean;
  bandwidth?: { inbound?: RateLimit; outbound?: RateLimit };
}

const ETH_P = { ip: 0x0800, arp: 0x0806, vlan: 0x8100, qinq: 0x88a8, ip6: 0x86dd } as const;
const IPPROTO = { udp: 17, icmpv6: 58 } as const;
const ICMPV6 = { rs: 133, ns: 135, na: 136, ra: 134, redirect: 137, mld2Report: 143 } as const;
/**
 * ND option type and length (in 8 bytes) as one 16-bit value: source/target link-layer
 * address (RFC 4861 §4.6.1, Ethernet: length 1) and the nonce (RFC 3971 §5.3.2, 6 bytes).
 */
const ND_OPT = { sll: 0x0101, tll: 0x0201, nonce: 0x0e01 } as const;
/** ICMPv6 bytes before the options: NS and NA (type … target, RFC 4861 §4.3-4.4), RS (§4.1). */
const ND_HEADER = 24;
const RS_HEADER = 8;

// Match values are only read (by the addon's encoder): the same few constants are shared by
// every port instead of allocated per rule (setting up 500 ports is allocation-bound).
const constants = new Map<number, Buffer>();
const u8 = (n: number): Buffer => constants.get(n) ?? (constants.set(n, Buffer.from([n])), constants.get(n) as Buffer);
const be16 = (n: number): Buffer => constants.get(n + 0x100) ?? (constants.set(n + 0x100, Buffer.from([n >> 8, n & 0xff])), constants.get(n + 0x100) as Buffer);

/** The address SLAAC makes from a /64 network (16 bytes) and a MAC (RFC 4291 App. A), as bytes. */
function eui64Bytes(network64: Buffer, mac: Buffer): Buffer {
  const out = Buffer.from(network64);
  out.fill(0, 8);
  out[8] = (mac[0] ?? 0) ^ 0x02;
  out[9] = mac[1] ?? 0;
  out[10] = mac[2] ?? 0;
  out[11] = 0xff;
  out[12] = 0xfe;
  out[13] = mac[3] ?? 0;
  out[14] = mac[4] ?? 0;
  out[15] = mac[5] ?? 0;
  return out;
}
const LINK_LOCAL_NETWORK = ipv6ToBytes('fe80::');
const zeros16 = Buffer.alloc(16);
/** The IPv6 payload length is `n`: an ICMPv6 message of n bytes with no extension header before it. */
const plen = (n: number): Match => ({ field: 'ip6 plen', value: be16(n) });
/** `aa:bb:…` → 6 bytes. */
export function macBytes(mac: string): Buffer {
  return Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
}
function ipBytes(address: string): Buffer {
  return isIPv6(address) ? ipv6ToBytes(address) : Buffer.from(address.split('.').map(Number));
}
function prefixMask(bits: number, bytes: number): Buffer {
  const m = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) m[i] = bits >= (i + 1) * 8 ? 0xff : bits > i * 8 ? (0xff << (8 - (bits - i * 8))) & 0xff : 0;
  return m;
}
function network(p: Prefixed): Buffer {
  const mask = prefixMask(p.prefixLength, p.family === 6 ? 16 : 4);
  return Buffer.from(ipBytes(p.address).map((b, i) => b & (mask[i] ?? 0)));
}

/** The link-local address SLAAC derives from `mac` (fe80::/64 + modified EUI-64). */
export function linkLocalFor(mac: string): string {
  return eui64Address('fe80::/64', mac);
}

const icmp6 = (type: number): Match[] => [
  { field: 'meta l4proto', value: u8(IPPROTO.icmpv6) },
  { field: 'icmpv6 type', value: u8(type) },
];

/**
 * The address rules shared by IPv6 sources and NA targets: returns for what the guest may
 * own, drops the rest (`name` is the final drop's counter). `field` is where the address is.
 */
function ownedAddressRules(policy: GuardPolicy, field: 'ip6 saddr' | 'nd target', name: string): GuardRule[] {
  const mac = macBytes(policy.mac);
  const rules: GuardRule[] = [{ name: `${name}-link-local`, match: [{ field, value: eui64Bytes(LINK_LOCAL_NETWORK, mac) }], verdict: 'return' }];
  for (const r of policy.routers.filter((a) => a.family === 6)) {
    rules.push({ name: `${name}-router`, match: [{ field, value: ipBytes(r.address) }], verdict: 'drop' });
  }
  if (policy.addresses) {
    for (const a of policy.addresses.filter((x) => x.family === 6)) {
      rules.push({ name: `${name}-pinned`, match: [{ field, value: ipBytes(a.address) }], verdict: 'return' });
    }
  } else {
    const v6 = policy.prefixes.filter((p) => p.family === 6);
    for (const p of v6.filter((x) => x.prefixLength === 64)) {
      rules.push({ name: `${name}-eui64`, match: [{ field, value: eui64Bytes(network(p), mac) }], verdict: 'return' });
    }
    if (v6.length > 0) {
      // Bytes 11-12 of the address are ff:fe in a modified EUI-64 interface identifier.
      const mask = Buffer.alloc(16);
      mask[11] = 0xff;
      mask[12] = 0xff;
      const value = Buffer.alloc(16);
      value[11] = 0xff;
      value[12] = 0xfe;
      rules.push({ name: `${name}-foreign-eui64`, match: [{ field, value, mask }], verdict: 'drop' });
    }
    for (const p of v6) {
      rules.push({ name: `${name}-prefix`, match: [{ field, value: network(p), mask: prefixMask(p.prefixLength, 16) }], verdict: 'return' });
    }
  }
  rules.push({ name, match: [], verdict: 'drop' });
  return rules;
}

/** IPv4 sources (`ip saddr` or ARP's `arp spa`): pinned addresses or the IPv4 prefixes. */
function ipv4SourceMatches(policy: GuardPolicy, field: 'ip saddr' | 'arp spa'): Match[][] {
  const routers = new Set(policy.routers.filter((r) => r.family === 4).map((r) => r.address));
  if (policy.addresses) {
    return policy.addresses.filter((a) => a.family === 4 && !routers.has(a.address)).map((a) => [{ field, value: ipBytes(a.address) }]);
  }
  return policy.prefixes.filter((p) => p.family === 4).map((p) => [{ field, value: network(p), mask: prefixMask(p.prefixLength, 4) }]);
}

/** The chains of a guarded port, base chain first, every chain after the chains that jump to it. */
export function guardChains(policy: GuardPolicy): GuardChain[] {
  const mac = macBytes(policy.mac);
  const ethertype = (t: number): Match => ({ field: 'ether type', value: be16(t) });
  const base: GuardRule[] = [];
  if (policy.bandwidth?.outbound) {
    base.push({ name: 'bandwidth-out', match: [], limit: policy.bandwidth.outbound, verdict: 'drop' });
  }
  base.push(
    { name: 'mac-source', match: [{ field: 'ether saddr', value: mac, ne: true }], verdict: 'drop' },
    { name: 'vlan', match: [ethertype(ETH_P.vlan)], verdict: 'drop' },
    { name: 'qinq', match: [ethertype(ETH_P.qinq)], verdict: 'drop' },
    { name: 'ip6', match: [ethertype(ETH_P.ip6)], verdict: { jump: 'ip6' } },
  );
  if (policy.allowIPv4) {
    base.push(
      { name: 'arp', match: [ethertype(ETH_P.arp)], verdict: { jump: 'arp' } },
      { name: 'ip4', match: [ethertype(ETH_P.ip)], verdict: { jump: 'ip4' } },
    );
  }
  base.push({ name: 'ethertype', match: [], verdict: 'drop' });

  const ip6: GuardRule[] = [
    {
      name: 'icmpv6-fragment',
      match: [
        { field: 'meta l4proto', value: u8(IPPROTO.icmpv6) },
        { field: 'exthdr frag', value: u8(1) },
      ],
      verdict: 'drop',
    },
    { name: 'ip6-source-check', match: [], verdict: { jump: 'ip6-source' } },
    { name: 'router-advertisement', match: icmp6(ICMPV6.ra), verdict: 'drop' },
    { name: 'redirect', match: icmp6(ICMPV6.redirect), verdict: 'drop' },
    { name: 'neighbour-advertisement', match: icmp6(ICMPV6.na), verdict: { jump: 'na' } },
    { name: 'neighbour-solicitation', match: icmp6(ICMPV6.ns), verdict: { jump: 'ns' } },
    { name: 'router-solicitation', match: icmp6(ICMPV6.rs), verdict: { jump: 'rs' } },
    {
      name: 'dhcpv6-server',
      match: [
        { field: 'meta l4proto', value: u8(IPPROTO.udp) },
        { field: 'th sport', value: be16(547) },
      ],
      verdict: 'drop',
    },
    { name: 'ip6-pass', match: [], verdict: 'accept' },
  ];
  const unspecified: Match = { field: 'ip6 saddr', value: zeros16 };
  const ip6Source: GuardRule[] = [
    { name: 'ip6-source-unspecified-ns', match: [unspecified, ...icmp6(ICMPV6.ns)], verdict: 'return' },
    { name: 'ip6-source-unspecified-mld', match: [unspecified, ...icmp6(ICMPV6.mld2Report)], verdict: 'return' },
    ...ownedAddressRules(policy, 'ip6 saddr', 'ip6-source'),
  ];
  const na: GuardRule[] = [
    { name: 'na-target-check', match: [], verdict: { jump: 'na-target' } },
    // Exactly one option, the target link-layer address, equal to the MAC (see NS below).
    {
      name: 'na-target-lladdr',
      match: [plen(ND_HEADER + 8), { field: 'nd option', value: be16(ND_OPT.tll) }, { field: 'nd option lladdr', value: mac }],
      verdict: 'return',
    },
    { name: 'na-no-options', match: [plen(ND_HEADER)], verdict: 'return' },
    { name: 'na-lladdr', match: [], verdict: 'drop' },
  ];
  // Neighbour solicitations: a receiver uses the FIRST source link-layer option wherever it
  // sits among the options (Linux net/ipv6/ndisc.c ndisc_parse_options: a duplicate of the same
  // type is ignored, an unknown type skipped), and a payload match sees fixed offsets only. So
  // only what is checked whole passes: no option, or exactly one option at offset 24 and the
  // IPv6 payload length saying there is nothing after it (no extension header either, or the
  // option would not be at 24 of the payload length). That option is the VM's own source
  // link-layer address, or, for DAD from ::, the nonce (RFC 7527; Linux sends it by default).
  const ns: GuardRule[] = [
    { name: 'ns-no-options', match: [plen(ND_HEADER)], verdict: 'return' },
    {
      name: 'ns-source-lladdr-own',
      match: [plen(ND_HEADER + 8), { field: 'nd option', value: be16(ND_OPT.sll) }, { field: 'nd option lladdr', value: mac }],
      verdict: 'return',
    },
    {
      name: 'ns-dad-nonce',
      match: [plen(ND_HEADER + 8), { field: 'ip6 saddr', value: zeros16 }, { field: 'nd option', value: be16(ND_OPT.nonce) }],
      verdict: 'return',
    },
    { name: 'ns-source-lladdr', match: [], verdict: 'drop' },
  ];
  // Router solicitations (a host acting as router, and our RA service, read their source
  // link-layer option the same way): options at offset 8, the same rule.
  const rs: GuardRule[] = [
    { name: 'rs-no-options', match: [plen(RS_HEADER)], verdict: 'return' },
    {
      name: 'rs-source-lladdr-own',
      match: [plen(RS_HEADER + 8), { field: 'rs option', value: be16(ND_OPT.sll) }, { field: 'rs option lladdr', value: mac }],
      verdict: 'return',
    },
    { name: 'rs-source-lladdr', match: [], verdict: 'drop' },
  ];
  const chains: GuardChain[] = [
    { name: '', hook: 'ingress', rules: base },
    { name: 'ip6', rules: ip6 },
    { name: 'ip6-source', rules: ip6Source },
    { name: 'na', rules: na },
    { name: 'na-target', rules: ownedAddressRules(policy, 'nd target', 'na-target') },
    { name: 'ns', rules: ns },
    { name: 'rs', rules: rs },
  ];
  if (policy.allowIPv4) {
    const arp: GuardRule[] = [
      { name: 'arp-sender-mac', match: [{ field: 'arp sha', value: mac, ne: true }], verdict: 'drop' },
      { name: 'arp-probe', match: [{ field: 'arp spa', value: Buffer.alloc(4) }], verdict: 'accept' },
      ...ipv4SourceMatches(policy, 'arp spa').map((match): GuardRule => ({ name: 'arp-sender-ip-allowed', match, verdict: 'accept' })),
      { name: 'arp-sender-ip', match: [], verdict: 'drop' },
    ];
    const udp = { field: 'meta l4proto', value: u8(IPPROTO.udp) } as const;
    const ip4: GuardRule[] = [
      { name: 'dhcp-server', match: [udp, { field: 'th sport', value: be16(67) }], verdict: 'drop' },
      { name: 'dhcp-client', match: [{ field: 'ip saddr', value: Buffer.alloc(4) }, udp, { field: 'th sport', value: be16(68) }], verdict: 'accept' },
      ...ipv4SourceMatches(policy, 'ip saddr').map((match): GuardRule => ({ name: 'ip4-source-allowed', match, verdict: 'accept' })),
      { name: 'ip4-source', match: [], verdict: 'drop' },
    ];
    chains.push({ name: 'arp', rules: arp }, { name: 'ip4', rules: ip4 });
  }
  if (policy.bandwidth?.inbound) {
    chains.push({ name: 'egress', hook: 'egress', rules: [{ name: 'bandwidth-in', match: [], limit: policy.bandwidth.inbound, verdict: 'drop' }] });
  }
  return chains;
}
