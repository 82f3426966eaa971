/**
 * radvd's per-prefix and per-interface features as a client kernel and a capture see them:
 * DeprecatePrefix (the address deprecated by the final RA), DecrementLifetimes (advertised
 * lifetimes counting down until the address is deprecated), `clients` with UnicastOnly (no
 * multicast RA at all, unlisted hosts unanswered), the number of final RAs and
 * RemoveAdvOnExit off. Each has a positive control: the same thing without the feature.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAdvertisement } from '../../lib/ra/codec.js';
import { RouterAdvertiser } from '../../lib/ra/index.js';
import type { RaInterfaceConfig } from '../../lib/ra/types.js';
import { joinWithVeth, TestNetns } from '../helpers/netns.js';
import { skipUnlessRoot } from '../helpers/privileges.js';
import { Capture, until } from '../helpers/ra-capture.js';

const BRIDGE = 'br100';
const BRIDGE_MAC = '02:00:00:00:01:00';
/** Two clients; only the first is ever listed in `clients`. EUI-64 link-locals from fixed MACs. */
const C1 = { dev: 'vmpraf-c1', peer: 'vmpraf-r1', mac: '02:00:f0:a9:c4:4e', ll: 'fe80::f0ff:fea9:c44e' };
const C2 = { dev: 'vmpraf-c2', peer: 'vmpraf-r2', mac: '02:00:f0:a9:c4:4f', ll: 'fe80::f0ff:fea9:c44f' };

interface AddrInfo {
  local: string;
  scope: string;
  preferred_life_time?: number;
  valid_life_time?: number;
  deprecated?: boolean;
}

/** rdisc6 → exit code (0: an RA came back) and output. */
function rdisc6(ns: TestNetns, dev: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', ns.name, 'rdisc6', '-1', '-r', '2', '-w', '1500', dev], { encoding: 'utf8', timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

describe.skipIf(skipUnlessRoot('RA feature tests', ['/usr/bin/dumpcap', '/usr/bin/rdisc6']))('radvd features seen by clients', () => {
  let router: TestNetns;
  let client1: TestNetns;
  let client2: TestNetns;

  const addresses = (ns: TestNetns, dev: string): AddrInfo[] =>
    ns.ipJson<Array<{ addr_info: AddrInfo[] }>>('-6', 'addr', 'show', 'dev', dev)[0]?.addr_info ?? [];
  const slaac = (ns: TestNetns, dev: string, prefix: string): AddrInfo | undefined =>
    addresses(ns, dev).find((a) => a.scope === 'global' && a.local.startsWith(prefix));

  beforeAll(async () => {
    router = new TestNetns('vmpraf');
    client1 = new TestNetns('vmpraf');
    client2 = new TestNetns('vmpraf');
    router.ip('link', 'add', BRIDGE, 'address', BRIDGE_MAC, 'type', 'bridge');
    router.ip('link', 'set', BRIDGE, 'addrgenmode', 'eui64');
    for (const [client, c] of [
      [client1, C1],
      [client2, C2],
    ] as const) {
      joinWithVeth(router, c.peer, client, c.dev);
      router.ip('link', 'set', c.peer, 'master', BRIDGE);
      client.ip('link', 'set', c.dev, 'down');
      client.ip('link', 'set', c.dev, 'address', c.mac, 'addrgenmode', 'eui64');
      for (const key of ['forwarding=0', 'accept_ra=1', 'autoconf=1', 'accept_ra_defrtr=1']) {
        const [name, value] = key.split('=') as [string, string];
        client.sysctl(`net.ipv6.conf.${c.dev}.${name}`, value);
      }
      client.ip('link', 'set', c.dev, 'up');
    }
    router.ip('link', 'set', BRIDGE, 'up');
    await until(`${BRIDGE}'s link-local past DAD`, () => router.linkLocal(BRIDGE), 60_000);
    await until("the clients' link-locals past DAD", () => client1.linkLocal(C1.dev) === C1.ll && client2.linkLocal(C2.dev) === C2.ll, 60_000);
  });

  afterAll(() => {
    router?.cleanup();
    client1?.cleanup();
    client2?.cleanup();
  });

  const base = (extra: Partial<RaInterfaceConfig>): RaInterfaceConfig => ({ name: BRIDGE, minInterval: 3, maxInterval: 4, defaultLifetime: 600, ...extra });

  it("DeprecatePrefix: the final RA deprecates that prefix's address at once (and only that prefix's)", async () => {
    const ra = new RouterAdvertiser({
      netns: router.name,
      finalAdvertisements: 1,
      interfaces: [
        base({
          prefixes: [
            { prefix: '2001:db8:d1::/64', deprecateOnStop: true },
            { prefix: '2001:db8:d2::/64' }, // control: without DeprecatePrefix
          ],
        }),
      ],
    });
    try {
      await ra.start();
      const before = await until('both SLAAC addresses', () => {
        const a = slaac(client1, C1.dev, '2001:db8:d1:');
        const b = slaac(client1, C1.dev, '2001:db8:d2:');
        return a && b && [a, b];
      });
      expect(before.map((a) => a.deprecated ?? false)).toEqual([false, false]);
    } finally {
      await ra.stop();
    }
    const [deprecated, kept] = await until('the deprecated address', () => {
      const a = slaac(client1, C1.dev, '2001:db8:d1:');
      return a?.preferred_life_time === 0 && [a, slaac(client1, C1.dev, '2001:db8:d2:')!];
    });
    expect(deprecated.deprecated).toBe(true);
    // RFC 4862 §5.5.3 e): the valid lifetime drops to the 2 hours the final RA carries.
    expect(deprecated.valid_life_time).toBeLessThanOrEqual(7200);
    expect(kept.deprecated ?? false).toBe(false);
    expect(kept.preferred_life_time).toBeGreaterThan(0);
  });

  it('DecrementLifetimes: the advertised lifetimes count down and the address is deprecated when they reach 0', async () => {
    const capture = new Capture(client1, C1.dev);
    await capture.ready;
    const ra = new RouterAdvertiser({
      netns: router.name,
      finalAdvertisements: 0,
      interfaces: [
        base({
          prefixes: [
            { prefix: '2001:db8:de1::/64', validLifetime: 600, preferredLifetime: 7, decrementLifetimes: true },
            { prefix: '2001:db8:de2::/64', validLifetime: 600, preferredLifetime: 60 }, // control: refreshed by every RA
          ],
        }),
      ],
    });
    try {
      await ra.start();
      const deprecated = await until("the counting-down prefix's address deprecated", () => {
        const a = slaac(client1, C1.dev, '2001:db8:de1:');
        return a?.deprecated === true && a;
      });
      expect(deprecated.preferred_life_time).toBe(0);
      // What was sent: the first RA with 7 s, later ones with less, then the prefix left out.
      const sent = capture.packets().map((p) => decodeAdvertisement(p.payload).options.filter((o) => o.type === 'prefix'));
      const counting = sent.map((options) => options.find((o) => o.prefix === '2001:db8:de1::'));
      expect(counting[0]).toMatchObject({ preferredLifetime: 7, validLifetime: 600 });
      const later = counting.slice(1).filter((o) => o !== undefined);
      expect(later.length).toBeGreaterThan(0);
      for (const o of later) {
        expect(o.preferredLifetime).toBeLessThan(7);
        expect(600 - o.validLifetime).toBe(7 - o.preferredLifetime);
      }
      // The control is sent unchanged in every RA and its address stays preferred.
      expect(sent.every((options) => options.some((o) => o.prefix === '2001:db8:de2::' && o.preferredLifetime === 60))).toBe(true);
      await until('an RA without the expired prefix', () => {
        const last = capture.packets().at(-1);
        return last && !decodeAdvertisement(last.payload).options.some((o) => o.type === 'prefix' && o.prefix === '2001:db8:de1::');
      });
    } finally {
      await ra.stop();
      await capture.stop();
    }
    expect(slaac(client1, C1.dev, '2001:db8:de2:')?.deprecated ?? false).toBe(false);
  });

  it("prefix ::/64 advertises the bridge's own prefix: the client configures an address in it", async () => {
    router.ip('addr', 'add', '2001:db8:a0::1/64', 'dev', BRIDGE, 'nodad');
    const ra = new RouterAdvertiser({ netns: router.name, finalAdvertisements: 0, interfaces: [base({ prefixes: [{ prefix: '::/64' }] })] });
    try {
      await ra.start();
      const address = await until("the SLAAC address in the bridge's prefix", () => slaac(client1, C1.dev, '2001:db8:a0:'));
      expect(address.local).toBe('2001:db8:a0::f0ff:fea9:c44e');
    } finally {
      await ra.stop();
      router.ip('addr', 'del', '2001:db8:a0::1/64', 'dev', BRIDGE);
    }
  });

  it('clients + UnicastOnly: RAs go by unicast to the listed host only, never to ff02::1; an unlisted host is not answered', async () => {
    const capture1 = new Capture(client1, C1.dev);
    const capture2 = new Capture(client2, C2.dev);
    await Promise.all([capture1.ready, capture2.ready]);
    const ra = new RouterAdvertiser({
      netns: router.name,
      finalAdvertisements: 1,
      interfaces: [base({ unicastOnly: true, clients: [C1.ll], prefixes: [{ prefix: '2001:db8:c1::/64' }] })],
    });
    try {
      await ra.start();
      await until('two periodic unicast RAs at the listed client', () => capture1.packets().length >= 2);
      const listed = await rdisc6(client1, C1.dev);
      expect(listed.code).toBe(0);
      expect(listed.out).toMatch(/Prefix\s+:\s+2001:db8:c1::\/64/);
      // Positive control above, the refusal here: the unlisted host's solicitations go unanswered.
      const unlisted = await rdisc6(client2, C2.dev);
      expect(unlisted.code).not.toBe(0);
    } finally {
      await ra.stop();
    }
    await until('the final RA at the listed client', () => capture1.packets().some((p) => p.payload.readUInt16BE(6) === 0));
    await Promise.all([capture1.stop(), capture2.stop()]);
    const seen = [...capture1.packets(), ...capture2.packets()];
    expect(seen.filter((p) => p.destination === 'ff02::1')).toEqual([]);
    expect(new Set(seen.map((p) => p.destination))).toEqual(new Set([C1.ll]));
    // The frames that reached client 2 (flooded before the bridge learned client 1's MAC) are not for it.
    expect(capture2.packets().every((p) => p.destination === C1.ll)).toBe(true);
    const [stats] = ra.stats();
    expect(stats).toMatchObject({ multicastAdvertisementsSent: 0, finalAdvertisementsSent: 1 });
    expect(stats!.unicastAdvertisementsSent).toBe(capture1.packets().length);
  });

  it('without clients the same config multicasts (the control of the test above)', async () => {
    const capture = new Capture(client2, C2.dev);
    await capture.ready;
    const ra = new RouterAdvertiser({ netns: router.name, finalAdvertisements: 0, interfaces: [base({ prefixes: [{ prefix: '2001:db8:c1::/64' }] })] });
    try {
      await ra.start();
      await until('a multicast RA at the other client', () => capture.packets().some((p) => p.destination === 'ff02::1'));
      expect((await rdisc6(client2, C2.dev)).code).toBe(0);
    } finally {
      await ra.stop();
      await capture.stop();
    }
  });

  it('stop() sends exactly finalAdvertisements final RAs; RemoveAdvOnExit off sends none', async () => {
    for (const [config, finals] of [
      [base({}), 3],
      [base({ removeOnStop: false }), 0],
    ] as const) {
      const capture = new Capture(client1, C1.dev);
      await capture.ready;
      const ra = new RouterAdvertiser({ netns: router.name, finalAdvertisements: 3, interfaces: [config] });
      try {
        await ra.start();
        await until('an RA', () => capture.packets().length > 0);
      } finally {
        await ra.stop();
      }
      // stop() resolves after the last final RA is sent; one more RA to wait for is the
      // multicast of a fresh advertiser, so wait for that rather than for time to pass.
      const marker = new RouterAdvertiser({ netns: router.name, finalAdvertisements: 0, interfaces: [base({ defaultLifetime: 700 })] });
      await marker.start();
      await until('the marker RA', () => capture.packets().some((p) => p.payload.readUInt16BE(6) === 700));
      await marker.stop();
      await capture.stop();
      const lifetimes = capture.packets().map((p) => p.payload.readUInt16BE(6));
      expect(lifetimes.filter((l) => l === 0)).toHaveLength(finals);
      expect(ra.stats()[0]).toMatchObject({ finalAdvertisementsSent: finals });
    }
  });
});
