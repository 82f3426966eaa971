/**
 * Guards at scale and their life cycle, with `nft -j` as the oracle: 500 ports guarded in one
 * batch and removed, the host's own table untouched; guards of vanished taps found and
 * pruned; the bandwidth limit polices frames from the guest.
 */
import { rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { listGuards, pruneGuards, removeGuards, securePort, securePorts } from '../../lib/guard/index.js';
import { eui64Address } from '../../lib/mac.js';
import { openTap } from '../../lib/tap.js';
import { echoBody, ether, ETH_P_IPV6, icmpv6, multicastMac, withVnetHeader } from '../helpers/frames.js';
import { runAsync, TestNetns } from '../helpers/netns.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

const N = 500;
const PREFIX = '2001:db8:500::/64';
const mac = (i: number): string => `02:00:00:05:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;

interface NftObject {
  table?: { family: string; name: string };
  chain?: { name: string; table: string };
  rule?: { table: string; chain: string; comment?: string; expr: Array<Record<string, any>> };
}

describe.skipIf(skipUnlessRoot('port security integration tests', ['/dev/net/tun']))('guarded ports at scale', () => {
  let ns: TestNetns;
  const ruleset = async (): Promise<NftObject[]> =>
    (JSON.parse(await runAsync('ip', ['netns', 'exec', ns.name, 'nft', '-j', 'list', 'ruleset'])) as { nftables: NftObject[] }).nftables;
  const hostTable = (): string => ns.exec('nft', ['-s', '-j', 'list', 'table', 'inet', 'hostfw']);

  beforeAll(async () => {
    ns = new TestNetns('vmpgs');
    ns.exec('nft', [
      'add table inet hostfw; add chain inet hostfw input { type filter hook input priority 0; }; add rule inet hostfw input tcp dport 22 counter accept',
    ]);
    ns.exec('nft', ['add table netdev hostnetdev; add chain netdev hostnetdev c; add rule netdev hostnetdev c counter']);
    const batch = join(tmpdir(), `${ns.name}.batch`);
    writeFileSync(batch, Array.from({ length: N }, (_, i) => `tuntap add dev g${i} mode tap\n`).join(''));
    try {
      await runAsync('ip', ['-n', ns.name, '-batch', batch]);
    } finally {
      rmSync(batch, { force: true });
    }
  }, 180_000);

  afterAll(() => ns?.cleanup());

  it(`guards ${N} ports in one batch and removes them; the host's tables stay as they were`, async () => {
    const before = hostTable();
    const beforeNetdev = ns.exec('nft', ['-s', '-j', 'list', 'table', 'netdev', 'hostnetdev']);
    const guards = await securePorts(Array.from({ length: N }, (_, i) => ({ netns: ns.name, port: `g${i}`, mac: mac(i), prefixes: [PREFIX] })));
    const objects = await ruleset();
    const ours = objects.filter((o) => o.chain?.table === 'vmplumb-guard');
    expect(ours).toHaveLength(N * 7);
    const base = objects
      .filter((o) => o.chain?.table === 'vmplumb-guard' && !o.chain.name.includes('/'))
      .map((o) => o.chain?.name)
      .sort();
    expect(base).toEqual(Array.from({ length: N }, (_, i) => `g${i}`).sort());
    // Each port's MAC rule holds its own MAC.
    const macRule = objects.find((o) => o.rule?.chain === 'g300' && o.rule.comment === 'mac-source');
    expect(JSON.stringify(macRule?.rule?.expr)).toContain(String(parseInt(mac(300).replace(/:/gu, ''), 16)));
    expect(await listGuards({ netns: ns.name })).toHaveLength(N);
    expect(hostTable()).toBe(before);

    await removeGuards(guards);
    const after = await ruleset();
    expect(after.some((o) => o.table?.name === 'vmplumb-guard' || o.chain?.table === 'vmplumb-guard')).toBe(false);
    expect(hostTable()).toBe(before);
    expect(ns.exec('nft', ['-s', '-j', 'list', 'table', 'netdev', 'hostnetdev'])).toBe(beforeNetdev);
    await removeGuards(guards); // idempotent
  });

  it('finds and prunes guards whose tap is gone, keeps the others; securing again replaces', async () => {
    const a = await securePort({ netns: ns.name, port: 'g1', mac: mac(1), prefixes: [PREFIX] });
    await securePort({ netns: ns.name, port: 'g2', mac: mac(2), prefixes: [PREFIX] });
    // Again, with IPv4: one guard, replaced in the same batch (arp and ip4 chains appear).
    await securePort({ netns: ns.name, port: 'g2', mac: mac(2), prefixes: [PREFIX, '192.0.2.0/24'], allowIPv4: true });
    expect(
      (await ruleset())
        .filter((o) => o.chain?.name.startsWith('g2'))
        .map((o) => o.chain?.name)
        .sort(),
    ).toEqual(['g2', 'g2/arp', 'g2/ip4', 'g2/ip6', 'g2/ip6-source', 'g2/na', 'g2/na-target', 'g2/ns', 'g2/rs']);
    ns.ip('link', 'del', 'g2');
    // The identity each base chain carries: the handle's id, the MAC, and the VM when given.
    expect(await listGuards({ netns: ns.name })).toEqual(
      expect.arrayContaining([{ port: 'g1', present: true, id: a.id, mac: mac(1) }, expect.objectContaining({ port: 'g2', present: false, mac: mac(2) })]),
    );
    expect(await pruneGuards({ netns: ns.name })).toEqual(['g2']);
    expect((await ruleset()).some((o) => o.chain?.name.startsWith('g2'))).toBe(false);
    expect((await ruleset()).some((o) => o.chain?.name === 'g1')).toBe(true);
    await a.remove();
    expect((await ruleset()).some((o) => o.table?.name === 'vmplumb-guard')).toBe(false);
  });

  it('refuses a port that does not exist, leaving nothing behind', async () => {
    await expect(securePort({ netns: ns.name, port: 'nosuch', mac: mac(1), prefixes: [PREFIX] })).rejects.toMatchObject({ code: 'ENODEV' });
    expect((await ruleset()).some((o) => o.table?.name === 'vmplumb-guard')).toBe(false);
  });

  it("polices the guest's outbound bandwidth (positive control: the same burst passes unlimited)", async () => {
    await using tap = await openTap({ netns: ns.name, name: 'bw0' });
    ns.ip('link', 'set', 'bw0', 'up');
    const guest = '02:00:00:05:ff:01';
    const src = eui64Address(PREFIX, guest);
    const frame = withVnetHeader(ether(multicastMac('ff02::1'), guest, ETH_P_IPV6, icmpv6(src, 'ff02::1', 128, echoBody(1, 'x'.repeat(1000)))));
    const burst = async (options: object): Promise<Record<string, number>> => {
      const guard = await securePort({ netns: ns.name, port: 'bw0', mac: guest, prefixes: [PREFIX], ...options });
      try {
        for (let i = 0; i < 100; i++) writeSync(tap.fds[0] as number, frame);
        // Frames pass the hook in the kernel's receive path: wait until all 100 are counted.
        const deadline = Date.now() + 30_000;
        for (;;) {
          const c = Object.fromEntries((await guard.counters()).map((x) => [x.name, x.packets]));
          if ((c['bandwidth-out'] ?? 0) + (c['ip6-pass'] ?? 0) >= 100 || Date.now() > deadline) return c;
          await new Promise((r) => setTimeout(r, 100));
        }
      } finally {
        await guard.remove();
      }
    };
    const limited = await burst({ bandwidth: { outbound: { rate: 10_000, burst: 5_000 } } });
    expect(limited['bandwidth-out']).toBeGreaterThan(50);
    expect((limited['bandwidth-out'] ?? 0) + (limited['ip6-pass'] ?? 0)).toBe(100);
    const free = await burst({});
    expect(free['ip6-pass']).toBe(100);
    expect(free['bandwidth-out']).toBeUndefined();
  });
});
