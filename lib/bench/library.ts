/**
 * The library's side of the churn benchmark: the same pairs as the floor and `ip -batch`,
 * made with {@link Netlink} in the benchmark namespace, while perf_hooks watches the event
 * loop (monitorEventLoopDelay, 1 ms resolution).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

import { Netlink } from '../netlink/index.js';
import { vxlanGroupForId } from '../netlink/vxlan-group.js';
import { pairNames } from './ip-batch.js';
import { UNDERLAY } from './namespace.js';

/** How the library issues the creates. */
export type CreateMode = 'pipelined' | 'sequential';

/** One library run. */
export interface LibraryResult {
  mode: CreateMode;
  createUs: number;
  deleteUs: number;
  /** The event loop's largest delay over create and delete, in milliseconds. */
  eventLoopMaxDelayMs: number;
}

function elapsedUs(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1000;
}

async function createPairs(nl: Netlink, pairs: number, mode: CreateMode): Promise<void> {
  const vxlan = (k: number) => ({
    name: pairNames(k).vxlan, vni: k, group: vxlanGroupForId(k), dev: UNDERLAY, port: 4789, ttl: 5,
    master: pairNames(k).bridge, up: true,
  });
  if (mode === 'sequential') {
    for (let k = 1; k <= pairs; k++) {
      await nl.createBridge({ name: pairNames(k).bridge, up: true });
      await nl.createVxlan(vxlan(k));
    }
    return;
  }
  // Every bridge in one batch, then every vxlan in one batch: `master` is resolved when the
  // call is made, so a vxlan can only be sent once its bridge exists (bench/FINDINGS.md shows
  // the extra round trip costs nothing measurable).
  const ks = Array.from({ length: pairs }, (_, i) => i + 1);
  await Promise.all(ks.map((k) => nl.createBridge({ name: pairNames(k).bridge, up: true })));
  await Promise.all(ks.map((k) => nl.createVxlan(vxlan(k))));
}

/**
 * Creates `pairs` pairs and deletes them with deleteLinks, in namespace `netns`, and checks
 * with a dump that all 2N links existed and that none is left.
 */
export async function runLibrary(netns: string, pairs: number, mode: CreateMode): Promise<LibraryResult> {
  await using nl = await Netlink.open({ netns });
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  let createUs: number;
  let deleteUs: number;
  try {
    const created = process.hrtime.bigint();
    await createPairs(nl, pairs, mode);
    createUs = elapsedUs(created);
    histogram.disable();
    const made = (await nl.listLinks()).filter((l) => /^(br|vx)\d+$/u.test(l.name));
    const enslaved = made.filter((l) => l.kind === 'vxlan' && l.master !== undefined && l.up).length;
    if (made.length !== 2 * pairs || enslaved !== pairs) {
      throw new Error(`the library made ${made.length} links (${enslaved} vxlans enslaved and up), expected ${2 * pairs} (${pairs})`);
    }
    histogram.enable();
    const names = [];
    for (let k = 1; k <= pairs; k++) names.push(pairNames(k).vxlan, pairNames(k).bridge);
    const deleted = process.hrtime.bigint();
    await nl.deleteLinks(names);
    deleteUs = elapsedUs(deleted);
  } finally {
    histogram.disable();
  }
  const left = (await nl.listLinks()).filter((l) => /^(br|vx)\d+$/u.test(l.name)).length;
  if (left !== 0) throw new Error(`deleteLinks left ${left} of the benchmark's links`);
  return { mode, createUs, deleteUs, eventLoopMaxDelayMs: histogram.max / 1e6 };
}
