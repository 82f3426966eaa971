/**
 * ff02::2 memberships of an RA namespace: lib/ra/memberships.ts spreads them over
 * membership-only sockets (first fit, at most perSocket each, the next socket on ENOMEM),
 * leaves on the socket that holds each, closes a socket once it holds none, and runs the
 * changes on the pool in ordered jobs (one at a time, at most perJob changes, leaves first, a
 * leave after its running join); lib/ra/namespace.ts wires them to its served interfaces. The
 * sockets are fakes that keep what they hold the way the kernel does (ENOMEM past their
 * option memory, EADDRINUSE, EADDRNOTAVAIL); the kernel itself is covered by
 * test/integration/ra-memberships.test.ts.
 */
import { constants } from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { native } from '../../lib/native.js';
import { resolveInterfaceConfig } from '../../lib/ra/config.js';
import { InterfaceAdvertiser, type AdvertiserHost, type LinkInfo } from '../../lib/ra/interface-advertiser.js';
import { GroupMemberships, type MembershipSocket } from '../../lib/ra/memberships.js';
import { NetlinkInterfaceMonitor, type InterfaceMonitor } from '../../lib/ra/monitor.js';
import { RaNamespace } from '../../lib/ra/namespace.js';

const { EADDRINUSE, EADDRNOTAVAIL, EMFILE, ENODEV, ENOMEM } = constants.errno;
const GROUP = Buffer.from('ff020000000000000000000000000002', 'hex');

/** One change() call waiting to be finished. */
interface Call {
  socket: FakeSocket;
  leaves: number[];
  joins: number[];
  /** Applies the change as the kernel would and resolves the call. */
  finish: () => void;
}

/** A membership socket with `capacity` memberships of option memory; interfaces in `gone` do not exist. */
class FakeSocket implements MembershipSocket {
  readonly held = new Set<number>();
  closed = false;

  constructor(
    readonly id: number,
    private readonly capacity: number,
    private readonly calls: Call[],
    private readonly gone: Set<number>,
  ) {}

  change(leaves: Int32Array, joins: Int32Array, group: Buffer): Promise<Int32Array> {
    expect(group).toEqual(GROUP);
    return new Promise((resolve) => {
      this.calls.push({
        socket: this,
        leaves: [...leaves],
        joins: [...joins],
        finish: () => {
          const errnos = [...leaves].map((index) => (this.held.delete(index) ? 0 : EADDRNOTAVAIL));
          for (const index of joins) {
            if (this.held.has(index)) errnos.push(EADDRINUSE);
            else if (this.held.size >= this.capacity) errnos.push(ENOMEM);
            else if (this.gone.has(index)) errnos.push(ENODEV);
            else errnos.push(this.held.add(index) && 0);
          }
          resolve(Int32Array.from(errnos));
        },
      });
    });
  }

  close(): Promise<void> {
    this.closed = true;
    this.held.clear();
    return Promise.resolve();
  }
}

/** A GroupMemberships over fake sockets, each with `capacity` memberships of option memory. */
function setup(options: { capacity?: number; perSocket?: number; perJob?: number } = {}) {
  const calls: Call[] = [];
  const sockets: FakeSocket[] = [];
  const gone = new Set<number>();
  const errors: Array<[number, number]> = [];
  const failures: Error[] = [];
  let openError: Error | undefined;
  const memberships = new GroupMemberships({
    group: GROUP,
    open: () => {
      if (openError) throw openError;
      const socket = new FakeSocket(sockets.length, options.capacity ?? 1_000_000, calls, gone);
      sockets.push(socket);
      return socket;
    },
    onFailure: (error) => failures.push(error),
    perSocket: options.perSocket,
    perJob: options.perJob,
  });
  const join = (...indexes: number[]) => {
    for (const index of indexes) memberships.join(index, (errno) => errors.push([index, errno]));
  };
  const leave = (...indexes: number[]) => {
    for (const index of indexes) memberships.leave(index);
  };
  /** Finishes the oldest waiting call and lets the job go on. */
  const step = async () => {
    const call = calls.shift();
    if (!call) throw new Error('no change() is waiting');
    call.finish();
    await new Promise((resolve) => setImmediate(resolve));
    return call;
  };
  /** Finishes calls until none is waiting (after a turn of the loop: a job may be about to start one); returns them. */
  const settle = async () => {
    const done: Call[] = [];
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      if (calls.length === 0) return done;
      done.push(await step());
    }
  };
  /** Every interface some open socket holds. */
  const joined = () => new Set(sockets.filter((s) => !s.closed).flatMap((s) => [...s.held]));
  const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
  return {
    memberships,
    calls,
    sockets,
    gone,
    errors,
    failures,
    join,
    leave,
    step,
    settle,
    joined,
    range,
    failOpen: (error: Error | undefined) => (openError = error),
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('GroupMemberships', () => {
  it('runs jobs of up to perJob changes one at a time, leaves first, a leave after its running join', async () => {
    const t = setup();
    t.join(...t.range(100, 300));
    // The first join started at once, alone; the rest wait for it.
    expect(t.calls.map((c) => [c.leaves, c.joins])).toEqual([[[], [100]]]);
    t.leave(100); // its join is running: the leave waits for it
    t.leave(399); // its join has not started: both are dropped
    await t.step();
    // Next job: the leave first, then joins, 256 changes in all, one call on the one socket.
    expect(t.calls).toHaveLength(1);
    expect(t.calls[0]!.leaves).toEqual([100]);
    expect(t.calls[0]!.joins).toEqual(t.range(101, 255));
    await t.step();
    expect(t.calls[0]!.leaves).toEqual([]);
    expect(t.calls[0]!.joins).toEqual(t.range(356, 43));
    await t.settle();
    expect(t.joined()).toEqual(new Set(t.range(101, 298)));
    expect(t.sockets).toHaveLength(1);
    expect(t.errors).toEqual([]);
  });

  it('puts a leave queued behind thousands of joins into the next job', async () => {
    const t = setup();
    t.join(1);
    await t.settle();
    t.join(...t.range(10, 1000));
    t.leave(1);
    await t.step(); // the join of 10 had started alone
    expect(t.calls[0]!.leaves).toEqual([1]);
    await t.settle();
    expect(t.joined()).toEqual(new Set(t.range(10, 1000)));
  });

  it('cancels a join and a leave that meet before their job, and keeps a membership two joins share', async () => {
    const t = setup();
    t.join(1);
    t.join(2, 3);
    t.leave(2); // not started: nothing to do
    t.join(3); // a second user of 3 (a rename seen in the other order)
    await t.settle();
    expect(t.joined()).toEqual(new Set([1, 3]));
    t.leave(3);
    await t.settle();
    expect(t.joined()).toEqual(new Set([1, 3])); // one user of 3 is left
    t.join(50); // a job is running: what follows waits for it
    t.leave(1, 3);
    t.join(1); // 1 is left and joined again before its job: it stays
    const calls = await t.settle();
    expect(calls.flatMap((c) => c.leaves)).toEqual([3]);
    expect(t.joined()).toEqual(new Set([1, 50]));
  });

  it('spreads the memberships over sockets of at most perSocket, first fit, and leaves on the holder', async () => {
    const t = setup({ perSocket: 4 });
    t.join(...t.range(1, 10));
    await t.settle();
    expect(t.sockets.map((s) => [...s.held])).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10],
    ]);
    t.leave(2, 6);
    await t.settle();
    expect(t.sockets.map((s) => [...s.held])).toEqual([
      [1, 3, 4],
      [5, 7, 8],
      [9, 10],
    ]);
    // New joins fill the first socket with room.
    t.join(20, 21, 22);
    await t.settle();
    expect(t.sockets.map((s) => [...s.held].sort((a, b) => a - b))).toEqual([
      [1, 3, 4, 20],
      [5, 7, 8, 21],
      [9, 10, 22],
    ]);
    expect(t.errors).toEqual([]);
  });

  it('moves on to another socket when the kernel says ENOMEM, and reports ENOMEM from a socket holding none', async () => {
    const t = setup({ capacity: 3 });
    t.join(...t.range(1, 8));
    await t.settle();
    // Each socket took what its option memory holds; the refused joins went to the next one.
    expect(t.sockets.map((s) => [...s.held])).toEqual([
      [1, 2, 3],
      [4, 5, 6],
      [7, 8],
    ]);
    expect(t.errors).toEqual([]);
    // A leave makes room on a full socket again.
    t.leave(2);
    t.join(9);
    await t.settle();
    expect([...t.sockets[0]!.held].sort()).toEqual([1, 3, 9]);

    const none = setup({ capacity: 0 });
    none.join(1, 2);
    await none.settle();
    // One socket tried, both refused: no loop over new sockets.
    expect(none.errors).toEqual([
      [1, ENOMEM],
      [2, ENOMEM],
    ]);
    expect(none.sockets.map((s) => s.closed)).toEqual([true]);
  });

  it('reports other refusals once, tries again only when asked again', async () => {
    const t = setup();
    t.gone.add(2);
    t.join(1, 2, 3);
    await t.settle();
    expect(t.errors).toEqual([[2, ENODEV]]);
    expect(t.joined()).toEqual(new Set([1, 3]));
    t.join(4);
    await t.settle();
    expect(t.errors).toHaveLength(1); // 2 is not retried by the next job
    t.gone.delete(2);
    t.leave(2);
    t.join(2);
    await t.settle();
    expect(t.joined()).toEqual(new Set([1, 2, 3, 4]));
    // A failed open: the join is refused with its errno (positive), later joins try again.
    const full = setup({ perSocket: 1 });
    full.failOpen(Object.assign(new Error('socket EMFILE'), { errno: -EMFILE }));
    full.join(1);
    await full.settle();
    expect(full.errors).toEqual([[1, EMFILE]]);
    full.failOpen(undefined);
    full.leave(1);
    full.join(1);
    await full.settle();
    expect(full.joined()).toEqual(new Set([1]));
  });

  it('closes a socket once it holds none and nothing is pending, and every socket on close()', async () => {
    const t = setup({ perSocket: 2 });
    t.join(1, 2, 3, 4, 5);
    await t.settle();
    expect(t.memberships.sockets).toBe(3);
    t.leave(3, 4);
    await t.settle();
    expect(t.sockets.map((s) => s.closed)).toEqual([false, true, false]);
    expect(t.memberships.sockets).toBe(2);
    // close() waits for the running job, then closes the rest; nothing runs after it.
    t.join(6);
    let closed = false;
    const closing = t.memberships.close().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    await t.step();
    await closing;
    expect(t.sockets.map((s) => s.closed)).toEqual([true, true, true]);
    t.join(7);
    expect(t.calls).toEqual([]);
    expect(t.failures).toEqual([]);
  });
});

const link = (index: number, name: string): LinkInfo => ({ index, name, mac: '02:00:00:00:00:01', mtu: 1500, linkLocal: 'fe80::1' });

describe('RaNamespace ff02::2 memberships', () => {
  function fakes() {
    const calls: Call[] = [];
    const sockets: FakeSocket[] = [];
    const listeners = new Map<string, (link: LinkInfo | undefined) => void>();
    class FakeIcmp6Socket {
      close(): void {}
    }
    vi.spyOn(native, 'Icmp6Socket').mockImplementation(() => new FakeIcmp6Socket() as never);
    vi.spyOn(native, 'Ipv6MembershipSocket').mockImplementation(() => {
      const socket = new FakeSocket(sockets.length, 1_000_000, calls, new Set([355]));
      sockets.push(socket);
      return socket as never;
    });
    const monitor: InterfaceMonitor = {
      watch: (name, listener) => {
        listeners.set(name, listener);
        return () => listeners.delete(name);
      },
      suspend: () => {},
      close: async () => {},
    };
    vi.spyOn(NetlinkInterfaceMonitor, 'open').mockResolvedValue(monitor as NetlinkInterfaceMonitor);
    return { calls, sockets, listeners };
  }

  it('joins on membership sockets, reports a refused join for its interface, closes them on release', async () => {
    const { calls, sockets, listeners } = fakes();
    const ns = await RaNamespace.acquire(undefined);
    const host = { queue: ns.queue, transmit: () => 0, onSendError: () => {}, onSourceUnusable: () => {} } as unknown as AdvertiserHost;
    const joinErrors: Array<[number, number]> = [];
    const ifaces = Array.from({ length: 300 }, (_, i) => new InterfaceAdvertiser(resolveInterfaceConfig('c', { name: `br${i}` }), host));
    for (const iface of ifaces) ns.attach(iface, (errno, index) => joinErrors.push([errno, index]));
    for (let i = 0; i < 300; i++) listeners.get(`br${i}`)!(link(100 + i, `br${i}`));
    ns.detach(ifaces[1]!); // queued, not started: never joined
    while (calls.length > 0) {
      calls.shift()!.finish();
      await new Promise((resolve) => setImmediate(resolve));
    }
    // br255 (ifindex 355) is gone: its join is refused and reported for it alone.
    expect(joinErrors).toEqual([[ENODEV, 355]]);
    expect(sockets).toHaveLength(1);
    expect(sockets[0]!.held.size).toBe(298);
    expect(sockets[0]!.held.has(101)).toBe(false);
    // A running job holds a dup of the socket: release() waits for it, then closes the socket.
    ns.detach(ifaces[0]!);
    listeners.get('br2')!(undefined); // br2's link went away: its leave is queued
    let released = false;
    const releasing = ns.release().then(() => (released = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(released).toBe(false);
    expect(calls).toHaveLength(1);
    calls.shift()!.finish();
    await releasing;
    expect(sockets[0]!.closed).toBe(true);
    expect(calls).toEqual([]);
  });
});
