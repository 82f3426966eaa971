/**
 * VxlanNetwork: network `id` on a host, as the reference setup makes it (docs/ARCHITECTURE.md) —
 *
 *     ip -6 link add vxlan100 type vxlan id 100 dstport 4789 group ff05::100 dev eth0 ttl 5
 *     ip link add br100 type bridge ; ip link set vxlan100 master br100 up ; ip link set br100 up
 *     ip addr add 2a0a:e5c1:111:888::1/64 dev br100 ; radvd -C radvd.conf
 *
 * — and the VMs in it (a tap per VM in the bridge, qemu with the tap's fd). Set-up is a list of
 * steps that is rolled back when one fails; destroy() stops the VMs, sends the final RAs and
 * removes the links.
 */
import { EventEmitter } from 'node:events';
import { sharedAdvertisers, type AdvertiserRegistry } from './advertisers.js';
import type { AdoptedVm, NetlinkPort, NetworkDeps, NetworkStatePort } from './deps.js';
import { addressInPrefix, checkPrefix64, resolveNetworkOptions, type ResolvedNetworkOptions } from './options.js';
import { explainVxlanFailure } from './kernel-limits.js';
import { takeInternals, type NetworkInternals } from './internals.js';
import { sendFinalRa, waitForRaLock } from './final-ra.js';
import { sharedNetlinks } from './shared-netlink.js';
import { createStagedLink } from './staged-link.js';
import { NetworkSetupError, Steps } from './steps.js';
import type { QemuExit } from '../qemu/qemu.js';
import type { JoinNetworkOptions, OpenNetworkOptions, AdvertisedInterface, StartVmOptions, VmExitEvent, VxlanNetworkOptions } from './types.js';
import { checkStopOptions, NetworkVm } from './vm.js';
import { VmBook } from './vm-book.js';
import { resolveVmOptions } from './vm-options.js';
import { vxlanGroupForId } from '../netlink/vxlan-group.js';
import { netnsKeyOf, resolveNetns } from '../netns.js';
import { crashPoint } from '../state/crash-point.js';
import { creationGroup, networkLinkMark } from '../state/link-mark.js';
import type { FileLock } from '../state/lock.js';
import { releaseAndNotify } from '../state/lock-wait.js';
import type { NetworkFiles, NetworkRecord } from '../state/network-record.js';
import type { CleanupOptions, CleanupReport, InventoryOptions, NetworkListEntry } from './inventory.js';
import { claimNetwork, linkProblems, networkError, networkRecord, removeRemnants } from './records.js';
import { bytesToIPv6, checkIfname, checkInteger, checkIPv6, checkObject, invalidValue, ipv6ToBytes } from '../validate.js';
import { abortable, checkSignal, isAbortReason } from '../abort.js';
import { timeSlice } from '../time-slice.js';
import { Admission } from '../admission.js';
import { ERROR_CODES, VmplumbError } from '../errors.js';

/** Options of {@link VxlanNetwork.destroy}. */
export interface DestroyNetworkOptions {
  /** How long each VM gets to power off before it is killed (ms, default 30000). */
  timeoutMs?: number;
  /**
   * Cancels the teardown between its steps (VMs, final RAs, links): see {@link VxlanNetwork.destroy}.
   */
  signal?: AbortSignal;
}

/** Events of a network. */
export interface VxlanNetworkEvents {
  /** A VM ended; `expected` is false when it exited by itself (its tap is gone already). */
  'vm-exit': [VmExitEvent];
  /** The router advertiser failed to send or to follow the bridge (it keeps trying). */
  'ra-error': [
    Error & {
      /** The interface (bridge) the failure concerns, when it concerns one. */
      interface?: string;
    },
  ];
}

/** What the network made and must remove, or `undefined` for a joined network (owns only VMs). */
interface Owned {
  vxlan: string;
  bridge: string;
  /** The identity of the namespace whose shared advertiser serves the bridge (lib/netns.ts), when one does. */
  netnsId: string | undefined;
  advertiser: AdvertisedInterface['name'] | undefined;
  ownAdvertiser: { removeInterface(name: string): void | Promise<void> } | undefined;
  persisted: Persisted | undefined;
  /** Taken over with open(): clients may have heard another process's RAs on the bridge. */
  adopted?: boolean;
}

/** The network's record in the run directory and the locks this process holds on it. */
interface Persisted {
  state: NetworkStatePort;
  runDir: string;
  files: NetworkFiles;
  lock: FileLock;
  /** Held while this process sends the network's RAs (else `vmplumb serve` may). */
  raLock: FileLock | undefined;
  record: NetworkRecord;
}

/** A VM of the network that open() found but could not take over. */
export interface SkippedVm {
  /** The VM's name (its run-directory folder). */
  name: string;
  /** Why it was not adopted, in words (e.g. another process manages it). */
  reason: string;
}

/** The real modules, loaded on first use (tests pass fakes instead). */
let defaultDeps: Promise<NetworkDeps> | undefined;

/**
 * Creations under way in this process at once (../admission.ts): at most 256, the rest wait in
 * line and go on 128 at a time (figures: bench/FINDINGS.md, "Creations in line").
 */
const creations = new Admission(256, 128);

/** Where a network's RA errors go: to the network once it is made (before that, nowhere). */
interface RaErrorRelay {
  network?: VxlanNetwork;
}

/**
 * The advertiser's error callback, made outside create()/adopt(): a closure made there would
 * keep their whole scope (resolved options, the claim, its file paths, helper closures) alive
 * for as long as the network is served (heap snapshot, 1,024 networks: ~1 KB a network).
 */
function relayTo(relay: RaErrorRelay): (error: Error) => void {
  return (error) => relay.network?.emit('ra-error', error);
}

function loadDeps(): Promise<NetworkDeps> {
  defaultDeps ??= import('./system.js').then((m) => m.systemDeps);
  return defaultDeps;
}

/**
 * A VXLAN network with its bridge, router address and router advertisements, and the VMs
 * attached to it. Make one with {@link VxlanNetwork.create}, or attach to one another process
 * made with {@link VxlanNetwork.join}.
 */
export class VxlanNetwork extends EventEmitter<VxlanNetworkEvents> {
  /** Network id (the VNI). */
  readonly id: number;
  /** The /64 prefix the VMs configure their addresses in. */
  readonly prefix: string;
  /** The host's address on the bridge. */
  readonly routerAddress: string;
  /** Name of the vxlan link (vxlan<id> by default); undefined for a joined network, which knows only its bridge. */
  readonly vxlanName: string | undefined;
  /** Name of the bridge the VMs' taps join (br<id> by default). */
  readonly bridgeName: string;
  /** Multicast group, or undefined in unicast mode (and for joined networks). */
  readonly group: string | undefined;

  private readonly nl: NetlinkPort;
  private readonly deps: NetworkDeps;
  private readonly netns: string | number | undefined;
  private readonly owned: Owned | undefined;
  /** Made on the first VM (see ./vm-book.ts). */
  private book: VmBook | undefined;
  private readonly registry: AdvertiserRegistry;
  private destroying: Promise<void> | undefined;
  /** Progress of a teardown, which an aborted destroy() leaves for the next one to resume. */
  private teardownBegun = false;
  private raStopped = false;
  private linksDeleted = false;
  /** VMs of the network that open() found but could not take over (with why). */
  skippedVms: SkippedVm[] = [];

  private constructor(init: {
    id: number;
    prefix: string;
    routerAddress: string;
    vxlan: string | undefined;
    bridge: string;
    group: string | undefined;
    nl: NetlinkPort;
    deps: NetworkDeps;
    netns: string | number | undefined;
    owned: Owned | undefined;
    registry: AdvertiserRegistry;
  }) {
    super();
    this.id = init.id;
    this.prefix = init.prefix;
    this.routerAddress = init.routerAddress;
    this.vxlanName = init.vxlan;
    this.bridgeName = init.bridge;
    this.group = init.group;
    this.nl = init.nl;
    this.deps = init.deps;
    this.netns = init.netns;
    this.owned = init.owned;
    this.registry = init.registry;
  }

  /**
   * Makes network `id`: vxlan<id> (multicast group vxlanGroupForId(id), or unicast to `peers`)
   * in bridge br<id>, both up, the router address on the bridge, and router advertisements for
   * the prefix on the bridge. Options are validated first; when a step fails, what was made is
   * removed and the NetworkSetupError names the step (the kernel's error is its `cause`).
   * Validated calls beyond 256 under way in this process wait in line (their `signal` can
   * take them out), so that thousands at once hold little memory (docs/ARCHITECTURE.md, Scale).
   */
  static async create(options: VxlanNetworkOptions): Promise<VxlanNetwork> {
    const internals = takeInternals();
    // A caller's Promise.all over thousands of creations starts them all in one macrotask:
    // each takes its time slice before its own work (validation included; still before anything).
    await timeSlice();
    // Validation first: a bad option is reported before anything (even the addon) is loaded.
    const o = resolveNetworkOptions(options, internals.deps?.vxlanGroupForId ?? vxlanGroupForId);
    const resolvedNetns = resolveNetns('netns', o.netns);
    const d = internals.deps ?? (await loadDeps());
    const registry = internals.registry ?? sharedAdvertisers;
    const signal = checkSignal('options.signal', (options as { signal?: unknown }).signal);
    signal?.throwIfAborted();
    const steps = new Steps(`VxlanNetwork ${o.id}`, signal);
    const leave = await creations.enter(signal);
    let claim: Awaited<ReturnType<typeof claimNetwork>> | undefined;
    try {
      // A namespace given as an fd means nothing to another process: such a network is not recorded.
      if (d.state && typeof resolvedNetns !== 'number') claim = await claimNetwork(d.state, (options as { runDir?: unknown }).runDir, o.netnsKey, o.id);
      return await VxlanNetwork.build(o, d, registry, steps, claim, resolvedNetns, internals);
    } catch (error) {
      claim?.lock.release();
      throw error;
    } finally {
      leave();
    }
  }

  private static async build(
    o: ResolvedNetworkOptions,
    d: NetworkDeps,
    registry: AdvertiserRegistry,
    steps: Steps,
    claim: (Omit<Persisted, 'raLock' | 'record'> & { previous: NetworkRecord | undefined }) | undefined,
    resolvedNetns: string | number | undefined,
    internals: NetworkInternals,
  ): Promise<VxlanNetwork> {
    const { vxlan, bridge } = o.names;
    // The namespace's one connection, shared by all its networks however they name the
    // namespace (keyed by its identity, lib/netns.ts), released by destroy().
    let netnsId = '';
    const nl = await steps.run(
      `open rtnetlink${o.netns === undefined ? '' : ` in namespace ${String(o.netns)}`}`,
      () => {
        netnsId = d.netnsIdentity(o.netns);
        return (internals.netlinks ?? sharedNetlinks).acquire(d, netnsId, () => d.openNetlink(o.netns));
      },
      (n) => n.close(),
    );
    let persisted: Persisted | undefined;
    if (claim) {
      const { previous } = claim;
      if (previous) {
        // A create or destroy that died half-way left this: finish removing it first, so a
        // repeated create is idempotent and leaks nothing.
        await steps.run(`remove what a crashed ${previous.state === 'creating' ? 'create' : 'destroy'} left of network ${o.id}`, () =>
          removeRemnants(nl, previous, claim.state, claim.runDir),
        );
      }
      const record = networkRecord(o, resolvedNetns, 'creating', o.ra === false ? false : raInterface(o));
      persisted = { state: claim.state, runDir: claim.runDir, files: claim.files, lock: claim.lock, raLock: undefined, record };
      await steps.run(
        `record network ${o.id} in ${claim.runDir}`,
        () => claim.state.write(claim.files, record),
        () => claim.state.remove(claim.files),
      );
    }
    // A recorded network's links are ours from the moment they exist: made in the run
    // directory's creation group, then marked (alias) while still down, then up (./staged-link.ts).
    // A bridge port needs no IPv6 of its own. With a link-local address every vxlan would run
    // DAD, send MLD reports and router solicitations, each a VXLAN packet whose route lookup
    // walks every interface's ff00::/8 route (perf, 1,024 creations: 17 % of all samples in
    // __find_rr_leaf, a third of it the vxlans' own). The mode must be set while the vxlan is
    // down: within one request the kernel applies `up` first.
    const make = (name: string, create: (up: boolean, linkGroup: number | undefined) => Promise<void>, addrGenMode?: 'none'): Promise<void> =>
      claim
        ? createStagedLink(nl, {
            name,
            group: creationGroup(claim.runDir),
            alias: networkLinkMark(claim.runDir, o.id),
            ...(addrGenMode === undefined ? {} : { addrGenMode }),
            create: (group) => create(false, group),
          })
        : create(true, undefined);
    await steps.run(
      `create bridge ${bridge}`,
      () =>
        make(bridge, (up, linkGroup) =>
          nl.createBridge({ name: bridge, up, ...(linkGroup === undefined ? {} : { linkGroup }), ...(o.mtu === undefined ? {} : { mtu: o.mtu }) }),
        ),
      () => nl.deleteLink(bridge),
    );
    await steps.run(
      `create ${vxlan} on underlay ${o.underlay}`,
      () =>
        make(
          vxlan,
          async (up, linkGroup) => {
            await nl.createVxlan({ ...vxlanOptions(o), name: vxlan, up: false, ...(linkGroup === undefined ? {} : { linkGroup }) });
            // Recorded: the mode goes with the mark (./staged-link.ts), one request less.
            if (!up) return;
            await nl.setLink(vxlan, { addrGenMode: 'none' });
            await nl.setLink(vxlan, { up: true });
          },
          'none',
        ).catch((error: unknown) => {
          throw explainVxlanFailure(error, o.group, o.port);
        }),
      () => nl.deleteLink(vxlan),
    );
    for (const peer of o.peers) {
      // Head-end replication: broadcast and unknown unicast go to every peer (bridge(8) fdb append).
      await steps.run(`add FDB entry for peer ${peer} on ${vxlan}`, () => nl.addFdb({ link: vxlan, mac: '00:00:00:00:00:00', dst: peer, append: true }));
    }
    // nodad: the router address is ours by configuration, and RAs must not wait for DAD.
    await steps.run(`add ${o.routerAddress}/64 to ${bridge}`, () => nl.addAddress(bridge, `${o.routerAddress}/64`, { nodad: true }));

    // The network is made after the steps; RA failures before that have nobody to tell.
    const relay: RaErrorRelay = {};
    let owned: Owned = { vxlan, bridge, netnsId: undefined, advertiser: undefined, ownAdvertiser: undefined, persisted: undefined };
    if (o.ra !== false) {
      const config = raInterface(o);
      const own = o.ra.advertiser;
      const p = persisted;
      const raLock = p
        ? await steps.run(
            `take the RA lock of network ${o.id}`,
            async () => p.state.lockRa(p.files),
            (l) => l?.release(),
          )
        : undefined;
      if (p) p.raLock = raLock;
      if (own) {
        await steps.run(
          `add ${bridge} to the router advertiser`,
          () => own.addInterface(config),
          () => own.removeInterface(bridge),
        );
        owned = { ...owned, advertiser: bridge, ownAdvertiser: own };
      } else if (persisted && !raLock) {
        // Another process (vmplumb serve) holds the network's RA lock: it advertises.
      } else {
        await steps.run(
          `start router advertisements on ${bridge}`,
          () => registry.add(netnsId, o.netns, config, d.createAdvertiser, relayTo(relay)),
          () => registry.remove(netnsId, bridge),
        );
        owned = { ...owned, advertiser: bridge, netnsId };
      }
    }
    if (persisted) {
      const p = persisted;
      p.record = { ...p.record, state: 'ready' };
      await steps.run(`record network ${o.id} as ready`, () => p.state.write(p.files, p.record));
    }
    steps.commit();
    owned = { ...owned, persisted };
    const network = new VxlanNetwork({
      id: o.id,
      prefix: o.prefix,
      routerAddress: o.routerAddress,
      vxlan,
      bridge,
      group: o.group,
      nl,
      deps: d,
      netns: o.netns,
      owned,
      registry,
    });
    relay.network = network;
    return network;
  }

  /**
   * Takes over network `id` as recorded in the run directory, as if this process had made it:
   * checks its links against the kernel, attaches its running VMs (Qemu.attach; those it
   * cannot take over are listed in `skippedVms`), and resumes its router advertisements with
   * the recorded config (unless another process, e.g. `vmplumb serve`, sends them). Then
   * `destroy()` removes everything, VMs included, and `close()` hands over again.
   *
   * @throws ENOENT when the network is not recorded, ERR_NETWORK_INCOMPLETE when a process
   *   died creating or destroying it (VxlanNetwork.cleanup() removes it), EBUSY when another
   *   process manages it, ERR_NETWORK_STATE when the kernel disagrees with the record (a
   *   link missing or changed: reported, nothing is touched).
   */
  static async open(options: OpenNetworkOptions): Promise<VxlanNetwork> {
    const internals = takeInternals();
    const o = checkObject('options', options);
    const id = checkInteger('id', o.id, 0, 16777215);
    const resolved = resolveNetns('netns', o.netns);
    if (typeof resolved === 'number') throw invalidValue('netns', 'a namespace name or path', o.netns);
    const netnsKey = netnsKeyOf(resolved);
    const d = internals.deps ?? (await loadDeps());
    const registry = internals.registry ?? sharedAdvertisers;
    const st = d.state;
    if (!st) throw new VmplumbError(ERROR_CODES.UNSUPPORTED, `VxlanNetwork ${id}: these dependencies keep no host state`);
    const runDir = st.resolveRunDir(o.runDir);
    const files = st.files(runDir, netnsKey, id);
    const record = await st.read(files).catch((error: unknown) => {
      if ((error as { code?: string }).code === 'ENOENT')
        throw networkError(id, 'ENOENT', `not recorded in ${runDir}${resolved === undefined ? '' : ` for namespace ${resolved}`}`);
      throw error;
    });
    const lock = await st.lock(files);
    if (!lock) throw networkError(id, 'EBUSY', 'another process is managing this network');
    if (record.state !== 'ready') {
      lock.release();
      throw networkError(
        id,
        'ERR_NETWORK_INCOMPLETE',
        `a process died while ${record.state === 'creating' ? 'creating' : 'destroying'} it; VxlanNetwork.cleanup() (vmplumb gc) removes what is left`,
      );
    }
    let nl: NetlinkPort | undefined;
    let adopted: Awaited<ReturnType<NetworkStatePort['adoptVms']>> | undefined;
    let raLock: FileLock | undefined;
    try {
      nl = await d.openNetlink(record.netns);
      const problems = await linkProblems(nl, record, runDir);
      if (problems.length > 0) throw networkError(id, 'ERR_NETWORK_STATE', `the kernel disagrees with ${files.record}: ${problems.join('; ')}`);
      adopted = await st.adoptVms(runDir, netnsKey, id);
      const relay: RaErrorRelay = {};
      let owned: Owned = {
        vxlan: record.vxlan,
        bridge: record.bridge,
        netnsId: undefined,
        advertiser: undefined,
        ownAdvertiser: undefined,
        persisted: undefined,
      };
      if (record.ra !== false) {
        raLock = await st.lockRa(files);
        if (raLock) {
          const netnsId = d.netnsIdentity(record.netns);
          await registry.add(netnsId, record.netns, record.ra, d.createAdvertiser, relayTo(relay));
          owned = { ...owned, advertiser: record.bridge, netnsId };
        }
      }
      owned = { ...owned, persisted: { state: st, runDir, files, lock, raLock, record }, adopted: true };
      const network = new VxlanNetwork({
        id,
        prefix: record.prefix,
        routerAddress: record.routerAddress,
        vxlan: record.vxlan,
        bridge: record.bridge,
        group: record.group,
        nl,
        deps: d,
        netns: record.netns,
        owned,
        registry,
      });
      relay.network = network;
      for (const vm of adopted.vms) network.adopt(vm);
      network.skippedVms = adopted.skipped;
      return network;
    } catch (error) {
      for (const vm of adopted?.vms ?? []) vm.qemu.close?.();
      raLock?.release();
      await Promise.resolve(nl?.close()).catch(() => undefined);
      lock.release();
      throw error;
    }
  }

  /** Every recorded network with its condition as the kernel and the lock holders say it. */
  static async list(options: InventoryOptions = {}): Promise<NetworkListEntry[]> {
    const internals = takeInternals();
    // Loaded on use, like the system modules: they load the addon.
    const { listNetworks } = await import('./inventory.js');
    return listNetworks(internals.deps ?? (await loadDeps()), options);
  }

  /**
   * Removes what crashed processes left half-made: VM folders with no qemu (and a tap that
   * lingers), networks whose create or destroy died half-way, links of networks with no
   * record (known by their mark, lib/state/link-mark.ts, in the current namespace, those the
   * run directory names and `netns`), temp files. Never touches a running VM, a network a
   * live process manages, or a link without our mark. Same as `vmplumb gc`.
   */
  static async cleanup(options: CleanupOptions = {}): Promise<CleanupReport> {
    const internals = takeInternals();
    const { cleanupHost } = await import('./inventory.js');
    return cleanupHost(internals.deps ?? (await loadDeps()), options);
  }

  private get vmBook(): VmBook {
    return (this.book ??= new VmBook());
  }

  /** Makes the handle of a VM found in the run directory. */
  private adopt({ qemu, metadata, guard }: AdoptedVm): void {
    const { id, mac, address, tap } = metadata.vm;
    const name = `vm${id}n${this.id}`;
    const tapPort = { name: tap, close: (): void => undefined };
    const vm = new NetworkVm({ id, name, mac, address, tap: tapPort, qemu, tapGone: () => this.waitLinkGone(tap), guard }, (v, exit, expected) =>
      this.onVmExit(v, exit, expected),
    );
    this.vmBook.vms.set(id, vm);
    this.vmBook.usedTaps.add(tap);
  }

  /**
   * Attaches to network `id` made by another process (e.g. `vmplumb net up`): finds its bridge
   * (br<id>) and, unless given, its prefix from the bridge's global /64 address. The returned
   * object owns only the VMs it starts: destroy() stops them and leaves the network alone.
   */
  static async join(options: JoinNetworkOptions): Promise<VxlanNetwork> {
    const internals = takeInternals();
    const o = checkObject('options', options);
    const id = checkInteger('id', o.id, 0, 16777215);
    const bridge = o.bridge === undefined ? `br${id}` : checkIfname('bridge', o.bridge);
    const givenPrefix = o.prefix === undefined ? undefined : checkPrefix64('prefix', o.prefix);
    resolveNetns('netns', o.netns);
    const netns = o.netns as string | number | undefined;
    const d = internals.deps ?? (await loadDeps());
    const nl = await d.openNetlink(netns);
    try {
      const link = await nl.getLink(bridge);
      if (!link)
        throw new VmplumbError(
          ERROR_CODES.NOT_FOUND,
          `VxlanNetwork ${id}: there is no bridge ${bridge}${netns === undefined ? '' : ` in namespace ${String(netns)}`} (start the network first, e.g. vmplumb net up --id ${id} …)`,
        );
      if (link.kind !== 'bridge') throw new VmplumbError(ERROR_CODES.NOT_FOUND, `VxlanNetwork ${id}: ${bridge} is a ${link.kind ?? 'device'}, not a bridge`);
      let prefix = givenPrefix;
      let routerAddress: string | undefined;
      const global = (await nl.listAddresses(bridge)).filter((a) => a.family === 6 && a.prefixLength === 64 && a.scope === 'universe');
      if (prefix === undefined) {
        const first = global[0];
        if (!first)
          throw new VmplumbError(ERROR_CODES.NOT_FOUND, `VxlanNetwork ${id}: ${bridge} has no global IPv6 /64 address to take the prefix from (give "prefix")`);
        const bytes = ipv6ToBytes(first.address);
        bytes.fill(0, 8);
        prefix = `${bytesToIPv6(bytes)}/64`;
        routerAddress = first.address;
      }
      return new VxlanNetwork({
        id,
        prefix,
        routerAddress: routerAddress ?? global[0]?.address ?? addressInPrefix(prefix, 1),
        vxlan: undefined,
        bridge,
        group: undefined,
        nl,
        deps: d,
        netns,
        owned: undefined,
        registry: sharedAdvertisers,
      });
    } catch (error) {
      await nl.close();
      throw error;
    }
  }

  /** The VMs running in this network. */
  get vmList(): NetworkVm[] {
    return [...(this.book?.vms.values() ?? [])];
  }

  /** Whether destroy() has been called. */
  get destroyed(): boolean {
    return this.destroying !== undefined || this.teardownBegun;
  }

  /**
   * Starts VM `id` in the network: opens its tap (vm<id>n<netid>), puts it in the bridge, brings
   * it up and spawns qemu with the tap's fd. The handle's `address` is the one the guest will
   * configure from the network's RAs. On failure the tap is removed again.
   */
  startVm(options: StartVmOptions): Promise<NetworkVm> {
    if (this.destroyed) return Promise.reject(new VmplumbError(ERROR_CODES.INVALID_STATE, `VxlanNetwork ${this.id}: destroyed`));
    // destroy() waits for starts in flight, so a VM cannot slip past the teardown.
    const start = this.startVmNow(options);
    const settled = start.then(
      () => undefined,
      () => undefined,
    );
    this.vmBook.inFlight.add(settled);
    void settled.then(() => this.vmBook.inFlight.delete(settled));
    return start;
  }

  private async startVmNow(options: StartVmOptions): Promise<NetworkVm> {
    const o = resolveVmOptions(options, this.id);
    const signal = checkSignal('options.signal', (options as { signal?: unknown }).signal);
    signal?.throwIfAborted();
    if (this.vmBook.vms.has(o.id) || this.vmBook.starting.has(o.id)) throw invalidValue('id', 'the id of no other VM in this network', o.id);
    if (this.vmBook.usedTaps.has(o.tap)) throw invalidValue('tap', 'a tap name no other VM of this network uses', o.tap);
    const mac = o.mac ?? this.deps.macForVm(o.id);
    const address = this.deps.eui64Address(this.prefix, mac);
    const name = `vm${o.id}n${this.id}`;
    const persisted = this.owned?.persisted;
    this.vmBook.starting.add(o.id);
    this.vmBook.usedTaps.add(o.tap);
    const steps = new Steps(`VM ${o.id} in network ${this.id}`, signal);
    try {
      const tap = await steps.run(
        `open tap ${o.tap}`,
        () => this.deps.openTap({ name: o.tap, ...(this.netns === undefined ? {} : { netns: this.netns }) }),
        (t) => t.close(),
      );
      // Guarded before it joins the bridge: not one frame of the guest's goes unchecked.
      const securePort = this.deps.securePort;
      const guard =
        o.guard && securePort
          ? await steps.run(
              `guard ${tap.name}`,
              () =>
                securePort({
                  port: tap.name,
                  vm: name,
                  mac,
                  prefixes: [this.prefix],
                  routers: [this.routerAddress],
                  ...o.guard,
                  ...(this.netns === undefined ? {} : { netns: this.netns }),
                }),
              (g) => g.remove(),
            )
          : undefined;
      await steps.run(`put ${tap.name} in ${this.bridgeName}`, () => this.nl.setLink(tap.name, { master: this.bridgeName, up: true }));
      const qemu = await steps.run(`spawn qemu for ${name}`, () =>
        this.deps.spawnQemu({
          name,
          memoryMiB: o.memoryMiB,
          cpus: o.cpus,
          nics: [{ tap, mac, ...(guard === undefined ? {} : { guard }) }],
          ...(signal === undefined ? {} : { signal }),
          ...pick(o, ['uuid', 'accel', 'cdrom', 'disks', 'kernel', 'initrd', 'append', 'serial', 'qemuBinary', 'extraArgs']),
          ...(persisted
            ? {
                runDir: persisted.runDir,
                metadata: { network: { id: this.id, netnsKey: persisted.record.netnsKey }, vm: { id: o.id, mac, address, tap: tap.name } },
              }
            : {}),
        }),
      );
      steps.commit();
      // The guard went to qemu with the tap: whichever process manages the VM when it ends
      // removes it (the kernel keeps a netdev guard whose tap is gone).
      const tapGone = (): Promise<void> => this.waitLinkGone(tap.name);
      const vm = new NetworkVm({ id: o.id, name, mac, address, tap, qemu, tapGone, guard }, (v, exit, expected) => this.onVmExit(v, exit, expected));
      this.vmBook.vms.set(o.id, vm);
      return vm;
    } catch (error) {
      this.vmBook.usedTaps.delete(o.tap);
      throw error;
    } finally {
      this.vmBook.starting.delete(o.id);
    }
  }

  /**
   * The kernel unregisters a tap when its last fd closes, which happens as qemu exits; wait
   * for it so that 'vm-exit' and `exited` mean "the tap is gone", and remove it if it lingers.
   */
  private async waitLinkGone(name: string, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const link = await this.nl.getLink(name).catch(() => undefined);
      if (!link) return;
      if (Date.now() > deadline) {
        await this.nl.deleteLink(name).catch(() => undefined);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private onVmExit(vm: NetworkVm, exit: QemuExit, expected: boolean): void {
    this.vmBook.vms.delete(vm.id);
    this.vmBook.usedTaps.delete(vm.tap);
    this.emit('vm-exit', { id: vm.id, name: vm.name, tap: vm.tap, exit, expected });
  }

  /** Adds a unicast peer VTEP (`bridge fdb append 00:00:00:00:00:00 dev vxlan<id> dst PEER`). */
  async addPeer(address: string): Promise<void> {
    if (!this.vxlanName) throw new VmplumbError(ERROR_CODES.UNSUPPORTED, `VxlanNetwork ${this.id}: joined networks have no vxlan of their own`);
    await this.nl.addFdb({ link: this.vxlanName, mac: '00:00:00:00:00:00', dst: checkIPv6('address', address), append: true });
  }

  /** Removes a unicast peer VTEP. */
  async removePeer(address: string): Promise<void> {
    if (!this.vxlanName) throw new VmplumbError(ERROR_CODES.UNSUPPORTED, `VxlanNetwork ${this.id}: joined networks have no vxlan of their own`);
    await this.nl.deleteFdb({ link: this.vxlanName, mac: '00:00:00:00:00:00', dst: checkIPv6('address', address) });
  }

  /**
   * Stops the VMs, sends the final router advertisements (router lifetime 0), removes the
   * vxlan and the bridge and closes the netlink socket. Idempotent; a joined network only stops
   * its VMs. Rejects with an AggregateError when a part failed (the rest is still done).
   *
   * With `signal`: an already-aborted signal rejects before anything changes. Once begun, the
   * record says 'destroying' before the first step that cannot be undone; an abort then kills
   * the VMs still powering off (as `Qemu#shutdown` does), stops before the next step (final
   * RAs, links) and rejects with `signal.reason` — at once also while it waits for another
   * process (`vmplumb serve`) to let go of the network's RAs. What was done stays done and the rest stays
   * recorded as 'destroying': the network refuses startVm(), and a later destroy() (or
   * VxlanNetwork.cleanup() from any process) completes the removal. An abort once the links
   * are deleted is too late: destroy() finishes.
   */
  destroy(options: DestroyNetworkOptions = {}): Promise<void> {
    let timeoutMs: number;
    let signal: AbortSignal | undefined;
    try {
      ({ timeoutMs, signal } = checkStopOptions(options));
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return this.joinTeardown(timeoutMs, signal);
  }

  /** One teardown at a time; a caller whose run was aborted by another caller's signal starts the next run. */
  private async joinTeardown(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      const run = (this.destroying ??= this.teardown(timeoutMs, signal));
      try {
        return await run;
      } catch (error) {
        if (this.destroying === run || signal?.aborted) throw error;
      }
    }
  }
  /**
   * Hands the network over without changing it: its VMs keep running (released for another
   * process to attach), its links stay, and its router advertisements stop with no final RA
   * (router lifetime 0 is for a router that goes away, not for an agent restart), so clients
   * keep their default route until the next process resumes them with open(). Idempotent;
   * destroy() after close() does nothing.
   */
  close(): Promise<void> {
    this.destroying ??= this.handover();
    return this.destroying;
  }

  private async handover(): Promise<void> {
    await Promise.all([...(this.book?.inFlight ?? [])]);
    for (const vm of this.book?.vms.values() ?? []) vm.release();
    const owned = this.owned;
    if (owned?.advertiser !== undefined && !owned.ownAdvertiser) {
      await this.registry.remove(owned.netnsId ?? '', owned.advertiser, { final: false }).catch(() => undefined);
    }
    // Touched as it is freed: `vmplumb serve` (following the record folders) takes the RAs over at once.
    const raLock = owned?.persisted?.raLock;
    if (raLock) releaseAndNotify(raLock);
    owned?.persisted?.lock.release();
    await Promise.resolve(this.nl.close()).catch(() => undefined);
  }

  private async teardown(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.teardownSteps(timeoutMs, signal);
    } catch (error) {
      // An aborted run: the next destroy() resumes where this one stopped.
      if (isAbortReason(signal, error)) this.destroying = undefined;
      throw error;
    }
  }

  private async teardownSteps(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    const errors: Error[] = [];
    const note =
      (what: string) =>
      (error: unknown): void => {
        errors.push(new Error(`${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
      };
    await abortable(Promise.all([...(this.book?.inFlight ?? [])]), signal);
    // Concurrent destroys resume together (after one record batch, one bulk deletion): each
    // takes its time slice before its next stretch of work.
    await timeSlice();
    this.teardownBegun = true;
    const p = this.owned?.persisted;
    if (p && p.record.state !== 'destroying') {
      // From here a crash (or an abort) leaves a record that says so: cleanup finishes the removal.
      p.record = { ...p.record, state: 'destroying' };
      await p.state.write(p.files, p.record);
      crashPoint(`VxlanNetwork ${this.id} destroy: record says destroying`);
      // A record batch resumes up to 128 destroys at once; their final RAs (a sendmsg each
      // through bridge and vxlan) take turns.
      await timeSlice();
    }
    const stopOptions = { timeoutMs, ...(signal === undefined ? {} : { signal }) };
    await Promise.all(this.vmList.map((vm) => vm.stop(stopOptions).then(() => undefined, note(`stop ${vm.name}`))));
    crashPoint(`VxlanNetwork ${this.id} destroy: VMs stopped`);
    const owned = this.owned;
    if (!this.linksDeleted) signal?.throwIfAborted();
    if (p && !this.linksDeleted && !this.raStopped && p.record.ra !== false && owned?.advertiser === undefined) {
      // Another process sends the RAs (vmplumb serve): it lets go on seeing 'destroying', and the final RA is ours (./final-ra.ts).
      // An abort during the wait rejects here: recorded as destroying, links and VMs' state as
      // they are, no final RA sent; the next destroy() (or cleanup) goes on from this step.
      p.raLock ??= await waitForRaLock(p.state, p.files, { signal });
      // Not sent (no carrier, or never ready) is reported by sendFinalRa, not an error of the teardown.
      await sendFinalRa(this.registry, this.deps, p.record, this.nl);
      this.raStopped = true;
      crashPoint(`VxlanNetwork ${this.id} destroy: final RAs sent`);
      signal?.throwIfAborted();
    }
    if (owned && !this.linksDeleted) {
      if (owned.advertiser !== undefined && !this.raStopped) {
        const name = owned.advertiser;
        // Adopted: the bridge may not be served yet here, but clients heard the previous
        // process: the final RA waits for it to be ready (./final-ra.ts).
        const stopping = owned.ownAdvertiser
          ? Promise.resolve().then(() => owned.ownAdvertiser?.removeInterface(name))
          : owned.adopted && p
            ? sendFinalRa(this.registry, this.deps, p.record, this.nl)
            : this.registry.remove(owned.netnsId ?? '', name);
        await stopping.catch(note(`stop router advertisements on ${name}`));
        this.raStopped = true;
        crashPoint(`VxlanNetwork ${this.id} destroy: final RAs sent`);
        signal?.throwIfAborted();
      }
      // Both links in one bulk deletion shared with the other networks of the namespace being
      // destroyed meanwhile; one by one (the vxlan first, reverse order of the reference
      // set-up) where bulk deletion is not offered.
      const links = [owned.vxlan, owned.bridge];
      if (this.nl.deleteLinks) {
        await this.nl.deleteLinks(links).catch(note(`delete ${links.join(' and ')}`));
        crashPoint(`VxlanNetwork ${this.id} destroy: links deleted`);
      } else {
        for (const link of links) {
          await this.nl.deleteLink(link).catch((error: unknown) => {
            if ((error as { code?: string }).code !== 'ENODEV') note(`delete ${link}`)(error);
          });
          crashPoint(`VxlanNetwork ${this.id} destroy: ${link} deleted`);
        }
      }
      this.linksDeleted = true;
      await timeSlice();
    }
    if (p) {
      if (errors.length === 0) await p.state.remove(p.files);
      crashPoint(`VxlanNetwork ${this.id} destroy: record removed`);
      p.raLock?.release();
      p.lock.release();
    }
    await Promise.resolve(this.nl.close()).catch(note('close rtnetlink'));
    if (errors.length > 0) {
      throw new AggregateError(errors, `VxlanNetwork ${this.id}: teardown incomplete: ${errors.map((e) => e.message).join('; ')}`);
    }
  }

  /** `await using net = await VxlanNetwork.create(…)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** The vxlan as the reference `ip -6 link add … type vxlan` makes it, enslaved (and up) in the same request. */
function vxlanOptions(o: ResolvedNetworkOptions): Parameters<NetlinkPort['createVxlan']>[0] {
  return {
    name: o.names.vxlan,
    vni: o.id,
    dev: o.underlay,
    port: o.port,
    ttl: o.ttl,
    master: o.names.bridge,
    // Up only once its IPv6 address generation is off (see build()).
    up: false,
    // Unicast mode: `remote ::` is what `ip -6 link add … type vxlan` sends without a group
    // (IFLA_VXLAN_GROUP6 = ::). It makes the vxlan's default family IPv6, without which the
    // kernel refuses IPv6 FDB destinations (EAFNOSUPPORT); :: itself floods to nobody.
    ...(o.group === undefined ? { remote: '::' } : { group: o.group }),
    ...(o.local === undefined ? {} : { local: o.local }),
    ...(o.mtu === undefined ? {} : { mtu: o.mtu }),
  };
}

/** The bridge's RA interface, as the reference radvd.conf. */
function raInterface(o: ResolvedNetworkOptions): AdvertisedInterface {
  if (o.ra === false) throw new Error('unreachable');
  const life = o.ra.dnsLifetime;
  return {
    name: o.names.bridge,
    minInterval: o.ra.minInterval,
    maxInterval: o.ra.maxInterval,
    defaultLifetime: o.ra.defaultLifetime,
    prefixes: [{ prefix: o.prefix }],
    rdnss: o.rdnss.length === 0 ? [] : [{ servers: o.rdnss, lifetime: life }],
    dnssl: o.dnssl.length === 0 ? [] : [{ domains: o.dnssl, lifetime: life }],
    ...(o.mtu === undefined ? {} : { mtu: o.mtu }),
    ...(o.pref64 === undefined ? {} : { pref64: o.pref64 }),
    // Only when asked: a record without it reads the same in a process that predates it.
    ...(o.ra.followForwarding ? { followForwarding: true } : {}),
  };
}

export { NetworkSetupError };
