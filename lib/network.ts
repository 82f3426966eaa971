/**
 * VxlanNetwork: one call makes network N on a host (vxlan + bridge + router address + router
 * advertisements), one call starts a VM in it. See ./network/vxlan-network.ts.
 */
export { VxlanNetwork, NetworkSetupError } from './network/vxlan-network.js';
export type { DestroyNetworkOptions, VxlanNetworkEvents, SkippedVm } from './network/vxlan-network.js';
export type { CleanupOptions, CleanupReport, InventoryOptions, NetworkCondition, NetworkListEntry } from './network/inventory.js';
export { NetworkVm } from './network/vm.js';
export type { StopVmOptions } from './network/vm.js';
export { tapNameForVm } from './network/vm-options.js';
export type * from './network/types.js';
