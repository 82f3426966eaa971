/**
 * Every recorded network of the host, checked against the kernel and the lock holders
 * (`VxlanNetwork.list`), and the removal of what crashed processes left half-made
 * (`VxlanNetwork.cleanup`, `vmplumb gc`). State on disk is a cache of the truth: each entry
 * says what the kernel and /proc say, and cleanup only removes what provably has no owner —
 * never a VM whose qemu runs, never a network a live process manages.
 */
import { pruneRecordedGuards } from '../guard/host.js';
import { listVms, type VmListEntry } from '../qemu/list.js';
import { tryLock } from '../state/lock.js';
import { isLocked } from '../state/lock.js';
import { listNetworkFiles, readNetworkRecord, removeNetworkRecord, removeNetworkTempFiles, type NetworkRecord } from '../state/network-record.js';
import { resolveRunDir } from '../state/run-dir.js';
import { removeVmFolder, vmFolder } from '../state/vm-folder.js';
import { netnsOfKey, resolveNetns } from '../netns.js';
import { checkObject, invalidValue } from '../validate.js';
import { removeOrphanLinks } from './orphan-links.js';
import { sharedAdvertisers } from './advertisers.js';
import { sendFinalRa, waitForRaLock } from './final-ra.js';
import type { NetlinkPort, NetworkDeps } from './deps.js';
import { linkProblems, removeRemnants } from './records.js';
import { networkVmMetadata } from './state.js';

/**
 * How a recorded network stands: 'ok' (ready, links as recorded), 'broken' (ready but the
 * kernel disagrees: see `problems`), 'in-progress' (a live process is creating or destroying
 * it), 'incomplete' (a process died creating or destroying it: cleanup removes it).
 */
export type NetworkCondition = 'ok' | 'broken' | 'in-progress' | 'incomplete';

/** One network of {@link VxlanNetwork.list}. */
export interface NetworkListEntry {
  /** The network id (the VNI). */
  id: number;
  /** The namespace (path), or undefined for the host's. */
  netns: string | undefined;
  /** Whether record and kernel agree and whether anyone works on it (see {@link NetworkCondition}). */
  condition: NetworkCondition;
  /** What the record says ('creating', 'ready', 'destroying'). */
  recordState: NetworkRecord['state'] | undefined;
  /** Whether a live process manages it. */
  managed: boolean;
  /** Whether a live process sends its router advertisements. */
  advertised: boolean;
  /** Disagreements between the record and the kernel, in words. */
  problems: string[];
  /** Its VMs (names) and their states. */
  vms: Array<{
    /** The VM's name. */
    name: string;
    /** Its state, as `Qemu.list()` reports it. */
    state: VmListEntry['state'];
    /** qemu's pid, when proven to be this VM's. */
    pid: number | undefined;
  }>;
  /** The network's /64, from the record. */
  prefix: string | undefined;
  /** The bridge's name, from the record. */
  bridge: string | undefined;
  /** The vxlan's name, from the record (none for a joined network). */
  vxlan: string | undefined;
}

/** Options of list and cleanup. */
export interface InventoryOptions {
  /** The run directory; default $VMPLUMB_RUN_DIR or /run/vmplumb. */
  runDir?: string;
}

/** Options of cleanup. */
export interface CleanupOptions extends InventoryOptions {
  /**
   * More namespaces (names under /run/netns or paths) to look for marked links of networks
   * with no record in. The current namespace and those the run directory names are always
   * looked at; a namespace whose last record went is named by nothing else.
   */
  netns?: string | string[];
}

/** What cleanup removed. */
export interface CleanupReport {
  /** VM folders of VMs with no qemu. */
  vms: string[];
  /** Networks a crashed create or destroy left ('<netns-key>/<id>'), with what of them was removed. */
  networks: string[];
  /** Leftover temp files of killed writers. */
  files: string[];
  /**
   * Links of networks with no record ('<netns>/<link>', 'host/…' for the current namespace),
   * known as ours by their mark (alias `vmplumb:net:<id>:<runDir>`).
   */
  links: string[];
  /** Port-security guards whose port is gone (`<port>` or `<namespace>:<port>`; lib/guard pruneRecordedGuards). */
  guards: string[];
}

async function withNetlink<T>(deps: NetworkDeps, netns: string | undefined, fn: (nl: NetlinkPort) => Promise<T>): Promise<T> {
  const nl = await deps.openNetlink(netns);
  try {
    return await fn(nl);
  } finally {
    await nl.close();
  }
}

/** Every recorded network with its condition (see {@link NetworkListEntry}). */
export async function listNetworks(deps: NetworkDeps, options: InventoryOptions = {}): Promise<NetworkListEntry[]> {
  const runDir = resolveRunDir(checkObject('options', options).runDir);
  const vms = await listVms({ runDir, status: false });
  const out: NetworkListEntry[] = [];
  for (const { netnsKey, id, files } of listNetworkFiles(runDir)) {
    const record = await readNetworkRecord(files).catch(() => undefined);
    const managed = isLocked(files.lock);
    const advertised = isLocked(files.raLock);
    const problems: string[] = [];
    let condition: NetworkCondition;
    if (!record) {
      problems.push(`unreadable record ${files.record}`);
      condition = 'broken';
    } else if (record.state !== 'ready') {
      condition = managed ? 'in-progress' : 'incomplete';
    } else {
      problems.push(
        ...(await withNetlink(deps, record.netns, (nl) => linkProblems(nl, record, runDir)).catch((e: unknown) => [`cannot check its links: ${String(e)}`])),
      );
      condition = problems.length === 0 ? 'ok' : 'broken';
    }
    out.push({
      id,
      netns: netnsOfKey(netnsKey),
      condition,
      recordState: record?.state,
      managed,
      advertised,
      problems,
      vms: vms.filter((v) => networkVmMetadata(v.record?.metadata, netnsKey, id)).map((v) => ({ name: v.name, state: v.state, pid: v.pid })),
      prefix: record?.prefix,
      bridge: record?.bridge,
      vxlan: record?.vxlan,
    });
  }
  return out;
}

/**
 * Removes what is half-made and has no owner: VM folders with no qemu (and their tap, if one
 * lingers), networks whose create or destroy died half-way (their VMs, links and record),
 * marked links of networks with no record (./orphan-links.ts), temp files of killed writers. Healthy VMs and networks, and anything a live process holds
 * the lock of, are left alone.
 */
export async function cleanupHost(deps: NetworkDeps, options: CleanupOptions = {}): Promise<CleanupReport> {
  const o = checkObject('options', options);
  const runDir = resolveRunDir(o.runDir);
  const given = (o.netns === undefined ? [] : Array.isArray(o.netns) ? (o.netns as unknown[]) : [o.netns]).map((v, i) => {
    const path = resolveNetns(Array.isArray(o.netns) ? `netns[${i}]` : 'netns', v);
    if (typeof path !== 'string') throw invalidValue('netns', 'namespace names or paths', o.netns);
    return path;
  });
  const report: CleanupReport = { vms: [], networks: [], files: [], links: [], guards: [] };
  for (const { netnsKey, id, files } of listNetworkFiles(runDir)) {
    const record = await readNetworkRecord(files).catch(() => undefined);
    if (!record || record.state === 'ready') continue;
    const lock = tryLock(files.lock);
    if (!lock) continue; // a live process is on it
    // The RA lock too, so that nobody advertises the bridge while its final RA goes out.
    const raLock = record.ra === false ? undefined : await waitForRaLock(deps.state!, files);
    try {
      const finalRa = async (r: NetworkRecord): Promise<boolean> => (await sendFinalRa(sharedAdvertisers, deps, r)) === 'sent';
      const removed = await withNetlink(deps, record.netns, (nl) => removeRemnants(nl, record, deps.state!, runDir, finalRa));
      await removeNetworkRecord(files);
      report.networks.push(`${netnsKey}/${id}${removed.length > 0 ? ` (${removed.join(', ')})` : ''}`);
    } finally {
      raLock?.release();
      lock.release();
    }
  }
  for (const vm of await listVms({ runDir, status: false })) {
    if (vm.state !== 'shutoff') continue;
    const folder = vmFolder(runDir, vm.name);
    const lock = tryLock(folder.lock);
    if (!lock) continue;
    try {
      const meta = vm.record?.metadata as { network?: { netnsKey?: string }; vm?: { tap?: string } } | undefined;
      const tap = meta?.vm?.tap;
      const netnsKey = meta?.network?.netnsKey;
      if (tap && netnsKey) {
        // A tap whose qemu is gone lingers only if something made it persistent: remove it.
        await withNetlink(deps, netnsOfKey(netnsKey), async (nl) => {
          const link = await nl.getLink(tap);
          if (link?.kind === 'tun') await nl.deleteLink(tap);
        }).catch(() => undefined);
      }
      removeVmFolder(folder);
      report.vms.push(vm.name);
    } finally {
      lock.release();
    }
  }
  report.links.push(...(await removeOrphanLinks(deps, runDir, given)));
  report.files.push(...removeNetworkTempFiles(runDir));
  report.guards.push(...(await pruneRecordedGuards({ runDir })));
  return report;
}
