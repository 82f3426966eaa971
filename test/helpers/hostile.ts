/**
 * Hostile values for property-based tests (fast-check): what an orchestrator passing user- or
 * API-supplied values through might hand the library. Strings with NUL, zone ids, control
 * characters, names of Object.prototype; numbers out of every range; wrong types; objects
 * without a prototype, with getters, sparse and huge arrays. `optionsFor(keys)` builds options
 * bags whose known keys carry such values.
 */
import fc from 'fast-check';

/** Fixed seed and run counts: CI runs the same inputs every time, within a budget of seconds. */
export const FUZZ_SEED = 0x14;

/** Strings that have broken parsers and validators before (issue 14). */
const NASTY_STRINGS = [
  '',
  '.',
  '..',
  've0\0anything',
  'brz\0junk',
  'A\0x',
  'tap\0x',
  '/run/netns/A\0x',
  '/dev/null\0x',
  'br\u0001',
  'br\u007f',
  'a b',
  'a/b',
  'a:b',
  'ff05::1%eth0',
  '2001:db8::%ab:cd',
  '2001:db8:1:2::%1:7',
  'fe80::1%1',
  '2001:db8::1%eth0/64',
  '::',
  'ff05::100',
  '2001:db8::1/64',
  '192.0.2.1/24',
  '2001:db8::/129',
  '2001:db8::1/-1',
  '__proto__',
  'toString',
  'constructor',
  'hasOwnProperty',
  'valueOf',
  'x'.repeat(16),
  'x'.repeat(300),
  '%d%d',
  'tap%d',
  '02:00:00:00:00:01',
  '01:00:00:00:00:00',
  '00:00:00:00:00:00',
  'zz:zz:zz:zz:zz:zz',
  'inherit',
  'unset',
  'global',
  'link',
  'permanent',
  'vxlan',
  'bridge',
  '\u{1F600}'.repeat(6),
];

/** A string with NUL, '%' or a control character somewhere. */
const taintedString = fc
  .tuple(fc.string({ maxLength: 12 }), fc.constantFrom('\0', '%', '%eth0', '\n', '\u0001', '\u007f', '/', ':'), fc.string({ maxLength: 12 }))
  .map(([a, b, c]) => a + b + c);

/** An array with a hole at index 0 (read through the prototype by careless code). */
const holey: unknown[] = [];
holey[1] = 'a';

/** Any hostile scalar or structure. */
export const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...NASTY_STRINGS),
  taintedString,
  fc.string({ maxLength: 40 }),
  fc.constantFrom(0, -1, 1, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), 0.5, Number.NaN, Number.POSITIVE_INFINITY, -0, 16777216, 65536, 99999),
  fc.integer({ min: -(2 ** 33), max: 2 ** 33 }),
  fc.double(),
  fc.bigInt(),
  fc.boolean(),
  fc.constantFrom(null, undefined),
  fc.constantFrom(
    Object.create(null) as object,
    [],
    holey,
    Array.from({ length: 100_000 }, () => 'ff05::1'),
    { toString: () => 'br0' },
    Symbol('s'),
  ),
  fc.array(fc.oneof(fc.constantFrom(...NASTY_STRINGS), fc.integer()), { maxLength: 4 }),
  fc.dictionary(fc.constantFrom('name', 'index', 'low', 'high', 'file', '__proto__'), fc.oneof(fc.string({ maxLength: 8 }), fc.integer()), { maxKeys: 3 }),
);

/** An options bag: some of `keys` (and `__proto__`) with hostile values, maybe inherited ones. */
export function optionsFor(keys: readonly string[], base: Record<string, unknown> = {}): fc.Arbitrary<Record<string, unknown>> {
  return fc.tuple(fc.dictionary(fc.constantFrom(...keys, '__proto__'), hostile, { maxKeys: 4 }), fc.boolean()).map(([own, inherit]) => {
    const bag = { ...base, ...own };
    // Half the time the hostile values sit on the prototype instead: they must be ignored.
    return inherit ? Object.assign(Object.create(own) as Record<string, unknown>, base) : bag;
  });
}

/** What a refused call must throw: an Error with a string `code` and a bounded message. */
export function isCodedError(error: unknown): boolean {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string' && error.message.length < 1000;
}
