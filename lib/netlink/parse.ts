/**
 * Shapes the addon's parsed messages (field names from native/rtnl_*.cc) into the public
 * result types. Units become the API's: bridge times from USER_HZ centiseconds to seconds,
 * flags to `ip`'s names.
 */
import type { NativeRtnlMessage } from '../native.js';
import { AF, IFA_F, IFF, IFF_PRINT_ORDER, NTF, NUD, OPERSTATES, RTN, RTPROT, SCOPES, nameOf } from './constants.js';
import type { Address, BridgeInfo, FdbEntry, Link, Route, TunInfo, VxlanInfo } from './types.js';

type Raw = Record<string, unknown>;

const num = (v: unknown, fallback = 0): number => (typeof v === 'number' ? v : fallback);
const bool = (v: unknown): boolean => v === true || (typeof v === 'number' && v !== 0);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** True for 224.0.0.0/4 and ff00::/8. */
export function isMulticast(address: string): boolean {
  if (address.includes(':')) return /^ff/iu.test(address);
  const first = Number(address.split('.')[0]);
  return first >= 224 && first <= 239;
}

/** Interface flags as `ip -j link` lists them (NO-CARRIER when up without IFF_RUNNING). */
export function linkFlags(flags: number): string[] {
  const out: string[] = [];
  if (flags & IFF.UP && !(flags & IFF.RUNNING)) out.push('NO-CARRIER');
  for (const name of IFF_PRINT_ORDER) if (flags & IFF[name]) out.push(name);
  return out;
}

const DF_NAMES = ['unset', 'set', 'inherit'] as const;

function vxlanInfo(d: Raw): VxlanInfo {
  const remote = str(d.group6) ?? str(d.group);
  const info: VxlanInfo = {
    vni: num(d.id),
    port: num(d.port),
    ttl: num(d.ttl),
    ttlInherit: d.ttlInherit === true,
    tos: num(d.tos),
    label: num(d.label),
    learning: bool(d.learning),
    proxy: bool(d.proxy),
    rsc: bool(d.rsc),
    l2miss: bool(d.l2miss),
    l3miss: bool(d.l3miss),
    udpCsum: bool(d.udpCsum),
    udpZeroCsum6Tx: bool(d.udpZeroCsum6Tx),
    udpZeroCsum6Rx: bool(d.udpZeroCsum6Rx),
    ageing: num(d.ageing),
    limit: num(d.limit),
    external: bool(d.collectMetadata),
  };
  // IFLA_VXLAN_GROUP(6) holds either the multicast group or the unicast remote.
  if (remote !== undefined && remote !== '::' && remote !== '0.0.0.0') {
    if (isMulticast(remote)) info.group = remote;
    else info.remote = remote;
  }
  const local = str(d.local6) ?? str(d.local);
  if (local !== undefined && local !== '::' && local !== '0.0.0.0') info.local = local;
  if (typeof d.link === 'number' && d.link !== 0) info.dev = d.link;
  if (d.portRange && typeof d.portRange === 'object') info.portRange = d.portRange as { low: number; high: number };
  if (typeof d.df === 'number') info.df = DF_NAMES[d.df] ?? 'unset';
  return info;
}

/** USER_HZ (clock_t units the bridge reports times in) per second. */
const USER_HZ = 100;

function bridgeInfo(d: Raw): BridgeInfo {
  return {
    stp: num(d.stpState) !== 0,
    forwardDelay: num(d.forwardDelay) / USER_HZ,
    helloTime: num(d.helloTime) / USER_HZ,
    maxAge: num(d.maxAge) / USER_HZ,
    ageingTime: num(d.ageingTime) / USER_HZ,
    priority: num(d.priority),
    vlanFiltering: bool(d.vlanFiltering),
    vlanDefaultPvid: num(d.vlanDefaultPvid),
    mcastSnooping: bool(d.mcastSnooping),
    mcastQuerier: bool(d.mcastQuerier),
  };
}

function tunInfo(d: Raw): TunInfo {
  const info: TunInfo = {
    type: num(d.type) === 2 ? 'tap' : 'tun', // IFF_TUN 1, IFF_TAP 2
    pi: bool(d.pi),
    vnetHdr: bool(d.vnetHdr),
    persist: bool(d.persist),
    multiQueue: bool(d.multiQueue),
  };
  if (typeof d.numQueues === 'number') info.numQueues = d.numQueues;
  if (typeof d.owner === 'number' && d.owner !== 0xffffffff) info.owner = d.owner;
  if (typeof d.group === 'number' && d.group !== 0xffffffff) info.group = d.group;
  return info;
}

/** RTM_NEWLINK → Link. */
export function parseLink(m: NativeRtnlMessage): Link {
  const flags = num(m.flags);
  const mac = str(m.mac);
  const link: Link = {
    index: num(m.index),
    name: str(m.name) ?? '',
    kind: str(m.kind),
    up: (flags & IFF.UP) !== 0,
    carrier: (flags & IFF.LOWER_UP) !== 0,
    operstate: OPERSTATES[num(m.operstate)] ?? String(m.operstate),
    flags: linkFlags(flags),
    mtu: num(m.mtu),
    // Links without a hardware address (tun, some tunnels) report none or a zero-length one.
    mac: mac === undefined || mac === '' ? undefined : mac,
    master: typeof m.master === 'number' && m.master !== 0 ? m.master : undefined,
    linkGroup: num(m.group),
    group: num(m.group),
  };
  const data = m.data as Raw | undefined;
  if (data) {
    if (link.kind === 'vxlan') link.vxlan = vxlanInfo(data);
    else if (link.kind === 'bridge') link.bridge = bridgeInfo(data);
    else if (link.kind === 'tun') link.tun = tunInfo(data);
  }
  const alias = str(m.alias);
  if (alias) link.alias = alias;
  if (typeof m.linkNetnsId === 'number') link.linkNetnsId = m.linkNetnsId;
  if (typeof m.link === 'number' && m.link !== 0) link.link = m.link;
  return link;
}

/** RTM_NEWADDR → Address. */
export function parseAddress(m: NativeRtnlMessage): Address {
  const family = num(m.family) === AF.INET6 ? 6 : 4;
  const flags = num(m.flags);
  // IPv4: IFA_LOCAL is the address, IFA_ADDRESS the peer; IPv6 has only IFA_ADDRESS (or both equal).
  const address = (family === 4 ? (str(m.local) ?? str(m.address)) : (str(m.address) ?? str(m.local))) ?? '';
  const out: Address = {
    index: num(m.index),
    family,
    address,
    prefixLength: num(m.prefixLength),
    scope: nameOf(SCOPES, num(m.scope)),
    flags: {
      tentative: (flags & IFA_F.TENTATIVE) !== 0,
      dadfailed: (flags & IFA_F.DADFAILED) !== 0,
      nodad: (flags & IFA_F.NODAD) !== 0,
      permanent: (flags & IFA_F.PERMANENT) !== 0,
      deprecated: (flags & IFA_F.DEPRECATED) !== 0,
      optimistic: (flags & IFA_F.OPTIMISTIC) !== 0,
    },
  };
  const label = str(m.label);
  if (label !== undefined) out.label = label;
  const ci = m.cacheinfo as { valid: number; preferred: number } | undefined;
  if (ci && ci.valid !== 0xffffffff) out.validLifetime = ci.valid;
  if (ci && ci.preferred !== 0xffffffff) out.preferredLifetime = ci.preferred;
  return out;
}

const NTF_NAMES: Array<[number, string]> = [
  [NTF.SELF, 'self'],
  [NTF.MASTER, 'master'],
  [NTF.PROXY, 'proxy'],
  [NTF.EXT_LEARNED, 'extern_learn'],
  [NTF.OFFLOADED, 'offload'],
  [NTF.STICKY, 'sticky'],
  [NTF.ROUTER, 'router'],
];

/** The FDB state as `bridge fdb` names it. */
export function fdbState(state: number): string {
  if (state & NUD.PERMANENT) return 'permanent';
  if (state & NUD.NOARP) return 'static';
  if (state & (NUD.REACHABLE | NUD.STALE | NUD.DELAY | NUD.PROBE)) return 'dynamic';
  return String(state);
}

/** RTM_NEWNEIGH (AF_BRIDGE) → FdbEntry. */
export function parseFdb(m: NativeRtnlMessage): FdbEntry {
  const flags = num(m.flags);
  const entry: FdbEntry = {
    index: num(m.index),
    mac: str(m.lladdr) ?? '',
    self: (flags & NTF.SELF) !== 0,
    flags: NTF_NAMES.filter(([bit]) => flags & bit).map(([, name]) => name),
    state: fdbState(num(m.state)),
  };
  const dst = str(m.dst);
  if (dst !== undefined) entry.dst = dst;
  if (typeof m.vni === 'number') entry.vni = m.vni;
  if (typeof m.port === 'number') entry.port = m.port;
  if (typeof m.master === 'number') entry.master = m.master;
  if (typeof m.vlan === 'number') entry.vlan = m.vlan;
  return entry;
}

/** RTM_NEWROUTE → Route. */
export function parseRoute(m: NativeRtnlMessage): Route {
  const family = num(m.family) === AF.INET6 ? 6 : 4;
  const dst = str(m.dst) ?? (family === 6 ? '::' : '0.0.0.0');
  const route: Route = {
    family,
    destination: `${dst}/${num(m.dstLen)}`,
    table: num(m.table),
    type: nameOf(RTN, num(m.type)),
    protocol: RTPROT[num(m.protocol)] ?? String(m.protocol),
    scope: nameOf(SCOPES, num(m.scope)),
  };
  const gateway = str(m.gateway);
  if (gateway !== undefined) route.gateway = gateway;
  if (typeof m.oif === 'number') route.dev = m.oif;
  if (typeof m.priority === 'number') route.metric = m.priority;
  const source = str(m.prefsrc);
  if (source !== undefined) route.source = source;
  return route;
}
