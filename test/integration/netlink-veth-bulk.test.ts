/**
 * veth pairs across namespaces (IFLA_NET_NS_FD on the peer) and bulk deletion (deleteLinks:
 * tagging with a free link group, then one RTM_DELLINK for the group).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netlink } from '../../lib/netlink/index.js';
import { TestNetns } from '../helpers/netns.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

describe.skipIf(skipUnlessRoot('netlink veth and bulk delete'))('veth and bulk delete', () => {
  let a: TestNetns | undefined;
  let b: TestNetns | undefined;
  let nl: Netlink | undefined;
  const names = (ns: TestNetns) =>
    ns
      .ipJson('link', 'show')
      .map((l: any) => l.ifname)
      .sort();

  beforeAll(async () => {
    a = new TestNetns('vmpnl');
    b = new TestNetns('vmpnl');
    nl = await Netlink.open({ netns: a.name });
  });

  afterAll(async () => {
    await nl?.close();
    a?.cleanup();
    b?.cleanup();
  });

  it('creates a veth with its peer in another namespace, both as asked', async () => {
    await nl!.createVeth({ name: 'veth-a', mtu: 1400, up: true, peer: { name: 'veth-b', netns: b!.name, mac: '02:00:00:00:0b:0b' } });
    const mine = a!.ipJson('-d', 'link', 'show', 'dev', 'veth-a')[0];
    const peer = b!.ipJson('-d', 'link', 'show', 'dev', 'veth-b')[0];
    expect(mine).toMatchObject({ mtu: 1400, linkinfo: { info_kind: 'veth' } });
    expect(mine.flags).toContain('UP');
    expect(peer).toMatchObject({ address: '02:00:00:00:0b:0b', linkinfo: { info_kind: 'veth' } });
    expect(names(a!)).not.toContain('veth-b');
    const link = await nl!.getLink('veth-a');
    expect(link).toMatchObject({ kind: 'veth', mtu: 1400, linkNetnsId: mine.link_netnsid, link: peer.ifindex });
  });

  it('creates a veth with the peer given by path, and by fd', async () => {
    await nl!.createVeth({ name: 'veth-c', peer: { name: 'veth-d', netns: b!.path } });
    expect(names(b!)).toContain('veth-d');
    const { openSync, closeSync } = await import('node:fs');
    const fd = openSync(b!.path, 'r');
    try {
      await nl!.createVeth({ name: 'veth-e', peer: { name: 'veth-f', netns: fd } });
    } finally {
      closeSync(fd);
    }
    expect(names(b!)).toContain('veth-f');
  });

  it('deleteLinks deletes exactly the listed links, and leaves link groups as they were', async () => {
    for (let i = 1; i <= 20; i++) {
      await nl!.createBridge({ name: `br${i}`, up: true });
      await nl!.createVxlan({ name: `vx${i}`, vni: i, remote: '2001:db8::2', master: `br${i}`, up: true });
    }
    await nl!.createBridge({ name: 'keep1' });
    await nl!.setLink('keep1', { linkGroup: 5 });
    await nl!.createBridge({ name: 'keep2' });
    const kept = names(a!).filter((n: string) => !/^(br|vx)\d+$/u.test(n));
    const list = Array.from({ length: 20 }, (_, i) => [`vx${i + 1}`, `br${i + 1}`]).flat();
    await nl!.deleteLinks(list);
    expect(names(a!)).toEqual(kept);
    const groups = Object.fromEntries(a!.ipJson('link', 'show').map((l: any) => [l.ifname, l.group]));
    expect(groups).toMatchObject({ keep1: '5', keep2: 'default', lo: 'default' });
  });

  it('the event loop keeps running while the kernel deletes (sendmsg runs off the JS thread)', async () => {
    for (let i = 1; i <= 8; i++) await nl!.createBridge({ name: `bl${i}` });
    // A timer due at once must run before the deletion settles: deleteLinks yields to the
    // event loop while the kernel works. How long the loop may stall is a speed goal, measured
    // by `npm run bench:bulk-delete`, not asserted here.
    let ticks = 0;
    const timer = setInterval(() => {
      ticks += 1;
    }, 0);
    let settled = false;
    const deleting = nl!.deleteLinks(Array.from({ length: 8 }, (_, i) => `bl${i + 1}`)).finally(() => {
      settled = true;
    });
    const ticksWhileDeleting = await new Promise<number>((resolve) => setTimeout(() => resolve(settled ? -1 : ticks), 0));
    await deleting;
    clearInterval(timer);
    expect(ticksWhileDeleting).toBeGreaterThan(0);
    expect(names(a!).filter((n: string) => n.startsWith('bl'))).toEqual([]);
  });

  it('deleteLinks refuses an unknown name before deleting anything', async () => {
    await nl!.createBridge({ name: 'br50' });
    await nl!.createBridge({ name: 'br51' });
    const before = names(a!);
    await expect(nl!.deleteLinks(['br50', 'nosuch', 'br51'])).rejects.toMatchObject({
      code: 'ENODEV',
      message: expect.stringContaining('links[1] "nosuch" does not exist'),
    });
    expect(names(a!)).toEqual(before);
    await expect(nl!.deleteLinks('br50' as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('deleteLinks counts a veth end that went with its peer as deleted; one link and none work', async () => {
    await nl!.createVeth({ name: 'vp1', peer: { name: 'vp2' } });
    await nl!.deleteLinks(['vp1', 'vp2', 'br50']);
    expect(names(a!)).not.toContain('vp1');
    expect(names(a!)).not.toContain('vp2');
    expect(names(a!)).not.toContain('br50');
    await nl!.deleteLinks(['br51']);
    expect(names(a!)).not.toContain('br51');
    await nl!.deleteLinks([]);
  });

  it('deleteLinks falls back to per-link deletes when one link cannot be deleted (lo), restoring groups', async () => {
    await nl!.createBridge({ name: 'br60' });
    await nl!.createBridge({ name: 'br61' });
    await nl!.setLink('br61', { linkGroup: 9 });
    await nl!.createBridge({ name: 'br62' });
    await nl!.setLink('br62', { linkGroup: 9 });
    await expect(nl!.deleteLinks(['br60', 'lo', 'br61'])).rejects.toMatchObject({ name: 'NetlinkError', code: 'ENOTSUP', errno: -95, syscall: 'RTM_DELLINK' });
    const groups = Object.fromEntries(a!.ipJson('link', 'show').map((l: any) => [l.ifname, l.group]));
    expect(groups.br60).toBeUndefined();
    expect(groups.br61).toBeUndefined();
    // Not listed, in the same group as a listed link: untouched.
    expect(groups).toMatchObject({ lo: 'default', br62: '9' });
  });
});
