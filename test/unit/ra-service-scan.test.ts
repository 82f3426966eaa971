/**
 * `vmplumb serve`'s scans cost what changed (lib/network/ra-service.ts): a periodic scan
 * looks at SCAN_SLICE networks in turn, so a network whose manager died (its RA lock freed
 * without a touch of the file, as a crash frees it) is taken over within
 * networks / SCAN_SLICE scans, not at the first one, and never missed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import type { AdvertiserPort } from '../../lib/network/deps.js';
import { RaService, SCAN_SLICE } from '../../lib/network/ra-service.js';
import { CURRENT_NETNS_KEY } from '../../lib/netns.js';
import type { FileLock } from '../../lib/state/lock.js';
import { lockNetworkRa, networkFiles, removeNetworkRecord, writeNetworkRecord, type NetworkRecord } from '../../lib/state/network-record.js';
import { until } from '../helpers/poll.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An advertiser that only keeps the names of the interfaces it serves (`first`: those it was made with). */
function fakeAdvertiser(served: Set<string>, first: { interfaces: { name: string }[] }): AdvertiserPort {
  for (const c of first.interfaces) served.add(c.name);
  return {
    start: async () => {},
    addInterface: (c) => void served.add(c.name),
    removeInterface: (name) => void served.delete(name),
    stop: async () => served.clear(), // one namespace, one advertiser: all of it
  };
}

function record(id: number): NetworkRecord {
  return {
    id,
    state: 'ready',
    netns: undefined,
    netnsKey: CURRENT_NETNS_KEY,
    vxlan: `vxlan${id}`,
    bridge: `br${id}`,
    mode: 'group',
    group: 'ff05::100',
    peers: [],
    underlay: 'eth0',
    port: 4789,
    ttl: 5,
    local: undefined,
    mtu: undefined,
    prefix: '2001:db8::/64',
    routerAddress: '2001:db8::1',
    ra: { name: `br${id}`, minInterval: 3, maxInterval: 5, defaultLifetime: 1800, prefixes: [{ prefix: '2001:db8::/64' }], rdnss: [], dnssl: [] },
    createdAt: new Date(0).toISOString(),
  };
}

describe('vmplumb serve scans', () => {
  it('takes over networks whose manager died SCAN_SLICE a scan, all of them in turn, and only those', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'vmplumb-serve-'));
    cleanups.push(() => rmSync(runDir, { recursive: true, force: true }));
    const n = SCAN_SLICE * 3 + 5;
    const locks: FileLock[] = [];
    for (let id = 1; id <= n; id++) {
      const files = networkFiles(runDir, CURRENT_NETNS_KEY, id);
      await writeNetworkRecord(files, record(id));
      // Another manager advertises it: its RA lock, on a file description of its own.
      locks.push(lockNetworkRa(files)!);
    }
    cleanups.push(() => locks.forEach((l) => l.release()));
    const advertised = new Set<string>();
    // A periodic timer that never fires in the test: only the scans it calls run.
    const service = new RaService({ runDir, intervalMs: 3_600_000 }, (o) => fakeAdvertiser(advertised, o));
    cleanups.push(() => service.stop());
    await service.start();
    expect(service.networks).toEqual([]); // every one is its manager's

    // The managers die: their locks go without a touch of the files, so no event says so.
    for (const lock of locks) lock.release();
    await service.scan(); // an event-driven scan looks at nothing no event named
    expect(service.networks).toHaveLength(0);
    const counts: number[] = [];
    for (let i = 0; i < Math.ceil(n / SCAN_SLICE); i++) {
      await service.scan(true);
      counts.push(service.networks.length);
    }
    expect(counts).toEqual([SCAN_SLICE, 2 * SCAN_SLICE, 3 * SCAN_SLICE, n]);
    expect(advertised.size).toBe(n);
  });

  it('a record rewritten without an event (one the kernel dropped) is seen by the periodic scan', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'vmplumb-serve-'));
    cleanups.push(() => rmSync(runDir, { recursive: true, force: true }));
    const advertised = new Set<string>();
    const service = new RaService({ runDir, intervalMs: 3_600_000 }, (o) => fakeAdvertiser(advertised, o));
    cleanups.push(() => service.stop());
    const files = networkFiles(runDir, CURRENT_NETNS_KEY, 7);
    await writeNetworkRecord(files, record(7));
    await service.start();
    expect(service.networks).toEqual([`${CURRENT_NETNS_KEY}/7`]);
    // Stop following the folder, as if its events were lost; then the record says 'destroying'.
    (service as unknown as { watchers: Map<string, { close(): void }> }).watchers.forEach((w) => w.close());
    await writeNetworkRecord(files, { ...record(7), state: 'destroying' });
    await service.scan();
    expect(service.networks).toEqual([`${CURRENT_NETNS_KEY}/7`]); // control: nothing named it
    await service.scan(true);
    expect(service.networks).toEqual([]);
    expect(advertised.size).toBe(0);
  });

  it("follows a namespace's folder made again after its last network went, by events alone", async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'vmplumb-serve-'));
    cleanups.push(() => rmSync(runDir, { recursive: true, force: true }));
    const advertised = new Set<string>();
    const service = new RaService({ runDir, intervalMs: 3_600_000 }, (o) => fakeAdvertiser(advertised, o));
    cleanups.push(() => service.stop());
    const first = networkFiles(runDir, CURRENT_NETNS_KEY, 1);
    await writeNetworkRecord(first, record(1));
    await service.start();
    expect(service.networks).toEqual([`${CURRENT_NETNS_KEY}/1`]);
    await removeNetworkRecord(first); // the folder goes with its last network
    await until('serve to let network 1 go', () => service.networks.length === 0, { timeoutMs: 5_000 });
    // The folder again, with a network's lock file first, as create() makes it; then its record.
    const second = networkFiles(runDir, CURRENT_NETNS_KEY, 2);
    const lock = lockNetworkRa(second)!;
    lock.release();
    await new Promise((resolve) => setTimeout(resolve, 200)); // the folder's event is handled
    await writeNetworkRecord(second, record(2));
    await until('serve to take network 2', () => service.networks.includes(`${CURRENT_NETNS_KEY}/2`), { timeoutMs: 5_000 });
  });
});
