/**
 * `npm run bench:scale [-- --networks N] [--settle S] [--serve S] [--sample B] [--json]` (as root): N VxlanNetworks in
 * one namespace, as an orchestrator makes them (Promise.all over create, then over destroy),
 * against the kernel floor for the same links measured in the same run (bench/floor.c with
 * --address: bridge + vxlan + router address per network, group deletion).
 *
 * Phases: create (time, event-loop max delay, fds), settle S seconds (the kernel's first bursts
 * of the new bridges; its CPU is printed apart), serve S seconds in the steady state (CPU % of
 * one core, also per 10 s of it, RSS, RAs sent, loop delay; B bridges sampled by clients whose captures check the
 * RFC 4861 timing: testing/bench/ra-sample.ts), destroy (time against the floor's deletion + 1 s, loop delay, fds and
 * timers back). The measurement runs in a child under plain node (this file bundled with
 * esbuild), as bench/ra.ts does: tsx's loader alone adds ~35 MB RSS to a process.
 *
 * The namespace's own net.core.optmem_max is raised when N needs it: each vxlan's multicast
 * group is a membership of the namespace's one VXLAN socket, 56 bytes of option memory each,
 * so the default 131072 bytes caps a namespace at 2,340 groups (see README "Scale").
 *
 * --multicast-route adds `ip -6 route add multicast ff05::/16 dev eth0 table local` in the
 * bench's namespace before create (see bench/FINDINGS.md: what an operator can do for serving CPU).
 *
 * --memory prints, phase by phase, where the child's memory is (V8 heap by space, resident
 * anonymous memory that is not heap: malloc arenas, buffers) and its GC pauses (perf_hooks
 * 'gc' entries); --heap-snapshot DIR writes a heap snapshot there once serving starts;
 * --alloc-profile DIR samples where the create allocates (freed objects included; the
 * sites are printed with --memory, the .heapprofile goes to DIR);
 * --node-flags '…' passes flags to the child's node (e.g. --trace-gc, or a V8 flag to see what
 * it would do: the figures that count are plain node's); --no-floor skips the floor (memory
 * runs: the ratios are then not computed).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleBench } from './bundle.js';

import { buildFloor, floorPrefix, runFloor } from '../testing/bench/floor.js';
import { BenchNamespace, UNDERLAY } from '../testing/bench/namespace.js';
import { startSentinel, watchEventLoop, type EventLoopDelay, type SentinelReport } from '../testing/bench/event-loop.js';
import {
  formatGc,
  formatSnapshot,
  memorySnapshot,
  startAllocationProfile,
  watchGc,
  type AllocationProfile,
  type GcPauses,
  type MemorySnapshot,
} from '../testing/bench/memory.js';
import { sharedAdvertisers } from '../lib/network/advertisers.js';
import { netnsIdentity } from '../lib/netns.js';
import { RaSample, type RaSampleReport } from '../testing/bench/ra-sample.js';
import { VxlanNetwork } from '../lib/network.js';

const USAGE =
  'usage: npm run bench:scale -- [--networks N (200)] [--settle SECONDS (20)] [--serve SECONDS (30)] [--sample BRIDGES (8)] [--multicast-route] ' +
  "[--memory] [--heap-snapshot DIR] [--alloc-profile DIR] [--node-flags '...'] [--no-floor] [--json]\n";
const FIRST_ID = 1000;
/** Serving's CPU is also reported per this many seconds of the window. */
const SERVE_WINDOW_S = 10;
/** rdisc6 solicitations per sampled bridge after the serving window. */
const SOLICIT_ROUNDS = 3;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const fds = (): number => readdirSync('/proc/self/fd').length;
const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
const mb = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

async function makeNamespace(prefix: string, networks: number): Promise<{ ns: BenchNamespace; optmem: number }> {
  const ns = await BenchNamespace.create(prefix);
  // One membership of the namespace's VXLAN socket per network's group (131072 / 56: 2,340).
  const optmem = await ns.makeRoomForMemberships(networks);
  // eth0p, the underlay's peer, stands for the wire: on a real host nothing of ours processes
  // what the vxlans send. Here it would receive every RA's VXLAN packet and route it
  // (ip6_route_input for ff05::N walks every interface's ff00::/8 multicast route,
  // __find_rr_leaf: 69 % of the serving CPU at 1,024 networks, perf), a cost of the receiving
  // host that the sender was charged for. Without IPv6 on it the packet is dropped on arrival.
  execFileSync('ip', ['netns', 'exec', ns.name, 'sysctl', '-qw', `net.ipv6.conf.${UNDERLAY}p.disable_ipv6=1`]);
  // --multicast-route: one route for the VXLAN groups (ff05::/16 via the underlay, table local)
  // that the vxlans' output lookups match before the ff00::/8 node, where the kernel walks one
  // multicast route per IPv6 interface (__find_rr_leaf): O(networks) per RA sent.
  if (process.env.BENCH_SCALE_MULTICAST_ROUTE) {
    execFileSync('ip', ['-n', ns.name, '-6', 'route', 'add', 'multicast', 'ff05::/16', 'dev', UNDERLAY, 'table', 'local']);
  }
  return { ns, optmem };
}

interface Report {
  networks: number;
  optmemMax: number;
  floor: { createMs: number; deleteMs: number };
  floorDelete: string;
  /** `idle`: what an idle node process (the sentinel) saw of its own loop meanwhile: the machine's noise. */
  create: { ms: number; ratio: number; loopMaxMs: number; loopP99Ms: number; idle: EventLoopDelay; fdsBefore: number; fdsAfter: number };
  serve: {
    /** The window right after create, before the steady state (not in the figures below). */
    settleSeconds: number;
    /** Link, address and route events of the namespace while settling. */
    settleEvents: number;
    settleCpuPercent: number;
    seconds: number;
    cpuPercent: number;
    /** The CPU % of each whole SERVE_WINDOW_S of the window, in order. */
    windowCpuPercents: number[];
    userPercent: number;
    systemPercent: number;
    rssMaxMb: number;
    ras: number;
    rasPerSecond: number;
    sendErrors: number;
    loopMaxMs: number;
    /** The idle sentinel, with the same 20 ms histogram: its CPU is the measurement's own floor. */
    idle: SentinelReport;
    cpuUsPerRa: number;
    /** The RFC timing of a sample of the bridges, as their clients saw it. */
    rfc?: RaSampleReport;
  };
  destroy: {
    ms: number;
    target: number;
    loopMaxMs: number;
    loopP99Ms: number;
    idle: EventLoopDelay;
    fdsAfter: number;
    timersBefore: number;
    timersAfter: number;
    linksLeft: number;
  };
  /** --memory: snapshots by phase and GC pauses by phase. */
  memory?: { snapshots: MemorySnapshot[]; gc: Record<string, GcPauses>; createRssMaxMb: number; createAllocations?: Omit<AllocationProfile, 'raw'> };
}

/** What one run measures besides the networks' count. */
interface MeasureOptions {
  settleSeconds: number;
  serveSeconds: number;
  /** Bridges whose RFC timing a client checks (0: none). */
  sample: number;
}

/** How long the namespace must have been without link, address or route events to be settled. */
const QUIET_MS = 10_000;
/** Settling gives up waiting for quiet after this long (and says so). */
const SETTLE_MAX_MS = 600_000;

/**
 * Waits at least `minMs`, and until `ip monitor` has seen no link, address or route event in
 * `netns` for QUIET_MS (at most SETTLE_MAX_MS). Resolves with the number of events seen.
 */
async function settle(netns: string, minMs: number): Promise<{ events: number }> {
  const monitor = spawn('ip', ['-n', netns, 'monitor', 'link', 'address', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let events = 0;
  let last = performance.now();
  monitor.stdout.on('data', (chunk: Buffer) => {
    // Each event starts a line that is not indented (continuations are).
    for (const line of chunk.toString().split('\n')) if (line !== '' && !/^\s/.test(line)) events += 1;
    last = performance.now();
  });
  const start = performance.now();
  try {
    for (;;) {
      const now = performance.now();
      if (now - start >= minMs && now - last >= QUIET_MS) return { events };
      if (now - start >= SETTLE_MAX_MS) {
        process.stderr.write(`settling: still events after ${SETTLE_MAX_MS / 1000} s, measuring anyway\n`);
        return { events };
      }
      await sleep(500);
    }
  } finally {
    monitor.kill();
  }
}

/** `count` ids spread evenly over `ids` (the first and the last among them). */
function sampleIds(ids: readonly number[], count: number): number[] {
  if (count <= 0) return [];
  if (count >= ids.length) return [...ids];
  return Array.from({ length: count }, (_, i) => ids[Math.round((i * (ids.length - 1)) / (count - 1 || 1))]!);
}

async function runTheFloor(networks: number): Promise<{ createUs: number; deleteUs: number; delete: string }> {
  if (process.env.BENCH_SCALE_NO_FLOOR) return { createUs: NaN, deleteUs: NaN, delete: 'not run' };
  const floorBinary = await buildFloor(join(dirname(fileURLToPath(import.meta.url)), 'floor.c'));
  const floorNs = await makeNamespace('vmpscale-floor', networks);
  try {
    // One group deletion of thousands of bridges would hold RTNL for a minute, stalling every
    // rtnetlink user of the host; the library deletes in batches of 128 pairs, and so does the
    // floor then (one group per 128 pairs, in parallel threads).
    const groups = Math.min(64, Math.ceil(networks / 128));
    return await runFloor({
      binary: floorBinary,
      netns: floorNs.ns.name,
      pairs: networks,
      address: true,
      ...(groups > 1 ? { delete: 'group-threads' as const, threads: groups } : { delete: 'group' as const }),
    });
  } finally {
    await floorNs.ns.destroy();
  }
}

async function measure(networks: number, options: MeasureOptions): Promise<Report> {
  const floor = await runTheFloor(networks);
  const memory = process.env.BENCH_SCALE_MEMORY ? { snapshots: [] as MemorySnapshot[], gc: {} as Record<string, GcPauses>, createRssMaxMb: 0 } : undefined;
  const snap = (phase: string): void => {
    memory?.snapshots.push(memorySnapshot(phase));
  };
  const { ns, optmem } = await makeNamespace('vmpscale', networks);
  try {
    const timersBefore = timers();
    const fdsBefore = fds();
    const ids = Array.from({ length: networks }, (_, i) => FIRST_ID + i);
    snap('before create');
    const profiling = process.env.BENCH_SCALE_ALLOC_PROFILE ? await startAllocationProfile() : undefined;
    let sentinel = await startSentinel();
    let watch = watchEventLoop();
    let gcWatch = memory ? watchGc() : undefined;
    let t = performance.now();
    let made = 0;
    let createRssMax = 0;
    const sampler = memory ? setInterval(() => (createRssMax = Math.max(createRssMax, process.memoryUsage().rss)), 250) : undefined;
    const progress = setInterval(() => process.stderr.write(`  ${made} of ${networks} networks made\n`), 10_000);
    const nets = await Promise.all(
      ids.map((id) =>
        VxlanNetwork.create({ id, underlay: UNDERLAY, prefix: floorPrefix(id), netns: ns.name }).then((n) => {
          made += 1;
          return n;
        }),
      ),
    ).finally(() => {
      clearInterval(progress);
      clearInterval(sampler);
    });
    const createMs = performance.now() - t;
    const createLoop = watch.stop();
    if (memory && gcWatch) {
      memory.gc.create = gcWatch.stop();
      memory.createRssMaxMb = mb(createRssMax);
    }
    snap('created');
    const allocations = await profiling?.stop();
    if (allocations && process.env.BENCH_SCALE_ALLOC_PROFILE) {
      const file = join(process.env.BENCH_SCALE_ALLOC_PROFILE, `scale-create-${networks}-${process.pid}.heapprofile`);
      writeFileSync(file, JSON.stringify(allocations.raw));
      process.stderr.write(`allocation profile of the create ${file}\n`);
    }
    const createIdle = await sentinel.stop();
    const fdsAfterCreate = fds();
    process.stderr.write(`created ${networks} networks in ${createMs.toFixed(0)} ms\n`);
    let serve: Report['serve'];

    // A sample of the bridges gets clients whose captures check the RFC timing (below).
    const sample = new RaSample(
      ns.name,
      sampleIds(ids, options.sample).map((id) => `br${id}`),
      { min: 3, max: 5 },
    );
    try {
      if (options.sample > 0) await sample.start();

      // Settling: the kernel's own first bursts of thousands of new bridges (DAD, MLD
      // reports, the bridges' router solicitations, each a VXLAN packet, and the vxlans' first
      // route lookups until their dst caches fill) and the first RAs. Measured apart: the
      // issue's serving figure is the steady state after the initial bursts. The kernel's
      // linkwatch reports carrier changes of thousands of new links for a while after the
      // last create returned, and each NETDEV_CHANGE renews the sernum of the ff00::/8 node
      // (fib6_ifup), which empties every vxlan's route cache: settling lasts at least
      // --settle seconds and until the namespace has had no link, address or route event
      // for QUIET_MS.
      let cpu = process.cpuUsage();
      t = performance.now();
      const settled = await settle(ns.name, options.settleSeconds * 1000);
      snap('settled');
      const settleUsed = process.cpuUsage(cpu);
      const settleWall = performance.now() - t;
      globalThis.gc?.();
      snap('after gc()');
      if (process.env.BENCH_SCALE_HEAP_SNAPSHOT) {
        const { writeHeapSnapshot } = await import('node:v8');
        const file = join(process.env.BENCH_SCALE_HEAP_SNAPSHOT, `scale-${networks}-${process.pid}.heapsnapshot`);
        process.stderr.write(`heap snapshot ${writeHeapSnapshot(file)}\n`);
      }
      const key = netnsIdentity(ns.name);
      const before = sharedAdvertisers.counters(key);
      // A 20 ms histogram: at 1 ms its own wakeups would be most of the CPU measured here.
      watch = watchEventLoop(20);
      sentinel = await startSentinel(20);
      gcWatch = memory ? watchGc() : undefined;
      cpu = process.cpuUsage();
      t = performance.now();
      let rssMax = 0;
      // The CPU of each SERVE_WINDOW_S of the window too: how much serving varies within a run,
      // to set against how much it varies between runs (bench/FINDINGS.md).
      const windows: number[] = [];
      let windowCpu = process.cpuUsage();
      let windowStart = t;
      for (let s = 0; s < options.serveSeconds; s++) {
        await sleep(1000);
        rssMax = Math.max(rssMax, process.memoryUsage().rss);
        if ((s + 1) % 15 === 0 && s + 1 < options.serveSeconds) snap(`serving ${s + 1} s`);
        if ((s + 1) % SERVE_WINDOW_S === 0) {
          const windowUsed = process.cpuUsage(windowCpu);
          const now = performance.now();
          windows.push(((windowUsed.user + windowUsed.system) / 1000 / (now - windowStart)) * 100);
          windowCpu = process.cpuUsage();
          windowStart = now;
        }
      }
      const used = process.cpuUsage(cpu);
      const wall = performance.now() - t;
      const serveLoop = watch.stop();
      if (memory && gcWatch) memory.gc.serve = gcWatch.stop();
      snap('served');
      const serveIdle = await sentinel.stop();
      const after = sharedAdvertisers.counters(key);
      const ras = after.advertisementsSent - before.advertisementsSent;
      process.stderr.write(`served ${(wall / 1000).toFixed(0)} s: ${ras} RAs\n`);
      const rfc = options.sample > 0 ? await sample.finish(SOLICIT_ROUNDS) : undefined;
      await sample.close();
      serve = {
        settleSeconds: settleWall / 1000,
        settleEvents: settled.events,
        settleCpuPercent: ((settleUsed.user + settleUsed.system) / 1000 / settleWall) * 100,
        seconds: wall / 1000,
        cpuPercent: ((used.user + used.system) / 1000 / wall) * 100,
        windowCpuPercents: windows,
        userPercent: (used.user / 1000 / wall) * 100,
        systemPercent: (used.system / 1000 / wall) * 100,
        rssMaxMb: mb(rssMax),
        ras,
        rasPerSecond: ras / (wall / 1000),
        sendErrors: after.sendErrors - before.sendErrors,
        loopMaxMs: serveLoop.maxMs,
        idle: serveIdle,
        cpuUsPerRa: ras === 0 ? 0 : (used.user + used.system) / ras,
        ...(rfc === undefined ? {} : { rfc }),
      };
    } finally {
      await sample.close();
    }

    sentinel = await startSentinel();
    watch = watchEventLoop();
    gcWatch = memory ? watchGc() : undefined;
    t = performance.now();
    await Promise.all(nets.map((n) => n.destroy()));
    const destroyMs = performance.now() - t;
    const destroyLoop = watch.stop();
    if (memory && gcWatch) memory.gc.destroy = gcWatch.stop();
    snap('destroyed');
    const destroyIdle = await sentinel.stop();
    const linksLeft = (await ns.extraLinks()).length;
    await sleep(100); // let closed handles leave the active list
    const floorDeleteMs = floor.deleteUs / 1000;
    return {
      networks,
      optmemMax: optmem,
      floor: { createMs: floor.createUs / 1000, deleteMs: floorDeleteMs },
      floorDelete: floor.delete,
      create: {
        ms: createMs,
        ratio: createMs / (floor.createUs / 1000),
        loopMaxMs: createLoop.maxMs,
        loopP99Ms: createLoop.p99Ms,
        idle: createIdle,
        fdsBefore,
        fdsAfter: fdsAfterCreate,
      },
      serve,
      destroy: {
        ms: destroyMs,
        target: 1.1 * floorDeleteMs + 1000,
        loopMaxMs: destroyLoop.maxMs,
        loopP99Ms: destroyLoop.p99Ms,
        idle: destroyIdle,
        fdsAfter: fds(),
        timersBefore,
        timersAfter: timers(),
        linksLeft,
      },
      ...(memory ? { memory: allocations ? { ...memory, createAllocations: { totalMb: allocations.totalMb, top: allocations.top } } : memory } : {}),
    };
  } finally {
    await ns.destroy();
  }
}

function format(r: Report): string {
  const f = (x: number, d = 0): string => x.toFixed(d);
  return [
    `${r.networks} networks in one namespace (net.core.optmem_max ${r.optmemMax} in it), node ${process.version}`,
    `create:  ${f(r.create.ms)} ms, floor ${f(r.floor.createMs)} ms (bridge+vxlan+address), ${f(r.create.ratio, 2)}x (target <= 1.3x); ` +
      `loop max/p99 delay ${f(r.create.loopMaxMs, 1)}/${f(r.create.loopP99Ms, 1)} ms (target <= 20; idle sentinel ${f(r.create.idle.maxMs, 1)}/${f(r.create.idle.p99Ms, 1)}); fds ${r.create.fdsBefore} -> ${r.create.fdsAfter}`,
    `settle:  ${f(r.serve.settleSeconds)} s after create (the kernel's first bursts: ${r.serve.settleEvents} link/address/route events), ` +
      `CPU ${f(r.serve.settleCpuPercent, 2)} % of a core`,
    `serve:   ${f(r.serve.seconds)} s, CPU ${f(r.serve.cpuPercent, 2)} % of a core (user ${f(r.serve.userPercent, 2)}, system ${f(r.serve.systemPercent, 2)}; ` +
      `target < 2 %; by ${SERVE_WINDOW_S} s: ${r.serve.windowCpuPercents.map((p) => f(p, 2)).join(', ')}), ${r.serve.ras} RAs (${f(r.serve.rasPerSecond)}/s, ${f(r.serve.cpuUsPerRa, 1)} us CPU each), ${r.serve.sendErrors} send errors, ` +
      `RSS max ${r.serve.rssMaxMb} MB (target < 100), loop max delay ${f(r.serve.loopMaxMs, 1)} ms (idle sentinel ${f(r.serve.idle.maxMs, 1)}; ` +
      `an idle node with the same 20 ms histogram: ${f(r.serve.idle.cpuPercent, 2)} % of a core, so serving itself ~${f(r.serve.cpuPercent - r.serve.idle.cpuPercent, 2)} %)`,
    ...(r.serve.rfc === undefined ? [] : [formatRfc(r.serve.rfc)]),
    `destroy: ${f(r.destroy.ms)} ms, floor ${f(r.floor.deleteMs)} ms (${r.floorDelete}), target <= 1.1x floor + 1 s = ${f(r.destroy.target)} ms; ` +
      `loop max/p99 delay ${f(r.destroy.loopMaxMs, 1)}/${f(r.destroy.loopP99Ms, 1)} ms (idle sentinel ${f(r.destroy.idle.maxMs, 1)}/${f(r.destroy.idle.p99Ms, 1)}); fds ${r.destroy.fdsAfter} (before create ${r.create.fdsBefore}); ` +
      `timers ${r.destroy.timersAfter} (before ${r.destroy.timersBefore}); links left ${r.destroy.linksLeft}`,
    ...(r.memory
      ? [
          `memory (MB; heap spaces used/committed); RSS max while creating ${r.memory.createRssMaxMb}:`,
          ...r.memory.snapshots.map((s) => `  ${formatSnapshot(s)}`),
          ...livePerNetwork(r.memory.snapshots, r.networks),
          ...Object.entries(r.memory.gc).map(([phase, g]) => `  ${formatGc(phase, g)}`),
          ...(r.memory.createAllocations
            ? [
                `  allocated while creating (sampled, freed objects included): ${r.memory.createAllocations.totalMb} MB; largest sites:`,
                ...r.memory.createAllocations.top.map((t) => `    ${String(t.mb).padStart(6)} MB  ${t.site}`),
              ]
            : []),
        ]
      : []),
    '',
  ].join('\n');
}

/**
 * The heap the networks keep: used after the bench's gc() less used before the create, per
 * network (an upper bound: it includes the code compiled meanwhile, ~0.8 KB a network at 1,024).
 */
function livePerNetwork(snapshots: MemorySnapshot[], networks: number): string[] {
  const before = snapshots.find((s) => s.phase === 'before create');
  const after = snapshots.find((s) => s.phase === 'after gc()');
  if (!before || !after) return [];
  return [`  live heap after gc(): ${(((after.heapUsed - before.heapUsed) * 1024) / networks).toFixed(2)} KB a network`];
}

function formatRfc(r: RaSampleReport): string {
  const i = r.intervals;
  const s = r.solicited;
  return (
    `rfc:     ${r.bridges.length} bridges sampled by clients (${r.bridges[0]}…${r.bridges.at(-1)}): unsolicited intervals ` +
    `min/median/max ${(i.minMs / 1000).toFixed(2)}/${(i.medianMs / 1000).toFixed(2)}/${(i.maxMs / 1000).toFixed(2)} s over ${i.count} ` +
    `(outside 3-5 s: ${i.outside}); hop limit or source wrong: ${r.malformed}; solicited replies median/max ` +
    `${s.medianMs.toFixed(0)}/${s.maxMs.toFixed(0)} ms over ${s.count} (over 500 ms: ${s.over500}, unanswered: ${s.unanswered})`
  );
}

async function child(): Promise<void> {
  const networks = Number(process.env.BENCH_SCALE_NETWORKS);
  const report = await measure(networks, {
    serveSeconds: Number(process.env.BENCH_SCALE_SERVE),
    settleSeconds: Number(process.env.BENCH_SCALE_SETTLE),
    sample: Number(process.env.BENCH_SCALE_SAMPLE),
  });
  process.stdout.write(process.env.BENCH_SCALE_JSON ? `${JSON.stringify(report, null, 2)}\n` : format(report));
}

const TMPFS_MAGIC = 0x01021994;

/**
 * Where the benchmark's run directory goes: on tmpfs, as the default /run/vmplumb is on a
 * systemd host (there an fsync costs nothing), unless BENCH_SCALE_RUN_PARENT says otherwise.
 * On a busy ext4 the records' fsyncs, 2 per network, bound creation instead of the kernel:
 * 4,096 networks waited minutes for their 'ready' records (lib/state/record-journal.ts).
 */
function runDirParent(): string {
  const chosen = process.env.BENCH_SCALE_RUN_PARENT;
  if (chosen) return chosen;
  try {
    if (statfsSync('/dev/shm').type === TMPFS_MAGIC) return '/dev/shm';
  } catch {
    // no /dev/shm
  }
  return tmpdir();
}

/** Bundles this file and runs it under plain node (see the file header). */
async function parent(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        networks: { type: 'string', default: '200' },
        serve: { type: 'string', default: '30' },
        settle: { type: 'string', default: '20' },
        sample: { type: 'string', default: '8' },
        json: { type: 'boolean', default: false },
        'multicast-route': { type: 'boolean', default: false },
        memory: { type: 'boolean', default: false },
        'heap-snapshot': { type: 'string' },
        'alloc-profile': { type: 'string' },
        'node-flags': { type: 'string', default: '' },
        'no-floor': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const networks = Number(values.networks);
  const serve = Number(values.serve);
  if (!Number.isInteger(networks) || networks < 1 || networks > 16_000) {
    process.stderr.write(`--networks must be an integer from 1 to 16000, got ${values.networks}\n${USAGE}`);
    return 2;
  }
  if (!Number.isInteger(serve) || serve < 1) {
    process.stderr.write(`--serve must be a positive integer (seconds), got ${values.serve}\n${USAGE}`);
    return 2;
  }
  const settle = Number(values.settle);
  const sample = Number(values.sample);
  if (!Number.isInteger(settle) || settle < 0) {
    process.stderr.write(`--settle must be an integer >= 0 (seconds), got ${values.settle}\n${USAGE}`);
    return 2;
  }
  if (!Number.isInteger(sample) || sample < 0 || sample > 64) {
    process.stderr.write(`--sample must be an integer from 0 to 64 (bridges), got ${values.sample}\n${USAGE}`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench:scale makes network namespaces: run it as root\n');
    return 1;
  }
  // The networks are recorded in a run directory of the benchmark's own, never the host's /run/vmplumb.
  const runDir = mkdtempSync(join(runDirParent(), 'vmplumb-bench-scale-'));
  process.stderr.write(`run directory ${runDir} (BENCH_SCALE_RUN_PARENT chooses where)\n`);
  let bundle: string | undefined;
  try {
    bundle = bundleBench('scale.ts', `.scale-${process.pid}.mjs`);
    const nodeFlags = values['node-flags'].split(/\s+/u).filter((f) => f !== '');
    const proc = spawn(process.execPath, ['--expose-gc', ...nodeFlags, bundle], {
      stdio: 'inherit',
      env: {
        ...process.env,
        BENCH_SCALE_CHILD: '1',
        VMPLUMB_RUN_DIR: runDir,
        BENCH_SCALE_NETWORKS: String(networks),
        BENCH_SCALE_SERVE: String(serve),
        BENCH_SCALE_SETTLE: String(settle),
        BENCH_SCALE_SAMPLE: String(sample),
        BENCH_SCALE_JSON: values.json ? '1' : '',
        BENCH_SCALE_MULTICAST_ROUTE: values['multicast-route'] ? '1' : '',
        BENCH_SCALE_MEMORY: values.memory ? '1' : '',
        BENCH_SCALE_HEAP_SNAPSHOT: values['heap-snapshot'] ?? '',
        BENCH_SCALE_ALLOC_PROFILE: values['alloc-profile'] ?? '',
        BENCH_SCALE_NO_FLOOR: values['no-floor'] ? '1' : '',
      },
    });
    const forward = (signal: NodeJS.Signals): void => {
      proc.kill(signal);
    };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    const code = await new Promise<number | null>((resolve) => proc.on('close', resolve));
    return code ?? 1;
  } finally {
    if (bundle !== undefined) rmSync(bundle, { force: true });
    rmSync(runDir, { recursive: true, force: true });
  }
}

if (process.env.BENCH_SCALE_CHILD) {
  try {
    await child();
  } catch (error) {
    process.stderr.write(`bench:scale failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
} else {
  process.exitCode = await parent();
}
