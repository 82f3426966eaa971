/**
 * Hostile input refused before any syscall (issue 14): NUL bytes in every name and path, IPv6
 * zone ids wherever an address is taken, inherited property names as option values, and
 * error messages that stay short whatever the value. Every refusal has a positive control:
 * the same call without the defect passes validation.
 */
import { describe, expect, it } from 'vitest';

import { eui64Address } from '../../lib/mac.js';
import { native } from '../../lib/native.js';
import { applyAddOptions, addressParams, checkAddress } from '../../lib/netlink/address-options.js';
import { NLM_F, RTM } from '../../lib/netlink/constants.js';
import { checkFdb } from '../../lib/netlink/fdb-options.js';
import { checkBridge, checkSetLink, checkVxlan } from '../../lib/netlink/link-options.js';
import { checkRoute } from '../../lib/netlink/route-options.js';
import { resolveNetns } from '../../lib/netns.js';
import { resolveNetworkOptions } from '../../lib/network/options.js';
import { resolveVmOptions } from '../../lib/network/vm-options.js';
import { resolveSpec, type QemuSpec } from '../../lib/qemu/spec.js';
import { resolveInterfaceConfig } from '../../lib/ra/config.js';
import { openTapSync } from '../../lib/tap.js';
import { checkArray, checkObject, describe as describeValue, ipv6ToBytes } from '../../lib/validate.js';

const coded = (fn: () => unknown, code: string, field?: string) => {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, 'expected a throw').toBeInstanceOf(Error);
  expect((error as { code?: string }).code).toBe(code);
  if (field !== undefined) expect((error as Error).message).toContain(`"${field}"`);
  return error as Error;
};

const network = (patch: Record<string, unknown>) =>
  resolveNetworkOptions({ id: 100, underlay: 'eth0', prefix: '2001:db8:1:2::/64', ...patch }, () => 'ff05::100');
const qemu = (patch: Record<string, unknown>) => resolveSpec({ name: 'vm1', memoryMiB: 64, cpus: 1, ...patch } as unknown as QemuSpec);
const ra = (patch: Record<string, unknown>) => resolveInterfaceConfig('interface', { name: 'br0', prefixes: [{ prefix: '2001:db8::/64' }], ...patch });

describe('NUL bytes are refused in every name and path', () => {
  // [what, the call with a NUL, the same call without it (the positive control), the field]
  const cases: Array<[string, (s: string) => unknown, string]> = [
    ['createVxlan name', (s) => checkVxlan({ name: `vx${s}`, vni: 1 }), 'name'],
    ['createVxlan dev', (s) => checkVxlan({ name: 'vx', vni: 1, dev: `eth0${s}` }), 'dev'],
    ['createVxlan master', (s) => checkVxlan({ name: 'vx', vni: 1, master: `br0${s}` }), 'master'],
    ['createBridge name', (s) => checkBridge({ name: `brz${s}` }), 'name'],
    ['setLink name', (s) => checkSetLink({ name: `new${s}` }), 'name'],
    ['setLink master', (s) => checkSetLink({ master: `br0${s}` }), 'master'],
    ['addFdb link', (s) => checkFdb({ link: `vx${s}`, mac: '02:00:00:00:00:01' }), 'link'],
    ['addRoute dev', (s) => checkRoute({ destination: '2001:db8::/64', dev: `eth0${s}` }), 'dev'],
    ['address label', (s) => applyAddOptions(addressParams(1, checkAddress('address', '192.0.2.1/24')), { label: `eth0${s}` }), 'label'],
    ['netns name', (s) => resolveNetns('netns', `A${s}`), 'netns'],
    ['netns path', (s) => resolveNetns('netns', `/run/netns/A${s}`), 'netns'],
    [
      'openTap name',
      (s) => {
        if (s) openTapSync({ name: `tap${s}` });
      },
      'name',
    ],
    ['VxlanNetwork underlay', (s) => network({ underlay: `eth0${s}` }), 'underlay'],
    ['VxlanNetwork names.bridge', (s) => network({ names: { bridge: `br${s}` } }), 'names.bridge'],
    ['VxlanNetwork netns', (s) => network({ netns: `ns${s}` }), 'netns'],
    ['qemu cdrom', (s) => qemu({ cdrom: `/dev/null${s}` }), 'cdrom'],
    ['qemu disks[0]', (s) => qemu({ disks: [`/dev/null${s}`] }), 'disks[0]'],
    ['qemu disks[0].file', (s) => qemu({ disks: [{ file: `/dev/null${s}` }] }), 'disks[0].file'],
    ['qemu kernel', (s) => qemu({ kernel: `/dev/null${s}` }), 'kernel'],
    ['qemu initrd', (s) => qemu({ kernel: '/dev/null', initrd: `/dev/null${s}` }), 'initrd'],
    ['qemu serial.file', (s) => qemu({ serial: { file: `/tmp/serial${s}` } }), 'serial.file'],
    ['qemu qemuBinary', (s) => qemu({ qemuBinary: `qemu${s}` }), 'qemuBinary'],
    ['qemu append', (s) => qemu({ kernel: '/dev/null', append: `console=ttyS0${s}` }), 'append'],
    ['qemu extraArgs[0]', (s) => qemu({ extraArgs: [`-nodefaults${s}`] }), 'extraArgs[0]'],
    ['qemu machine', (s) => qemu({ machine: `pc${s}` }), 'machine'],
    ['RA interface name', (s) => ra({ name: `br0${s}` }), 'interface.name'],
  ];
  it.each(cases)('%s', (_what, call, field) => {
    const error = coded(() => call('\0junk'), 'ERR_INVALID_ARG_VALUE', field);
    expect(error.message).toContain('\\u0000'); // the NUL is shown, not swallowed
    if (_what !== 'openTap name') expect(() => call('')).not.toThrow();
  });

  it('control characters in interface names too', () => {
    coded(() => checkBridge({ name: 'br\u0001' }), 'ERR_INVALID_ARG_VALUE', 'name');
    coded(() => checkBridge({ name: 'br\u007f' }), 'ERR_INVALID_ARG_VALUE', 'name');
  });
});

describe('IPv6 zone ids are refused wherever an address is taken', () => {
  const zone = '%eth0';
  const cases: Array<[string, (z: string) => unknown, string]> = [
    ['createVxlan group', (z) => checkVxlan({ name: 'vx', vni: 1, group: `ff05::100${z}` }), 'group'],
    ['createVxlan remote', (z) => checkVxlan({ name: 'vx', vni: 1, remote: `2001:db8::2${z}` }), 'remote'],
    ['createVxlan local', (z) => checkVxlan({ name: 'vx', vni: 1, group: 'ff05::100', local: `2001:db8::1${z}` }), 'local'],
    ['addAddress', (z) => checkAddress('address', `2001:db8::1${z}/64`), 'address'],
    ['addFdb dst', (z) => checkFdb({ link: 'vx', mac: '00:00:00:00:00:00', dst: `2001:db8::2${z}` }), 'dst'],
    ['addRoute destination', (z) => checkRoute({ destination: `2001:db8::${z}/64` }), 'destination'],
    ['addRoute gateway', (z) => checkRoute({ destination: '2001:db8::/64', gateway: `fe80::1${z}` }), 'gateway'],
    ['addRoute source', (z) => checkRoute({ destination: '2001:db8::/64', source: `2001:db8::1${z}` }), 'source'],
    ['VxlanNetwork routerAddress', (z) => network({ routerAddress: `2001:db8:1:2::7${z}` }), 'routerAddress'],
    ['VxlanNetwork rdnss', (z) => network({ rdnss: [`2001:db8::53${z}`] }), 'rdnss[0]'],
    ['VxlanNetwork group', (z) => network({ group: `ff05::200${z}` }), 'group'],
    ['VxlanNetwork peers', (z) => network({ group: undefined, peers: [`2001:db8::9${z}`] }), 'peers[0]'],
    ['VxlanNetwork local', (z) => network({ local: `2001:db8::1${z}` }), 'local'],
    ['VxlanNetwork prefix', (z) => network({ prefix: `2001:db8:1:2::${z}/64` }), 'prefix'],
    ['RA RDNSS server', (z) => ra({ rdnss: [{ servers: [`2001:db8::${z}`] }] }), 'interface.rdnss[0].servers[0]'],
    ['RA prefix', (z) => ra({ prefixes: [{ prefix: `2001:db8::${z}/64` }] }), 'interface.prefixes[0].prefix'],
    ['eui64Address prefix', (z) => eui64Address(`2001:db8::${z}/64`, '02:00:00:00:00:01'), 'prefix'],
  ];
  it.each(cases)('%s', (_what, call, field) => {
    const error = coded(() => call(zone), 'ERR_INVALID_ARG_VALUE', field);
    expect(error.message).toContain('zone id');
    expect(() => call('')).not.toThrow();
  });

  it('a zone id is never read as address digits (2001:db8::%ab:cd is not 2001:db8::cd)', () => {
    coded(() => ipv6ToBytes('2001:db8::%ab:cd'), 'ERR_INVALID_ARG_VALUE');
    coded(() => ra({ rdnss: [{ servers: ['2001:db8::%ab:cd'] }] }), 'ERR_INVALID_ARG_VALUE');
    coded(() => network({ routerAddress: '2001:db8:1:2::%1:7' }), 'ERR_INVALID_ARG_VALUE', 'routerAddress');
  });
});

describe('only own properties are options', () => {
  it.each([
    ['scope', () => applyAddOptions(addressParams(1, checkAddress('address', '2001:db8::1/64')), { scope: 'toString' as never }), 'scope'],
    ['scope __proto__', () => applyAddOptions(addressParams(1, checkAddress('address', '2001:db8::1/64')), { scope: '__proto__' as never }), 'scope'],
    ['df', () => checkVxlan({ name: 'vx', vni: 1, df: '__proto__' as never }), 'df'],
    ['df toString', () => checkVxlan({ name: 'vx', vni: 1, df: 'toString' as never }), 'df'],
    ['fdb state', () => checkFdb({ link: 'vx', mac: '02:00:00:00:00:01', state: 'constructor' as never }), 'state'],
    ['route type', () => checkRoute({ destination: '2001:db8::/64', type: 'toString' as never }), 'type'],
    ['disk interface', () => qemu({ disks: [{ file: '/dev/null', interface: 'toString' }] }), 'disks[0].interface'],
  ])('%s: a name of Object.prototype is no value', (_what, call, field) => {
    coded(call, 'ERR_INVALID_ARG_VALUE', field);
  });

  it('inherited values are not read (an options object whose prototype carries them)', () => {
    const inherited = Object.create({ name: 'brz', mtu: 9000 }) as Record<string, unknown>;
    coded(() => checkBridge(inherited), 'ERR_INVALID_ARG_TYPE', 'name');
    const own = Object.assign(Object.create({ mtu: 9000, master: 'br0' }) as object, { name: 'brz' });
    const checked = checkBridge(own);
    expect(checked.params.mtu).toBeUndefined();
    expect(checked.master).toBeUndefined();
  });

  it('checkObject reads a getter once and keeps no prototype', () => {
    let reads = 0;
    const value = {
      get name() {
        reads += 1;
        return 'br0';
      },
    };
    const snapshot = checkObject('options', value);
    expect(snapshot.name).toBe('br0');
    expect(snapshot.name).toBe('br0');
    expect(reads).toBe(1);
    expect(Object.getPrototypeOf(snapshot)).toBeNull();
  });

  it('an array hole is refused, not read through the prototype', () => {
    const holey: unknown[] = [];
    holey[1] = 'a';
    coded(() => checkArray('links', holey), 'ERR_INVALID_ARG_VALUE', 'links[0]');
    expect(checkArray('links', ['a', 'b'])).toEqual(['a', 'b']);
    coded(() => checkArray('links', [1, 2, 3], 2), 'ERR_OUT_OF_RANGE', 'links.length');
    // An RA server list with a hole was accepted as [null, …] and failed only when encoded.
    coded(() => ra({ rdnss: [{ servers: holey }] }), 'ERR_INVALID_ARG_VALUE', 'interface.rdnss[0].servers[0]');
  });

  it('the native codec reads own properties only (an inherited index redirects nothing)', () => {
    const params = Object.assign(Object.create({ index: 7, mtu: 9000 }) as object, { name: 've0' });
    const [message] = native.rtnlDecode(native.rtnlEncode(RTM.DELLINK, NLM_F.REQUEST, 1, params));
    expect(message).toMatchObject({ index: 0, name: 've0' });
    expect(message).not.toHaveProperty('mtu');
    // Positive control: the same values as own properties are encoded.
    const [control] = native.rtnlDecode(native.rtnlEncode(RTM.DELLINK, NLM_F.REQUEST, 1, { name: 've0', index: 7, mtu: 9000 }));
    expect(control).toMatchObject({ index: 7, mtu: 9000 });
  });
});

describe('the native boundary checks its arguments', () => {
  it('refuses a NUL in a string attribute with a code (the kernel would read up to it)', () => {
    const error = coded(() => native.rtnlEncode(RTM.DELLINK, NLM_F.REQUEST, 1, { name: 've0\0anything' }), 'ERR_INVALID_ARG_VALUE');
    expect(error.message).toContain('IFLA_IFNAME');
    expect(() => native.rtnlEncode(RTM.DELLINK, NLM_F.REQUEST, 1, { name: 've0' })).not.toThrow();
  });

  it('refuses a zone id in an address attribute with a code', () => {
    coded(() => native.rtnlEncode(RTM.NEWLINK, NLM_F.REQUEST, 1, { name: 'vx', kind: 'vxlan', data: { group6: 'ff05::100%eth0' } }), 'ERR_INVALID_ARG_VALUE');
  });

  it('refuses wrong argument types instead of casting them', () => {
    coded(() => (native.rtnlEncode as (...a: unknown[]) => unknown)('16', NLM_F.REQUEST, 1, {}), 'ERR_INVALID_ARG_TYPE');
    coded(() => (native.rtnlDecode as (...a: unknown[]) => unknown)('not a buffer'), 'ERR_INVALID_ARG_TYPE');
    coded(
      () => native.rtnlEncode(RTM.NEWLINK, NLM_F.REQUEST, 1, { name: 'vx', kind: 'vxlan', data: { portRange: { low: 'x', high: 2 } } }),
      'ERR_INVALID_ARG_TYPE',
    );
    coded(() => native.rtnlEncode(RTM.NEWLINK, NLM_F.REQUEST, 1, { index: 'seven' }), 'ERR_INVALID_ARG_TYPE');
    coded(() => (native.tunOpen as (...a: unknown[]) => unknown)('tap0'), 'ERR_INVALID_ARG_TYPE');
    coded(() => native.tunOpen({ name: 'tap\0x', flags: 0, queues: 1, persist: false, owner: -1, group: -1, netns: undefined }), 'ERR_INVALID_ARG_VALUE');
    coded(() => (native.sendWithFds as (...a: unknown[]) => unknown)(0, Buffer.from('x'), ['3']), 'ERR_INVALID_ARG_TYPE');
    coded(() => new native.NetlinkSocket('/run/netns/x\0y', []), 'ERR_INVALID_ARG_VALUE');
    // The run directory's descriptors and pidfds (runfiles.cc, pidfd.cc): open(2) and bind(2)
    // would stop at a NUL and lock or listen on another path.
    coded(() => native.lockFile('/run/vmplumb/x.lock\0y'), 'ERR_INVALID_ARG_VALUE', 'path');
    coded(() => native.unixListen('/tmp/vmplumb\0.sock', 8), 'ERR_INVALID_ARG_VALUE', 'path');
    coded(() => (native.unixListen as (...a: unknown[]) => unknown)('/tmp/x.sock', '8'), 'ERR_INVALID_ARG_TYPE', 'backlog');
    coded(() => (native.unixConnect as (...a: unknown[]) => unknown)(3), 'ERR_INVALID_ARG_TYPE', 'path');
    coded(() => (native.lockFd as (...a: unknown[]) => unknown)('3'), 'ERR_INVALID_ARG_TYPE', 'fd');
    coded(() => new (native.PidFd as new (...a: unknown[]) => unknown)(process.pid, 'x'), 'ERR_INVALID_ARG_TYPE', 'onExit');
    coded(() => new (native.PidFd as new (...a: unknown[]) => unknown)(String(process.pid), () => {}), 'ERR_INVALID_ARG_TYPE', 'pid');
  });
});

describe('error messages stay short', () => {
  it('a 100,000-element array as "group" yields a bounded message with a code', () => {
    const group = Array.from({ length: 100_000 }, (_, i) => `ff05::${i.toString(16)}`);
    const error = coded(() => checkVxlan({ name: 'vx', vni: 1, group: group as never }), 'ERR_INVALID_ARG_TYPE', 'group');
    expect(error.message.length).toBeLessThan(400);
    expect(error.message).toContain('100000 elements');
  });

  it('a megabyte string is shortened, and unrenderable values do not throw', () => {
    expect(describeValue('x'.repeat(1 << 20)).length).toBeLessThan(200);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(describeValue(cycle)).toBe('[object Object]');
    expect(describeValue(10n)).toBe('10n');
    expect(describeValue('short')).toBe('"short"');
  });
});

describe('late validation moved before anything is made', () => {
  it('startVm: cpus that Qemu.spawn refuses, and NULs, are refused before the tap is opened', () => {
    const vm = (patch: Record<string, unknown>) => resolveVmOptions({ id: 1, memoryMiB: 64, cpus: 1, kernel: '/boot/vmlinuz', ...patch }, 100);
    coded(() => vm({ cpus: 256 }), 'ERR_OUT_OF_RANGE', 'cpus');
    expect(() => qemu({ cpus: 256 })).toThrow(/"cpus"/u);
    expect(vm({ cpus: 255 }).cpus).toBe(255);
    coded(() => vm({ kernel: '/boot/vmlinuz\0x' }), 'ERR_INVALID_ARG_VALUE', 'kernel');
    coded(() => vm({ append: 'console=ttyS0\0x' }), 'ERR_INVALID_ARG_VALUE', 'append');
    coded(() => vm({ cdrom: '/x.iso\0y', kernel: undefined }), 'ERR_INVALID_ARG_VALUE', 'cdrom');
    coded(() => vm({ tap: 'vm1\0x' }), 'ERR_INVALID_ARG_VALUE', 'tap');
  });

  it('VxlanNetwork: more RDNSS servers than one option holds, or DNSSL too large', () => {
    const servers = Array.from({ length: 128 }, (_, i) => `2001:db8::${(i + 1).toString(16)}`);
    coded(() => network({ rdnss: servers }), 'ERR_OUT_OF_RANGE', 'rdnss.length');
    expect(() => network({ rdnss: servers.slice(0, 127) })).not.toThrow();
    const domains = Array.from({ length: 40 }, (_, i) => `${'a'.repeat(60)}${i}.example`);
    coded(() => network({ dnssl: domains }), 'ERR_OUT_OF_RANGE', 'dnssl');
    expect(() => network({ dnssl: domains.slice(0, 10) })).not.toThrow();
  });
});
