/**
 * Where a benchmark process's memory is, phase by phase, and how long its garbage collections
 * paused it: the V8 heap by space (what the heap committed and what is live), the process's
 * resident memory (/proc/self/smaps_rollup: anonymous, file-backed), and the rest, which is
 * neither heap nor code: malloc arenas (the thread pool's, the addon's buffers), node's own.
 *
 * Only reads what plain node exposes (no V8 flags): a figure measured with this is the one a
 * user's process would see.
 */
import { readFileSync } from 'node:fs';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';

/** Megabytes, one decimal. */
const mb = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

/** One phase's memory, in MB. */
export interface MemorySnapshot {
  phase: string;
  rss: number;
  /** RssAnon of /proc/self/status: heap, arenas, stacks. */
  rssAnon: number;
  /** RssFile: node's binary and the addon, mapped. */
  rssFile: number;
  /** The V8 heap's committed pages that are resident (total_physical_size). */
  heapPhysical: number;
  heapUsed: number;
  /** Per V8 space: committed (space_size) / used. */
  spaces: Record<string, { size: number; used: number }>;
  /** ArrayBuffers and Buffers (outside the V8 heap, malloc'd). */
  arrayBuffers: number;
  /** RssAnon less the heap's resident pages and ArrayBuffers: malloc arenas, stacks, node's own. */
  otherAnon: number;
}

function statusKb(field: string): number {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return line ? Number(line.split(/\s+/u)[1]) * 1024 : 0;
}

/** The process's memory now, labelled `phase`. */
export function memorySnapshot(phase: string): MemorySnapshot {
  const usage = process.memoryUsage();
  const heap = getHeapStatistics();
  const spaces: MemorySnapshot['spaces'] = {};
  for (const s of getHeapSpaceStatistics()) {
    if (s.space_size > 0) spaces[s.space_name.replace(/_space$/u, '')] = { size: mb(s.space_size), used: mb(s.space_used_size) };
  }
  const rssAnon = statusKb('RssAnon');
  return {
    phase,
    rss: mb(usage.rss),
    rssAnon: mb(rssAnon),
    rssFile: mb(statusKb('RssFile')),
    heapPhysical: mb(heap.total_physical_size),
    heapUsed: mb(heap.used_heap_size),
    spaces,
    arrayBuffers: mb(usage.arrayBuffers),
    otherAnon: mb(rssAnon - heap.total_physical_size - usage.arrayBuffers),
  };
}

/** One line of a snapshot, for a text report. */
export function formatSnapshot(s: MemorySnapshot): string {
  const spaces = Object.entries(s.spaces)
    .filter(([, v]) => v.size >= 0.5)
    .map(([k, v]) => `${k} ${v.used}/${v.size}`)
    .join(', ');
  return (
    `${s.phase.padEnd(14)} RSS ${s.rss} MB (anon ${s.rssAnon}, file ${s.rssFile}); heap resident ${s.heapPhysical}, used ${s.heapUsed} ` +
    `[${spaces}]; buffers ${s.arrayBuffers}; other anon ${s.otherAnon}`
  );
}

/** Garbage-collection pauses seen in one window, in ms, by kind. */
export interface GcPauses {
  count: Record<string, number>;
  maxMs: Record<string, number>;
  totalMs: number;
}

const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/** A watch over GC pauses (perf_hooks 'gc' entries: each is one pause on the main thread). */
export interface GcWatch {
  stop(): GcPauses;
}

/** Starts recording GC pauses now. */
export function watchGc(): GcWatch {
  const pauses: GcPauses = { count: {}, maxMs: {}, totalMs: 0 };
  const record = (entries: PerformanceEntry[]): void => {
    for (const entry of entries as (PerformanceEntry & { detail?: { kind?: number } })[]) {
      const kind = KINDS[entry.detail?.kind ?? 0] ?? 'other';
      pauses.count[kind] = (pauses.count[kind] ?? 0) + 1;
      pauses.maxMs[kind] = Math.max(pauses.maxMs[kind] ?? 0, Math.round(entry.duration * 10) / 10);
      pauses.totalMs += entry.duration;
    }
  };
  const observer = new PerformanceObserver((list) => record(list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop: () => {
      record(observer.takeRecords()); // those not yet delivered to the callback
      observer.disconnect();
      pauses.totalMs = Math.round(pauses.totalMs);
      return pauses;
    },
  };
}

/** One line of GC pauses. */
export function formatGc(phase: string, g: GcPauses): string {
  const kinds = Object.keys(g.count)
    .map((k) => `${k} ${g.count[k]} (max ${g.maxMs[k]} ms)`)
    .join(', ');
  return `${phase.padEnd(14)} GC ${kinds || 'none'}; total ${g.totalMs} ms`;
}

/** A node of V8's sampling heap profile (HeapProfiler.SamplingHeapProfileNode). */
interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

/** Where a phase allocated, by function: bytes sampled, including what the GC has since freed. */
export interface AllocationProfile {
  totalMb: number;
  /** The largest allocators first: `function (file:line)` and MB. */
  top: { site: string; mb: number }[];
  /** The raw profile (for a viewer: save it as .heapprofile). */
  raw: unknown;
}

/**
 * Starts V8's sampling heap profiler over the inspector, counting objects the GC collects
 * too (a transient is what a burst's allocation mostly is). `stop()` returns the sites.
 */
export async function startAllocationProfile(samplingInterval = 16384): Promise<{ stop(): Promise<AllocationProfile> }> {
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object): Promise<unknown> =>
    new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
  await post('HeapProfiler.enable');
  await post('HeapProfiler.startSampling', { samplingInterval, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  return {
    stop: async () => {
      const { profile } = (await post('HeapProfiler.stopSampling')) as { profile: { head: ProfileNode } };
      session.disconnect();
      const bySite = new Map<string, number>();
      let total = 0;
      const walk = (node: ProfileNode): void => {
        const f = node.callFrame;
        const site = `${f.functionName || '(anonymous)'} (${f.url.replace(/^.*\//u, '')}:${f.lineNumber + 1})`;
        bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
        total += node.selfSize;
        for (const child of node.children) walk(child);
      };
      walk(profile.head);
      const top = [...bySite]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 30)
        .map(([site, bytes]) => ({ site, mb: mb(bytes) }));
      return { totalMb: mb(total), top, raw: profile };
    },
  };
}
