/**
 * The library's side of the churn benchmark: the same pairs as the floor and `ip -batch`,
 * made with {@link Netlink} in the benchmark namespace, while perf_hooks watches the event
 * loop (monitorEventLoopDelay, 1 ms resolution).
 */
import { Netlink } from '../../lib/netlink/index.js';
import { vxlanGroupForId } from '../../lib/netlink/vxlan-group.js';
import { startSentinel, watchEventLoop, worstDelay, type EventLoopDelay, type EventLoopWatch } from './event-loop.js';
import { pairNames } from './ip-batch.js';
import { UNDERLAY } from './namespace.js';

/** Pairs started per macrotask by the pipelined mode. */
const SLICE = 100;

/** How the library issues the creates. */
export type CreateMode = 'pipelined' | 'sequential';

/** One library run. */
export interface LibraryResult {
  mode: CreateMode;
  createUs: number;
  deleteUs: number;
  /** The event loop's largest delay over create and delete, in milliseconds. */
  eventLoopMaxDelayMs: number;
  /** The 99th percentile of the event loop's delay over create and delete, in milliseconds. */
  eventLoopP99DelayMs: number;
  /** The largest delay an idle process saw meanwhile (the machine's share), in milliseconds. */
  sentinelMaxDelayMs: number;
}

function elapsedUs(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1000;
}

async function createPairs(nl: Netlink, pairs: number, mode: CreateMode): Promise<void> {
  const vxlan = (k: number) => ({
    name: pairNames(k).vxlan,
    vni: k,
    group: vxlanGroupForId(k),
    dev: UNDERLAY,
    port: 4789,
    ttl: 5,
    master: pairNames(k).bridge,
    up: true,
  });
  if (mode === 'sequential') {
    for (let k = 1; k <= pairs; k++) {
      await nl.createBridge({ name: pairNames(k).bridge, up: true });
      await nl.createVxlan(vxlan(k));
    }
    return;
  }
  // Every pair is a chain (its bridge, then its vxlan once the bridge is acked: `master` is
  // resolved when the call is made) and all chains run at once, so requests pipeline. The
  // chains are started SLICE at a time, one slice per macrotask: starting 1000 in one tick
  // would itself hold the event loop for tens of milliseconds (each call validates and
  // encodes synchronously, ~10-30 µs), and the kernel is busy with the first slice anyway.
  const chains: Promise<void>[] = [];
  for (let first = 1; first <= pairs; first += SLICE) {
    if (first > 1) await new Promise<void>((resolve) => setImmediate(resolve));
    for (let k = first; k < Math.min(first + SLICE, pairs + 1); k++) {
      chains.push(nl.createBridge({ name: pairNames(k).bridge, up: true }).then(() => nl.createVxlan(vxlan(k))));
    }
  }
  // allSettled first: no promise is left unobserved when one fails.
  const results = await Promise.allSettled(chains);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Creates `pairs` pairs and deletes them with deleteLinks, in namespace `netns`, and checks
 * with a dump that all 2N links existed and that none is left.
 */
export async function runLibrary(netns: string, pairs: number, mode: CreateMode): Promise<LibraryResult> {
  await using nl = await Netlink.open({ netns });
  const sentinel = await startSentinel();
  // One watch for create, one for delete: the check between them is not the library's doing.
  let watch: EventLoopWatch | undefined = watchEventLoop();
  let createDelay: EventLoopDelay | undefined;
  let createUs: number;
  let deleteUs: number;
  let delay: EventLoopDelay;
  let sentinelDelay: EventLoopDelay;
  try {
    const created = process.hrtime.bigint();
    await createPairs(nl, pairs, mode);
    createUs = elapsedUs(created);
    createDelay = watch.stop();
    watch = undefined;
    const made = (await nl.listLinks()).filter((l) => /^(br|vx)\d+$/u.test(l.name));
    const enslaved = made.filter((l) => l.kind === 'vxlan' && l.master !== undefined && l.up).length;
    if (made.length !== 2 * pairs || enslaved !== pairs) {
      throw new Error(`the library made ${made.length} links (${enslaved} vxlans enslaved and up), expected ${2 * pairs} (${pairs})`);
    }
    watch = watchEventLoop();
    const names = [];
    for (let k = 1; k <= pairs; k++) names.push(pairNames(k).vxlan, pairNames(k).bridge);
    const deleted = process.hrtime.bigint();
    await nl.deleteLinks(names);
    deleteUs = elapsedUs(deleted);
  } finally {
    const last = watch?.stop();
    delay = createDelay && last ? worstDelay(createDelay, last) : (createDelay ?? last ?? { maxMs: Number.NaN, p99Ms: Number.NaN });
    // Over create, the check and delete: a little longer than the library's window.
    sentinelDelay = await sentinel.stop();
  }
  const left = (await nl.listLinks()).filter((l) => /^(br|vx)\d+$/u.test(l.name)).length;
  if (left !== 0) throw new Error(`deleteLinks left ${left} of the benchmark's links`);
  return { mode, createUs, deleteUs, eventLoopMaxDelayMs: delay.maxMs, eventLoopP99DelayMs: delay.p99Ms, sentinelMaxDelayMs: sentinelDelay.maxMs };
}
