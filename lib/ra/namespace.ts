/**
 * One raw ICMPv6 socket, one interface monitor and one timer queue per network namespace,
 * shared (reference-counted) by every RouterAdvertiser in it: a host with hundreds of
 * networks has one RA socket per namespace, not one per bridge.
 *
 * The namespace joins ff02::2 (all-routers) on each served interface, since the host does not
 * forward and so has not joined it itself, and routes each received solicitation to the
 * interface advertiser of its ifindex. The memberships are held by membership-only sockets
 * (./memberships.ts), not by the raw socket: there they would use up the option memory its
 * sendmsg with IPV6_PKTINFO needs (ENOBUFS past ~2,340 interfaces at the default
 * net.core.optmem_max).
 */
import { constants as osConstants } from 'node:os';
import { native, type NativeIcmp6Socket, type NativeNetns } from '../native.js';
import { netnsIdentity } from '../netns.js';
import { ipv6ToBytes } from '../validate.js';
import { systemClock, type Clock } from './clock.js';
import { ALL_ROUTERS } from './constants.js';
import type { InterfaceAdvertiser, LinkInfo } from './interface-advertiser.js';
import { NetlinkInterfaceMonitor, type InterfaceMonitor } from './monitor.js';
import { TimerQueue } from './timer-queue.js';
import { FrameBatch, type FrameSender } from './frame-batch.js';
import { GroupMemberships } from './memberships.js';
import { ForwardingWatch } from './forwarding.js';
import { ERROR_CODES, VmplumbError } from '../errors.js';

const ALL_ROUTERS_BYTES = ipv6ToBytes(ALL_ROUTERS);
/** 33:33 + the low 32 bits of ff02::1 (RFC 2464 §7): where every periodic RA goes. */
const ALL_NODES_MAC = Buffer.from([0x33, 0x33, 0, 0, 0, 1]);
const { EADDRINUSE } = osConstants.errno;

/** Something that wants to hear about namespace-level failures (socket or monitor). */
export type NamespaceErrorListener = (error: Error) => void;

interface Served {
  iface: InterfaceAdvertiser;
  /** The interface as the monitor last reported it (undefined: not ready). */
  link: LinkInfo | undefined;
  index: number | undefined;
  unwatch: () => void;
  /** Reports a failed ff02::2 join. */
  onJoinError: (errno: number, index: number) => void;
}

/** Keyed by netnsIdentity(): two paths to one namespace share its socket. */
const registry = new Map<string, Promise<RaNamespace>>();

/** The shared RA machinery of one namespace. */
export class RaNamespace {
  readonly queue: TimerQueue;
  private refs = 1;
  private readonly served = new Map<string, Served>();
  private readonly byIndex = new Map<number, InterfaceAdvertiser>();
  private readonly errorListeners = new Set<NamespaceErrorListener>();
  /** ff02::2 on the served interfaces, held by membership-only sockets (joins and leaves on the thread pool). */
  private readonly memberships: GroupMemberships;
  /** The multicast RAs of the current tick, sent together (frames fail EBADF once closed). */
  private readonly frames = new FrameBatch(() => (this.closed ? undefined : this.socket), ALL_NODES_MAC);
  private closed = false;
  /** The namespace's IPv6 forwarding, opened for the first interface that follows it. */
  private forwarding: ForwardingWatch | undefined;

  private constructor(
    private readonly key: string,
    private readonly socket: NativeIcmp6Socket,
    private readonly monitor: InterfaceMonitor,
    private readonly netns: NativeNetns,
    clock: Clock,
  ) {
    this.queue = new TimerQueue(clock);
    this.memberships = new GroupMemberships({
      group: ALL_ROUTERS_BYTES,
      open: () => new native.Ipv6MembershipSocket(netns),
      onFailure: (error) => this.fail(error),
    });
  }

  /**
   * The namespace's shared instance, opened on first use (socket inside the namespace, then
   * the netlink monitor). Each acquire needs one release.
   */
  static async acquire(netns: string | number | undefined): Promise<RaNamespace> {
    const key = netnsIdentity(netns);
    const existing = registry.get(key);
    if (existing) {
      const ns = await existing;
      // It may have been released to zero while we waited: then open a fresh one.
      if (ns.closed) return RaNamespace.acquire(netns);
      ns.refs += 1;
      return ns;
    }
    const opening = RaNamespace.open(key, netns);
    registry.set(key, opening);
    try {
      return await opening;
    } catch (error) {
      registry.delete(key);
      throw error;
    }
  }

  private static async open(key: string, netns: string | number | undefined): Promise<RaNamespace> {
    let ns: RaNamespace | undefined;
    const socket = new native.Icmp6Socket(
      netns,
      (ifindex, source, _destination, hopLimit, data, truncated) => ns?.receive(ifindex, source, hopLimit, data, truncated),
      (error) => ns?.fail(error),
    );
    let monitor: InterfaceMonitor;
    try {
      monitor = await NetlinkInterfaceMonitor.open(netns, (error) => ns?.fail(error));
    } catch (error) {
      socket.close();
      throw error;
    }
    ns = new RaNamespace(key, socket, monitor, netns, systemClock);
    return ns;
  }

  /** Hears socket and monitor failures (returns the unsubscribe function). */
  onError(listener: NamespaceErrorListener): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  private fail(error: Error): void {
    for (const l of [...this.errorListeners]) l(error);
  }

  private receive(ifindex: number, source: Buffer, hopLimit: number, data: Buffer, truncated: boolean): void {
    // Solicitations on interfaces nobody serves are none of our business (not even counted).
    this.byIndex.get(ifindex)?.solicit(source, hopLimit, data, truncated);
  }

  /** Sends one ICMPv6 message (0 or a positive errno). */
  transmit = (index: number, source: Buffer, destination: Buffer, message: Buffer): number => {
    if (this.closed) return osConstants.errno.EBADF;
    return this.socket.send(index, source, destination, message);
  };

  /** Queues a whole IPv6 packet to ff02::1 for this tick's batch, sent in slices (see ./frame-batch.ts). */
  queueFrame = (sender: FrameSender, index: number, packet: Buffer, final: boolean, solicited: boolean): void => {
    this.frames.queue(sender, index, packet, final, solicited);
  };

  /** Whether `name` is served by some advertiser in this namespace. */
  serves(name: string): boolean {
    return this.served.has(name);
  }

  /** Starts serving `iface` as soon as its interface is ready. The name must be free (see serves()). */
  attach(iface: InterfaceAdvertiser, onJoinError: (errno: number, index: number) => void): void {
    const name = iface.name;
    if (this.served.has(name)) throw new VmplumbError(ERROR_CODES.EXISTS, `interface ${name} is already served in this namespace`);
    const entry: Served = { iface, link: undefined, index: undefined, unwatch: () => {}, onJoinError };
    this.served.set(name, entry);
    entry.unwatch = this.monitor.watch(name, (link) => this.update(entry, link));
  }

  private update(entry: Served, link: LinkInfo | undefined): void {
    const index = link?.index;
    if (entry.index !== index) {
      this.forgetIndex(entry);
      entry.index = index;
      if (index !== undefined) {
        this.byIndex.set(index, entry.iface);
        this.memberships.join(index, (errno) => {
          // Reported only while the entry still serves that interface.
          if (errno !== EADDRINUSE && entry.index === index && this.served.get(entry.iface.name) === entry) entry.onJoinError(errno, index);
        });
      }
    }
    entry.link = link;
    this.deliver(entry);
  }

  /**
   * Tells the entry's advertiser its interface as last reported, with whether the namespace
   * forwards when its config follows that: not before the first answer, so no RA leaves with
   * a lifetime the namespace's forwarding contradicts.
   */
  private deliver(entry: Served): void {
    const link = entry.link;
    if (!link || !entry.iface.config.followForwarding) {
      entry.iface.setLink(link);
      return;
    }
    const forwarding = this.watchForwarding().forwarding;
    if (forwarding === undefined) return; // delivered once known (watchForwarding)
    entry.iface.setLink({ ...link, notForwarding: !forwarding });
  }

  /** The namespace's forwarding watch, opened on first use; each answer and change re-delivers the followers' links. */
  private watchForwarding(): ForwardingWatch {
    if (this.forwarding) return this.forwarding;
    const watch = new ForwardingWatch(this.netns, (error) => this.fail(error));
    this.forwarding = watch;
    const redeliver = (): void => {
      if (this.closed) return;
      for (const entry of this.served.values()) if (entry.link && entry.iface.config.followForwarding) this.deliver(entry);
    };
    void watch.ready().then(redeliver);
    watch.onChange(redeliver);
    return watch;
  }

  /** `iface`'s config changed: its link is told again (whether it follows forwarding may have changed). */
  refresh(iface: InterfaceAdvertiser): void {
    const entry = this.served.get(iface.name);
    if (entry?.iface === iface && entry.link) this.deliver(entry);
  }

  /** Leaves ff02::2 on the entry's interface (after its join), or drops its join when it has not happened yet. */
  private forgetIndex(entry: Served): void {
    if (entry.index === undefined) return;
    this.byIndex.delete(entry.index);
    this.memberships.leave(entry.index);
  }

  /** `iface`'s source address was refused: not ready until the monitor next hears of its interface. */
  suspend(iface: InterfaceAdvertiser): void {
    const entry = this.served.get(iface.name);
    if (entry?.iface === iface) this.monitor.suspend(iface.name);
  }

  /** Stops routing events and packets to `iface` (after its final RAs) and leaves ff02::2 on its interface. */
  detach(iface: InterfaceAdvertiser): void {
    const entry = this.served.get(iface.name);
    if (!entry || entry.iface !== iface) return;
    entry.unwatch();
    this.served.delete(iface.name);
    this.forgetIndex(entry);
  }

  /** Drops one reference; the last closes the socket, the monitor and the queue. */
  async release(): Promise<void> {
    this.refs -= 1;
    if (this.refs > 0 || this.closed) return;
    this.closed = true;
    // Frames still waiting fail EBADF (and their immediate goes): whoever needed one to leave
    // (a stop() and its final RA) waited for its outcome before releasing.
    this.frames.close();
    registry.delete(this.key);
    for (const entry of this.served.values()) entry.unwatch();
    this.served.clear();
    this.byIndex.clear();
    this.queue.close();
    this.socket.close();
    this.forwarding?.close();
    // Waits for a running job (≤ 256 changes; it holds a dup of a membership socket), then
    // closes the membership sockets: release() resolved means no socket of ours is left in
    // the namespace.
    await this.memberships.close();
    await this.monitor.close();
  }
}
