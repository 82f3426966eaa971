/**
 * The `netns` option every resource takes: a name as `ip netns` knows it (/run/netns/NAME),
 * a path to a namespace file (/proc/PID/ns/net), or an open file descriptor; and the one
 * identity of a namespace, whichever of these names it.
 */
import { fstatSync, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';

import { SystemCallError } from './errors.js';
import { hasControlCharacter, invalidType, invalidValue } from './validate.js';

/** A network namespace: a name under /run/netns, a path, or an open fd. */
export type NetnsOption = string | number;

/** Where `ip netns add` puts named namespaces. */
export const NETNS_RUN_DIR = '/run/netns';

/** The last namespace name resolveNetns made a path of. */
let lastName = { name: '', path: '' };

/**
 * Resolves the option into what the addon takes: undefined (the current namespace), a path,
 * or an fd. Throws ERR_INVALID_ARG_* naming `field` for anything else.
 */
export function resolveNetns(field: string, value: unknown): string | number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) throw invalidValue(field, 'a namespace name, path or fd', value);
    return value;
  }
  if (typeof value !== 'string') throw invalidType(field, 'a namespace name, path or fd', value);
  if (value.length === 0 || value === '.' || value === '..') throw invalidValue(field, 'a namespace name, path or fd', value);
  // open(2) stops at a NUL: 'A\0x' would open namespace A.
  if (value.includes('\0')) throw invalidValue(field, 'a namespace name or path without NUL bytes', value, 'a NUL would cut it short');
  if (!value.includes('/') && hasControlCharacter(value)) throw invalidValue(field, 'a namespace name without control characters', value);
  if (value.includes('/')) return value;
  // The networks of a namespace share one string for its path, not one (or two) each.
  if (value !== lastName.name) lastName = { name: value, path: `${NETNS_RUN_DIR}/${value}` };
  return lastName.path;
}

/** The run directory's key for the current namespace (its folder is `host`, lib/state/run-dir.ts). */
export const CURRENT_NETNS_KEY = 'current';

/**
 * The key of a namespace in the run directory: its resolved path, or {@link CURRENT_NETNS_KEY}.
 * The run directory names namespaces by path (a folder a reader understands, what `list()`
 * reports); what is shared in memory is keyed by {@link netnsIdentity} instead.
 */
export function netnsKeyOf(resolved: string | number | undefined): string {
  return resolved === undefined ? CURRENT_NETNS_KEY : String(resolved);
}

/** The namespace a run-directory key names, as the `netns` option takes it (undefined: the current one). */
export function netnsOfKey(key: string): string | undefined {
  return key === CURRENT_NETNS_KEY ? undefined : key;
}

/** The namespace file of the calling thread (what `netns: undefined` means). */
const CURRENT_NETNS = '/proc/thread-self/ns/net';

/**
 * The identity of a namespace, `"dev:ino"` of its nsfs file: the same for every name, path or
 * fd that reaches it (/run/netns/x, /proc/PID/ns/net of a process in x, an fd opened on
 * either). What is shared per namespace in memory (the advertisers and rtnetlink connections
 * of lib/network, the RA sockets of lib/ra) is keyed by it, so two paths to one namespace
 * share one. The run directory keeps the path instead: a folder name a reader understands,
 * which outlives the namespace. An identity means one namespace only while something holds
 * that namespace open (the kernel reuses nsfs inodes): key only things that do, such as
 * sockets in it.
 *
 * @param netns the `netns` option (resolved or not); undefined is the current namespace.
 * @throws SystemCallError (ENOENT, EBADF...) naming the namespace when it cannot be stat'ed.
 */
export function netnsIdentity(netns: NetnsOption | undefined): string {
  const resolved = resolveNetns('netns', netns);
  try {
    const st = resolved === undefined ? statSync(CURRENT_NETNS) : typeof resolved === 'number' ? fstatSync(resolved) : statSync(resolved);
    return `${st.dev}:${st.ino}`;
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const name = String(resolved ?? CURRENT_NETNS);
    const failure = new SystemCallError(e.errno ?? osConstants.errno.EIO, e.syscall ?? 'stat', name, undefined, { cause: error });
    failure.message = `cannot open network namespace ${name}: ${failure.code}: ${e.message}`;
    throw failure;
  }
}
