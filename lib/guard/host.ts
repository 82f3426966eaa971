/**
 * Guards across a host's namespaces, for `VxlanNetwork.cleanup()` (`vmplumb gc`): the run
 * directory says which namespaces hold vmplumb's networks and guarded VMs; in each, the
 * guards whose port is gone are removed (pruneGuards). A guard whose tap exists stays, running
 * VM or not: the kernel is the truth about ports, and only a gone port proves a guard dead.
 */
import { readdirSync } from 'node:fs';

import { listNetworkFiles } from '../state/network-record.js';
import { resolveRunDir } from '../state/run-dir.js';
import { vmRoot } from '../state/run-dir.js';
import { readVmRecord, vmFolder } from '../state/vm-folder.js';
import { netnsOfKey } from '../netns.js';
import { checkObject } from '../validate.js';
import { pruneGuards } from './secure-port.js';

/** Every namespace the run directory names: its networks' and its VMs' guards' (undefined: the current one). */
async function recordedNamespaces(runDir: string): Promise<Set<string | undefined>> {
  const namespaces = new Set<string | undefined>(listNetworkFiles(runDir).map((n) => netnsOfKey(n.netnsKey)));
  let names: string[] = [];
  try {
    names = readdirSync(vmRoot(runDir));
  } catch {
    // no VM folder yet
  }
  for (const name of names) {
    const record = await readVmRecord(vmFolder(runDir, name)).catch(() => undefined);
    for (const nic of record?.nics ?? []) if (nic.guard) namespaces.add(nic.guard.netns);
  }
  return namespaces;
}

/**
 * Removes the guards whose port is gone in every namespace the run directory knows; returns
 * them as `<port>` (current namespace) or `<namespace>:<port>`. A namespace that no longer
 * exists is skipped (its guards went with it).
 */
export async function pruneRecordedGuards(options: { runDir?: string } = {}): Promise<string[]> {
  const runDir = resolveRunDir(checkObject('options', options).runDir);
  const pruned: string[] = [];
  for (const netns of await recordedNamespaces(runDir)) {
    try {
      const ports = await pruneGuards(netns === undefined ? {} : { netns });
      pruned.push(...ports.map((p) => (netns === undefined ? p : `${netns}:${p}`)));
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENOENT') throw error;
    }
  }
  return pruned;
}
