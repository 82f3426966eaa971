import { describe, expect, it } from 'vitest';

import { eui64Address, macForVm } from '../../lib/mac.js';

describe('eui64Address', () => {
  it('gives the address SLAAC gives the reference VM', () => {
    expect(eui64Address('2a0a:e5c1:111:888::/64', '02:00:f0:a9:c4:4e')).toBe('2a0a:e5c1:111:888:0:f0ff:fea9:c44e');
  });

  it('flips the universal/local bit and inserts ff:fe (RFC 4291 appendix A)', () => {
    expect(eui64Address('2001:db8::/64', '52:54:00:12:34:56')).toBe('2001:db8::5054:ff:fe12:3456');
    expect(eui64Address('2001:db8:1:2::/64', '00:00:00:00:00:01')).toBe('2001:db8:1:2:200:ff:fe00:1');
    expect(eui64Address('fd00::/64', 'AA:BB:CC:DD:EE:FE')).toBe('fd00::a8bb:ccff:fedd:eefe');
  });

  it('ignores host bits of the prefix', () => {
    expect(eui64Address('2a0a:e5c1:111:888::1/64', '02:00:f0:a9:c4:4e')).toBe('2a0a:e5c1:111:888:0:f0ff:fea9:c44e');
  });

  it('refuses prefixes that are not an IPv6 /64, and non-unicast MACs', () => {
    expect(() => eui64Address('2a0a:e5c1:111:888::/48', '02:00:f0:a9:c4:4e')).toThrow(/"prefix" to be an IPv6 \/64 prefix/);
    expect(() => eui64Address('192.0.2.0/24', '02:00:f0:a9:c4:4e')).toThrow(/"prefix"/);
    expect(() => eui64Address('2001:db8::/64', '01:00:5e:00:00:01')).toThrow(/"mac".*multicast/);
    expect(() => eui64Address('2001:db8::/64', '02:00:f0:a9:c4')).toThrow(/"mac"/);
  });
});

describe('macForVm', () => {
  it('maps integer ids one to one into 02:00:…', () => {
    expect(macForVm(0)).toBe('02:00:00:00:00:00');
    expect(macForVm(1)).toBe('02:00:00:00:00:01');
    expect(macForVm(0xf0a9c44e)).toBe('02:00:f0:a9:c4:4e');
    expect(macForVm(0xffffffff)).toBe('02:00:ff:ff:ff:ff');
  });

  it('is deterministic for strings, locally administered and unicast', () => {
    const a = macForVm('uc1');
    expect(a).toBe(macForVm('uc1'));
    expect(a).not.toBe(macForVm('uc2'));
    expect(a).toMatch(/^02:00(:[0-9a-f]{2}){4}$/);
    const first = parseInt(a.slice(0, 2), 16);
    expect(first & 0x02).toBe(0x02);
    expect(first & 0x01).toBe(0);
  });

  it('refuses ids it cannot map', () => {
    expect(() => macForVm(-1)).toThrow(/"id"/);
    expect(() => macForVm(2 ** 32)).toThrow(/"id"/);
    expect(() => macForVm(1.5)).toThrow(/"id"/);
    expect(() => macForVm('')).toThrow(/"id"/);
    expect(() => macForVm({} as unknown as string)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});
