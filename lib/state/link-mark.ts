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
 *
 * The kernel ignores IFLA_IFALIAS in the request that creates a link, so a mark can only
 * follow the create. Not to leave an unrecognisable link behind when the process dies in
 * between, create makes each link under its final name in the run directory's creation group
 * (IFLA_GROUP, {@link creationGroup}, which the kernel honours on create), and one later
 * request gives it its alias and the default group back. Before, links were made under a
 * staging name that was itself a mark and renamed; a rename costs a synchronize_net() under
 * RTNL (an expedited RCU grace period per link, seconds per hundred links on a loaded host),
 * so staging names are only recognised now (links a create of an older version left):
 *
 *     vmp<b|x><id: 5 base-36 digits><run dir: 6 base-36 digits>    e.g. vmpb0002s1k9f3z
 *
 * (15 characters, IFNAMSIZ less the NUL; b for the bridge, x for the vxlan). The run
 * directory's digits come from its SHA-256, so another run directory's staged link is not
 * taken for ours. Who made it is proven by the network's manager lock, which create holds
 * from before its first link to the end: cleanup removes a staged link only when it can take
 * that lock, that is when its creator is gone (lib/network/orphan-links.ts).
 */
import { createHash } from 'node:crypto';

const PREFIX = 'vmplumb:net:';
const STAGING_PREFIX = 'vmp';
/** vmp, b or x, the id in 5 base-36 digits (16777215 is 9zldr), the run directory's 6. */
const STAGING_NAME = /^vmp([bx])([0-9a-z]{5})([0-9a-z]{6})$/u;
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

/**
 * The link group (IFLA_GROUP) a recorded network's links are created in, from run directory
 * `runDir`: the high bit set (never 0, the default group; disjoint from the groups
 * Netlink#deleteLinks tags links with, 0x40000000-0x7fffffff) and 31 bits of the run
 * directory's SHA-256. The kernel honours IFLA_GROUP in a creating RTM_NEWLINK (it ignores
 * IFLA_IFALIAS there): a link of this group without the network's alias was made by a create
 * of this run directory that has not marked it yet (lib/network/staged-link.ts).
 */
export function creationGroup(runDir: string): number {
  if (lastGroup?.runDir === runDir) return lastGroup.group;
  const group = (0x80000000 | (createHash('sha256').update(runDir).digest().readUInt32BE(4) & 0x7fffffff)) >>> 0;
  lastGroup = { runDir, group };
  return group;
}

let lastGroup: { runDir: string; group: number } | undefined;

/** Whether `link` is one a create of `runDir` made and has not marked yet (see creationGroup). */
export function unmarkedCreation(link: { linkGroup: number; alias?: string | undefined }, runDir: string): boolean {
  return link.linkGroup === creationGroup(runDir) && !link.alias;
}

/** Which of a network's two links a staging name stands for. */
export type StagedLinkKind = 'bridge' | 'vxlan';

/** The last run directory tagged and its tag: a process has one run directory, and each network's links ask for it. */
let lastTag: { runDir: string; tag: string } | undefined;

/** Six base-36 digits of the run directory's SHA-256 (31 bits): tells run directories apart. */
function runDirTag(runDir: string): string {
  if (lastTag?.runDir === runDir) return lastTag.tag;
  const digest = createHash('sha256').update(runDir).digest();
  const tag = (digest.readUInt32BE(0) % 36 ** 6).toString(36).padStart(6, '0');
  lastTag = { runDir, tag };
  return tag;
}

/** The name network `id`'s bridge or vxlan has between its create and its naming (see the file header). */
export function stagingLinkName(runDir: string, id: number, kind: StagedLinkKind): string {
  return `${STAGING_PREFIX}${kind === 'bridge' ? 'b' : 'x'}${id.toString(36).padStart(5, '0')}${runDirTag(runDir)}`;
}

/** The network a staging name of `runDir` belongs to (and which of its links it is); undefined for any other name. */
export function stagedLink(name: string, runDir: string): { id: number; kind: StagedLinkKind } | undefined {
  const m = STAGING_NAME.exec(name);
  if (!m) return undefined;
  const id = Number.parseInt(m[2]!, 36);
  const kind: StagedLinkKind = m[1] === 'b' ? 'bridge' : 'vxlan';
  return id <= 16777215 && stagingLinkName(runDir, id, kind) === name ? { id, kind } : undefined;
}
