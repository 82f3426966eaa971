/**
 * The kernel limits a host of many networks runs into, turned into errors that name them.
 *
 * Multicast memberships of the VXLAN socket: every vxlan of a namespace on one UDP port shares
 * one kernel socket, and each distinct IPv6 group it joins (ipv6_sock_mc_join) is a
 * `struct ipv6_mc_socklist` charged to that socket's option memory (sock_kmalloc), which
 * `net.core.optmem_max` caps (per namespace since Linux 6.9; 131072 bytes by default, 56
 * bytes a membership: 2,340 groups). Past it, bringing a vxlan up fails with ENOMEM, which
 * says nothing of the cause. Unicast networks (`peers`) join no group.
 */
import { ERROR_CODES, VmplumbError } from '../errors.js';

/** A kernel limit stopped a set-up: `limit` names the knob (a sysctl), `cause` is the kernel's error. */
export class KernelLimitError extends VmplumbError {
  /** The sysctl that caps it ('net.core.optmem_max'). */
  readonly limit: string;

  constructor(limit: string, message: string, cause: unknown) {
    super(ERROR_CODES.UNSUPPORTED, message, { cause });
    this.name = 'KernelLimitError';
    this.limit = limit;
  }
}

/** Bytes of option memory one IPv6 multicast membership costs (sizeof(struct ipv6_mc_socklist) on x86-64). */
export const MULTICAST_MEMBERSHIP_BYTES = 56;

/** The error for a vxlan whose group could not be joined, or `error` itself when that is not what happened. */
export function explainVxlanFailure(error: unknown, group: string | undefined, port: number): unknown {
  if (group === undefined || (error as { code?: unknown } | undefined)?.code !== 'ENOMEM') return error;
  return new KernelLimitError(
    'net.core.optmem_max',
    `the VXLAN socket of UDP port ${port} cannot join multicast group ${group}: ENOMEM, the namespace's ` +
      `net.core.optmem_max caps its multicast group memberships (${MULTICAST_MEMBERSHIP_BYTES} bytes each: ` +
      `2340 groups at the default 131072 bytes). Raise net.core.optmem_max in this namespace, use unicast ` +
      'peers, or spread the networks over namespaces or ports',
    error,
  );
}
