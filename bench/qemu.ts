/**
 * `npm run bench:qemu`: what the library adds to starting a VM, and how fast a tap opens.
 *
 * - qemu start: `Qemu.spawn` (validation, socket pair, spawn with inherited fds, QMP greeting,
 *   qmp_capabilities) until it resolves, against a bare `qemu -S -qmp stdio` started with
 *   child_process.spawn until its greeting arrives (qemu's own start-up). Both under TCG with
 *   the same machine; runs alternate so machine noise hits both alike. Target: the median
 *   difference is under 150 ms.
 * - openTap: the synchronous TUNSETIFF path, timed per open (closing is not timed: a tap's
 *   unregistration is the kernel's RCU work, not ours). Target: median under 100 µs.
 *
 * Runs in its own network namespace (root needed); prints medians and quartiles.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync } from 'node:fs';

import { native } from '../lib/native.js';
import { benchFlag, benchInteger } from './options.js';
import { Qemu } from '../lib/qemu/index.js';
import { openTapSync } from '../lib/tap.js';

const RUNS = benchInteger('BENCH_QEMU_RUNS', 15);
const TAP_OPENS = benchInteger('BENCH_TAP_OPENS', 1000);
const MACHINE = ['-machine', 'pc,accel=tcg', '-m', '64', '-smp', '1'];

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

function summary(label: string, values: number[], unit: string, digits = 1): string {
  return `${label}: median ${quantile(values, 0.5).toFixed(digits)} ${unit} (p25 ${quantile(values, 0.25).toFixed(digits)}, p75 ${quantile(values, 0.75).toFixed(digits)}, n=${values.length})`;
}

/** Bare qemu: spawn → first line on stdout (the QMP greeting); then quit. */
async function bareStart(): Promise<number> {
  const started = performance.now();
  const child = spawn('qemu-system-x86_64', ['-nodefaults', '-no-user-config', '-display', 'none', '-S', ...MACHINE, '-qmp', 'stdio'], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const elapsed = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', () => resolve(performance.now() - started));
    child.once('exit', (code) => reject(new Error(`bare qemu exited with ${code}`)));
  });
  child.stdin.end('{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n');
  await new Promise((resolve) => child.once('exit', resolve));
  return elapsed;
}

/** The library: Qemu.spawn until it resolves (QMP negotiated); then kill. */
async function libraryStart(netns?: string): Promise<number> {
  const tap = netns ? openTapSync({ netns }) : undefined;
  const started = performance.now();
  const vm = await Qemu.spawn({ name: 'bench', accel: 'tcg', memoryMiB: 64, cpus: 1, nics: tap ? [{ tap }] : [], extraArgs: ['-S'] });
  const elapsed = performance.now() - started;
  vm.kill();
  await vm.exited;
  return elapsed;
}

/** Times openTapSync per open (close not timed). */
function timeOpens(options: { netns?: string }): number[] {
  const opens: number[] = [];
  for (let i = 0; i < TAP_OPENS; i++) {
    const started = process.hrtime.bigint();
    const tap = openTapSync(options);
    opens.push(Number(process.hrtime.bigint() - started) / 1000);
    tap.close();
  }
  return opens;
}

async function main(): Promise<void> {
  if (benchFlag('BENCH_TAP_ONLY')) {
    console.log(summary('openTap() inside the namespace       ', timeOpens({}), 'µs'));
    // The floor: the addon call alone (open + TUNSETIFF + SIOCGIFINDEX), no TypeScript layer.
    const c = native.tunConstants;
    const floor: number[] = [];
    for (let i = 0; i < TAP_OPENS; i++) {
      const started = process.hrtime.bigint();
      const made = native.tunOpen({
        name: '',
        flags: c.IFF_TAP | c.IFF_NO_PI | c.IFF_TUN_EXCL | c.IFF_VNET_HDR,
        queues: 1,
        persist: false,
        owner: -1,
        group: -1,
        netns: undefined,
      });
      floor.push(Number(process.hrtime.bigint() - started) / 1000);
      for (const fd of made.fds) closeSync(fd);
    }
    console.log(summary('  of which the kernel (addon call)   ', floor, 'µs'));
    return;
  }
  const ns = `vmptap-bench-${process.pid}-${randomBytes(2).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    // Warm up page cache and the JIT.
    await bareStart();
    await libraryStart(ns);

    const bare: number[] = [];
    const lib: number[] = [];
    const libTap: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      bare.push(await bareStart());
      lib.push(await libraryStart());
      libTap.push(await libraryStart(ns));
    }
    const overhead = lib.map((v, i) => v - (bare[i] as number));
    const overheadTap = libTap.map((v, i) => v - (bare[i] as number));
    console.log(summary('bare qemu -S to QMP greeting        ', bare, 'ms'));
    console.log(summary('Qemu.spawn to QMP ready              ', lib, 'ms'));
    console.log(summary('Qemu.spawn with a tap to QMP ready   ', libTap, 'ms'));
    console.log(summary('library time beyond qemu (no NIC)    ', overhead, 'ms'));
    console.log(summary('library time beyond qemu (with tap)  ', overheadTap, 'ms'));
    const medianOverhead = quantile(overheadTap, 0.5);
    console.log(`  target < 150 ms: ${medianOverhead < 150 ? 'met' : 'NOT met'}`);

    const opens = timeOpens({ netns: `/run/netns/${ns}` });
    console.log(summary('openTap({ netns }) (setns per open)  ', opens, 'µs'));
    // The same from a process already inside the namespace: the kernel's TUNSETIFF
    // (register_netdevice under RTNL) without our setns round trip.
    const inside = execFileSync('ip', ['netns', 'exec', ns, process.execPath, ...process.execArgv, process.argv[1] as string], {
      env: { ...process.env, BENCH_TAP_ONLY: '1' },
      encoding: 'utf8',
    });
    process.stdout.write(inside);
    console.log(`  target < 100 µs: ${quantile(opens, 0.5) < 100 ? 'met' : 'NOT met'}`);
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
}

await main();
