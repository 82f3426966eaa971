/**
 * The part of `VxlanNetwork.cleanup()` (`vmplumb gc`) that needs no record: links of a
 * network whose record is gone — deleted by hand, or lost to a process killed between
 * making links and writing it — found by the mark create leaves on them (their alias,
 * lib/state/link-mark.ts) and removed, while links without our mark (an operator's br100)
 * are never touched. A link a create killed before marking it left in the run directory's
 * creation group (./staged-link.ts) is removed when no record names it; one an older version
 * left under its staging name is as marked: its name says network and run directory.
 *
 * Namespaces looked at: the current one, every namespace a network record or a VM folder of
 * the run directory names, and those given as the `netns` option (a namespace whose last
 * record went is known to nobody else). A marked network is left alone while a record of it
 * exists (the record says what it is), while a live process holds its manager lock (it is
 * being created or managed right now: create takes the lock before its first link), and
 * while a VM of it runs (removing its bridge would cut a guest off).
 */
import { existsSync, readdirSync } from 'node:fs';

import { debug } from '../diagnostics.js';
import { CURRENT_NETNS_KEY, netnsIdentity, netnsOfKey } from '../netns.js';
import { listVms } from '../qemu/list.js';
import { markedNetworkId, stagedLink, unmarkedCreation } from '../state/link-mark.js';
import { isLocked, type FileLock } from '../state/lock.js';
import { listNetworkFiles, lockNetwork, networkFiles, readNetworkRecord, removeNetworkRecord } from '../state/network-record.js';
import type { Link } from '../netlink/types.js';
import type { NetlinkPort, NetworkDeps } from './deps.js';

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
 * Removes the links a create of this run directory made and never marked (in its creation
 * group, no alias: lib/state/link-mark.ts) that no record of the namespace names: a live
 * create writes its record before its first link, and the links were listed before the records
 * are read here, so such a link's creator is gone (or its record was deleted by hand). A record
 * that cannot be read, or a held manager lock whose record is gone, keeps them all. Returns
 * them as '<netns>/<link>'.
 */
async function removeUnmarked(nl: NetlinkPort, runDir: string, ns: Namespace, label: string, unmarked: Link[]): Promise<string[]> {
  if (unmarked.length === 0) return [];
  // A live process holding the manager lock of a network whose record is gone (deleted by
  // hand while it creates): its links may be among these, which keeps them all.
  for (const key of ns.keys) {
    const dir = networkFiles(runDir, key, 0).dir;
    const names = existsSync(dir) ? readdirSync(dir) : [];
    for (const name of names) {
      const m = /^(\d+)\.lock$/u.exec(name);
      if (!m) continue;
      const files = networkFiles(runDir, key, Number(m[1]));
      if (!existsSync(files.record) && isLocked(files.lock)) return [];
    }
  }
  const named = new Set<string>();
  for (const { netnsKey, files } of listNetworkFiles(runDir)) {
    if (!ns.keys.has(netnsKey)) continue;
    const record = await readNetworkRecord(files).catch(() => undefined);
    if (!record) return [];
    named.add(record.bridge);
    named.add(record.vxlan);
  }
  const removed: string[] = [];
  // The vxlan first (reverse order of the set-up), then the bridge.
  for (const link of [...unmarked].sort((a, b) => Number(b.kind === 'vxlan') - Number(a.kind === 'vxlan'))) {
    if (named.has(link.name)) continue;
    try {
      await nl.deleteLink(link.index);
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENODEV') throw error;
    }
    removed.push(`${label}/${link.name}`);
  }
  return removed;
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
      const unmarked: Link[] = [];
      for (const link of await nl.listLinks({})) {
        const id = markedNetworkId(link.alias, runDir) ?? stagedLink(link.name, runDir)?.id;
        if (id !== undefined) byId.set(id, [...(byId.get(id) ?? []), link]);
        else if (unmarkedCreation(link, runDir)) unmarked.push(link);
      }
      removed.push(...(await removeUnmarked(nl, runDir, ns, label, unmarked)));
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
