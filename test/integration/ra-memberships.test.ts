/**
 * The RA sender's ff02::2 memberships at scale, against the real kernel: a router namespace
 * with the default net.core.optmem_max (131072 bytes, ~2,340 memberships of 56 bytes per
 * socket) serves 2,500 dummy (or ifb) interfaces and, last, a veth into a client namespace. Every
 * interface joins ff02::2 (/proc/net/igmp6), a solicitation from the client on the last
 * interface gets a solicited RA (rdisc6), and no send or join fails: the memberships are held
 * by membership-only sockets, so the raw socket's option memory stays free for sendmsg with
 * IPV6_PKTINFO. With every membership on the raw socket (before), the joins past the cap failed
 * ENOMEM and its sends ENOBUFS. Stopping closes every socket: the process's descriptors are
 * back to where they were. The native membership socket on its own: its joins and leaves,
 * its errnos, its descriptor.
 */
import { readdirSync } from 'node:fs';
import { constants } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { native } from '../../lib/native.js';
import { RouterAdvertiser } from '../../lib/ra/index.js';
import type { RaError } from '../../lib/ra/ra-error.js';
import type { RaReceivedEvent, RaSentEvent } from '../../lib/ra/types.js';
import { joinWithVeth, runAsync, TestNetns } from '../helpers/netns.js';
import { stable, until } from '../helpers/poll.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

/** More than one socket's worth of memberships at the default optmem_max (~2,340). */
const DUMMIES = 2500;
const ALL_ROUTERS_HEX = 'ff020000000000000000000000000002';
const ALL_ROUTERS = Buffer.from(ALL_ROUTERS_HEX, 'hex');
const { EADDRINUSE, EBADF, ENODEV } = constants.errno;
const fds = (): number => readdirSync('/proc/self/fd').length;

describe.skipIf(skipUnlessRoot('RA memberships at scale'))('ff02::2 memberships past one socket of option memory', () => {
  let router: TestNetns;
  let client: TestNetns;

  /** The interfaces of the router namespace that joined ff02::2 (/proc/net/igmp6: index, name, group, users, flags, timer). */
  const allRoutersMembers = async (): Promise<Set<string>> => {
    const igmp6 = await runAsync('ip', ['netns', 'exec', router.name, 'cat', '/proc/net/igmp6']);
    return new Set(
      igmp6
        .split('\n')
        .map((line) => line.trim().split(/\s+/u))
        .filter((fields) => fields[2] === ALL_ROUTERS_HEX)
        .map((fields) => fields[1]!),
    );
  };

  beforeAll(async () => {
    router = new TestNetns('vmpmem');
    client = new TestNetns('vmpmem');
    // A kind with carrier and no DAD (NOARP): served as soon as it is up. dummy may not be
    // built into the kernel; ifb has the same properties (what it is sent, it drops).
    const kind = ['dummy', 'ifb'].find((k) => {
      try {
        router.ip('link', 'add', 'probe0', 'type', k);
        router.ip('link', 'del', 'probe0');
        return true;
      } catch {
        return false;
      }
    });
    if (!kind) throw new Error('neither dummy nor ifb links can be made here');
    const commands: string[] = [];
    for (let i = 0; i < DUMMIES; i++) commands.push(`link add d${i} type ${kind}`, `link set d${i} up`);
    await runAsync('ip', ['-n', router.name, '-batch', '-'], {}, `${commands.join('\n')}\n`);
    // Created last, so its join comes after the dummies' (the advertiser joins in ifindex order).
    joinWithVeth(router, 'vmpmem-r0', client, 'vmpmem-c0');
  }, 300_000);

  afterAll(() => {
    router?.cleanup();
    client?.cleanup();
  });

  it('joins on every interface, answers a solicitation on the last one, and no send fails', async () => {
    // The namespace's own default (never raised here): the cap the memberships must live with.
    expect(router.exec('sysctl', ['-n', 'net.core.optmem_max']).trim()).toBe('131072');
    const names = [...Array.from({ length: DUMMIES }, (_, i) => `d${i}`), 'vmpmem-r0'];
    const fdsBefore = await stable('the descriptor count', fds);
    const ra = new RouterAdvertiser({
      netns: router.name,
      finalAdvertisements: 0,
      interfaces: names.map((name) => ({ name, minInterval: 200, maxInterval: 600 })),
    });
    const errors: RaError[] = [];
    const received: RaReceivedEvent[] = [];
    const solicited: RaSentEvent[] = [];
    ra.on('error', (error) => errors.push(error));
    ra.on('received', (event) => received.push(event));
    ra.on('sent', (event) => {
      if (event.interface === 'vmpmem-r0' && event.solicited) solicited.push(event);
    });
    let stopped = false;
    try {
      await ra.start();
      let members = new Set<string>();
      await until(
        `ff02::2 joined on all ${names.length} interfaces, or a failure`,
        async () => {
          members = await allRoutersMembers();
          return errors.some((e) => e.syscall === 'setsockopt') || names.every((name) => members.has(name));
        },
        { timeoutMs: 180_000, intervalMs: 1000 },
      );
      // Before, with the memberships on the raw socket: sendmsg ENOBUFS and setsockopt ENOMEM.
      const tally = (list: RaError[]) => {
        const counts: Record<string, number> = {};
        for (const e of list) counts[`${e.syscall} ${e.code}`] = (counts[`${e.syscall} ${e.code}`] ?? 0) + 1;
        return counts;
      };
      expect(tally(errors)).toEqual({});
      expect(names.filter((name) => !members.has(name))).toEqual([]);
      await until('every interface served', () => ra.stats().every((s) => s.state === 'serving'), { timeoutMs: 120_000, intervalMs: 500 });

      // A solicitation to ff02::2 on the last interface: received by the raw socket (which
      // holds no membership) and answered.
      await until("vmpmem-c0's link-local past DAD", () => client.linkLocal('vmpmem-c0'));
      const rdisc6 = await runAsync('ip', ['netns', 'exec', client.name, 'rdisc6', '-1', '-r', '3', '-w', '1000', 'vmpmem-c0']);
      expect(rdisc6).toMatch(/from fe80::/u);
      expect(received.filter((e) => e.interface === 'vmpmem-r0' && e.valid).length).toBeGreaterThan(0);
      await until('the solicited RA on vmpmem-r0', () => solicited.length > 0, 10_000);

      // Every interface's first RAs went out through the raw socket: none failed.
      await until('every interface advertised', () => ra.stats().every((s) => s.advertisementsSent > 0), { timeoutMs: 120_000, intervalMs: 500 });
      expect(tally(errors)).toEqual({});
      expect(ra.stats().reduce((n, s) => n + s.sendErrors, 0)).toBe(0);

      await ra.stop();
      stopped = true;
      // Every socket of the advertiser (raw, packet, netlink, membership sockets) is closed.
      expect(await stable('the descriptor count', fds, { timeoutMs: 30_000 })).toBe(fdsBefore);
      await until('ff02::2 left on every interface', async () => (await allRoutersMembers()).size === 0, { timeoutMs: 60_000, intervalMs: 500 });
    } finally {
      if (!stopped) await ra.stop();
    }
  }, 600_000);

  it('the native membership socket joins and leaves on the pool, fails EBADF once closed, and closes its descriptor', async () => {
    const index = router.ipJson<Array<{ ifindex: number }>>('link', 'show', 'dev', 'vmpmem-r0')[0]!.ifindex;
    const joined = async () => (await allRoutersMembers()).has('vmpmem-r0');
    const before = await stable('the descriptor count', fds);
    const socket = new native.Ipv6MembershipSocket(router.path);
    try {
      expect(fds()).toBe(before + 1);
      expect(await joined()).toBe(false);
      expect([...(await socket.change(new Int32Array(0), Int32Array.from([index, index]), ALL_ROUTERS))]).toEqual([0, EADDRINUSE]);
      expect(await joined()).toBe(true);
      // A leave, then a join on an interface that does not exist: one errno each, in order.
      expect([...(await socket.change(Int32Array.from([index]), Int32Array.from([0x7fffffff]), ALL_ROUTERS))]).toEqual([0, ENODEV]);
      expect(await joined()).toBe(false);
      expect(() => socket.change([index] as unknown as Int32Array, new Int32Array(0), ALL_ROUTERS)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
      );
      // Closing leaves what the socket still holds.
      await socket.change(new Int32Array(0), Int32Array.from([index]), ALL_ROUTERS);
      expect(await joined()).toBe(true);
    } finally {
      await socket.close();
      await socket.close();
    }
    expect(await joined()).toBe(false);
    expect([...(await socket.change(Int32Array.from([index]), Int32Array.from([index]), ALL_ROUTERS))]).toEqual([EBADF, EBADF]);
    expect(await stable('the descriptor count', fds)).toBe(before);
  });
});
