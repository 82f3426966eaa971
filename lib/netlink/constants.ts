/**
 * rtnetlink numbers the TypeScript side needs: message types and flags (linux/netlink.h,
 * linux/rtnetlink.h), interface flags (linux/if.h), address flags (linux/if_addr.h), neighbour
 * states and flags (linux/neighbour.h), multicast groups, and the names `ip` prints for them.
 */

/** Message types (linux/rtnetlink.h). */
export const RTM = {
  NEWLINK: 16,
  DELLINK: 17,
  GETLINK: 18,
  NEWADDR: 20,
  DELADDR: 21,
  GETADDR: 22,
  NEWROUTE: 24,
  DELROUTE: 25,
  GETROUTE: 26,
  NEWNEIGH: 28,
  DELNEIGH: 29,
  GETNEIGH: 30,
  NEWNETCONF: 80,
  DELNETCONF: 81,
  GETNETCONF: 82,
} as const;

/** nlmsg_flags (linux/netlink.h). */
export const NLM_F = {
  REQUEST: 0x1,
  ACK: 0x4,
  ECHO: 0x8,
  ROOT: 0x100,
  MATCH: 0x200,
  DUMP: 0x300,
  REPLACE: 0x100,
  EXCL: 0x200,
  CREATE: 0x400,
  APPEND: 0x800,
} as const;

/** Address families (linux/socket.h). */
export const AF = { UNSPEC: 0, INET: 2, BRIDGE: 7, INET6: 10, PACKET: 17 } as const;

/** Interface flags (linux/if.h). */
export const IFF = {
  UP: 0x1,
  BROADCAST: 0x2,
  DEBUG: 0x4,
  LOOPBACK: 0x8,
  POINTOPOINT: 0x10,
  NOTRAILERS: 0x20,
  RUNNING: 0x40,
  NOARP: 0x80,
  PROMISC: 0x100,
  ALLMULTI: 0x200,
  MASTER: 0x400,
  SLAVE: 0x800,
  MULTICAST: 0x1000,
  PORTSEL: 0x2000,
  AUTOMEDIA: 0x4000,
  DYNAMIC: 0x8000,
  LOWER_UP: 0x10000,
  DORMANT: 0x20000,
  ECHO: 0x40000,
} as const;

/** The order `ip link` prints flags in (iproute2 ip/ipaddress.c print_link_flags). */
export const IFF_PRINT_ORDER = [
  'LOOPBACK',
  'BROADCAST',
  'POINTOPOINT',
  'MULTICAST',
  'NOARP',
  'ALLMULTI',
  'PROMISC',
  'MASTER',
  'SLAVE',
  'DEBUG',
  'DYNAMIC',
  'AUTOMEDIA',
  'PORTSEL',
  'NOTRAILERS',
  'UP',
  'LOWER_UP',
  'DORMANT',
  'ECHO',
] as const satisfies ReadonlyArray<keyof typeof IFF>;

/** RFC 2863 operational states (IFLA_OPERSTATE, linux/if.h IF_OPER_*), lower case. */
export const OPERSTATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const;

/** Link dump attribute: skip statistics (RTEXT_FILTER_SKIP_STATS, linux/rtnetlink.h). */
export const RTEXT_FILTER_SKIP_STATS = 1 << 3;

/** Address flags (linux/if_addr.h IFA_F_*). */
export const IFA_F = {
  SECONDARY: 0x01,
  NODAD: 0x02,
  OPTIMISTIC: 0x04,
  DADFAILED: 0x08,
  HOMEADDRESS: 0x10,
  DEPRECATED: 0x20,
  TENTATIVE: 0x40,
  PERMANENT: 0x80,
  MANAGETEMPADDR: 0x100,
  NOPREFIXROUTE: 0x200,
  MCAUTOJOIN: 0x400,
  STABLE_PRIVACY: 0x800,
} as const;

/** Scopes (linux/rtnetlink.h RT_SCOPE_*), as `ip` names them. */
export const SCOPES: Record<string, number> = { universe: 0, site: 200, link: 253, host: 254, nowhere: 255 };

/** Neighbour states (linux/neighbour.h NUD_*). */
export const NUD = {
  INCOMPLETE: 0x01,
  REACHABLE: 0x02,
  STALE: 0x04,
  DELAY: 0x08,
  PROBE: 0x10,
  FAILED: 0x20,
  NOARP: 0x40,
  PERMANENT: 0x80,
} as const;

/** Neighbour flags (linux/neighbour.h NTF_*). */
export const NTF = {
  USE: 0x01,
  SELF: 0x02,
  MASTER: 0x04,
  PROXY: 0x08,
  EXT_LEARNED: 0x10,
  OFFLOADED: 0x20,
  STICKY: 0x40,
  ROUTER: 0x80,
} as const;

/** Multicast groups (linux/rtnetlink.h enum rtnetlink_groups). */
export const RTNLGRP = { LINK: 1, NEIGH: 3, IPV4_IFADDR: 5, IPV4_ROUTE: 7, IPV6_IFADDR: 9, IPV6_ROUTE: 11, IPV6_NETCONF: 25 } as const;

/** NETCONFA_IFINDEX's two namespace-wide entries (linux/netconf.h): `all` and `default`. */
export const NETCONFA_IFINDEX = { ALL: -1, DEFAULT: -2 } as const;

/** Route types (linux/rtnetlink.h RTN_*). */
export const RTN: Record<string, number> = {
  unspec: 0,
  unicast: 1,
  local: 2,
  broadcast: 3,
  anycast: 4,
  multicast: 5,
  blackhole: 6,
  unreachable: 7,
  prohibit: 8,
  throw: 9,
  nat: 10,
};

/** Route protocols (linux/rtnetlink.h RTPROT_*), as /etc/iproute2/rt_protos names them. */
export const RTPROT: Record<number, string> = {
  0: 'unspec',
  1: 'redirect',
  2: 'kernel',
  3: 'boot',
  4: 'static',
  8: 'gated',
  9: 'ra',
  16: 'dhcp',
};

/** The main routing table (RT_TABLE_MAIN). */
export const RT_TABLE_MAIN = 254;

/** Finds the name of `value` in a name → number map. */
export function nameOf(map: Record<string, number>, value: number): string {
  for (const [name, v] of Object.entries(map)) if (v === value) return name;
  return String(value);
}
