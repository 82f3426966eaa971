/**
 * Router advertisement messages (RFC 4861 §4.2): building the ICMPv6 bytes for an interface
 * (split over several messages when the options would exceed the link MTU: RAs are never
 * fragmented), decoding them, and the ICMPv6 checksum (RFC 4443 §2.3; the kernel fills it in
 * for raw ICMPv6 sockets, so it is used only to compare with captures).
 *
 * Option order follows radvd's build_ra_options (prefixes, PREF64, routes, RDNSS, DNSSL, MTU,
 * source link-layer address, advertisement interval, captive portal) so a capture of radvd and
 * ours compare byte for byte.
 */
import { ipv6ToBytes } from '../validate.js';
import {
  IPV6_HEADER_LENGTH,
  IPV6_MIN_MTU,
  MIN_VALID_LIFETIME_UPDATE,
  ND_RA_FLAG_MANAGED,
  ND_RA_FLAG_OTHER,
  ND_RA_FLAG_SNAC_ROUTER,
  ND_ROUTER_ADVERT,
  PREFERENCE_BITS,
  RA_HEADER_LENGTH,
  type Preference,
} from './constants.js';
import type { ResolvedDnssl, ResolvedInterfaceConfig, ResolvedPref64, ResolvedPrefix, ResolvedRdnss, ResolvedRoute } from './config.js';
import {
  decodeOption,
  encodeAdvertisementInterval,
  encodeCaptivePortal,
  encodeDnssl,
  encodeMtu,
  encodePref64,
  encodePrefix,
  encodeRdnss,
  encodeRoute,
  encodeSourceLinkLayer,
  type DecodedOption,
} from './options.js';

/** Items that were removed from the configuration and are advertised with lifetime 0 a few more times. */
export interface Withdrawn {
  prefixes: ResolvedPrefix[];
  routes: ResolvedRoute[];
  rdnss: ResolvedRdnss[];
  dnssl: ResolvedDnssl[];
  pref64: ResolvedPref64[];
}

/** What goes into an interface's RAs besides its configuration. */
export interface AdvertisementInput {
  config: ResolvedInterfaceConfig;
  /** The interface's MAC, for the source link-layer address option (none when undefined). */
  mac?: string | undefined;
  /** The link MTU the RA must fit (default 1500). */
  linkMtu?: number;
  /**
   * A final RA (RFC 4861 §6.2.5): router lifetime 0 (and preference medium, RFC 4191 §2.2),
   * RDNSS and DNSSL lifetimes 0 (unless flushOnStop is false), routes lifetime 0 (unless
   * removeOnStop is false), prefixes with deprecateOnStop preferred 0 and valid at most 2 h.
   */
  final?: boolean;
  /** Removed items, advertised with lifetime 0. */
  withdrawn?: Withdrawn | undefined;
  /** The prefixes to send instead of config.prefixes (lifetimes counted down, DecrementLifetimes). */
  prefixes?: ResolvedPrefix[] | undefined;
}

/** radvd's DeprecatePrefix in a final RA: preferred 0, valid at most 2 h (RFC 4862 §5.5.3 e). */
function deprecated(p: ResolvedPrefix): ResolvedPrefix {
  return { ...p, preferredLifetime: 0, validLifetime: Math.min(p.validLifetime, MIN_VALID_LIFETIME_UPDATE) };
}

function header(config: ResolvedInterfaceConfig, final: boolean): Buffer {
  const out = Buffer.alloc(RA_HEADER_LENGTH);
  out[0] = ND_ROUTER_ADVERT;
  out[1] = 0;
  out[4] = config.hopLimit;
  const preference = final || config.defaultLifetime === 0 ? 'medium' : config.preference;
  out[5] =
    (config.managed ? ND_RA_FLAG_MANAGED : 0) |
    (config.other ? ND_RA_FLAG_OTHER : 0) |
    (PREFERENCE_BITS[preference] << 3) |
    (config.snacRouter ? ND_RA_FLAG_SNAC_ROUTER : 0);
  out.writeUInt16BE(final ? 0 : config.defaultLifetime, 6);
  out.writeUInt32BE(config.reachableTime, 8);
  out.writeUInt32BE(config.retransTimer, 12);
  return out;
}

interface Item {
  bytes: Buffer;
  /** Repeated in every message of a split RA. */
  fixed: boolean;
}

function items(input: AdvertisementInput): Item[] {
  const { config } = input;
  const final = input.final === true;
  const w = input.withdrawn;
  const v = (bytes: Buffer): Item => ({ bytes, fixed: false });
  // A `::` prefix stands for the interface's own prefixes (radvd's `prefix ::/64`): the
  // interface advertiser expands it; without that expansion there is nothing to send for it.
  const prefixes = input.prefixes ?? config.prefixes.filter((p) => p.address !== '::');
  const list: Item[] = [
    ...prefixes.map((p) => v(encodePrefix(final && p.deprecateOnStop === true ? deprecated(p) : p))),
    ...(w?.prefixes ?? []).map((p) => v(encodePrefix({ ...p, validLifetime: 0, preferredLifetime: 0 }))),
    ...config.pref64.map((p) => v(encodePref64(p))),
    ...(w?.pref64 ?? []).map((p) => v(encodePref64({ ...p, lifetime: 0 }))),
    ...config.routes.map((r) => v(encodeRoute(final && r.removeOnStop !== false ? { ...r, lifetime: 0 } : r))),
    ...(w?.routes ?? []).map((r) => v(encodeRoute({ ...r, lifetime: 0 }))),
    ...config.rdnss.map((r) => v(encodeRdnss(final && r.flushOnStop !== false ? { ...r, lifetime: 0 } : r))),
    ...(w?.rdnss ?? []).map((r) => v(encodeRdnss({ ...r, lifetime: 0 }))),
    ...config.dnssl.map((d) => v(encodeDnssl(final && d.flushOnStop !== false ? { ...d, lifetime: 0 } : d))),
    ...(w?.dnssl ?? []).map((d) => v(encodeDnssl({ ...d, lifetime: 0 }))),
  ];
  if (config.mtu !== undefined) list.push({ bytes: encodeMtu(config.mtu), fixed: true });
  if (config.sourceLinkLayerAddress && input.mac) list.push({ bytes: encodeSourceLinkLayer(input.mac), fixed: true });
  if (config.intervalOption) list.push({ bytes: encodeAdvertisementInterval(config.maxInterval), fixed: true });
  if (config.captivePortal !== undefined) list.push({ bytes: encodeCaptivePortal(config.captivePortal), fixed: true });
  return list;
}

/**
 * The ICMPv6 bytes of an interface's RA (checksum 0: the kernel computes it). Usually one
 * message; more when the options do not fit `linkMtu` minus the IPv6 header, each message
 * then carrying the header, the MTU and link-layer options, and its share of the rest.
 */
export function buildAdvertisements(input: AdvertisementInput): Buffer[] {
  const head = header(input.config, input.final === true);
  const list = items(input);
  const budget = Math.max(input.linkMtu ?? 1500, IPV6_MIN_MTU) - IPV6_HEADER_LENGTH - RA_HEADER_LENGTH;
  const fixedSize = list.reduce((n, i) => n + (i.fixed ? i.bytes.length : 0), 0);
  // Greedy, in order: an option that does not fit starts the next message.
  const assignment: number[] = [];
  let message = 0;
  let used = fixedSize;
  let anyInMessage = false;
  for (const item of list) {
    if (item.fixed) {
      assignment.push(-1);
      continue;
    }
    if (anyInMessage && used + item.bytes.length > budget) {
      message += 1;
      used = fixedSize;
    }
    assignment.push(message);
    used += item.bytes.length;
    anyInMessage = true;
  }
  const out: Buffer[] = [];
  for (let m = 0; m <= message; m++) {
    out.push(Buffer.concat([head, ...list.filter((_, i) => assignment[i] === -1 || assignment[i] === m).map((i) => i.bytes)]));
  }
  return out;
}

/** A decoded RA. */
export interface DecodedAdvertisement {
  hopLimit: number;
  managed: boolean;
  other: boolean;
  preference: Preference | 'reserved';
  routerLifetime: number;
  reachableTime: number;
  retransTimer: number;
  options: DecodedOption[];
}

/** Decodes an RA's ICMPv6 bytes; throws on a malformed message. */
export function decodeAdvertisement(message: Uint8Array): DecodedAdvertisement {
  const data = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  if (data.length < RA_HEADER_LENGTH || data[0] !== ND_ROUTER_ADVERT) throw new Error('not a router advertisement');
  const flags = data[5] ?? 0;
  const options: DecodedOption[] = [];
  for (let i = RA_HEADER_LENGTH; i < data.length;) {
    const length = (data[i + 1] ?? 0) * 8;
    if (length === 0 || i + length > data.length) throw new Error(`malformed option at offset ${i}`);
    options.push(decodeOption(data.subarray(i, i + length)));
    i += length;
  }
  const prf = (flags >> 3) & 3;
  return {
    hopLimit: data[4] ?? 0,
    managed: (flags & ND_RA_FLAG_MANAGED) !== 0,
    other: (flags & ND_RA_FLAG_OTHER) !== 0,
    preference: (Object.entries(PREFERENCE_BITS).find(([, b]) => b === prf)?.[0] as Preference | undefined) ?? 'reserved',
    routerLifetime: data.readUInt16BE(6),
    reachableTime: data.readUInt32BE(8),
    retransTimer: data.readUInt32BE(12),
    options,
  };
}

/**
 * A whole IPv6 packet carrying `message` (RFC 8200 §3): hop limit 255 as neighbor discovery
 * requires (RFC 4861 §4.2), next header ICMPv6, the checksum filled in. For sending through a
 * packet socket, where the kernel adds nothing.
 */
export function ipv6Packet(source: Uint8Array, destination: Uint8Array, message: Uint8Array): Buffer {
  // From the shared Buffer pool rather than an ArrayBuffer of its own: one of these is cached
  // per served interface, and a thousand small ArrayBuffers cost more than their bytes.
  // Every byte is written below (the header's zero fields by the fill).
  const out = Buffer.allocUnsafe(IPV6_HEADER_LENGTH + message.length);
  out.fill(0, 0, IPV6_HEADER_LENGTH);
  out[0] = 0x60;
  out.writeUInt16BE(message.length, 4);
  out[6] = 58;
  out[7] = 255;
  out.set(source, 8);
  out.set(destination, 24);
  out.set(message, IPV6_HEADER_LENGTH);
  out.writeUInt16BE(icmpv6ChecksumBytes(source, destination, message), IPV6_HEADER_LENGTH + 2);
  return out;
}

/** The ICMPv6 checksum over the IPv6 pseudo-header (RFC 8200 §8.1) and the message. */
export function icmpv6Checksum(source: string, destination: string, message: Uint8Array): number {
  return icmpv6ChecksumBytes(ipv6ToBytes(source), ipv6ToBytes(destination), message);
}

/** icmpv6Checksum with the addresses as 16 bytes each. */
export function icmpv6ChecksumBytes(source: Uint8Array, destination: Uint8Array, message: Uint8Array): number {
  const pseudo = Buffer.alloc(40);
  pseudo.set(source, 0);
  pseudo.set(destination, 16);
  pseudo.writeUInt32BE(message.length, 32);
  pseudo[39] = 58;
  let sum = 0;
  const add = (b: Uint8Array, skipChecksum: boolean): void => {
    for (let i = 0; i < b.length; i += 2) {
      if (skipChecksum && i === 2) continue;
      sum += ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
    }
  };
  add(pseudo, false);
  add(message, true);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
