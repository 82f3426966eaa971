/**
 * Port security: a guard on a VM's tap, in the kernel (nf_tables, netdev family), so it works
 * while no vmplumb process runs.
 *
 * Every guard lives in one table of ours per namespace, `netdev vmplumb-guard`; a port's guard
 * is its chains there (`<port>`, `<port>/ip6`, …; ./policy.ts), the base chains hooked to
 * the port itself (ingress: frames from the guest; egress: frames to it). Per-device hooks
 * mean a packet meets only its own port's rules, however many ports are guarded, and setting
 * one up or removing it is one atomic batch that touches nothing else: O(1) per port. We
 * never list, flush or rewrite what is not ours.
 *
 * A netdev hook names its device: the kernel keeps a guard whose tap went away (and applies
 * it to a new tap of the same name). Securing a port again replaces its guard in the same
 * batch; {@link pruneGuards} removes guards whose port is gone.
 */
import { debug } from '../diagnostics.js';
import { Netlink } from '../netlink/index.js';
import type { NativeNftMessage, NativeNftObject } from '../native.js';
import type { NetnsOption } from '../netns.js';
import { resolveNetns } from '../netns.js';
import { checkIfname, checkObject, invalidType } from '../validate.js';
import { commentUserdata, NF_NETDEV_EGRESS, NF_NETDEV_INGRESS, NFPROTO_NETDEV, NFT_MSG, nftTransact, NLM_F, userdataComment, VERDICT } from './nftables.js';
import { checkGuardRecord, identityComment, newGuardId, parseIdentity, type GuardIdentity, type GuardRecord } from './identity.js';
import { resolveGuardOptions, type ResolvedGuardOptions, type SecurePortOptions } from './options.js';
import { guardChains } from './policy.js';
import { chainName, compileRule, type GuardChain } from './rules.js';

/** Our table in every namespace that has a guarded port. */
export const GUARD_TABLE = 'vmplumb-guard';

/** Every chain suffix a guard may have, each after the chains that jump to it (deletion order). */
const CHAIN_SUFFIXES = ['', 'ip6', 'arp', 'ip4', 'egress', 'ip6-source', 'na', 'na-target', 'ns', 'rs'] as const;

/** One rule's counter. Rules that share a name (one per pinned address, say) are summed. */
export interface GuardCounter {
  /** The rule: 'router-advertisement', 'mac-source', 'ip6-source', 'ip6-pass', … */
  name: string;
  /** What the rule does to what it matched: 'drop', 'accept', or 'jump'/'return' (checked further or found allowed). */
  verdict: 'drop' | 'accept' | 'jump' | 'return';
  /** Packets the rule matched. */
  packets: number;
  /** Bytes of those packets. */
  bytes: number;
}

type Netns = string | number | undefined;

const table = (type: number, flags = 0): NativeNftMessage => ({ type, flags, family: NFPROTO_NETDEV, name: GUARD_TABLE });

function destroyMessages(port: string): NativeNftMessage[] {
  return CHAIN_SUFFIXES.map((s) => ({ type: NFT_MSG.DESTROYCHAIN, family: NFPROTO_NETDEV, table: GUARD_TABLE, name: chainName(port, s) }));
}

function setupMessages(port: string, chains: GuardChain[], identity: GuardIdentity): NativeNftMessage[] {
  const messages: NativeNftMessage[] = [];
  for (const c of chains) {
    const m: NativeNftMessage = {
      type: NFT_MSG.NEWCHAIN,
      flags: NLM_F.CREATE | NLM_F.EXCL,
      family: NFPROTO_NETDEV,
      table: GUARD_TABLE,
      name: chainName(port, c.name),
    };
    // Whose guard this is, for any later process (./identity.ts).
    if (c.name === '') m.userdata = commentUserdata(identityComment(identity));
    if (c.hook) {
      m.hook = { num: c.hook === 'ingress' ? NF_NETDEV_INGRESS : NF_NETDEV_EGRESS, priority: 0, device: port };
      m.chainType = 'filter';
      // Ingress: what no rule accepted is dropped. Egress only polices.
      m.policy = c.hook === 'ingress' ? VERDICT.drop : VERDICT.accept;
    }
    messages.push(m);
  }
  for (const c of chains) {
    for (const r of c.rules) {
      messages.push({
        type: NFT_MSG.NEWRULE,
        flags: NLM_F.CREATE | NLM_F.APPEND,
        family: NFPROTO_NETDEV,
        table: GUARD_TABLE,
        chain: chainName(port, c.name),
        expressions: compileRule(port, r),
        userdata: commentUserdata(r.name),
      });
    }
  }
  return messages;
}

/** Removes our table if no guard is left in it (NLM_F_NONREC: never anyone's chains). */
async function tidyTable(netns: Netns): Promise<void> {
  try {
    await nftTransact(netns, [table(NFT_MSG.DELTABLE, NLM_F.NONREC)], true, 'removeGuard', GUARD_TABLE);
  } catch (error) {
    // EBUSY: other guards remain; ENOENT: already gone.
    if (!['EBUSY', 'ENOENT'].includes((error as { code?: string }).code ?? '')) throw error;
  }
}

/** A guarded port: read its counters, remove the guard. */
export class PortGuard {
  /** The port (tap) name. */
  readonly port: string;
  /** The VM's MAC the guard allows. */
  readonly mac: string;
  /** The namespace, as given. */
  readonly netns: NetnsOption | undefined;
  /** This set-up's id, also in the kernel (the base chain's comment): tells it from a later guard of a port of the same name. */
  readonly id: string;
  /** The VM the port belongs to, when given. */
  readonly vm: string | undefined;
  /** True for a guard set up by another process (adoptGuard): removed only once the kernel confirms its id. */
  readonly adopted: boolean;
  readonly #netns: Netns;
  readonly #chains: string[] | undefined;
  #removed = false;

  /** @internal Made by {@link securePort} and {@link adoptGuard}. */
  constructor(init: {
    port: string;
    mac: string;
    id: string;
    vm: string | undefined;
    netns: NetnsOption | undefined;
    resolved: Netns;
    chains: string[] | undefined;
    adopted: boolean;
  }) {
    this.port = init.port;
    this.mac = init.mac;
    this.id = init.id;
    this.vm = init.vm;
    this.adopted = init.adopted;
    this.netns = init.netns;
    this.#netns = init.resolved;
    this.#chains = init.chains;
  }

  /**
   * What another process needs to manage this guard (a VM's folder keeps it); undefined when
   * the namespace was given as an fd, which means nothing to another process.
   */
  record(): GuardRecord | undefined {
    if (typeof this.#netns === 'number') return undefined;
    return {
      port: this.port,
      mac: this.mac,
      id: this.id,
      ...(this.#netns === undefined ? {} : { netns: this.#netns }),
      ...(this.vm === undefined ? {} : { vm: this.vm }),
    };
  }

  /** Whether remove() was called. */
  get removed(): boolean {
    return this.#removed;
  }

  /** What each rule matched so far, in rule order (from the kernel's counters). */
  async counters(): Promise<GuardCounter[]> {
    if (!this.#chains) return guardCounters({ port: this.port, ...(this.#netns === undefined ? {} : { netns: this.#netns }) });
    const dumps = await Promise.all(
      this.#chains.map((chain) =>
        nftTransact(
          this.#netns,
          [{ type: NFT_MSG.GETRULE, flags: NLM_F.DUMP, family: NFPROTO_NETDEV, table: GUARD_TABLE, chain }],
          false,
          'counters',
          this.port,
        ),
      ),
    );
    return countersOf(dumps.flat());
  }

  /** Removes every chain and rule of the guard (and our table when it was the last). Idempotent. */
  async remove(): Promise<void> {
    if (this.#removed) return;
    await removeGuards([this]);
  }

  /** @internal Marks the guard removed (removeGuards did it). */
  markRemoved(): void {
    this.#removed = true;
  }

  /** @internal The resolved namespace. */
  get resolvedNetns(): Netns {
    return this.#netns;
  }

  /** `await using guard = await securePort(…)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.remove();
  }
}

const VERDICT_NAMES = new Map<number, GuardCounter['verdict']>([
  [0, 'drop'],
  [1, 'accept'],
  [-3, 'jump'],
  [-5, 'return'],
]);

/** Per-rule counters from dumped rules: counter + verdict expressions, the name from the comment. */
export function countersOf(rules: NativeNftObject[]): GuardCounter[] {
  const byName = new Map<string, GuardCounter>();
  for (const r of rules) {
    const name = userdataComment(r.userdata);
    if (name === undefined) continue;
    const counter = r.expressions?.find((e) => e.kind === 'counter');
    const imm = r.expressions?.find((e) => e.kind === 'immediate');
    const entry = byName.get(name) ?? { name, verdict: VERDICT_NAMES.get(imm?.verdict ?? 0) ?? 'drop', packets: 0, bytes: 0 };
    entry.packets += counter?.packets ?? 0;
    entry.bytes += counter?.bytes ?? 0;
    byName.set(name, entry);
  }
  return [...byName.values()];
}

/**
 * Guards several ports of one namespace in ONE atomic batch (all or none): what an
 * orchestrator starting many VMs, or a host agent restoring them, wants.
 * @throws ERR_INVALID_ARG_* naming the field (`ports[3].mac`) before anything changes;
 *   NetlinkError ENODEV when a port does not exist.
 */
export async function securePorts(ports: SecurePortOptions[]): Promise<PortGuard[]> {
  if (!Array.isArray(ports)) throw invalidType('ports', 'an array of securePort options', ports);
  const resolved: ResolvedGuardOptions[] = ports.map((p, i) => {
    try {
      return resolveGuardOptions(p);
    } catch (error) {
      if (error instanceof Error && ports.length > 1) error.message = error.message.replace(/^Expected "/u, `Expected "ports[${i}].`);
      throw error;
    }
  });
  if (resolved.length === 0) return [];
  const netns = resolved[0]?.netns;
  const seen = new Set<string>();
  resolved.forEach((r, i) => {
    if (r.netns !== netns) throw invalidType(`ports[${i}].netns`, 'the same namespace as ports[0] (one batch is one namespace)', ports[i]?.netns);
    if (seen.has(r.port)) throw invalidType(`ports[${i}].port`, 'a port not already in the list', r.port);
    seen.add(r.port);
  });
  const messages: NativeNftMessage[] = [table(NFT_MSG.NEWTABLE, NLM_F.CREATE)];
  const guards: PortGuard[] = [];
  for (const [i, r] of resolved.entries()) {
    const chains = guardChains(r.policy);
    const id = newGuardId();
    messages.push(...destroyMessages(r.port), ...setupMessages(r.port, chains, { id, mac: r.policy.mac, ...(r.vm === undefined ? {} : { vm: r.vm }) }));
    guards.push(
      new PortGuard({
        port: r.port,
        mac: r.policy.mac,
        id,
        vm: r.vm,
        netns: ports[i]?.netns,
        resolved: r.netns,
        chains: chains.map((c) => chainName(r.port, c.name)),
        adopted: false,
      }),
    );
  }
  await nftTransact(
    netns,
    messages,
    true,
    'securePort',
    resolved.length === 1 ? resolved[0]?.port : `${resolved.length} ports`,
    resolved.map((r) => r.port),
  );
  return guards;
}

/**
 * Guards a VM's port: only its MAC, IPv6 only unless `allowIPv4`, sources from its prefixes
 * (or pinned addresses), no router advertisements, redirects or DHCPv6 server traffic,
 * neighbour advertisements only for its own addresses; everything else dropped and counted.
 * Securing a port that already has a guard replaces it atomically.
 *
 *     const guard = await securePort({ port: 'vm1n100', mac: '02:00:00:00:00:01',
 *                                      prefixes: ['2a0a:e5c1:111:888::/64'], routers: ['2a0a:e5c1:111:888::1'] });
 *     console.log(await guard.counters());
 *     await guard.remove();
 */
export async function securePort(options: SecurePortOptions): Promise<PortGuard> {
  checkObject('options', options);
  const [guard] = await securePorts([options]);
  return guard as PortGuard;
}

/**
 * Removes guards (of any namespaces) in one batch per namespace. Already removed ones are
 * skipped; an adopted guard ({@link adoptGuard}) is removed only while the kernel's guard on
 * its port still carries its id (else the port has a newer guard, which stays).
 */
export async function removeGuards(guards: PortGuard[]): Promise<void> {
  const byNetns = new Map<Netns, PortGuard[]>();
  for (const g of guards) {
    if (g.removed) continue;
    byNetns.set(g.resolvedNetns, [...(byNetns.get(g.resolvedNetns) ?? []), g]);
  }
  for (const [netns, all] of byNetns) {
    let list = all;
    if (all.some((g) => g.adopted)) {
      const inKernel = new Map((await kernelGuards(netns)).map((k) => [k.port, k.identity?.id]));
      list = all.filter((g) => !g.adopted || inKernel.get(g.port) === g.id);
      for (const g of all) if (!list.includes(g)) g.markRemoved();
      if (list.length === 0) continue;
    }
    await nftTransact(
      netns,
      list.flatMap((g) => destroyMessages(g.port)),
      true,
      'removeGuard',
      list.length === 1 ? list[0]?.port : `${list.length} ports`,
    );
    for (const g of list) g.markRemoved();
    await tidyTable(netns);
  }
}

/** A guard found in the kernel. */
export interface GuardedPort {
  /** The port (tap) name: the guard's base chain. */
  port: string;
  /** Whether the port exists in the namespace (false: its tap is gone). */
  present: boolean;
  /** The guard's id, the VM's MAC and the VM's name, from the base chain's comment (none for a guard of an older vmplumb). */
  id?: string;
  /** The MAC the guard allows. */
  mac?: string;
  /** The VM the port belongs to, when securePort was told. */
  vm?: string;
}

/** Every port with chains in our table of `netns`, with the identity its base chain carries. */
async function kernelGuards(netns: Netns): Promise<Array<{ port: string; identity: GuardIdentity | undefined }>> {
  let chains: NativeNftObject[];
  try {
    chains = await nftTransact(netns, [{ type: NFT_MSG.GETCHAIN, flags: NLM_F.DUMP, family: NFPROTO_NETDEV, table: GUARD_TABLE }], false, 'listGuards');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return [];
    throw error;
  }
  const ports = new Map<string, GuardIdentity | undefined>();
  for (const c of chains) {
    if (c.table !== GUARD_TABLE || c.name === undefined) continue;
    const port = c.name.split('/')[0] as string;
    if (c.name === port) ports.set(port, parseIdentity(userdataComment(c.userdata)));
    else if (!ports.has(port)) ports.set(port, undefined);
  }
  return [...ports].map(([port, identity]) => ({ port, identity }));
}

/** The guards in a namespace, whether made by this process or not. */
export async function listGuards(options: { netns?: NetnsOption } = {}): Promise<GuardedPort[]> {
  const netns = resolveNetns('netns', checkObject('options', options).netns);
  const found = await kernelGuards(netns);
  if (found.length === 0) return [];
  await using nl = await Netlink.open(netns === undefined ? {} : { netns });
  const present = await Promise.all(found.map(async ({ port }) => (await nl.getLink(port)) !== undefined));
  return found.map(({ port, identity }, i) => ({ port, present: present[i] ?? false, ...identity }));
}

/**
 * A handle on a guard another process set up, from its record (a VM's folder keeps it,
 * `guard.record()`): `counters()` and `remove()` as its maker's. Nothing is asked of the
 * kernel until then, and `remove()` removes it only while the kernel's guard on the port
 * still carries the record's id.
 * @throws ERR_INVALID_ARG_* when the record is damaged.
 */
export function adoptGuard(record: GuardRecord): PortGuard {
  const r = checkGuardRecord('record', record);
  return new PortGuard({ port: r.port, mac: r.mac, id: r.id, vm: r.vm, netns: r.netns, resolved: r.netns, chains: undefined, adopted: true });
}

/**
 * The counters of the guard on `port` (as {@link PortGuard.counters}), read from the kernel:
 * for a process that did not set the guard up (`vmplumb vm status`). Empty when the port has
 * no guard.
 */
export async function guardCounters(options: { netns?: NetnsOption; port: string }): Promise<GuardCounter[]> {
  const o = checkObject('options', options);
  const netns = resolveNetns('netns', o.netns);
  const port = checkIfname('port', o.port);
  let rules: NativeNftObject[];
  try {
    rules = await nftTransact(netns, [{ type: NFT_MSG.GETRULE, flags: NLM_F.DUMP, family: NFPROTO_NETDEV, table: GUARD_TABLE }], false, 'guardCounters', port);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return [];
    throw error;
  }
  return countersOf(rules.filter((r) => r.chain === port || (typeof r.chain === 'string' && r.chain.startsWith(`${port}/`))));
}

/** Removes the guards whose port is gone; returns their port names. */
export async function pruneGuards(options: { netns?: NetnsOption } = {}): Promise<string[]> {
  const netns = resolveNetns('netns', checkObject('options', options).netns);
  const gone = (await listGuards(options)).filter((g) => !g.present).map((g) => g.port);
  if (gone.length === 0) return [];
  await nftTransact(netns, gone.flatMap(destroyMessages), true, 'pruneGuards', `${gone.length} ports`);
  await tidyTable(netns);
  return gone;
}

/**
 * Removes the guards of `records` (adoptGuard each): what the process managing a VM does when
 * qemu has ended. Never rejects: a failure is logged (NODE_DEBUG=vmplumb), and `vmplumb gc`
 * removes a guard whose port is gone.
 */
export async function releaseGuards(records: GuardRecord[]): Promise<void> {
  if (records.length === 0) return;
  try {
    await removeGuards(records.map(adoptGuard));
  } catch (error) {
    debug('guards of %s not removed: %s', records.map((r) => r.port).join(', '), error instanceof Error ? error.message : String(error));
  }
}
