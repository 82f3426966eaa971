/**
 * vmplumb: the plumbing between a Linux host and its virtual machines.
 *
 * See README.md for a tour; every export below has its own TSDoc.
 */
export {};
export { Netlink, NetlinkError, vxlanGroupForId } from './netlink/index.js';
export type * from './netlink/types.js';
export { openTap, Tap } from './tap.js';
export type { TapOptions } from './tap.js';
export { macForVm, eui64Address } from './mac.js';
export { Qemu, QemuExitedError, QmpClient, QmpError, buildQemuArgs } from './qemu/index.js';
export type {
  Accel,
  ResolvedAccel,
  QemuDisk,
  QemuExit,
  QemuNic,
  QemuNicInfo,
  QemuSpec,
  ShutdownOptions,
  AddNicOptions,
  RemoveNicOptions,
  QmpEvent,
  QmpGreeting,
  QmpErrorCode,
  ExecuteOptions,
  AttachOptions,
  ListVmsOptions,
  VmListEntry,
  VmState,
} from './qemu/index.js';
export { VxlanNetwork, NetworkSetupError, NetworkVm, tapNameForVm } from './network.js';
export { StateRecordError } from './state/record.js';
export type {
  VxlanNetworkOptions,
  JoinNetworkOptions,
  NetworkRaOptions,
  SharedAdvertiser,
  AdvertisedInterface,
  StartVmOptions,
  VmDisk,
  VmExit,
  VmExitEvent,
  DestroyNetworkOptions,
  VxlanNetworkEvents,
  StopVmOptions,
  VmPortSecurity,
  OpenNetworkOptions,
  SkippedVm,
  CleanupOptions,
  CleanupReport,
  InventoryOptions,
  NetworkCondition,
  NetworkListEntry,
} from './network.js';
export { KernelLimitError } from './network/kernel-limits.js';
export { RaService } from './network/ra-service.js';
export type { RaServiceOptions, RaServiceEvents } from './network/ra-service.js';
export { DEFAULT_RUN_DIR } from './state/run-dir.js';
export {
  securePort,
  securePorts,
  removeGuards,
  listGuards,
  pruneGuards,
  guardCounters,
  adoptGuard,
  guardTable,
  PortGuard,
  GUARD_TABLE,
  GUARD_SHARDS,
} from './guard/index.js';
export type { GuardCounter, GuardedPort, GuardRecord, SecurePortOptions, BandwidthLimit } from './guard/index.js';
export type { GuardPort } from './network/deps.js';
export { RouterAdvertiser, parseRadvdConf, RadvdConfError, RaError, formatMetrics, METRICS_CONTENT_TYPE } from './ra/index.js';
export type {
  RouterAdvertiserOptions,
  RouterAdvertiserEvents,
  RaInterfaceConfig,
  RaPrefixConfig,
  RaRdnssConfig,
  RaDnsslConfig,
  RaRouteConfig,
  RaPref64Config,
  RaInterfaceStats,
  RaSentEvent,
  RaReceivedEvent,
  Lifetime,
  Preference,
  ParseRadvdConfOptions,
  RadvdConfWarning,
} from './ra/index.js';
export { FINAL_RA_CHANNEL, NETLINK_TRACING_CHANNEL } from './diagnostics.js';
export type { FinalRaMessage, FinalRaOutcome, NetlinkRequestMessage } from './diagnostics.js';
export { ERROR_CODES, SystemCallError, VmplumbError } from './errors.js';
export type { VmplumbErrorCode } from './errors.js';
