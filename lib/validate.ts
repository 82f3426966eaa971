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

/** How many characters of a value an error message shows before it is shortened. */
export const MAX_DESCRIBED = 120;
/** How many elements of an array an error message renders at most. */
const MAX_DESCRIBED_ITEMS = 16;

function render(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > MAX_DESCRIBED ? value.slice(0, MAX_DESCRIBED) : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return `[Function ${value.name || 'anonymous'}]`;
  if (value === null || value === undefined || typeof value !== 'object') return String(value);
  // A huge array would be rendered whole only to be cut: render its first elements.
  const shown = Array.isArray(value) && value.length > MAX_DESCRIBED_ITEMS ? value.slice(0, MAX_DESCRIBED_ITEMS) : value;
  const json = JSON.stringify(shown);
  return json === undefined ? Object.prototype.toString.call(value) : json;
}

/**
 * Renders a value for an error message the way Node does (strings quoted, others as JSON),
 * shortened to about {@link MAX_DESCRIBED} characters: a message stays readable whatever the
 * caller passed (a 100,000-element array, a megabyte string). Never throws: a value that
 * cannot be rendered (a revoked proxy, a throwing getter, a cycle) shows as its tag.
 */
export function describe(value: unknown): string {
  let text: string;
  try {
    text = render(value);
  } catch {
    try {
      text = Object.prototype.toString.call(value);
    } catch {
      text = typeof value;
    }
  }
  const size = typeof value === 'string' ? value.length : Array.isArray(value) ? value.length : undefined;
  const cut =
    text.length > MAX_DESCRIBED || (typeof value === 'string' && value.length > MAX_DESCRIBED) || (Array.isArray(value) && value.length > MAX_DESCRIBED_ITEMS);
  if (!cut) return text;
  const unit = typeof value === 'string' ? 'characters' : 'elements';
  return `${text.slice(0, MAX_DESCRIBED)}… (${size === undefined ? `${text.length} characters` : `${size} ${unit}`})`;
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

/** A non-empty string without NUL (every string we take ends up in C, argv or the kernel, where a NUL cuts it short). */
export function checkString(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw invalidType(field, 'a non-empty string', value);
  if (value.includes('\0')) throw invalidValue(field, 'a string without NUL bytes', value, 'a NUL would cut it short');
  return value;
}

/** A file path: a non-empty string without NUL (open(2) would act on the part before it). */
export function checkPath(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw invalidType(field, 'a file path', value);
  if (value.includes('\0')) throw invalidValue(field, 'a file path without NUL bytes', value, 'a NUL would cut it short');
  return value;
}

/**
 * The own enumerable properties of `value`, read once into an object without a prototype.
 * What the library reads from an options bag is what the caller put there: a property
 * inherited from a polluted Object.prototype (`Object.prototype.index = 1`) or a name of
 * Object.prototype's own (`scope: 'toString'`) is no option, and a getter runs once, so the
 * value checked is the value used.
 */
export function ownProperties(field: string, value: object): Record<string, unknown> {
  const out = Object.create(null) as Record<string, unknown>;
  try {
    for (const key of Object.keys(value)) out[key] = (value as Record<string, unknown>)[key];
  } catch (error) {
    throw invalidValue(field, 'an object whose properties can be read', value, (error as Error).message);
  }
  return out;
}

/** A plain object (an options bag), as a snapshot of its own properties (see ownProperties). */
export function checkObject(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidType(field, 'an object', value);
  return ownProperties(field, value);
}

/**
 * An array of at most `max` elements, copied: a hole (`[, 'a']`) is refused rather than read
 * through the prototype (where a polluted `Array.prototype[0]` would fill it).
 */
export function checkArray(field: string, value: unknown, max = 0xffff): unknown[] {
  if (!Array.isArray(value)) throw invalidType(field, 'an array', value);
  if (value.length > max) throw outOfRange(`${field}.length`, `at most ${max}`, value.length);
  const out: unknown[] = [];
  for (let i = 0; i < value.length; i++) {
    if (!Object.hasOwn(value, i)) throw invalidValue(`${field}[${i}]`, 'an element (the array has a hole here)', undefined);
    out.push(value[i]);
  }
  return out;
}

/**
 * `init` as an object without a prototype: for the library's own bags of optional fields
 * (request params, checked options), so reading an absent field gives undefined even when
 * Object.prototype carries a property of that name.
 */
export function bare<T extends object>(init: T): T {
  return Object.assign(Object.create(null) as T, init);
}

/** Whether `key` is one of `table`'s own keys (not `toString`, `__proto__`, …). */
export function isOwnKey<T extends object>(table: T, key: unknown): key is keyof T {
  return typeof key === 'string' && Object.hasOwn(table, key);
}

/** Whether `value` holds a C0 control character (NUL included) or DEL. */
export function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
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
  // The kernel would stop at a NUL and act on the name before it (ve0\0x is ve0); other
  // control characters it takes, but they are never meant and garble every listing.
  if (hasControlCharacter(value)) throw invalidValue(field, 'an interface name without NUL or control characters', value);
  // A '%' makes the kernel treat the name as a pattern (dev_alloc_name: br%d → br0): the call
  // would act on a name it did not give. Only openTap takes patterns, on purpose.
  if (value.includes('%')) throw invalidValue(field, "an interface name without '%'", value);
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

// node:net's isIPv6 takes a zone id (`fe80::1%eth0`, `2001:db8::%ab:cd`); the kernel's
// attributes have no room for one, and our parsers would read its characters as address
// digits. Every address we take goes through these checks, which refuse it by name.
const ZONE_WHY = 'zone ids (%…) are not accepted: give the link separately';

/** An IPv6 address (no prefix length, no zone). */
export function checkIPv6(field: string, value: unknown): string {
  if (typeof value !== 'string') throw invalidType(field, 'an IPv6 address', value);
  if (value.includes('%')) throw invalidValue(field, 'an IPv6 address without a zone id', value, ZONE_WHY);
  if (!isIPv6(value)) throw invalidValue(field, 'an IPv6 address', value);
  return value;
}

/** An IPv4 or IPv6 address (no zone); returns its family. */
export function checkIP(field: string, value: unknown): { address: string; family: 4 | 6 } {
  if (typeof value !== 'string') throw invalidType(field, 'an IPv4 or IPv6 address', value);
  if (value.includes('%')) throw invalidValue(field, 'an IP address without a zone id', value, ZONE_WHY);
  if (isIPv6(value)) return { address: value, family: 6 };
  if (isIPv4(value)) return { address: value, family: 4 };
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
  if (addr.includes('%')) throw invalidValue(field, 'an address with prefix length, without a zone id', value, ZONE_WHY);
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
  // A zone id's characters would be read as hex digits (2001:db8::%ab:cd → 2001:db8::cd).
  if (address.includes('%')) throw invalidValue('address', 'an IPv6 address without a zone id', address, ZONE_WHY);
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
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
