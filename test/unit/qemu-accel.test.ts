/**
 * Choosing the accelerator: the KVM probe against stand-in qemus and stand-in KVM devices, so
 * every case runs on any machine (with or without /dev/kvm), CI included.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { kvmWorks, resolveAccel } from '../../lib/qemu/accel.js';

const dir = mkdtempSync(join(tmpdir(), 'vmptap-accel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A device that opens read-write, as /dev/kvm does where KVM is offered. */
const kvmDevice = join(dir, 'kvm');
writeFileSync(kvmDevice, '');
/** A device that is not there, as /dev/kvm on a host without KVM. */
const noKvmDevice = join(dir, 'no-kvm');

/**
 * A stand-in qemu that behaves as given (the probe only looks at exit status and stderr). It
 * leaves `<name>.ran` behind, so a test can tell whether the probe started it at all.
 */
function fakeQemu(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n: > "${file}.ran"\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('accel', () => {
  it('passes kvm and tcg through without probing', async () => {
    const qemu = fakeQemu('passthrough', 'exit 85');
    expect(await resolveAccel('tcg', qemu, { device: kvmDevice })).toBe('tcg');
    expect(await resolveAccel('kvm', qemu, { device: noKvmDevice })).toBe('kvm');
    expect(existsSync(`${qemu}.ran`)).toBe(false);
  });

  describe('the KVM probe', () => {
    it('accepts KVM when the probe firmware reaches isa-debug-exit cleanly', async () => {
      expect(await kvmWorks(fakeQemu('good', 'exit 85'), { device: kvmDevice })).toBe(true);
    });

    it('refuses KVM when qemu warns that the host lacks basic CPUID features', async () => {
      const qemu = fakeQemu('warns', `echo "qemu: warning: host doesn't support requested feature: CPUID.01H:ECX.pni [bit 0]" >&2; exit 85`);
      expect(await kvmWorks(qemu, { device: kvmDevice })).toBe(false);
    });

    it('refuses KVM when the guest code never finishes (a hang), killing it at the probe timeout', async () => {
      // The stand-in would exit 85 (success) after 30 s: only the timeout makes it fail. It
      // execs, so the SIGKILL reaches the process holding stderr open.
      const qemu = fakeQemu('hangs', "exec perl -e 'sleep 30; exit 85'");
      expect(await kvmWorks(qemu, { device: kvmDevice, timeoutMs: 300 })).toBe(false);
    });

    it('refuses KVM when the probe ends any other way', async () => {
      expect(await kvmWorks(fakeQemu('fails', 'exit 1'), { device: kvmDevice })).toBe(false);
    });

    it('refuses KVM without trying qemu when the KVM device does not open', async () => {
      const qemu = fakeQemu('unused', 'exit 85');
      expect(await kvmWorks(qemu, { device: noKvmDevice })).toBe(false);
      expect(existsSync(`${qemu}.ran`)).toBe(false);
    });
  });

  describe("accel 'auto'", () => {
    it("resolves to 'tcg' on a host without KVM, with a qemu that would have run under KVM", async () => {
      const qemu = fakeQemu('auto-no-kvm', 'exit 85');
      expect(await resolveAccel('auto', qemu, { device: noKvmDevice })).toBe('tcg');
      // Positive control: the same qemu with a KVM device that opens is accepted.
      expect(await resolveAccel('auto', qemu, { device: kvmDevice })).toBe('kvm');
    });

    it("resolves to 'tcg' where KVM opens but guests hang", async () => {
      expect(await resolveAccel('auto', fakeQemu('auto-hangs', "exec perl -e 'sleep 30; exit 85'"), { device: kvmDevice, timeoutMs: 300 })).toBe('tcg');
    });

    it('probes once per binary and device, then answers from the cache', async () => {
      const qemu = fakeQemu('auto-cached', 'exit 85');
      expect(await resolveAccel('auto', qemu, { device: kvmDevice })).toBe('kvm');
      rmSync(`${qemu}.ran`);
      expect(await resolveAccel('auto', qemu, { device: kvmDevice })).toBe('kvm');
      expect(existsSync(`${qemu}.ran`)).toBe(false);
    });
  });
});
