/**
 * Validation and defaults of VxlanNetwork's options, done completely before anything is
 * created: every error names the field and the value (lib/validate.ts). The defaults are
 * the reference setup's (docs/ARCHITECTURE.md): dstport 4789, ttl 5, group ff05::<id>, router ::1,
 * RA intervals 3-5 s, default lifetime 3600 s, RDNSS/DNSSL lifetime 6000 s.
 */
import { netnsKeyOf, resolveNetns } from '../netns.js';
import {
  bytesToIPv6,
  checkArray,
  checkBoolean,
  checkIfname,
  checkInteger,
  checkIPv6,
  checkNumber,
  checkObject,
  checkPrefixed,
  invalidType,
  invalidValue,
  ipv6ToBytes,
} from '../validate.js';
import { VXLAN_DEFAULT_PORT } from '../netlink/link-options.js';
import { checkDnsslDomains } from '../ra/config.js';
import type { NetworkRaOptions, SharedAdvertiser, VxlanNetworkOptions } from './types.js';

/** Unicast peers one network takes at most (one all-zeros FDB entry each; bounds a bad call's work). */
const MAX_PEERS = 4096;

/** `ttl 5` of the reference `ip link add … type vxlan`. */
export const DEFAULT_TTL = 5;
/** The reference radvd.conf. */
export const DEFAULT_RA = { minInterval: 3, maxInterval: 5, defaultLifetime: 3600, dnsLifetime: 6000 } as const;

/** Options after validation, with every default filled in. */
export interface ResolvedNetworkOptions {
  id: number;
  underlay: string;
  /** Canonical, e.g. '2a0a:e5c1:111:888::/64'. */
  prefix: string;
  routerAddress: string;
  /** Multicast group, or undefined in unicast mode. */
  group: string | undefined;
  peers: string[];
  local: string | undefined;
  port: number;
  ttl: number;
  rdnss: string[];
  dnssl: string[];
  pref64: string | undefined;
  mtu: number | undefined;
  /** As given (a name, path or fd), for the modules that resolve it themselves. */
  netns: string | number | undefined;
  /** The namespace's key in the run directory (netnsKeyOf: its path); shared things are keyed by netnsIdentity. */
  netnsKey: string;
  ra: false | (Required<Omit<NetworkRaOptions, 'advertiser'>> & { advertiser: SharedAdvertiser | undefined });
  names: { vxlan: string; bridge: string };
}

/** The first address of a prefix plus `host` (::1 → host 1), canonical. */
export function addressInPrefix(prefix: string, host: number): string {
  const bytes = ipv6ToBytes(prefix.slice(0, prefix.indexOf('/')));
  bytes.writeUInt32BE(host >>> 0, 12);
  return bytesToIPv6(bytes);
}

/** Whether `address` lies inside `network/length`. */
export function inPrefix(address: string, network: string, length: number): boolean {
  const a = ipv6ToBytes(address);
  const n = ipv6ToBytes(network);
  for (let bit = 0; bit < length; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if (((a[byte] ?? 0) & mask) !== ((n[byte] ?? 0) & mask)) return false;
  }
  return true;
}

/** A /64 IPv6 prefix without host bits, in canonical text. SLAAC (RFC 4862 §5.5.3) needs /64. */
export function checkPrefix64(field: string, value: unknown): string {
  const p = checkPrefixed(field, value);
  if (p.family !== 6) throw invalidValue(field, 'an IPv6 /64 prefix like 2001:db8:0:1::/64', value);
  if (p.prefixLength !== 64) throw invalidValue(field, 'an IPv6 /64 prefix like 2001:db8:0:1::/64', value, 'SLAAC needs a /64');
  const bytes = ipv6ToBytes(p.address);
  if (bytes.subarray(8).some((b) => b !== 0)) throw invalidValue(field, 'an IPv6 /64 prefix like 2001:db8:0:1::/64', value, 'host bits are set');
  return `${bytesToIPv6(bytes)}/64`;
}

function checkIPv6List(field: string, value: unknown, max: number): string[] {
  if (!Array.isArray(value)) throw invalidType(field, 'an array of IPv6 addresses', value);
  return checkArray(field, value, max).map((v, i) => bytesToIPv6(ipv6ToBytes(checkIPv6(`${field}[${i}]`, v))));
}

/** RFC 8106 §5.1: the RDNSS option's length is (1 + 2n) units of 8 octets in one byte. */
const MAX_RDNSS = 127;
function checkAdvertiser(field: string, value: unknown): SharedAdvertiser | undefined {
  if (value === undefined) return undefined;
  const v = value as Partial<SharedAdvertiser> | null;
  if (typeof v !== 'object' || v === null || typeof v.addInterface !== 'function' || typeof v.removeInterface !== 'function') {
    throw invalidType(field, 'a RouterAdvertiser', value);
  }
  return v as SharedAdvertiser;
}

function resolveRa(value: unknown): ResolvedNetworkOptions['ra'] {
  if (value === false) return false;
  const ra = value === undefined ? {} : checkObject('ra', value);
  // RFC 4861 §6.2.1 with RFC 8319's larger MaxRtrAdvInterval, as the router advertiser takes them.
  const minInterval = ra.minInterval === undefined ? DEFAULT_RA.minInterval : checkNumber('ra.minInterval', ra.minInterval, 3, 49151);
  const maxInterval =
    ra.maxInterval === undefined ? Math.max(DEFAULT_RA.maxInterval, minInterval / 0.75) : checkNumber('ra.maxInterval', ra.maxInterval, 4, 65535);
  // RFC 4861 §6.2.1: MinRtrAdvInterval ≤ 0.75 × MaxRtrAdvInterval.
  if (minInterval > 0.75 * maxInterval) {
    throw invalidValue('ra.minInterval', `at most 0.75 × ra.maxInterval (${maxInterval})`, minInterval);
  }
  return {
    minInterval,
    maxInterval,
    defaultLifetime: ra.defaultLifetime === undefined ? DEFAULT_RA.defaultLifetime : checkInteger('ra.defaultLifetime', ra.defaultLifetime, 0, 65535),
    dnsLifetime: ra.dnsLifetime === undefined ? DEFAULT_RA.dnsLifetime : checkInteger('ra.dnsLifetime', ra.dnsLifetime, 0, 0xffffffff),
    followForwarding: ra.followForwarding === undefined ? false : checkBoolean('ra.followForwarding', ra.followForwarding),
    advertiser: checkAdvertiser('ra.advertiser', ra.advertiser),
  };
}

/**
 * Validates `create`'s options and fills in the defaults; throws ERR_INVALID_ARG_* naming the
 * field before anything is created. `groupForId` is vxlanGroupForId (injected for tests).
 */
export function resolveNetworkOptions(options: unknown, groupForId: (id: number) => string): ResolvedNetworkOptions {
  const o = checkObject('options', options) as Partial<Record<keyof VxlanNetworkOptions, unknown>>;
  const id = checkInteger('id', o.id, 0, 16777215);
  const underlay = checkIfname('underlay', o.underlay);
  const prefix = checkPrefix64('prefix', o.prefix);
  const network = prefix.slice(0, -3);

  let routerAddress = addressInPrefix(prefix, 1);
  if (o.routerAddress !== undefined) {
    routerAddress = bytesToIPv6(ipv6ToBytes(checkIPv6('routerAddress', o.routerAddress)));
    if (!inPrefix(routerAddress, network, 64)) throw invalidValue('routerAddress', `an address inside ${prefix}`, o.routerAddress);
  }

  if (o.group !== undefined && o.peers !== undefined) {
    throw invalidValue('peers', 'absent when "group" is given (multicast and unicast mode exclude each other)', o.peers);
  }
  const peers = o.peers === undefined ? [] : checkIPv6List('peers', o.peers, MAX_PEERS);
  if (o.peers !== undefined && peers.length === 0) throw invalidValue('peers', 'a non-empty array of IPv6 addresses', o.peers);
  let group: string | undefined;
  if (o.peers === undefined) {
    group = o.group === undefined ? groupForId(id) : bytesToIPv6(ipv6ToBytes(checkIPv6('group', o.group)));
    if (!group.startsWith('ff')) throw invalidValue('group', 'an IPv6 multicast address (ff00::/8)', o.group);
  }
  const local = o.local === undefined ? undefined : checkIPv6('local', o.local);

  const names = o.names === undefined ? {} : checkObject('names', o.names);
  const vxlan = names.vxlan === undefined ? `vxlan${id}` : checkIfname('names.vxlan', names.vxlan);
  const bridge = names.bridge === undefined ? `br${id}` : checkIfname('names.bridge', names.bridge);
  // vxlan16777215 is 13 bytes and br16777215 10: the defaults always fit IFNAMSIZ.
  if (vxlan === bridge) throw invalidValue('names.bridge', "a name other than the vxlan's", bridge);

  let pref64: string | undefined;
  if (o.pref64 !== undefined) {
    const p = checkPrefixed('pref64', o.pref64);
    if (p.family !== 6 || ![32, 40, 48, 56, 64, 96].includes(p.prefixLength)) {
      throw invalidValue('pref64', 'an IPv6 prefix of length 32, 40, 48, 56, 64 or 96 (RFC 6052)', o.pref64);
    }
    pref64 = o.pref64 as string;
  }

  const netns = o.netns === undefined || o.netns === null ? undefined : (o.netns as string | number);
  const resolved = resolveNetns('netns', o.netns);

  return {
    id,
    underlay,
    prefix,
    routerAddress,
    group,
    peers,
    local,
    port: o.port === undefined ? VXLAN_DEFAULT_PORT : checkInteger('port', o.port, 1, 65535),
    ttl: o.ttl === undefined ? DEFAULT_TTL : checkInteger('ttl', o.ttl, 1, 255),
    rdnss: o.rdnss === undefined ? [] : checkIPv6List('rdnss', o.rdnss, MAX_RDNSS),
    dnssl: o.dnssl === undefined ? [] : checkDnsslDomains('dnssl', o.dnssl),
    pref64,
    // IPv6 needs 1280 (RFC 8200 §5); the bridge takes no more than 65535.
    mtu: o.mtu === undefined ? undefined : checkInteger('mtu', o.mtu, 1280, 65535),
    netns,
    netnsKey: netnsKeyOf(resolved),
    ra: resolveRa(o.ra),
    names: { vxlan, bridge },
  };
}
