/**
 * openTap against the kernel: what `ip -j -d link` says about the tap, EBUSY for a name in
 * use, multiqueue, persist/owner/group, close, namespaces, and O_CLOEXEC (an unrelated child
 * does not inherit a tap fd; a child given the fd in its stdio array does).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openTap } from '../../lib/tap.js';
import { skipUnlessRoot } from '../helpers/privileges.js';
import { TestNetns } from '../helpers/netns.js';
import { heldTaps } from '../helpers/proc.js';

interface TunInfo {
  type: string;
  pi: boolean;
  vnet_hdr: boolean;
  multi_queue: boolean;
  persist: boolean;
  user?: string | number;
  group?: string | number;
}

describe.skipIf(skipUnlessRoot('tap integration tests', ['/dev/net/tun']))('openTap', () => {
  let ns: TestNetns;
  beforeAll(() => {
    ns = new TestNetns('vmptap');
  });
  afterAll(() => ns?.cleanup());

  const link = (name: string): { ifindex: number; ifname: string; linkinfo: { info_kind: string; info_data: TunInfo } } | undefined =>
    ns
      .ipJson<Array<{ ifindex: number; ifname: string; linkinfo: { info_kind: string; info_data: TunInfo } }>>('-d', 'link', 'show')
      .find((l) => l.ifname === name);

  it('`using` closes the tap at the end of the scope (Symbol.dispose)', async () => {
    let name: string;
    {
      using tap = await openTap({ netns: ns.name, name: 'vmptusing' });
      name = tap.name;
      expect(heldTaps()).toContain(name);
      expect(link(name)).toBeDefined();
    }
    expect(heldTaps()).not.toContain(name);
    expect(link(name)).toBeUndefined();
  });

  it('makes a tap the kernel names, in the namespace, with the flags asked for', async () => {
    const tap = await openTap({ netns: ns.name });
    try {
      expect(tap.name).toMatch(/^tap\d+$/);
      const l = link(tap.name);
      expect(l?.ifindex).toBe(tap.index);
      expect(l?.linkinfo.info_kind).toBe('tun');
      expect(l?.linkinfo.info_data).toMatchObject({ type: 'tap', pi: false, vnet_hdr: true, multi_queue: false, persist: false });
      expect(tap.fds).toHaveLength(1);
      expect(heldTaps()).toContain(tap.name);
    } finally {
      tap.close();
    }
    expect(link(tap.name)).toBeUndefined(); // non-persistent: gone with its last fd
  });

  it('completes a name pattern and honours vnetHdr: false', async () => {
    await using tap = await openTap({ netns: ns.name, name: 'vmpt%d', vnetHdr: false });
    expect(tap.name).toMatch(/^vmpt\d+$/);
    expect(link(tap.name)?.linkinfo.info_data.vnet_hdr).toBe(false);
  });

  it('fails with EBUSY on TUNSETIFF for a name in use instead of attaching to it', async () => {
    await using first = await openTap({ netns: ns.name, name: 'vmptbusy' });
    const error = await openTap({ netns: ns.name, name: 'vmptbusy' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EBUSY', syscall: 'TUNSETIFF', errno: -16 });
    expect(String((error as Error).message)).toContain('vmptbusy');
    ns.ip('link', 'add', 'vmptbr', 'type', 'bridge');
    await expect(openTap({ netns: ns.name, name: 'vmptbr' })).rejects.toMatchObject({ code: 'EBUSY', syscall: 'TUNSETIFF' });
    expect(link('vmptbr')?.linkinfo.info_kind).toBe('bridge');
    // The first tap is untouched and still single-owned.
    expect(link(first.name)?.ifindex).toBe(first.index);
  });

  it('opens one fd per queue with IFF_MULTI_QUEUE', async () => {
    await using tap = await openTap({ netns: ns.name, name: 'vmptmq', queues: 4 });
    expect(tap.fds).toHaveLength(4);
    expect(new Set(tap.fds).size).toBe(4);
    expect(link('vmptmq')?.linkinfo.info_data.multi_queue).toBe(true);
    expect(heldTaps().filter((n) => n === 'vmptmq')).toHaveLength(4);
  });

  it('sets persist, owner and group only when asked', async () => {
    const tap = await openTap({ netns: ns.name, name: 'vmptpers', persist: true, owner: 4242, group: 4343 });
    tap.close();
    tap.close(); // idempotent
    const info = link('vmptpers')?.linkinfo.info_data;
    expect(info).toMatchObject({ persist: true });
    expect(String(info?.user)).toBe('4242');
    expect(String(info?.group)).toBe('4343');
    ns.ip('link', 'del', 'vmptpers');
    await using plain = await openTap({ netns: ns.name, name: 'vmptnoown' });
    const plainInfo = link(plain.name)?.linkinfo.info_data;
    expect(plainInfo?.user).toBeUndefined();
    expect(plainInfo?.group).toBeUndefined();
  });

  it('opens every fd close-on-exec: an unrelated child inherits none', async () => {
    await using tap = await openTap({ netns: ns.name, name: 'vmptcloexec' });
    for (const fd of tap.fds) {
      const flags = /^flags:\s*(\d+)/mu.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? '0';
      expect(parseInt(flags, 8) & 0o2000000).toBe(0o2000000); // O_CLOEXEC
    }
    const script = 'for f in /proc/$$/fdinfo/*; do grep -h "^iff:" "$f" 2>/dev/null; done; true';
    const unrelated = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
    expect(unrelated.stdout).not.toContain('vmptcloexec');
    // The control: given through the stdio array, the child does hold it.
    const given = spawnSync('sh', ['-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe', tap.fds[0] as number] });
    expect(given.stdout).toContain('iff:\tvmptcloexec');
  });

  it('takes the namespace as a path or an open fd too', async () => {
    await using byPath = await openTap({ netns: ns.path, name: 'vmptpath' });
    expect(link('vmptpath')?.ifindex).toBe(byPath.index);
    const fd = openSync(ns.path, 'r');
    try {
      await using byFd = await openTap({ netns: fd, name: 'vmptfd' });
      expect(link('vmptfd')?.ifindex).toBe(byFd.index);
    } finally {
      closeSync(fd);
    }
  });

  it('reports a namespace that does not exist as a system error', async () => {
    await expect(openTap({ netns: 'vmptap-no-such-ns' })).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open' });
  });
});
