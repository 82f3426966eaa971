/**
 * Every vxlan and bridge option round-trips: what we set is what `ip -j -d link` shows and
 * what getLink returns.
 */
import { spawn } from 'node:child_process';

import { beforeAll, describe, expect, it } from 'vitest';
import { NetlinkError, type CreateBridgeOptions, type CreateVxlanOptions } from '../../lib/netlink/index.js';
import { useNetlinkNamespace } from '../helpers/netlink-fixture.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

/** Binds UDP [::]:PORT, says so, and holds it until killed. */
const PORT_HOLDER = `require('node:dgram').createSocket('udp6').bind(Number(process.argv[1]), '::', () => console.log('bound'))`;

describe.skipIf(skipUnlessRoot('netlink option round trips'))('link options round-trip', () => {
  const t = useNetlinkNamespace();
  let eth0 = 0;

  beforeAll(async () => {
    t.ns.ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p');
    t.ns.ip('link', 'set', 'eth0', 'up');
    eth0 = t.ns.ipJson('link', 'show', 'dev', 'eth0')[0].ifindex;
  });

  const shown = (name: string) => t.ns.ipJson('-d', 'link', 'show', 'dev', name)[0];

  const vxlans: Array<[string, CreateVxlanOptions, Record<string, unknown>, Record<string, unknown>]> = [
    [
      'unicast IPv6 with every tunable',
      {
        name: 'vx1',
        vni: 1,
        remote: '2001:db8::2',
        local: '2001:db8::1',
        port: 4790,
        portRange: { low: 1000, high: 2000 },
        tos: 16,
        ttl: 64,
        df: 'set',
        label: 0x12345,
        learning: false,
        proxy: true,
        rsc: true,
        l2miss: true,
        l3miss: true,
        udpCsum: false,
        udpZeroCsum6Tx: true,
        udpZeroCsum6Rx: true,
        ageing: 600,
        limit: 100,
      },
      {
        id: 1,
        remote6: '2001:db8::2',
        local6: '2001:db8::1',
        port: 4790,
        port_range: { low: 1000, high: 2000 },
        tos: '0x10',
        ttl: 64,
        df: 'set',
        label: '0x12345',
        learning: false,
        proxy: true,
        rsc: true,
        l2miss: true,
        l3miss: true,
        udp_csum: false,
        udp_zero_csum6_tx: true,
        udp_zero_csum6_rx: true,
        ageing: 600,
        limit: 100,
      },
      {
        vni: 1,
        remote: '2001:db8::2',
        local: '2001:db8::1',
        port: 4790,
        portRange: { low: 1000, high: 2000 },
        tos: 16,
        ttl: 64,
        df: 'set',
        label: 0x12345,
        learning: false,
        proxy: true,
        rsc: true,
        l2miss: true,
        l3miss: true,
        udpCsum: false,
        udpZeroCsum6Tx: true,
        udpZeroCsum6Rx: true,
        ageing: 600,
        limit: 100,
      },
    ],
    [
      'IPv4 multicast group over a device, ttl and df inherited',
      { name: 'vx2', vni: 2, group: '239.1.1.1', dev: 'eth0', ttl: 'inherit', df: 'inherit' },
      { id: 2, group: '239.1.1.1', link: 'eth0', port: 4789, learning: true, df: 'inherit' },
      { vni: 2, group: '239.1.1.1', port: 4789, ttlInherit: true, df: 'inherit', learning: true },
    ],
    [
      'IPv4 unicast remote',
      { name: 'vx4', vni: 4, remote: '192.0.2.2', local: '192.0.2.1', udpCsum: true },
      { id: 4, remote: '192.0.2.2', local: '192.0.2.1', udp_csum: true },
      { vni: 4, remote: '192.0.2.2', local: '192.0.2.1', udpCsum: true },
    ],
    ['external (collect metadata)', { name: 'vx3', vni: 3, external: true }, { external: true, port: 4789 }, { external: true, port: 4789 }],
  ];

  it.each(vxlans)('vxlan: %s', async (_what, options, ip, ours) => {
    await t.nl.createVxlan(options);
    expect(shown(options.name).linkinfo.info_data).toMatchObject(ip);
    const link = await t.nl.getLink(options.name);
    expect(link?.vxlan).toMatchObject(ours);
    if (options.dev !== undefined) expect(link?.vxlan?.dev).toBe(eth0);
  });

  it("vxlan defaults are ip's with port 4789: learning on, no ttl", async () => {
    await t.nl.createVxlan({ name: 'vx5', vni: 5, group: 'ff05::5', dev: 'eth0' });
    expect(shown('vx5').linkinfo.info_data).toMatchObject({ id: 5, group6: 'ff05::5', port: 4789, learning: true, ttl: 0 });
  });

  it('bridge: every option', async () => {
    const options: CreateBridgeOptions = {
      name: 'br1',
      stp: true,
      forwardDelay: 4,
      helloTime: 1,
      maxAge: 12,
      ageingTime: 60,
      priority: 4096,
      mcastSnooping: false,
      mcastQuerier: true,
      mtu: 1400,
      mac: '02:00:00:00:01:01',
      up: true,
    };
    await t.nl.createBridge(options);
    const link = shown('br1');
    expect(link).toMatchObject({ mtu: 1400, address: '02:00:00:00:01:01' });
    expect(link.flags).toContain('UP');
    expect(link.linkinfo.info_data).toMatchObject({
      stp_state: 1,
      forward_delay: 400,
      hello_time: 100,
      max_age: 1200,
      ageing_time: 6000,
      priority: 4096,
      mcast_snooping: 0,
      mcast_querier: 1,
    });
    expect((await t.nl.getLink('br1'))?.bridge).toEqual({
      stp: true,
      forwardDelay: 4,
      helloTime: 1,
      maxAge: 12,
      ageingTime: 60,
      priority: 4096,
      vlanFiltering: false,
      vlanDefaultPvid: 0,
      mcastSnooping: false,
      mcastQuerier: true,
    });
  });

  it("bridge: vlan filtering and default pvid (or the kernel's refusal when built without it)", async () => {
    const supported = 'vlan_protocol' in shown('br1').linkinfo.info_data;
    const create = t.nl.createBridge({ name: 'br2', vlanFiltering: true, vlanDefaultPvid: 7 });
    if (!supported) {
      await expect(create).rejects.toMatchObject({ name: 'NetlinkError', code: 'ENOTSUP', errno: -95, syscall: 'RTM_NEWLINK' });
      expect(t.ns.ipJson('link', 'show').map((l: any) => l.ifname)).not.toContain('br2');
      return;
    }
    await create;
    expect(shown('br2').linkinfo.info_data).toMatchObject({ vlan_filtering: 1, vlan_default_pvid: 7 });
    expect((await t.nl.getLink('br2'))?.bridge).toMatchObject({ vlanFiltering: true, vlanDefaultPvid: 7 });
  });

  it('setLink changes up, mtu, mac, master, group and name in one request each', async () => {
    await t.nl.createBridge({ name: 'br3' });
    await t.nl.createVxlan({ name: 'vx6', vni: 6, remote: '2001:db8::9' });
    const index = shown('vx6').ifindex;
    await t.nl.setLink('vx6', { up: true, master: 'br3', mtu: 1300, mac: '02:00:00:00:06:06', linkGroup: 7 });
    expect(shown('vx6')).toMatchObject({ master: 'br3', mtu: 1300, address: '02:00:00:00:06:06', group: '7' });
    expect(shown('vx6').flags).toContain('UP');
    await t.nl.setLink('vx6', { up: false, master: null, name: 'vx6b' });
    const renamed = shown('vx6b');
    expect(renamed.ifindex).toBe(index); // the same link, renamed
    expect(renamed.master).toBeUndefined();
    expect(renamed.flags).not.toContain('UP');
    expect(() => t.ns.ip('link', 'show', 'dev', 'vx6')).toThrow(/does not exist/u);
    expect(await t.nl.getLink('vx6')).toBeUndefined();
  });

  it('listLinks filters by kind and master', async () => {
    const vx = await t.nl.listLinks({ kind: 'vxlan' });
    expect(vx.map((l) => l.name).sort()).toEqual(
      t.ns
        .ipJson('-d', 'link', 'show', 'type', 'vxlan')
        .map((l: any) => l.ifname)
        .sort(),
    );
    await t.nl.setLink('vx5', { master: 'br1' });
    expect(t.ns.ipJson('link', 'show', 'master', 'br1').map((l: any) => l.ifname)).toEqual(['vx5']);
    expect((await t.nl.listLinks({ master: 'br1' })).map((l) => l.name)).toEqual(['vx5']);
    expect((await t.nl.listLinks()).length).toBe(t.ns.ipJson('link', 'show').length);
  });

  it('reads tun/tap details (kind tun) as ip tuntap made them', async () => {
    t.ns.ip('tuntap', 'add', 'dev', 'tap7', 'mode', 'tap', 'vnet_hdr', 'multi_queue');
    const info = shown('tap7').linkinfo.info_data;
    expect(info).toMatchObject({ type: 'tap', pi: false, vnet_hdr: true, multi_queue: true, persist: true });
    expect(await t.nl.getLink('tap7')).toMatchObject({ kind: 'tun', tun: { type: 'tap', pi: false, vnetHdr: true, multiQueue: true, persist: true } });
    expect((await t.nl.listLinks({ kind: 'tun' })).map((l) => l.name)).toEqual(['tap7']);
  });

  it('a kernel refusal is a NetlinkError with the extended ack', async () => {
    const error = await t.nl.createVxlan({ name: 'vx7', vni: 7, group: 'ff05::7' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetlinkError);
    expect(error).toMatchObject({ code: 'EINVAL', errno: -22, syscall: 'RTM_NEWLINK', operation: 'createVxlan', object: 'vx7' });
    expect((error as NetlinkError).extack).toMatch(/interface required|multicast/iu);
  });
  it('sets an alias on create (a second request: the kernel ignores it in the creating one) and with setLink', async () => {
    // Positive control of why: `ip link add … alias` sends IFLA_IFALIAS and gets a link without one.
    t.ns.ip('link', 'add', 'brip', 'alias', 'ignored', 'type', 'bridge');
    expect(shown('brip').ifalias).toBeUndefined();
    await t.nl.createBridge({ name: 'bra', alias: 'vmplumb:net:7:/run/x' });
    await t.nl.createVxlan({ name: 'vxa', vni: 77, dev: 'eth0', group: 'ff05::77', master: 'bra', alias: 'vmplumb:net:7:/run/x' });
    expect(shown('bra').ifalias).toBe('vmplumb:net:7:/run/x');
    expect(shown('vxa').ifalias).toBe('vmplumb:net:7:/run/x');
    expect(await t.nl.getLink('vxa')).toMatchObject({ alias: 'vmplumb:net:7:/run/x', master: shown('bra').ifindex });
    // A name that exists: EEXIST, and the other link's alias is not touched.
    t.ns.ip('link', 'set', 'brip', 'alias', 'operator');
    await expect(t.nl.createBridge({ name: 'brip', alias: 'vmplumb:net:8:/run/x' })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(shown('brip').ifalias).toBe('operator');
    await t.nl.setLink('bra', { alias: 'changed', mtu: 1400 });
    expect(shown('bra')).toMatchObject({ ifalias: 'changed', mtu: 1400 });
    await t.nl.setLink('bra', { alias: '' });
    expect(shown('bra').ifalias).toBeUndefined();
    expect((await t.nl.getLink('bra'))?.alias).toBeUndefined();
    await expect(t.nl.createBridge({ name: 'brb', alias: 'x'.repeat(255) })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(t.nl.createBridge({ name: 'brb', alias: 'a\nb' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    // 254 bytes is the kernel's limit with the NUL the codec sends.
    await t.nl.createBridge({ name: 'brb', alias: 'y'.repeat(254) });
    expect(shown('brb').ifalias).toBe('y'.repeat(254));
    await t.nl.deleteLinks(['vxa', 'bra', 'brb', 'brip']);
  });

  it('renameLink: name, alias and up in one request; a taken name changes nothing; a refused up sets the old name back', async () => {
    await t.nl.createBridge({ name: 'stgb' });
    await t.nl.renameLink('stgb', 'brn', { alias: 'vmplumb:net:9:/run/x', up: true });
    expect(shown('brn')).toMatchObject({ ifalias: 'vmplumb:net:9:/run/x', flags: expect.arrayContaining(['UP']) });
    // A taken name: EEXIST; neither link changed (do_setlink renames first).
    await t.nl.createBridge({ name: 'stgb' });
    await expect(t.nl.renameLink('stgb', 'brn', { alias: 'other', up: true })).rejects.toMatchObject({ code: 'EEXIST', operation: 'renameLink' });
    expect(shown('stgb').ifalias).toBeUndefined();
    expect(shown('stgb').flags).not.toContain('UP');
    expect(shown('brn').ifalias).toBe('vmplumb:net:9:/run/x');
    // Up refused after the rename was applied (a UDP socket holds the vxlan's port): the old name comes back.
    await t.nl.createVxlan({ name: 'stgx', vni: 9, dev: 'eth0', group: 'ff05::9', port: 4793 });
    const holder = spawn('ip', ['netns', 'exec', t.ns.name, process.execPath, '-e', PORT_HOLDER, '4793'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve) => holder.stdout.once('data', resolve));
      await expect(t.nl.renameLink('stgx', 'vxn', { alias: 'vmplumb:net:9:/run/x', up: true })).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect(t.ns.ipJson<Array<{ ifname: string }>>('link', 'show').map((l) => l.ifname)).toContain('stgx');
      expect(t.ns.ipJson<Array<{ ifname: string }>>('link', 'show').map((l) => l.ifname)).not.toContain('vxn');
    } finally {
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('close', resolve));
    }
    // Positive control: with the port free the same request names it and brings it up.
    await t.nl.renameLink('stgx', 'vxn', { alias: 'vmplumb:net:9:/run/x', up: true });
    expect(shown('vxn')).toMatchObject({ ifalias: 'vmplumb:net:9:/run/x', flags: expect.arrayContaining(['UP']) });
    await expect(t.nl.renameLink('vxn', 'x'.repeat(16))).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(t.nl.renameLink('vxn', 'ok', { alias: '' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await t.nl.deleteLinks(['vxn', 'brn', 'stgb']);
  });
});
