/**
 * `vmplumb links [--json] [--kind KIND] [--netns NS]`: the links of a namespace as rtnetlink
 * reports them, like `ip -br link` with the kind and the master's name.
 */
import type { Command } from 'commander';

import type { Link } from '../netlink/types.js';
import { printJson, say, table } from './common.js';

interface LinksOptions {
  json?: boolean;
  kind?: string;
  netns?: string;
}

/** Registers the command. */
export function registerLinks(program: Command): void {
  program
    .command('links')
    .description('list the links of a namespace (name, kind, state, MTU, MAC, master)')
    .option('--json', 'print JSON (the Link objects of the library)')
    .option('--kind <kind>', "only links of this kind ('vxlan', 'bridge', 'tun', 'veth', …)")
    .option('--netns <name>', 'the namespace to look in (a name under /run/netns or a path)')
    .action(async (options: LinksOptions) => {
      const { Netlink } = await import('../netlink/index.js');
      const nl = await Netlink.open(options.netns === undefined ? {} : { netns: options.netns });
      try {
        // All of them, also with --kind: the MASTER column names bridges of other kinds.
        const all = await nl.listLinks();
        const links = options.kind === undefined ? all : all.filter((l) => l.kind === options.kind);
        if (options.json) {
          printJson(links);
          return;
        }
        say(formatLinks(links, all));
      } finally {
        await nl.close();
      }
    });
}

/** The human table. */
export function formatLinks(links: Link[], all: Link[] = links): string {
  const byIndex = new Map(all.map((l) => [l.index, l.name]));
  const rows = [['INDEX', 'NAME', 'KIND', 'STATE', 'MTU', 'MAC', 'MASTER']];
  for (const l of links) {
    rows.push([
      String(l.index),
      l.name,
      l.kind ?? '-',
      l.operstate.toUpperCase(),
      String(l.mtu),
      l.mac ?? '-',
      l.master === undefined ? '-' : (byIndex.get(l.master) ?? String(l.master)),
    ]);
  }
  return table(rows);
}
