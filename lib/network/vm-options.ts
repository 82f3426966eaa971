/**
 * Validation of startVm's options and the tap naming rule. Everything is checked before a tap
 * is opened, so a bad option changes nothing.
 */
import { IFNAMSIZ, checkIfname, checkInteger, checkObject, checkString, checkUnicastMac, invalidType, invalidValue } from '../validate.js';
import { resolveGuardOptions } from '../guard/options.js';
import { checkAccel } from '../qemu/accel.js';
import { MAX_CPUS } from '../qemu/spec.js';
import type { QemuDisk } from '../qemu/spec.js';
import type { StartVmOptions, VmPortSecurity } from './types.js';

/**
 * The tap of VM `vmId` in network `netId`: `vm<id>n<netid>` (vm1n100), which fits IFNAMSIZ
 * for ids up to ~10^5 in any network. Longer combinations use base 36 with a '-' separator
 * (`v<id36>-<net36>`, at most 14 bytes for 32-bit ids): the decimal form never contains '-',
 * so the two forms never collide and each is unique per (vm, network).
 */
export function tapNameForVm(vmId: number, netId: number): string {
  const decimal = `vm${vmId}n${netId}`;
  if (Buffer.byteLength(decimal) < IFNAMSIZ) return decimal;
  return `v${vmId.toString(36)}-${netId.toString(36)}`;
}

/** startVm's options after validation. */
export interface ResolvedVmOptions extends StartVmOptions {
  mac: string | undefined;
  tap: string;
  /** undefined: unguarded (`portSecurity: false`). */
  guard: VmPortSecurity | undefined;
}

/** Checks `portSecurity` with securePort's own rules (fields named `portSecurity.…`). */
function checkPortSecurity(value: unknown): VmPortSecurity | undefined {
  if (value === undefined || value === true) return {};
  if (value === false) return undefined;
  const o = checkObject('portSecurity', value);
  const known = ['addresses', 'allowIPv4', 'bandwidth'];
  const unknown = Object.keys(o).find((k) => !known.includes(k));
  if (unknown) throw invalidValue(`portSecurity.${unknown}`, `one of ${known.join(', ')}`, o[unknown]);
  try {
    // A stand-in port, MAC and prefix: only the fields given here are being checked.
    resolveGuardOptions({ port: 'check', mac: '02:00:00:00:00:01', prefixes: o.addresses === undefined ? ['2001:db8::/64'] : [], ...o });
  } catch (error) {
    if (error instanceof Error) error.message = error.message.replace(/^Expected "/u, 'Expected "portSecurity.');
    throw error;
  }
  return o as VmPortSecurity;
}

/** Validates startVm's options (the MAC default is filled in by the network). */
export function resolveVmOptions(options: unknown, netId: number): ResolvedVmOptions {
  const o = checkObject('options', options) as Partial<Record<keyof StartVmOptions, unknown>>;
  // macForVm encodes the id in the MAC's low 32 bits at most.
  const id = checkInteger('id', o.id, 0, 0xffffffff);
  const memoryMiB = checkInteger('memoryMiB', o.memoryMiB, 16, 4 * 1024 * 1024);
  // Qemu.spawn's own bound, checked here before the tap is opened.
  const cpus = checkInteger('cpus', o.cpus, 1, MAX_CPUS);
  const media = (['cdrom', 'disks', 'kernel'] as const).filter((k) => o[k] !== undefined);
  if (media.length === 0) throw invalidValue('options', 'an object with one of "cdrom", "disks" or "kernel"', 'none of them');
  if (media.includes('cdrom')) checkString('cdrom', o.cdrom);
  if (media.includes('kernel')) checkString('kernel', o.kernel);
  if (o.disks !== undefined) {
    if (!Array.isArray(o.disks) || o.disks.length === 0) throw invalidType('disks', 'a non-empty array of image files', o.disks);
    o.disks.forEach((d: unknown, i) => {
      if (typeof d === 'string') checkString(`disks[${i}]`, d);
      else checkString(`disks[${i}].file`, checkObject(`disks[${i}]`, d).file);
    });
  }
  if (o.kernel === undefined && (o.initrd !== undefined || o.append !== undefined)) {
    throw invalidValue(o.initrd !== undefined ? 'initrd' : 'append', 'given only with "kernel"', o.initrd ?? o.append);
  }
  if (o.initrd !== undefined) checkString('initrd', o.initrd);
  if (o.append !== undefined && typeof o.append !== 'string') throw invalidType('append', 'a string', o.append);
  if (typeof o.append === 'string' && o.append.includes('\0')) throw invalidValue('append', 'a kernel command line without NUL bytes', o.append);
  checkAccel('accel', o.accel);
  const mac = o.mac === undefined ? undefined : checkUnicastMac('mac', o.mac);
  if (o.serial !== undefined) checkString('serial.file', checkObject('serial', o.serial).file);
  if (o.uuid !== undefined && (typeof o.uuid !== 'string' || !/^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/iu.test(o.uuid))) {
    throw invalidValue('uuid', 'a UUID like 1b4e28ba-2fa1-11d2-883f-0016d3cca427', o.uuid);
  }
  const tap = o.tap === undefined ? tapNameForVm(id, netId) : checkIfname('tap', o.tap);
  if (o.extraArgs !== undefined && (!Array.isArray(o.extraArgs) || o.extraArgs.some((a) => typeof a !== 'string' || a.includes('\0')))) {
    throw invalidType('extraArgs', 'an array of strings', o.extraArgs);
  }
  const guard = checkPortSecurity(o.portSecurity);
  return {
    ...(o as StartVmOptions),
    guard,
    id,
    memoryMiB,
    cpus,
    mac,
    tap,
    disks: o.disks as (string | QemuDisk)[] | undefined,
  };
}
