/**
 * Tap devices opened directly through /dev/net/tun (Documentation/networking/tuntap.rst).
 *
 * vmplumb opens the tap itself and hands qemu the file descriptors, instead of letting qemu
 * open it by name and run an ifup script: no script, no leftover tap (a non-persistent tap
 * vanishes with its last fd), and no fd leaking into other children (every fd is O_CLOEXEC;
 * the only way one reaches a child is spawn's stdio array, see ./qemu/).
 */
import { closeSync } from 'node:fs';

import { native } from './native.js';
import { resolveNetns, type NetnsOption } from './netns.js';
import { checkBoolean, checkIfname, checkInteger, checkObject, invalidValue } from './validate.js';

/** MAX_TAP_QUEUES in drivers/net/tun.c. */
export const MAX_TAP_QUEUES = 256;

/** Options of {@link openTap}. */
export interface TapOptions {
  /**
   * The interface name. Omitted: the kernel picks `tap%d`. A pattern with one `%d` is completed
   * by the kernel. A name already in use fails with EBUSY (IFF_TUN_EXCL), never attaches.
   */
  name?: string;
  /** Queues (IFF_MULTI_QUEUE when more than 1), one fd each; 1 to 256, default 1. */
  queues?: number;
  /** IFF_VNET_HDR: frames carry a virtio-net header (what qemu's virtio-net wants). Default true. */
  vnetHdr?: boolean;
  /** TUNSETPERSIST: the tap outlives its fds (remove it with `ip link del`). Default false. */
  persist?: boolean;
  /** TUNSETOWNER: the uid allowed to attach; untouched when omitted. */
  owner?: number;
  /** TUNSETGROUP: the gid allowed to attach; untouched when omitted. */
  group?: number;
  /** Create the tap in this network namespace (name, path or fd). Default: the current one. */
  netns?: NetnsOption;
}

/**
 * An open tap device. It owns its fds until `close()` or until a {@link Qemu} takes them over
 * (after which the tap lives exactly as long as qemu does).
 */
export class Tap {
  /** The kernel's name of the interface (`tap0` when the name was omitted). */
  readonly name: string;
  /** The interface index in the tap's namespace. */
  readonly index: number;
  /** The namespace the tap was made in, as given (undefined: the caller's). */
  readonly netns: NetnsOption | undefined;
  /** Whether the tap was made with IFF_VNET_HDR. */
  readonly vnetHdr: boolean;
  /** Whether the tap was made persistent. */
  readonly persist: boolean;
  #fds: number[];

  /** @internal Made by {@link openTap}. */
  constructor(init: { name: string; index: number; fds: number[]; netns: NetnsOption | undefined; vnetHdr: boolean; persist: boolean }) {
    this.name = init.name;
    this.index = init.index;
    this.#fds = init.fds;
    this.netns = init.netns;
    this.vnetHdr = init.vnetHdr;
    this.persist = init.persist;
  }

  /** The open fds, one per queue; empty once closed or handed to qemu. */
  get fds(): readonly number[] {
    return this.#fds;
  }

  /** The number of queues (fds) the tap was opened with. */
  get queues(): number {
    return this.#fds.length;
  }

  /** True once `close()` ran (or qemu took the fds over). */
  get closed(): boolean {
    return this.#fds.length === 0;
  }

  /**
   * Closes this process's fds (idempotent). A non-persistent tap then disappears, unless
   * another process (qemu) holds its own copies.
   */
  close(): void {
    const fds = this.#fds;
    this.#fds = [];
    for (const fd of fds) {
      try {
        closeSync(fd);
      } catch {
        // EBADF cannot happen for fds we own; nothing useful to do if it does.
      }
    }
  }

  /** `await using tap = openTap(…)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  /** Same as close(), for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Opens a tap: /dev/net/tun once per queue (O_CLOEXEC), TUNSETIFF with
 * IFF_TAP|IFF_NO_PI|IFF_TUN_EXCL (+IFF_VNET_HDR, +IFF_MULTI_QUEUE), then TUNSETOWNER,
 * TUNSETGROUP and TUNSETPERSIST when asked. Synchronous ioctls, returned as a promise for
 * symmetry with the rest of the API.
 *
 * @throws ERR_INVALID_ARG_* for bad options (before any syscall); a system error with `code`
 *   (EBUSY for a name in use, EPERM, …) and `syscall` ('TUNSETIFF', 'open', …) otherwise.
 */
export async function openTap(options: TapOptions = {}): Promise<Tap> {
  return openTapSync(options);
}

/** {@link openTap} without the promise (what the benchmark measures). */
export function openTapSync(options: TapOptions = {}): Tap {
  const o = checkObject('options', options);
  let name = '';
  if (o.name !== undefined) {
    // A pattern with one %d is the kernel's to complete (tap%d → tap0); checked as the name
    // with the number in place, so NUL, '/', ':' and the length are refused the same way.
    const patterns = typeof o.name === 'string' ? o.name.split('%').length - 1 : 0;
    if (patterns > 1 || (patterns === 1 && !(o.name as string).includes('%d'))) {
      throw invalidValue('name', 'an interface name or a pattern with one %d', o.name);
    }
    checkIfname('name', patterns === 1 ? (o.name as string).replace('%d', '0') : o.name);
    name = o.name as string;
  }
  const queues = o.queues === undefined ? 1 : checkInteger('queues', o.queues, 1, MAX_TAP_QUEUES);
  const vnetHdr = o.vnetHdr === undefined ? true : checkBoolean('vnetHdr', o.vnetHdr);
  const persist = o.persist === undefined ? false : checkBoolean('persist', o.persist);
  const owner = o.owner === undefined ? -1 : checkInteger('owner', o.owner, 0, 0xfffffffe);
  const group = o.group === undefined ? -1 : checkInteger('group', o.group, 0, 0xfffffffe);
  const netns = resolveNetns('netns', o.netns);

  const c = native.tunConstants;
  let flags = c.IFF_TAP | c.IFF_NO_PI | c.IFF_TUN_EXCL;
  if (vnetHdr) flags |= c.IFF_VNET_HDR;
  if (queues > 1) flags |= c.IFF_MULTI_QUEUE;
  const made = native.tunOpen({ name, flags, queues, persist, owner, group, netns });
  return new Tap({ ...made, netns: o.netns as NetnsOption | undefined, vnetHdr, persist });
}
