/**
 * Failures: kernel errors as NetlinkError (code, negative errno, operation, extended ack),
 * unknown devices named with their field, and bad input refused before any syscall
 * (nothing is created).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Netlink, NetlinkError } from '../../lib/netlink/index.js';
import { useNetlinkNamespace } from '../helpers/netlink-fixture.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

describe.skipIf(skipUnlessRoot('netlink errors'))('netlink errors', () => {
  const t = useNetlinkNamespace();
  const names = () =>
    t.ns
      .ipJson('link', 'show')
      .map((l: any) => l.ifname)
      .sort();

  beforeAll(async () => {
    t.ns.ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p');
    await t.nl.createBridge({ name: 'br100' });
  });

  it('EEXIST: NetlinkError with code, errno, syscall, the object, and a stack into this file', async () => {
    const error = await t.nl.createBridge({ name: 'br100' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetlinkError);
    expect(error).toMatchObject({
      name: 'NetlinkError',
      code: 'EEXIST',
      errno: -17,
      syscall: 'RTM_NEWLINK',
      operation: 'createBridge',
      object: 'br100',
      message: 'createBridge br100: EEXIST: File exists',
    });
    expect((error as Error).stack).toContain('netlink-errors.test.ts');
  });

  it('an unknown master is named (field and name), and nothing is created', async () => {
    const before = names();
    const error = await t.nl.createVxlan({ name: 'vxlan100', vni: 100, group: 'ff05::100', dev: 'eth0', master: 'br999', up: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetlinkError);
    expect(error).toMatchObject({ code: 'ENODEV', errno: -19, message: 'createVxlan vxlan100: ENODEV: No such device (master "br999" does not exist)' });
    expect(names()).toEqual(before);
  });

  it('an unknown underlay is named too', async () => {
    await expect(t.nl.createVxlan({ name: 'vxlan100', vni: 100, group: 'ff05::100', dev: 'eth9' })).rejects.toMatchObject({
      code: 'ENODEV',
      message: 'createVxlan vxlan100: ENODEV: No such device (dev "eth9" does not exist)',
    });
  });

  it.each([
    [
      { name: 'vxlan100', vni: 16777216, group: 'ff05::100', dev: 'eth0' },
      'ERR_OUT_OF_RANGE',
      'Expected "vni" to be an integer from 0 to 16777215, got 16777216',
    ],
    [
      { name: 'vxlan100', vni: 100, group: '2001:db8::1', dev: 'eth0' },
      'ERR_INVALID_ARG_VALUE',
      'Expected "group" to be a multicast address (ff00::/8 or 224.0.0.0/4), got "2001:db8::1"',
    ],
    [
      { name: 'vxlan100', vni: 100, group: 'ff05::100', remote: '2001:db8::1' },
      'ERR_INVALID_ARG_VALUE',
      'Expected "remote" to be absent when "group" is set (a vxlan has one or the other), got "2001:db8::1"',
    ],
    [{ name: 'vxlan/100', vni: 100 }, 'ERR_INVALID_ARG_VALUE', 'Expected "name" to be an interface name without \'/\', \':\' or whitespace, got "vxlan/100"'],
    [{ name: 'vxlan100', vni: 100, port: 70000 }, 'ERR_OUT_OF_RANGE', 'Expected "port" to be an integer from 1 to 65535, got 70000'],
  ])('bad input %j is refused before any syscall', async (options, code, message) => {
    const before = names();
    await expect(t.nl.createVxlan(options as never)).rejects.toMatchObject({ code, message });
    expect(names()).toEqual(before);
  });

  it('a kernel refusal carries the extended ack text', async () => {
    // A bridge port cannot be its own master: the kernel says why.
    const error = await t.nl.setLink('br100', { master: 'br100' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetlinkError);
    expect((error as NetlinkError).errno).toBeLessThan(0);
    expect((error as NetlinkError).syscall).toBe('RTM_NEWLINK');
    expect((error as NetlinkError).extack).toBeTruthy();
    expect((error as NetlinkError).message).toContain(`(${(error as NetlinkError).extack})`);
  });

  it('getLink of a missing link is undefined, deleteLink of one is ENODEV', async () => {
    expect(await t.nl.getLink('nosuch0')).toBeUndefined();
    expect(await t.nl.getLink(99999)).toBeUndefined();
    await expect(t.nl.deleteLink('nosuch0')).rejects.toMatchObject({ code: 'ENODEV', operation: 'deleteLink', object: 'nosuch0' });
  });

  it('a closed Netlink refuses calls and close() is idempotent', async () => {
    const other = await Netlink.open({ netns: t.ns.name });
    const pending = other.listLinks();
    await other.close();
    await other.close();
    // The dump was queued but not yet sent: it is cancelled, not left hanging.
    await expect(pending).rejects.toMatchObject({ name: 'NetlinkError', code: 'ECANCELED', operation: 'listLinks' });
    await expect(other.createBridge({ name: 'br5' })).rejects.toMatchObject({ name: 'NetlinkError', code: 'EBADF' });
    expect(names()).not.toContain('br5');
  });

  it('an unknown namespace fails to open with the path', async () => {
    await expect(Netlink.open({ netns: 'vmpnl-does-not-exist' })).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open' });
    await expect(Netlink.open({ netns: '' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
  });
});
