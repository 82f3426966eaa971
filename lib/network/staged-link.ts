/**
 * How a recorded network makes its bridge and its vxlan so that no moment exists where a
 * link is in the kernel and cleanup could not prove it ours: the kernel ignores an alias in
 * the creating request, so the link is created (down) under its staging name — itself a mark
 * of the network and run directory (lib/state/link-mark.ts) — then one RTM_NEWLINK gives it
 * its final name and its mark (alias) while it is still down, and a last one IFF_UP. A SIGKILL
 * in between leaves a staged link, which cleanup removes once the creator's manager lock is
 * free (./orphan-links.ts, ./records.ts), or a named, marked link that is down, which cleanup
 * removes by its mark.
 *
 * Why the mark is set while the link is down, at the cost of a third request: a change of the
 * alias (or of the IPv6 address generation) of a link that is up makes the kernel announce the
 * link anew (NETDEV_CHANGE), and IPv6 answers that with a walk over every route of the
 * namespace (addrconf_notify: rt6_sync_up or rt6_sync_down_dev, fib6_clean_all), several routes
 * per network: O(networks) per link, O(networks²) for a bulk create. On a link that is down
 * there is no announcement. perf of the naming requests with 512 networks in the namespace:
 * the walk was ~20 % of their kernel time, bridge and vxlan alike (bench/FINDINGS.md).
 */
import { ERROR_CODES, VmplumbError } from '../errors.js';
import type { AddrGenMode } from '../netlink/types.js';
import { crashPoint } from '../state/crash-point.js';
import type { NetlinkPort } from './deps.js';

/** One link of a network to make: its final name, its staging name and mark, and the creating request. */
export interface StagedLink {
  /** The final name (br100, vxlan100). */
  name: string;
  /** The staging name (stagingLinkName). */
  staging: string;
  /** The network's mark (networkLinkMark), set with the final name. */
  alias: string;
  /** IPv6 address generation to set with the final name, before the link is up ('none' for a bridge port). */
  addrGenMode?: AddrGenMode;
  /** Sends the creating request for the link under `name`, down (IFF_UP comes after the final name). */
  create(name: string): Promise<void>;
}

/**
 * Creates `link` under its staging name, names and marks it (down) in one request, then brings
 * it up. When the naming fails (EEXIST: the final name is taken), the staged link is deleted and
 * the kernel's error is thrown: nothing is left, and the link of that name is not touched. When
 * the link cannot come up (a vxlan whose UDP port is taken: EADDRINUSE), the link, named and
 * marked by now, is deleted and the kernel's error is thrown.
 */
export async function createStagedLink(nl: NetlinkPort, link: StagedLink): Promise<void> {
  await link.create(link.staging).catch((error: unknown) => {
    if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
    // Not ours to delete here: another create of the network may be at work under another
    // path of the namespace; one that died is cleanup's (it proves the creator gone).
    throw new VmplumbError(
      ERROR_CODES.EXISTS,
      `${link.staging} (the staging name of ${link.name}) exists: another create of this network is at work, or one was killed before naming it (VxlanNetwork.cleanup(), \`vmplumb gc\`, removes it then)`,
      { cause: error },
    );
  });
  crashPoint(`create ${link.name}: made as ${link.staging}, not yet named`);
  try {
    await nl.renameLink(link.staging, link.name, { alias: link.alias, ...(link.addrGenMode === undefined ? {} : { addrGenMode: link.addrGenMode }) });
  } catch (error) {
    // renameLink leaves a link it could not name under its staging name.
    await nl.deleteLink(link.staging).catch(() => undefined);
    throw error;
  }
  crashPoint(`create ${link.name}: named and marked, not yet up`);
  try {
    await nl.setLink(link.name, { up: true });
  } catch (error) {
    // Named and marked a moment ago by this create: its own to remove.
    await nl.deleteLink(link.name).catch(() => undefined);
    throw error;
  }
}
