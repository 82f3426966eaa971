/**
 * ff02::2 joins and leaves of an RA namespace (lib/ra/namespace.ts) go to the thread pool in
 * batches (native `memberships`), never one setsockopt per interface on the event loop, one
 * job at a time: a leave queued while its join runs waits for the next job. The socket and
 * the monitor are fakes; the kernel side is covered by the RA integration tests (rdisc6
 * solicits ff02::2).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

import { native } from '../../lib/native.js';
import { resolveInterfaceConfig } from '../../lib/ra/config.js';
import { InterfaceAdvertiser, type AdvertiserHost, type LinkInfo } from '../../lib/ra/interface-advertiser.js';
import { NetlinkInterfaceMonitor, type InterfaceMonitor } from '../../lib/ra/monitor.js';
import { RaNamespace } from '../../lib/ra/namespace.js';

interface Job {
  leaves: number[];
  joins: number[];
  finish: (errnos?: number[]) => void;
}

afterEach(() => {
  vi.restoreAllMocks();
});

function fakes() {
  const jobs: Job[] = [];
  const listeners = new Map<string, (link: LinkInfo | undefined) => void>();
  class FakeSocket {
    memberships(leaves: Int32Array, joins: Int32Array): Promise<Int32Array> {
      return new Promise((resolve) => {
        jobs.push({ leaves: [...leaves], joins: [...joins], finish: (errnos) => resolve(Int32Array.from(errnos ?? [...leaves, ...joins].map(() => 0))) });
      });
    }
    close(): void {}
  }
  vi.spyOn(native, 'Icmp6Socket').mockImplementation(() => new FakeSocket() as never);
  const monitor: InterfaceMonitor = {
    watch: (name, listener) => {
      listeners.set(name, listener);
      return () => listeners.delete(name);
    },
    suspend: () => {},
    close: async () => {},
  };
  vi.spyOn(NetlinkInterfaceMonitor, 'open').mockResolvedValue(monitor as NetlinkInterfaceMonitor);
  return { jobs, listeners };
}

const link = (index: number, name: string): LinkInfo => ({ index, name, mac: '02:00:00:00:00:01', mtu: 1500, linkLocal: 'fe80::1' });

describe('RaNamespace ff02::2 memberships', () => {
  it('joins in pool jobs of up to 256, one at a time, a leave after its running join', async () => {
    const { jobs, listeners } = fakes();
    const ns = await RaNamespace.acquire(undefined);
    try {
      const host = { queue: ns.queue } as unknown as AdvertiserHost;
      const joinErrors: Array<[number, number]> = [];
      const ifaces = Array.from({ length: 300 }, (_, i) => new InterfaceAdvertiser(resolveInterfaceConfig('c', { name: `br${i}` }), host));
      for (const iface of ifaces) ns.attach(iface, (errno, index) => joinErrors.push([errno, index]));
      for (let i = 0; i < 300; i++) listeners.get(`br${i}`)!(link(100 + i, `br${i}`));
      // The first event's join started at once, alone; the rest wait for it.
      expect(jobs).toHaveLength(1);
      expect(jobs[0]!.joins).toEqual([100]);
      // br0's join is running: its leave waits for it; br299's join has not started: dropped.
      ns.detach(ifaces[0]!);
      ns.detach(ifaces[299]!);
      expect(jobs).toHaveLength(1);
      jobs[0]!.finish();
      await Promise.resolve();
      // Next job: the leave first, then joins, 256 changes in all.
      expect(jobs).toHaveLength(2);
      expect(jobs[1]!.leaves).toEqual([100]);
      expect(jobs[1]!.joins).toEqual(Array.from({ length: 255 }, (_, i) => 101 + i));
      jobs[1]!.finish([0, ...Array.from({ length: 254 }, () => 0), 105]); // br255's join refused: ENOBUFS
      await Promise.resolve();
      expect(joinErrors).toEqual([[105, 355]]);
      expect(jobs).toHaveLength(3);
      expect(jobs[2]!.leaves).toEqual([]);
      expect(jobs[2]!.joins).toEqual(Array.from({ length: 43 }, (_, i) => 356 + i));
      jobs[2]!.finish();
      await Promise.resolve();
      expect(jobs).toHaveLength(3);
    } finally {
      await ns.release();
    }
  });

  it('release() waits for a running job (it holds a dup of the socket) and starts none after', async () => {
    const { jobs, listeners } = fakes();
    const ns = await RaNamespace.acquire(undefined);
    const host = { queue: ns.queue } as unknown as AdvertiserHost;
    const iface = new InterfaceAdvertiser(resolveInterfaceConfig('c', { name: 'br0' }), host);
    ns.attach(iface, () => {});
    listeners.get('br0')!(link(100, 'br0'));
    expect(jobs).toHaveLength(1);
    ns.detach(iface); // a leave, queued behind the running join
    let released = false;
    const releasing = ns.release().then(() => (released = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(released).toBe(false);
    jobs[0]!.finish();
    await releasing;
    expect(jobs).toHaveLength(1); // closing the socket drops its memberships: no leave job
  });
});
