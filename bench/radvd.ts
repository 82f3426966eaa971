/**
 * `npm run bench:radvd [-- --bridges N] [--settle S] [--serve S] [--rounds R]` (as root): radvd
 * and `vmplumb ra` serving the same N bridges from the same radvd.conf, one after the other, in
 * one namespace: what the radvd drop-in costs against the daemon it replaces, at the scale of
 * bench:scale (a bridge per network, its vxlan the only port, the router address on it).
 *
 * The links are the kernel floor's (bench/floor.c `--delete none`: brK up with
 * fd00:HI:LO::1/64, vxK with vni K on the underlay, enslaved and up; K from 1), the config
 * one `interface brK` block each with the reference intervals (MinRtrAdvInterval 3,
 * MaxRtrAdvInterval 5) and the bridge's /64. The namespace forwards (radvd advertises a router
 * lifetime only then, and so does vmplumb ra for a radvd.conf), and its net.core.optmem_max is
 * raised: both daemons join ff02::2 on every interface, 56 bytes of option memory each.
 *
 * Each daemon runs alone. Started, it is given at least --settle seconds (40) and until the
 * bridges send at 90 % of the configured rate (N / 4 RAs a second) over RATE_WINDOW_MS, at most
 * --max-start seconds (600): how long that took is its start time (radvd sets each interface
 * up with a getifaddrs(3), a dump of every link and address of the namespace, so its start
 * grows with the square of the bridges). Then it is measured over --serve seconds (30): its
 * CPU (all threads, /proc/PID/stat), the frames that left the bridges (their tx_packets: the
 * RAs, since nothing else sends on them once settled) and its RSS; then stopped with SIGINT,
 * and SIGKILL if it has not exited 10 s later (radvd busy setting interfaces up does not
 * answer signals). Rounds alternate the daemons. Needs radvd(8) (Debian's radvd).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { buildFloor, floorPrefix, runFloor } from '../testing/bench/floor.js';
import { BenchNamespace, ip, UNDERLAY } from '../testing/bench/namespace.js';
import { bundleBench } from './bundle.js';

const USAGE =
  'usage: npm run bench:radvd -- [--bridges N (1024)] [--settle SECONDS (40)] [--max-start SECONDS (600)] [--serve SECONDS (30)] [--rounds R (1)] [--json]\n';
/** The floor's first pair (br1, vx1), and so the config's first interface. */
const FIRST = 1;
/** proc(5)'s clock ticks a second (sysconf(_SC_CLK_TCK), 100 on Linux). */
const USER_HZ = 100;
/** The window over which a daemon's rate is checked while it starts. */
const RATE_WINDOW_MS = 10_000;
/** The share of the configured rate at which a daemon counts as started. */
const FULL_RATE = 0.9;
/** How long a daemon may take to exit after SIGINT before it is killed. */
const STOP_MS = 10_000;
/** Quiet after a daemon stopped (its final RAs, the bridges' timers) before the next starts. */
const BETWEEN_MS = 12_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One radvd.conf(5) block per bridge, the reference intervals. */
function radvdConf(bridges: number): string {
  const blocks: string[] = [];
  for (let k = FIRST; k < FIRST + bridges; k++) {
    blocks.push(`interface br${k} {\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 5;\n  prefix ${floorPrefix(k)} { };\n};\n`);
  }
  return blocks.join('');
}

/** user + system clock ticks of a process, all its threads (proc(5) stat fields 14 and 15). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return line === undefined ? NaN : Number(line.split(/\s+/u)[1]) / 1024;
}

/** Frames sent by the namespace's bridges so far (their tx_packets). */
async function bridgeTx(netns: string): Promise<number> {
  const links = JSON.parse(await ip(['-n', netns, '-j', '-s', 'link', 'show', 'type', 'bridge'])) as Array<{ stats64: { tx: { packets: number } } }>;
  return links.reduce((sum, l) => sum + l.stats64.tx.packets, 0);
}

interface DaemonReport {
  daemon: string;
  /** Seconds from its start until the bridges sent at FULL_RATE (undefined: not within --max-start). */
  startSeconds: number | undefined;
  cpuPercent: number;
  framesPerSecond: number;
  /** The rate the config asks for: a multicast RA every 4 s on average per bridge. */
  expectedPerSecond: number;
  cpuUsPerFrame: number;
  rssMb: number;
  /** Whether it exited within STOP_MS of SIGINT. */
  stoppedCleanly: boolean;
}

/** Stops `child` (SIGINT, then SIGKILL after STOP_MS); true when SIGINT was enough. */
async function stop(child: ChildProcess): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), STOP_MS)))]);
  clearTimeout(timer);
  if (!inTime) {
    // Our own child, by the pid we spawned (radvd's privilege-separated helper exits with it).
    child.kill('SIGKILL');
    await exited;
  }
  return inTime;
}

/** Periods of the daemon's start: at least `settleS`, and until the bridges send at FULL_RATE. */
interface StartOptions {
  settleS: number;
  maxStartS: number;
}

/**
 * Resolves with the seconds from `t0` until the namespace's bridges sent at FULL_RATE of
 * `expected` over a RATE_WINDOW_MS window, once `settleS` have passed too; undefined when that
 * did not happen within `maxStartS`.
 */
async function waitForRate(netns: string, expected: number, t0: number, child: ChildProcess, o: StartOptions): Promise<number | undefined> {
  let started: number | undefined;
  let tx = await bridgeTx(netns);
  for (;;) {
    await sleep(RATE_WINDOW_MS);
    if (child.exitCode !== null || child.signalCode !== null) return started;
    const now = await bridgeTx(netns);
    const rate = (now - tx) / (RATE_WINDOW_MS / 1000);
    tx = now;
    const elapsed = (performance.now() - t0) / 1000;
    if (started === undefined && rate >= FULL_RATE * expected) started = elapsed;
    if (started !== undefined && elapsed >= o.settleS) return started;
    if (elapsed >= o.maxStartS) return started;
  }
}

async function measureDaemon(
  name: string,
  command: readonly string[],
  netns: string,
  bridges: number,
  start: StartOptions,
  serveS: number,
): Promise<DaemonReport> {
  const t0 = performance.now();
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString();
  });
  let measured: Omit<DaemonReport, 'stoppedCleanly'>;
  try {
    const startSeconds = await waitForRate(netns, bridges / 4, t0, child, start);
    const pid = child.pid;
    if (pid === undefined || child.exitCode !== null) throw new Error(`${name} exited while starting: ${stderr.trim()}`);
    const ticks0 = cpuTicks(pid);
    const tx0 = await bridgeTx(netns);
    const t1 = performance.now();
    let rss = rssMb(pid);
    for (let s = 0; s < serveS; s++) {
      await sleep(1000);
      rss = Math.max(rss, rssMb(pid));
    }
    const cpuSeconds = (cpuTicks(pid) - ticks0) / USER_HZ;
    const seconds = (performance.now() - t1) / 1000;
    const frames = (await bridgeTx(netns)) - tx0;
    measured = {
      daemon: name,
      startSeconds,
      cpuPercent: (cpuSeconds / seconds) * 100,
      framesPerSecond: frames / seconds,
      expectedPerSecond: bridges / 4,
      cpuUsPerFrame: frames > 0 ? (cpuSeconds / frames) * 1e6 : NaN,
      rssMb: rss,
    };
  } catch (error) {
    await stop(child);
    throw error;
  }
  return { ...measured, stoppedCleanly: await stop(child) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      bridges: { type: 'string', default: '1024' },
      settle: { type: 'string', default: '40' },
      'max-start': { type: 'string', default: '600' },
      serve: { type: 'string', default: '30' },
      rounds: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const int = (name: string, text: string, max: number): number => {
    if (!/^\d+$/u.test(text) || Number(text) < 1 || Number(text) > max)
      throw new RangeError(`--${name} takes an integer from 1 to ${max}, got ${JSON.stringify(text)}`);
    return Number(text);
  };
  const bridges = int('bridges', values.bridges, 8192);
  const settleS = int('settle', values.settle, 3600);
  const maxStartS = int('max-start', values['max-start'], 3600);
  const serveS = int('serve', values.serve, 3600);
  const rounds = int('rounds', values.rounds, 20);

  const here = dirname(fileURLToPath(import.meta.url));
  const cli = bundleBench('../lib/cli.ts', `.radvd-cli-${process.pid}.mjs`);
  const dir = mkdtempSync(join(tmpdir(), 'vmplumb-bench-radvd-'));
  const ns = await BenchNamespace.create('vmpradvd');
  try {
    // Each daemon joins ff02::2 on every interface (vmplumb spreads them over sockets; radvd not).
    await ns.makeRoomForMemberships(bridges);
    for (const setting of ['net.ipv6.conf.all.forwarding=1', `net.ipv6.conf.${UNDERLAY}p.disable_ipv6=1`]) {
      await ip(['netns', 'exec', ns.name, 'sysctl', '-qw', setting]);
    }
    process.stderr.write(`making ${bridges} bridge+vxlan pairs (bench/floor.c)\n`);
    await runFloor({ binary: await buildFloor(join(here, 'floor.c')), netns: ns.name, pairs: bridges, address: true, delete: 'none' });
    const conf = join(dir, 'radvd.conf');
    writeFileSync(conf, radvdConf(bridges), { mode: 0o644 });
    await sleep(BETWEEN_MS);

    const reports: DaemonReport[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const [name, command] of [
        ['radvd', ['ip', 'netns', 'exec', ns.name, 'radvd', '--nodaemon', '-C', conf, '-p', join(dir, 'radvd.pid'), '-m', 'stderr']],
        ['vmplumb ra', [process.execPath, cli, 'ra', '-C', conf, '--netns', ns.name]],
      ] as const) {
        process.stderr.write(`${name}: start (at least ${settleS} s, until ${FULL_RATE * 100} % of the rate, at most ${maxStartS} s), serve ${serveS} s\n`);
        const report = await measureDaemon(name, command, ns.name, bridges, { settleS, maxStartS }, serveS);
        reports.push(report);
        process.stderr.write(`  ${format(report)}\n`);
        await sleep(BETWEEN_MS);
      }
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ bridges, settleSeconds: settleS, serveSeconds: serveS, reports })}\n`);
    } else {
      process.stdout.write(
        `${bridges} bridges, radvd.conf with MinRtrAdvInterval 3, MaxRtrAdvInterval 5 (expected ~${bridges / 4} RAs/s), node ${process.version}\n`,
      );
      for (const r of reports) process.stdout.write(`${format(r)}\n`);
    }
  } finally {
    await ns.destroy();
    rmSync(dir, { recursive: true, force: true });
    rmSync(cli, { force: true });
  }
}

function format(r: DaemonReport): string {
  const keeps =
    r.framesPerSecond >= FULL_RATE * r.expectedPerSecond
      ? 'keeps up'
      : `does NOT keep up (${((r.framesPerSecond / r.expectedPerSecond) * 100).toFixed(1)} % of the rate)`;
  const start = r.startSeconds === undefined ? 'never at the full rate while starting' : `at the full rate ${r.startSeconds.toFixed(0)} s after start`;
  return (
    `${r.daemon.padEnd(10)} ${start}; CPU ${r.cpuPercent.toFixed(2)} % of a core, ${r.framesPerSecond.toFixed(0)} RAs/s (${keeps}), ` +
    `${r.cpuUsPerFrame.toFixed(1)} µs CPU an RA, RSS ${r.rssMb.toFixed(1)} MB${r.stoppedCleanly ? '' : `; did not exit within ${STOP_MS / 1000} s of SIGINT (killed)`}`
  );
}

await main();
