/**
 * vmplumb: the plumbing between a Linux host and its virtual machines.
 *
 * See README.md for a tour; every export below has its own TSDoc.
 */
export {};
export { Netlink, NetlinkError, vxlanGroupForId } from './netlink/index.js';
export type * from './netlink/types.js';
