/**
 * Argument validation shared by every module: precise messages that name the field and the
 * value, with Node's error codes, thrown before anything reaches the kernel.
 *
 * Messages follow one pattern: `Expected "vni" to be an integer from 0 to 16777215, got 16777216`.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** A TypeError/RangeError carrying one of Node's argument error codes. */
export type ArgumentError = (TypeError | RangeError) & {
  code: 'ERR_INVALID_ARG_TYPE' | 'ERR_INVALID_ARG_VALUE' | 'ERR_OUT_OF_RANGE';
};

/** Renders a value for an error message the way Node does: strings quoted, others inspected. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') {
    try {
      return JSON.stringify(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}

function withCode<E extends TypeError | RangeError>(error: E, code: ArgumentError['code']): ArgumentError {
  Object.defineProperty(error, 'code', { value: code, enumerable: true, configurable: true, writable: true });
  return error as unknown as ArgumentError;
}

/** `ERR_INVALID_ARG_TYPE`: `Expected "field" to be <expected>, got <value>`. */
export function invalidType(field: string, expected: string, value: unknown): ArgumentError {
  return withCode(new TypeError(`Expected "${field}" to be ${expected}, got ${describe(value)}`), 'ERR_INVALID_ARG_TYPE');
}

/** `ERR_INVALID_ARG_VALUE`: `Expected "field" to be <expected>, got <value>` (+ why). */
export function invalidValue(field: string, expected: string, value: unknown, why?: string): ArgumentError {
  const tail = why ? `: ${why}` : '';
  return withCode(new TypeError(`Expected "${field}" to be ${expected}, got ${describe(value)}${tail}`), 'ERR_INVALID_ARG_VALUE');
}

/** `ERR_OUT_OF_RANGE`: `Expected "field" to be <expected>, got <value>`. */
export function outOfRange(field: string, expected: string, value: unknown): ArgumentError {
  return withCode(new RangeError(`Expected "${field}" to be ${expected}, got ${describe(value)}`), 'ERR_OUT_OF_RANGE');
}

/** An integer in [min, max]; a non-number is a type error, a fraction or out-of-range value a range error. */
export function checkInteger(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') throw invalidType(field, `an integer from ${min} to ${max}`, value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw outOfRange(field, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

/** A finite number in [min, max] (fractions allowed, e.g. RA intervals in seconds). */
export function checkNumber(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || Number.isNaN(value)) throw invalidType(field, `a number from ${min} to ${max}`, value);
  if (!Number.isFinite(value) || value < min || value > max) throw outOfRange(field, `a number from ${min} to ${max}`, value);
  return value;
}

/** A boolean. */
export function checkBoolean(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidType(field, 'a boolean', value);
  return value;
}

/** A non-empty string. */
export function checkString(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw invalidType(field, 'a non-empty string', value);
  return value;
}

/** A plain object (an options bag). */
export function checkObject(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidType(field, 'an object', value);
  return value as Record<string, unknown>;
}

/** IFNAMSIZ is 16 with the terminating NUL (include/uapi/linux/if.h). */
export const IFNAMSIZ = 16;

/**
 * An interface name as the kernel accepts it (net/core/dev.c dev_valid_name): 1–15 bytes,
 * no '/', ':' or whitespace, not '.' or '..'.
 */
export function checkIfname(field: string, value: unknown): string {
  if (typeof value !== 'string') throw invalidType(field, 'an interface name (1-15 bytes)', value);
  const bytes = Buffer.byteLength(value);
  if (bytes === 0 || bytes >= IFNAMSIZ) throw invalidValue(field, 'an interface name of 1 to 15 bytes', value);
  if (value === '.' || value === '..') throw invalidValue(field, 'an interface name other than "." and ".."', value);
  if (/[/:\s]/u.test(value)) throw invalidValue(field, "an interface name without '/', ':' or whitespace", value);
  return value;
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/iu;

/** A MAC address `aa:bb:cc:dd:ee:ff`, returned in lower case. */
export function checkMac(field: string, value: unknown): string {
  if (typeof value !== 'string' || !MAC_RE.test(value)) throw invalidValue(field, 'a MAC address like 02:00:00:00:00:01', value);
  return value.toLowerCase();
}

/** A unicast MAC (the group bit, bit 0 of the first octet, clear) and not all zeros. */
export function checkUnicastMac(field: string, value: unknown): string {
  const mac = checkMac(field, value);
  if (parseInt(mac.slice(0, 2), 16) & 1) throw invalidValue(field, 'a unicast MAC address', value, 'the multicast bit is set');
  if (mac === '00:00:00:00:00:00') throw invalidValue(field, 'a unicast MAC address', value, 'all zeros');
  return mac;
}

/** An IPv6 address (no prefix length, no zone). */
export function checkIPv6(field: string, value: unknown): string {
  if (typeof value !== 'string' || !isIPv6(value)) throw invalidValue(field, 'an IPv6 address', value);
  return value;
}

/** An IPv4 address. */
export function checkIPv4(field: string, value: unknown): string {
  if (typeof value !== 'string' || !isIPv4(value)) throw invalidValue(field, 'an IPv4 address', value);
  return value;
}

/** An IPv4 or IPv6 address; returns its family. */
export function checkIP(field: string, value: unknown): { address: string; family: 4 | 6 } {
  if (typeof value === 'string') {
    if (isIPv6(value)) return { address: value, family: 6 };
    if (isIPv4(value)) return { address: value, family: 4 };
  }
  throw invalidValue(field, 'an IPv4 or IPv6 address', value);
}

/** An address with prefix length, `2001:db8::1/64` or `192.0.2.1/24`. */
export interface Prefixed {
  address: string;
  prefixLength: number;
  family: 4 | 6;
}

/** Parses `ip/len` (len defaults to the full length when `requireLength` is false). */
export function checkPrefixed(field: string, value: unknown, requireLength = true): Prefixed {
  if (typeof value !== 'string') throw invalidType(field, 'an address with prefix length like 2001:db8::1/64', value);
  const slash = value.indexOf('/');
  const addr = slash < 0 ? value : value.slice(0, slash);
  const len = slash < 0 ? undefined : value.slice(slash + 1);
  const family = isIPv6(addr) ? 6 : isIPv4(addr) ? 4 : 0;
  if (family === 0) throw invalidValue(field, 'an address with prefix length like 2001:db8::1/64', value);
  const max = family === 6 ? 128 : 32;
  if (len === undefined) {
    if (requireLength) throw invalidValue(field, 'an address with prefix length like 2001:db8::1/64', value, 'no prefix length');
    return { address: addr, prefixLength: max, family };
  }
  if (!/^\d{1,3}$/u.test(len) || Number(len) > max) {
    throw outOfRange(field, `an address with a prefix length from 0 to ${max}`, value);
  }
  return { address: addr, prefixLength: Number(len), family };
}

/** Parses an IPv6 address into 16 bytes. The input must already be valid (`isIPv6`). */
export function ipv6ToBytes(address: string): Buffer {
  const out = Buffer.alloc(16);
  let text = address;
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two hextets.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/u.exec(text);
  if (v4?.[1]) {
    const o = v4[1].split('.').map(Number);
    text = text.slice(0, -v4[1].length) + `${(((o[0] ?? 0) << 8) | (o[1] ?? 0)).toString(16)}:${(((o[2] ?? 0) << 8) | (o[3] ?? 0)).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** Formats 16 bytes as an IPv6 address in RFC 5952 canonical form. */
export function bytesToIPv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  // Longest run of two or more zero groups is shortened to '::' (first one on a tie).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
