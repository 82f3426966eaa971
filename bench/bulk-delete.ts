/**
 * `npm run bench:bulk-delete` (as root): how long `Netlink.deleteLinks` takes for a batch of
 * bridges, and how long this process's event loop stalls meanwhile. Each bridge costs the
 * kernel an RCU grace period under RTNL (~16 ms), so the call takes > 100 ms for 8 bridges;
 * the sendmsg runs off the JS thread, so a 1 ms timer keeps firing. Target (formerly asserted
 * in test/integration/netlink-veth-bulk.test.ts): the worst timer gap is under half the call's
 * duration, and the call takes over 60 ms (else the measurement says nothing).
 *
 * Options (environment): BENCH_BULK_BRIDGES (8), BENCH_BULK_RUNS (5). Each run uses its own
 * namespace, removed at the end.
 */
import { Netlink } from '../lib/netlink/index.js';
import { TestNetns } from '../test/helpers/netns.js';
import { benchInteger } from './options.js';

const BRIDGES = benchInteger('BENCH_BULK_BRIDGES', 8, 4096);
const RUNS = benchInteger('BENCH_BULK_RUNS', 5, 100);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** One run: `BRIDGES` bridges made with ip, deleted with deleteLinks under a 1 ms timer. */
async function once(): Promise<{ took: number; worstGap: number }> {
  const ns = new TestNetns('vmpbench-bulk');
  try {
    const names = Array.from({ length: BRIDGES }, (_, i) => `bl${i}`);
    ns.ipBatch(names.map((n) => `link add ${n} type bridge`));
    const nl = await Netlink.open({ netns: ns.name });
    try {
      let last = performance.now();
      let worstGap = 0;
      const timer = setInterval(() => {
        const now = performance.now();
        worstGap = Math.max(worstGap, now - last);
        last = now;
      }, 1);
      const started = performance.now();
      await nl.deleteLinks(names);
      const took = performance.now() - started;
      clearInterval(timer);
      return { took, worstGap: Math.max(worstGap, performance.now() - last) };
    } finally {
      await nl.close();
    }
  } finally {
    ns.cleanup();
  }
}

if (process.getuid?.() !== 0) throw new Error('bench:bulk-delete needs root (network namespaces)');
await once(); // warm-up: module loading, JIT, the addon
const took: number[] = [];
const gaps: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const r = await once();
  took.push(r.took);
  gaps.push(r.worstGap);
}
const met = took.every((t, i) => t > 60 && gaps[i]! < t / 2);
console.log(
  `deleteLinks of ${BRIDGES} bridges, ${RUNS} runs: median ${median(took).toFixed(1)} ms ` +
    `(min ${Math.min(...took).toFixed(1)}, max ${Math.max(...took).toFixed(1)})`,
);
console.log(`worst event-loop gap (1 ms timer) during the call: median ${median(gaps).toFixed(1)} ms, max ${Math.max(...gaps).toFixed(1)} ms`);
console.log(`  target (every run: call > 60 ms, gap < half the call): ${met ? 'met' : 'NOT met'}`);
