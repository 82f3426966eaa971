/**
 * The production {@link NetworkStatePort}: network records and locks from lib/state, and
 * the network's VMs found among the run directory's VM folders by the metadata startVm wrote
 * in their spec.json, taken over with Qemu.attach.
 */
import { adoptGuard } from '../guard/index.js';
import { listVms, Qemu } from '../qemu/index.js';
import { lockNetworkAsync, lockNetworkRaAsync, networkFiles, readNetworkRecord, removeNetworkRecord, writeNetworkRecord } from '../state/network-record.js';
import { waitForLock } from '../state/lock-wait.js';
import { resolveRunDir } from '../state/run-dir.js';
import type { AdoptedVm, NetworkStatePort, NetworkVmMetadata } from './deps.js';

/** The metadata of a network VM, or undefined for a VM of no (or another) network. */
export function networkVmMetadata(metadata: unknown, netnsKey: string, id: number): NetworkVmMetadata | undefined {
  const m = metadata as Partial<NetworkVmMetadata> | undefined;
  if (!m?.network || !m.vm || m.network.id !== id || m.network.netnsKey !== netnsKey) return undefined;
  return m as NetworkVmMetadata;
}

/** See {@link NetworkStatePort.adoptVms}. */
async function adoptVms(runDir: string, netnsKey: string, id: number): Promise<{ vms: AdoptedVm[]; skipped: Array<{ name: string; reason: string }> }> {
  const vms: AdoptedVm[] = [];
  const skipped: Array<{ name: string; reason: string }> = [];
  const entries = (await listVms({ runDir, status: false })).filter((e) => networkVmMetadata(e.record?.metadata, netnsKey, id));
  await Promise.all(
    entries.map(async (entry) => {
      const metadata = networkVmMetadata(entry.record?.metadata, netnsKey, id) as NetworkVmMetadata;
      if (entry.pid === undefined) {
        skipped.push({
          name: entry.name,
          reason: entry.state === 'starting' ? 'being started by another process' : 'no qemu runs (cleanup removes its folder)',
        });
        return;
      }
      try {
        const qemu = await Qemu.attach(entry.name, { runDir });
        const guard = qemu.nics.find((n) => n.tapName === metadata.vm.tap)?.guard;
        vms.push({ qemu, metadata, ...(guard === undefined ? {} : { guard: adoptGuard(guard) }) });
      } catch (error) {
        skipped.push({ name: entry.name, reason: error instanceof Error ? error.message : String(error) });
      }
    }),
  );
  return { vms, skipped };
}

/** The run directory as networks use it. */
export const systemState: NetworkStatePort = {
  resolveRunDir: (value) => resolveRunDir(value),
  files: networkFiles,
  lock: lockNetworkAsync,
  lockRa: lockNetworkRaAsync,
  waitRa: (files, options) => waitForLock(files.raLock, () => lockNetworkRaAsync(files), options),
  read: readNetworkRecord,
  write: writeNetworkRecord,
  remove: removeNetworkRecord,
  adoptVms,
};
