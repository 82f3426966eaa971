/**
 * qemu with inherited tap fds and a QMP client. See ./qemu.ts (lifecycle, hot-plug),
 * ./spec.ts (the spec), ./argv.ts (the command line), ./qmp.ts (the protocol).
 */
export { Qemu } from './qemu.js';
export { QemuExitedError } from './errors.js';
export type { AddNicOptions, AttachOptions, QemuExit, QemuNicInfo, RemoveNicOptions, ShutdownOptions } from './qemu.js';
export { listVms } from './list.js';
export type { ListVmsOptions, VmListEntry, VmState } from './list.js';
export type { QemuDisk, QemuNic, QemuSpec } from './spec.js';
export { buildQemuArgs } from './argv.js';
export type { ArgvInput, ArgvNic } from './argv.js';
export { QmpClient, QmpError } from './qmp.js';
export type { ExecuteOptions, QmpErrorCode, QmpEvent, QmpGreeting } from './qmp.js';
export { kvmWorks } from './accel.js';
export type { Accel, KvmProbeOptions, ResolvedAccel } from './accel.js';
