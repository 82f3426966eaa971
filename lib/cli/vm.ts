/**
 * `vmplumb vm run --net 100 --id 1 --cdrom alpine.iso --memory 1024 --cpus 2`: a VM in network
 * 100 in the foreground. The network is found by its bridge, br<net>, as `vmplumb net up` (or
 * the reference script) made it in the same namespace; the prefix is read from the bridge's
 * global /64 address. Ctrl-C stops the VM (ACPI power-off, then kill) and removes its tap.
 */
import type { Command } from 'commander';

import type { StartVmOptions } from '../network/types.js';
import { CliError, copyDefined, intOption, listOption, note, printJson, say, untilSignal } from './common.js';

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
  accel?: 'kvm' | 'tcg' | 'auto';
  mac?: string;
  uuid?: string;
  serial?: string;
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
  if (o.disk !== undefined) out.disks = o.disk;
  if (o.serial !== undefined) out.serial = { file: o.serial };
  return out;
}

/** Registers `vm` and `vm run`. */
export function registerVm(program: Command): void {
  const vm = program.command('vm').description('VMs in a network');
  vm
    .command('run')
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
    .option('--mac <mac>', 'the NIC\'s MAC (default: from the id)')
    .option('--uuid <uuid>', 'SMBIOS UUID')
    .option('--serial <file>', 'write the serial console to this file')
    .option('--bridge <name>', 'the network\'s bridge (default br<net>)')
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
        if (!options.json) say(`${v.name} exited (${exit.reason ?? (exit.signal ? `signal ${exit.signal}` : `code ${String(exit.code)}`)})`);
      } finally {
        await network.destroy({ timeoutMs: options.stopTimeout });
      }
    });
}
