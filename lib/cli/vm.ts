/**
 * `vmplumb vm run --net 100 --id 1 --cdrom alpine.iso --memory 1024 --cpus 2`: a VM in network
 * 100 in the foreground. The network is found by its bridge, br<net>, as `vmplumb net up` (or
 * the reference script) made it in the same namespace; the prefix is read from the bridge's
 * global /64 address. Ctrl-C stops the VM (ACPI power-off, then kill) and removes its tap.
 */
import type { Command } from 'commander';

import type { StartVmOptions } from '../network/types.js';
import type { Accel } from '../qemu/accel.js';
import type { VmListEntry } from '../qemu/list.js';
import { CliError, copyDefined, interrupted, intOption, listOption, note, printJson, runAndNetns, say, table, untilSignal } from './common.js';
import type { GuardCounter } from '../guard/index.js';

interface VmRunOptions {
  net: number;
  id: number;
  cdrom?: string;
  disk?: string[];
  kernel?: string;
  initrd?: string;
  append?: string;
  memory: number;
  cpus: number;
  accel?: Accel;
  mac?: string;
  uuid?: string;
  serial?: string;
  qemu?: string;
  bridge?: string;
  prefix?: string;
  netns?: string;
  stopTimeout: number;
  json?: boolean;
}

/** The library options a `vm run` command line stands for (validated by the library). */
export function vmRunOptions(o: VmRunOptions): StartVmOptions {
  const media = [o.cdrom, o.disk, o.kernel].filter((m) => m !== undefined).length;
  if (media !== 1) throw new CliError('give exactly one of --cdrom, --disk or --kernel');
  const out: StartVmOptions = { id: o.id, memoryMiB: o.memory, cpus: o.cpus };
  copyDefined(out, o, ['cdrom', 'kernel', 'initrd', 'append', 'accel', 'mac', 'uuid']);
  if (o.qemu !== undefined) out.qemuBinary = o.qemu;
  if (o.disk !== undefined) out.disks = o.disk;
  if (o.serial !== undefined) out.serial = { file: o.serial };
  return out;
}

/** `vm start`'s options: `vm run`'s plus the run directory. */
interface VmStartOptions extends VmRunOptions {
  runDir?: string;
  paused?: boolean;
}

/** One line per VM of `vm list`. */
function vmRows(entries: VmListEntry[]): string[][] {
  return [
    ['NAME', 'STATE', 'PID', 'MANAGED', 'NETWORK', 'TAP'],
    ...entries.map((e) => {
      const meta = e.record?.metadata as { network?: { id?: number }; vm?: { tap?: string } } | undefined;
      return [e.name, e.state, e.pid === undefined ? '-' : String(e.pid), e.managed ? 'yes' : 'no', String(meta?.network?.id ?? '-'), meta?.vm?.tap ?? '-'];
    }),
  ];
}

/**
 * The port-security counters of a network VM's tap, read from the kernel (the guard lives in
 * the network's namespace, named in the network's record); undefined for a VM outside a
 * network or without a guard.
 */
async function portSecurityOf(entry: VmListEntry, runDir: string | undefined): Promise<{ port: string; counters: GuardCounter[] } | undefined> {
  const meta = entry.record?.metadata as { network?: { id?: number; netnsKey?: string }; vm?: { tap?: string } } | undefined;
  const port = meta?.vm?.tap;
  const network = meta?.network;
  if (port === undefined || network?.id === undefined || network.netnsKey === undefined) return undefined;
  const [{ resolveRunDir }, { networkFiles, readNetworkRecord }, { guardCounters }] = await Promise.all([
    import('../state/run-dir.js'),
    import('../state/network-record.js'),
    import('../guard/index.js'),
  ]);
  const record = await readNetworkRecord(networkFiles(resolveRunDir(runDir), network.netnsKey, network.id)).catch(() => undefined);
  const counters = await guardCounters({ port, ...(record?.netns === undefined ? {} : { netns: record.netns }) });
  return counters.length === 0 ? undefined : { port, counters };
}

/** A VM list entry as JSON (without the whole spec.json). */
function vmJson(e: VmListEntry): Record<string, unknown> {
  return {
    name: e.name,
    state: e.state,
    status: e.status ?? null,
    pid: e.pid ?? null,
    managed: e.managed,
    folder: e.folder,
    metadata: e.record?.metadata ?? null,
  };
}

/** Registers `vm run|start|stop|list|status`. */
export function registerVm(program: Command): void {
  const vm = program.command('vm').description('VMs in a network');
  vm.command('start')
    .description('start VM <id> in recorded network <net> (vmplumb net create) and return once QMP is ready; the VM keeps running')
    .requiredOption('--net <n>', 'the network id', intOption(0, 16777215))
    .requiredOption('--id <n>', 'VM id: names the VM (vm<id>n<net>) and its tap and gives its MAC', intOption(0, 0xffffffff))
    .option('--cdrom <iso>', 'boot this ISO image')
    .option('--disk <image>', 'a raw disk image (repeatable)', listOption)
    .option('--kernel <file>', 'direct kernel boot')
    .option('--initrd <file>', 'initramfs for --kernel')
    .option('--append <cmdline>', 'kernel command line for --kernel')
    .option('--memory <MiB>', 'guest memory in MiB', intOption(16, 4 * 1024 * 1024), 1024)
    .option('--cpus <n>', 'virtual CPUs', intOption(1, 255), 2)
    .option('--accel <accel>', "'kvm', 'tcg' or 'auto'")
    .option('--mac <mac>', "the NIC's MAC (default: from the id)")
    .option('--uuid <uuid>', 'SMBIOS UUID')
    .option('--serial <file>', 'write the serial console to this file')
    .option('--qemu <binary>', 'the qemu binary (default qemu-system-x86_64 from PATH)')
    .option('--netns <name>', 'the namespace the network is in')
    .option('--paused', 'start with the CPUs stopped (qemu -S); `cont` over QMP starts them')
    .option('--run-dir <dir>', 'the run directory (default $VMPLUMB_RUN_DIR or /run/vmplumb)')
    .option('--json', 'print the VM as JSON')
    .action(async (options: VmStartOptions) => {
      const vmOptions = vmRunOptions({ ...options, stopTimeout: 0 });
      if (options.paused) vmOptions.extraArgs = ['-S'];
      const { VxlanNetwork } = await import('../network.js');
      const network = await VxlanNetwork.open({ id: options.net, ...runAndNetns(options) });
      try {
        const v = await network.startVm(vmOptions);
        const info = { id: v.id, name: v.name, pid: v.pid, mac: v.mac, address: v.address, tap: v.tap, bridge: network.bridgeName };
        if (options.json) printJson(info);
        else say(`${v.name} running (pid ${v.pid}) on ${v.tap} in ${network.bridgeName}, MAC ${v.mac}, address ${v.address}`);
      } finally {
        // A handover: the VM keeps running, the network stays, no final RA.
        await network.close();
      }
    });
  vm.command('stop <name>')
    .description('stop a VM (ACPI power-off, then quit, then kill) started by any process')
    .option('--timeout <ms>', 'how long the guest gets to power off', intOption(1, 3_600_000), 30_000)
    .option('--run-dir <dir>', 'the run directory (default $VMPLUMB_RUN_DIR or /run/vmplumb)')
    .action(async (name: string, options: { timeout: number; runDir?: string }) => {
      const { Qemu } = await import('../qemu/index.js');
      const v = await Qemu.attach(name, options.runDir === undefined ? {} : { runDir: options.runDir });
      const exit = await v.shutdown({ timeoutMs: options.timeout });
      say(`${name} stopped (${exit.reason})`);
    });
  vm.command('list')
    .description('every VM of the host with its state (as qemu and /proc say it)')
    .option('--run-dir <dir>', 'the run directory (default $VMPLUMB_RUN_DIR or /run/vmplumb)')
    .option('--json', 'print JSON')
    .action(async (options: { runDir?: string; json?: boolean }) => {
      const { Qemu } = await import('../qemu/index.js');
      const entries = await Qemu.list(options.runDir === undefined ? {} : { runDir: options.runDir });
      if (options.json) printJson(entries.map(vmJson));
      else say(table(vmRows(entries)));
    });
  vm.command('status <name>')
    .description("one VM's state; exits 1 when there is no such VM")
    .option('--run-dir <dir>', 'the run directory (default $VMPLUMB_RUN_DIR or /run/vmplumb)')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { runDir?: string; json?: boolean }) => {
      const { Qemu } = await import('../qemu/index.js');
      const entry = (await Qemu.list(options.runDir === undefined ? {} : { runDir: options.runDir })).find((e) => e.name === name);
      if (!entry) throw new CliError(`no VM named ${name}`);
      const guard = await portSecurityOf(entry, options.runDir);
      if (options.json) printJson({ ...vmJson(entry), portSecurity: guard ?? null });
      else {
        say(table(vmRows([entry])));
        if (guard)
          say(
            `\nport security on ${guard.port}:\n${table([['RULE', 'VERDICT', 'PACKETS', 'BYTES'], ...guard.counters.map((c) => [c.name, c.verdict, String(c.packets), String(c.bytes)])])}`,
          );
      }
    });
  vm.command('run')
    .description('run VM <id> in network <net> in the foreground; Ctrl-C stops it')
    .requiredOption('--net <n>', 'the network id (its bridge is br<n>, made by `vmplumb net up`)', intOption(0, 16777215))
    .requiredOption('--id <n>', 'VM id: names the VM and its tap and gives its MAC (02:00:…)', intOption(0, 0xffffffff))
    .option('--cdrom <iso>', 'boot this ISO image')
    .option('--disk <image>', 'a raw disk image (repeatable)', listOption)
    .option('--kernel <file>', 'direct kernel boot')
    .option('--initrd <file>', 'initramfs for --kernel')
    .option('--append <cmdline>', 'kernel command line for --kernel')
    .option('--memory <MiB>', 'guest memory in MiB', intOption(16, 4 * 1024 * 1024), 1024)
    .option('--cpus <n>', 'virtual CPUs', intOption(1, 255), 2)
    .option('--accel <accel>', "'kvm', 'tcg' or 'auto'")
    .option('--mac <mac>', "the NIC's MAC (default: from the id)")
    .option('--uuid <uuid>', 'SMBIOS UUID')
    .option('--serial <file>', 'write the serial console to this file')
    .option('--qemu <binary>', 'the qemu binary (default qemu-system-x86_64 from PATH)')
    .option('--bridge <name>', "the network's bridge (default br<net>)")
    .option('--prefix <prefix>', "the network's /64 (default: read from the bridge's address)")
    .option('--netns <name>', 'the namespace the network is in')
    .option('--stop-timeout <ms>', 'how long the guest gets to power off on Ctrl-C', intOption(0, 3_600_000), 30_000)
    .option('--json', 'print the VM as JSON once it runs')
    .action(async (options: VmRunOptions) => {
      const vmOptions = vmRunOptions(options);
      const { VxlanNetwork } = await import('../network.js');
      const network = await VxlanNetwork.join({
        id: options.net,
        ...(options.bridge === undefined ? {} : { bridge: options.bridge }),
        ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
        ...(options.netns === undefined ? {} : { netns: options.netns }),
      });
      try {
        const v = await network.startVm(vmOptions);
        const info = { id: v.id, name: v.name, pid: v.pid, mac: v.mac, address: v.address, tap: v.tap, bridge: network.bridgeName };
        if (options.json) printJson(info);
        else {
          say(`${v.name} running (pid ${v.pid}) on ${v.tap} in ${network.bridgeName}, MAC ${v.mac}`);
          say(`address (SLAAC): ${v.address}`);
          say('press Ctrl-C to stop it');
        }
        const why = await untilSignal([v.exited]);
        if (why !== 'done') note(`${why}: stopping ${v.name}`);
        const exit = await v.stop({ timeoutMs: options.stopTimeout });
        const how = exit.signal ? `signal ${exit.signal}` : `code ${String(exit.code)}`;
        if (!options.json) say(`${v.name} exited (${exit.reason ?? how})`);
        // Ctrl-C: 130 once torn down. qemu ending by itself: 0 for a clean exit (the guest
        // powered off), 1 when qemu failed or was killed, so a supervisor sees the failure.
        if (why !== 'done') throw interrupted(why);
        if (exit.code !== 0) throw new CliError(`${v.name}: qemu exited with ${how}${exit.reason ? ` (${exit.reason})` : ''}`);
      } finally {
        await network.destroy({ timeoutMs: options.stopTimeout });
      }
    });
}
