/**
 * `npm run bench:guard`: what port security costs (issue 10).
 *
 * - Set-up and removal of a guard, per port: one `securePort` / `remove()` at a time for
 *   N ports (each one atomic nf_tables batch: NEWTABLE + 8 DESTROYCHAIN + 5 chains + ~30
 *   rules), and the same N ports in one `securePorts` / `removeGuards` batch. Target: under
 *   1 ms per port, N = 500.
 * - Per-packet cost: a writer (this process) writes IPv6 UDP frames into a tap in a bridge;
 *   a receiver namespace on the same bridge counts what arrives (rx_packets). Packets per
 *   second through the guarded tap against the same tap unguarded, runs alternated so that
 *   machine noise hits both alike; the guarded frames take the longest legitimate path of the
 *   policy (every IPv6 check, then accept).
 *
 * Runs in its own network namespaces (root needed), removed at the end.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { removeGuards, securePort, securePorts } from '../lib/guard/index.js';
import { eui64Address } from '../lib/mac.js';
import { ipv6ToBytes } from '../lib/validate.js';
import { openTap } from '../lib/tap.js';

const N = Number(process.env.BENCH_GUARD_PORTS ?? 500);
const FRAMES = Number(process.env.BENCH_GUARD_FRAMES ?? 100_000);
const ROUNDS = Number(process.env.BENCH_GUARD_ROUNDS ?? 3);
const PREFIX = '2001:db8:be::/64';
const tag = `${process.pid}-${randomBytes(2).toString('hex')}`;
const nsPorts = `vmpbg-p-${tag}`;
const nsHost = `vmpbg-h-${tag}`;
const nsRecv = `vmpbg-r-${tag}`;

const sh = (args: string[]): string => execFileSync(args[0] as string, args.slice(1), { encoding: 'utf8' });
const ip = (ns: string, ...args: string[]): string => sh(['ip', '-n', ns, ...args]);
const mac = (i: number): string => `02:00:00:be:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;

/** CPU time (user + system, ms) this process spent since `start`: the shared machine's load does not count. */
function cpuMs(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function setupRemove(): Promise<void> {
  console.log(
    `load average ${(await import('node:os'))
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${(await import('node:os')).cpus().length} CPUs`,
  );
  sh(['ip', 'netns', 'add', nsPorts]);
  const batch = join(tmpdir(), `${nsPorts}.batch`);
  writeFileSync(batch, Array.from({ length: N }, (_, i) => `tuntap add dev p${i} mode tap\n`).join(''));
  sh(['ip', '-n', nsPorts, '-batch', batch]);
  rmSync(batch);
  const options = (i: number) => ({ netns: nsPorts, port: `p${i}`, mac: mac(i), prefixes: [PREFIX], routers: ['2001:db8:be::1'] });

  const setup: number[] = [];
  const remove: number[] = [];
  const guards = [];
  let cpu = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    guards.push(await securePort(options(i)));
    setup.push(performance.now() - t);
  }
  const setupCpu = cpuMs(cpu);
  cpu = process.cpuUsage();
  for (const g of guards) {
    const t = performance.now();
    await g.remove();
    remove.push(performance.now() - t);
  }
  const removeCpu = cpuMs(cpu);
  console.log(
    `one at a time, ${N} ports: setup median ${median(setup).toFixed(3)} ms wall, ${(setupCpu / N).toFixed(3)} ms CPU per port; ` +
      `remove median ${median(remove).toFixed(3)} ms wall, ${(removeCpu / N).toFixed(3)} ms CPU per port`,
  );

  for (let round = 0; round < 2; round++) {
    cpu = process.cpuUsage();
    let t = performance.now();
    const all = await securePorts(Array.from({ length: N }, (_, i) => options(i)));
    const batchSetup = performance.now() - t;
    const batchSetupCpu = cpuMs(cpu);
    cpu = process.cpuUsage();
    t = performance.now();
    await removeGuards(all);
    const batchRemove = performance.now() - t;
    const batchRemoveCpu = cpuMs(cpu);
    console.log(
      `one batch of ${N} ports (round ${round + 1}): setup ${batchSetup.toFixed(1)} ms wall / ${batchSetupCpu.toFixed(1)} ms CPU ` +
        `(${(batchSetup / N).toFixed(3)} / ${(batchSetupCpu / N).toFixed(3)} ms per port), remove ${batchRemove.toFixed(1)} ms wall / ${batchRemoveCpu.toFixed(1)} ms CPU ` +
        `(${(batchRemove / N).toFixed(3)} / ${(batchRemoveCpu / N).toFixed(3)} ms per port)`,
    );
  }
}

function udpFrame(srcMac: string, dstMac: string, src: string, dst: string): Buffer {
  const payload = Buffer.alloc(64);
  const udp = Buffer.alloc(8 + payload.length);
  udp.writeUInt16BE(40000, 0);
  udp.writeUInt16BE(9, 2);
  udp.writeUInt16BE(udp.length, 4);
  const ip6 = Buffer.alloc(40);
  ip6[0] = 0x60;
  ip6.writeUInt16BE(udp.length, 4);
  ip6[6] = 17;
  ip6[7] = 64;
  ipv6ToBytes(src).copy(ip6, 8);
  ipv6ToBytes(dst).copy(ip6, 24);
  const m = (t: string) => Buffer.from(t.split(':').map((h) => parseInt(h, 16)));
  // virtio-net header (10 bytes, no offloads), Ethernet, IPv6, UDP (checksum left 0: the
  // receiver drops it after counting it, which is all we need).
  return Buffer.concat([Buffer.alloc(10), m(dstMac), m(srcMac), Buffer.from([0x86, 0xdd]), ip6, udp, payload]);
}

function rxPackets(): number {
  const [link] = JSON.parse(ip(nsRecv, '-s', '-j', 'link', 'show', 'dev', 'eth0')) as Array<{ stats64: { rx: { packets: number } } }>;
  return link?.stats64.rx.packets ?? 0;
}

async function packetRate(): Promise<void> {
  sh(['ip', 'netns', 'add', nsHost]);
  sh(['ip', 'netns', 'add', nsRecv]);
  ip(nsHost, 'link', 'add', 'br0', 'type', 'bridge');
  ip(nsHost, 'link', 'set', 'br0', 'up');
  ip(nsHost, 'link', 'add', 'rx0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', nsRecv);
  ip(nsHost, 'link', 'set', 'rx0', 'master', 'br0', 'up');
  const recvMac = '02:00:00:be:ff:fe';
  ip(nsRecv, 'link', 'set', 'eth0', 'address', recvMac, 'up');
  const guest = '02:00:00:be:ff:01';
  await using tap = await openTap({ netns: nsHost, name: 'guest0' });
  ip(nsHost, 'link', 'set', 'guest0', 'master', 'br0', 'up');
  const frame = udpFrame(guest, recvMac, eui64Address(PREFIX, guest), eui64Address(PREFIX, recvMac));
  const fd = tap.fds[0] as number;

  const run = (): { pps: number; delivered: number } => {
    const before = rxPackets();
    const t = performance.now();
    for (let i = 0; i < FRAMES; i++) writeSync(fd, frame);
    const seconds = (performance.now() - t) / 1000;
    const delivered = rxPackets() - before;
    return { pps: FRAMES / seconds, delivered };
  };
  run(); // warm-up: FDB, caches
  const guarded: number[] = [];
  const plain: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    plain.push(run().pps);
    const guard = await securePort({ netns: nsHost, port: 'guest0', mac: guest, prefixes: [PREFIX] });
    const g = run();
    guarded.push(g.pps);
    const pass = (await guard.counters()).find((c) => c.name === 'ip6-pass')?.packets ?? 0;
    if (pass < FRAMES || g.delivered < FRAMES * 0.99) console.log(`  note: guarded run passed ${pass}, delivered ${g.delivered} of ${FRAMES}`);
    await guard.remove();
  }
  const ratio = median(guarded) / median(plain);
  console.log(
    `packets per second through the tap (${FRAMES} frames x ${ROUNDS} runs each): unguarded median ${Math.round(median(plain))}, guarded median ${Math.round(median(guarded))}, guarded/unguarded ${ratio.toFixed(3)}`,
  );
}

try {
  await setupRemove();
  await packetRate();
} finally {
  for (const ns of [nsPorts, nsHost, nsRecv]) {
    try {
      sh(['ip', 'netns', 'del', ns]);
    } catch {
      /* not made */
    }
  }
}
