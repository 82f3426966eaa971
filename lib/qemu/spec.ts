/**
 * The typed description of a VM that {@link Qemu.spawn} starts, and its validation: every
 * field is checked with a message naming it before anything is spawned.
 */
import { accessSync, constants as fsConstants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { delimiter, join } from 'node:path';

import { checkAccel, type Accel } from './accel.js';
import { SystemCallError } from '../errors.js';
import type { GuardRecord } from '../guard/identity.js';
import { PortGuard } from '../guard/secure-port.js';
import { macForVm } from '../mac.js';
import { resolveRunDir } from '../state/run-dir.js';
import { Tap } from '../tap.js';
import { checkArray, checkInteger, checkObject, checkPath, checkString, checkUnicastMac, invalidType, invalidValue, isOwnKey } from '../validate.js';

/** A NIC: a tap (its fds go to qemu) and how the guest sees it. */
export interface QemuNic {
  /** An open tap; qemu takes its fds over and the tap lives as long as qemu. */
  tap: Tap;
  /** The guest's MAC; default: macForVm(name) for the first NIC, macForVm(`${name}/${i}`) after. */
  mac?: string;
  /** The qemu device model; default 'virtio-net-pci'. */
  model?: string;
  /**
   * The tap's port security ({@link securePort} on this tap): it belongs to the VM from now
   * on, is recorded in the VM's folder, and is removed when qemu ends, by whichever process
   * manages the VM then (spawn or {@link Qemu.attach}).
   */
  guard?: PortGuard;
}

/** A disk drive. A bare string is a raw image on virtio. */
export interface QemuDisk {
  /** Path of the disk image (qemu `-drive file=`). */
  file: string;
  /** Image format; default 'raw'. */
  format?: 'raw' | 'qcow2';
  /** Default 'virtio'. */
  interface?: 'virtio' | 'ide' | 'scsi' | 'none';
  /** Attach read-only (`-drive readonly=on`); false by default. */
  readOnly?: boolean;
}

/** Everything {@link Qemu.spawn} needs. */
export interface QemuSpec {
  /** The VM's name (qemu -name): 1–64 letters, digits, '.', '_' or '-'. */
  name: string;
  /** SMBIOS UUID (qemu -uuid). */
  uuid?: string;
  /** Machine type; default 'pc' (as the reference). 'q35' gets pcie-root-ports for hot-plug. */
  machine?: string;
  /** Default 'auto'. */
  accel?: Accel;
  /** Guest RAM in MiB, 16 to 4194304. */
  memoryMiB: number;
  /** Virtual CPUs, 1 to 255. */
  cpus: number;
  /** An ISO image attached as a read-only CD-ROM. */
  cdrom?: string;
  /** Disk images, as paths (raw, virtio) or with their format and interface. */
  disks?: Array<string | QemuDisk>;
  /** Direct kernel boot. */
  kernel?: string;
  /** Initial ramdisk for direct kernel boot (qemu `-initrd`; needs `kernel`). */
  initrd?: string;
  /** Kernel command line (needs `kernel`). */
  append?: string;
  /** Network cards, each on an opened tap whose fd qemu inherits (fds 3, 4, …); none by default. */
  nics?: QemuNic[];
  /** The first serial port goes to this file (created or truncated). */
  serial?: {
    /** Path of the file (qemu `-chardev file` + `-serial`). */
    file: string;
  };
  /** On q35, how many pcie-root-ports to pre-create for hot-plugged NICs; default 2 (0 on pc). */
  hotplugSlots?: number;
  /** The qemu binary, a path or a name looked up in PATH; default 'qemu-system-x86_64'. */
  qemuBinary?: string;
  /** Appended to the argv as they are. */
  extraArgs?: string[];
  /** How long qemu may take to greet on QMP; default 30000 ms. */
  startTimeoutMs?: number;
  /** Cancels the start: qemu is killed, its folder removed, and spawn() rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** The run directory the VM's folder goes in; default $VMPLUMB_RUN_DIR or /run/vmplumb. */
  runDir?: string;
  /** JSON data kept in the VM's spec.json for whoever attaches later (e.g. the network it belongs to). */
  metadata?: Record<string, unknown>;
}

/** A spec after validation and defaults (accel still unresolved when 'auto'). */
export interface ResolvedSpec {
  name: string;
  uuid: string | undefined;
  machine: string;
  accel: Accel;
  memoryMiB: number;
  cpus: number;
  cdrom: string | undefined;
  disks: Required<QemuDisk>[];
  kernel: string | undefined;
  initrd: string | undefined;
  append: string | undefined;
  nics: ResolvedNic[];
  serialFile: string | undefined;
  hotplugSlots: number;
  qemuBinary: string;
  extraArgs: string[];
  startTimeoutMs: number;
  runDir: string;
  metadata: Record<string, unknown> | undefined;
}

const NAME_RE = /^[A-Za-z0-9._-]{1,64}$/u;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/iu;
const MACHINE_RE = /^[a-z0-9][a-z0-9._-]*$/u;
const MODEL_RE = /^[a-z0-9][a-z0-9_-]*$/u;
/** The most vCPUs qemu's pc/q35 machines take without an IOMMU (x2APIC ids): what spawn accepts. */
export const MAX_CPUS = 255;
const INTERFACES = { virtio: true, ide: true, scsi: true, none: true } as const;
/** Bounds on arrays a spec may hold (far above what qemu takes; they bound a bad call's work). */
const MAX_DISKS = 256;
const MAX_NICS = 256;

/** Whether a machine type is a PCI Express one (q35 and its versions), where hot-plug needs root ports. */
export function isPcieMachine(machine: string): boolean {
  return machine === 'q35' || machine.startsWith('pc-q35');
}

/** A path field: a non-empty string without NUL that names an existing file. */
function checkFile(field: string, value: unknown): string {
  const path = checkPath(field, value);
  try {
    accessSync(path, fsConstants.R_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'ENOENT';
    throw invalidValue(field, 'a readable file', value, code);
  }
  return path;
}

/**
 * Finds the qemu binary like execvp would (a name is looked up in PATH). A missing binary is
 * an ENOENT system error naming the path, raised before anything is spawned.
 */
export function resolveQemuBinary(binary: string): string {
  const candidates = binary.includes('/')
    ? [binary]
    : (process.env.PATH ?? '/usr/bin:/bin')
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, binary));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new SystemCallError(osConstants.errno.ENOENT, 'spawn', binary, `qemu binary not found${binary.includes('/') ? '' : ' in PATH'}`);
}

/** Validates a spec and applies the defaults. Throws ERR_INVALID_ARG_* naming the field. */
export function resolveSpec(spec: QemuSpec): ResolvedSpec {
  const s = checkObject('spec', spec);
  if (typeof s.name !== 'string' || !NAME_RE.test(s.name)) {
    throw invalidValue('name', "a VM name of 1 to 64 letters, digits, '.', '_' or '-'", s.name);
  }
  // The name is a folder of the run directory.
  if (s.name === '.' || s.name === '..') throw invalidValue('name', "a VM name other than '.' and '..'", s.name);
  const name = s.name;
  if (s.uuid !== undefined && (typeof s.uuid !== 'string' || !UUID_RE.test(s.uuid))) throw invalidValue('uuid', 'a UUID like 6a1f…-…', s.uuid);
  const machine = s.machine === undefined ? 'pc' : checkString('machine', s.machine);
  if (!MACHINE_RE.test(machine)) throw invalidValue('machine', 'a qemu machine type like pc or q35', s.machine);
  const accel = checkAccel('accel', s.accel) ?? 'auto';
  const memoryMiB = checkInteger('memoryMiB', s.memoryMiB, 16, 4194304);
  const cpus = checkInteger('cpus', s.cpus, 1, MAX_CPUS);
  const cdrom = s.cdrom === undefined ? undefined : checkFile('cdrom', s.cdrom);
  const disks = (s.disks === undefined ? [] : checkArray('disks', s.disks, MAX_DISKS)).map((d, i): Required<QemuDisk> => {
    const field = `disks[${i}]`;
    if (typeof d === 'string') return { file: checkFile(field, d), format: 'raw', interface: 'virtio', readOnly: false };
    const o = checkObject(field, d);
    const format = o.format ?? 'raw';
    if (format !== 'raw' && format !== 'qcow2') throw invalidValue(`${field}.format`, "'raw' or 'qcow2'", o.format);
    const iface = o.interface ?? 'virtio';
    if (!isOwnKey(INTERFACES, iface)) throw invalidValue(`${field}.interface`, "'virtio', 'ide', 'scsi' or 'none'", o.interface);
    if (o.readOnly !== undefined && typeof o.readOnly !== 'boolean') throw invalidType(`${field}.readOnly`, 'a boolean', o.readOnly);
    return {
      file: checkFile(`${field}.file`, o.file),
      format: format as 'raw' | 'qcow2',
      interface: iface as QemuDisk['interface'] & string,
      readOnly: o.readOnly === true,
    };
  });
  const kernel = s.kernel === undefined ? undefined : checkFile('kernel', s.kernel);
  const initrd = s.initrd === undefined ? undefined : checkFile('initrd', s.initrd);
  if (initrd !== undefined && kernel === undefined) throw invalidValue('initrd', 'given together with "kernel"', s.initrd);
  if (s.append !== undefined && typeof s.append !== 'string') throw invalidType('append', 'a string', s.append);
  // The kernel command line is a C string in qemu's argv: a NUL would cut it short.
  if (typeof s.append === 'string' && s.append.includes('\0')) throw invalidValue('append', 'a kernel command line without NUL bytes', s.append);
  if (s.append !== undefined && kernel === undefined) throw invalidValue('append', 'given together with "kernel"', s.append);
  const append = s.append as string | undefined;

  const seenTaps = new Set<Tap>();
  const seenMacs = new Set<string>();
  const nics = (s.nics === undefined ? [] : checkArray('nics', s.nics, MAX_NICS)).map((n, i) => {
    const o = checkObject(`nics[${i}]`, n);
    const nic = resolveNic(`nics[${i}]`, o, i === 0 ? macForVm(name) : macForVm(`${name}/${i}`));
    if (seenTaps.has(nic.tap)) throw invalidValue(`nics[${i}].tap`, 'a tap not used by another NIC', nic.tap.name);
    if (seenMacs.has(nic.mac)) throw invalidValue(`nics[${i}].mac`, 'a MAC not used by another NIC', nic.mac);
    seenTaps.add(nic.tap);
    seenMacs.add(nic.mac);
    return nic;
  });

  let serialFile: string | undefined;
  if (s.serial !== undefined) {
    const o = checkObject('serial', s.serial);
    serialFile = checkPath('serial.file', o.file);
  }
  const pcie = isPcieMachine(machine);
  const hotplugSlots = s.hotplugSlots === undefined ? (pcie ? 2 : 0) : checkInteger('hotplugSlots', s.hotplugSlots, 0, 32);
  if (hotplugSlots > 0 && !pcie) throw invalidValue('hotplugSlots', '0 on a non-PCIe machine (pc hot-plugs on pci.0)', s.hotplugSlots);
  const qemuBinary = s.qemuBinary === undefined ? 'qemu-system-x86_64' : checkString('qemuBinary', s.qemuBinary);
  const extraArgs =
    s.extraArgs === undefined
      ? []
      : checkArray('extraArgs', s.extraArgs).map((a, i) => {
          if (typeof a !== 'string') throw invalidType('extraArgs', 'an array of strings', s.extraArgs);
          if (a.includes('\0')) throw invalidValue(`extraArgs[${i}]`, 'an argument without NUL bytes', a);
          return a;
        });
  const startTimeoutMs = s.startTimeoutMs === undefined ? 30_000 : checkInteger('startTimeoutMs', s.startTimeoutMs, 1, 600_000);
  const runDir = resolveRunDir(s.runDir);
  let metadata: Record<string, unknown> | undefined;
  if (s.metadata !== undefined) {
    metadata = checkObject('metadata', s.metadata);
    try {
      JSON.stringify(metadata);
    } catch {
      throw invalidValue('metadata', 'JSON-serializable data', s.metadata);
    }
  }
  return {
    name,
    uuid: s.uuid as string | undefined,
    machine,
    accel,
    memoryMiB,
    cpus,
    cdrom,
    disks,
    kernel,
    initrd,
    append,
    nics,
    serialFile,
    hotplugSlots,
    qemuBinary,
    extraArgs,
    startTimeoutMs,
    runDir,
    metadata,
  };
}

/** A validated NIC: `guard` is the record of its tap's guard (none for a guard in a namespace given as an fd). */
export interface ResolvedNic {
  tap: Tap;
  mac: string;
  model: string;
  guard?: GuardRecord;
}

/** Validates one NIC (at spawn or hot-plug). */
export function resolveNic(field: string, o: Record<string, unknown>, defaultMac: string): ResolvedNic {
  if (!(o.tap instanceof Tap)) throw invalidType(`${field}.tap`, 'a Tap from openTap()', o.tap);
  if (o.tap.closed) throw invalidValue(`${field}.tap`, 'an open tap', o.tap.name, 'it is closed (or already handed to a VM)');
  const mac = o.mac === undefined ? defaultMac : checkUnicastMac(`${field}.mac`, o.mac);
  const model = o.model === undefined ? 'virtio-net-pci' : checkString(`${field}.model`, o.model);
  if (!MODEL_RE.test(model)) throw invalidValue(`${field}.model`, 'a qemu NIC device model like virtio-net-pci', o.model);
  if (o.guard === undefined) return { tap: o.tap, mac, model };
  if (!(o.guard instanceof PortGuard)) throw invalidType(`${field}.guard`, 'a PortGuard from securePort()', o.guard);
  if (o.guard.port !== o.tap.name || o.guard.removed) throw invalidValue(`${field}.guard`, `the guard of tap ${o.tap.name}`, o.guard.port);
  const guard = o.guard.record();
  return guard === undefined ? { tap: o.tap, mac, model } : { tap: o.tap, mac, model, guard };
}
