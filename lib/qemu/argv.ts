/**
 * The qemu command line for a spec (qemu-system-x86_64(1)). A pure function: the fds are
 * child fd numbers (3, 4, … in spawn's stdio array), so the argv is testable without qemu.
 */
import type { ResolvedAccel } from './accel.js';
import { isPcieMachine } from './spec.js';

/** One NIC as the command line sees it. */
export interface ArgvNic {
  /** netdev id; the device is `${id}.dev`. */
  id: string;
  /** Child fd numbers of the tap's queues. */
  fds: number[];
  mac: string;
  model: string;
}

/** What {@link buildQemuArgs} needs. */
export interface ArgvInput {
  name: string;
  uuid?: string | undefined;
  machine: string;
  accel: ResolvedAccel;
  memoryMiB: number;
  cpus: number;
  cdrom?: string | undefined;
  disks?: Array<{ file: string; format: string; interface: string; readOnly: boolean }>;
  kernel?: string | undefined;
  initrd?: string | undefined;
  append?: string | undefined;
  nics: ArgvNic[];
  serialFile?: string | undefined;
  /** The child fd of the listening QMP socket the library made (qemu accepts on it). */
  qmpFd: number;
  /** The child fd of a second listening monitor socket (short status queries by others). */
  monitorFd?: number | undefined;
  /** qemu writes its pid here; the path in the argv is also the VM's identity mark (lib/state/identity.ts). */
  pidfile?: string | undefined;
  /** pcie-root-ports to pre-create (ids from {@link hotplugPortId}). */
  hotplugSlots: number;
  extraArgs?: string[];
}

/** The id of the i-th pre-created pcie-root-port. */
export function hotplugPortId(i: number): string {
  return `vmphp${i}`;
}

/** The chardev id of the QMP monitor. */
export const QMP_CHARDEV = 'vmpqmp';
/** The chardev id of the second (status) monitor. */
export const MONITOR_CHARDEV = 'vmpmon';

/** Escapes a value inside a qemu option list: a comma is doubled (qemu-options: QemuOpts). */
export function escapeOptionValue(value: string): string {
  return value.replaceAll(',', ',,');
}

/** The -device properties for a NIC: multiqueue gets mq=on and 2*queues+2 MSI-X vectors. */
export function nicDeviceProps(nic: { id: string; mac: string; model: string; queues: number }): Record<string, string | number> {
  const props: Record<string, string | number> = { driver: nic.model, netdev: nic.id, id: `${nic.id}.dev`, mac: nic.mac };
  if (nic.queues > 1) {
    // virtio-net(4): one vector per rx and tx queue, one for config, one for the control vq.
    props.mq = 'on';
    props.vectors = 2 * nic.queues + 2;
  }
  return props;
}

/** Builds the argv (without the binary). */
export function buildQemuArgs(input: ArgvInput): string[] {
  const args: string[] = [
    '-name',
    `guest=${escapeOptionValue(input.name)}`,
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-machine',
    `${input.machine},accel=${input.accel}`,
    '-m',
    String(input.memoryMiB),
    '-smp',
    String(input.cpus),
  ];
  if (input.uuid !== undefined) args.push('-uuid', input.uuid);
  if (input.pidfile !== undefined) args.push('-pidfile', input.pidfile);
  // QMP on an inherited socket that already listens: a client can connect before qemu runs
  // (no path to race on), and the path stays for any later process to attach.
  args.push('-chardev', `socket,id=${QMP_CHARDEV},fd=${input.qmpFd},server=on,wait=off`, '-mon', `chardev=${QMP_CHARDEV},mode=control`);
  if (input.monitorFd !== undefined) {
    args.push('-chardev', `socket,id=${MONITOR_CHARDEV},fd=${input.monitorFd},server=on,wait=off`, '-mon', `chardev=${MONITOR_CHARDEV},mode=control`);
  }
  if (input.serialFile !== undefined) {
    args.push('-chardev', `file,id=vmpserial0,path=${escapeOptionValue(input.serialFile)}`, '-serial', 'chardev:vmpserial0');
  }
  if (input.kernel !== undefined) args.push('-kernel', input.kernel);
  if (input.initrd !== undefined) args.push('-initrd', input.initrd);
  if (input.append !== undefined) args.push('-append', input.append);
  if (input.cdrom !== undefined) args.push('-drive', `file=${escapeOptionValue(input.cdrom)},media=cdrom,readonly=on`);
  for (const disk of input.disks ?? []) {
    args.push('-drive', `file=${escapeOptionValue(disk.file)},format=${disk.format},if=${disk.interface}${disk.readOnly ? ',readonly=on' : ''}`);
  }
  for (const nic of input.nics) {
    args.push('-netdev', `tap,id=${nic.id},fds=${nic.fds.join(':')}`);
    args.push('-device', propsToOption(nicDeviceProps({ ...nic, queues: nic.fds.length })));
  }
  if (isPcieMachine(input.machine)) {
    // Root ports cannot be hot-plugged themselves: each later NIC needs one made now.
    for (let i = 0; i < input.hotplugSlots; i++) {
      args.push('-device', `pcie-root-port,id=${hotplugPortId(i)},bus=pcie.0,chassis=${i + 1}`);
    }
  }
  args.push(...(input.extraArgs ?? []));
  return args;
}

/** `{ driver: 'x', a: 1 }` → `x,a=1` (the -device syntax). */
function propsToOption(props: Record<string, string | number>): string {
  const { driver, ...rest } = props;
  return [String(driver), ...Object.entries(rest).map(([k, v]) => `${k}=${escapeOptionValue(String(v))}`)].join(',');
}
