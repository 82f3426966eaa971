/**
 * The reference setup (docs/ARCHITECTURE.md) made by vmplumb in one namespace and by the reference `ip`
 * commands in another: `ip -j -d link` and `ip -j addr` must show the same thing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netlink, vxlanGroupForId } from '../../lib/netlink/index.js';
import { TestNetns } from '../helpers/netns.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

/** The fields of `ip -j -d link show` that describe configuration (not ids, MACs, timers). */
function relevant(link: Record<string, any>): Record<string, unknown> {
  const { info_kind, info_data = {}, info_slave_kind } = link.linkinfo ?? {};
  const data = { ...info_data };
  for (const key of ['bridge_id', 'root_id', 'hello_timer', 'tcn_timer', 'topology_change_timer', 'gc_timer']) delete data[key];
  return {
    ifname: link.ifname,
    flags: link.flags,
    mtu: link.mtu,
    master: link.master,
    operstate: link.operstate,
    group: link.group,
    info_kind,
    info_slave_kind,
    data,
  };
}

function underlay(ns: TestNetns): void {
  ns.ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p');
  ns.ip('link', 'set', 'eth0p', 'up');
  ns.ip('link', 'set', 'eth0', 'up');
  ns.ip('address', 'add', '2001:db8::1/64', 'dev', 'eth0', 'nodad');
}

describe.skipIf(skipUnlessRoot('netlink reference setup'))('reference setup', () => {
  let ours: TestNetns | undefined;
  let theirs: TestNetns | undefined;
  let nl: Netlink | undefined;

  beforeAll(async () => {
    ours = new TestNetns('vmpnl');
    theirs = new TestNetns('vmpnl');
    underlay(ours);
    underlay(theirs);
    // The reference commands, verbatim.
    theirs.ip('-6', 'link', 'add', 'vxlan100', 'type', 'vxlan', 'id', '100', 'dstport', '4789', 'group', 'ff05::100', 'dev', 'eth0', 'ttl', '5');
    theirs.ip('link', 'add', 'br100', 'type', 'bridge');
    theirs.ip('link', 'set', 'vxlan100', 'master', 'br100', 'up');
    theirs.ip('link', 'set', 'br100', 'up');
    theirs.ip('addr', 'add', '2a0a:e5c1:111:888::1/64', 'dev', 'br100');
    // The same with vmplumb: three requests.
    nl = await Netlink.open({ netns: ours.name });
    await nl.createBridge({ name: 'br100', up: true });
    await nl.createVxlan({ name: 'vxlan100', vni: 100, group: vxlanGroupForId(100), dev: 'eth0', ttl: 5, master: 'br100', up: true });
    await nl.addAddress('br100', '2a0a:e5c1:111:888::1/64');
  });

  afterAll(async () => {
    await nl?.close();
    ours?.cleanup();
    theirs?.cleanup();
  });

  it.each(['vxlan100', 'br100'])('%s looks in ip -j -d link exactly as the reference commands make it', (name) => {
    const mine = relevant(ours!.ipJson('-d', 'link', 'show', 'dev', name)[0]);
    const reference = relevant(theirs!.ipJson('-d', 'link', 'show', 'dev', name)[0]);
    expect(mine).toEqual(reference);
    expect(mine.flags).toContain('UP');
  });

  it('the vxlan is what the reference says: id 100, group ff05::100, port 4789, ttl 5, over eth0, in br100', () => {
    const data = relevant(ours!.ipJson('-d', 'link', 'show', 'dev', 'vxlan100')[0]);
    expect(data).toMatchObject({
      master: 'br100',
      info_kind: 'vxlan',
      info_slave_kind: 'bridge',
      data: { id: 100, group6: 'ff05::100', link: 'eth0', port: 4789, ttl: 5, learning: true },
    });
  });

  it('br100 carries the address as ip addr add puts it', () => {
    const pick = (ns: TestNetns) =>
      ns
        .ipJson('-6', 'addr', 'show', 'dev', 'br100')[0]
        .addr_info.filter((a: any) => a.scope === 'global')
        .map((a: any) => ({
          family: a.family,
          local: a.local,
          prefixlen: a.prefixlen,
          scope: a.scope,
          valid: a.valid_life_time,
          preferred: a.preferred_life_time,
        }));
    expect(pick(ours!)).toEqual(pick(theirs!));
    expect(pick(ours!)).toEqual([{ family: 'inet6', local: '2a0a:e5c1:111:888::1', prefixlen: 64, scope: 'global', valid: 4294967295, preferred: 4294967295 }]);
  });

  it('getLink reports what ip shows', async () => {
    const shown = ours!.ipJson('-d', 'link', 'show', 'dev', 'vxlan100')[0];
    const eth0 = ours!.ipJson('link', 'show', 'dev', 'eth0')[0];
    const br = ours!.ipJson('link', 'show', 'dev', 'br100')[0];
    const link = await nl!.getLink('vxlan100');
    expect(link).toMatchObject({
      index: shown.ifindex,
      name: 'vxlan100',
      kind: 'vxlan',
      up: true,
      carrier: true,
      operstate: 'unknown',
      flags: shown.flags,
      mtu: shown.mtu,
      mac: shown.address,
      master: br.ifindex,
      linkGroup: 0,
      vxlan: { vni: 100, group: 'ff05::100', dev: eth0.ifindex, port: 4789, ttl: 5, learning: true, ageing: 300 },
    });
    const bridge = await nl!.getLink(br.ifindex);
    expect(bridge).toMatchObject({
      name: 'br100',
      kind: 'bridge',
      up: true,
      master: undefined,
      bridge: { stp: false, forwardDelay: 15, helloTime: 2, maxAge: 20, ageingTime: 300 },
    });
    const addresses = await nl!.listAddresses('br100');
    expect(addresses.filter((a) => a.scope === 'universe')).toMatchObject([
      { index: br.ifindex, family: 6, address: '2a0a:e5c1:111:888::1', prefixLength: 64, flags: { permanent: true, nodad: false } },
    ]);
  });
});
