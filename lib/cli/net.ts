/**
 * `vmplumb net up --id 100 --dev eth0 --prefix 2a0a:e5c1:111:888::/64 [--rdnss …] [--dnssl …]`:
 * the reference network in the foreground (vxlan + bridge + router address + router
 * advertisements) until Ctrl-C, which tears it down (final RAs, links removed).
 */
import type { Command } from 'commander';

import type { VxlanNetworkOptions } from '../network/types.js';
import { copyDefined, interrupted, intOption, listOption, messageOf, note, printJson, runAndNetns, say, table, untilSignal } from './common.js';

/** The `net up` options passed through to the library unchanged (same name, same meaning). */
const PASSED_THROUGH = ['routerAddress', 'group', 'local', 'port', 'ttl', 'rdnss', 'dnssl', 'pref64', 'mtu'] as const;

/** The parsed `net up` command line (commander's camelCase names). */
type NetUpOptions = Pick<VxlanNetworkOptions, 'id' | 'prefix' | (typeof PASSED_THROUGH)[number]> & {
  dev: string;
  peer?: string[];
  netns?: string;
  ra: boolean;
  json?: boolean;
};

/** The library options a `net up` command line stands for (validated by the library). */
export function netUpOptions(o: NetUpOptions): VxlanNetworkOptions {
  const out: VxlanNetworkOptions = { id: o.id, underlay: o.dev, prefix: o.prefix };
  copyDefined(out, o, PASSED_THROUGH);
  if (o.peer !== undefined) out.peers = o.peer;
  if (o.netns !== undefined) out.netns = o.netns;
  if (!o.ra) out.ra = false;
  return out;
}

/** The options every network-making command takes (`net up`, `net create`). */
function networkOptions(command: Command): Command {
  return command
    .requiredOption('--id <n>', 'network id: the VNI and the N of vxlanN/brN', intOption(0, 16777215))
    .requiredOption('--dev <ifname>', 'underlay device, e.g. eth0')
    .requiredOption('--prefix <prefix>', 'the IPv6 /64 the VMs get their addresses from')
    .option('--router-address <address>', "the host's address on the bridge (default: the prefix's ::1)")
    .option('--group <address>', 'multicast group (default: ff05::<id>, as the reference scripts)')
    .option('--peer <addresses>', 'unicast mode: peer VTEP addresses instead of a group (repeatable, comma-separated)', listOption)
    .option('--local <address>', 'source address of the VXLAN packets')
    .option('--port <port>', 'VXLAN UDP port (default 4789)', intOption(1, 65535))
    .option('--ttl <ttl>', 'TTL of VXLAN packets (default 5)', intOption(1, 255))
    .option('--rdnss <addresses>', 'DNS servers to advertise (repeatable, comma-separated)', listOption)
    .option('--dnssl <domains>', 'search domains to advertise (repeatable, comma-separated)', listOption)
    .option('--pref64 <prefix>', 'NAT64 prefix to advertise, e.g. 64:ff9b::/96')
    .option('--mtu <bytes>', 'MTU of the vxlan and the bridge, also advertised', intOption(1280, 65535))
    .option('--netns <name>', 'work in this namespace (a name under /run/netns or a path)')
    .option('--no-ra', 'send no router advertisements');
}

/** Registers `net up|create|destroy|list`. */
export function registerNet(program: Command): void {
  const net = program.command('net').description('VXLAN networks (vxlan<id> in bridge br<id> with router advertisements)');
  networkOptions(net.command('create').description('make network <id> and record it; it stays after the command (RAs: vmplumb serve)'))
    .option('--run-dir <dir>', 'the run directory (default $VMPLUMB_RUN_DIR or /run/vmplumb)')
    .option('--json', 'print the network as JSON')
    .action(async (options: NetUpOptions & { runDir?: string }) => {
      const { VxlanNetwork } = await import('../network.js');
      const network = await VxlanNetwork.create({ ...netUpOptions(options), ...(options.runDir === undefined ? {} : { runDir: options.runDir }) });
      const info = { id: network.id, vxlan: network.vxlanName, bridge: network.bridgeName, prefix: network.prefix, routerAddress: network.routerAddress };
      // A handover: the network stays, no final RA; `vmplumb serve` advertises it from now on.
      await network.close();
      if (options.json) printJson(info);
      else say(`network ${network.id} created: ${network.vxlanName} in ${network.bridgeName}, router ${network.routerAddress}`);
    });
  net
    .command('destroy')
    .description('remove recorded network <id>: its VMs, final RAs, links and record')
    .requiredOption('--id <n>', 'network id', intOption(0, 16777215))
    .option('--netns <name>', 'the namespace it is in')
    .option('--timeout <ms>', 'how long each VM gets to power off', intOption(1, 3_600_000), 30_000)
    .option('--run-dir <dir>', 'the run directory (default $VMPLUMB_RUN_DIR or /run/vmplumb)')
    .action(async (options: { id: number; netns?: string; timeout: number; runDir?: string }) => {
      const { VxlanNetwork } = await import('../network.js');
      const network = await VxlanNetwork.open({ id: options.id, ...runAndNetns(options) });
      await network.destroy({ timeoutMs: options.timeout });
      say(`network ${options.id} destroyed`);
    });
  net
    .command('list')
    .description('every recorded network, checked against the kernel')
    .option('--run-dir <dir>', 'the run directory (default $VMPLUMB_RUN_DIR or /run/vmplumb)')
    .option('--json', 'print JSON')
    .action(async (options: { runDir?: string; json?: boolean }) => {
      const { VxlanNetwork } = await import('../network.js');
      const entries = await VxlanNetwork.list(options.runDir === undefined ? {} : { runDir: options.runDir });
      if (options.json) printJson(entries);
      else {
        say(
          table([
            ['ID', 'NETNS', 'CONDITION', 'MANAGED', 'RA', 'PREFIX', 'VMS', 'PROBLEMS'],
            ...entries.map((e) => [
              String(e.id),
              e.netns ?? '-',
              e.condition,
              e.managed ? 'yes' : 'no',
              e.advertised ? 'yes' : 'no',
              e.prefix ?? '-',
              e.vms.map((v) => `${v.name}(${v.state})`).join(',') || '-',
              e.problems.join('; ') || '-',
            ]),
          ]),
        );
      }
    });
  networkOptions(net.command('up').description('make network <id> and keep it up in the foreground; Ctrl-C tears it down'))
    .option('--json', 'print the network as JSON once it is up')
    .action(async (options: NetUpOptions) => {
      const { VxlanNetwork } = await import('../network.js');
      const network = await VxlanNetwork.create(netUpOptions(options));
      network.on('ra-error', (error) => note(`vmplumb net up: router advertisements: ${messageOf(error)}`));
      const info = {
        id: network.id,
        vxlan: network.vxlanName,
        bridge: network.bridgeName,
        group: network.group ?? null,
        peers: options.peer ?? [],
        prefix: network.prefix,
        routerAddress: network.routerAddress,
        ra: options.ra,
      };
      if (options.json) printJson(info);
      else {
        const mode = network.group ? `group ${network.group}` : `unicast to ${(options.peer ?? []).join(', ')}`;
        say(
          `network ${network.id} up: ${network.vxlanName} (${mode}, dev ${options.dev}) in ${network.bridgeName}, ` +
            `router ${network.routerAddress}, ${options.ra ? `advertising ${network.prefix}` : 'no router advertisements'}`,
        );
        say('press Ctrl-C to tear it down');
      }
      const signal = await untilSignal();
      note(`${signal}: tearing down network ${network.id}`);
      await network.destroy({ timeoutMs: 10_000 });
      if (!options.json) say(`network ${network.id} down`);
      throw interrupted(signal);
    });
}
