/**
 * The VM bookkeeping of one VxlanNetwork. Made on the network's first startVm() or adopted
 * VM: a host serving thousands of networks, most without a VM of this process, would
 * otherwise hold one Map and three Sets per network (~650 bytes; heap snapshot at 1,024
 * networks).
 */
import type { NetworkVm } from './vm.js';

/** The VMs of one network, the ids and taps being started, and the starts in flight. */
export class VmBook {
  /** Running VMs by id. */
  readonly vms = new Map<number, NetworkVm>();
  /** Ids of VMs being started (not in `vms` yet). */
  readonly starting = new Set<number>();
  /** Tap names of running and starting VMs. */
  readonly usedTaps = new Set<string>();
  /** startVm() calls not settled yet: destroy() waits for them. */
  readonly inFlight = new Set<Promise<void>>();
}
