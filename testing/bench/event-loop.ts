/**
 * The event loop's delay while something runs (perf_hooks.monitorEventLoopDelay, 1 ms
 * resolution): the largest, which the target is about, and the 99th percentile,
 * which a single preemption by another process on a busy machine does not move.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** Delays in milliseconds. */
export interface EventLoopDelay {
  maxMs: number;
  p99Ms: number;
}

/** What the sentinel saw of its own loop, and what it cost: the measurement's own floor. */
export interface SentinelReport extends EventLoopDelay {
  /** The sentinel's CPU time (user + system) in % of one core over its lifetime. */
  cpuPercent: number;
}

/**
 * A watch over the event loop. It cannot be paused: a histogram disabled and enabled again
 * counts the whole pause as one delay (Node keeps the previous tick's time), so leaving a
 * stretch out takes two watches.
 */
export interface EventLoopWatch {
  /** Stops watching and returns the delays seen while watching. */
  stop(): EventLoopDelay;
}

/** The larger of two delays, field by field. */
export function worstDelay(a: EventLoopDelay, b: EventLoopDelay): EventLoopDelay {
  return { maxMs: Math.max(a.maxMs, b.maxMs), p99Ms: Math.max(a.p99Ms, b.p99Ms) };
}

/**
 * Starts watching now. The histogram's own timer fires every `resolutionMs`: 1 ms costs
 * ~1,000 wakeups a second, which a CPU measurement would count as the measured code's.
 */
export function watchEventLoop(resolutionMs = 1): EventLoopWatch {
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  return {
    stop: () => {
      histogram.disable();
      return { maxMs: histogram.max / 1e6, p99Ms: histogram.percentile(99) / 1e6 };
    },
  };
}

/**
 * An idle Node.js process watching its own event loop, the same-window baseline: on a busy
 * machine an idle loop is delayed too (other processes, kernel work that is not preempted),
 * and only the part of a delay the sentinel did not see is the measured code's doing.
 */
export interface Sentinel {
  /** Stops the sentinel and returns the delays it saw while it ran, and its CPU. */
  stop(): Promise<SentinelReport>;
}

const SENTINEL_SOURCE = `
const { monitorEventLoopDelay } = require('node:perf_hooks');
const h = monitorEventLoopDelay({ resolution: Number(process.argv[1]) });
const cpu = process.cpuUsage();
const start = performance.now();
h.enable();
process.stdout.write('ready\\n');
process.stdin.on('data', () => {});
process.stdin.on('end', () => {
  h.disable();
  const used = process.cpuUsage(cpu);
  const cpuPercent = ((used.user + used.system) / 1000 / (performance.now() - start)) * 100;
  process.stdout.write(JSON.stringify({ maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6, cpuPercent }) + '\\n');
});`;

/**
 * Starts a sentinel process and resolves once it is watching, with a histogram of
 * `resolutionMs` (give it the measured process's, and its CPU is what that histogram and an
 * idle node cost: the part of a CPU figure that is the measurement's own).
 */
export async function startSentinel(resolutionMs = 1): Promise<Sentinel> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['-e', SENTINEL_SOURCE, String(resolutionMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => resolve());
  });
  child.stdout.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
      if (output.startsWith('ready\n')) resolve();
    });
    child.on('error', reject);
    child.on('close', () => reject(new Error('the event-loop sentinel exited early')));
  });
  return {
    stop: async () => {
      child.stdin.end();
      await exited;
      const line = output.split('\n')[1] ?? '';
      try {
        return JSON.parse(line) as SentinelReport;
      } catch {
        throw new Error(`the event-loop sentinel printed ${JSON.stringify(output)}`);
      }
    },
  };
}
