import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { Qemu } from '../../lib/qemu/index.js';
import { resolveSpec, type QemuSpec } from '../../lib/qemu/spec.js';
import { Tap } from '../../lib/tap.js';

const dir = mkdtempSync(join(tmpdir(), 'vmptap-unit-'));
const kernel = join(dir, 'vmlinuz');
writeFileSync(kernel, 'not really a kernel');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A Tap without a kernel object behind it: fd numbers that are never used (spawn is never reached). */
function fakeTap(name: string, fds: number[]): Tap {
  return new Tap({ name, index: 1, fds, netns: undefined, vnetHdr: true, persist: false });
}

const ok: QemuSpec = { name: 'uc1', memoryMiB: 256, cpus: 1, accel: 'tcg' };

describe('Qemu spec validation (before anything is spawned)', () => {
  it('applies defaults', () => {
    const s = resolveSpec({ ...ok, nics: [{ tap: fakeTap('tap0', [100]) }, { tap: fakeTap('tap1', [101]) }] });
    expect(s.machine).toBe('pc');
    expect(s.qemuBinary).toBe('qemu-system-x86_64');
    expect(s.hotplugSlots).toBe(0);
    expect(s.nics.map((n) => n.model)).toEqual(['virtio-net-pci', 'virtio-net-pci']);
    expect(s.nics[0]?.mac).toMatch(/^02:00:/);
    expect(s.nics[0]?.mac).not.toBe(s.nics[1]?.mac);
    expect(resolveSpec({ ...ok, machine: 'q35' }).hotplugSlots).toBe(2);
    expect(resolveSpec({ ...ok, accel: undefined }).accel).toBe('auto');
  });

  it.each<[string, Partial<QemuSpec> | Record<string, unknown>, RegExp]>([
    ['an empty name', { name: '' }, /"name" to be a VM name/],
    ['a name with a space', { name: 'my vm' }, /"name"/],
    ['a bad uuid', { uuid: 'nope' }, /"uuid"/],
    ['a bad accel', { accel: 'hvf' }, /"accel" to be 'kvm', 'tcg' or 'auto', got "hvf"/],
    ['too little memory', { memoryMiB: 8 }, /"memoryMiB" to be an integer from 16 to 4194304, got 8/],
    ['fractional memory', { memoryMiB: 256.5 }, /"memoryMiB"/],
    ['no cpus', { cpus: 0 }, /"cpus" to be an integer from 1 to 255, got 0/],
    ['too many cpus', { cpus: 256 }, /"cpus"/],
    ['a missing kernel file', { kernel: '/nonexistent/vmlinuz' }, /"kernel" to be a readable file, got "\/nonexistent\/vmlinuz": ENOENT/],
    ['append without kernel', { append: 'console=ttyS0' }, /"append" to be given together with "kernel"/],
    ['nics that is not an array', { nics: {} }, /"nics" to be an array/],
    ['a nic without a Tap', { nics: [{ tap: 3 }] }, /"nics\[0\].tap" to be a Tap/],
    ['hotplugSlots on pc', { hotplugSlots: 1 }, /"hotplugSlots"/],
    ['extraArgs with a number', { extraArgs: ['-S', 1] }, /"extraArgs" to be an array of strings/],
    ['a serial without file', { serial: {} }, /"serial.file"/],
  ])('refuses %s', (_what, patch, message) => {
    expect(() => resolveSpec({ ...ok, ...patch } as QemuSpec)).toThrow(message);
  });

  it('refuses multicast, malformed and duplicate MACs', () => {
    expect(() => resolveSpec({ ...ok, nics: [{ tap: fakeTap('t0', [100]), mac: '03:00:00:00:00:01' }] })).toThrow(/"nics\[0\].mac".*multicast/);
    expect(() => resolveSpec({ ...ok, nics: [{ tap: fakeTap('t0', [100]), mac: '02:00:00:00:01' }] })).toThrow(/"nics\[0\].mac"/);
    expect(() =>
      resolveSpec({
        ...ok,
        nics: [
          { tap: fakeTap('t0', [100]), mac: '02:00:00:00:00:01' },
          { tap: fakeTap('t1', [101]), mac: '02:00:00:00:00:01' },
        ],
      }),
    ).toThrow(/"nics\[1\].mac" to be a MAC not used by another NIC/);
  });

  it('refuses a closed tap and a tap used twice', () => {
    const closed = fakeTap('tap9', []);
    expect(() => resolveSpec({ ...ok, nics: [{ tap: closed }] })).toThrow(/"nics\[0\].tap" to be an open tap, got "tap9": it is closed/);
    const tap = fakeTap('tap1', [100]);
    expect(() => resolveSpec({ ...ok, nics: [{ tap }, { tap }] })).toThrow(/"nics\[1\].tap"/);
  });

  it('rejects a missing qemu binary with ENOENT naming the path, spawning nothing', async () => {
    const tap = fakeTap('tap0', [100]);
    const error = await Qemu.spawn({ ...ok, nics: [{ tap }], qemuBinary: '/nonexistent/qemu-system-x86_64' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENOENT', syscall: 'spawn', path: '/nonexistent/qemu-system-x86_64' });
    expect(String((error as Error).message)).toContain('/nonexistent/qemu-system-x86_64');
    expect(tap.closed).toBe(false); // still the caller's
    const inPath = await Qemu.spawn({ ...ok, qemuBinary: 'vmplumb-no-such-qemu' }).catch((e: unknown) => e);
    expect(inPath).toMatchObject({ code: 'ENOENT', path: 'vmplumb-no-such-qemu' });
  });

  it('validates before looking for the binary', async () => {
    await expect(Qemu.spawn({ ...ok, cpus: 0, qemuBinary: '/nonexistent/qemu' })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(() => resolveSpec({ ...ok, kernel })).not.toThrow();
  });
});
