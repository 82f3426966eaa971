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
  /**
   * The link's alias (IFLA_IFALIAS, `ip link set … alias TEXT`), 1-254 bytes. The kernel
   * ignores an alias in a creating RTM_NEWLINK, so it is set by a second request right
   * after the creation is acknowledged; if that fails, the new link is removed again. (A
   * process killed between the two leaves the link without it: to have no such moment, create
   * under a temporary name and give name, alias and up at once with `Netlink#renameLink`.)
   */
  alias?: string;
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
  /** UDP source port range (`srcport MIN MAX`, IFLA_VXLAN_PORT_RANGE). */
  portRange?: {
    /** Lowest UDP source port, 1-65535. */
    low: number;
    /** Highest UDP source port, `low`-65535. */
    high: number;
  };
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
  /** The link group (IFLA_GROUP, `ip link set … group N`), as `linkGroup` on create. */
  linkGroup?: number;
  /** @deprecated Use `linkGroup` (one name on create, setLink and Link). */
  group?: number;
  /** The link's alias (IFLA_IFALIAS, `ip link set … alias TEXT`), up to 254 bytes; '' removes it. */
  alias?: string;
  /**
   * How the kernel makes the link's IPv6 link-local address when it comes up
   * (IFLA_INET6_ADDR_GEN_MODE, `ip link set … addrgenmode`). 'none' on a link that is down
   * keeps IPv6 off its wire: no link-local address, so no DAD, MLD reports or router
   * solicitations (a bridge port such as a vxlan needs none). The kernel applies it after
   * `up` within one request, so set it while the link is down, on its own.
   */
  addrGenMode?: AddrGenMode;
}

/** IPv6 address generation modes (include/uapi/linux/if_link.h `in6_addr_gen_mode`), as ip-link(8) names them. */
export type AddrGenMode = 'eui64' | 'none' | 'stable_secret' | 'random';

/** Options of Netlink.renameLink: what changes in the same request as the name. */
export interface RenameLinkOptions {
  /** The link's alias (IFLA_IFALIAS), 1-254 bytes. */
  alias?: string;
  /** Bring the link up (or down), after the rename and the alias. */
  up?: boolean;
  /**
   * IPv6 address generation (see {@link SetLinkOptions.addrGenMode}): applied after `up`
   * within the request, so give it to a link that stays down here.
   */
  addrGenMode?: AddrGenMode;
  /** The link group (IFLA_GROUP), e.g. 0 to leave the group a link was created in. */
  linkGroup?: number;
}

/** VXLAN details of a link (IFLA_INFO_DATA for kind 'vxlan'). */
export interface VxlanInfo {
  /** VXLAN network identifier, 0-16777215 (IFLA_VXLAN_ID, `id`). */
  vni: number;
  /** Multicast group, when the remote is a group. */
  group?: string;
  /** Unicast remote, when set. */
  remote?: string;
  /** Source address. */
  local?: string;
  /** Underlay ifindex (`dev`). */
  dev?: number;
  /**
   * UDP destination port (IFLA_VXLAN_PORT, `dstport`); 4789 for links vmplumb made with the
   * default.
   */
  port: number;
  /** UDP source port range (IFLA_VXLAN_PORT_RANGE, `srcport`), when set. */
  portRange?: {
    /** Lowest UDP source port. */
    low: number;
    /** Highest UDP source port. */
    high: number;
  };
  /** TTL of outgoing packets (IFLA_VXLAN_TTL), 1-255; 0 means inherit (`ttl inherit` or unset). */
  ttl: number;
  /** Whether the TTL is copied from the inner packet (IFLA_VXLAN_TTL_INHERIT, `ttl inherit`). */
  ttlInherit: boolean;
  /** TOS of outgoing packets (IFLA_VXLAN_TOS), 0-255; 1 means inherit from the inner packet. */
  tos: number;
  /**
   * Don't-fragment policy of outgoing packets (IFLA_VXLAN_DF, `df`); absent on kernels that do not
   * report it.
   */
  df?: 'unset' | 'set' | 'inherit';
  /** IPv6 flow label of outgoing packets (IFLA_VXLAN_LABEL, `flowlabel`), 0-0xfffff. */
  label: number;
  /** Whether unknown source MACs are learned into the FDB (IFLA_VXLAN_LEARNING, `[no]learning`). */
  learning: boolean;
  /** ARP/ND proxy (IFLA_VXLAN_PROXY, `[no]proxy`). */
  proxy: boolean;
  /** Route short-circuiting (IFLA_VXLAN_RSC, `[no]rsc`). */
  rsc: boolean;
  /** Netlink notifications on FDB (link-layer) misses (IFLA_VXLAN_L2MISS, `[no]l2miss`). */
  l2miss: boolean;
  /** Netlink notifications on IP neighbour misses (IFLA_VXLAN_L3MISS, `[no]l3miss`). */
  l3miss: boolean;
  /** UDP checksums when sending over IPv4 (IFLA_VXLAN_UDP_CSUM, `[no]udpcsum`). */
  udpCsum: boolean;
  /**
   * Zero UDP checksums when sending over IPv6 (IFLA_VXLAN_UDP_ZERO_CSUM6_TX, `[no]udp6zerocsumtx`).
   */
  udpZeroCsum6Tx: boolean;
  /** Zero UDP checksums accepted over IPv6 (IFLA_VXLAN_UDP_ZERO_CSUM6_RX, `[no]udp6zerocsumrx`). */
  udpZeroCsum6Rx: boolean;
  /** FDB entry lifetime in seconds (IFLA_VXLAN_AGEING, `ageing`); 300 by default in the kernel. */
  ageing: number;
  /** Maximum number of FDB entries (IFLA_VXLAN_LIMIT, `maxaddress`); 0 = unlimited. */
  limit: number;
  /**
   * Collect-metadata mode, the forwarding decided by an external control plane
   * (IFLA_VXLAN_COLLECT_METADATA, `external`).
   */
  external: boolean;
}

/** Bridge details of a link (IFLA_INFO_DATA for kind 'bridge'). Times in seconds. */
export interface BridgeInfo {
  /** Spanning tree on (IFLA_BR_STP_STATE, `stp_state`). */
  stp: boolean;
  /**
   * STP forward delay in seconds (IFLA_BR_FORWARD_DELAY, `forward_delay`; the kernel keeps
   * centiseconds).
   */
  forwardDelay: number;
  /** STP hello time in seconds (IFLA_BR_HELLO_TIME, `hello_time`). */
  helloTime: number;
  /** STP maximum message age in seconds (IFLA_BR_MAX_AGE, `max_age`). */
  maxAge: number;
  /** FDB entry lifetime in seconds (IFLA_BR_AGEING_TIME, `ageing_time`); 300 by default. */
  ageingTime: number;
  /** STP bridge priority, 0-65535 (IFLA_BR_PRIORITY, `priority`); 32768 by default. */
  priority: number;
  /** VLAN filtering on (IFLA_BR_VLAN_FILTERING, `vlan_filtering`). */
  vlanFiltering: boolean;
  /**
   * PVID given to new ports, 0-4094, 0 = none (IFLA_BR_VLAN_DEFAULT_PVID, `vlan_default_pvid`); 1
   * by default.
   */
  vlanDefaultPvid: number;
  /** IGMP/MLD snooping on (IFLA_BR_MCAST_SNOOPING, `mcast_snooping`); on by default. */
  mcastSnooping: boolean;
  /** The bridge sends IGMP/MLD queries itself (IFLA_BR_MCAST_QUERIER, `mcast_querier`). */
  mcastQuerier: boolean;
}

/** tun/tap details (IFLA_INFO_DATA for kind 'tun'), read only. */
export interface TunInfo {
  /** 'tap' (IFF_TAP, Ethernet frames) or 'tun' (IFF_TUN, IP packets) (IFLA_TUN_TYPE). */
  type: 'tun' | 'tap';
  /** Frames carry the 4-byte packet information header, i.e. IFF_NO_PI is not set (IFLA_TUN_PI). */
  pi: boolean;
  /** Frames carry a virtio-net header (IFF_VNET_HDR, IFLA_TUN_VNET_HDR), as qemu uses it. */
  vnetHdr: boolean;
  /** The device outlives its last fd (TUNSETPERSIST, IFLA_TUN_PERSIST). */
  persist: boolean;
  /** Opened with IFF_MULTI_QUEUE (IFLA_TUN_MULTI_QUEUE): one fd per queue. */
  multiQueue: boolean;
  /** Queues currently attached (IFLA_TUN_NUM_QUEUES). */
  numQueues?: number;
  /** uid allowed to attach (TUNSETOWNER, IFLA_TUN_OWNER); absent when unrestricted. */
  owner?: number;
  /** gid allowed to attach (TUNSETGROUP, IFLA_TUN_GROUP); absent when unrestricted. */
  group?: number;
}

/** A link as RTM_NEWLINK describes it. */
export interface Link {
  /** The ifindex (ifi_index), unique within the namespace. */
  index: number;
  /** Interface name (IFLA_IFNAME), 1-15 bytes. */
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
  /** MTU in bytes (IFLA_MTU). */
  mtu: number;
  /** MAC address (IFLA_ADDRESS), lower case; undefined when the link has no hardware address. */
  mac: string | undefined;
  /** ifindex of the master (bridge), when enslaved. */
  master: number | undefined;
  /** The link group (IFLA_GROUP, `ip link … group N`); 0 (default) unless set. */
  linkGroup: number;
  /** @deprecated The same as `linkGroup`; use that name. */
  group: number;
  /** The link's alias (IFLA_IFALIAS), when it has one. */
  alias?: string;
  /** VXLAN attributes, for kind 'vxlan'. */
  vxlan?: VxlanInfo;
  /** Bridge attributes, for kind 'bridge'. */
  bridge?: BridgeInfo;
  /** tun/tap attributes, for kind 'tun'. */
  tun?: TunInfo;
  /** The peer's namespace id (IFLA_LINK_NETNSID), for veth ends in other namespaces. */
  linkNetnsId?: number;
  /** IFLA_LINK (e.g. the veth peer's ifindex). */
  link?: number;
}

/** A link notification from {@link Netlink.linkEvents}. */
export interface LinkEvent {
  /** 'new' (RTM_NEWLINK: created or changed) or 'del' (RTM_DELLINK: removed). */
  type: 'new' | 'del';
  /** The link as the notification describes it (for `del`, as it was last). */
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
  /**
   * IFA_F_TENTATIVE: duplicate address detection has not finished; the address is not usable yet.
   */
  tentative: boolean;
  /** IFA_F_DADFAILED: duplicate address detection found the address in use. */
  dadfailed: boolean;
  /** IFA_F_NODAD: added without duplicate address detection. */
  nodad: boolean;
  /** IFA_F_PERMANENT: added by hand (not by SLAAC or the kernel). */
  permanent: boolean;
  /** IFA_F_DEPRECATED: its preferred lifetime is over; kept for existing connections only. */
  deprecated: boolean;
  /** IFA_F_OPTIMISTIC: usable during duplicate address detection (RFC 4429). */
  optimistic: boolean;
}

/** An address as RTM_NEWADDR describes it. */
export interface Address {
  /** ifindex of the link the address is on (ifa_index). */
  index: number;
  /** IP version: 4 (AF_INET) or 6 (AF_INET6). */
  family: 4 | 6;
  /**
   * The address without prefix length ('2a0a:e5c1:111:888::1'): IFA_LOCAL for IPv4, IFA_ADDRESS for
   * IPv6.
   */
  address: string;
  /** Prefix length in bits (ifa_prefixlen): 0-32 for IPv4, 0-128 for IPv6. */
  prefixLength: number;
  /** 'universe', 'site', 'link', 'host' (or the number as a string). */
  scope: string;
  /** The IFA_F_* flags (IFA_FLAGS). */
  flags: AddressFlags;
  /** IFA_LABEL (IPv4). */
  label?: string;
  /** Valid lifetime left in seconds (IFA_CACHEINFO ifa_valid); undefined = forever. */
  validLifetime?: number;
  /** Preferred lifetime left in seconds (IFA_CACHEINFO ifa_prefered); undefined = forever. */
  preferredLifetime?: number;
}

/** An address notification from {@link Netlink.addressEvents}. */
export interface AddressEvent {
  /** 'new' (RTM_NEWADDR: added or changed, e.g. DAD finished) or 'del' (RTM_DELADDR: removed). */
  type: 'new' | 'del';
  /** The address as the notification describes it. */
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
  /** Valid lifetime in seconds (IFA_CACHEINFO `valid_lft`); forever by default. */
  validLifetime?: number;
  /** Preferred lifetime in seconds (IFA_CACHEINFO `preferred_lft`), at most `validLifetime`; forever by default. */
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
  /** Ends the iteration: the pending (or next) `next()` rejects with `signal.reason`, the socket closes. */
  signal?: AbortSignal;
}

/** A bridge FDB entry (`bridge fdb add MAC dev LINK dst IP vni N port P self|master`). */
export interface FdbEntryOptions {
  /** The port device (e.g. the vxlan). */
  link: LinkRef;
  /**
   * MAC address of the entry (NDA_LLADDR); '00:00:00:00:00:00' is the default destination that
   * floods unknown and broadcast traffic to `dst`.
   */
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
  /** ifindex of the port device (ndm_ifindex), e.g. the vxlan. */
  index: number;
  /** MAC address (NDA_LLADDR), lower case. */
  mac: string;
  /** Remote VTEP address (NDA_DST), for vxlan entries. */
  dst?: string;
  /** VNI of the remote (NDA_VNI), when it differs from the link's. */
  vni?: number;
  /** UDP port of the remote (NDA_PORT), when it differs from the link's. */
  port?: number;
  /** ifindex of the bridge (NDA_MASTER), for entries in a master's FDB. */
  master?: number;
  /** VLAN id (NDA_VLAN), on a VLAN-filtering bridge. */
  vlan?: number;
  /** The entry is in the device's own FDB (NTF_SELF) rather than the bridge's. */
  self: boolean;
  /** Entry flags: 'self', 'master', 'extern_learn', … */
  flags: string[];
  /**
   * 'permanent' (NUD_PERMANENT), 'static' (NUD_NOARP), 'dynamic' (learned), or the NUD_* number as
   * a string.
   */
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
  /** Next hop (RTA_GATEWAY, `via`), of the same family as `destination`. */
  gateway?: string;
  /** Output link (RTA_OIF, `dev`), by name or index. */
  dev?: LinkRef;
  /**
   * Route priority (RTA_PRIORITY, `metric`), lower wins; the kernel uses 1024 for IPv6 and 0 for
   * IPv4 when absent.
   */
  metric?: number;
  /** Routing table id (RTA_TABLE, `table`), 1-4294967295; 254 (main) by default. */
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
  /** IP version: 4 or 6 (rtm_family). */
  family: 4 | 6;
  /** Destination prefix with its length ('2001:db8::/64'; '::/0' for the default route). */
  destination: string;
  /** Next hop (RTA_GATEWAY). */
  gateway?: string;
  /** ifindex of the output link (RTA_OIF). */
  dev?: number;
  /** Route priority (RTA_PRIORITY), lower wins. */
  metric?: number;
  /** Routing table id (RTA_TABLE): 254 main, 255 local. */
  table: number;
  /** Route type (rtm_type) as `ip` names it: 'unicast', 'local', 'multicast', 'blackhole', … */
  type: string;
  /**
   * Who installed it (rtm_protocol): 'kernel', 'boot' (`ip route add`, vmplumb), 'static', 'ra', …
   */
  protocol: string;
  /** Route scope (rtm_scope): 'universe', 'link', 'host', … */
  scope: string;
  /** Preferred source address (RTA_PREFSRC, `src`). */
  source?: string;
}

/** Options of {@link Netlink.listRoutes}. */
export interface ListRoutesOptions {
  /** Only IPv4 (4) or IPv6 (6) routes; both by default. */
  family?: 4 | 6;
  /** Table id; 254 (main) by default, 0 for all. */
  table?: number;
  /** Only routes through this link (RTA_OIF). */
  dev?: LinkRef;
}
