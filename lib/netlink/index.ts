/**
 * rtnetlink for VM hosts: links (vxlan, bridge, veth, tun), addresses, the bridge FDB, routes
 * and link/address events. See ./netlink.ts for the class and ./types.ts for the shapes.
 */
export { Netlink } from './netlink.js';
export { vxlanGroupForId } from './vxlan-group.js';
export { NetlinkError } from '../errors.js';
export type { NetlinkErrorDetails } from '../errors.js';
export type * from './types.js';
