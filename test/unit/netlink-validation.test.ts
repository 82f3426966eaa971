/**
 * Option validation of the Netlink API: every refusal names the field and the value with
 * Node's codes, before anything reaches the kernel (these run without a socket).
 */
import { describe, expect, it } from 'vitest';
import { checkAddress, applyAddOptions, addressParams } from '../../lib/netlink/address-options.js';
import { checkFdb } from '../../lib/netlink/fdb-options.js';
import { checkBridge, checkSetLink, checkVxlan, VXLAN_DEFAULT_PORT } from '../../lib/netlink/link-options.js';
import { checkRoute } from '../../lib/netlink/route-options.js';
import { IFF } from '../../lib/netlink/constants.js';

const refuses = (fn: () => unknown, code: string, message: string) => expect(fn).toThrow(expect.objectContaining({ code, message }));

const vx = (extra: object) => () => checkVxlan({ name: 'vxlan100', vni: 100, ...extra });

describe('createVxlan options', () => {
  it('defaults as ip does, but with port 4789', () => {
    const v = checkVxlan({ name: 'vxlan100', vni: 100, group: 'ff05::100', dev: 'eth0', ttl: 5, master: 'br100', up: true });
    expect(VXLAN_DEFAULT_PORT).toBe(4789);
    expect(v.params).toEqual({
      name: 'vxlan100',
      flags: IFF.UP,
      change: IFF.UP,
      kind: 'vxlan',
      data: { id: 100, port: 4789, learning: true, group6: 'ff05::100', ttl: 5 },
    });
    expect(v.dev).toBe('eth0');
    expect(v.master).toBe('br100');
  });

  it.each([
    [{ vni: 16777216 }, 'ERR_OUT_OF_RANGE', 'Expected "vni" to be an integer from 0 to 16777215, got 16777216'],
    [{ vni: -1 }, 'ERR_OUT_OF_RANGE', 'Expected "vni" to be an integer from 0 to 16777215, got -1'],
    [{ vni: '100' }, 'ERR_INVALID_ARG_TYPE', 'Expected "vni" to be an integer from 0 to 16777215, got "100"'],
    [{ port: 0 }, 'ERR_OUT_OF_RANGE', 'Expected "port" to be an integer from 1 to 65535, got 0'],
    [{ port: 65536 }, 'ERR_OUT_OF_RANGE', 'Expected "port" to be an integer from 1 to 65535, got 65536'],
    [{ ttl: 256 }, 'ERR_OUT_OF_RANGE', 'Expected "ttl" to be an integer from 0 to 255, got 256'],
    [{ group: '2001:db8::1' }, 'ERR_INVALID_ARG_VALUE', 'Expected "group" to be a multicast address (ff00::/8 or 224.0.0.0/4), got "2001:db8::1"'],
    [
      { group: 'ff05::100', remote: '2001:db8::1' },
      'ERR_INVALID_ARG_VALUE',
      'Expected "remote" to be absent when "group" is set (a vxlan has one or the other), got "2001:db8::1"',
    ],
    [{ remote: 'ff05::1' }, 'ERR_INVALID_ARG_VALUE', 'Expected "remote" to be a unicast address (use "group" for multicast), got "ff05::1"'],
    [{ group: 'ff05::zz' }, 'ERR_INVALID_ARG_VALUE', 'Expected "group" to be an IPv4 or IPv6 address, got "ff05::zz"'],
    [{ group: 'ff05::1', local: '192.0.2.1' }, 'ERR_INVALID_ARG_VALUE', 'Expected "local" to be an IPv6 address like the group, got "192.0.2.1"'],
    [{ label: 0x100000 }, 'ERR_OUT_OF_RANGE', 'Expected "label" to be an integer from 0 to 1048575, got 1048576'],
    [{ df: 'maybe' }, 'ERR_INVALID_ARG_VALUE', "Expected \"df\" to be 'unset', 'set' or 'inherit', got \"maybe\""],
    [{ learning: 'yes' }, 'ERR_INVALID_ARG_TYPE', 'Expected "learning" to be a boolean, got "yes"'],
    [{ portRange: { low: 2000, high: 1000 } }, 'ERR_INVALID_ARG_VALUE', 'Expected "portRange" to be a range with low <= high, got {"low":2000,"high":1000}'],
    [{ dev: 'eth0:1' }, 'ERR_INVALID_ARG_VALUE', 'Expected "dev" to be an interface name without \'/\', \':\' or whitespace, got "eth0:1"'],
    [{ master: 0 }, 'ERR_OUT_OF_RANGE', 'Expected "master" to be an integer from 1 to 2147483647, got 0'],
    [{ mac: '01:00:5e:00:00:01' }, 'ERR_INVALID_ARG_VALUE', 'Expected "mac" to be a unicast MAC address, got "01:00:5e:00:00:01": the multicast bit is set'],
    [{ mtu: 20 }, 'ERR_OUT_OF_RANGE', 'Expected "mtu" to be an integer from 68 to 65535, got 20'],
    [{ name: 'vxlan-too-long-name' }, 'ERR_INVALID_ARG_VALUE', 'Expected "name" to be an interface name of 1 to 15 bytes, got "vxlan-too-long-name"'],
    [{ name: '..' }, 'ERR_INVALID_ARG_VALUE', 'Expected "name" to be an interface name other than "." and "..", got ".."'],
    [{ name: 'a b' }, 'ERR_INVALID_ARG_VALUE', 'Expected "name" to be an interface name without \'/\', \':\' or whitespace, got "a b"'],
    [{ up: 1 }, 'ERR_INVALID_ARG_TYPE', 'Expected "up" to be a boolean, got 1'],
  ])('refuses %j', (extra, code, message) => {
    refuses(vx(extra), code, message);
  });

  it('refuses a missing options object', () => {
    refuses(() => checkVxlan(undefined), 'ERR_INVALID_ARG_TYPE', 'Expected "options" to be an object, got undefined');
  });

  it('maps ttl inherit, external and IPv4 endpoints', () => {
    expect(checkVxlan({ name: 'v', vni: 1, remote: '192.0.2.2', local: '192.0.2.1', ttl: 'inherit', external: true }).params.data).toMatchObject({
      group: '192.0.2.2',
      local: '192.0.2.1',
      ttlInherit: true,
      collectMetadata: true,
    });
  });
});

describe('createBridge options', () => {
  it('converts seconds to USER_HZ', () => {
    expect(checkBridge({ name: 'br0', stp: true, forwardDelay: 4, helloTime: 1, maxAge: 12, ageingTime: 60 }).params.data).toEqual({
      stpState: 1,
      forwardDelay: 400,
      helloTime: 100,
      maxAge: 1200,
      ageingTime: 6000,
    });
  });
  it.each([
    [{ forwardDelay: 31 }, 'ERR_OUT_OF_RANGE', 'Expected "forwardDelay" to be a number from 2 to 30, got 31'],
    [{ vlanDefaultPvid: 4095 }, 'ERR_OUT_OF_RANGE', 'Expected "vlanDefaultPvid" to be an integer from 0 to 4094, got 4095'],
    [{ stp: 'on' }, 'ERR_INVALID_ARG_TYPE', 'Expected "stp" to be a boolean, got "on"'],
  ])('refuses %j', (extra, code, message) => {
    refuses(() => checkBridge({ name: 'br0', ...extra }), code, message);
  });
});

describe('setLink changes', () => {
  it('puts up/down in ifi_flags/ifi_change and master null as release', () => {
    expect(checkSetLink({ up: false, master: null })).toEqual({ params: { change: IFF.UP, flags: 0 }, master: null });
    expect(checkSetLink({ name: 'new0' }).rename).toBe('new0');
  });
  it('takes the link group as linkGroup (as on create), and the deprecated group when it agrees', () => {
    expect(checkSetLink({ linkGroup: 7 }).params).toEqual({ group: 7 });
    expect(checkSetLink({ group: 7 }).params).toEqual({ group: 7 });
    expect(checkSetLink({ linkGroup: 7, group: 7 }).params).toEqual({ group: 7 });
    refuses(() => checkSetLink({ linkGroup: 7, group: 8 }), 'ERR_INVALID_ARG_VALUE', 'Expected "group" to be absent or equal to "linkGroup" (7), got 8');
    refuses(() => checkSetLink({ linkGroup: -1 }), 'ERR_OUT_OF_RANGE', expect.stringContaining('"linkGroup"') as unknown as string);
  });
  it('refuses a bad master', () => {
    refuses(() => checkSetLink({ master: {} }), 'ERR_INVALID_ARG_TYPE', 'Expected "master" to be an interface name or index, got {}');
  });
});

describe('address options', () => {
  it('requires the prefix length', () => {
    refuses(
      () => checkAddress('address', '2a0a:e5c1:111:888::1'),
      'ERR_INVALID_ARG_VALUE',
      'Expected "address" to be an address with prefix length like 2001:db8::1/64, got "2a0a:e5c1:111:888::1": no prefix length',
    );
    refuses(
      () => checkAddress('address', '2a0a::1/129'),
      'ERR_OUT_OF_RANGE',
      'Expected "address" to be an address with a prefix length from 0 to 128, got "2a0a::1/129"',
    );
  });
  it('maps nodad and lifetimes', () => {
    const params = addressParams(3, checkAddress('address', '2001:db8::1/64'));
    applyAddOptions(params, { nodad: true, validLifetime: 600, preferredLifetime: 300 });
    expect(params).toMatchObject({ index: 3, flags: 0x02, cacheinfo: { valid: 600, preferred: 300 } });
    refuses(
      () => applyAddOptions(addressParams(3, checkAddress('a', '2001:db8::1/64')), { scope: 'galaxy' }),
      'ERR_INVALID_ARG_VALUE',
      "Expected \"scope\" to be 'universe', 'site', 'link' or 'host', got \"galaxy\"",
    );
  });
});

describe('FDB and route options', () => {
  it('builds a bridge fdb append entry', () => {
    expect(checkFdb({ link: 'vxlan100', mac: '00:00:00:00:00:00', dst: '2001:db8::2', vni: 100, port: 4789, append: true })).toEqual({
      link: 'vxlan100',
      append: true,
      params: { family: 7, state: 0x80, flags: 0x02, lladdr: '00:00:00:00:00:00', dst: '2001:db8::2', vni: 100, port: 4789 },
    });
    refuses(() => checkFdb({ link: 'vxlan100', mac: 'zz' }), 'ERR_INVALID_ARG_VALUE', 'Expected "mac" to be a MAC address like 02:00:00:00:00:01, got "zz"');
    refuses(
      () => checkFdb({ link: 'vxlan100', mac: '00:00:00:00:00:00', dst: 'x' }),
      'ERR_INVALID_ARG_VALUE',
      'Expected "dst" to be an IPv4 or IPv6 address, got "x"',
    );
  });
  it('builds routes as ip does (boot protocol, link scope without gateway)', () => {
    expect(checkRoute({ destination: '2001:db8:1::/48', dev: 'br0' }).params).toMatchObject({
      family: 10,
      dstLen: 48,
      protocol: 3,
      scope: 253,
      type: 1,
      tableId: 254,
    });
    refuses(
      () => checkRoute({ destination: '2001:db8:1::/48', gateway: '192.0.2.1' }),
      'ERR_INVALID_ARG_VALUE',
      'Expected "gateway" to be an IPv6 address like the destination, got "192.0.2.1"',
    );
  });
});
