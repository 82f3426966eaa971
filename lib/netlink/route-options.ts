/**
 * Validation of route requests and their codec params (native/rtnl_route.cc), the basic
 * subset of `ip route add|del PREFIX [via GW] [dev LINK] [metric N] [table T] [src IP]
 * [TYPE]` (ip-route(8)), with `ip`'s choices of protocol (boot) and scope.
 */
import { checkBoolean, checkIP, checkInteger, checkObject, checkPrefixed, invalidValue, isOwnKey, bare } from '../validate.js';
import { AF, RTN, RT_TABLE_MAIN, SCOPES } from './constants.js';
import { checkLinkRef } from './link-options.js';
import type { LinkRef, RouteOptions } from './types.js';

/** RTPROT_BOOT: what `ip route add` marks routes with. */
const RTPROT_BOOT = 3;

/** Codec params of one route. */
export interface RouteParams {
  family: number;
  dstLen: number;
  tableId: number;
  protocol: number;
  scope: number;
  type: number;
  dst?: string;
  gateway?: string;
  oif?: number;
  priority?: number;
  prefsrc?: string;
  table?: number;
}

/** A validated route: params without the device index, and the device to resolve. */
export interface CheckedRoute {
  params: RouteParams;
  dev?: LinkRef;
  replace: boolean;
}

const TYPES = ['unicast', 'blackhole', 'unreachable', 'prohibit', 'local'];

/** Validates RouteOptions for RTM_NEWROUTE (`remove`: for RTM_DELROUTE, wildcards as `ip`). */
export function checkRoute(input: unknown, remove = false): CheckedRoute {
  const route = checkObject('route', input) as unknown as RouteOptions;
  const dest = checkPrefixed('destination', route.destination, false);
  const family = dest.family;
  const type = route.type ?? 'unicast';
  if (typeof type !== 'string' || !TYPES.includes(type) || !isOwnKey(RTN, type)) throw invalidValue('type', `one of ${TYPES.join(', ')}`, route.type);
  const table = route.table === undefined ? RT_TABLE_MAIN : checkInteger('table', route.table, 1, 0xffffffff);
  const params: RouteParams = bare({
    family: family === 6 ? AF.INET6 : AF.INET,
    dstLen: dest.prefixLength,
    // Tables above 255 only fit in RTA_TABLE (rtm_table is a byte).
    tableId: table < 256 ? table : 0,
    protocol: remove ? 0 : RTPROT_BOOT,
    scope: remove ? SCOPES.nowhere! : SCOPES.universe!,
    type: remove ? 0 : RTN[type]!,
    table,
  });
  if (dest.prefixLength > 0) params.dst = dest.address;
  if (route.gateway !== undefined) {
    const gw = checkIP('gateway', route.gateway);
    if (gw.family !== family) throw invalidValue('gateway', `an IPv${family} address like the destination`, route.gateway);
    params.gateway = gw.address;
  }
  if (route.source !== undefined) {
    const src = checkIP('source', route.source);
    if (src.family !== family) throw invalidValue('source', `an IPv${family} address like the destination`, route.source);
    params.prefsrc = src.address;
  }
  if (route.metric !== undefined) params.priority = checkInteger('metric', route.metric, 0, 0xffffffff);
  if (!remove) {
    // ip-route: local routes are host scope; unicast without a gateway is on-link.
    if (type === 'local') params.scope = SCOPES.host!;
    else if (type === 'unicast' && params.gateway === undefined) params.scope = SCOPES.link!;
  }
  const out: CheckedRoute = bare({ params, replace: route.replace !== undefined && checkBoolean('replace', route.replace) });
  if (route.dev !== undefined) out.dev = checkLinkRef('dev', route.dev);
  return out;
}
