/**
 * The scale machinery of VxlanNetwork without a kernel: the namespace's shared rtnetlink
 * connection (refcounted leases), the LinkDeleter's group commit of concurrent destroys, and
 * the advertiser registry's concurrent removals.
 */
import { describe, expect, it } from 'vitest';

import { AdvertiserRegistry } from '../../lib/network/advertisers.js';
import type { AdvertiserPort, NetlinkPort } from '../../lib/network/deps.js';
import { LinkDeleter, type LinkDeletePort } from '../../lib/network/link-deleter.js';
import { SharedNetlinks } from '../../lib/network/shared-netlink.js';
import type { AdvertisedInterface } from '../../lib/network/types.js';

const enodev = (): Error => Object.assign(new Error('No such device'), { code: 'ENODEV' });
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A deleter port recording each call; `bulk` decides whether deleteLinks exists. */
function recorder(options: { bulk?: boolean; fail?: (links: string[]) => Error | undefined; present?: Set<string> } = {}) {
  const calls: string[][] = [];
  const single: string[] = [];
  let release: (() => void) | undefined;
  let hold = false;
  const port: LinkDeletePort = {
    async deleteLink(link) {
      single.push(String(link));
      if (options.present && !options.present.delete(String(link))) throw enodev();
    },
  };
  if (options.bulk !== false) {
    port.deleteLinks = async (links) => {
      const names = links.map(String);
      calls.push(names);
      if (hold)
        await new Promise<void>((resolve) => {
          release = resolve;
        });
      const error = options.fail?.(names);
      if (error) throw error;
    };
  }
  return {
    port,
    calls,
    single,
    holdNext: () => {
      hold = true;
    },
    release: () => {
      hold = false;
      release?.();
    },
  };
}

describe('LinkDeleter', () => {
  it('puts the links of destroys made in the same macrotask in one bulk deletion', async () => {
    const r = recorder();
    const deleter = new LinkDeleter(r.port);
    await Promise.all([1, 2, 3].map((k) => deleter.delete([`vxlan${k}`, `br${k}`])));
    expect(r.calls).toEqual([['vxlan1', 'br1', 'vxlan2', 'br2', 'vxlan3', 'br3']]);
    expect(deleter.idle).toBe(true);
  });

  it('collects what arrives during a deletion into the next one (group commit)', async () => {
    const r = recorder();
    const deleter = new LinkDeleter(r.port);
    r.holdNext();
    const first = deleter.delete(['vxlan1', 'br1']);
    await tick();
    await tick();
    expect(r.calls).toHaveLength(1);
    const later = [2, 3, 4].map((k) => deleter.delete([`vxlan${k}`, `br${k}`]));
    await tick();
    expect(r.calls).toHaveLength(1); // still waiting for the running one
    r.release();
    await Promise.all([first, ...later]);
    expect(r.calls).toEqual([
      ['vxlan1', 'br1'],
      ['vxlan2', 'br2', 'vxlan3', 'br3', 'vxlan4', 'br4'],
    ]);
  });

  it('caps a batch at maxLinks without splitting a caller', async () => {
    const r = recorder();
    const deleter = new LinkDeleter(r.port, 4);
    await Promise.all([1, 2, 3, 4, 5].map((k) => deleter.delete([`vxlan${k}`, `br${k}`])));
    expect(r.calls.map((c) => c.length)).toEqual([4, 4, 2]);
  });

  it('falls back to per-link deletes when the bulk one fails, each caller with its own outcome', async () => {
    const present = new Set(['vxlan1', 'br1', 'br2']); // vxlan2 is gone already
    const refused = Object.assign(new Error('Operation not permitted'), { code: 'EPERM' });
    const r = recorder({ fail: () => enodev(), present });
    r.port.deleteLink = async (link) => {
      r.single.push(String(link));
      if (link === 'br3') throw refused;
      if (!present.delete(String(link)) && link !== 'vxlan3') throw enodev();
    };
    const deleter = new LinkDeleter(r.port);
    const results = await Promise.allSettled([1, 2, 3].map((k) => deleter.delete([`vxlan${k}`, `br${k}`])));
    expect(r.calls).toHaveLength(1);
    expect(r.single).toEqual(['vxlan1', 'vxlan2', 'vxlan3', 'br1', 'br2', 'br3']);
    expect(results.map((x) => x.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((results[2] as PromiseRejectedResult).reason).toBe(refused);
  });

  it('deletes one by one, vxlan first, where the port has no bulk deletion', async () => {
    const r = recorder({ bulk: false });
    const deleter = new LinkDeleter(r.port);
    await deleter.delete(['vxlan1', 'br1']);
    expect(r.single).toEqual(['vxlan1', 'br1']);
  });
});

function fakePort(log: string[]): NetlinkPort {
  const ok = async (): Promise<void> => undefined;
  return {
    createVxlan: ok,
    createBridge: ok,
    setLink: ok,
    renameLink: ok,
    deleteLink: ok,
    addAddress: ok,
    addFdb: ok,
    deleteFdb: ok,
    getLink: async () => undefined,
    listAddresses: async () => [],
    close: () => {
      log.push('close');
    },
  };
}

describe('SharedNetlinks', () => {
  it('opens one connection per namespace and closes it with the last lease', async () => {
    const shared = new SharedNetlinks();
    const owner = {};
    const log: string[] = [];
    const open = async (): Promise<NetlinkPort> => {
      log.push('open');
      return fakePort(log);
    };
    const leases = await Promise.all([1, 2, 3].map(() => shared.acquire(owner, 'ns1', open)));
    const other = await shared.acquire(owner, 'ns2', open);
    expect(log).toEqual(['open', 'open']);
    expect(shared.count(owner)).toBe(2);
    await leases[0]!.close();
    await leases[0]!.close(); // idempotent: still two references
    await leases[1]!.close();
    expect(log).toEqual(['open', 'open']);
    await leases[2]!.close();
    expect(log).toEqual(['open', 'open', 'close']);
    expect(shared.count(owner)).toBe(1);
    await other.close();
    expect(shared.count(owner)).toBe(0);
    const again = await shared.acquire(owner, 'ns1', open);
    expect(log.filter((l) => l === 'open')).toHaveLength(3);
    await again.close();
  });

  it('does not keep a failed open', async () => {
    const shared = new SharedNetlinks();
    const owner = {};
    const log: string[] = [];
    let fail = true;
    const open = async (): Promise<NetlinkPort> => {
      if (fail) throw new Error('EPERM');
      return fakePort(log);
    };
    await expect(shared.acquire(owner, 'ns', open)).rejects.toThrow('EPERM');
    expect(shared.count(owner)).toBe(0);
    fail = false;
    const lease = await shared.acquire(owner, 'ns', open);
    await lease.close();
    expect(log).toEqual(['close']);
  });
});

describe('AdvertiserRegistry', () => {
  const config = (name: string): AdvertisedInterface =>
    ({ name, minInterval: 3, maxInterval: 5, defaultLifetime: 3600, prefixes: [], rdnss: [], dnssl: [] }) as unknown as AdvertisedInterface;

  it('removes interfaces of one namespace concurrently (no per-namespace queue)', async () => {
    const log: string[] = [];
    const finals = new Map<string, () => void>();
    const advertiser: AdvertiserPort = {
      start: async () => {
        log.push('start');
      },
      addInterface: (c) => {
        log.push(`add ${c.name}`);
      },
      removeInterface: (name) =>
        new Promise<void>((resolve) => {
          log.push(`remove ${name}`);
          finals.set(name, resolve);
        }),
      stop: async () => {
        log.push('stop');
      },
    };
    const registry = new AdvertiserRegistry();
    await registry.add('ns', undefined, config('br1'), () => advertiser);
    await Promise.all(['br2', 'br3', 'br4'].map((n) => registry.add('ns', undefined, config(n), () => advertiser)));
    const removals = ['br1', 'br2', 'br3'].map((n) => registry.remove('ns', n));
    await tick();
    // All three final RAs are under way before any has finished.
    expect(log.filter((l) => l.startsWith('remove'))).toEqual(['remove br1', 'remove br2', 'remove br3']);
    for (const done of finals.values()) done();
    await Promise.all(removals);
    await registry.remove('ns', 'br4');
    expect(log).toEqual(['start', 'add br2', 'add br3', 'add br4', 'remove br1', 'remove br2', 'remove br3', 'stop']);
    expect(registry.size).toBe(0);
  });

  it('starts a fresh advertiser for an addition made while the last removal stops the old one', async () => {
    const log: string[] = [];
    let stopDone: (() => void) | undefined;
    let made = 0;
    const create = (): AdvertiserPort => {
      const n = ++made;
      return {
        start: async () => {
          log.push(`start ${n}`);
        },
        addInterface: (c) => {
          log.push(`add ${c.name} to ${n}`);
        },
        removeInterface: () => undefined,
        stop: () =>
          new Promise<void>((resolve) => {
            log.push(`stop ${n}`);
            stopDone = resolve;
          }),
      };
    };
    const registry = new AdvertiserRegistry();
    await registry.add('ns', undefined, config('br1'), create);
    const removal = registry.remove('ns', 'br1');
    const addition = registry.add('ns', undefined, config('br2'), create);
    await tick();
    expect(log).toEqual(['start 1', 'stop 1']);
    stopDone!();
    await Promise.all([removal, addition]);
    expect(log).toEqual(['start 1', 'stop 1', 'start 2']);
    expect(registry.interfaces('ns')).toEqual(['br2']);
  });
});
