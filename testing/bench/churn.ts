/**
 * The link-churn benchmark (issue 2, "Benchmark"): N pairs — a bridge created up, then a
 * vxlan created enslaved to it and up — then all deleted, in a fresh namespace, by the
 * library, by `ip -batch` with the reference commands, and by the kernel floor
 * (bench/floor.c). Each contender gets its own namespace in every run; figures are medians
 * over the runs.
 */
import { cpus, loadavg, release } from 'node:os';

import { checkInteger } from '../../lib/validate.js';
import { watchEventLoop } from './event-loop.js';
import { buildFloor, FLOOR_DELETES, runFloor, type FloorDelete } from './floor.js';
import { ipBatchCreateCommands, ipBatchDeleteCommands, runIpBatch } from './ip-batch.js';
import { runLibrary, type CreateMode } from './library.js';
import { BenchNamespace } from './namespace.js';
import { summarize, type Summary } from './stats.js';

/** The contenders a run can measure. */
export type Contender = 'library' | 'library-sequential' | 'floor' | 'ip-batch';

/** Options of {@link runChurn}. */
export interface ChurnOptions {
  /** Number of bridge+vxlan pairs, 1-10000; 100 by default. */
  pairs?: number;
  /** Repetitions (medians are reported), 1-100; 1 by default. */
  runs?: number;
  /** What to measure; library, floor and ip-batch by default. */
  contenders?: Contender[];
  /** The floor's deletion strategy; `group`, the fastest the kernel allows, by default. */
  floorDelete?: FloorDelete;
  /** The floor's C source (bench/floor.c of the git tree by default). */
  floorSource?: string;
  /** Prefix of the namespaces' names; `vmpbench` by default. */
  netnsPrefix?: string;
  /** Progress lines ("run 2/3: floor"), e.g. to stderr. */
  onProgress?: (message: string) => void;
  /** Stops between steps and kills running children; namespaces are still removed. */
  signal?: AbortSignal;
}

/** One contender's figures over the runs. */
export interface ContenderReport {
  /** Microseconds to create all pairs. */
  createUs: Summary;
  /** Microseconds to delete all pairs. */
  deleteUs: Summary;
  /**
   * The event loop's largest delay per run, in milliseconds. For the library it is what the
   * library's calls caused plus the machine's noise; for the floor and ip -batch (other
   * processes: the loop only waits for them) it is the machine's noise alone, the baseline.
   */
  eventLoopMaxDelayMs?: Summary;
  /** The 99th percentile of the event loop's delay per run, in milliseconds. */
  eventLoopP99DelayMs?: Summary;
  /** Library only: the largest delay an idle sentinel process saw in the same runs (ms). */
  sentinelMaxDelayMs?: Summary;
  /** Floor only: the longest single sendmsg per run, in microseconds. */
  maxSendUs?: Summary;
}

/** What {@link runChurn} measured. */
export interface ChurnReport {
  pairs: number;
  runs: number;
  floorDelete: FloorDelete;
  /** Where it ran: kernel release, CPU count, load average at the start and the end. */
  machine: { kernel: string; cpus: number; loadStart: number[]; loadEnd: number[] };
  contenders: Partial<Record<Contender, ContenderReport>>;
  /** Contenders that could not run, with the reason (e.g. no C compiler for the floor). */
  skipped: Partial<Record<Contender, string>>;
  /**
   * library / floor from the medians (undefined without both), and run by run: the two ran
   * back to back, so a run's ratio is less exposed to the machine's load changing over time.
   */
  ratios: { create?: number; delete?: number; createPerRun?: number[]; deletePerRun?: number[] };
}

/** The targets. */
export const TARGETS = { createRatio: 1.2, deleteRatio: 1.1, eventLoopMaxDelayMs: 20 } as const;

/** Every contender, in report order. */
export const CONTENDERS: readonly Contender[] = ['library', 'library-sequential', 'floor', 'ip-batch'];

interface Sample {
  createUs: number;
  deleteUs: number;
  eventLoopMaxDelayMs?: number;
  eventLoopP99DelayMs?: number;
  sentinelMaxDelayMs?: number;
  maxSendUs?: number;
}

function toReport(samples: Sample[]): ContenderReport {
  const report: ContenderReport = {
    createUs: summarize(samples.map((s) => s.createUs)),
    deleteUs: summarize(samples.map((s) => s.deleteUs)),
  };
  if (samples[0]?.eventLoopMaxDelayMs !== undefined) report.eventLoopMaxDelayMs = summarize(samples.map((s) => s.eventLoopMaxDelayMs!));
  if (samples[0]?.eventLoopP99DelayMs !== undefined) report.eventLoopP99DelayMs = summarize(samples.map((s) => s.eventLoopP99DelayMs!));
  if (samples[0]?.sentinelMaxDelayMs !== undefined) report.sentinelMaxDelayMs = summarize(samples.map((s) => s.sentinelMaxDelayMs!));
  if (samples[0]?.maxSendUs !== undefined) report.maxSendUs = summarize(samples.map((s) => s.maxSendUs!));
  return report;
}

/** Checks the options and fills in the defaults. */
export function churnDefaults(
  options: ChurnOptions = {},
): Required<Omit<ChurnOptions, 'onProgress' | 'signal' | 'floorSource'>> & Pick<ChurnOptions, 'onProgress' | 'signal' | 'floorSource'> {
  const contenders = options.contenders ?? ['library', 'floor', 'ip-batch'];
  if (!Array.isArray(contenders) || contenders.length === 0) throw new TypeError('Expected "contenders" to be a non-empty array');
  for (const c of contenders) {
    if (!CONTENDERS.includes(c)) {
      const error = new TypeError(`Expected "contenders" to hold ${CONTENDERS.join(', ')}, got ${JSON.stringify(c)}`) as TypeError & { code: string };
      error.code = 'ERR_INVALID_ARG_VALUE';
      throw error;
    }
  }
  const floorDelete = options.floorDelete ?? 'group';
  if (!FLOOR_DELETES.includes(floorDelete)) {
    const error = new TypeError(`Expected "floorDelete" to be one of ${FLOOR_DELETES.join(', ')}, got ${JSON.stringify(floorDelete)}`) as TypeError & {
      code: string;
    };
    error.code = 'ERR_INVALID_ARG_VALUE';
    throw error;
  }
  return {
    ...options,
    pairs: checkInteger('pairs', options.pairs ?? 100, 1, 10000),
    runs: checkInteger('runs', options.runs ?? 1, 1, 100),
    contenders: [...new Set(contenders)],
    floorDelete,
    netnsPrefix: options.netnsPrefix ?? 'vmpbench',
  };
}

/**
 * Runs the benchmark and returns medians over `runs`. Needs root (CAP_NET_ADMIN and
 * CAP_SYS_ADMIN for `ip netns`); the floor also needs a C compiler and bench/floor.c.
 */
export async function runChurn(options: ChurnOptions = {}): Promise<ChurnReport> {
  const o = churnDefaults(options);
  const progress = o.onProgress ?? (() => {});
  const skipped: ChurnReport['skipped'] = {};
  let floorBinary: string | undefined;
  if (o.contenders.includes('floor')) {
    try {
      floorBinary = await buildFloor(o.floorSource);
    } catch (error) {
      skipped.floor = (error as Error).message;
    }
  }
  const loadStart = loadavg();
  const samples = new Map<Contender, Sample[]>();
  for (let run = 1; run <= o.runs; run++) {
    // Every other run in reverse order, so a machine getting busier or quieter over the
    // runs does not favour whoever goes first.
    const order = run % 2 === 1 ? o.contenders : [...o.contenders].reverse();
    for (const contender of order) {
      if (skipped[contender] !== undefined) continue;
      o.signal?.throwIfAborted();
      progress(`run ${run}/${o.runs}: ${contender}, ${o.pairs} pairs`);
      const ns = await BenchNamespace.create(o.netnsPrefix, o.signal);
      try {
        const sample = await measure(contender, ns.name, o.pairs, o.floorDelete, floorBinary, o.signal);
        const left = await ns.extraLinks();
        if (left.length > 0) throw new Error(`${contender} left ${left.length} links (${left.slice(0, 5).join(', ')}…)`);
        samples.set(contender, [...(samples.get(contender) ?? []), sample]);
        progress(`  create ${(sample.createUs / o.pairs).toFixed(0)} µs/pair, delete ${(sample.deleteUs / 1000).toFixed(0)} ms`);
      } finally {
        await ns.destroy();
      }
    }
  }
  const contenders: ChurnReport['contenders'] = {};
  for (const [name, list] of samples) contenders[name] = toReport(list);
  const lib = contenders.library;
  const floor = contenders.floor;
  return {
    pairs: o.pairs,
    runs: o.runs,
    floorDelete: o.floorDelete,
    machine: { kernel: release(), cpus: cpus().length, loadStart, loadEnd: loadavg() },
    contenders,
    skipped,
    ratios:
      lib && floor
        ? {
            create: lib.createUs.median / floor.createUs.median,
            delete: lib.deleteUs.median / floor.deleteUs.median,
            createPerRun: lib.createUs.samples.map((v, i) => v / floor.createUs.samples[i]!),
            deletePerRun: lib.deleteUs.samples.map((v, i) => v / floor.deleteUs.samples[i]!),
          }
        : {},
  };
}

async function measure(
  contender: Contender,
  netns: string,
  pairs: number,
  floorDelete: FloorDelete,
  floorBinary: string | undefined,
  signal?: AbortSignal,
): Promise<Sample> {
  switch (contender) {
    case 'library':
    case 'library-sequential': {
      const mode: CreateMode = contender === 'library' ? 'pipelined' : 'sequential';
      const r = await runLibrary(netns, pairs, mode);
      return {
        createUs: r.createUs,
        deleteUs: r.deleteUs,
        eventLoopMaxDelayMs: r.eventLoopMaxDelayMs,
        eventLoopP99DelayMs: r.eventLoopP99DelayMs,
        sentinelMaxDelayMs: r.sentinelMaxDelayMs,
      };
    }
    case 'floor': {
      const watch = watchEventLoop();
      const r = await runFloor({ binary: floorBinary!, netns, pairs, delete: floorDelete, signal });
      const delay = watch.stop();
      return { createUs: r.createUs, deleteUs: r.deleteUs, maxSendUs: r.maxSendUs, eventLoopMaxDelayMs: delay.maxMs, eventLoopP99DelayMs: delay.p99Ms };
    }
    case 'ip-batch': {
      const watch = watchEventLoop();
      const createUs = await runIpBatch(netns, ipBatchCreateCommands(pairs), signal);
      const deleteUs = await runIpBatch(netns, ipBatchDeleteCommands(pairs), signal);
      const delay = watch.stop();
      return { createUs, deleteUs, eventLoopMaxDelayMs: delay.maxMs, eventLoopP99DelayMs: delay.p99Ms };
    }
  }
}
