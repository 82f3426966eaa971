/**
 * Port security: guards on VM taps in nf_tables (see ./secure-port.ts and ./policy.ts).
 */
export { securePort, securePorts, removeGuards, listGuards, pruneGuards, guardCounters, adoptGuard, PortGuard, GUARD_TABLE } from './secure-port.js';
export type { GuardCounter, GuardedPort } from './secure-port.js';
export type { GuardRecord } from './identity.js';
export { pruneRecordedGuards } from './host.js';
export type { SecurePortOptions, BandwidthLimit } from './options.js';
