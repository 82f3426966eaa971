/** Validation and RFC defaults of the RA configuration (RFC 4861 §6.2.1, RFC 8319). */
import { describe, expect, it } from 'vitest';
import { resolveInterfaceConfig, resolveOptions } from '../../lib/ra/config.js';

const f = 'interfaces[0]';
const base = { name: 'br100', prefixes: [{ prefix: '2a0a:e5c1:111:888::/64' }] };

describe('RA config defaults', () => {
  it('applies the RFC 4861 defaults', () => {
    expect(resolveInterfaceConfig(f, { name: 'br0' })).toMatchObject({
      maxInterval: 600,
      minInterval: 198,
      defaultLifetime: 1800,
      managed: false,
      other: false,
      preference: 'medium',
      hopLimit: 64,
      reachableTime: 0,
      retransTimer: 0,
      mtu: undefined,
      sourceLinkLayerAddress: true,
      solicitedUnicast: true,
    });
  });

  it('derives min and router lifetime from max', () => {
    expect(resolveInterfaceConfig(f, { name: 'br0', maxInterval: 5 })).toMatchObject({ minInterval: 3.75, defaultLifetime: 15 });
    expect(resolveInterfaceConfig(f, { name: 'br0', maxInterval: 30 })).toMatchObject({ minInterval: 9.9, defaultLifetime: 90 });
  });

  it('applies prefix, RDNSS, DNSSL, route and PREF64 defaults', () => {
    const c = resolveInterfaceConfig(f, {
      ...base,
      maxInterval: 5,
      rdnss: [{ servers: ['2a0a:e5c0:0::3'] }],
      dnssl: [{ domains: ['Place7.ungleich.ch.'] }],
      routes: [{ prefix: '2001:db8::/32' }],
      pref64: '64:ff9b::/96',
    });
    expect(c.prefixes[0]).toEqual({
      address: '2a0a:e5c1:111:888::',
      length: 64,
      onLink: true,
      autonomous: true,
      routerAddress: false,
      validLifetime: 86400,
      preferredLifetime: 14400,
    });
    expect(c.rdnss[0]).toEqual({ servers: ['2a0a:e5c0::3'], lifetime: 15 });
    // As written (no case folding, as radvd), without the trailing dot.
    expect(c.dnssl[0]).toEqual({ domains: ['Place7.ungleich.ch'], lifetime: 15 });
    expect(c.routes[0]).toEqual({ address: '2001:db8::', length: 32, preference: 'medium', lifetime: 15 });
    expect(c.pref64[0]).toEqual({ address: '64:ff9b::', length: 96, lifetime: 16 });
    expect(
      resolveInterfaceConfig(f, { ...base, prefixes: [{ prefix: '2001:db8::/64', validLifetime: 'infinity', preferredLifetime: 'infinity' }] }).prefixes[0],
    ).toMatchObject({ validLifetime: 0xffffffff, preferredLifetime: 0xffffffff });
  });
});

describe('RA config errors name the field and the value', () => {
  const cases: Array<[string, object, RegExp]> = [
    [
      'prefix not /64 while autonomous',
      { prefixes: [{ prefix: '2001:db8::/48' }] },
      /"interfaces\[0\]\.prefixes\[0\]\.prefix" to be a \/64 prefix while autonomous is true, got "2001:db8::\/48"/,
    ],
    [
      'preferred > valid',
      { prefixes: [{ prefix: '2001:db8::/64', validLifetime: 100, preferredLifetime: 200 }] },
      /"interfaces\[0\]\.prefixes\[0\]\.preferredLifetime" to be at most validLifetime \(100\), got 200/,
    ],
    ['minInterval below 3', { maxInterval: 10, minInterval: 2 }, /"interfaces\[0\]\.minInterval" to be a number from 3 to 7\.5, got 2/],
    ['minInterval above 0.75 max', { maxInterval: 10, minInterval: 8 }, /"interfaces\[0\]\.minInterval" to be a number from 3 to 7\.5, got 8/],
    ['maxInterval below 4', { maxInterval: 3 }, /"interfaces\[0\]\.maxInterval" to be a number from 4 to 65535, got 3/],
    ['maxInterval above 65535', { maxInterval: 70000 }, /"interfaces\[0\]\.maxInterval" to be a number from 4 to 65535, got 70000/],
    ['router lifetime below max', { maxInterval: 600, defaultLifetime: 300 }, /"interfaces\[0\]\.defaultLifetime"/],
    ['bad prefix address', { prefixes: [{ prefix: '2001:zz8::/64' }] }, /"interfaces\[0\]\.prefixes\[0\]\.prefix" to be an address with prefix length/],
    ['IPv4 prefix', { prefixes: [{ prefix: '10.0.0.0/24', autonomous: false }] }, /"interfaces\[0\]\.prefixes\[0\]\.prefix" to be an IPv6 prefix/],
    [
      'bad RDNSS server',
      { rdnss: [{ servers: ['2a0a:e5c0::3', 'dns.example'] }] },
      /"interfaces\[0\]\.rdnss\[0\]\.servers\[1\]" to be an IPv6 address, got "dns\.example"/,
    ],
    ['no RDNSS server', { rdnss: [{ servers: [] }] }, /"interfaces\[0\]\.rdnss\[0\]\.servers"/],
    [
      'DNSSL name that is not a domain',
      { dnssl: [{ domains: ['place7..ch'] }] },
      /"interfaces\[0\]\.dnssl\[0\]\.domains\[0\]" to be a domain name like example\.com, got "place7\.\.ch"/,
    ],
    ['DNSSL label too long', { dnssl: [{ domains: [`${'a'.repeat(64)}.ch`] }] }, /dnssl\[0\]\.domains\[0\]/],
    ['DNSSL with a space', { dnssl: [{ domains: ['a b.ch'] }] }, /dnssl\[0\]\.domains\[0\]/],
    // Host name syntax (RFC 1035 §2.3.1), as radvd: "invalid domain suffix specified".
    ['DNSSL with an underscore', { dnssl: [{ domains: ['_sites.example.com'] }] }, /dnssl\[0\]\.domains\[0\]" to be a domain name like example\.com/],
    ['DNSSL label ending in a hyphen', { dnssl: [{ domains: ['a-.example.com'] }] }, /dnssl\[0\]\.domains\[0\]/],
    ['PREF64 length', { pref64: '64:ff9b::/80' }, /"interfaces\[0\]\.pref64" to be a NAT64 prefix of length 32, 40, 48, 56, 64 or 96/],
    ['PREF64 lifetime', { pref64: { prefix: '64:ff9b::/96', lifetime: 70000 } }, /"interfaces\[0\]\.pref64\.lifetime"/],
    [
      'route preference',
      { routes: [{ prefix: '::/0', preference: 'urgent' }] },
      /"interfaces\[0\]\.routes\[0\]\.preference" to be one of 'low', 'medium', 'high', got "urgent"/,
    ],
    ['mtu below 1280', { mtu: 1000 }, /"interfaces\[0\]\.mtu" to be an integer from 1280/],
    ['hop limit', { hopLimit: 256 }, /"interfaces\[0\]\.hopLimit"/],
    ['interface name', { name: 'a/b' }, /"interfaces\[0\]\.name"/],
    ['managed not boolean', { managed: 'yes' }, /"interfaces\[0\]\.managed" to be a boolean/],
  ];
  it.each(cases)('%s', (_name, extra, message) => {
    expect(() => resolveInterfaceConfig(f, { ...base, ...extra })).toThrow(message);
  });

  it('sends one final RA by default, as radvd (a host destroying many networks waits for none)', () => {
    expect(resolveOptions({ interfaces: [base] }).finalAdvertisements).toBe(1);
    expect(resolveOptions({ interfaces: [base], finalAdvertisements: 3 }).finalAdvertisements).toBe(3);
  });

  it('takes host-name DNSSL domains: hyphens inside labels, digits first (the control of the refusals above)', () => {
    const c = resolveInterfaceConfig(f, { ...base, dnssl: [{ domains: ['a-b.example.com', '1abc.example.com.'] }] });
    expect(c.dnssl[0]?.domains).toEqual(['a-b.example.com', '1abc.example.com']);
  });

  it('refuses an interface configured twice and a bad finalAdvertisements', () => {
    expect(() => resolveOptions({ interfaces: [base, base] })).toThrow(/"options\.interfaces\[1\]\.name" to be a name not configured twice/);
    expect(() => resolveOptions({ interfaces: [base], finalAdvertisements: 4 })).toThrow(/"options\.finalAdvertisements"/);
  });

  it('uses Node error codes', () => {
    try {
      resolveInterfaceConfig(f, { ...base, maxInterval: 3 });
      expect.unreachable();
    } catch (e) {
      expect((e as { code: string }).code).toBe('ERR_OUT_OF_RANGE');
    }
  });
});

describe('RA configs share their empty lists, and stay independent', () => {
  const lists = ['clients', 'ignoredClients', 'autoIgnorePrefixes', 'rdnss', 'dnssl', 'routes', 'pref64'] as const;

  it('two bridges without clients, routes, DNS options share one frozen empty list', () => {
    const a = resolveInterfaceConfig(f, { ...base, name: 'br100' });
    const b = resolveInterfaceConfig(f, { name: 'br200', prefixes: [{ prefix: '2a0a:e5c1:111:999::/64' }] });
    for (const list of lists) {
      expect(a[list]).toBe(b[list]);
      expect(Object.isFrozen(a[list])).toBe(true);
    }
    expect(a.prefixes).not.toBe(b.prefixes);
  });

  it('changing one bridge config leaves the other as it was', () => {
    const a = resolveInterfaceConfig(f, { ...base, name: 'br100' });
    const b = resolveInterfaceConfig(f, { name: 'br200', prefixes: [{ prefix: '2a0a:e5c1:111:999::/64' }] });
    // An update resolves the new config afresh: its lists are its own.
    const a2 = resolveInterfaceConfig(f, { ...base, name: 'br100', rdnss: [{ servers: ['2001:db8::53'] }], routes: [{ prefix: '2001:db8::/32' }] });
    expect(a2.rdnss).toHaveLength(1);
    expect(a2.routes).toHaveLength(1);
    expect(b.rdnss).toEqual([]);
    expect(b.routes).toEqual([]);
    expect(a.rdnss).toEqual([]);
    // And nothing can add to the shared list in place.
    expect(() => (b.rdnss as unknown[]).push({ servers: ['2001:db8::53'], lifetime: 15 })).toThrow(TypeError);
    expect(a.rdnss).toEqual([]);
  });
});
