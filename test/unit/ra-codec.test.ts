/**
 * The RA encoder against what radvd 2.19 sends for the reference radvd.conf
 * (test/fixtures/ra/, see its README for the capture recipe), byte for byte.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildAdvertisements, decodeAdvertisement, icmpv6Checksum } from '../../lib/ra/codec.js';
import { resolveInterfaceConfig } from '../../lib/ra/config.js';
import { parseRadvdConf } from '../../lib/ra/radvd-conf.js';
import { readFileSync } from 'node:fs';
import { readPcap } from '../helpers/ra-pcap.js';

const fixtures = fileURLToPath(new URL('../fixtures/ra/', import.meta.url));
const captured = readPcap(`${fixtures}radvd-reference.pcap`);
const MAC = '02:00:00:00:01:00';
const reference = () => {
  const parsed = parseRadvdConf(readFileSync(`${fixtures}radvd.conf`, 'utf8'));
  return resolveInterfaceConfig('interfaces[0]', parsed.interfaces[0]);
};
const withoutChecksum = (b: Buffer): Buffer => {
  const c = Buffer.from(b);
  c.writeUInt16BE(0, 2);
  return c;
};

describe('RA encoding vs radvd', () => {
  it('the capture holds the three RAs the README describes', () => {
    expect(captured).toHaveLength(3);
    for (const p of captured) {
      expect(p.nextHeader).toBe(58);
      expect(p.hopLimit).toBe(255);
      expect(p.source).toBe('fe80::ff:fe00:100');
      expect(icmpv6Checksum(p.source, p.destination, p.payload)).toBe(p.payload.readUInt16BE(2));
    }
  });

  it("the periodic RA equals radvd's byte for byte (parsed from the same radvd.conf)", () => {
    const [ra] = buildAdvertisements({ config: reference(), mac: MAC, linkMtu: 1500 });
    expect(ra).toBeDefined();
    expect(ra!.toString('hex')).toBe(withoutChecksum(captured[0]!.payload).toString('hex'));
    // With the checksum the kernel fills in, the packet on the wire is identical.
    const p = captured[0]!;
    expect(icmpv6Checksum(p.source, p.destination, ra!)).toBe(p.payload.readUInt16BE(2));
  });

  it('the solicited (unicast) reply has the same content', () => {
    const [ra] = buildAdvertisements({ config: reference(), mac: MAC });
    expect(ra!.equals(withoutChecksum(captured[1]!.payload))).toBe(true);
    expect(captured[1]!.destination.startsWith('fe80::')).toBe(true);
  });

  it("the final RA equals radvd's stop advert (router lifetime 0, RDNSS/DNSSL lifetime 0)", () => {
    const [ra] = buildAdvertisements({ config: reference(), mac: MAC, final: true });
    expect(ra!.toString('hex')).toBe(withoutChecksum(captured[2]!.payload).toString('hex'));
    const d = decodeAdvertisement(ra!);
    expect(d.routerLifetime).toBe(0);
    expect(d.options.find((o) => o.type === 'rdnss')).toMatchObject({ lifetime: 0 });
    expect(d.options.find((o) => o.type === 'dnssl')).toMatchObject({ lifetime: 0 });
  });

  it('decodes the reference RA', () => {
    const d = decodeAdvertisement(captured[0]!.payload);
    expect(d).toMatchObject({ hopLimit: 64, managed: false, other: false, preference: 'medium', routerLifetime: 3600 });
    expect(d.options).toEqual([
      {
        type: 'prefix',
        prefix: '2a0a:e5c1:111:888::',
        length: 64,
        onLink: true,
        autonomous: true,
        routerAddress: false,
        validLifetime: 86400,
        preferredLifetime: 14400,
      },
      { type: 'rdnss', servers: ['2a0a:e5c0::3', '2a0a:e5c0::4'], lifetime: 6000 },
      { type: 'dnssl', domains: ['place7.ungleich.ch'], lifetime: 6000 },
      { type: 'sourceLinkLayer', mac: MAC },
    ]);
  });
});

describe('RA encoding of the other options', () => {
  const config = resolveInterfaceConfig('c', {
    name: 'br0',
    maxInterval: 10,
    managed: true,
    other: true,
    preference: 'high',
    hopLimit: 0,
    reachableTime: 30000,
    retransTimer: 1000,
    mtu: 1400,
    sourceLinkLayerAddress: false,
    prefixes: [{ prefix: '2001:db8:1::/48', autonomous: false, routerAddress: true, validLifetime: 'infinity', preferredLifetime: 'infinity' }],
    routes: [{ prefix: '::/0', preference: 'low', lifetime: 100 }, { prefix: '2001:db8::/32' }, { prefix: '2001:db8:1:2:3::/80', preference: 'high' }],
    pref64: { prefix: '64:ff9b::/96', lifetime: 1800 },
  });

  it('encodes header flags, MTU, routes of every length and PREF64', () => {
    const [ra, ...more] = buildAdvertisements({ config, mac: '02:00:00:00:00:01' });
    expect(more).toHaveLength(0);
    const hex = ra!.toString('hex');
    // type 134, code 0, checksum 0, hop limit 0, M|O|Prf=high (0x80|0x40|0x08), lifetime 30, reachable, retrans
    expect(hex.slice(0, 32)).toBe('86000000' + '00c8' + '001e' + '00007530' + '000003e8');
    const d = decodeAdvertisement(ra!);
    expect(d.options).toEqual([
      {
        type: 'prefix',
        prefix: '2001:db8:1::',
        length: 48,
        onLink: true,
        autonomous: false,
        routerAddress: true,
        validLifetime: 0xffffffff,
        preferredLifetime: 0xffffffff,
      },
      // radvd's build_ra_options order: prefixes, NAT64 prefixes, routes, RDNSS, DNSSL, MTU, …
      { type: 'pref64', prefix: '64:ff9b::', length: 96, lifetime: 1800 },
      { type: 'route', prefix: '::', length: 0, preference: 'low', lifetime: 100 },
      { type: 'route', prefix: '2001:db8::', length: 32, preference: 'medium', lifetime: 30 },
      { type: 'route', prefix: '2001:db8:1:2:3::', length: 80, preference: 'high', lifetime: 30 },
      { type: 'mtu', mtu: 1400 },
    ]);
    // RFC 4191 §2.3: option lengths 1, 2, 3 for /0, ≤/64, >/64.
    expect(hex).toContain('1801' + '00' + '18' + '00000064');
    expect(hex).toContain('1802' + '20' + '00' + '0000001e' + '20010db800000000');
    // RFC 8781 §4: scaled lifetime 1800/8 = 225 << 3 | PLC 0 = 0x0708.
    expect(hex).toContain('2602' + '0708' + '0064ff9b0000000000000000');
  });

  it('sends preference medium when the router lifetime is 0 (RFC 4191 §2.2)', () => {
    const [ra] = buildAdvertisements({ config, final: true });
    expect(decodeAdvertisement(ra!)).toMatchObject({ routerLifetime: 0, preference: 'medium' });
  });

  it('advertises withdrawn items with lifetime 0', () => {
    const [ra] = buildAdvertisements({
      config: resolveInterfaceConfig('c', { name: 'br0' }),
      withdrawn: {
        prefixes: [
          { address: '2001:db8:9::', length: 64, onLink: true, autonomous: true, routerAddress: false, validLifetime: 86400, preferredLifetime: 14400 },
        ],
        routes: [],
        rdnss: [{ servers: ['2001:db8::53'], lifetime: 100 }],
        dnssl: [],
        pref64: [],
      },
    });
    expect(decodeAdvertisement(ra!).options).toEqual([
      expect.objectContaining({ type: 'prefix', prefix: '2001:db8:9::', validLifetime: 0, preferredLifetime: 0 }),
      { type: 'rdnss', servers: ['2001:db8::53'], lifetime: 0 },
    ]);
  });

  it('splits options over several RAs instead of exceeding the link MTU', () => {
    const prefixes = Array.from({ length: 60 }, (_, i) => ({ prefix: `2001:db8:${(i + 1).toString(16)}::/64` }));
    const big = resolveInterfaceConfig('c', { name: 'br0', mtu: 1280, prefixes, rdnss: [{ servers: ['2001:db8::53'] }] });
    const ras = buildAdvertisements({ config: big, mac: '02:00:00:00:00:01', linkMtu: 1280 });
    expect(ras.length).toBe(2);
    const seen: string[] = [];
    for (const ra of ras) {
      expect(ra.length + 40).toBeLessThanOrEqual(1280);
      const d = decodeAdvertisement(ra);
      // Every part is a complete RA with the link options.
      expect(d.routerLifetime).toBe(1800);
      expect(d.options.filter((o) => o.type === 'mtu' || o.type === 'sourceLinkLayer')).toHaveLength(2);
      for (const o of d.options) if (o.type === 'prefix') seen.push(o.prefix);
    }
    expect(seen).toEqual(prefixes.map((p) => p.prefix.replace('/64', '')));
  });
});
