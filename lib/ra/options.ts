/**
 * Neighbor discovery options of a router advertisement, encoded and decoded:
 * source link-layer address (RFC 4861 §4.6.1), prefix information (§4.6.2), MTU (§4.6.4),
 * route information (RFC 4191 §2.3), RDNSS and DNSSL (RFC 8106 §5.1, §5.2), PREF64
 * (RFC 8781 §4). Every option is a multiple of 8 bytes with its length in 8-byte units.
 */
import { bytesToIPv6, ipv6ToBytes } from '../validate.js';
import {
  ND_OPT_ADV_INTERVAL,
  ND_OPT_CAPTIVE_PORTAL,
  ND_OPT_PI_FLAG_DHCPV6_PD,
  ND_OPT_DNSSL,
  ND_OPT_MTU,
  ND_OPT_PI_FLAG_AUTO,
  ND_OPT_PI_FLAG_ONLINK,
  ND_OPT_PI_FLAG_RADDR,
  ND_OPT_PREF64,
  ND_OPT_PREFIX_INFORMATION,
  ND_OPT_RDNSS,
  ND_OPT_ROUTE_INFORMATION,
  ND_OPT_SOURCE_LINKADDR,
  PREF64_PLC,
  PREFERENCE_BITS,
  type Preference,
} from './constants.js';
import type { ResolvedDnssl, ResolvedPref64, ResolvedPrefix, ResolvedRdnss, ResolvedRoute } from './config.js';

/** Source link-layer address option for an Ethernet MAC (8 bytes). */
export function encodeSourceLinkLayer(mac: string): Buffer {
  const out = Buffer.alloc(8);
  out[0] = ND_OPT_SOURCE_LINKADDR;
  out[1] = 1;
  Buffer.from(mac.replace(/:/gu, ''), 'hex').copy(out, 2);
  return out;
}

/** Prefix information option (32 bytes). */
export function encodePrefix(p: ResolvedPrefix): Buffer {
  const out = Buffer.alloc(32);
  out[0] = ND_OPT_PREFIX_INFORMATION;
  out[1] = 4;
  out[2] = p.length;
  out[3] =
    (p.onLink ? ND_OPT_PI_FLAG_ONLINK : 0) |
    (p.autonomous ? ND_OPT_PI_FLAG_AUTO : 0) |
    (p.routerAddress ? ND_OPT_PI_FLAG_RADDR : 0) |
    (p.dhcpv6PdPreferred === true ? ND_OPT_PI_FLAG_DHCPV6_PD : 0);
  out.writeUInt32BE(p.validLifetime, 4);
  out.writeUInt32BE(p.preferredLifetime, 8);
  ipv6ToBytes(p.address).copy(out, 16);
  return out;
}

/**
 * Advertisement Interval option (RFC 6275 §7.3, 8 bytes): MaxRtrAdvInterval in ms. Below
 * 0.2 s radvd adds a 20 ms leeway (RFC 6275 §7.5's "cautious" interval); so do we.
 */
export function encodeAdvertisementInterval(maxInterval: number): Buffer {
  const out = Buffer.alloc(8);
  out[0] = ND_OPT_ADV_INTERVAL;
  out[1] = 1;
  const seconds = maxInterval < 0.2 ? maxInterval + 0.02 : maxInterval;
  // radvd computes it in C as uint32 *= double, i.e. truncated.
  out.writeUInt32BE(Math.trunc(1000 * seconds) >>> 0, 4);
  return out;
}

/** Captive-Portal option (RFC 8910 §2.3): the URI, zero-padded to a multiple of 8 bytes. */
export function encodeCaptivePortal(uri: string): Buffer {
  const length = Math.ceil((2 + uri.length) / 8) * 8;
  const out = Buffer.alloc(length);
  out[0] = ND_OPT_CAPTIVE_PORTAL;
  out[1] = length / 8;
  out.write(uri, 2, 'ascii');
  return out;
}

/** MTU option (8 bytes). */
export function encodeMtu(mtu: number): Buffer {
  const out = Buffer.alloc(8);
  out[0] = ND_OPT_MTU;
  out[1] = 1;
  out.writeUInt32BE(mtu, 4);
  return out;
}

/** Route information option: 8, 16 or 24 bytes depending on the prefix length (RFC 4191 §2.3). */
export function encodeRoute(r: ResolvedRoute): Buffer {
  const prefixBytes = r.length === 0 ? 0 : r.length <= 64 ? 8 : 16;
  const out = Buffer.alloc(8 + prefixBytes);
  out[0] = ND_OPT_ROUTE_INFORMATION;
  out[1] = 1 + prefixBytes / 8;
  out[2] = r.length;
  out[3] = PREFERENCE_BITS[r.preference] << 3;
  out.writeUInt32BE(r.lifetime, 4);
  ipv6ToBytes(r.address).copy(out, 8, 0, prefixBytes);
  return out;
}

/** RDNSS option: 8 + 16 bytes per server. */
export function encodeRdnss(r: ResolvedRdnss): Buffer {
  const out = Buffer.alloc(8 + 16 * r.servers.length);
  out[0] = ND_OPT_RDNSS;
  out[1] = 1 + 2 * r.servers.length;
  out.writeUInt32BE(r.lifetime, 4);
  r.servers.forEach((s, i) => ipv6ToBytes(s).copy(out, 8 + 16 * i));
  return out;
}

/** DNSSL option: names in DNS wire format (RFC 1035 §3.1, no compression), zero-padded to 8. */
export function encodeDnssl(d: ResolvedDnssl): Buffer {
  const names = d.domains.flatMap((domain) => [
    ...domain.split('.').flatMap((label) => [Buffer.from([label.length]), Buffer.from(label, 'ascii')]),
    Buffer.from([0]),
  ]);
  const body = Buffer.concat(names);
  const length = Math.ceil((8 + body.length) / 8) * 8;
  const out = Buffer.alloc(length);
  out[0] = ND_OPT_DNSSL;
  out[1] = length / 8;
  out.writeUInt32BE(d.lifetime, 4);
  body.copy(out, 8);
  return out;
}

/** PREF64 option (16 bytes): scaled lifetime (units of 8 s) | PLC, then the top 96 bits. */
export function encodePref64(p: ResolvedPref64): Buffer {
  const out = Buffer.alloc(16);
  out[0] = ND_OPT_PREF64;
  out[1] = 2;
  out.writeUInt16BE(((Math.ceil(p.lifetime / 8) & 0x1fff) << 3) | (PREF64_PLC[p.length] ?? 0), 2);
  ipv6ToBytes(p.address).copy(out, 4, 0, 12);
  return out;
}

/** A decoded option (for tests, tools and logs). */
export type DecodedOption =
  | { type: 'sourceLinkLayer'; mac: string }
  | {
      type: 'prefix';
      prefix: string;
      length: number;
      onLink: boolean;
      autonomous: boolean;
      routerAddress: boolean;
      validLifetime: number;
      preferredLifetime: number;
    }
  | { type: 'mtu'; mtu: number }
  | { type: 'route'; prefix: string; length: number; preference: Preference | 'reserved'; lifetime: number }
  | { type: 'rdnss'; servers: string[]; lifetime: number }
  | { type: 'dnssl'; domains: string[]; lifetime: number }
  | { type: 'pref64'; prefix: string; length: number | undefined; lifetime: number }
  | { type: 'advertisementInterval'; interval: number }
  | { type: 'captivePortal'; uri: string }
  | { type: 'unknown'; code: number; data: Buffer };

function preferenceOf(bits: number): Preference | 'reserved' {
  const entry = Object.entries(PREFERENCE_BITS).find(([, v]) => v === bits);
  return entry ? (entry[0] as Preference) : 'reserved';
}

function decodeNames(body: Buffer): string[] {
  const names: string[] = [];
  let labels: string[] = [];
  for (let i = 0; i < body.length;) {
    const n = body[i] ?? 0;
    i += 1;
    if (n === 0) {
      if (labels.length > 0) names.push(labels.join('.'));
      labels = [];
      continue;
    }
    labels.push(body.subarray(i, i + n).toString('ascii'));
    i += n;
  }
  return names;
}

/** Decodes one option (`data` is the whole option, length already checked). */
export function decodeOption(data: Buffer): DecodedOption {
  const type = data[0] ?? 0;
  switch (type) {
    case ND_OPT_SOURCE_LINKADDR:
      return { type: 'sourceLinkLayer', mac: [...data.subarray(2, 8)].map((b) => b.toString(16).padStart(2, '0')).join(':') };
    case ND_OPT_PREFIX_INFORMATION: {
      const flags = data[3] ?? 0;
      return {
        type: 'prefix',
        prefix: bytesToIPv6(data.subarray(16, 32)),
        length: data[2] ?? 0,
        onLink: (flags & ND_OPT_PI_FLAG_ONLINK) !== 0,
        autonomous: (flags & ND_OPT_PI_FLAG_AUTO) !== 0,
        routerAddress: (flags & ND_OPT_PI_FLAG_RADDR) !== 0,
        validLifetime: data.readUInt32BE(4),
        preferredLifetime: data.readUInt32BE(8),
      };
    }
    case ND_OPT_MTU:
      return { type: 'mtu', mtu: data.readUInt32BE(4) };
    case ND_OPT_ROUTE_INFORMATION: {
      const prefix = Buffer.alloc(16);
      data.copy(prefix, 0, 8, Math.min(data.length, 24));
      return {
        type: 'route',
        prefix: bytesToIPv6(prefix),
        length: data[2] ?? 0,
        preference: preferenceOf(((data[3] ?? 0) >> 3) & 3),
        lifetime: data.readUInt32BE(4),
      };
    }
    case ND_OPT_RDNSS: {
      const servers: string[] = [];
      for (let i = 8; i + 16 <= data.length; i += 16) servers.push(bytesToIPv6(data.subarray(i, i + 16)));
      return { type: 'rdnss', servers, lifetime: data.readUInt32BE(4) };
    }
    case ND_OPT_DNSSL:
      return { type: 'dnssl', domains: decodeNames(data.subarray(8)), lifetime: data.readUInt32BE(4) };
    case ND_OPT_PREF64: {
      const word = data.readUInt16BE(2);
      const plc = word & 7;
      const length = Object.entries(PREF64_PLC).find(([, v]) => v === plc)?.[0];
      const prefix = Buffer.alloc(16);
      data.copy(prefix, 0, 4, 16);
      return { type: 'pref64', prefix: bytesToIPv6(prefix), length: length === undefined ? undefined : Number(length), lifetime: (word >> 3) * 8 };
    }
    case ND_OPT_ADV_INTERVAL:
      return { type: 'advertisementInterval', interval: data.readUInt32BE(4) };
    case ND_OPT_CAPTIVE_PORTAL:
      return { type: 'captivePortal', uri: data.subarray(2).toString('ascii').replace(/\0+$/u, '') };
    default:
      return { type: 'unknown', code: type, data };
  }
}
