/**
 * Raw Ethernet frames for the hostile-guest tests: what a guest could write into its tap.
 * IPv6/ICMPv6 packets come from the RA codec (lib/ra/codec.ts: hop limit 255, checksum);
 * the rest is built here: Ethernet and 802.1Q headers, UDP over IPv6, the IPv6 fragment
 * header, ARP and IPv4.
 */
import { ipv6Packet } from '../../lib/ra/codec.js';
import { ipv6ToBytes } from '../../lib/validate.js';

export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;

/** `aa:bb:…` → 6 bytes. */
export function mac(text: string): Buffer {
  return Buffer.from(text.split(':').map((h) => parseInt(h, 16)));
}

/** The Ethernet multicast address of an IPv6 multicast group (RFC 2464 §7). */
export function multicastMac(group: string): string {
  const b = ipv6ToBytes(group);
  return ['33', '33', ...[...b.subarray(12)].map((x) => x.toString(16).padStart(2, '0'))].join(':');
}

/** An Ethernet frame; `vlan` inserts an 802.1Q tag. */
export function ether(dst: string, src: string, type: number, payload: Buffer, vlan?: number): Buffer {
  const tag = vlan === undefined ? Buffer.alloc(0) : Buffer.from([0x81, 0x00, (vlan >> 8) & 0x0f, vlan & 0xff]);
  const t = Buffer.alloc(2);
  t.writeUInt16BE(type);
  return Buffer.concat([mac(dst), mac(src), tag, t, payload]);
}

/** An IPv6 packet with ICMPv6 `message` (type, code, checksum 0, body). */
export function icmpv6(src: string, dst: string, type: number, body: Buffer): Buffer {
  const message = Buffer.concat([Buffer.from([type, 0, 0, 0]), body]);
  return ipv6Packet(ipv6ToBytes(src), ipv6ToBytes(dst), message);
}

function checksum(parts: Buffer[]): number {
  const data = Buffer.concat(parts);
  let sum = 0;
  for (let i = 0; i < data.length; i += 2) sum += ((data[i] ?? 0) << 8) | (data[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** A UDP datagram over IPv6 with its checksum. */
export function udp6(src: string, dst: string, sport: number, dport: number, payload: Buffer): Buffer {
  const udp = Buffer.alloc(8 + payload.length);
  udp.writeUInt16BE(sport, 0);
  udp.writeUInt16BE(dport, 2);
  udp.writeUInt16BE(udp.length, 4);
  payload.copy(udp, 8);
  const pseudo = Buffer.alloc(40);
  ipv6ToBytes(src).copy(pseudo, 0);
  ipv6ToBytes(dst).copy(pseudo, 16);
  pseudo.writeUInt32BE(udp.length, 32);
  pseudo[39] = 17;
  udp.writeUInt16BE(checksum([pseudo, udp]) || 0xffff, 6);
  const ip = Buffer.alloc(40);
  ip[0] = 0x60;
  ip.writeUInt16BE(udp.length, 4);
  ip[6] = 17;
  ip[7] = 64;
  ipv6ToBytes(src).copy(ip, 8);
  ipv6ToBytes(dst).copy(ip, 24);
  return Buffer.concat([ip, udp]);
}

/** The same IPv6 packet as one atomic fragment (RFC 6946): a fragment header before its payload. */
export function fragmented(packet: Buffer): Buffer {
  const ip = Buffer.from(packet.subarray(0, 40));
  const payload = packet.subarray(40);
  const frag = Buffer.from([ip[6] ?? 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78]);
  ip[6] = 44;
  ip.writeUInt16BE(payload.length + 8, 4);
  return Buffer.concat([ip, frag, payload]);
}

/** A neighbour advertisement body (RFC 4861 §4.4): flags R|S|O as given, target, target link-layer option. */
export function naBody(target: string, tlla: string | undefined, flags = 0xa0): Buffer {
  const head = Buffer.alloc(20);
  head[0] = flags;
  ipv6ToBytes(target).copy(head, 4);
  return tlla === undefined ? head : Buffer.concat([head, Buffer.from([2, 1]), mac(tlla)]);
}

/** A link-layer address option (RFC 4861 §4.6.1): type 1 (source) or 2 (target), length 1. */
export function lladdrOption(type: 1 | 2, address: string): Buffer {
  return Buffer.concat([Buffer.from([type, 1]), mac(address)]);
}

/** A nonce option (RFC 3971 §5.3.2, as Linux sends it for DAD, RFC 7527): type 14, 6 bytes. */
export function nonceOption(): Buffer {
  return Buffer.from([14, 1, 0x5e, 0x17, 0x00, 0x01, 0x02, 0x03]);
}

/** A neighbour solicitation body (RFC 4861 §4.3): reserved, target, then `options` as given. */
export function nsBody(target: string, ...options: Buffer[]): Buffer {
  const head = Buffer.alloc(20);
  ipv6ToBytes(target).copy(head, 4);
  return Buffer.concat([head, ...options]);
}

/** A router solicitation body (RFC 4861 §4.1): reserved, then `options`. */
export function rsBody(...options: Buffer[]): Buffer {
  return Buffer.concat([Buffer.alloc(4), ...options]);
}

/** The solicited-node multicast address of `address` (RFC 4291 §2.7.1): ff02::1:ff + its last 24 bits. */
export function solicitedNode(address: string): string {
  const b = ipv6ToBytes(address);
  const hex = (i: number): string => (b[i] ?? 0).toString(16).padStart(2, '0');
  return `ff02::1:ff${hex(13)}:${hex(14)}${hex(15)}`;
}

/**
 * A router advertisement body (RFC 4861 §4.2) with a source link-layer and a prefix option;
 * `flags` is the M/O/H/Prf byte (0x08: high router preference, RFC 4191 §2.2).
 */
export function raBody(srcMac: string, prefix: string, lifetime = 9000, flags = 0): Buffer {
  const head = Buffer.alloc(12);
  head[0] = 64;
  head[1] = flags;
  head.writeUInt16BE(lifetime, 2);
  const pio = Buffer.alloc(32);
  pio[0] = 3;
  pio[1] = 4;
  pio[2] = 64;
  pio[3] = 0xc0;
  pio.writeUInt32BE(86400, 4);
  pio.writeUInt32BE(14400, 8);
  ipv6ToBytes(prefix).copy(pio, 16);
  return Buffer.concat([head, Buffer.from([1, 1]), mac(srcMac), pio]);
}

/** A redirect body (RFC 4861 §4.5): better first hop `target` for `destination`. */
export function redirectBody(target: string, destination: string): Buffer {
  const b = Buffer.alloc(36);
  ipv6ToBytes(target).copy(b, 4);
  ipv6ToBytes(destination).copy(b, 20);
  return b;
}

/** An echo request body with an identifier and a marker payload. */
export function echoBody(id: number, marker: string): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(1, 2);
  return Buffer.concat([b, Buffer.from(marker)]);
}

/** An ARP reply (RFC 826) announcing `spa` at `sha`. */
export function arpReply(sha: string, spa: string, tpa: string): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt16BE(1, 0);
  b.writeUInt16BE(ETH_P_IP, 2);
  b[4] = 6;
  b[5] = 4;
  b.writeUInt16BE(2, 6);
  mac(sha).copy(b, 8);
  Buffer.from(spa.split('.').map(Number)).copy(b, 14);
  mac('ff:ff:ff:ff:ff:ff').copy(b, 18);
  Buffer.from(tpa.split('.').map(Number)).copy(b, 24);
  return b;
}

/** A minimal IPv4 UDP packet (checksums zero: UDP's is optional over IPv4, the header's is filled). */
export function udp4(src: string, dst: string, sport: number, dport: number): Buffer {
  const ip = Buffer.alloc(28);
  ip[0] = 0x45;
  ip.writeUInt16BE(28, 2);
  ip[8] = 64;
  ip[9] = 17;
  Buffer.from(src.split('.').map(Number)).copy(ip, 12);
  Buffer.from(dst.split('.').map(Number)).copy(ip, 16);
  ip.writeUInt16BE(checksum([ip.subarray(0, 20)]), 10);
  ip.writeUInt16BE(sport, 20);
  ip.writeUInt16BE(dport, 22);
  ip.writeUInt16BE(8, 24);
  return ip;
}

/** What a frame looks like written into a tap with IFF_VNET_HDR: a zeroed virtio_net_hdr (10 bytes) first. */
export function withVnetHeader(frame: Buffer): Buffer {
  return Buffer.concat([Buffer.alloc(10), frame]);
}
