/**
 * The host-wide commands of the daemonless design (docs/ARCHITECTURE.md, "State on disk"):
 *
 * - `vmplumb serve`: the router-advertisement service for every recorded network that no
 *   other process advertises (lib/network/ra-service.ts); SIGTERM/SIGINT hand over (no final
 *   RA), so `systemctl restart` never costs a client its default route. Unit file:
 *   systemd/vmplumb-serve.service.
 * - `vmplumb gc`: VxlanNetwork.cleanup(): removes what crashed processes left half-made,
 *   including marked links of unrecorded networks (`--netns` adds namespaces to look in).
 */
import type { Command } from 'commander';

import { netnsOfKey } from '../netns.js';
import { intOption, listOption, messageOf, note, printJson, say, untilSignal } from './common.js';

/** Registers `serve` and `gc`. */
export function registerHost(program: Command): void {
  program
    .command('serve')
    .description('send the router advertisements of every recorded network; safe to restart at any time')
    .option('--run-dir <dir>', 'the run directory (default $VMPLUMB_RUN_DIR or /run/vmplumb)')
    .option('--interval <ms>', 'how often to look for new, removed and released networks', intOption(50, 60_000), 500)
    .action(async (options: { runDir?: string; interval: number }) => {
      const { RaService } = await import('../network/ra-service.js');
      const { RouterAdvertiser } = await import('../ra/index.js');
      const service = new RaService(
        { ...(options.runDir === undefined ? {} : { runDir: options.runDir }), intervalMs: options.interval },
        (o) => new RouterAdvertiser(o),
      );
      service.on('serve', (n) =>
        note(`vmplumb serve: advertising network ${n.id} on ${n.bridge}${netnsOfKey(n.netnsKey) === undefined ? '' : ` in ${n.netnsKey}`}`),
      );
      service.on('unserve', (n) => note(`vmplumb serve: network ${n.id} ${n.final ? 'removed (final RAs sent)' : 'handed over'}`));
      service.on('error', (error) => note(`vmplumb serve: ${messageOf(error)}`));
      await service.start();
      note(`vmplumb serve: watching ${service.runDir}`);
      const signal = await untilSignal();
      note(`vmplumb serve: ${signal}: handing over (no final RA)`);
      await service.stop({ final: false });
    });
  program
    .command('gc')
    .description('remove what crashed processes left half-made (VM folders with no qemu, half-made networks); never a running VM')
    .option('--run-dir <dir>', 'the run directory (default $VMPLUMB_RUN_DIR or /run/vmplumb)')
    .option('--netns <names>', 'also look for marked links of unrecorded networks in these namespaces (repeatable, comma-separated)', listOption)
    .option('--json', 'print JSON')
    .action(async (options: { runDir?: string; netns?: string[]; json?: boolean }) => {
      const { VxlanNetwork } = await import('../network.js');
      const report = await VxlanNetwork.cleanup({
        ...(options.runDir === undefined ? {} : { runDir: options.runDir }),
        ...(options.netns === undefined ? {} : { netns: options.netns }),
      });
      if (options.json) printJson(report);
      else {
        say(`removed ${report.vms.length} VM folder(s)${report.vms.length ? `: ${report.vms.join(', ')}` : ''}`);
        say(`removed ${report.networks.length} half-made network(s)${report.networks.length ? `: ${report.networks.join(', ')}` : ''}`);
        say(`removed ${report.links.length} link(s) of unrecorded networks${report.links.length ? `: ${report.links.join(', ')}` : ''}`);
        say(`removed ${report.guards.length} guard(s) of gone ports${report.guards.length ? `: ${report.guards.join(', ')}` : ''}`);
      }
    });
}
