/**
 * VxlanNetwork on the kernel, without a guest: two "hosts" (namespaces) joined by a veth named
 * eth0 on each side. Host 1 uses VxlanNetwork; host 2 runs the reference shell commands
 * unchanged, and its own kernel is the client: it learns host 1's router advertisements across
 * the VXLAN (SLAAC address + default route via host 1's bridge), and rdisc6 shows the options.
 */
import { spawn } from 'node:child_process';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { Netlink } from '../../lib/netlink/index.js';
import { netnsIdentity } from '../../lib/netns.js';
import { NetworkSetupError, VxlanNetwork } from '../../lib/network.js';
import { sharedAdvertisers } from '../../lib/network/advertisers.js';
import { twoHostsWithVeth } from '../helpers/hosts.js';
import { runAsync, type TestNetns } from '../helpers/netns.js';
import { until } from '../helpers/poll.js';
import { routerLifetime } from '../helpers/rdisc6.js';
import { referenceScript } from '../../testing/demo/hosts.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

const PREFIX = '2a0a:e5c1:111:888::/64';
const H1 = 'fd00:4789::1';
const H2 = 'fd00:4789::2';

interface AddrInfo {
  family: string;
  local: string;
  prefixlen: number;
  scope: string;
  dynamic?: boolean;
}

describe.skipIf(skipUnlessRoot('VxlanNetwork integration tests'))('VxlanNetwork between two hosts', () => {
  let h1: TestNetns;
  let h2: TestNetns;
  const nets: VxlanNetwork[] = [];

  beforeAll(() => {
    [h1, h2] = twoHostsWithVeth('vmpe2e', `${H1}/64`, `${H2}/64`);
  });

  afterEach(async () => {
    await Promise.allSettled(nets.splice(0).map((n) => n.destroy({ timeoutMs: 1000 })));
  });

  afterAll(() => {
    h1?.cleanup();
    h2?.cleanup();
  });

  const linkNames = (ns: TestNetns): string[] =>
    ns
      .ipJson<{ ifname: string }[]>('link', 'show')
      .map((l) => l.ifname)
      .sort();

  /** Host 2's kernel configured an address from our prefix on br<id> and a default route via host 1's bridge. */
  async function expectHost2Slaac(id: number, prefix: string): Promise<void> {
    const routerLl = await until(`host 1 link-local on br${id}`, () => h1.linkLocal(`br${id}`));
    expect(routerLl).toMatch(/^fe80:/u);
    const network = prefix.replace(/::\/64$/u, ':');
    const slaac = await until(`host 2 SLAAC on br${id}`, () =>
      h2
        .ipJson<{ addr_info: AddrInfo[] }[]>('-6', 'addr', 'show', 'dev', `br${id}`)[0]
        ?.addr_info.find((a) => a.local?.startsWith(network) && a.dynamic === true && a.prefixlen === 64),
    );
    expect(slaac.scope).toBe('global');
    const route = await until(`host 2 default route via br${id}`, () =>
      h2.ipJson<{ gateway?: string; dev: string }[]>('-6', 'route', 'show', 'default').find((r) => r.dev === `br${id}`),
    );
    expect(route.gateway).toBe(routerLl);
  }

  it('makes the reference network; host 2 (reference script) learns our RAs across VXLAN over multicast', async () => {
    const net = await VxlanNetwork.create({
      id: 100,
      underlay: 'eth0',
      prefix: PREFIX,
      netns: h1.name,
      rdnss: ['2a0a:e5c0::3', '2a0a:e5c0::4'],
      dnssl: ['place7.ungleich.ch'],
    });
    nets.push(net);
    const [vx] = h1.ipJson('-d', 'link', 'show', 'dev', 'vxlan100');
    expect(vx.master).toBe('br100');
    expect(vx.flags).toContain('UP');
    expect(vx.linkinfo.info_data).toMatchObject({ id: 100, group6: 'ff05::100', port: 4789, ttl: 5, link: 'eth0' });
    // A bridge port without IPv6 of its own: no link-local address, so no DAD, MLD or RS from it.
    expect(vx.inet6_addr_gen_mode).toBe('none');
    expect(h1.ipJson<{ addr_info: unknown[] }[]>('-6', 'addr', 'show', 'dev', 'vxlan100')[0]?.addr_info ?? []).toEqual([]);
    const [br] = h1.ipJson('-d', 'link', 'show', 'dev', 'br100');
    expect(br.linkinfo.info_kind).toBe('bridge');
    expect(br.flags).toContain('UP');
    const brAddrs: AddrInfo[] = h1.ipJson('-6', 'addr', 'show', 'dev', 'br100')[0].addr_info;
    expect(brAddrs.map((a) => `${a.local}/${a.prefixlen}`)).toContain('2a0a:e5c1:111:888::1/64');

    h2.exec('sh', ['-ec', referenceScript({ id: 100, address: '2a0a:e5c1:111:888::2' }).join('\n')]);
    await expectHost2Slaac(100, PREFIX);

    // rdisc6 on host 2 solicits across the VXLAN and prints what host 1 advertises. It sends
    // from br100's link-local, which must have finished DAD (slow when other processes hold
    // RTNL): until then sendto fails at once. Run asynchronously: the advertiser answering it
    // lives in this process's event loop.
    await until('host 2 link-local on br100 past DAD', () => h2.linkLocal('br100'));
    const out = await until(
      'rdisc6 on host 2 to show a prefix',
      () =>
        runAsync('ip', ['netns', 'exec', h2.name, 'rdisc6', '-1', '-n', '-r', '3', '-w', '2000', 'br100']).then(
          (o) => o.includes('Prefix') && o,
          () => false,
        ),
      { intervalMs: 500 },
    );
    expect(out).toMatch(/Prefix\s+:\s+2a0a:e5c1:111:888::\/64/u);
    expect(out).toMatch(/Router lifetime\s+:\s+3600/u);
    expect(out).toMatch(/Recursive DNS server\s+:\s+2a0a:e5c0::3/u);
    expect(out).toMatch(/DNS search list\s+:\s+place7\.ungleich\.ch/u);

    // Host 2 reaches host 1's router address through the tunnel.
    await h2.pingUntilReply('2a0a:e5c1:111:888::1');

    expect(net.destroyed).toBe(false);
    await net.destroy({ timeoutMs: 1000 });
    expect(net.destroyed).toBe(true);
    await net.destroy();
    expect(linkNames(h1)).toEqual(['eth0', 'lo']);
    // The final RA (router lifetime 0) crossed the tunnel: host 2's kernel withdrew the route.
    await until(
      'host 2 default route via br100 withdrawn',
      () => !h2.ipJson<{ dev: string }[]>('-6', 'route', 'show', 'default').some((r) => r.dev === 'br100'),
      30_000,
    );
    h2.ip('link', 'del', 'vxlan100');
    h2.ip('link', 'del', 'br100');
  }, 150_000);

  it('ra.followForwarding: router lifetime 0 while host 1 does not forward, then the configured one (host 2: rdisc6 and its kernel)', async () => {
    // Host 1's namespace is new, so it does not forward: the first test's 3600 there is the
    // control (the same namespace, the option off).
    expect(h1.exec('sysctl', ['-n', 'net.ipv6.conf.all.forwarding']).trim()).toBe('0');
    const prefix = '2a0a:e5c1:111:889::/64';
    const net = await VxlanNetwork.create({ id: 102, underlay: 'eth0', prefix, netns: h1.name, ra: { followForwarding: true } });
    nets.push(net);
    h2.exec('sh', ['-ec', referenceScript({ id: 102, address: '2a0a:e5c1:111:889::2' }).join('\n')]);
    const defaultVia102 = (): boolean => h2.ipJson<{ dev: string }[]>('-6', 'route', 'show', 'default').some((r) => r.dev === 'br102');
    try {
      await until('host 2 link-local on br102 past DAD', () => h2.linkLocal('br102'));
      await until('rdisc6 on host 2: router lifetime 0', async () => (await routerLifetime(h2, 'br102')) === 0, 60_000);
      // Several RAs later host 2's kernel has still taken no default route from them.
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      expect(defaultVia102()).toBe(false);

      h1.sysctl('net.ipv6.conf.all.forwarding', 1);
      await until('rdisc6 on host 2: router lifetime 3600', async () => (await routerLifetime(h2, 'br102')) === 3600, 60_000);
      await expectHost2Slaac(102, prefix);

      // Kept in the record: the network opened again (as another process would) follows too.
      await net.close();
      nets.push(await VxlanNetwork.open({ id: 102, netns: h1.name }));
      h1.sysctl('net.ipv6.conf.all.forwarding', 0);
      await until('rdisc6 on host 2: router lifetime 0 from the reopened network', async () => (await routerLifetime(h2, 'br102')) === 0, 60_000);
    } finally {
      h1.sysctl('net.ipv6.conf.all.forwarding', 0);
      await Promise.allSettled(nets.splice(0).map((n) => n.destroy({ timeoutMs: 1000 })));
      h2.ip('link', 'del', 'vxlan102');
      h2.ip('link', 'del', 'br102');
    }
  }, 150_000);

  it('unicast VXLAN: no group, an FDB entry for the peer; two networks share one advertiser', async () => {
    const multicast = await VxlanNetwork.create({ id: 100, underlay: 'eth0', prefix: PREFIX, netns: h1.name });
    nets.push(multicast);
    const unicast = await VxlanNetwork.create({ id: 101, underlay: 'eth0', prefix: '2a0a:e5c1:111:889::/64', peers: [H2], netns: h1.name });
    nets.push(unicast);
    const [vx] = h1.ipJson('-d', 'link', 'show', 'dev', 'vxlan101');
    expect(vx.linkinfo.info_data.group6).toBeUndefined();
    expect(vx.linkinfo.info_data.group).toBeUndefined();
    const fdb = h1.bridgeJson<{ mac: string; dst?: string; ifname: string }[]>('fdb', 'show', 'dev', 'vxlan101');
    expect(fdb).toContainEqual(expect.objectContaining({ mac: '00:00:00:00:00:00', dst: H2 }));

    // One ICMPv6 raw socket in host 1's namespace serves both networks (/proc/net/raw6 lists
    // the namespace's raw sockets; the "port" of a raw socket is its protocol, 58 = 0x3A).
    const raw6 = h1
      .exec('cat', ['/proc/net/raw6'])
      .split('\n')
      .filter((l) => /^\s*\d+: [0-9A-F]{32}:003A /u.test(l));
    expect(raw6).toHaveLength(1);

    h2.exec('sh', ['-ec', referenceScript({ id: 101, address: '2a0a:e5c1:111:889::2', unicastPeer: H1 }).join('\n')]);
    await expectHost2Slaac(101, '2a0a:e5c1:111:889::/64');
    await h2.pingUntilReply('2a0a:e5c1:111:889::1');

    await Promise.all([multicast.destroy({ timeoutMs: 1000 }), unicast.destroy({ timeoutMs: 1000 })]);
    expect(linkNames(h1)).toEqual(['eth0', 'lo']);
    h2.ip('link', 'del', 'vxlan101');
    h2.ip('link', 'del', 'br101');
  }, 150_000);

  it('two paths to one namespace (/run/netns/x, /proc/PID/ns/net) share one rtnetlink connection and one advertiser', async () => {
    // A process inside host 1's namespace gives it a second path.
    const holder = spawn('ip', ['netns', 'exec', h1.name, 'sleep', '120'], { stdio: 'ignore' });
    try {
      const procPath = `/proc/${holder.pid}/ns/net`;
      const identity = await until('the holder inside host 1', () => netnsIdentity(procPath) === netnsIdentity(h1.name) && netnsIdentity(procPath));
      expect(procPath).not.toBe(h1.path);
      // NETLINK_ROUTE (protocol 0) sockets of host 1's namespace, as the kernel lists them.
      const routeSockets = (): number =>
        h1
          .exec('cat', ['/proc/net/netlink'])
          .split('\n')
          .filter((l) => /^[0-9a-f]+\s+0\s/u.test(l)).length;
      const before = routeSockets();
      // Positive control: a connection opened through the /proc path is counted in host 1.
      const probe = await Netlink.open({ netns: procPath });
      expect(routeSockets()).toBe(before + 1);
      await probe.close();
      expect(await until('the probe closed', () => routeSockets() === before)).toBe(true);

      const byName = await VxlanNetwork.create({ id: 105, underlay: 'eth0', prefix: '2a0a:e5c1:111:88b::/64', peers: [H2], netns: h1.name });
      nets.push(byName);
      const first = routeSockets();
      expect(first).toBeGreaterThan(before);
      // The second network, in the same namespace by another path, opens no rtnetlink socket of its own.
      const byProc = await VxlanNetwork.create({ id: 106, underlay: 'eth0', prefix: '2a0a:e5c1:111:88c::/64', peers: [H2], netns: procPath });
      nets.push(byProc);
      expect(routeSockets()).toBe(first);
      expect(sharedAdvertisers.size).toBe(1);
      expect(sharedAdvertisers.interfaces(identity).sort()).toEqual(['br105', 'br106']);
      const raw6 = h1
        .exec('cat', ['/proc/net/raw6'])
        .split('\n')
        .filter((l) => /^\s*\d+: [0-9A-F]{32}:003A /u.test(l));
      expect(raw6).toHaveLength(1);
      // That one advertiser sends on both bridges.
      await until('RAs on both bridges', () => sharedAdvertisers.counters(identity).advertisementsSent >= 2);

      await Promise.all([byName.destroy({ timeoutMs: 1000 }), byProc.destroy({ timeoutMs: 1000 })]);
      expect(sharedAdvertisers.size).toBe(0);
      expect(await until('the shared sockets closed', () => routeSockets() === before)).toBe(true);
      expect(linkNames(h1)).toEqual(['eth0', 'lo']);
    } finally {
      holder.kill();
    }
  }, 60_000);

  it('addPeer and removePeer add and remove the peer VTEP as bridge fdb shows it', async () => {
    const net = await VxlanNetwork.create({ id: 104, underlay: 'eth0', prefix: '2a0a:e5c1:111:88a::/64', peers: [H2], netns: h1.name, ra: false });
    nets.push(net);
    const remotes = () =>
      h1
        .bridgeJson<{ mac: string; dst?: string }[]>('fdb', 'show', 'dev', 'vxlan104')
        .filter((e) => e.mac === '00:00:00:00:00:00')
        .map((e) => e.dst)
        .sort();
    expect(remotes()).toEqual([H2]);
    await net.addPeer('fd00:4789::9');
    expect(remotes()).toEqual([H2, 'fd00:4789::9']);
    await net.removePeer(H2);
    expect(remotes()).toEqual(['fd00:4789::9']);
    await expect(net.addPeer('not-an-address')).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(remotes()).toEqual(['fd00:4789::9']);
  });

  it('rolls back when the bridge name is taken, and leaves that bridge alone', async () => {
    h1.ip('link', 'add', 'br105', 'type', 'bridge');
    h1.ip('addr', 'add', '2001:db8:105::1/64', 'dev', 'br105', 'nodad');
    try {
      // Refused by the create itself: nothing is made.
      const error = await VxlanNetwork.create({ id: 105, underlay: 'eth0', prefix: PREFIX, netns: h1.name }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'EEXIST', step: 'create bridge br105' });
      expect((error as Error).message).toMatch(/^VxlanNetwork 105: create bridge br105 failed: createBridge br105: EEXIST/u);
      expect(linkNames(h1)).toEqual(['br105', 'eth0', 'lo']);
      const [br] = h1.ipJson<{ addr_info: { local: string }[] }[]>('-6', 'addr', 'show', 'dev', 'br105');
      expect(br!.addr_info.map((a) => a.local)).toContain('2001:db8:105::1');
    } finally {
      h1.ip('link', 'del', 'br105');
    }
  });

  it('rolls back when the kernel refuses the router address: no vxlan, no bridge left', async () => {
    // Links made in h1 from now on start with IPv6 disabled: br106 cannot take an IPv6 address.
    h1.sysctl('net.ipv6.conf.default.disable_ipv6', 1);
    try {
      const error = await VxlanNetwork.create({ id: 106, underlay: 'eth0', prefix: PREFIX, netns: h1.name }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NetworkSetupError);
      expect((error as NetworkSetupError).step).toBe('add 2a0a:e5c1:111:888::1/64 to br106');
      expect(linkNames(h1)).toEqual(['eth0', 'lo']);
    } finally {
      h1.sysctl('net.ipv6.conf.default.disable_ipv6', 0);
    }
  });

  it('rolls back when the underlay does not exist: no links left, the step named', async () => {
    const error = await VxlanNetwork.create({ id: 102, underlay: 'eth9', prefix: PREFIX, netns: h1.name }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkSetupError);
    expect((error as NetworkSetupError).step).toBe('create vxlan102 on underlay eth9');
    expect((error as Error).message).toMatch(/^VxlanNetwork 102: create vxlan102 on underlay eth9 failed: /u);
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(linkNames(h1)).toEqual(['eth0', 'lo']);
  });

  it('rolls back when a link name is taken, and leaves the other one alone', async () => {
    h1.ip('link', 'add', 'vxlan103', 'type', 'bridge');
    try {
      await expect(VxlanNetwork.create({ id: 103, underlay: 'eth0', prefix: PREFIX, netns: h1.name })).rejects.toMatchObject({
        step: 'create vxlan103 on underlay eth0',
        code: 'EEXIST',
      });
      expect(linkNames(h1)).toEqual(['eth0', 'lo', 'vxlan103']);
    } finally {
      h1.ip('link', 'del', 'vxlan103');
    }
  });
});
