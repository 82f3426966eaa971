/**
 * Reads the IPv6 packets of a libpcap file with an Ethernet link type (the captures under
 * test/fixtures/ra/): source, destination, hop limit and the ICMPv6 message.
 */
import { readFileSync } from 'node:fs';
import { bytesToIPv6 } from '../../lib/validate.js';

/** One captured IPv6 packet. */
export interface CapturedPacket {
  /** When it was captured, in ms since the epoch (the pcap record's timestamp). */
  at: number;
  source: string;
  destination: string;
  hopLimit: number;
  nextHeader: number;
  payload: Buffer;
}

/** Parses a libpcap (not pcapng) file; throws on anything else. */
export function readPcap(path: string): CapturedPacket[] {
  return parsePcap(readFileSync(path), path);
}

/**
 * Parses libpcap bytes (a file, or what `dumpcap -w -` has written so far: a packet cut short
 * at the end is left for the next call).
 */
export function parsePcap(data: Buffer, path = 'pcap'): CapturedPacket[] {
  if (data.length < 24) return [];
  const magic = data.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const bigMagic = data.readUInt32BE(0);
  if (!le && bigMagic !== 0xa1b2c3d4 && bigMagic !== 0xa1b23c4d) throw new Error(`${path}: not a libpcap file`);
  // The second magic says the fraction is in nanoseconds, not microseconds.
  const fraction = (le ? magic : bigMagic) === 0xa1b23c4d ? 1e6 : 1e3;
  const u32 = (o: number): number => (le ? data.readUInt32LE(o) : data.readUInt32BE(o));
  if (u32(20) !== 1) throw new Error(`${path}: link type ${u32(20)}, expected Ethernet (1)`);
  const packets: CapturedPacket[] = [];
  for (let o = 24; o + 16 <= data.length;) {
    const caplen = u32(o + 8);
    if (o + 16 + caplen > data.length) break;
    const at = u32(o) * 1000 + u32(o + 4) / fraction;
    const frame = data.subarray(o + 16, o + 16 + caplen);
    o += 16 + caplen;
    if (frame.readUInt16BE(12) !== 0x86dd) continue;
    const ip = frame.subarray(14);
    packets.push({
      at,
      source: bytesToIPv6(ip.subarray(8, 24)),
      destination: bytesToIPv6(ip.subarray(24, 40)),
      hopLimit: ip[7] ?? 0,
      nextHeader: ip[6] ?? 0,
      payload: ip.subarray(40, 40 + ip.readUInt16BE(4)),
    });
  }
  return packets;
}
