/**
 * A network's side of the run directory: claiming its record for create, the record's
 * content, and finishing the removal of what a create or destroy killed half-way left.
 */
import { VmplumbError, type VmplumbErrorCode } from '../errors.js';
import { debug } from '../diagnostics.js';
import { markedNetworkId, stagingLinkName, unmarkedCreation } from '../state/link-mark.js';
import type { FileLock } from '../state/lock.js';
import type { Link } from '../netlink/types.js';
import type { NetworkFiles, NetworkRecord } from '../state/network-record.js';
import type { NetlinkPort, NetworkStatePort } from './deps.js';
import type { ResolvedNetworkOptions } from './options.js';
import type { AdvertisedInterface } from './types.js';

/** A VmplumbError about network `id`. */
export function networkError(id: number, code: VmplumbErrorCode, message: string): VmplumbError {
  return new VmplumbError(code, `VxlanNetwork ${id}: ${message}`);
}

/**
 * Takes network `id`'s management lock for create and reads what is recorded: a network that
 * exists is refused (EEXIST: open it), one another process manages too (EBUSY); a record a
 * crashed process left ('creating'/'destroying') is returned as `previous` to be finished.
 */
export async function claimNetwork(
  state: NetworkStatePort,
  runDirOption: unknown,
  netnsKey: string,
  id: number,
): Promise<{
  state: NetworkStatePort;
  runDir: string;
  files: NetworkFiles;
  lock: FileLock;
  previous: NetworkRecord | undefined;
}> {
  const runDir = state.resolveRunDir(runDirOption);
  const files = state.files(runDir, netnsKey, id);
  const lock = await state.lock(files);
  if (!lock) throw networkError(id, 'EBUSY', `another process is managing this network (${files.record})`);
  try {
    const previous = await state.read(files).catch((error: unknown) => {
      if ((error as { code?: string }).code === 'ENOENT') return undefined;
      throw error;
    });
    if (previous?.state === 'ready') {
      throw networkError(id, 'EEXIST', `the network exists already (${files.record}); take it over with VxlanNetwork.open({ id: ${id} })`);
    }
    return { state, runDir, files, lock, previous };
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** The record of a network made from `o`. */
export function networkRecord(
  o: ResolvedNetworkOptions,
  resolvedNetns: string | number | undefined,
  state: NetworkRecord['state'],
  ra: AdvertisedInterface | false,
): NetworkRecord {
  return {
    id: o.id,
    state,
    netns: typeof resolvedNetns === 'string' ? resolvedNetns : undefined,
    netnsKey: o.netnsKey,
    vxlan: o.names.vxlan,
    bridge: o.names.bridge,
    mode: o.group === undefined ? 'peers' : 'group',
    group: o.group,
    peers: o.peers,
    underlay: o.underlay,
    port: o.port,
    ttl: o.ttl,
    local: o.local,
    mtu: o.mtu,
    prefix: o.prefix,
    routerAddress: o.routerAddress,
    ra: ra === false ? false : { ...ra },
    createdAt: new Date().toISOString(),
  };
}

/**
 * Finishes removing a network whose create or destroy died half-way: its VMs (proven by
 * pidfd, killed), its vxlan and bridge — those carrying the network's mark (alias,
 * lib/state/link-mark.ts) only: a link of that name without it is someone else's (an
 * operator's br100) and stays — and links left unmarked in the run directory's creation group
 * or under their staging name (the caller holds
 * the manager lock: their creator is gone). Links that are gone already are fine. Returns what was
 * removed, in words.
 */
export async function removeRemnants(
  nl: NetlinkPort,
  record: NetworkRecord,
  state: NetworkStatePort,
  runDir: string,
  finalRa?: (record: NetworkRecord) => Promise<boolean>,
): Promise<string[]> {
  const removed: string[] = [];
  const { vms, skipped } = await state.adoptVms(runDir, record.netnsKey, record.id);
  await Promise.all(
    vms.map(async ({ qemu }) => {
      qemu.kill();
      await qemu.exited;
      removed.push(`VM pid ${qemu.pid}`);
    }),
  );
  if (skipped.some((s) => !/no qemu runs/u.test(s.reason))) {
    throw networkError(record.id, 'EBUSY', `a VM of the network is busy: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
  }
  // A destroy killed before its final RA: clients still route via this bridge. Send it now,
  // before the bridge goes (a bridge with no carrier reaches no client: nothing to send).
  const bridge = finalRa && record.ra !== false ? await nl.getLink(record.bridge) : undefined;
  if (bridge?.up && bridge.carrier && markedNetworkId(bridge.alias, runDir) === record.id && (await finalRa!(record).catch(() => false))) {
    removed.push(`final RA on ${record.bridge}`);
  }
  // A create killed between making a link and marking it left it unmarked in the run
  // directory's creation group (an older version's: under its staging name).
  const staged = [stagingLinkName(runDir, record.id, 'vxlan'), stagingLinkName(runDir, record.id, 'bridge')];
  for (const link of [record.vxlan, record.bridge, ...staged]) {
    const found = await nl.getLink(link);
    if (!found) continue;
    if (markedNetworkId(found.alias, runDir) !== record.id && !staged.includes(link) && !unmarkedCreation(found, runDir)) {
      debug('network %d: %s is not marked as its link (alias %j): left alone', record.id, link, found.alias);
      continue;
    }
    try {
      await nl.deleteLink(link);
      removed.push(link);
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENODEV') throw error;
    }
  }
  return removed;
}

/**
 * What the kernel says against the record: missing or changed links, in words — a link of the
 * recorded name without the network's mark (lib/state/link-mark.ts) is someone else's (the
 * network's was deleted and an operator made one of that name): never to be adopted.
 */
export async function linkProblems(nl: NetlinkPort, record: NetworkRecord, runDir: string): Promise<string[]> {
  const problems: string[] = [];
  const bridge = await nl.getLink(record.bridge);
  const vxlan = await nl.getLink(record.vxlan);
  const unmarked = (link: Link): string => `${link.name} does not carry the network's mark (alias ${JSON.stringify(link.alias ?? '')}): not its link`;
  if (!bridge) problems.push(`bridge ${record.bridge} is missing`);
  else if (bridge.kind !== 'bridge') problems.push(`${record.bridge} is a ${bridge.kind ?? 'device'}, not a bridge`);
  else if (markedNetworkId(bridge.alias, runDir) !== record.id) problems.push(unmarked(bridge));
  if (!vxlan) problems.push(`vxlan ${record.vxlan} is missing`);
  else if (vxlan.kind !== 'vxlan') problems.push(`${record.vxlan} is a ${vxlan.kind ?? 'device'}, not a vxlan`);
  else if (markedNetworkId(vxlan.alias, runDir) !== record.id) problems.push(unmarked(vxlan));
  else if (bridge && vxlan.master !== bridge.index) problems.push(`${record.vxlan} is not in ${record.bridge}`);
  return problems;
}
