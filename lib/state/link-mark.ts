/**
 * The mark vmplumb leaves in the kernel on the links of a recorded network, so that links
 * whose record is gone (deleted by hand, or a process killed between two writes) are still
 * known to be ours, and an operator's link of the same name never is: their alias
 * (IFLA_IFALIAS, shown by `ip link show` as `alias …`) reads
 *
 *     vmplumb:net:<id>:<runDir>          e.g. vmplumb:net:100:/run/vmplumb
 *
 * The run directory is part of it: two agents with their own run directories on one host
 * (or the tests beside a real agent) never take each other's links for orphans. An alias is
 * at most 254 bytes; a run directory too long to fit is replaced by
 * `sha256=<first 32 hex digits of its SHA-256>`.
 */
import { createHash } from 'node:crypto';

const PREFIX = 'vmplumb:net:';
/** IFALIASZ (256) less the NUL the codec sends. */
const MAX_ALIAS_BYTES = 254;

/** The alias of network `id`'s links (bridge and vxlan) in run directory `runDir`. */
export function networkLinkMark(runDir: string, id: number): string {
  const full = `${PREFIX}${id}:${runDir}`;
  if (Buffer.byteLength(full) <= MAX_ALIAS_BYTES) return full;
  return `${PREFIX}${id}:sha256=${createHash('sha256').update(runDir).digest('hex').slice(0, 32)}`;
}

/** The network id a link's alias marks it as ours for, in `runDir`; undefined for any other link. */
export function markedNetworkId(alias: string | undefined, runDir: string): number | undefined {
  if (alias === undefined || !alias.startsWith(PREFIX)) return undefined;
  const m = /^vmplumb:net:(\d{1,8}):/u.exec(alias);
  if (!m) return undefined;
  const id = Number(m[1]);
  return id <= 16777215 && alias === networkLinkMark(runDir, id) ? id : undefined;
}
