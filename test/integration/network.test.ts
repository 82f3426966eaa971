/**
 * VxlanNetwork on the kernel, without a guest: two "hosts" (namespaces) joined by a veth named
 * eth0 on each side. Host 1 uses VxlanNetwork; host 2 runs the reference shell commands
 * unchanged, and its own kernel is the client: it learns host 1's router advertisements across
 * the VXLAN (SLAAC address + default route via host 1's bridge), and rdisc6 shows the options.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { NetworkSetupError, VxlanNetwork } from '../../lib/network.js';
import { twoHostsWithVeth } from '../helpers/hosts.js';
import type { TestNetns } from '../helpers/netns.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

const execFileP = promisify(execFile);
const PREFIX = '2a0a:e5c1:111:888::/64';
const H1 = 'fd00:4789::1';
const H2 = 'fd00:4789::2';

/** The reference commands (docs/ARCHITECTURE.md), as host 2 runs them. */
const reference = (id: number, address: string, peer?: string): string => [
  peer === undefined
    ? `ip -6 link add vxlan${id} type vxlan id ${id} dstport 4789 group ff05::${id} dev eth0 ttl 5`
    : `ip -6 link add vxlan${id} type vxlan id ${id} dstport 4789 dev eth0 ttl 5 && bridge fdb append 00:00:00:00:00:00 dev vxlan${id} dst ${peer}`,
  `ip link add br${id} type bridge`,
  `ip link set vxlan${id} master br${id} up ; ip link set br${id} up`,
  `ip addr add ${address} dev br${id}`,
].join('\n');

// Generous: the bridge's link-local (the RA source) waits for DAD, whose kernel work needs the
// RTNL lock; on a machine busy with link churn that alone can take 20 s.
async function eventually<T>(what: string, fn: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = fn();
      if (v !== undefined && v !== false) return v;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Pings until a reply (host 2's own address, added as the reference does without nodad, may
 * still be in DAD, and neighbour discovery crosses the tunnel first).
 */
async function pingFrom(ns: TestNetns, address: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await execFileP('ip', ['netns', 'exec', ns.name, 'ping', '-6', '-n', '-c', '1', '-W', '2', address]).then(() => true, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`no reply from ${address} in ${ns.name}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

interface AddrInfo { family: string; local: string; prefixlen: number; scope: string; dynamic?: boolean }

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

  const linkNames = (ns: TestNetns): string[] => ns.ipJson<{ ifname: string }[]>('link', 'show').map((l) => l.ifname).sort();

  /** Host 2's kernel configured an address from our prefix on br<id> and a default route via host 1's bridge. */
  async function expectHost2Slaac(id: number, prefix: string): Promise<void> {
    const routerLl = await eventually(`host 1 link-local on br${id}`, () => h1.linkLocal(`br${id}`));
    expect(routerLl).toMatch(/^fe80:/u);
    const network = prefix.replace(/::\/64$/u, ':');
    const slaac = await eventually(`host 2 SLAAC on br${id}`, () => h2.ipJson<{ addr_info: AddrInfo[] }[]>('-6', 'addr', 'show', 'dev', `br${id}`)[0]
      ?.addr_info.find((a) => a.local?.startsWith(network) && a.dynamic === true && a.prefixlen === 64));
    expect(slaac.scope).toBe('global');
    const route = await eventually(`host 2 default route via br${id}`, () => h2.ipJson<{ gateway?: string; dev: string }[]>('-6', 'route', 'show', 'default')
      .find((r) => r.dev === `br${id}`));
    expect(route.gateway).toBe(routerLl);
  }

  it('makes the reference network; host 2 (reference script) learns our RAs across VXLAN over multicast', async () => {
    const net = await VxlanNetwork.create({
      id: 100, underlay: 'eth0', prefix: PREFIX, netns: h1.name,
      rdnss: ['2a0a:e5c0::3', '2a0a:e5c0::4'], dnssl: ['place7.ungleich.ch'],
    });
    nets.push(net);
    const [vx] = h1.ipJson('-d', 'link', 'show', 'dev', 'vxlan100');
    expect(vx.master).toBe('br100');
    expect(vx.flags).toContain('UP');
    expect(vx.linkinfo.info_data).toMatchObject({ id: 100, group6: 'ff05::100', port: 4789, ttl: 5, link: 'eth0' });
    const [br] = h1.ipJson('-d', 'link', 'show', 'dev', 'br100');
    expect(br.linkinfo.info_kind).toBe('bridge');
    expect(br.flags).toContain('UP');
    const brAddrs: AddrInfo[] = h1.ipJson('-6', 'addr', 'show', 'dev', 'br100')[0].addr_info;
    expect(brAddrs.map((a) => `${a.local}/${a.prefixlen}`)).toContain('2a0a:e5c1:111:888::1/64');

    h2.exec('sh', ['-ec', reference(100, '2a0a:e5c1:111:888::2/64')]);
    await expectHost2Slaac(100, PREFIX);

    // rdisc6 on host 2 solicits across the VXLAN and prints what host 1 advertises. It sends
    // from br100's link-local, which must have finished DAD (slow when other processes hold
    // RTNL): until then sendto fails at once. Run asynchronously: the advertiser answering it
    // lives in this process's event loop.
    await eventually('host 2 link-local on br100 past DAD', () => h2.linkLocal('br100'));
    let out = '';
    const deadline = Date.now() + 60_000;
    while (!out.includes('Prefix') && Date.now() < deadline) {
      out = await execFileP('ip', ['netns', 'exec', h2.name, 'rdisc6', '-1', '-n', '-r', '3', '-w', '2000', 'br100'], { encoding: 'utf8' })
        .then((r) => r.stdout, (e: { stdout?: string }) => e.stdout ?? '');
      if (!out.includes('Prefix')) await new Promise((r) => setTimeout(r, 500));
    }
    expect(out).toMatch(/Prefix\s+:\s+2a0a:e5c1:111:888::\/64/u);
    expect(out).toMatch(/Router lifetime\s+:\s+3600/u);
    expect(out).toMatch(/Recursive DNS server\s+:\s+2a0a:e5c0::3/u);
    expect(out).toMatch(/DNS search list\s+:\s+place7\.ungleich\.ch/u);

    // Host 2 reaches host 1's router address through the tunnel.
    await pingFrom(h2, '2a0a:e5c1:111:888::1');

    await net.destroy({ timeoutMs: 1000 });
    await net.destroy();
    expect(linkNames(h1)).toEqual(['eth0', 'lo']);
    h2.ip('link', 'del', 'vxlan100');
    h2.ip('link', 'del', 'br100');
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
    const raw6 = h1.exec('cat', ['/proc/net/raw6']).split('\n').filter((l) => /^\s*\d+: [0-9A-F]{32}:003A /u.test(l));
    expect(raw6).toHaveLength(1);

    h2.exec('sh', ['-ec', reference(101, '2a0a:e5c1:111:889::2/64', H1)]);
    await expectHost2Slaac(101, '2a0a:e5c1:111:889::/64');
    await pingFrom(h2, '2a0a:e5c1:111:889::1');

    await Promise.all([multicast.destroy({ timeoutMs: 1000 }), unicast.destroy({ timeoutMs: 1000 })]);
    expect(linkNames(h1)).toEqual(['eth0', 'lo']);
    h2.ip('link', 'del', 'vxlan101');
    h2.ip('link', 'del', 'br101');
  }, 150_000);

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
        step: 'create vxlan103 on underlay eth0', code: 'EEXIST',
      });
      expect(linkNames(h1)).toEqual(['eth0', 'lo', 'vxlan103']);
    } finally {
      h1.ip('link', 'del', 'vxlan103');
    }
  });
});
