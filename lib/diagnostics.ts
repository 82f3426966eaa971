/**
 * What the library lets an operator see of its work, with Node's own tools and no dependency:
 *
 * - `NODE_DEBUG=vmplumb` prints the decisions it takes on its own (util.debuglog): the KVM →
 *   TCG fallback, a leftover tap removed, an event stream re-dumped after ENOBUFS, …
 * - The tracing channel `vmplumb:netlink` (node:diagnostics_channel, the TracingChannel
 *   convention undici uses for HTTP) sees every rtnetlink request: `start` when it is queued,
 *   then `error` (with the NetlinkError) and `asyncEnd` when the kernel has answered. The
 *   message is a {@link NetlinkRequestMessage}. With no subscriber a request pays one boolean
 *   check.
 *
 * ```ts
 * import diagnostics_channel from 'node:diagnostics_channel';
 * diagnostics_channel.tracingChannel('vmplumb:netlink').subscribe({
 *   asyncEnd: (m) => console.log(m.operation, m.object, m.durationMs, m.error?.code ?? 'ok'),
 *   start() {}, end() {}, asyncStart() {}, error() {},
 * });
 * ```
 *
 * - The channel `vmplumb:final-ra` (diagnostics_channel) tells how each final router
 *   advertisement of a destroyed network ended: a {@link FinalRaMessage}. A final RA that was
 *   due and did not go out is also a process warning (code `VMPLUMB_FINAL_RA_NOT_SENT`).
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { debuglog } from 'node:util';

/** `util.debuglog('vmplumb')`: prints only when NODE_DEBUG contains `vmplumb`. */
export const debug = debuglog('vmplumb');

/** The name of the tracing channel for netlink requests. */
export const NETLINK_TRACING_CHANNEL = 'vmplumb:netlink';

/** The message published on the `vmplumb:netlink` tracing channel for one request. */
export interface NetlinkRequestMessage {
  /** The API call ('createVxlan', 'deleteLinks', …). */
  operation: string;
  /** The object it is about ('vxlan100'), when there is one. */
  object: string | undefined;
  /** The rtnetlink message type (RTM_NEWLINK = 16, …). */
  type: number;
  /** Milliseconds from queueing to the kernel's answer; set before `asyncEnd`. */
  durationMs?: number;
  /** Negative errno when the kernel refused (as NetlinkError.errno); set before `error`. */
  errno?: number;
  /** The errno's name ('EEXIST'); set before `error`. */
  code?: string;
  /** The error the caller's promise rejects with; set before `error`. */
  error?: Error;
}

const netlinkChannel = diagnostics_channel.tracingChannel<unknown, NetlinkRequestMessage>(NETLINK_TRACING_CHANNEL);

/** True when anyone listens to the netlink tracing channel (checked per request). */
export function netlinkTraced(): boolean {
  return netlinkChannel.start.hasSubscribers || netlinkChannel.asyncEnd.hasSubscribers || netlinkChannel.error.hasSubscribers;
}

/**
 * Publishes one request on the tracing channel: `start` now, `error` and `asyncEnd` when
 * `settled` settles. The returned promise settles as `settled` does, after the publication
 * (a caller that leaves a rejection unhandled still sees it reported as unhandled).
 */
export function traceNetlinkRequest<T>(message: NetlinkRequestMessage, settled: Promise<T>): Promise<T> {
  const started = performance.now();
  netlinkChannel.start.publish(message);
  return settled.then(
    (value) => {
      message.durationMs = performance.now() - started;
      netlinkChannel.asyncEnd.publish(message);
      return value;
    },
    (error: unknown) => {
      message.durationMs = performance.now() - started;
      if (error instanceof Error) {
        message.error = error;
        const { errno, code } = error as Error & { errno?: unknown; code?: unknown };
        if (typeof errno === 'number') message.errno = errno;
        if (typeof code === 'string') message.code = code;
      }
      netlinkChannel.error.publish(message);
      netlinkChannel.asyncEnd.publish(message);
      throw error;
    },
  );
}

/** The name of the channel that reports final RAs (lib/network/final-ra.ts). */
export const FINAL_RA_CHANNEL = 'vmplumb:final-ra';

/**
 * How a network's final RA ended: `sent`; `no-carrier` (the bridge is down or has no port
 * up: nobody to tell, not sent and not waited for); `disabled` (the network sends no RAs);
 * `not-ready` (the bridge never became ready to send from: not sent); `error` (not sent).
 */
export type FinalRaOutcome = 'sent' | 'no-carrier' | 'disabled' | 'not-ready' | 'error';

/** The message published on `vmplumb:final-ra`. */
export interface FinalRaMessage {
  /** The network's id (VNI). */
  network: number;
  /** Its bridge. */
  bridge: string;
  /** How it ended (see {@link FinalRaOutcome}). */
  outcome: FinalRaOutcome;
  /** Milliseconds the attempt took (the wait for the bridge included). */
  durationMs: number;
  /** Why, for `error`. */
  error?: Error;
}

const finalRaChannel = diagnostics_channel.channel(FINAL_RA_CHANNEL);

/** Publishes one final RA outcome on `vmplumb:final-ra`. */
export function publishFinalRa(message: FinalRaMessage): void {
  if (finalRaChannel.hasSubscribers) finalRaChannel.publish(message);
}
