/**
 * The `netns` option every resource takes: a name as `ip netns` knows it (/run/netns/NAME),
 * a path to a namespace file (/proc/PID/ns/net), or an open file descriptor.
 */
import { hasControlCharacter, invalidType, invalidValue } from './validate.js';

/** A network namespace: a name under /run/netns, a path, or an open fd. */
export type NetnsOption = string | number;

/** Where `ip netns add` puts named namespaces. */
export const NETNS_RUN_DIR = '/run/netns';

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
  return value.includes('/') ? value : `${NETNS_RUN_DIR}/${value}`;
}
