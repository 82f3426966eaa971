/**
 * Validation and defaults for link requests, and their translation into the codec's params
 * (native/rtnl_link.cc). Everything here runs before any syscall: a bad option throws with
 * Node's codes and a message naming the field and the value.
 *
 * Defaults follow `ip link add` (ip-link(8)), except the VXLAN port: 4789 (IANA, RFC 7348 §5)
 * rather than the kernel's historical 8472, so a vmplumb host joins the reference setup's
 * segment (docs/ARCHITECTURE.md, "Interoperability").
 */
import { isIPv6 } from 'node:net';

import {
  checkBoolean,
  checkIP,
  checkIfname,
  checkInteger,
  checkNumber,
  checkObject,
  checkUnicastMac,
  invalidType,
  invalidValue,
  isOwnKey,
  bare,
  hasControlCharacter,
} from '../validate.js';
import { IFF } from './constants.js';
import { isMulticast } from './parse.js';
import type { AddrGenMode, CreateBridgeOptions, CreateLinkCommon, CreateVxlanOptions, LinkRef, SetLinkOptions } from './types.js';

// checkIP stands on node:net's isIPv6: one large regular expression that V8 compiles on its
// first use and compiles again to machine code on its second, ~3-5 ms in all. Paid here, at
// load, rather than inside the first burst of createVxlan calls (a thousand in one tick
// measured 12 ms of JS instead of 16 with it warm).
isIPv6('::');
isIPv6('::');

/** The IANA VXLAN port (RFC 7348 §5); `ip` and the kernel would use 8472. */
export const VXLAN_DEFAULT_PORT = 4789;

/** Codec params of one link (see native/rtnl_link.cc). */
export interface LinkParams {
  family?: number;
  index?: number;
  flags?: number;
  change?: number;
  name?: string;
  alias?: string;
  mtu?: number;
  mac?: string;
  master?: number;
  group?: number;
  netnsFd?: number;
  extMask?: number;
  /** IFLA_INET6_ADDR_GEN_MODE (in6_addr_gen_mode), inside IFLA_AF_SPEC. */
  addrGenMode?: number;
  kind?: string;
  data?: Record<string, unknown>;
  peer?: LinkParams;
}

/** A link reference checked for shape: a name (1-15 bytes) or an ifindex (≥ 1). */
export function checkLinkRef(field: string, value: unknown): LinkRef {
  if (typeof value === 'number') return checkInteger(field, value, 1, 0x7fffffff);
  if (typeof value === 'string') return checkIfname(field, value);
  throw invalidType(field, 'an interface name or index', value);
}

/** Where a link reference goes in a request: ifi_index for a number, IFLA_IFNAME for a name. */
export function linkSelector(ref: LinkRef): LinkParams {
  return bare(typeof ref === 'number' ? { index: ref } : { name: ref });
}

/** Options every created link shares, with what must still be resolved (master). */
export interface CheckedCommon {
  params: LinkParams;
  master?: LinkRef;
  /** Set after the creation (the kernel ignores IFLA_IFALIAS in a creating request). */
  alias?: string;
}

/** Validates CreateLinkCommon into params (`up` and `master` travel in the same request). */
export function checkCommon(options: CreateLinkCommon, field = ''): CheckedCommon {
  const params: LinkParams = bare({ name: checkIfname(`${field}name`, options.name) });
  const out: CheckedCommon = bare({ params });
  if (options.up !== undefined && checkBoolean(`${field}up`, options.up)) {
    params.flags = IFF.UP;
    params.change = IFF.UP;
  }
  if (options.mtu !== undefined) params.mtu = checkInteger(`${field}mtu`, options.mtu, 68, 65535);
  if (options.mac !== undefined) params.mac = checkUnicastMac(`${field}mac`, options.mac);
  if (options.linkGroup !== undefined) params.group = checkInteger(`${field}linkGroup`, options.linkGroup, 0, 0xffffffff);
  if (options.master !== undefined) out.master = checkLinkRef(`${field}master`, options.master);
  if (options.alias !== undefined) out.alias = checkAlias(`${field}alias`, options.alias, false);
  return out;
}

/** IFALIASZ is 256 (include/uapi/linux/if.h); the codec sends the terminating NUL, which dev_set_alias counts. */
const MAX_ALIAS_BYTES = 254;

/** An alias (IFLA_IFALIAS): up to 254 bytes without control characters; '' (removal) only where `empty` allows it. */
export function checkAlias(field: string, value: unknown, empty: boolean): string {
  if (typeof value !== 'string') throw invalidType(field, 'a string', value);
  if (value === '' && !empty) throw invalidValue(field, 'a non-empty alias', value);
  if (Buffer.byteLength(value) > MAX_ALIAS_BYTES) throw invalidValue(field, `an alias of at most ${MAX_ALIAS_BYTES} bytes`, value);
  if (hasControlCharacter(value)) throw invalidValue(field, 'an alias without NUL or control characters', value);
  return value;
}

const VXLAN_FLAGS = ['learning', 'proxy', 'rsc', 'l2miss', 'l3miss', 'udpCsum', 'udpZeroCsum6Tx', 'udpZeroCsum6Rx'] as const;
const DF = { unset: 0, set: 1, inherit: 2 } as const;

/** A validated createVxlan: params plus the references to resolve (dev, master). */
export interface CheckedVxlan extends CheckedCommon {
  dev?: LinkRef;
}

/** Validates createVxlan options (ip-link(8) "VXLAN Type Support"). */
export function checkVxlan(input: unknown): CheckedVxlan {
  const options = checkObject('options', input) as unknown as CreateVxlanOptions;
  const common = checkCommon(options);
  const data: Record<string, unknown> = bare({
    id: checkInteger('vni', options.vni, 0, 16777215),
    port: options.port === undefined ? VXLAN_DEFAULT_PORT : checkInteger('port', options.port, 1, 65535),
    learning: options.learning === undefined ? true : checkBoolean('learning', options.learning),
  });
  let family: 4 | 6 | undefined;
  if (options.group !== undefined) {
    const group = checkIP('group', options.group);
    if (!isMulticast(group.address)) throw invalidValue('group', 'a multicast address (ff00::/8 or 224.0.0.0/4)', options.group);
    if (options.remote !== undefined) throw invalidValue('remote', 'absent when "group" is set (a vxlan has one or the other)', options.remote);
    data[group.family === 6 ? 'group6' : 'group'] = group.address;
    family = group.family;
  } else if (options.remote !== undefined) {
    const remote = checkIP('remote', options.remote);
    if (isMulticast(remote.address)) throw invalidValue('remote', 'a unicast address (use "group" for multicast)', options.remote);
    data[remote.family === 6 ? 'group6' : 'group'] = remote.address;
    family = remote.family;
  }
  if (options.local !== undefined) {
    const local = checkIP('local', options.local);
    if (isMulticast(local.address)) throw invalidValue('local', 'a unicast address', options.local);
    if (family !== undefined && local.family !== family) {
      throw invalidValue('local', `an IPv${family} address like the ${options.group !== undefined ? 'group' : 'remote'}`, options.local);
    }
    data[local.family === 6 ? 'local6' : 'local'] = local.address;
  }
  if (options.portRange !== undefined) {
    const range = checkObject('portRange', options.portRange);
    const low = checkInteger('portRange.low', range.low, 1, 65535);
    const high = checkInteger('portRange.high', range.high, 1, 65535);
    if (high < low) throw invalidValue('portRange', 'a range with low <= high', options.portRange);
    data.portRange = { low, high };
  }
  if (options.ttl !== undefined) {
    if (options.ttl === 'inherit') data.ttlInherit = true;
    else data.ttl = checkInteger('ttl', options.ttl, 0, 255);
  }
  if (options.tos !== undefined) data.tos = checkInteger('tos', options.tos, 0, 255);
  if (options.df !== undefined) {
    if (!isOwnKey(DF, options.df)) throw invalidValue('df', "'unset', 'set' or 'inherit'", options.df);
    data.df = DF[options.df];
  }
  if (options.label !== undefined) data.label = checkInteger('label', options.label, 0, 0xfffff);
  for (const flag of VXLAN_FLAGS) {
    if (options[flag] !== undefined) data[flag] = checkBoolean(flag, options[flag]);
  }
  if (options.ageing !== undefined) data.ageing = checkInteger('ageing', options.ageing, 0, 0xffffffff);
  if (options.limit !== undefined) data.limit = checkInteger('limit', options.limit, 0, 0xffffffff);
  if (options.external !== undefined && checkBoolean('external', options.external)) {
    data.collectMetadata = true;
  }
  common.params.kind = 'vxlan';
  common.params.data = data;
  const out: CheckedVxlan = common;
  if (options.dev !== undefined) out.dev = checkLinkRef('dev', options.dev);
  return out;
}

/** Seconds → USER_HZ clock_t (the bridge's unit on the wire). */
const centiseconds = (s: number): number => Math.round(s * 100);

/** Validates createBridge options (ip-link(8) "BRIDGE Type Support"). */
export function checkBridge(input: unknown): CheckedCommon {
  const options = checkObject('options', input) as unknown as CreateBridgeOptions;
  const common = checkCommon(options);
  const data: Record<string, unknown> = bare({});
  if (options.stp !== undefined) data.stpState = checkBoolean('stp', options.stp) ? 1 : 0;
  if (options.forwardDelay !== undefined) data.forwardDelay = centiseconds(checkNumber('forwardDelay', options.forwardDelay, 2, 30));
  if (options.helloTime !== undefined) data.helloTime = centiseconds(checkNumber('helloTime', options.helloTime, 1, 10));
  if (options.maxAge !== undefined) data.maxAge = centiseconds(checkNumber('maxAge', options.maxAge, 6, 40));
  if (options.ageingTime !== undefined) data.ageingTime = centiseconds(checkNumber('ageingTime', options.ageingTime, 0, 1_000_000));
  if (options.priority !== undefined) data.priority = checkInteger('priority', options.priority, 0, 65535);
  if (options.vlanFiltering !== undefined) data.vlanFiltering = checkBoolean('vlanFiltering', options.vlanFiltering);
  if (options.vlanDefaultPvid !== undefined) data.vlanDefaultPvid = checkInteger('vlanDefaultPvid', options.vlanDefaultPvid, 0, 4094);
  if (options.mcastSnooping !== undefined) data.mcastSnooping = checkBoolean('mcastSnooping', options.mcastSnooping);
  if (options.mcastQuerier !== undefined) data.mcastQuerier = checkBoolean('mcastQuerier', options.mcastQuerier);
  common.params.kind = 'bridge';
  common.params.data = data;
  return common;
}

/** in6_addr_gen_mode values by ip-link(8) name. */
const ADDR_GEN_MODES: Record<AddrGenMode, number> = { eui64: 0, none: 1, stable_secret: 2, random: 3 };

/** setLink's addrGenMode as the kernel's number. */
function checkAddrGenMode(value: unknown): number {
  if (typeof value !== 'string' || !Object.hasOwn(ADDR_GEN_MODES, value))
    throw invalidValue('addrGenMode', `one of ${Object.keys(ADDR_GEN_MODES).join(', ')}`, value);
  return ADDR_GEN_MODES[value as AddrGenMode];
}

/** A validated setLink: params (without the link selector) plus the master to resolve. */
export interface CheckedSetLink {
  params: LinkParams;
  /** undefined: leave; null: release (IFLA_MASTER 0); a reference: enslave. */
  master?: LinkRef | null;
  /** A rename needs the ifindex in the header (IFLA_IFNAME then carries the new name). */
  rename?: string;
}

/** Validates setLink changes. */
export function checkSetLink(input: unknown): CheckedSetLink {
  const changes = checkObject('changes', input) as SetLinkOptions;
  const params: LinkParams = bare({});
  const out: CheckedSetLink = bare({ params });
  if (changes.up !== undefined) {
    params.change = IFF.UP;
    params.flags = checkBoolean('up', changes.up) ? IFF.UP : 0;
  }
  if (changes.mtu !== undefined) params.mtu = checkInteger('mtu', changes.mtu, 68, 65535);
  if (changes.mac !== undefined) params.mac = checkUnicastMac('mac', changes.mac);
  if (changes.linkGroup !== undefined) params.group = checkInteger('linkGroup', changes.linkGroup, 0, 0xffffffff);
  // The deprecated spelling: taken when alone, refused when it says something else.
  const legacyGroup = changes.group;
  if (legacyGroup !== undefined) {
    const group = checkInteger('group', legacyGroup, 0, 0xffffffff);
    if (params.group !== undefined && params.group !== group) throw invalidValue('group', `absent or equal to "linkGroup" (${params.group})`, legacyGroup);
    params.group = group;
  }
  if (changes.alias !== undefined) params.alias = checkAlias('alias', changes.alias, true);
  if (changes.addrGenMode !== undefined) params.addrGenMode = checkAddrGenMode(changes.addrGenMode);
  if (changes.name !== undefined) out.rename = checkIfname('name', changes.name);
  if (changes.master === null) out.master = null;
  else if (changes.master !== undefined) out.master = checkLinkRef('master', changes.master);
  return out;
}
