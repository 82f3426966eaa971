/**
 * A rejected call changed nothing, and a resolved one did only what it said (issue 14): the
 * namespace's links, addresses, FDB and routes, as `ip -d link`, `ip addr`, `bridge fdb` and
 * `ip route` print them, compared before and after every refused call. Each refusal has a
 * positive control showing the same object is acted on without the defect.
 */
import { describe, expect, it } from 'vitest';

import { Netlink, NetlinkError } from '../../lib/netlink/index.js';
import { native } from '../../lib/native.js';
import { RTM } from '../../lib/netlink/constants.js';
import { openTap } from '../../lib/tap.js';
import { namespaceStateAsync } from '../helpers/namespace-state.js';
import { useNetlinkNamespace } from '../helpers/netlink-fixture.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

// Each refusal costs two snapshots (five dumps that wait for RTNL when other tests hold it).
describe.skipIf(skipUnlessRoot('input: rejected calls change nothing', ['/dev/net/tun']))('input: rejected calls change nothing', { timeout: 180_000 }, () => {
  const t = useNetlinkNamespace('vmpin', (ns) => {
    ns.ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p');
    ns.ip('link', 'add', 'br0', 'type', 'bridge');
    ns.ip('link', 'add', 'vx0', 'type', 'vxlan', 'id', '7', 'dstport', '4789', 'group', 'ff05::7', 'dev', 'eth0');
    ns.ip('link', 'set', 'eth0', 'up');
  });
  const names = () =>
    t.ns
      .ipJson('link', 'show')
      .map((l: { ifname: string }) => l.ifname)
      .sort();
  const link = (name: string) => t.ns.ipJson('-d', 'link', 'show', 'dev', name)[0] as Record<string, unknown>;

  /** Runs `call`, expects it to reject with `code`, and the namespace to be as before. */
  async function refusedUnchanged(call: () => Promise<unknown>, code: string): Promise<Error> {
    const before = await namespaceStateAsync(t.ns);
    const error = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error, 'the call must reject').toBeInstanceOf(Error);
    expect((error as { code?: string }).code).toBe(code);
    expect(await namespaceStateAsync(t.ns)).toEqual(before);
    return error as Error;
  }

  it('a NUL in a link name acts on no link (deleteLink, createBridge, setLink, getLink)', async () => {
    t.ns.ip('link', 'add', 've0', 'type', 'bridge');
    await refusedUnchanged(() => t.nl.deleteLink('ve0\0anything'), 'ERR_INVALID_ARG_VALUE');
    await refusedUnchanged(() => t.nl.createBridge({ name: 'brz\0junk' }), 'ERR_INVALID_ARG_VALUE');
    await refusedUnchanged(() => t.nl.setLink('ve0\0x', { mtu: 1400 }), 'ERR_INVALID_ARG_VALUE');
    await refusedUnchanged(() => t.nl.setLink('ve0', { name: 've1\0x' }), 'ERR_INVALID_ARG_VALUE');
    await refusedUnchanged(() => t.nl.addAddress('ve0\0x', '2001:db8::1/64'), 'ERR_INVALID_ARG_VALUE');
    await refusedUnchanged(() => t.nl.getLink('ve0\0x'), 'ERR_INVALID_ARG_VALUE');
    // Positive control: without the NUL the same calls act on ve0 and brz.
    await t.nl.createBridge({ name: 'brz' });
    expect(names()).toContain('brz');
    await t.nl.deleteLink('ve0');
    expect(names()).not.toContain('ve0');
    await t.nl.deleteLink('brz');
  });

  it('a NUL in a namespace name opens no namespace, in a tap name makes no tap', async () => {
    await expect(Netlink.open({ netns: `${t.ns.name}\0x` })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(Netlink.open({ netns: `${t.ns.path}\0x` })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await refusedUnchanged(() => openTap({ name: 'tapz\0x', netns: t.ns.name }), 'ERR_INVALID_ARG_VALUE');
    await refusedUnchanged(() => openTap({ name: 'tapz', netns: `${t.ns.name}\0x` }), 'ERR_INVALID_ARG_VALUE');
    // Positive control: the tap is made without the NUL.
    const tap = await openTap({ name: 'tapz', netns: t.ns.name });
    expect(names()).toContain('tapz');
    tap.close();
  });

  it('an IPv6 zone id is refused with a code, never parsed as digits or sent', async () => {
    await refusedUnchanged(() => t.nl.createVxlan({ name: 'vx1', vni: 1, group: 'ff05::1%eth0', dev: 'eth0' }), 'ERR_INVALID_ARG_VALUE');
    await refusedUnchanged(() => t.nl.createVxlan({ name: 'vx1', vni: 1, remote: '2001:db8::%ab:cd' }), 'ERR_INVALID_ARG_VALUE');
    await refusedUnchanged(() => t.nl.addAddress('br0', '2001:db8:1:2::%1:7/64'), 'ERR_INVALID_ARG_VALUE');
    await refusedUnchanged(() => t.nl.addFdb({ link: 'vx0', mac: '00:00:00:00:00:00', dst: '2001:db8::2%eth0', append: true }), 'ERR_INVALID_ARG_VALUE');
    await refusedUnchanged(() => t.nl.addRoute({ destination: '2001:db8:5::/64', gateway: 'fe80::1%eth0', dev: 'eth0' }), 'ERR_INVALID_ARG_VALUE');
    // Positive control: the same address without the zone is added as given.
    await t.nl.addAddress('br0', '2001:db8:1:2::7/64', { nodad: true });
    const local = t.ns.ipJson('-6', 'addr', 'show', 'dev', 'br0')[0].addr_info.map((a: { local: string }) => a.local);
    expect(local).toContain('2001:db8:1:2::7');
    await t.nl.deleteAddress('br0', '2001:db8:1:2::7/64');
  });

  it('a name of Object.prototype is no option value (scope, df, state)', async () => {
    await refusedUnchanged(() => t.nl.addAddress('br0', '192.0.2.9/24', { scope: 'toString' as never }), 'ERR_INVALID_ARG_VALUE');
    await refusedUnchanged(() => t.nl.createVxlan({ name: 'vx1', vni: 1, group: 'ff05::1', dev: 'eth0', df: '__proto__' as never }), 'ERR_INVALID_ARG_VALUE');
    await refusedUnchanged(() => t.nl.addFdb({ link: 'vx0', mac: '02:00:00:00:00:09', state: 'constructor' as never }), 'ERR_INVALID_ARG_VALUE');
    // Positive control: a real scope is applied (IPv4 keeps ifa_scope; IPv6 derives it).
    await t.nl.addAddress('br0', '192.0.2.9/24', { scope: 'link' });
    const added = t.ns.ipJson('-4', 'addr', 'show', 'dev', 'br0')[0].addr_info.find((a: { local: string }) => a.local === '192.0.2.9');
    expect(added.scope).toBe('link');
    await t.nl.deleteAddress('br0', '192.0.2.9/24');
  });

  it('deleteLinks with an unknown index fails before deleting anything', async () => {
    t.ns.ip('link', 'add', 'va1', 'type', 'bridge');
    t.ns.ip('link', 'add', 'va2', 'type', 'bridge');
    const error = await refusedUnchanged(() => t.nl.deleteLinks([99999, 'va1']), 'ENODEV');
    expect(error.message).toContain('links[0] 99999 does not exist');
    await refusedUnchanged(() => t.nl.deleteLinks(['va1', 'va2', 99999]), 'ENODEV');
    await refusedUnchanged(() => t.nl.deleteLinks([99999]), 'ENODEV');
    // Positive control: the known links alone are deleted.
    const index = link('va2').ifindex as number;
    await t.nl.deleteLinks(['va1', index]);
    expect(names()).not.toContain('va1');
    expect(names()).not.toContain('va2');
  });

  it('deleteLinks that must delete one by one says which links went (lo cannot be deleted)', async () => {
    t.ns.ip('link', 'add', 'vd1', 'type', 'bridge');
    const vd1 = link('vd1').ifindex as number;
    const error = (await t.nl.deleteLinks(['vd1', 'lo']).then(
      () => undefined,
      (e: unknown) => e,
    )) as NetlinkError & { deleted?: number[]; notDeleted?: number[] };
    expect(error).toMatchObject({ code: 'ENOTSUP', deleted: [vd1], notDeleted: [1] });
    expect(error.message).toContain('partial');
    // What the error says is what the kernel shows.
    expect(names()).not.toContain('vd1');
    expect(names()).toContain('lo');
  });

  it('setLink with several changes: the kernel applies some before refusing; setLink sets them back', async () => {
    t.ns.ip('link', 'add', 'vs1', 'type', 'veth', 'peer', 'name', 'vs1p');
    const index = link('vs1').ifindex as number;
    // Positive control: one raw RTM_NEWLINK with these changes leaves the MTU changed although
    // the kernel refuses the request (do_setlink applies IFLA_MTU before IFLA_MASTER).
    const raw = new native.NetlinkSocket(t.ns.path, []);
    const rawError = raw.request(RTM.NEWLINK, 0, { index, mtu: 1400, master: 99999 }).catch((e: unknown) => e);
    raw.flush(false);
    expect(await rawError).toMatchObject({ code: 'EINVAL' });
    raw.close();
    expect(link('vs1').mtu).toBe(1400);
    t.ns.ip('link', 'set', 'vs1', 'mtu', '1500');
    // setLink: the same changes reject and leave the link as it was.
    const error = await refusedUnchanged(() => t.nl.setLink('vs1', { mtu: 1400, master: 99999, up: true }), 'EINVAL');
    expect(error).toBeInstanceOf(NetlinkError);
    expect((error as NetlinkError & { rolledBack?: string[] }).rolledBack).toEqual(['mtu']);
    expect(link('vs1').mtu).toBe(1500);
    // And several valid changes still go in one request and all apply.
    await t.nl.setLink('vs1', { mtu: 1400, up: true, master: 'br0' });
    expect(link('vs1')).toMatchObject({ mtu: 1400, master: 'br0' });
    expect(link('vs1').flags as string[]).toContain('UP');
    await t.nl.deleteLink('vs1');
  });

  it('close() with requests in flight: queued ones reject unsent, sent ones settle with the kernel answer', async () => {
    const other = await Netlink.open({ netns: t.ns.name });
    const sent = Array.from({ length: 200 }, (_, i) =>
      other.createBridge({ name: `bc${i}` }).then(
        () => 'ok',
        (e: NetlinkError) => e.code,
      ),
    );
    // Let the first 200 leave (the flush runs in a microtask, the send on the thread pool).
    await new Promise((resolve) => setImmediate(resolve));
    const queued = Array.from({ length: 50 }, (_, i) =>
      other.createBridge({ name: `bq${i}` }).then(
        () => 'ok',
        (e: NetlinkError) => e.code,
      ),
    );
    const closing = other.close();
    const after = await other.createBridge({ name: 'bafter' }).then(
      () => 'ok',
      (e: NetlinkError) => e.code,
    );
    await closing;
    const sentResults = await Promise.all(sent);
    const queuedResults = await Promise.all(queued);
    const present = new Set(names());
    // Every call that resolved made its bridge; every one that rejected made none.
    sentResults.forEach((r, i) => expect(present.has(`bc${i}`), `bc${i}: ${r}`).toBe(r === 'ok'));
    expect(sentResults.filter((r) => r === 'ok').length).toBe(200);
    queuedResults.forEach((r, i) => {
      expect(r).toBe('ECANCELED');
      expect(present.has(`bq${i}`)).toBe(false);
    });
    expect(after).toBe('EBADF');
    expect(present.has('bafter')).toBe(false);
    await t.nl.deleteLinks([...Array.from({ length: 200 }, (_, i) => `bc${i}`)]);
  });

  it('linkEvents()/addressEvents() after close() open no socket', async () => {
    const other = await Netlink.open({ netns: t.ns.name });
    await other.close();
    expect(() => other.linkEvents()).toThrow(expect.objectContaining({ code: 'EBADF' }) as Error);
    expect(() => other.addressEvents()).toThrow(expect.objectContaining({ code: 'EBADF' }) as Error);
  });

  it('listAddresses with an unusable link fails with a code', async () => {
    await expect(t.nl.listAddresses(Object.create(null) as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });
});
