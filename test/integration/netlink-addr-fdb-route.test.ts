/**
 * Addresses (ip -j addr), the bridge FDB (bridge -j fdb) and routes (ip -j route) made with
 * the API and checked with the tools.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useNetlinkNamespace } from '../helpers/netlink-fixture.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

describe.skipIf(skipUnlessRoot('netlink addresses, fdb, routes'))('addresses, FDB and routes', () => {
  const t = useNetlinkNamespace();

  beforeAll(async () => {
    t.ns.ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p');
    t.ns.ip('link', 'set', 'eth0p', 'up');
    await t.nl.setLink('eth0', { up: true });
    await t.nl.createBridge({ name: 'br100', up: true });
    await t.nl.createVxlan({ name: 'vxlan100', vni: 100, remote: '2001:db8::2', local: '2001:db8::1', master: 'br100', up: true });
  });

  const addrs = (dev: string) => t.ns.ipJson('addr', 'show', 'dev', dev)[0].addr_info as any[];

  it('adds IPv6 (nodad) and IPv4 addresses as ip shows them, lists and deletes them', async () => {
    await t.nl.addAddress('eth0', '2001:db8::1/64', { nodad: true });
    await t.nl.addAddress('eth0', '192.0.2.1/24', { label: 'eth0:v4' });
    await t.nl.addAddress('eth0', '2001:db8:5::1/64', { nodad: true, validLifetime: 600, preferredLifetime: 300 });
    expect(addrs('eth0')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ family: 'inet6', local: '2001:db8::1', prefixlen: 64, scope: 'global', nodad: true }),
        expect.objectContaining({ family: 'inet', local: '192.0.2.1', prefixlen: 24, label: 'eth0:v4' }),
        expect.objectContaining({ family: 'inet6', local: '2001:db8:5::1', valid_life_time: 600 }),
      ]),
    );
    const listed = await t.nl.listAddresses('eth0');
    expect(listed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          family: 6,
          address: '2001:db8::1',
          prefixLength: 64,
          scope: 'universe',
          flags: expect.objectContaining({ nodad: true, tentative: false, permanent: true }),
        }),
        expect.objectContaining({ family: 4, address: '192.0.2.1', prefixLength: 24, label: 'eth0:v4' }),
        expect.objectContaining({ address: '2001:db8:5::1', validLifetime: expect.any(Number) }),
      ]),
    );
    expect(listed.every((a) => a.index === t.ns.ipJson('link', 'show', 'dev', 'eth0')[0].ifindex)).toBe(true);
    const all = await t.nl.listAddresses();
    expect(all.some((a) => a.address === '127.0.0.1')).toBe(true);
    await expect(t.nl.addAddress('eth0', '2001:db8::1/64')).rejects.toMatchObject({ code: 'EEXIST', operation: 'addAddress' });
    await t.nl.deleteAddress('eth0', '192.0.2.1/24');
    expect(addrs('eth0').map((a) => a.local)).not.toContain('192.0.2.1');
  });

  it('adds FDB entries with dst, vni, port (append adds remotes), as bridge fdb shows them', async () => {
    await t.nl.addFdb({ link: 'vxlan100', mac: '00:00:00:00:00:00', dst: '2001:db8::3', append: true });
    await t.nl.addFdb({ link: 'vxlan100', mac: '00:00:00:00:00:00', dst: '2001:db8::4', vni: 200, port: 4790, append: true });
    await t.nl.addFdb({ link: 'vxlan100', mac: '02:00:00:00:00:07', dst: '2001:db8::7' });
    await t.nl.addFdb({ link: 'vxlan100', mac: '02:00:00:00:00:08', master: true, state: 'static' });
    const shown = t.ns.bridgeJson('fdb', 'show', 'dev', 'vxlan100');
    expect(shown).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ mac: '00:00:00:00:00:00', dst: '2001:db8::3', flags: ['self'], state: 'permanent' }),
        expect.objectContaining({ mac: '00:00:00:00:00:00', dst: '2001:db8::4', vni: 200, port: 4790, flags: ['self'] }),
        expect.objectContaining({ mac: '02:00:00:00:00:07', dst: '2001:db8::7', flags: ['self'] }),
        expect.objectContaining({ mac: '02:00:00:00:00:08', master: 'br100', state: 'static' }),
      ]),
    );
    const listed = await t.nl.listFdb({ link: 'vxlan100' });
    // listFdb reports what bridge fdb shows for the device: the same entries, no more, no fewer.
    const key = (mac: string, dst: string | undefined) => `${mac} ${dst ?? '-'}`;
    expect(listed.map((e) => key(e.mac, e.dst)).sort()).toEqual(shown.map((e: any) => key(e.mac, e.dst)).sort());
    expect(listed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ mac: '00:00:00:00:00:00', dst: '2001:db8::4', vni: 200, port: 4790, self: true }),
        expect.objectContaining({ mac: '02:00:00:00:00:08', state: 'static', master: t.ns.ipJson('link', 'show', 'dev', 'br100')[0].ifindex }),
      ]),
    );
    expect((await t.nl.listFdb({ master: 'br100' })).some((e) => e.mac === '02:00:00:00:00:08')).toBe(true);
    await expect(t.nl.addFdb({ link: 'vxlan100', mac: '02:00:00:00:00:07', dst: '2001:db8::7' })).rejects.toMatchObject({ code: 'EEXIST' });
    await t.nl.deleteFdb({ link: 'vxlan100', mac: '00:00:00:00:00:00', dst: '2001:db8::3' });
    const after = t.ns.bridgeJson('fdb', 'show', 'dev', 'vxlan100');
    expect(after.some((e: any) => e.dst === '2001:db8::3')).toBe(false);
    expect(after.some((e: any) => e.dst === '2001:db8::4')).toBe(true);
  });

  it('adds, lists and deletes routes as ip route shows them', async () => {
    await t.nl.addRoute({ destination: '2001:db8:100::/48', gateway: '2001:db8::2', metric: 100 });
    await t.nl.addRoute({ destination: '2001:db8:200::/48', dev: 'eth0' });
    await t.nl.addRoute({ destination: '198.51.100.0/24', dev: 'eth0', table: 1000 });
    await t.nl.addRoute({ destination: '2001:db8:300::/48', type: 'blackhole' });
    // `ip route add` marks routes 'proto boot' (and ip -j omits that default): ours must be the same.
    const six = t.ns.ipJson('-6', 'route', 'show', 'proto', 'boot');
    expect(six).toEqual([
      expect.objectContaining({ dst: '2001:db8:100::/48', gateway: '2001:db8::2', dev: 'eth0', metric: 100 }),
      expect.objectContaining({ dst: '2001:db8:200::/48', dev: 'eth0' }),
      expect.objectContaining({ type: 'blackhole', dst: '2001:db8:300::/48' }),
    ]);
    expect(t.ns.ipJson('route', 'show', 'table', '1000')).toEqual([expect.objectContaining({ dst: '198.51.100.0/24', dev: 'eth0', scope: 'link' })]);
    const listed = await t.nl.listRoutes({ family: 6 });
    expect(listed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          family: 6,
          destination: '2001:db8:100::/48',
          gateway: '2001:db8::2',
          metric: 100,
          protocol: 'boot',
          table: 254,
          type: 'unicast',
        }),
        expect.objectContaining({ destination: '2001:db8:300::/48', type: 'blackhole' }),
      ]),
    );
    expect(await t.nl.listRoutes({ table: 1000 })).toEqual([
      expect.objectContaining({ family: 4, destination: '198.51.100.0/24', table: 1000, scope: 'link' }),
    ]);
    expect((await t.nl.listRoutes({ dev: 'eth0', family: 6 })).every((r) => r.dev === t.ns.ipJson('link', 'show', 'dev', 'eth0')[0].ifindex)).toBe(true);
    await t.nl.deleteRoute({ destination: '2001:db8:100::/48', gateway: '2001:db8::2' });
    await t.nl.deleteRoute({ destination: '198.51.100.0/24', table: 1000 });
    expect(t.ns.ipJson('-6', 'route', 'show').some((r: any) => r.dst === '2001:db8:100::/48')).toBe(false);
    expect(t.ns.ipJson('route', 'show', 'table', '1000')).toEqual([]);
    await expect(t.nl.deleteRoute({ destination: '2001:db8:100::/48' })).rejects.toMatchObject({ code: 'ESRCH', operation: 'deleteRoute' });
  });
});
