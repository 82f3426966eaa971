/**
 * The public types of the rtnetlink API: what the calls take and what they return.
 *
 * Names follow `ip link`/`ip addr`/`bridge fdb` (ip-link(8), bridge(8)) and the kernel's
 * include/uapi/linux/if_link.h, in camelCase. Other modules (VxlanNetwork, the router
 * advertiser) code against these shapes: change them only compatibly.
 */
import type { NetnsOption } from '../netns.js';

/** A link given by name or by ifindex. */
export type LinkRef = string | number;

/** Options of {@link Netlink.open}. */
export interface NetlinkOpenOptions {
  /** The network namespace to work in: a name (/run/netns/NAME), a path or an open fd. */
  netns?: NetnsOption;
}

/** Options shared by every link-creating call. */
export interface CreateLinkCommon {
  /** Interface name, 1-15 bytes. */
  name: string;
  /** Enslave to this bridge in the same request (IFLA_MASTER). */
  master?: LinkRef;
  /** Create the link already up (IFF_UP in the same request). */
  up?: boolean;
  /** MTU in bytes. */
  mtu?: number;
  /** MAC address (`02:00:00:00:00:01`); the kernel picks a random one otherwise. */
  mac?: string;
  /** The link group (IFLA_GROUP, `ip link … group N`); 0 by default. Named apart from vxlan's `group`. */
  linkGroup?: number;
}

/** `ip link add NAME type vxlan …` (ip-link(8) VXLAN Type Support). */
export interface CreateVxlanOptions extends CreateLinkCommon {
  /** VXLAN network identifier, 0-16777215 (`id`). */
  vni: number;
  /** Multicast group to join (`group`), IPv4 or IPv6; excludes `remote`. Needs `dev`. */
  group?: string;
  /** Unicast remote endpoint (`remote`); excludes `group`. */
  remote?: string;
  /** Source address of outgoing packets (`local`), IPv4 or IPv6. */
  local?: string;
  /** Underlay device (`dev`), by name or index. Required by the kernel with a multicast group. */
  dev?: LinkRef;
  /** UDP destination port (`dstport`); 4789 by default (as `ip`, not the kernel's 8472). */
  port?: number;
  /** UDP source port range (`srcport MIN MAX`). */
  portRange?: { low: number; high: number };
  /** TTL of outgoing packets (`ttl`), 1-255; 0 = inherit from the inner packet is `ttl: 'inherit'`. */
  ttl?: number | 'inherit';
  /** TOS of outgoing packets (`tos`), 0-255; 1 means inherit. */
  tos?: number;
  /** Don't-fragment policy (`df`). */
  df?: 'unset' | 'set' | 'inherit';
  /** IPv6 flow label (`flowlabel`), 0-0xfffff. */
  label?: number;
  /** Learn remote MACs into the FDB (`[no]learning`); true by default, as `ip`. */
  learning?: boolean;
  /** ARP/ND proxy (`[no]proxy`). */
  proxy?: boolean;
  /** Route short-circuiting (`[no]rsc`). */
  rsc?: boolean;
  /** Netlink LLADDR miss notifications (`[no]l2miss`). */
  l2miss?: boolean;
  /** Netlink IP address miss notifications (`[no]l3miss`). */
  l3miss?: boolean;
  /** UDP checksums over IPv4 (`[no]udpcsum`). */
  udpCsum?: boolean;
  /** Skip UDP checksum calculation when sending over IPv6 (`[no]udp6zerocsumtx`). */
  udpZeroCsum6Tx?: boolean;
  /** Accept zero UDP checksums over IPv6 (`[no]udp6zerocsumrx`). */
  udpZeroCsum6Rx?: boolean;
  /** FDB entry lifetime in seconds (`ageing`). */
  ageing?: number;
  /** Maximum number of FDB entries (`maxaddress`), 0 = unlimited. */
  limit?: number;
  /** Collect metadata / external control plane (`external`). */
  external?: boolean;
}

/** `ip link add NAME type bridge …` (ip-link(8) BRIDGE Type Support). Times are in seconds. */
export interface CreateBridgeOptions extends CreateLinkCommon {
  /** Spanning tree (`stp_state`). */
  stp?: boolean;
  /** STP forward delay in seconds (`forward_delay`), 2-30. */
  forwardDelay?: number;
  /** STP hello time in seconds (`hello_time`), 1-10. */
  helloTime?: number;
  /** STP max message age in seconds (`max_age`), 6-40. */
  maxAge?: number;
  /** FDB entry lifetime in seconds (`ageing_time`). */
  ageingTime?: number;
  /** STP bridge priority (`priority`), 0-65535. */
  priority?: number;
  /** VLAN filtering (`vlan_filtering`). */
  vlanFiltering?: boolean;
  /** Default PVID of new ports (`vlan_default_pvid`), 0-4094 (0 disables). */
  vlanDefaultPvid?: number;
  /** IGMP/MLD snooping (`mcast_snooping`). */
  mcastSnooping?: boolean;
  /** Multicast querier (`mcast_querier`). */
  mcastQuerier?: boolean;
}

/** `ip link add NAME type veth peer name PEER [netns NS]`. */
export interface CreateVethOptions extends CreateLinkCommon {
  /** The other end. */
  peer: {
    /** Peer interface name. */
    name: string;
    /** Namespace to create the peer in (name, path or fd); the same namespace otherwise. */
    netns?: NetnsOption;
    /** Peer MAC address. */
    mac?: string;
    /** Peer MTU. */
    mtu?: number;
  };
}

/** Changes applied by {@link Netlink.setLink} in one RTM_NEWLINK. */
export interface SetLinkOptions {
  /** Bring the link up (true) or down (false). */
  up?: boolean;
  /** Enslave to a bridge, or release from it with `null`. */
  master?: LinkRef | null;
  /** MTU in bytes. */
  mtu?: number;
  /** MAC address. */
  mac?: string;
  /** Rename the link. */
  name?: string;
  /** Link group (IFLA_GROUP). */
  group?: number;
}

/** VXLAN details of a link (IFLA_INFO_DATA for kind 'vxlan'). */
export interface VxlanInfo {
  vni: number;
  /** Multicast group, when the remote is a group. */
  group?: string;
  /** Unicast remote, when set. */
  remote?: string;
  /** Source address. */
  local?: string;
  /** Underlay ifindex (`dev`). */
  dev?: number;
  port: number;
  portRange?: { low: number; high: number };
  /** 0 means inherit (`ttl inherit` or unset). */
  ttl: number;
  ttlInherit: boolean;
  tos: number;
  df?: 'unset' | 'set' | 'inherit';
  label: number;
  learning: boolean;
  proxy: boolean;
  rsc: boolean;
  l2miss: boolean;
  l3miss: boolean;
  udpCsum: boolean;
  udpZeroCsum6Tx: boolean;
  udpZeroCsum6Rx: boolean;
  /** Seconds. */
  ageing: number;
  limit: number;
  external: boolean;
}

/** Bridge details of a link (IFLA_INFO_DATA for kind 'bridge'). Times in seconds. */
export interface BridgeInfo {
  stp: boolean;
  forwardDelay: number;
  helloTime: number;
  maxAge: number;
  ageingTime: number;
  priority: number;
  vlanFiltering: boolean;
  vlanDefaultPvid: number;
  mcastSnooping: boolean;
  mcastQuerier: boolean;
}

/** tun/tap details (IFLA_INFO_DATA for kind 'tun'), read only. */
export interface TunInfo {
  type: 'tun' | 'tap';
  pi: boolean;
  vnetHdr: boolean;
  persist: boolean;
  multiQueue: boolean;
  numQueues?: number;
  owner?: number;
  group?: number;
}

/** A link as RTM_NEWLINK describes it. */
export interface Link {
  index: number;
  name: string;
  /** IFLA_INFO_KIND ('vxlan', 'bridge', 'veth', 'tun', …); undefined for physical/loopback. */
  kind: string | undefined;
  /** IFF_UP (administratively up). */
  up: boolean;
  /** IFF_LOWER_UP (carrier). */
  carrier: boolean;
  /** RFC 2863 operational state, lower case: 'up', 'down', 'unknown', 'lowerlayerdown', 'dormant', … */
  operstate: string;
  /** Interface flags as `ip link` names them: ['UP', 'BROADCAST', 'MULTICAST', 'LOWER_UP', …]. */
  flags: string[];
  mtu: number;
  /** Lower case; undefined when the link has no hardware address. */
  mac: string | undefined;
  /** ifindex of the master (bridge), when enslaved. */
  master: number | undefined;
  /** IFLA_GROUP. */
  group: number;
  vxlan?: VxlanInfo;
  bridge?: BridgeInfo;
  tun?: TunInfo;
  /** The peer's namespace id (IFLA_LINK_NETNSID), for veth ends in other namespaces. */
  linkNetnsId?: number;
  /** IFLA_LINK (e.g. the veth peer's ifindex). */
  link?: number;
}

/** A link notification from {@link Netlink.linkEvents}. */
export interface LinkEvent {
  type: 'new' | 'del';
  link: Link;
}

/** Options of {@link Netlink.listLinks}. */
export interface ListLinksOptions {
  /** Only links of this IFLA_INFO_KIND ('vxlan', 'bridge', …). */
  kind?: string;
  /** Only links enslaved to this master. */
  master?: LinkRef;
}

/** Address flags (IFA_F_*). */
export interface AddressFlags {
  tentative: boolean;
  dadfailed: boolean;
  nodad: boolean;
  permanent: boolean;
  deprecated: boolean;
  optimistic: boolean;
}

/** An address as RTM_NEWADDR describes it. */
export interface Address {
  index: number;
  family: 4 | 6;
  address: string;
  prefixLength: number;
  /** 'universe', 'site', 'link', 'host' (or the number as a string). */
  scope: string;
  flags: AddressFlags;
  /** IFA_LABEL (IPv4). */
  label?: string;
  /** Seconds; undefined = forever. */
  validLifetime?: number;
  preferredLifetime?: number;
}

/** An address notification from {@link Netlink.addressEvents}. */
export interface AddressEvent {
  type: 'new' | 'del';
  address: Address;
}

/** Options of {@link Netlink.addAddress}. */
export interface AddAddressOptions {
  /** Skip duplicate address detection (IFA_F_NODAD, IPv6). */
  nodad?: boolean;
  /** Don't add the prefix route (IFA_F_NOPREFIXROUTE). */
  noprefixroute?: boolean;
  /** 'universe' (default), 'site', 'link', 'host'. */
  scope?: 'universe' | 'site' | 'link' | 'host';
  /** Lifetimes in seconds (IFA_CACHEINFO); forever by default. */
  validLifetime?: number;
  preferredLifetime?: number;
  /** Replace an existing address instead of failing with EEXIST. */
  replace?: boolean;
  /** IPv4 label. */
  label?: string;
}

/** Options of event iterables. */
export interface EventOptions {
  /** First yield 'new' for everything present, then the changes (no race in between). */
  existing?: boolean;
  /**
   * Bytes the kernel may queue for this iterable before it drops notifications (then the
   * iterable re-dumps); 32 MiB by default, which holds thousands of link notifications.
   */
  receiveBuffer?: number;
}

/** A bridge FDB entry (`bridge fdb add MAC dev LINK dst IP vni N port P self|master`). */
export interface FdbEntryOptions {
  /** The port device (e.g. the vxlan). */
  link: LinkRef;
  mac: string;
  /** Remote VTEP address (vxlan). */
  dst?: string;
  /** VNI of the remote. */
  vni?: number;
  /** UDP port of the remote. */
  port?: number;
  /** NLM_F_APPEND: add another remote for the same MAC (e.g. 00:00:00:00:00:00 flooding). */
  append?: boolean;
  /** Add to the master's FDB (NTF_MASTER). */
  master?: boolean;
  /** Add to the device's own FDB (NTF_SELF); the default when `master` is not set. */
  self?: boolean;
  /** 'permanent' (default), 'static' or 'dynamic'. */
  state?: 'permanent' | 'static' | 'dynamic';
}

/** An FDB entry as RTM_NEWNEIGH (AF_BRIDGE) describes it. */
export interface FdbEntry {
  index: number;
  mac: string;
  dst?: string;
  vni?: number;
  port?: number;
  master?: number;
  vlan?: number;
  self: boolean;
  /** Entry flags: 'self', 'master', 'extern_learn', … */
  flags: string[];
  state: string;
}

/** Options of {@link Netlink.listFdb}. */
export interface ListFdbOptions {
  /** Only entries of this port device. */
  link?: LinkRef;
  /** Only entries of ports of this bridge. */
  master?: LinkRef;
}

/** A route (`ip route add PREFIX [via GW] [dev LINK] [metric N] [table T]`). */
export interface RouteOptions {
  /** `2001:db8::/64`, `default` is `::/0` or `0.0.0.0/0`. */
  destination: string;
  gateway?: string;
  dev?: LinkRef;
  metric?: number;
  table?: number;
  /** Route type: 'unicast' (default), 'blackhole', 'unreachable', 'prohibit', 'local'. */
  type?: 'unicast' | 'blackhole' | 'unreachable' | 'prohibit' | 'local';
  /** Preferred source. */
  source?: string;
  /** Replace an existing route. */
  replace?: boolean;
}

/** A route as RTM_NEWROUTE describes it. */
export interface Route {
  family: 4 | 6;
  destination: string;
  gateway?: string;
  dev?: number;
  metric?: number;
  table: number;
  type: string;
  protocol: string;
  scope: string;
  source?: string;
}

/** Options of {@link Netlink.listRoutes}. */
export interface ListRoutesOptions {
  family?: 4 | 6;
  /** Table id; 254 (main) by default, 0 for all. */
  table?: number;
  dev?: LinkRef;
}
