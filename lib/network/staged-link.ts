/**
 * How a recorded network makes its bridge and its vxlan so that no moment exists where a
 * link is in the kernel and cleanup could not prove it ours: the kernel ignores an alias in
 * the creating request, so the link is created (down) under its final name in the run
 * directory's creation group (IFLA_GROUP, lib/state/link-mark.ts creationGroup), then one
 * RTM_NEWLINK gives it its mark (alias) and the default group back while it is still down, and
 * a last one IFF_UP. A SIGKILL in between leaves an unmarked link of the creation group, which
 * cleanup removes with the network's record once the creator's manager lock is free
 * (./records.ts), or alone when no record names it (./orphan-links.ts), or a marked link that
 * is down, which cleanup removes by its mark.
 *
 * No rename: a link made under a temporary name and renamed (the previous scheme) costs a
 * synchronize_net() under RTNL per rename (netif_change_name: an expedited RCU grace period),
 * two per network, which on a loaded host made renames most of a bulk create's time.
 *
 * Why the mark is set while the link is down, at the cost of a third request: a change of the
 * alias (or of the group, or of the IPv6 address generation) of a link that is up makes the
 * kernel announce the link anew (NETDEV_CHANGE), and IPv6 answers that with a walk over every
 * route of the namespace (addrconf_notify: rt6_sync_up or rt6_sync_down_dev, fib6_clean_all),
 * several routes per network: O(networks) per link, O(networks²) for a bulk create. On a link
 * that is down there is no announcement. perf of the naming requests with 512 networks in the
 * namespace: the walk was ~20 % of their kernel time, bridge and vxlan alike (bench/FINDINGS.md).
 */
import type { AddrGenMode } from '../netlink/types.js';
import { crashPoint } from '../state/crash-point.js';
import type { NetlinkPort } from './deps.js';

/** One link of a network to make: its name, creation group and mark, and the creating request. */
export interface StagedLink {
  /** The link's name (br100, vxlan100). */
  name: string;
  /** The run directory's creation group (creationGroup), given to the creating request. */
  group: number;
  /** The network's mark (networkLinkMark). */
  alias: string;
  /** IPv6 address generation to set with the mark, before the link is up ('none' for a bridge port). */
  addrGenMode?: AddrGenMode;
  /** Sends the creating request for the link, down, in link group `group` (IFF_UP comes after the mark). */
  create(group: number): Promise<void>;
}

/**
 * Creates `link` in the creation group, marks it (down) in one request, then brings it up.
 * When the name is taken the create fails (EEXIST) and nothing is made. When the marking or
 * the up fails (a vxlan whose UDP port is taken: EADDRINUSE), the link, made by this create, is
 * deleted and the kernel's error is thrown.
 */
export async function createStagedLink(nl: NetlinkPort, link: StagedLink): Promise<void> {
  await link.create(link.group);
  crashPoint(`create ${link.name}: made in the creation group, not yet marked`);
  try {
    // The link's own name: nothing is renamed (the kernel returns before synchronize_net).
    await nl.renameLink(link.name, link.name, {
      alias: link.alias,
      linkGroup: 0,
      ...(link.addrGenMode === undefined ? {} : { addrGenMode: link.addrGenMode }),
    });
    crashPoint(`create ${link.name}: marked, not yet up`);
    await nl.setLink(link.name, { up: true });
  } catch (error) {
    // Made a moment ago by this create (the create would have failed on a name in use).
    await nl.deleteLink(link.name).catch(() => undefined);
    throw error;
  }
}
