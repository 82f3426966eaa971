/**
 * The part of `VxlanNetwork.cleanup()` (`vmplumb gc`) that needs no record: links of a
 * network whose record is gone — deleted by hand, or lost to a process killed between
 * making links and writing it — found by the mark create leaves on them (their alias,
 * lib/state/link-mark.ts) and removed, while links without our mark (an operator's br100)
 * are never touched. A link left under its staging name by a create killed before naming it
 * (./staged-link.ts) is as marked: its name says network and run directory.
 *
 * Namespaces looked at: the current one, every namespace a network record or a VM folder of
 * the run directory names, and those given as the `netns` option (a namespace whose last
 * record went is known to nobody else). A marked network is left alone while a record of it
 * exists (the record says what it is), while a live process holds its manager lock (it is
 * being created or managed right now: create takes the lock before its first link), and
 * while a VM of it runs (removing its bridge would cut a guest off).
 */
import { existsSync } from 'node:fs';

import { debug } from '../diagnostics.js';
import { CURRENT_NETNS_KEY, netnsIdentity, netnsOfKey } from '../netns.js';
import { listVms } from '../qemu/list.js';
import { markedNetworkId, stagedLink } from '../state/link-mark.js';
import type { FileLock } from '../state/lock.js';
import { listNetworkFiles, lockNetwork, networkFiles, removeNetworkRecord } from '../state/network-record.js';
import type { Link } from '../netlink/types.js';
import type { NetworkDeps } from './deps.js';

/** One namespace to look at: how to open it and every key the run directory may know it by. */
interface Namespace {
  netns: string | undefined;
  keys: Set<string>;
}

/** The namespace's identity (lib/netns.ts), or undefined when it is gone. */
function identity(netns: string | undefined): string | undefined {
  try {
    return netnsIdentity(netns);
  } catch {
    return undefined;
  }
}

/** The namespaces to look at, each once however many paths name it. */
function namespaces(runDir: string, vmKeys: string[], given: string[]): Namespace[] {
  const byIdentity = new Map<string, Namespace>();
  const add = (key: string): void => {
    const netns = netnsOfKey(key);
    const id = identity(netns);
    if (id === undefined) return; // the namespace is gone, and its links with it
    const ns = byIdentity.get(id);
    if (ns) ns.keys.add(key);
    else byIdentity.set(id, { netns, keys: new Set([key]) });
  };
  add(CURRENT_NETNS_KEY);
  for (const { netnsKey } of listNetworkFiles(runDir)) add(netnsKey);
  for (const key of vmKeys) add(key);
  for (const path of given) add(path);
  return [...byIdentity.values()];
}

/**
 * Removes the marked links of networks with no record and no owner (see the file header);
 * returns them as '<netns>/<link>' ('host/br100' for the current namespace).
 */
export async function removeOrphanLinks(deps: NetworkDeps, runDir: string, given: string[]): Promise<string[]> {
  const vms = await listVms({ runDir, status: false });
  const vmNetwork = (v: (typeof vms)[number]): { id?: number; netnsKey?: string } | undefined =>
    (v.record?.metadata as { network?: { id?: number; netnsKey?: string } } | undefined)?.network;
  const vmKeys = vms.map((v) => vmNetwork(v)?.netnsKey).filter((k): k is string => typeof k === 'string');
  const removed: string[] = [];
  for (const ns of namespaces(runDir, vmKeys, given)) {
    const label = ns.netns ?? 'host';
    const nl = await deps.openNetlink(ns.netns);
    try {
      if (!nl.listLinks) continue;
      const byId = new Map<number, Link[]>();
      for (const link of await nl.listLinks({})) {
        const id = markedNetworkId(link.alias, runDir) ?? stagedLink(link.name, runDir)?.id;
        if (id !== undefined) byId.set(id, [...(byId.get(id) ?? []), link]);
      }
      for (const [id, links] of byId) {
        const recorded = (): boolean => [...ns.keys].some((key) => existsSync(networkFiles(runDir, key, id).record));
        if (recorded()) continue;
        const running = vms.find((v) => v.state !== 'shutoff' && vmNetwork(v)?.id === id && ns.keys.has(vmNetwork(v)?.netnsKey ?? ''));
        if (running) {
          debug('gc: %s: links of network %d kept: VM %s runs in it', label, id, running.name);
          continue;
        }
        // The manager lock under every key of the namespace: held means a create or a manager is at work.
        const held: Array<{ key: string; lock: FileLock }> = [];
        try {
          const all = [...ns.keys].every((key) => {
            const lock = lockNetwork(networkFiles(runDir, key, id));
            if (lock) held.push({ key, lock });
            return lock !== undefined;
          });
          if (!all || recorded()) continue;
          // The vxlan first (reverse order of the set-up), then the bridge.
          for (const link of [...links].sort((a, b) => Number(b.kind === 'vxlan') - Number(a.kind === 'vxlan'))) {
            try {
              await nl.deleteLink(link.index);
            } catch (error) {
              if ((error as { code?: string }).code !== 'ENODEV') throw error;
            }
            removed.push(`${label}/${link.name}`);
          }
        } finally {
          // The lock files (and a folder) taking the locks made go again, while still held.
          for (const { key, lock } of held) {
            const files = networkFiles(runDir, key, id);
            if (!existsSync(files.record)) await removeNetworkRecord(files);
            lock.release();
          }
        }
      }
    } finally {
      await nl.close();
    }
  }
  return removed;
}
