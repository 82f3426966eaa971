/**
 * Validation of bridge FDB requests and their codec params (native/rtnl_neigh.cc), as
 * `bridge fdb add|append|del MAC dev LINK [dst IP] [vni N] [port P] [self] [master]
 * [permanent|static|dynamic]` (bridge(8)).
 */
import { checkBoolean, checkIP, checkInteger, checkMac, checkObject, invalidValue, isOwnKey, bare } from '../validate.js';
import { AF, NTF, NUD } from './constants.js';
import { checkLinkRef } from './link-options.js';
import type { FdbEntryOptions, LinkRef } from './types.js';

/** Codec params of one FDB entry (ndmsg + NDA_*). */
export interface FdbParams {
  family: number;
  index: number;
  state: number;
  flags: number;
  lladdr: string;
  dst?: string;
  vni?: number;
  port?: number;
}

const STATES = { permanent: NUD.PERMANENT, static: NUD.NOARP, dynamic: NUD.REACHABLE } as const;

/** A validated FDB entry: params without the ifindex, and the link to resolve. */
export interface CheckedFdb {
  link: LinkRef;
  params: Omit<FdbParams, 'index'>;
  append: boolean;
}

/** Validates an FdbEntryOptions. */
export function checkFdb(input: unknown): CheckedFdb {
  const entry = checkObject('entry', input) as unknown as FdbEntryOptions;
  const link = checkLinkRef('link', entry.link);
  const master = entry.master !== undefined && checkBoolean('master', entry.master);
  const self = entry.self !== undefined ? checkBoolean('self', entry.self) : !master;
  let state: number = NUD.PERMANENT;
  if (entry.state !== undefined) {
    if (!isOwnKey(STATES, entry.state)) throw invalidValue('state', "'permanent', 'static' or 'dynamic'", entry.state);
    state = STATES[entry.state];
  }
  const params: Omit<FdbParams, 'index'> = bare({
    family: AF.BRIDGE,
    state,
    flags: (self ? NTF.SELF : 0) | (master ? NTF.MASTER : 0),
    lladdr: checkMac('mac', entry.mac),
  });
  if (entry.dst !== undefined) params.dst = checkIP('dst', entry.dst).address;
  if (entry.vni !== undefined) params.vni = checkInteger('vni', entry.vni, 0, 16777215);
  if (entry.port !== undefined) params.port = checkInteger('port', entry.port, 1, 65535);
  const append = entry.append !== undefined && checkBoolean('append', entry.append);
  return bare({ link, params, append });
}
