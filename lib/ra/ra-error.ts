/**
 * The router advertiser's one error shape: a {@link SystemCallError} (`code` 'ENETDOWN',
 * negative `errno`, `syscall` 'sendmsg') that names the interface it concerns. A failure of the
 * namespace's shared socket or monitor arrives as an RaError too, without an interface, with
 * the original error as `cause`.
 */
import { constants as osConstants } from 'node:os';

import { SystemCallError } from '../errors.js';

/** A send, membership or monitor failure of a RouterAdvertiser (its 'error' event). */
export class RaError extends SystemCallError {
  /** The interface the error concerns; absent for the namespace-wide socket or monitor. */
  readonly interface?: string;

  /**
   * @param errno The errno, either sign (ENETDOWN or -ENETDOWN).
   * @param syscall The failing call ('sendmsg', 'setsockopt').
   * @param iface The interface, when the failure concerns one.
   * @param detail What the call was about ('IPV6_ADD_MEMBERSHIP ff02::2 ifindex 7').
   */
  constructor(errno: number, syscall: string, iface?: string, detail?: string, options?: { cause?: unknown }) {
    super(errno, syscall, iface, detail, options);
    this.name = 'RaError';
    if (iface !== undefined) this.interface = iface;
  }

  /**
   * A namespace-level failure as an RaError: its errno and syscall when it has them (a
   * NetlinkError from the monitor, a system error from the socket), EIO otherwise; its message
   * kept, the error itself as `cause`.
   */
  static from(error: unknown): RaError {
    if (error instanceof RaError) return error;
    const e = (error ?? {}) as { errno?: unknown; syscall?: unknown; message?: unknown };
    const errno = typeof e.errno === 'number' && e.errno !== 0 ? e.errno : osConstants.errno.EIO;
    const syscall = typeof e.syscall === 'string' ? e.syscall : 'recvmsg';
    const wrapped = new RaError(errno, syscall, undefined, undefined, { cause: error });
    if (typeof e.message === 'string') wrapped.message = e.message;
    return wrapped;
  }
}
