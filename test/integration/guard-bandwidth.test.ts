/**
 * The bandwidth limits of a guarded port, measured on the wire (issue 10). A tap in a bridge
 * is the guest; a peer namespace sits across the bridge on a veth.
 *
 * - Inbound (to the guest): the peer floods UDP to the guest's address; a reader process
 *   holding the tap's fd counts the bytes it reads over a window (after a warm-up that drains
 *   what queued before). With `bandwidth.inbound` the rate stays within 1.5x the limit;
 *   unlimited (positive control) it is several times the limit.
 * - Outbound (from the guest): the test writes frames into the tap as fast as it can over a
 *   window; the peer's kernel counts what arrives (rx_bytes). Same bounds.
 *
 * The bounds are generous on purpose: noise on a loaded machine can only lower a measured
 * rate, never raise it above what the kernel's token bucket lets through.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeSync } from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { securePort, type PortGuard } from '../../lib/guard/index.js';
import { eui64Address } from '../../lib/mac.js';
import { openTap, type Tap } from '../../lib/tap.js';
import { ether, ETH_P_IPV6, udp6, withVnetHeader } from '../helpers/frames.js';
import { joinWithVeth, TestNetns } from '../helpers/netns.js';
import { until } from '../helpers/poll.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

const PREFIX = '2001:db8:b0::/64';
const GUEST = '02:00:00:00:b0:01';
const PEER = '02:00:00:00:b0:02';
const guestAddress = eui64Address(PREFIX, GUEST);
const peerAddress = '2001:db8:b0::2';
/** The limit under test: 256 KiB/s (the default burst is 10 % of it, at least 16 KiB). */
const RATE = 256 * 1024;
const WARM_UP_MS = 500;
const WINDOW_MS = 2000;

/** Reads the tap fd (its fd 3) in a child: drains for the warm-up, then counts a window. */
const READER = `
const { readSync } = require('node:fs');
const buf = Buffer.alloc(65536);
const [warm, window] = process.argv.slice(1).map(Number);
const t0 = Date.now();
while (Date.now() - t0 < warm) readSync(3, buf);
let bytes = 0, frames = 0, now;
const start = process.hrtime.bigint();
do { bytes += readSync(3, buf) - 10; frames++; now = process.hrtime.bigint(); } while (now - start < BigInt(window) * 1000000n);
process.stdout.write(JSON.stringify({ bytes, frames, seconds: Number(now - start) / 1e9 }) + '\\n');
`;

/** Floods UDP (1200-byte payloads) to an address, 64 datagrams in flight at a time, until killed. */
const SENDER = `
const socket = require('node:dgram').createSocket('udp6');
const payload = Buffer.alloc(1200);
const [address] = process.argv.slice(1);
const burst = () => { let left = 64; for (let i = 0; i < 64; i++) socket.send(payload, 9, address, () => { if (--left === 0) setImmediate(burst); }); };
burst();
`;

describe.skipIf(skipUnlessRoot('bandwidth tests', ['/dev/net/tun']))('bandwidth limits of a guarded port, on the wire', () => {
  let host: TestNetns;
  let peer: TestNetns;
  let tap: Tap;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    host = new TestNetns('vmpgb');
    peer = new TestNetns('vmpgbp');
    host.ip('link', 'add', 'br0', 'type', 'bridge');
    host.ip('link', 'set', 'br0', 'up');
    joinWithVeth(host, 'pv0', peer, 'eth0');
    host.ip('link', 'set', 'pv0', 'master', 'br0');
    peer.ip('link', 'set', 'eth0', 'address', PEER);
    peer.ip('addr', 'add', `${peerAddress}/64`, 'dev', 'eth0', 'nodad');
    // The guest has no stack: the peer knows its MAC, and so does the bridge.
    peer.ip('-6', 'neigh', 'replace', guestAddress, 'lladdr', GUEST, 'dev', 'eth0', 'nud', 'permanent');
    tap = await openTap({ netns: host.name, name: 'bw0' });
    host.ip('link', 'set', 'bw0', 'master', 'br0', 'up');
    host.exec('bridge', ['fdb', 'add', GUEST, 'dev', 'bw0', 'master', 'static']);
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await tap?.close();
    host?.cleanup();
    peer?.cleanup();
  });

  /** Bytes per second the guest reads while the peer floods it. */
  async function inboundRate(): Promise<{ rate: number; frames: number }> {
    const reader = spawn(process.execPath, ['-e', READER, String(WARM_UP_MS), String(WINDOW_MS)], {
      stdio: ['ignore', 'pipe', 'inherit', tap.fds[0] as number],
    });
    children.push(reader);
    let out = '';
    reader.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c));
    const sender = spawn('ip', ['netns', 'exec', peer.name, process.execPath, '-e', SENDER, guestAddress], { stdio: 'ignore' });
    children.push(sender);
    try {
      await until('the reader to count its window', () => out.includes('\n'), 60_000);
    } finally {
      sender.kill('SIGKILL');
      reader.kill('SIGKILL');
    }
    const r = JSON.parse(out) as { bytes: number; frames: number; seconds: number };
    return { rate: r.bytes / r.seconds, frames: r.frames };
  }

  /** Bytes per second the peer receives while the guest writes as fast as it can. */
  async function outboundRate(): Promise<number> {
    const frame = withVnetHeader(ether(PEER, GUEST, ETH_P_IPV6, udp6(guestAddress, peerAddress, 40000, 9, Buffer.alloc(1200))));
    const fd = tap.fds[0] as number;
    const rxBytes = (): number => peer.ipJson<Array<{ stats64: { rx: { bytes: number } } }>>('-s', 'link', 'show', 'dev', 'eth0')[0]?.stats64.rx.bytes ?? 0;
    const writeFor = async (ms: number): Promise<void> => {
      const end = performance.now() + ms;
      while (performance.now() < end) {
        for (let i = 0; i < 32; i++) writeSync(fd, frame);
        await yieldToLoop();
      }
    };
    await writeFor(WARM_UP_MS);
    const before = rxBytes();
    const start = performance.now();
    await writeFor(WINDOW_MS);
    const after = rxBytes();
    return (after - before) / ((performance.now() - start) / 1000);
  }

  async function guarded<T>(bandwidth: object | undefined, fn: (guard: PortGuard) => Promise<T>): Promise<T> {
    const guard = await securePort({ netns: host.name, port: 'bw0', mac: GUEST, prefixes: [PREFIX], ...(bandwidth ? { bandwidth } : {}) });
    try {
      return await fn(guard);
    } finally {
      await guard.remove();
    }
  }

  it('limits traffic to the guest to the inbound rate (positive control: unlimited it is several times that)', async () => {
    const limited = await guarded({ inbound: { rate: RATE } }, async (guard) => {
      const r = await inboundRate();
      const dropped = (await guard.counters()).find((c) => c.name === 'bandwidth-in')?.packets ?? 0;
      return { ...r, dropped };
    });
    const free = await guarded(undefined, () => inboundRate());
    console.log(
      `inbound: limited ${Math.round(limited.rate)} B/s (${limited.frames} frames, ${limited.dropped} over the rate), unlimited ${Math.round(free.rate)} B/s; limit ${RATE}`,
    );
    expect(limited.rate).toBeLessThanOrEqual(RATE * 1.5);
    expect(limited.rate).toBeGreaterThanOrEqual(RATE * 0.3);
    expect(limited.dropped).toBeGreaterThan(0);
    expect(free.rate).toBeGreaterThan(RATE * 3);
  }, 120_000);

  it('limits traffic from the guest to the outbound rate (positive control: unlimited it is several times that)', async () => {
    const limited = await guarded({ outbound: { rate: RATE } }, async (guard) => {
      const rate = await outboundRate();
      const dropped = (await guard.counters()).find((c) => c.name === 'bandwidth-out')?.packets ?? 0;
      return { rate, dropped };
    });
    const free = await guarded(undefined, () => outboundRate());
    console.log(`outbound: limited ${Math.round(limited.rate)} B/s (${limited.dropped} over the rate), unlimited ${Math.round(free)} B/s; limit ${RATE}`);
    expect(limited.rate).toBeLessThanOrEqual(RATE * 1.5);
    expect(limited.rate).toBeGreaterThanOrEqual(RATE * 0.3);
    expect(limited.dropped).toBeGreaterThan(0);
    expect(free).toBeGreaterThan(RATE * 3);
  }, 120_000);
});
