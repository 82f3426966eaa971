/**
 * Nothing leaks and nothing escapes: the process's descriptors are stable over many
 * open/close cycles (netlink, ICMPv6, pidfd and nf_tables sockets, event iterables, veth
 * peer namespace fds), every descriptor is close-on-exec, an idle Netlink does not keep the
 * process alive, and the host's own namespace is untouched by everything done in test
 * namespaces.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readlinkSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NFT_MSG, NLM_F } from '../../lib/guard/nftables.js';
import { native } from '../../lib/native.js';
import { Netlink } from '../../lib/netlink/index.js';
import { runAsync, TestNetns } from '../helpers/netns.js';
import { stable } from '../helpers/poll.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

const fds = () => readdirSync('/proc/self/fd').length;
const hostLinks = () =>
  (JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as any[]).map((l) => ({
    ifindex: l.ifindex,
    ifname: l.ifname,
    flags: l.flags,
    mtu: l.mtu,
    master: l.master,
    address: l.address,
  }));
const hostAddresses = () =>
  (JSON.parse(execFileSync('ip', ['-j', 'addr', 'show'], { encoding: 'utf8' })) as any[]).map((l) => ({
    ifname: l.ifname,
    addrs: (l.addr_info ?? []).map((a: any) => `${a.local}/${a.prefixlen}`).sort(),
  }));

describe.skipIf(skipUnlessRoot('netlink resources'))('netlink resources', () => {
  let ns: TestNetns | undefined;
  let peer: TestNetns | undefined;
  let linksBefore: ReturnType<typeof hostLinks> = [];
  let addressesBefore: ReturnType<typeof hostAddresses> = [];

  beforeAll(() => {
    linksBefore = hostLinks();
    addressesBefore = hostAddresses();
    ns = new TestNetns('vmpnl');
    peer = new TestNetns('vmpnl');
  });

  afterAll(() => {
    ns?.cleanup();
    peer?.cleanup();
  });

  it('keeps the descriptor count stable over 100 open/use/close cycles', async () => {
    const warm = await Netlink.open({ netns: ns!.name });
    await warm.listLinks();
    await warm.close();
    // A send's pool job may finish just after its ack: the socket closes then.
    const before = await stable('the descriptor count', fds);
    for (let i = 0; i < 100; i++) {
      const nl = await Netlink.open({ netns: ns!.name });
      await nl.createVeth({ name: 'v0', peer: { name: 'v1', netns: peer!.name } });
      const events = nl.linkEvents({ existing: true });
      await events.next();
      await nl.getLink('v0');
      await nl.deleteLink('v0');
      if (i % 2 === 0) await events.return?.();
      await nl.close();
    }
    expect(await stable('the descriptor count', fds)).toBe(before);
  });

  it('the other native sockets (ICMPv6, pidfd, nf_tables) close what they open, also on failure', async () => {
    const before = await stable('the descriptor count', fds);
    for (let i = 0; i < 20; i++) {
      const icmp6 = new native.Icmp6Socket(
        ns!.path,
        () => {},
        () => {},
      );
      const pidfd = new native.PidFd(process.pid, () => {});
      // Positive control: open, they hold three descriptors (raw ICMPv6, AF_PACKET, pidfd).
      expect(fds()).toBe(before + 3);
      icmp6.close();
      icmp6.close();
      pidfd.close();
      pidfd.close();
      expect(icmp6.send(1, Buffer.alloc(16), Buffer.alloc(16), Buffer.alloc(8))).toBe(constants.errno.EBADF);
      expect(pidfd.sendSignal(0)).toBe(constants.errno.EBADF);
      // A dump, a transaction refused before sending (missing link), a namespace that is not one.
      await native.nfnlTransact(ns!.path, [{ type: NFT_MSG.GETTABLE, flags: NLM_F.DUMP, family: 0 }], false);
      await expect(native.nfnlTransact(ns!.path, [{ type: NFT_MSG.GETTABLE, flags: NLM_F.DUMP, family: 0 }], false, ['nosuch0'])).rejects.toMatchObject({
        code: 'ENODEV',
      });
      expect(
        () =>
          new native.Icmp6Socket(
            `${ns!.path}-gone`,
            () => {},
            () => {},
          ),
      ).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    }
    expect(await stable('the descriptor count', fds)).toBe(before);
  });

  it('`await using` closes the Netlink (and its socket) at the end of the scope', async () => {
    const before = await stable('the descriptor count', fds);
    let links: number;
    {
      await using nl = await Netlink.open({ netns: ns!.name });
      links = (await nl.listLinks()).length;
      expect(fds()).toBe(before + 1);
    }
    expect(links).toBe(ns!.ipJson('link', 'show').length);
    expect(await stable('the descriptor count', fds)).toBe(before);
  });

  it('opens every descriptor close-on-exec and non-blocking', async () => {
    const sockets = () =>
      new Set(
        readdirSync('/proc/self/fd').filter((fd) => {
          try {
            return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
          } catch {
            return false;
          }
        }),
      );
    const before = sockets();
    const nl = await Netlink.open({ netns: ns!.name });
    const events = nl.linkEvents();
    try {
      const ours = [...sockets()].filter((fd) => !before.has(fd));
      expect(ours.length).toBe(2);
      for (const fd of ours) {
        // flags in fdinfo are octal; O_CLOEXEC is 02000000, O_NONBLOCK 04000.
        const flags = parseInt(/flags:\s+(\d+)/u.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? '0', 8);
        expect(flags & 0o2000000).toBe(0o2000000);
        expect(flags & 0o4000).toBe(0o4000);
      }
    } finally {
      await events.return?.();
      await nl.close();
    }
  });

  it('an idle Netlink left open does not keep the process alive', async () => {
    const script = `import('${new URL('../../lib/netlink/index.ts', import.meta.url).pathname}').then(async ({ Netlink }) => { const nl = await Netlink.open({ netns: '${ns!.name}' }); await nl.listLinks(); console.log('done'); });`;
    const out = await runAsync('npx', ['--no-install', 'tsx', '-e', script], { timeout: 30_000 });
    expect(out.trim().split('\n').at(-1)).toBe('done');
  });

  it("leaves the host's own namespace untouched", () => {
    // Links that existed before are unchanged, and none of the names used here appeared.
    const now = hostLinks();
    for (const link of linksBefore) expect(now.find((l) => l.ifindex === link.ifindex)).toEqual(link);
    expect(now.map((l) => l.ifname)).not.toEqual(expect.arrayContaining(['v0']));
    expect(now.map((l) => l.ifname)).not.toContain('v1');
    const addresses = hostAddresses();
    for (const entry of addressesBefore) expect(addresses.find((a) => a.ifname === entry.ifname)).toEqual(entry);
  });
});
