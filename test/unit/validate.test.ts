import { describe, expect, it } from 'vitest';
import { bytesToIPv6, checkIfname, checkInteger, checkPrefixed, checkUnicastMac, ipv6ToBytes } from '../../lib/validate.js';

describe('validate', () => {
  it('names the field and the value with Node codes', () => {
    expect(() => checkInteger('vni', 16777216, 0, 16777215)).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: 'Expected "vni" to be an integer from 0 to 16777215, got 16777216' }),
    );
    expect(() => checkInteger('vni', '5', 0, 10)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  it.each(['', '.', '..', 'a/b', 'a:b', 'a b', 'x'.repeat(16)])('refuses interface name %j', (name) => {
    expect(() => checkIfname('name', name)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });

  it('accepts 15-byte names', () => {
    expect(checkIfname('name', 'x'.repeat(15))).toBe('x'.repeat(15));
  });

  it('refuses multicast MACs', () => {
    expect(() => checkUnicastMac('mac', '01:00:5e:00:00:01')).toThrow(/multicast/u);
    expect(checkUnicastMac('mac', '02:00:F0:A9:C4:4E')).toBe('02:00:f0:a9:c4:4e');
  });

  it('parses prefixes', () => {
    expect(checkPrefixed('address', '2a0a:e5c1:111:888::1/64')).toEqual({ address: '2a0a:e5c1:111:888::1', prefixLength: 64, family: 6 });
    expect(() => checkPrefixed('address', '10.0.0.1/33')).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });

  it('round-trips IPv6 bytes in RFC 5952 form', () => {
    for (const a of ['ff05::100', '2a0a:e5c1:111:888:0:f0ff:fea9:c44e', '::', '::1', 'fe80::1', '2001:db8:0:1:1:1:1:1', '1::']) {
      expect(bytesToIPv6(ipv6ToBytes(a))).toBe(a);
    }
    expect(bytesToIPv6(ipv6ToBytes('2001:0db8:0000:0000:0000:0000:0000:0001'))).toBe('2001:db8::1');
  });
});
