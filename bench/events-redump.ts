/**
 * `npm run bench:events-redump` (as root): how long this process's event loop stalls while a
 * link event stream re-dumps after an overrun (ENOBUFS) in a namespace of many links, and how
 * long the re-dump takes. Target (issue 15): no stall over 20 ms with 12,000 links; the stream
 * compares the new dump with what it reported in slices of 256 links per macrotask, and the
 * addon reads at most 64 KiB of the dump per readiness callback.
 *
 * Each run: the stream's first dump is over; the JS thread is held (`ip -batch`, synchronously)
 * while 300 links change MTU and a marker link is made, so the 4 KiB queue overflows; then the
 * time from releasing the thread to the marker's event (the re-dump and its comparison) is
 * watched with perf_hooks.monitorEventLoopDelay, beside an idle sentinel process that shows
 * what the busy machine alone costs.
 *
 * Options (environment): BENCH_REDUMP_LINKS (12000), BENCH_REDUMP_RUNS (3). The namespace is
 * removed at the end, also on failure.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';

import { Netlink } from '../lib/netlink/index.js';
import { startSentinel, watchEventLoop } from '../testing/bench/event-loop.js';
import { TestNetns } from '../test/helpers/netns.js';
import { benchInteger } from './options.js';

const LINKS = benchInteger('BENCH_REDUMP_LINKS', 12_000, 100_000);
const RUNS = benchInteger('BENCH_REDUMP_RUNS', 3, 100);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const ns = new TestNetns('vmpbench-redump');
try {
  console.log(`making ${LINKS} bridges in ${ns.name} …`);
  for (let from = 0; from < LINKS; from += 2000) {
    const names = Array.from({ length: Math.min(2000, LINKS - from) }, (_, i) => `rb${from + i}`);
    ns.ipBatch(names.map((n) => `link add ${n} type bridge`));
  }
  const nl = await Netlink.open({ netns: ns.name });
  const rows: { tookMs: number; maxMs: number; p99Ms: number; sentinelMaxMs: number; overruns: number }[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      // The first dump is over once a marker made after the call has come out.
      const stream = nl.linkEvents({ receiveBuffer: 4096 });
      execFileSync('ip', ['-n', ns.name, 'link', 'add', `ready${run}`, 'type', 'bridge']);
      for (;;) {
        const r = await stream.next();
        if (r.done || r.value.link.name === `ready${run}`) break;
      }
      const mtu = 1400 + run;
      const sentinel = await startSentinel();
      // Held: the kernel drops notifications into the full queue.
      ns.ipBatch([...Array.from({ length: 300 }, (_, i) => `link set rb${i} mtu ${mtu}`), `link add end${run} type bridge`]);
      const watch = watchEventLoop();
      const started = performance.now();
      for (;;) {
        const r = await stream.next();
        if (r.done) throw new Error('the stream ended');
        if (r.value.link.name === `end${run}`) break;
      }
      const tookMs = performance.now() - started;
      const delay = watch.stop();
      const idle = await sentinel.stop();
      const overruns = (stream as unknown as { overruns: number }).overruns;
      await stream.return?.();
      rows.push({ tookMs, maxMs: delay.maxMs, p99Ms: delay.p99Ms, sentinelMaxMs: idle.maxMs, overruns });
      console.log(
        `run ${run + 1}: re-dump of ${LINKS} links ${tookMs.toFixed(0)} ms; event loop max ${delay.maxMs.toFixed(1)} ms, ` +
          `p99 ${delay.p99Ms.toFixed(1)} ms (idle sentinel max ${idle.maxMs.toFixed(1)} ms); overruns ${overruns}`,
      );
      if (overruns === 0) console.log('  (no overrun: the queue did not overflow, this run measured nothing)');
    }
  } finally {
    await nl.close();
  }
  const measured = rows.filter((r) => r.overruns > 0);
  console.log(
    `median of ${measured.length}: re-dump ${median(measured.map((r) => r.tookMs)).toFixed(0)} ms, ` +
      `event loop max ${median(measured.map((r) => r.maxMs)).toFixed(1)} ms (target < 20 ms), ` +
      `sentinel max ${median(measured.map((r) => r.sentinelMaxMs)).toFixed(1)} ms; load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
} finally {
  ns.cleanup();
}
