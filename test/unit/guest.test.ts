import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { guestCacheDir, guestRecipeKey } from '../../testing/guest/build.js';
import { parseGuestConsole, parseGuestConsoleLine, waitForGuestConsole } from '../../testing/guest/console.js';
import { GUEST_MODULES, INIT_SCRIPT } from '../../testing/guest/init.js';

// A console log as the guest printed it in a real boot (see test/guest/).
const LOG = `[    0.000000] Linux version 6.1.0-56-amd64
VMPLUMB boot 6.1.0-56-amd64
VMPLUMB link eth0 02:00:f0:a9:c4:4e
VMPLUMB addr eth0 fe80::f0ff:fea9:c44e/64 link
VMPLUMB state
VMPLUMB addr eth0 2001:db8:1::f0ff:fea9:c44e/64 global
VMPLUMB route default via fe80::8dd:a6ff:fed3:ebb4 dev eth0
VMPLUMB state
`;

describe('the guest console format', () => {
  it('parses every kind of report', () => {
    expect(parseGuestConsole(LOG)).toEqual([
      { kind: 'boot', kernel: '6.1.0-56-amd64' },
      { kind: 'link', ifname: 'eth0', mac: '02:00:f0:a9:c4:4e' },
      { kind: 'addr', ifname: 'eth0', address: 'fe80::f0ff:fea9:c44e', prefixLength: 64, scope: 'link' },
      { kind: 'state' },
      { kind: 'addr', ifname: 'eth0', address: '2001:db8:1::f0ff:fea9:c44e', prefixLength: 64, scope: 'global' },
      { kind: 'route', via: 'fe80::8dd:a6ff:fed3:ebb4', ifname: 'eth0' },
      { kind: 'state' },
    ]);
    expect(parseGuestConsoleLine('VMPLUMB error insmod virtio_net')).toEqual({ kind: 'error', text: 'insmod virtio_net' });
    expect(parseGuestConsoleLine('random kernel noise')).toBeUndefined();
    expect(parseGuestConsoleLine('VMPLUMB addr eth0')).toBeUndefined();
  });

  it('waits for a line in a file and reports the tail when it does not come', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmptap-guest-'));
    try {
      const file = join(dir, 'serial.log');
      writeFileSync(file, 'VMPLUMB boot x\n');
      setTimeout(() => writeFileSync(file, LOG), 100);
      const hit = await waitForGuestConsole(file, (l) => l.kind === 'addr' && l.scope === 'global', { timeoutMs: 5000, intervalMs: 20 });
      expect(hit).toMatchObject({ address: '2001:db8:1::f0ff:fea9:c44e' });
      await expect(waitForGuestConsole(file, (l) => l.kind === 'link' && l.ifname === 'eth1', { timeoutMs: 100, intervalMs: 20 })).rejects.toThrow(
        /within 100 ms; console tail:\n[\s\S]*VMPLUMB state/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the guest recipe', () => {
  it('loads the virtio-net modules in dependency order', () => {
    expect(GUEST_MODULES).toEqual([
      'failover',
      'net_failover',
      'virtio_ring',
      'virtio',
      'virtio_pci_legacy_dev',
      'virtio_pci_modern_dev',
      'virtio_pci',
      'virtio_net',
    ]);
    expect(INIT_SCRIPT).toContain(`for m in ${GUEST_MODULES.join(' ')}; do`);
    expect(INIT_SCRIPT.startsWith('#!/bin/sh\n')).toBe(true);
  });

  it('has a stable content key and a cache folder that honours VMPLUMB_CACHE', () => {
    expect(guestRecipeKey()).toMatch(/^[0-9a-f]{16}$/);
    expect(guestRecipeKey()).toBe(guestRecipeKey());
    expect(guestCacheDir('/x')).toBe('/x');
    const saved = process.env.VMPLUMB_CACHE;
    try {
      process.env.VMPLUMB_CACHE = '/tmp/vmplumb-cache-test';
      expect(guestCacheDir()).toBe('/tmp/vmplumb-cache-test');
      delete process.env.VMPLUMB_CACHE;
      expect(guestCacheDir()).toMatch(/\.cache\/vmplumb\/guest$/);
    } finally {
      if (saved === undefined) delete process.env.VMPLUMB_CACHE;
      else process.env.VMPLUMB_CACHE = saved;
    }
  });
});
