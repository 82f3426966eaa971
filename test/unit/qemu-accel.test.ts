import { accessSync, chmodSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { kvmWorks, resolveAccel } from '../../lib/qemu/accel.js';

const kvmOpens = ((): boolean => {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
})();

const dir = mkdtempSync(join(tmpdir(), 'vmptap-accel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in qemu that behaves as given (the probe only looks at exit status and stderr). */
function fakeQemu(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('accel', () => {
  it('passes kvm and tcg through without probing', async () => {
    expect(await resolveAccel('tcg', '/nonexistent')).toBe('tcg');
    expect(await resolveAccel('kvm', '/nonexistent')).toBe('kvm');
  });

  describe.skipIf(!kvmOpens)('the KVM probe (where /dev/kvm opens)', () => {
    it('accepts KVM when the probe firmware reaches isa-debug-exit cleanly', async () => {
      expect(await kvmWorks(fakeQemu('good', 'exit 85'))).toBe(true);
    });

    it('refuses KVM when qemu warns that the host lacks basic CPUID features', async () => {
      expect(await kvmWorks(fakeQemu('warns', `echo "qemu: warning: host doesn't support requested feature: CPUID.01H:ECX.pni [bit 0]" >&2; exit 85`))).toBe(false);
    });

    it('refuses KVM when the guest code never finishes (a hang), within the probe timeout', async () => {
      const started = Date.now();
      expect(await kvmWorks(fakeQemu('hangs', 'exec sleep 30'), 300)).toBe(false);
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it('refuses KVM when the probe ends any other way', async () => {
      expect(await kvmWorks(fakeQemu('fails', 'exit 1'))).toBe(false);
    });
  });
});
