/**
 * The same radvd.conf through radvd (Debian's radvd 2.19) and through vmplumb
 * (parseRadvdConf + RouterAdvertiser), on the same bridge, captured with dumpcap in a client
 * namespace: the first RA and the final RA of each must be the same bytes (the ICMPv6 message,
 * checksum included, since source and destination are the same), except for what the README's
 * "radvd drop-in" section documents, applied here to radvd's bytes before comparing:
 *
 * - prefix (without the R flag) and route options: bits past the prefix length are zero in
 *   ours (RFC 4861 §4.6.2, RFC 4191 §2.3);
 * - a final RA (router lifetime 0) has router preference medium in ours (RFC 4191 §2.2);
 * - route options are as short as their prefix length allows (RFC 4191 §2.3: 8, 16 or 24
 *   bytes), as current radvd sends them; radvd 2.19 always sends 24 bytes.
 *
 * The corpus: the reference config, radvd's shipped examples, the first radvd.conf(5)
 * example, and files that use every option both implement (their interface renamed to the
 * test bridge).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAdvertisement, icmpv6Checksum } from '../../lib/ra/codec.js';
import { RouterAdvertiser, parseRadvdConf } from '../../lib/ra/index.js';
import { joinWithVeth, TestNetns } from '../helpers/netns.js';
import { skipUnlessRoot } from '../helpers/privileges.js';
import type { CapturedPacket } from '../helpers/ra-pcap.js';
import { Capture, until } from '../helpers/ra-capture.js';

const RADVD = '/usr/sbin/radvd';
const BRIDGE = 'br100';
const BRIDGE_MAC = '02:00:00:00:01:00';
const FIXTURES = new URL('../fixtures/ra/', import.meta.url);

const KITCHEN_SINK = `
# Every option radvd 2.19 and vmplumb both implement, away from its default.
interface br100
{
  AdvSendAdvert on;
  MinRtrAdvInterval 3;
  MaxRtrAdvInterval 10.5;
  AdvManagedFlag on;
  AdvOtherConfigFlag on;
  AdvLinkMTU 1400;
  AdvReachableTime 30000;
  AdvRetransTimer 1000;
  AdvCurHopLimit 32;
  AdvDefaultLifetime 1800;
  AdvDefaultPreference high;
  AdvSourceLLAddress on;
  AdvIntervalOpt on;
  prefix 2001:db8:1::/64 { AdvOnLink off; AdvAutonomous on; AdvValidLifetime infinity; AdvPreferredLifetime 600; DeprecatePrefix on; };
  prefix 2001:db8:2::/64 { AdvValidLifetime 3600; AdvPreferredLifetime 1800; };
  prefix 2001:db8:3::/56 { AdvAutonomous off; };
  route 2001:db8:f::/48 { AdvRoutePreference low; AdvRouteLifetime 1200; RemoveRoute off; };
  route ::/0 { AdvRouteLifetime 1800; };
  route 2001:db8:1:2:3::/80 { AdvRoutePreference high; };
  RDNSS 2001:db8::53 2001:db8::54 { AdvRDNSSLifetime 1200; FlushRDNSS off; };
  RDNSS 2001:db8::55 { AdvRDNSSLifetime infinity; };
  DNSSL Branch.Example.com example.org { AdvDNSSLLifetime 1200; };
};
`;

const HOST_BITS = `
# Prefixes and routes written with bits past their length (radvd sends them as written).
interface br100
{
  AdvSendAdvert on;
  MinRtrAdvInterval 3;
  MaxRtrAdvInterval 10;
  AdvDefaultPreference low;
  prefix 2001:db8:0:1::4/64 { AdvRouterAddr on; };
  prefix 2001:db8:0:2::4/64 { };
  route fe80:f:2::/32 { };
  route 2001:db8:ffff:1234::/50 { AdvRouteLifetime 600; };
};
`;

const OWN_PREFIXES = `
# The bridge's own prefix (radvd's auto prefixes): br100 has 2001:db8:a1::1/64 in this test.
interface br100
{
  AdvSendAdvert on;
  MinRtrAdvInterval 3;
  MaxRtrAdvInterval 10;
  prefix ::/64 { AdvValidLifetime 7200; AdvPreferredLifetime 3600; AdvOnLink off; };
};
`;

const corpus: Array<[string, string]> = [
  ['reference radvd.conf', readFileSync(new URL('radvd.conf', FIXTURES), 'utf8')],
  ['shipped radvd.conf.example', readFileSync(new URL('radvd-conf/shipped-radvd.conf.example', FIXTURES), 'utf8')],
  ['shipped simple-radvd.conf', readFileSync(new URL('radvd-conf/shipped-simple-radvd.conf', FIXTURES), 'utf8')],
  ['radvd.conf(5) first example', readFileSync(new URL('radvd-conf/man-1-basic.conf', FIXTURES), 'utf8')],
  ['every shared option', KITCHEN_SINK],
  ['host bits past the prefix length', HOST_BITS],
  ["prefix ::/64 (the bridge's own prefix)", OWN_PREFIXES],
];

/** radvd 2.19's 24-byte route options cut to the length current radvd and vmplumb use. */
function compactRoutes(message: Buffer): Buffer {
  const parts = [message.subarray(0, 16)];
  for (let i = 16; i + 8 <= message.length && message[i + 1]! > 0; i += message[i + 1]! * 8) {
    const option = Buffer.from(message.subarray(i, i + message[i + 1]! * 8));
    if (option[0] === 24) {
      const units = option[2] === 0 ? 1 : option[2]! <= 64 ? 2 : 3;
      option[1] = units;
      parts.push(option.subarray(0, units * 8));
    } else {
      parts.push(option);
    }
  }
  return Buffer.concat(parts);
}

/** The differences the README documents, applied to radvd's message (a copy, checksum redone). */
function documented(packet: CapturedPacket): Buffer {
  const out = compactRoutes(packet.payload);
  if (out.readUInt16BE(6) === 0) out[5] = out[5]! & ~0x18; // final: preference medium (RFC 4191 §2.2)
  for (let i = 16; i + 8 <= out.length && out[i + 1]! > 0; i += out[i + 1]! * 8) {
    const type = out[i]!;
    const length = out[i + 2]!;
    const at = type === 3 && (out[i + 3]! & 0x20) === 0 ? i + 16 : type === 24 ? i + 8 : -1;
    if (at < 0) continue;
    const bytes = type === 3 ? 16 : (out[i + 1]! - 1) * 8;
    for (let b = 0; b < bytes; b++) {
      const keep = Math.max(0, Math.min(8, length - 8 * b));
      out[at + b] = out[at + b]! & ((0xff00 >> keep) & 0xff);
    }
  }
  if (!out.equals(packet.payload)) out.writeUInt16BE(icmpv6Checksum(packet.source, packet.destination, out), 2);
  return out;
}

const isFinal = (p: CapturedPacket): boolean => p.payload.readUInt16BE(6) === 0;

describe.skipIf(skipUnlessRoot('radvd wire comparison', [RADVD, '/usr/bin/dumpcap']))('the same radvd.conf: radvd and vmplumb send the same bytes', () => {
  let router: TestNetns;
  let client: TestNetns;
  let tmp: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'vmpra-wire-'));
    router = new TestNetns('vmpraw');
    client = new TestNetns('vmpraw');
    router.sysctl('net.ipv6.conf.all.forwarding', 1); // radvd sends router lifetime 0 otherwise
    router.ip('link', 'add', BRIDGE, 'address', BRIDGE_MAC, 'type', 'bridge');
    router.ip('link', 'set', BRIDGE, 'addrgenmode', 'eui64');
    joinWithVeth(router, 'vmpraw-r0', client, 'vmpraw-c0');
    router.ip('link', 'set', 'vmpraw-r0', 'master', BRIDGE);
    router.ip('link', 'set', BRIDGE, 'up');
    router.ip('addr', 'add', '2001:db8:a1::1/64', 'dev', BRIDGE, 'nodad');
    client.sysctl('net.ipv6.conf.vmpraw-c0.accept_ra', 0); // a pure listener
    await until(`${BRIDGE}'s link-local past DAD`, () => router.linkLocal(BRIDGE), 60_000);
  });

  afterAll(() => {
    router?.cleanup();
    client?.cleanup();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** radvd's first and final RA for `text`. */
  async function radvdSends(text: string, name: string): Promise<[CapturedPacket, CapturedPacket]> {
    const file = join(tmp, `${name}.conf`);
    const pidFile = join(tmp, `${name}.pid`);
    writeFileSync(file, text);
    const capture = new Capture(client, 'vmpraw-c0');
    try {
      await capture.ready;
      const radvd = spawn('ip', ['netns', 'exec', router.name, RADVD, '-n', '-C', file, '-p', pidFile, '-m', 'stderr'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let log = '';
      radvd.stderr!.on('data', (c: Buffer) => {
        log += c.toString();
      });
      const exited = new Promise<void>((resolve) => radvd.on('close', () => resolve()));
      try {
        await until(`radvd's first RA (log: ${log})`, () => capture.packets().length > 0);
      } finally {
        // radvd sends its final RA on SIGTERM; `ip netns exec` passes the signal on.
        const pid = Number(readFileSync(pidFile, 'utf8').trim());
        process.kill(pid, 'SIGTERM');
        await exited;
      }
      const last = await until("radvd's final RA", () => {
        const p = capture.packets();
        return p.length > 1 && isFinal(p.at(-1)!) && p;
      });
      return [last[0]!, last.at(-1)!];
    } finally {
      await capture.stop();
    }
  }

  /** vmplumb's first and final RA for `text`. */
  async function vmplumbSends(text: string): Promise<[CapturedPacket, CapturedPacket]> {
    const capture = new Capture(client, 'vmpraw-c0');
    try {
      await capture.ready;
      const ra = new RouterAdvertiser({ ...parseRadvdConf(text), netns: router.name, finalAdvertisements: 1 });
      try {
        await ra.start();
        await until('our first RA', () => capture.packets().length > 0);
      } finally {
        await ra.stop();
      }
      const last = await until('our final RA', () => {
        const p = capture.packets();
        return p.length > 1 && isFinal(p.at(-1)!) && p;
      });
      return [last[0]!, last.at(-1)!];
    } finally {
      await capture.stop();
    }
  }

  it.each(corpus)('%s', async (name, original) => {
    const text = original.replace(/^(\s*interface\s+)\S+/mu, `$1${BRIDGE}`);
    const [radvdFirst, radvdFinal] = await radvdSends(text, name.replace(/\W+/gu, '-'));
    const [ourFirst, ourFinal] = await vmplumbSends(text);
    for (const [theirs, ours] of [
      [radvdFirst, ourFirst],
      [radvdFinal, ourFinal],
    ] as const) {
      expect({ source: ours.source, destination: ours.destination, hopLimit: ours.hopLimit }).toEqual({
        source: theirs.source,
        destination: theirs.destination,
        hopLimit: 255,
      });
      expect(ours.payload.toString('hex')).toBe(documented(theirs).toString('hex'));
    }
    if (original === OWN_PREFIXES) {
      // Not two empty RAs: both carry the bridge's own prefix.
      expect(decodeAdvertisement(radvdFirst.payload).options).toContainEqual(
        expect.objectContaining({ type: 'prefix', prefix: '2001:db8:a1::', length: 64, validLifetime: 7200 }),
      );
    }
  });
});
