/**
 * `vmplumb net up --id 100 --dev eth0 --prefix 2a0a:e5c1:111:888::/64 [--rdnss …] [--dnssl …]`:
 * the reference network in the foreground (vxlan + bridge + router address + router
 * advertisements) until Ctrl-C, which tears it down (final RAs, links removed).
 */
import type { Command } from 'commander';

import type { VxlanNetworkOptions } from '../network/types.js';
import { copyDefined, interrupted, intOption, listOption, messageOf, note, printJson, say, untilSignal } from './common.js';

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

/** Registers `net` and `net up`. */
export function registerNet(program: Command): void {
  const net = program.command('net').description('VXLAN networks (vxlan<id> in bridge br<id> with router advertisements)');
  net
    .command('up')
    .description('make network <id> and keep it up in the foreground; Ctrl-C tears it down')
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
    .option('--no-ra', 'send no router advertisements')
    .option('--json', 'print the network as JSON once it is up')
    .action(async (options: NetUpOptions) => {
      const { VxlanNetwork } = await import('../network.js');
      const network = await VxlanNetwork.create(netUpOptions(options));
      network.on('ra-error', (error) => note(`vmplumb net up: router advertisements: ${messageOf(error)}`));
      const info = {
        id: network.id, vxlan: network.vxlanName, bridge: network.bridgeName, group: network.group ?? null,
        peers: options.peer ?? [], prefix: network.prefix, routerAddress: network.routerAddress, ra: options.ra,
      };
      if (options.json) printJson(info);
      else {
        const mode = network.group ? `group ${network.group}` : `unicast to ${(options.peer ?? []).join(', ')}`;
        say(`network ${network.id} up: ${network.vxlanName} (${mode}, dev ${options.dev}) in ${network.bridgeName}, ` +
          `router ${network.routerAddress}, ${options.ra ? `advertising ${network.prefix}` : 'no router advertisements'}`);
        say('press Ctrl-C to tear it down');
      }
      const signal = await untilSignal();
      note(`${signal}: tearing down network ${network.id}`);
      await network.destroy({ timeoutMs: 10_000 });
      if (!options.json) say(`network ${network.id} down`);
      throw interrupted(signal);
    });
}
