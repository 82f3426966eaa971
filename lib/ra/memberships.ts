/**
 * The memberships of one multicast group (ff02::2 for the RA sender) on the interfaces of one
 * namespace, held by membership-only sockets (native `Ipv6MembershipSocket`) rather than by
 * the socket that sends.
 *
 * Why: each membership is a 56-byte `ipv6_mc_socklist` charged to the joining socket's option
 * memory, capped by the namespace's `net.core.optmem_max` (131072 bytes by default: ~2,340
 * memberships), and a sendmsg with IPV6_PKTINFO takes its control buffer from the same budget
 * (ENOBUFS once it is used up). Any socket's membership makes the device join the group, which
 * is all the receiving raw socket needs (native/ipv6_membership.cc has the kernel's side).
 *
 * How: the interfaces go to the sockets first-fit, at most `perSocket` each; a join refused
 * with ENOMEM (a namespace with a smaller optmem_max) marks that socket full and is tried on
 * another (a new one if needed); ENOMEM from a socket that holds nothing is reported. A leave
 * goes to the socket that holds the membership. A socket that holds none is closed once
 * nothing is pending.
 *
 * Order: the changes run on the thread pool (each setsockopt takes RTNL), at most `perJob` a
 * job, one job at a time, each interface's change reconciled from what is wanted when its job
 * starts: a leave asked while its join runs is made by the next job, never before it, and a
 * join and leave that meet before their job cancel out.
 */
import { constants as osConstants } from 'node:os';

const { EADDRINUSE, EIO, ENOMEM } = osConstants.errno;

/**
 * Memberships per socket. 1,024 × 56 bytes is under half the default optmem_max, so a socket
 * never reaches the cap by default (4,096 interfaces: 4 sockets); a smaller optmem_max is met
 * by ENOMEM and the next socket.
 */
export const MEMBERSHIPS_PER_SOCKET = 1024;

/**
 * Changes per thread-pool job. A join takes RTNL inside setsockopt: ~1 ms, up to 12 ms while
 * links are being created (strace). At most this many a job, so a leave asked meanwhile waits
 * seconds at worst.
 */
export const MEMBERSHIPS_PER_JOB = 256;

/** A socket that only holds memberships (native `Ipv6MembershipSocket`). */
export interface MembershipSocket {
  /** Leaves `group` on each of `leaves`, then joins it on each of `joins`; one errno (0 or positive) per change, the leaves' first. */
  change(leaves: Int32Array, joins: Int32Array, group: Buffer): Promise<Int32Array>;
  /** Closes the socket (the kernel leaves what it still holds). */
  close(): Promise<void>;
}

/** What a {@link GroupMemberships} needs. */
export interface GroupMembershipsOptions {
  /** The group, 16 bytes (ff02::2). */
  group: Buffer;
  /** Opens one more membership socket in the namespace; throws a SystemError-shaped error (`errno` negative). */
  open: () => MembershipSocket;
  /** A job that failed as a whole (a rejected change()); the changes it took are dropped. */
  onFailure: (error: Error) => void;
  /** See {@link MEMBERSHIPS_PER_SOCKET}. */
  perSocket?: number;
  /** See {@link MEMBERSHIPS_PER_JOB}. */
  perJob?: number;
}

/** One open membership socket and what it holds. */
interface Holder {
  socket: MembershipSocket;
  /** Memberships it holds. */
  count: number;
  /** How many it may hold: perSocket, or what it held when the kernel said ENOMEM. */
  limit: number;
}

/** An interface the group should be joined on. */
interface Want {
  /** Join requests not yet left (an interface renamed between two served names has two for a moment). */
  users: number;
  /** Hears the errno of a refused join (the latest requester's). */
  onError: (errno: number) => void;
}

/** The group's memberships on the interfaces of one namespace (see the file header). */
export class GroupMemberships {
  private readonly group: Buffer;
  private readonly open: () => MembershipSocket;
  private readonly onFailure: (error: Error) => void;
  private readonly perSocket: number;
  private readonly perJob: number;
  /** Interfaces (ifindex) the group should be joined on, in request order. */
  private readonly wanted = new Map<number, Want>();
  /** Interfaces joined (by a finished job), and the socket that holds each. */
  private readonly held = new Map<number, Holder>();
  /** Wanted interfaces whose join was refused: not tried again until asked again. */
  private readonly refused = new Set<number>();
  /** Interfaces whose wanted and held state may differ, oldest first: the next jobs' work. */
  private dirty = new Set<number>();
  private readonly holders: Holder[] = [];
  /** Sockets being closed (close() waits for them). */
  private readonly closing = new Set<Promise<void>>();
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(options: GroupMembershipsOptions) {
    this.group = options.group;
    this.open = options.open;
    this.onFailure = options.onFailure;
    this.perSocket = options.perSocket ?? MEMBERSHIPS_PER_SOCKET;
    this.perJob = options.perJob ?? MEMBERSHIPS_PER_JOB;
  }

  /** Open membership sockets. */
  get sockets(): number {
    return this.holders.length;
  }

  /** Joins the group on interface `index` (queued); `onError` hears the errno if the kernel refuses. */
  join(index: number, onError: (errno: number) => void): void {
    if (this.closed) return;
    const want = this.wanted.get(index);
    if (want) {
      want.users += 1;
      want.onError = onError;
    } else {
      this.wanted.set(index, { users: 1, onError });
    }
    this.refused.delete(index); // asked again: tried again
    this.change(index);
  }

  /** Undoes one join() of interface `index`: the last one leaves the group there (or cancels a join not yet made). */
  leave(index: number): void {
    const want = this.wanted.get(index);
    if (this.closed || !want) return;
    want.users -= 1;
    if (want.users > 0) return;
    this.wanted.delete(index);
    this.refused.delete(index);
    this.change(index);
  }

  /** Waits for the running job, then closes every membership socket (the kernel leaves what they hold). */
  async close(): Promise<void> {
    this.closed = true;
    this.dirty.clear();
    await this.running;
    for (const holder of this.holders.splice(0)) this.closeSocket(holder.socket);
    await Promise.all(this.closing);
  }

  private change(index: number): void {
    this.dirty.add(index);
    this.schedule();
  }

  private schedule(): void {
    if (this.running !== undefined || this.closed || this.dirty.size === 0) return;
    this.running = this.run().then(
      () => {
        this.running = undefined;
        if (this.closed) return;
        if (this.dirty.size === 0) this.closeEmpty();
        this.schedule();
      },
      (error: unknown) => {
        this.running = undefined;
        if (!this.closed) this.onFailure(error as Error);
      },
    );
  }

  /** One job: up to perJob changes, one change() per socket involved (its leaves first: they make room). */
  private async run(): Promise<void> {
    const { leaves, joins } = this.take();
    const plan = new Map<Holder, { leaves: number[]; joins: number[] }>();
    for (const [holder, indexes] of leaves) plan.set(holder, { leaves: indexes, joins: [] });
    for (const [holder, indexes] of this.place(joins, leaves)) {
      const entry = plan.get(holder);
      if (entry) entry.joins = indexes;
      else plan.set(holder, { leaves: [], joins: indexes });
    }
    const retry: number[] = [];
    for (const [holder, change] of plan) {
      if (this.closed) return; // close() is waiting: closing the sockets leaves everything anyway
      const errnos = await holder.socket.change(Int32Array.from(change.leaves), Int32Array.from(change.joins), this.group);
      // Whatever the errno, the socket no longer holds a left group (EADDRNOTAVAIL: it did not).
      for (const index of change.leaves) this.held.delete(index);
      holder.count -= change.leaves.length;
      change.joins.forEach((index, i) => {
        const errno = errnos[change.leaves.length + i] ?? EIO;
        if (errno === 0 || errno === EADDRINUSE) {
          this.held.set(index, holder);
          holder.count += 1;
        } else if (errno === ENOMEM && holder.count > 0) {
          // This socket's option memory is used up: it is full, another socket takes the join.
          holder.limit = Math.min(holder.limit, holder.count);
          retry.push(index);
        } else {
          this.refuse(index, errno);
        }
      });
    }
    if (retry.length > 0) this.dirty = new Set([...retry, ...this.dirty]);
  }

  /**
   * Takes the next job's changes off the queue: leaves first (they make room, and a removed
   * network's leave must not wait behind thousands of joins), then joins, in request order.
   * Interfaces already as wanted leave the queue.
   */
  private take(): { leaves: Map<Holder, number[]>; joins: number[] } {
    const leaves = new Map<Holder, number[]>();
    const joins: number[] = [];
    let taken = 0;
    for (const index of this.dirty) {
      if (taken >= this.perJob) break;
      const holder = this.held.get(index);
      if (holder === undefined || this.isWanted(index)) continue;
      this.dirty.delete(index);
      listOf(leaves, holder).push(index);
      taken += 1;
    }
    for (const index of this.dirty) {
      if (taken >= this.perJob) break;
      const held = this.held.has(index);
      const wanted = this.isWanted(index);
      if (held && !wanted) continue; // a leave for a later job
      this.dirty.delete(index);
      if (!held && wanted) {
        joins.push(index);
        taken += 1;
      }
    }
    return { leaves, joins };
  }

  private isWanted(index: number): boolean {
    return this.wanted.has(index) && !this.refused.has(index);
  }

  /** Which socket each join goes to: first fit (after this job's leaves), opening sockets as needed. */
  private place(joins: number[], leaves: Map<Holder, number[]>): Map<Holder, number[]> {
    const plan = new Map<Holder, number[]>();
    const room = (h: Holder) => h.limit - h.count + (leaves.get(h)?.length ?? 0) - (plan.get(h)?.length ?? 0);
    for (const index of joins) {
      let holder = this.holders.find((h) => room(h) > 0);
      if (!holder) {
        try {
          holder = { socket: this.open(), count: 0, limit: this.perSocket };
        } catch (error) {
          this.refuse(index, Math.abs(Number((error as { errno?: unknown }).errno)) || EIO);
          continue;
        }
        this.holders.push(holder);
      }
      listOf(plan, holder).push(index);
    }
    return plan;
  }

  /** A refused join: reported while still wanted, and not tried again until asked again. */
  private refuse(index: number, errno: number): void {
    const want = this.wanted.get(index);
    if (!want) return;
    this.refused.add(index);
    want.onError(errno);
  }

  /** Closes the sockets that hold nothing (no join is pending: the queue is empty). */
  private closeEmpty(): void {
    for (let i = this.holders.length - 1; i >= 0; i--) {
      const holder = this.holders[i]!;
      if (holder.count > 0) continue;
      this.holders.splice(i, 1);
      this.closeSocket(holder.socket);
    }
  }

  private closeSocket(socket: MembershipSocket): void {
    const closing: Promise<void> = socket.close().then(
      () => void this.closing.delete(closing),
      (error: unknown) => {
        this.closing.delete(closing);
        if (!this.closed) this.onFailure(error as Error);
      },
    );
    this.closing.add(closing);
  }
}

function listOf<K>(map: Map<K, number[]>, key: K): number[] {
  let list = map.get(key);
  if (!list) map.set(key, (list = []));
  return list;
}
