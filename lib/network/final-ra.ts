/**
 * The final router advertisement of a network whose RAs another process sends (`vmplumb
 * serve` holds its RA lock), when this process destroys it. RFC 4861 §6.2.5: a router that
 * goes away sends a final RA with router lifetime 0, and it must leave before the bridge is
 * deleted, or it never leaves at all. The sender cannot know when that is, so the hand-over
 * goes through the RA lock (lib/state/network-record.ts):
 *
 * 1. destroy writes the record as 'destroying';
 * 2. the sender, following the records, drops the bridge without a final RA and frees the
 *    RA lock (ra-service.ts);
 * 3. destroy takes the RA lock (so nobody advertises the bridge again), sends the final RA
 *    itself with the recorded RA config, and only then deletes the links.
 *
 * The wait in step 3 ends on an event: the sender touches the lock file as it lets go
 * (inotify), or dies (pidfd). A sender that does not let go within `RA_LOCK_TIMEOUT_MS`
 * (hung) is not waited for longer: the final RA goes out anyway, before the links go.
 */
import type { FileLock } from '../state/lock.js';
import type { NetworkFiles, NetworkRecord } from '../state/network-record.js';
import type { AdvertiserRegistry } from './advertisers.js';
import type { NetworkDeps, NetworkStatePort } from './deps.js';

/** How long destroy waits for another sender to free the RA lock (it lets go at once, on inotify; its scan interval is 500 ms by default). */
export const RA_LOCK_TIMEOUT_MS = 3000;
/** How long the bridge may take to be ready for the final RA (a link-local address past DAD). */
export const FINAL_RA_READY_TIMEOUT_MS = 2000;

/**
 * Takes the network's RA lock, waiting up to `timeoutMs` for its holder to let go or die
 * (events, not polling: lib/state/lock-wait.ts); undefined when it did not. Rejects with
 * `signal.reason` when the signal fires first, holding nothing.
 */
export function waitForRaLock(
  state: NetworkStatePort,
  files: NetworkFiles,
  options: { timeoutMs?: number; signal?: AbortSignal | undefined } = {},
): Promise<FileLock | undefined> {
  const { timeoutMs = RA_LOCK_TIMEOUT_MS, signal } = options;
  return state.waitRa(files, { timeoutMs, ...(signal === undefined ? {} : { signal }) });
}

/** Sends the recorded network's final RA from this process; resolves whether it went out (rejects when the namespace is gone). */
export async function sendFinalRa(registry: AdvertiserRegistry, deps: NetworkDeps, record: NetworkRecord): Promise<boolean> {
  if (record.ra === false) return false;
  const netnsId = deps.netnsIdentity(record.netns);
  return registry.farewell(netnsId, record.netns, record.ra, deps.createAdvertiser, FINAL_RA_READY_TIMEOUT_MS);
}
