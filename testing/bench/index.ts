/**
 * The link-churn benchmark as a library, for `npm run bench` and the
 * `vmplumb bench churn` command: {@link runChurn} measures, {@link formatChurnReport} prints.
 */
export { runChurn, churnDefaults, CONTENDERS, TARGETS } from './churn.js';
export type { ChurnOptions, ChurnReport, Contender, ContenderReport } from './churn.js';
export { formatChurnReport, formatSummary, checkTargets } from './format.js';
export { FLOOR_DELETES, buildFloor, defaultFloorSource } from './floor.js';
export type { FloorDelete, FloorResult } from './floor.js';
export { liveNamespaces } from './namespace.js';
export { median, summarize, relativeSpread } from './stats.js';
export type { Summary } from './stats.js';
