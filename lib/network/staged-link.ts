/**
 * How a recorded network makes its bridge and its vxlan so that no moment exists where a
 * link is in the kernel and cleanup could not prove it ours: the kernel ignores an alias in
 * the creating request, so the link is created (down) under its staging name — itself a mark
 * of the network and run directory (lib/state/link-mark.ts) — and one RTM_NEWLINK then gives
 * it its final name, its mark (alias) and IFF_UP. A SIGKILL in between leaves a staged link,
 * which cleanup removes once the creator's manager lock is free (./orphan-links.ts,
 * ./records.ts). Two requests, as a create followed by the alias was.
 */
import { ERROR_CODES, VmplumbError } from '../errors.js';
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
  /** Sends the creating request for the link under `name`, down (IFF_UP comes with the final name). */
  create(name: string): Promise<void>;
}

/**
 * Creates `link` under its staging name, then names, marks and brings it up in one request.
 * When the naming fails (EEXIST: the final name is taken), the staged link is deleted and the
 * kernel's error is thrown: nothing is left, and the link of that name is not touched.
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
    await nl.renameLink(link.staging, link.name, { alias: link.alias, up: true });
  } catch (error) {
    // renameLink leaves a link it could not name under its staging name.
    await nl.deleteLink(link.staging).catch(() => undefined);
    throw error;
  }
}
