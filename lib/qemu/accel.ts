/**
 * Choosing the accelerator for accel 'auto': KVM only where it really works.
 *
 * /dev/kvm opening is not enough: on some nested hosts KVM_CREATE_VM succeeds but guests
 * hang, and such hosts also fail to offer plain qemu64 CPUID bits (qemu warns "host doesn't
 * support requested feature"). So the probe runs a tiny firmware under KVM with `-cpu qemu64`
 * (mov al,42; out 0xf4,al: isa-debug-exit makes qemu exit with (42<<1)|1 = 85) and accepts KVM
 * only if qemu exits with 85 and without such warnings, within 5 s. The answer is cached per
 * binary and device for the life of the process.
 */
import { debug } from '../diagnostics.js';
import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { invalidValue } from '../validate.js';

/** How qemu runs guest code: KVM, TCG (emulation), or KVM only where it really works. */
export type Accel = 'kvm' | 'tcg' | 'auto';

/** The accelerator qemu runs with: {@link Accel} with 'auto' decided. */
export type ResolvedAccel = Exclude<Accel, 'auto'>;

/** `value` as an {@link Accel}, or an ERR_INVALID_ARG_VALUE naming `field` (undefined passes). */
export function checkAccel(field: string, value: unknown): Accel | undefined {
  if (value === undefined || value === 'kvm' || value === 'tcg' || value === 'auto') return value;
  throw invalidValue(field, "'kvm', 'tcg' or 'auto'", value);
}

const probes = new Map<string, Promise<ResolvedAccel>>();

/** Where the probe looks; the defaults are the real host's (tests point them elsewhere). */
export interface KvmProbeOptions {
  /** The KVM device that must open read-write before qemu is tried (default `/dev/kvm`). */
  device?: string;
  /** How long the probe guest may run before KVM counts as hung (default 5000 ms). */
  timeoutMs?: number;
}

/** 64 KiB of hlt with, at the reset vector 0xFFF0: mov al,0x2a; out 0xf4,al; hlt; jmp $. */
function probeFirmware(): Buffer {
  const rom = Buffer.alloc(0x10000, 0xf4);
  Buffer.from([0xb0, 0x2a, 0xe6, 0xf4, 0xf4, 0xeb, 0xfe]).copy(rom, 0xfff0);
  return rom;
}

/** Runs the probe; resolves true when KVM ran the firmware cleanly. */
export async function kvmWorks(qemuBinary: string, options: KvmProbeOptions = {}): Promise<boolean> {
  const { device = '/dev/kvm', timeoutMs = 5000 } = options;
  try {
    accessSync(device, fsConstants.R_OK | fsConstants.W_OK);
  } catch {
    return false;
  }
  const dir = mkdtempSync(join(tmpdir(), 'vmplumb-kvm-probe-'));
  try {
    const firmware = join(dir, 'probe.rom');
    writeFileSync(firmware, probeFirmware());
    const child = spawn(
      qemuBinary,
      [
        '-nodefaults',
        '-no-user-config',
        '-display',
        'none',
        '-machine',
        'pc,accel=kvm',
        '-cpu',
        'qemu64',
        '-m',
        '16',
        '-bios',
        firmware,
        '-device',
        'isa-debug-exit,iobase=0xf4,iosize=0x04',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await new Promise<number | null>((resolve) => {
      child.on('error', () => resolve(null));
      child.on('close', (c) => resolve(c));
    });
    clearTimeout(timer);
    return code === 85 && !/doesn't support requested feature/u.test(stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Resolves 'auto' into 'kvm' or 'tcg' (cached); 'kvm' and 'tcg' pass through. */
export function resolveAccel(accel: Accel, qemuBinary: string, options: KvmProbeOptions = {}): Promise<ResolvedAccel> {
  if (accel !== 'auto') return Promise.resolve(accel);
  const key = `${options.device ?? '/dev/kvm'}\0${qemuBinary}`;
  let probe = probes.get(key);
  if (!probe) {
    probe = kvmWorks(qemuBinary, options).then((ok) => {
      debug(
        ok
          ? 'accel auto: KVM runs a probe guest with %s: using kvm'
          : 'accel auto: KVM does not run a probe guest with %s (no /dev/kvm, or guests hang): falling back to tcg',
        qemuBinary,
      );
      return ok ? 'kvm' : 'tcg';
    });
    probes.set(key, probe);
  }
  return probe;
}
