/**
 * The reference scenario end to end with real guests: host 1 (a namespace) makes network 100
 * (VXLAN over IPv6 multicast) and network 101 (unicast VXLAN, FDB entry for the peer) with
 * VxlanNetwork and starts one tcg guest in each; host 2 runs the reference shell commands
 * unchanged. Each guest must configure exactly `vm.address` from our RAs, take its default
 * route from them (via host 1's bridge), and answer ping from host 1 and from host 2 through
 * the VXLAN. The two guests boot at the same time (one wait, not two), and both networks are
 * served by the one shared advertiser of host 1's namespace. Then: a VM that exits by itself
 * is reported and its tap is gone; stop and destroy leave no tap, link, process or namespace.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ensureGuest, guestBootOptions, parseGuestConsole, waitForGuestConsole, type GuestConsoleLine } from '../../testing/guest/index.js';
import { VxlanNetwork, type NetworkVm, type VmExitEvent } from '../../lib/network.js';
import { joinWithVeth, TestNetns } from '../helpers/netns.js';
import { skipUnlessRoot } from '../helpers/privileges.js';
import { reaped, running } from '../helpers/proc.js';
import { referenceScript } from '../../testing/demo/hosts.js';

const H1 = 'fd00:4789::1';
const H2 = 'fd00:4789::2';
const NETS = {
  multicast: { id: 100, prefix: '2a0a:e5c1:111:888::/64', host2: '2a0a:e5c1:111:888::2' },
  unicast: { id: 101, prefix: '2a0a:e5c1:111:889::/64', host2: '2a0a:e5c1:111:889::2' },
} as const;

const BOOT_TIMEOUT_MS = 240_000;

describe.skipIf(skipUnlessRoot('end-to-end guest tests', ['/dev/net/tun']))('the reference scenario with guests', () => {
  let h1: TestNetns;
  let h2: TestNetns;
  let work: string;
  const nets: Record<'multicast' | 'unicast', VxlanNetwork | undefined> = { multicast: undefined, unicast: undefined };
  const vms: Record<'multicast' | 'unicast', NetworkVm | undefined> = { multicast: undefined, unicast: undefined };
  const exits: VmExitEvent[] = [];
  const serial = (kind: string): string => join(work, `${kind}.console`);

  beforeAll(async () => {
    const guest = await ensureGuest();
    work = mkdtempSync(join(tmpdir(), 'vmpe2e-'));
    h1 = new TestNetns('vmpe2e');
    h2 = new TestNetns('vmpe2e');
    joinWithVeth(h1, 'eth0', h2, 'eth0');
    h1.ip('addr', 'add', `${H1}/64`, 'dev', 'eth0', 'nodad');
    h2.ip('addr', 'add', `${H2}/64`, 'dev', 'eth0', 'nodad');

    nets.multicast = await VxlanNetwork.create({ id: 100, underlay: 'eth0', prefix: NETS.multicast.prefix, netns: h1.name });
    nets.unicast = await VxlanNetwork.create({ id: 101, underlay: 'eth0', prefix: NETS.unicast.prefix, peers: [H2], netns: h1.name });
    for (const n of Object.values(nets)) n?.on('vm-exit', (e) => exits.push(e));

    // Host 2: the reference commands, unchanged (the second network in its unicast form).
    h2.exec('sh', [
      '-ec',
      [...referenceScript({ id: 100, address: NETS.multicast.host2 }), ...referenceScript({ id: 101, address: NETS.unicast.host2, unicastPeer: H1 })].join(
        '\n',
      ),
    ]);

    // Both guests boot at once: under TCG the wait is the long part.
    for (const [kind, id] of [
      ['multicast', 1],
      ['unicast', 2],
    ] as const) {
      vms[kind] = await nets[kind]!.startVm({ id, ...guestBootOptions(guest, serial(kind)) });
    }
  }, 300_000);

  afterAll(async () => {
    await Promise.allSettled(Object.values(nets).map((n) => n?.destroy({ timeoutMs: 2000 })));
    h1?.cleanup();
    h2?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  /** The guest reported exactly `address` (global) and a default route via host 1's bridge. */
  async function expectGuestConfigured(kind: 'multicast' | 'unicast'): Promise<void> {
    const vm = vms[kind]!;
    const bridge = nets[kind]!.bridgeName;
    const addr = await waitForGuestConsole(serial(kind), (l): l is Extract<GuestConsoleLine, { kind: 'addr' }> => l.kind === 'addr' && l.scope === 'global', {
      timeoutMs: BOOT_TIMEOUT_MS,
    });
    expect(`${addr.address}/${addr.prefixLength}`).toBe(`${vm.address}/64`);
    const route = await waitForGuestConsole(serial(kind), (l): l is Extract<GuestConsoleLine, { kind: 'route' }> => l.kind === 'route', { timeoutMs: 60_000 });
    // (`ip -j … scope link` lists the filtered-out addresses as {}.)
    const routerLl = (h1.ipJson('-6', 'addr', 'show', 'dev', bridge, 'scope', 'link')[0].addr_info as { local?: string }[]).find((a) =>
      a.local?.startsWith('fe80:'),
    )?.local;
    expect(route.via).toBe(routerLl);
    // Nothing but our prefix: every global address the guest reported is vm.address.
    const globals = parseGuestConsole(await import('node:fs/promises').then((fs) => fs.readFile(serial(kind), 'utf8'))).filter(
      (l) => l.kind === 'addr' && l.scope === 'global',
    );
    for (const g of globals) expect(g.kind === 'addr' && g.address).toBe(vm.address);
  }

  it(
    'multicast VXLAN: the guest takes vm.address and its default route from our RAs; hosts 1 and 2 ping it',
    async () => {
      const vm = vms.multicast!;
      expect(vm.address).toBe('2a0a:e5c1:111:888:0:ff:fe00:1');
      expect(vm.tap).toBe('vm1n100');
      expect(h1.ipJson('link', 'show', 'dev', 'vm1n100')[0].master).toBe('br100');
      await expectGuestConfigured('multicast');
      await h1.pingUntilReply(vm.address);
      await h2.pingUntilReply(vm.address);
      // Host 2 reached it through the tunnel: its bridge learned the guest's MAC behind vxlan100, at host 1's VTEP.
      const learned = h2.bridgeJson<{ mac: string; ifname: string; dst?: string }[]>('fdb', 'show', 'dev', 'vxlan100');
      expect(learned).toContainEqual(expect.objectContaining({ mac: vm.mac, dst: H1 }));
    },
    BOOT_TIMEOUT_MS + 60_000,
  );

  it(
    'unicast VXLAN (no group, FDB entry for the peer): the same',
    async () => {
      const vm = vms.unicast!;
      expect(h1.ipJson('-d', 'link', 'show', 'dev', 'vxlan101')[0].linkinfo.info_data.group6).toBeUndefined();
      await expectGuestConfigured('unicast');
      await h1.pingUntilReply(vm.address);
      await h2.pingUntilReply(vm.address);
      const learned = h2.bridgeJson<{ mac: string; dst?: string }[]>('fdb', 'show', 'dev', 'vxlan101');
      expect(learned).toContainEqual(expect.objectContaining({ mac: vm.mac, dst: H1 }));
    },
    BOOT_TIMEOUT_MS + 60_000,
  );

  it('a VM that exits by itself is reported and its tap is gone', async () => {
    const vm = vms.unicast!;
    const reported = new Promise<VmExitEvent>((resolve) => nets.unicast!.once('vm-exit', resolve));
    process.kill(vm.pid, 'SIGTERM');
    const event = await reported;
    expect(event).toMatchObject({ id: 2, tap: 'vm2n101', expected: false });
    expect(() => h1.ip('link', 'show', 'dev', 'vm2n101')).toThrow();
    expect(running(vm.pid) || !reaped(vm.pid)).toBe(false);
    expect(nets.unicast!.vmList).toEqual([]);
  });

  it('stop and destroy leave no tap, link, process or namespace', async () => {
    const vm = vms.multicast!;
    const pid = vm.pid;
    await vm.stop({ timeoutMs: 2000 });
    expect(running(pid) || !reaped(pid)).toBe(false);
    expect(() => h1.ip('link', 'show', 'dev', 'vm1n100')).toThrow();
    expect(exits).toContainEqual(expect.objectContaining({ id: 1, expected: true }));
    await Promise.all([nets.multicast!.destroy({ timeoutMs: 1000 }), nets.unicast!.destroy({ timeoutMs: 1000 })]);
    expect(
      h1
        .ipJson<{ ifname: string }[]>('link', 'show')
        .map((l) => l.ifname)
        .sort(),
    ).toEqual(['eth0', 'lo']);
    h1.cleanup();
    h2.cleanup();
    expect(existsSync(`/run/netns/${h1.name}`)).toBe(false);
    expect(existsSync(`/run/netns/${h2.name}`)).toBe(false);
  }, 60_000);
});
