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
 *
 * The final RA needs the bridge "ready" in this process's RA namespace (lib/ra/interface-
 * tracker.ts: up, carrier, a link-local past DAD; the kernel refuses a tentative source,
 * ipv6_chk_addr() bans IFA_F_TENTATIVE). The wait for it is event-driven already, but when
 * the namespace's monitor is opened for the occasion, what it knows comes from its initial
 * link and address dumps, which take the rtnl lock: seconds on a loaded host, so the bound
 * is generous. A bridge with no carrier reaches nobody: no wait, no RA. Whatever happens is
 * reported (lib/diagnostics.ts: the `vmplumb:final-ra` channel, NODE_DEBUG, and a process
 * warning when a final RA that was due could not go out): never silently.
 */
import { debug, publishFinalRa, type FinalRaOutcome } from '../diagnostics.js';
import type { FileLock } from '../state/lock.js';
import type { NetworkFiles, NetworkRecord } from '../state/network-record.js';
import type { AdvertiserRegistry } from './advertisers.js';
import type { AdvertisedInterface } from './types.js';
import type { NetlinkPort, NetworkDeps, NetworkStatePort } from './deps.js';

/** How long destroy waits for another sender to free the RA lock (it lets go at once, on inotify; its scan interval is 500 ms by default). */
export const RA_LOCK_TIMEOUT_MS = 3000;
/**
 * How long the bridge may take to be ready for the final RA: the RA monitor's first link and
 * address dumps (rtnl lock) and, for a bridge that just got carrier, DAD of its link-local.
 * The timer runs from the farewell's start, dumps included: one rtnl request took up to 6.8 s
 * here at load 8 (`ip link show lo`), so 2 s was far too short at load 13–28. Only a bridge
 * with carrier that never gets a usable link-local (DAD failed, addr_gen_mode none) waits
 * this long; one with no carrier is not waited for at all.
 */
export const FINAL_RA_READY_TIMEOUT_MS = 30_000;

/** The warning code of a final RA that was due and could not go out (process.emitWarning). */
export const FINAL_RA_WARNING_CODE = 'VMPLUMB_FINAL_RA_NOT_SENT';

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

/**
 * Sends the recorded network's final RA from this process, unless RAs are off or the bridge
 * has no carrier (nobody to tell: no wait); reports the outcome (see above) and returns it.
 * Never rejects: a namespace or bridge that is gone is an 'error' outcome.
 */
export async function sendFinalRa(
  registry: AdvertiserRegistry,
  deps: NetworkDeps,
  record: NetworkRecord,
  nl?: Pick<NetlinkPort, 'getLink'>,
  timeoutMs = FINAL_RA_READY_TIMEOUT_MS,
): Promise<FinalRaOutcome> {
  const started = performance.now();
  let outcome: FinalRaOutcome;
  let error: Error | undefined;
  try {
    outcome = record.ra === false ? 'disabled' : await attempt(registry, deps, record, record.ra, nl, timeoutMs);
  } catch (e) {
    outcome = 'error';
    error = e instanceof Error ? e : new Error(String(e));
  }
  const message = { network: record.id, bridge: record.bridge, outcome, durationMs: performance.now() - started, ...(error ? { error } : {}) };
  publishFinalRa(message);
  debug('network %d: final RA on %s: %s (%d ms)%s', record.id, record.bridge, outcome, Math.round(message.durationMs), error ? `: ${error.message}` : '');
  if (outcome === 'not-ready' || outcome === 'error') {
    const why = outcome === 'not-ready' ? `the bridge was not ready within ${timeoutMs} ms` : error!.message;
    process.emitWarning(
      `network ${record.id}: no final RA (router lifetime 0) on ${record.bridge}: ${why}; its clients keep it as default router until the lifetime runs out`,
      {
        code: FINAL_RA_WARNING_CODE,
      },
    );
  }
  return outcome;
}

async function attempt(
  registry: AdvertiserRegistry,
  deps: NetworkDeps,
  record: NetworkRecord,
  ra: AdvertisedInterface,
  nl: Pick<NetlinkPort, 'getLink'> | undefined,
  timeoutMs: number,
): Promise<FinalRaOutcome> {
  if (nl) {
    const bridge = await nl.getLink(record.bridge);
    if (!bridge?.up || !bridge.carrier) return 'no-carrier';
  }
  const netnsId = deps.netnsIdentity(record.netns);
  return (await registry.farewell(netnsId, record.netns, ra, deps.createAdvertiser, timeoutMs)) ? 'sent' : 'not-ready';
}
