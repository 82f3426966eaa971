/**
 * Property-based fuzzing of every validator a public call runs before any syscall (issue 14):
 * hostile values (test/helpers/hostile.ts) either pass or are refused with a coded error
 * (ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_OUT_OF_RANGE) and a bounded message —
 * never a crash, a bare TypeError, or a value the kernel would read differently (a NUL or a
 * zone id that passed). Fixed seed, fixed run counts: a few seconds in CI.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { eui64Address, macForVm } from '../../lib/mac.js';
import { native } from '../../lib/native.js';
import { IFF, NLM_F, RTM } from '../../lib/netlink/constants.js';
import { applyAddOptions, addressParams, checkAddress } from '../../lib/netlink/address-options.js';
import { checkFdb } from '../../lib/netlink/fdb-options.js';
import { checkBridge, checkLinkRef, checkSetLink, checkVxlan } from '../../lib/netlink/link-options.js';
import { checkRoute } from '../../lib/netlink/route-options.js';
import { vxlanGroupForId } from '../../lib/netlink/vxlan-group.js';
import { resolveNetns } from '../../lib/netns.js';
import { resolveNetworkOptions } from '../../lib/network/options.js';
import { resolveSpec, type QemuSpec } from '../../lib/qemu/spec.js';
import { resolveInterfaceConfig } from '../../lib/ra/config.js';
import { FUZZ_SEED, hostile, isCodedError, optionsFor } from '../helpers/hostile.js';

const RUNS = 400;

/** Every string in an accepted result: none may carry a NUL or a zone id. */
function strings(value: unknown, out: string[] = [], seen = new Set<unknown>()): string[] {
  if (typeof value === 'string') out.push(value);
  else if (value !== null && typeof value === 'object' && !seen.has(value)) {
    seen.add(value);
    for (const v of Object.values(value)) strings(v, out, seen);
  }
  return out;
}

/** Runs `call` on generated input: it returns a result free of NUL and '%', or throws coded. */
function property<T>(arbitrary: fc.Arbitrary<T>, call: (input: T) => unknown): void {
  let accepted = 0;
  fc.assert(
    fc.property(arbitrary, (input) => {
      let result: unknown;
      try {
        result = call(input);
      } catch (error) {
        if (!isCodedError(error)) throw new Error(`uncoded or unbounded error: ${String(error)}`, { cause: error });
        return;
      }
      accepted += 1;
      for (const s of strings(result)) {
        if (s.includes('\0') || /^[0-9a-f:.]*:[0-9a-f:.]*%/iu.test(s)) throw new Error(`accepted a NUL or zone id: ${JSON.stringify(s)}`);
      }
    }),
    { seed: FUZZ_SEED, numRuns: RUNS },
  );
  // Not a requirement per call, but a sign the generator reaches the accepting paths too.
  expect(accepted).toBeGreaterThanOrEqual(0);
}

describe('input fuzz: validators refuse hostile values with a code', () => {
  const vxlanKeys = [
    'name',
    'vni',
    'group',
    'remote',
    'local',
    'port',
    'dev',
    'ttl',
    'tos',
    'df',
    'label',
    'learning',
    'master',
    'up',
    'mtu',
    'mac',
    'portRange',
    'ageing',
    'linkGroup',
  ];
  it('createVxlan options', () => property(optionsFor(vxlanKeys, { name: 'vx0', vni: 1 }), checkVxlan));
  it('createBridge options', () =>
    property(
      optionsFor(['name', 'stp', 'forwardDelay', 'helloTime', 'maxAge', 'priority', 'vlanFiltering', 'mcastSnooping', 'mtu', 'master', 'up'], { name: 'br0' }),
      checkBridge,
    ));
  it('setLink changes', () => property(optionsFor(['up', 'mtu', 'mac', 'linkGroup', 'group', 'name', 'master']), checkSetLink));
  it('link references', () => property(hostile, (v) => checkLinkRef('link', v)));
  it('addresses and their options', () =>
    property(
      fc.tuple(hostile, optionsFor(['scope', 'label', 'nodad', 'noprefixroute', 'validLifetime', 'preferredLifetime', 'replace'])),
      ([address, options]) => applyAddOptions(addressParams(1, checkAddress('address', address)), options),
    ));
  it('FDB entries', () =>
    property(optionsFor(['link', 'mac', 'dst', 'vni', 'port', 'state', 'self', 'master', 'append'], { link: 'vx0', mac: '02:00:00:00:00:01' }), checkFdb));
  it('routes', () =>
    property(optionsFor(['destination', 'gateway', 'source', 'dev', 'metric', 'table', 'type', 'replace'], { destination: '2001:db8::/64' }), (r) =>
      checkRoute(r),
    ));
  it('namespaces', () => property(hostile, (v) => resolveNetns('netns', v)));
  it('VxlanNetwork options', () =>
    property(
      optionsFor(
        ['id', 'underlay', 'prefix', 'routerAddress', 'group', 'peers', 'local', 'rdnss', 'dnssl', 'pref64', 'mtu', 'netns', 'names', 'ra', 'port', 'ttl'],
        { id: 1, underlay: 'eth0', prefix: '2001:db8::/64' },
      ),
      (o) => resolveNetworkOptions(o, vxlanGroupForId),
    ));
  it('Qemu specs', () =>
    property(
      optionsFor(
        ['name', 'uuid', 'machine', 'accel', 'memoryMiB', 'cpus', 'cdrom', 'disks', 'kernel', 'initrd', 'append', 'nics', 'serial', 'qemuBinary', 'extraArgs'],
        { name: 'vm1', memoryMiB: 64, cpus: 1 },
      ),
      (s) => resolveSpec(s as unknown as QemuSpec),
    ));
  it('RA interface configs', () =>
    property(
      optionsFor(['name', 'minInterval', 'maxInterval', 'prefixes', 'rdnss', 'dnssl', 'routes', 'pref64', 'mtu', 'defaultLifetime'], { name: 'br0' }),
      (c) => resolveInterfaceConfig('interface', c),
    ));
  it('address helpers', () => {
    property(fc.tuple(hostile, hostile), ([p, m]) => eui64Address(p as string, m as string));
    property(hostile, (v) => macForVm(v as number));
    property(hostile, (v) => vxlanGroupForId(v as number));
  });
});

describe('input fuzz: the C++ rtnetlink decoder takes any bytes', () => {
  // What the kernel sends is trusted less than it might be: a decoder bug would crash the
  // process on a hostile or truncated message. Valid requests of every family, mutated
  // (bytes flipped, lengths changed, truncated, concatenated), must decode without a crash.
  const seeds = [
    native.rtnlEncode(RTM.NEWLINK, NLM_F.REQUEST, 1, {
      name: 'vx0',
      mtu: 1500,
      flags: IFF.UP,
      change: IFF.UP,
      kind: 'vxlan',
      data: { id: 7, group6: 'ff05::7', port: 4789, portRange: { low: 1, high: 2 } },
    }),
    native.rtnlEncode(RTM.NEWLINK, NLM_F.REQUEST, 2, { name: 'br0', kind: 'bridge', data: { stpState: 1, priority: 7, helloTimer: 5 } }),
    native.rtnlEncode(RTM.NEWLINK, NLM_F.REQUEST, 3, { name: 've0', kind: 'veth', peer: { name: 've1', mtu: 1400 } }),
    native.rtnlEncode(RTM.NEWADDR, NLM_F.REQUEST, 4, {
      family: 10,
      prefixLength: 64,
      index: 2,
      local: '2001:db8::1',
      address: '2001:db8::1',
      flags: 0x200,
      cacheinfo: { preferred: 1, valid: 2 },
    }),
    native.rtnlEncode(RTM.NEWNEIGH, NLM_F.REQUEST, 5, {
      family: 7,
      index: 2,
      state: 0x80,
      flags: 2,
      lladdr: '00:00:00:00:00:00',
      dst: '2001:db8::2',
      vni: 7,
      port: 4789,
    }),
    native.rtnlEncode(RTM.NEWROUTE, NLM_F.REQUEST, 6, {
      family: 10,
      dstLen: 64,
      tableId: 254,
      protocol: 3,
      scope: 0,
      type: 1,
      dst: '2001:db8::',
      gateway: 'fe80::1',
      oif: 2,
      priority: 5,
    }),
  ];
  const mutated = fc
    .tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat(), fc.boolean())
    .map(([seed, flips, cut, twice]) => {
      const bytes = Buffer.from(twice ? Buffer.concat([seed, seed]) : seed);
      for (const [at, value] of flips) bytes[at % bytes.length] = value;
      return bytes.subarray(0, cut % (bytes.length + 1));
    });
  it('mutated messages of every family, and random bytes', () => {
    const decode = (bytes: Uint8Array) => {
      const out = native.rtnlDecode(Buffer.from(bytes));
      expect(Array.isArray(out)).toBe(true);
    };
    fc.assert(fc.property(mutated, decode), { seed: FUZZ_SEED, numRuns: 3000 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), decode), { seed: FUZZ_SEED, numRuns: 2000 });
  });
});
