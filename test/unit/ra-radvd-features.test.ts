/**
 * radvd's features in the RA state machine and the encoder, on a fake clock: clients lists,
 * UnicastOnly, MinDelayBetweenRAs, DecrementLifetimes, RemoveAdvOnExit, the advertisement
 * interval option (and the Mobile IPv6 intervals it allows), the SNAC and P flags, the
 * captive portal option, and prefixes and routes with bits past their length.
 */
import { describe, expect, it } from 'vitest';
import { buildAdvertisements, decodeAdvertisement } from '../../lib/ra/codec.js';
import { resolveInterfaceConfig } from '../../lib/ra/config.js';
import { InterfaceAdvertiser, type AdvertiserHost, type LinkInfo } from '../../lib/ra/interface-advertiser.js';
import { TimerQueue } from '../../lib/ra/timer-queue.js';
import type { RaInterfaceConfig } from '../../lib/ra/types.js';
import { bytesToIPv6, ipv6ToBytes } from '../../lib/validate.js';
import { FakeClock } from './ra-fake-clock.js';

const LINK: LinkInfo = { index: 7, name: 'br100', mac: '02:00:00:00:01:00', mtu: 1500, linkLocal: 'fe80::ff:fe00:100' };
const RS = Buffer.from([133, 0, 0, 0, 0, 0, 0, 0]);
const A = 'fe80::a';
const B = 'fe80::b';
const C = 'fe80::c';

function setup(config: Partial<RaInterfaceConfig> = {}) {
  const clock = new FakeClock(3);
  const queue = new TimerQueue(clock, 20);
  const sent: Array<{ at: number; destination: string; message: Buffer }> = [];
  const host: AdvertiserHost = {
    queue,
    transmit(_index, _source, destination, message) {
      sent.push({ at: clock.now(), destination: bytesToIPv6(destination), message });
      return 0;
    },
    onSent: undefined,
    onReceived: undefined,
    onSendError: () => undefined,
    onSourceUnusable: () => undefined,
  };
  const iface = new InterfaceAdvertiser(
    resolveInterfaceConfig('c', {
      name: 'br100',
      minInterval: 3,
      maxInterval: 4,
      defaultLifetime: 600,
      prefixes: [{ prefix: '2001:db8::/64' }],
      ...config,
    }),
    host,
  );
  const solicit = (from: string) => iface.solicit(Buffer.from(ipv6ToBytes(from)), 255, RS);
  return { clock, sent, iface, solicit };
}

describe('clients { … } and UnicastOnly', () => {
  it('sends the periodic and final RAs to each listed client by unicast, never to ff02::1, skipping ignored ones', async () => {
    const { clock, sent, iface } = setup({ clients: [A, B], ignoredClients: [C] });
    iface.setLink(LINK);
    clock.advance(20_000);
    expect(sent.length).toBeGreaterThanOrEqual(8);
    expect(new Set(sent.map((s) => s.destination))).toEqual(new Set([A, B]));
    const stopping = iface.stop(1);
    clock.advance(5_000);
    await stopping;
    const finals = sent.filter((s) => s.message.readUInt16BE(6) === 0);
    expect(finals.map((s) => s.destination).sort()).toEqual([A, B]);
    expect(iface.stats()).toMatchObject({ multicastAdvertisementsSent: 0, unicastAdvertisementsSent: sent.length, finalAdvertisementsSent: 2 });
  });

  it('answers listed clients only; UnrestrictedUnicast answers others too, never the ignored ones', () => {
    for (const [unrestrictedUnicast, answered] of [
      [false, [A]],
      [true, [A, 'fe80::d']],
    ] as const) {
      const { clock, sent, iface, solicit } = setup({ clients: [A], ignoredClients: [C], unrestrictedUnicast });
      iface.setLink(LINK);
      clock.advance(1_000);
      sent.length = 0;
      for (const from of [A, C, 'fe80::d']) solicit(from);
      clock.advance(600); // replies come within MAX_RA_DELAY_TIME; the next periodic RA is ≥ 3 s away
      expect(sent.map((s) => s.destination).sort()).toEqual([...answered].sort());
    }
  });

  it('UnicastOnly without clients: no unsolicited RA, no final RA; a solicitation from an address gets a unicast reply, from :: nothing', async () => {
    const { clock, sent, iface, solicit } = setup({ unicastOnly: true });
    iface.setLink(LINK);
    clock.advance(60_000);
    expect(sent).toEqual([]);
    solicit('::');
    clock.advance(5_000);
    expect(sent).toEqual([]);
    solicit(A);
    clock.advance(600);
    expect(sent.map((s) => s.destination)).toEqual([A]);
    const stopping = iface.stop(3);
    clock.advance(10_000);
    await stopping;
    expect(sent).toHaveLength(1);
    // The control: the same without UnicastOnly multicasts.
    const control = setup({});
    control.iface.setLink(LINK);
    control.clock.advance(5_000);
    expect(control.sent.some((s) => s.destination === 'ff02::1')).toBe(true);
  });
});

describe('timing and lifetimes', () => {
  it('MinDelayBetweenRAs spaces a solicited multicast reply (and the final RAs) from the last multicast RA', async () => {
    for (const minDelayBetweenRAs of [3, 10]) {
      const { clock, sent, iface, solicit } = setup({ minInterval: 30, maxInterval: 60, defaultLifetime: 600, minDelayBetweenRAs, solicitedUnicast: false });
      iface.setLink(LINK);
      clock.advance(600);
      expect(sent).toHaveLength(1);
      solicit(A);
      clock.advance(12_000);
      expect(sent[1]!.at - sent[0]!.at).toBeGreaterThanOrEqual(minDelayBetweenRAs * 1000);
      expect(sent[1]!.at - sent[0]!.at).toBeLessThanOrEqual(minDelayBetweenRAs * 1000 + 520);
      const stopping = iface.stop(2);
      clock.advance(30_000);
      await stopping;
      const finals = sent.filter((s) => s.message.readUInt16BE(6) === 0);
      expect(finals).toHaveLength(2);
      expect(finals[1]!.at - finals[0]!.at).toBe(minDelayBetweenRAs * 1000);
    }
  });

  it('DecrementLifetimes: each RA carries the lifetimes less the whole seconds since the first; the prefix goes once preferred is 0', () => {
    const { clock, sent, iface } = setup({
      prefixes: [
        { prefix: '2001:db8:1::/64', validLifetime: 100, preferredLifetime: 20, decrementLifetimes: true },
        { prefix: '2001:db8:2::/64', validLifetime: 100, preferredLifetime: 20 },
      ],
    });
    iface.setLink(LINK);
    clock.advance(40_000);
    const first = sent[0]!.at;
    for (const s of sent) {
      const prefixes = decodeAdvertisement(s.message).options.filter((o) => o.type === 'prefix');
      const elapsed = Math.floor((s.at - first) / 1000);
      const counting = prefixes.find((o) => o.prefix === '2001:db8:1::');
      if (elapsed < 20) expect(counting).toMatchObject({ validLifetime: 100 - elapsed, preferredLifetime: 20 - elapsed });
      else expect(counting).toBeUndefined();
      expect(prefixes.find((o) => o.prefix === '2001:db8:2::')).toMatchObject({ validLifetime: 100, preferredLifetime: 20 });
    }
    expect(sent.some((s) => s.at - first >= 20_000)).toBe(true);
  });

  it('RemoveAdvOnExit off: stop() sends no final RA', async () => {
    const { clock, sent, iface } = setup({ removeOnStop: false });
    iface.setLink(LINK);
    clock.advance(1_000);
    const before = sent.length;
    const stopping = iface.stop(3);
    clock.advance(10_000);
    await stopping;
    expect(sent).toHaveLength(before);
  });
});

describe("prefix ::/64: the interface's own prefixes", () => {
  it("advertises one option per own prefix with the block's flags, lifetimes capped by the address's, minus autoignoreprefixes; follows changes", () => {
    const { clock, sent, iface } = setup({
      prefixes: [{ prefix: '::/64', onLink: false, validLifetime: 7200, preferredLifetime: 3600 }, { prefix: '2001:db8:f::/64' }],
      autoIgnorePrefixes: ['2001:db8:bad::/64'],
    });
    iface.setLink({
      ...LINK,
      prefixes: [
        { address: '2001:db8:1::', length: 64 },
        { address: '2001:db8:2::', length: 64, validLifetime: 600, preferredLifetime: 300 },
        { address: '2001:db8:3::', length: 48 },
        { address: '2001:db8:bad::', length: 64 },
      ],
    });
    clock.advance(600);
    const prefixes = () => decodeAdvertisement(sent.at(-1)!.message).options.filter((o) => o.type === 'prefix');
    expect(prefixes()).toEqual([
      {
        type: 'prefix',
        prefix: '2001:db8:1::',
        length: 64,
        onLink: false,
        autonomous: true,
        routerAddress: false,
        validLifetime: 7200,
        preferredLifetime: 3600,
      },
      { type: 'prefix', prefix: '2001:db8:2::', length: 64, onLink: false, autonomous: true, routerAddress: false, validLifetime: 600, preferredLifetime: 300 },
      // Not a /64: no A flag (RFC 4862 §5.5.3 d).
      {
        type: 'prefix',
        prefix: '2001:db8:3::',
        length: 48,
        onLink: false,
        autonomous: false,
        routerAddress: false,
        validLifetime: 7200,
        preferredLifetime: 3600,
      },
      {
        type: 'prefix',
        prefix: '2001:db8:f::',
        length: 64,
        onLink: true,
        autonomous: true,
        routerAddress: false,
        validLifetime: 86400,
        preferredLifetime: 14400,
      },
    ]);
    iface.setLink({ ...LINK, prefixes: [{ address: '2001:db8:4::', length: 64 }] });
    clock.advance(5_000);
    expect(prefixes().map((o) => o.type === 'prefix' && o.prefix)).toEqual(['2001:db8:4::', '2001:db8:f::']);
    // Without a link, nothing stands for `::`: the encoder alone never sends the template.
    const alone = buildAdvertisements({ config: resolveInterfaceConfig('c', { name: 'br0', prefixes: [{ prefix: '::/64' }] }) })[0]!;
    expect(decodeAdvertisement(alone).options.filter((o) => o.type === 'prefix')).toEqual([]);
  });
});

describe('options and flags radvd sends', () => {
  const ra = (config: Partial<RaInterfaceConfig>, final = false) =>
    buildAdvertisements({ config: resolveInterfaceConfig('c', { name: 'br0', ...config }), final })[0]!;

  it("the advertisement interval option carries MaxRtrAdvInterval in ms (RFC 6275 §7.3), with radvd's 20 ms leeway below 0.2 s", () => {
    expect(decodeAdvertisement(ra({ intervalOption: true, maxInterval: 10.5 })).options).toContainEqual({ type: 'advertisementInterval', interval: 10_500 });
    expect(ra({ intervalOption: true, maxInterval: 10.5 }).toString('hex')).toContain('0701000000002904');
    expect(decodeAdvertisement(ra({ intervalOption: true, maxInterval: 0.07, minInterval: 0.03 })).options).toContainEqual({
      type: 'advertisementInterval',
      interval: 90,
    });
    expect(decodeAdvertisement(ra({ maxInterval: 10.5 })).options.some((o) => o.type === 'advertisementInterval')).toBe(false);
  });

  it('allows the Mobile IPv6 intervals only with the interval option or a router address', () => {
    expect(() => resolveInterfaceConfig('c', { name: 'br0', maxInterval: 0.07 })).toThrow(/"c\.maxInterval" .* from 4 to 65535/);
    // The default MinRtrAdvInterval, 0.33 × max, floored at the Mobile IPv6 minimum of 30 ms.
    expect(resolveInterfaceConfig('c', { name: 'br0', maxInterval: 0.07, intervalOption: true }).minInterval).toBe(0.03);
    expect(resolveInterfaceConfig('c', { name: 'br0', maxInterval: 1, prefixes: [{ prefix: '2001:db8::1/64', routerAddress: true }] }).maxInterval).toBe(1);
    expect(() => resolveInterfaceConfig('c', { name: 'br0', minDelayBetweenRAs: 1 })).toThrow(/"c\.minDelayBetweenRAs"/);
  });

  it('sets the SNAC router flag, the P flag, and sends the captive portal URI', () => {
    expect(ra({ snacRouter: true })[5]! & 0x02).toBe(0x02);
    expect(ra({})[5]! & 0x02).toBe(0);
    const pio = ra({ prefixes: [{ prefix: '2001:db8::/64', dhcpv6PdPreferred: true }] }).subarray(16, 48);
    expect(pio[3]).toBe(0x80 | 0x40 | 0x10);
    const portal = ra({ captivePortal: 'https://portal.example/api' });
    expect(decodeAdvertisement(portal).options).toContainEqual({ type: 'captivePortal', uri: 'https://portal.example/api' });
    // 2 + 26 bytes padded to 32: length 4 units.
    expect(portal.subarray(16, 18)).toEqual(Buffer.from([37, 4]));
    expect(() => resolveInterfaceConfig('c', { name: 'br0', captivePortal: 'has space' })).toThrow(/"c\.captivePortal"/);
  });

  it('zeroes the bits past the prefix length in prefix and route options, except a router address (R flag)', () => {
    const options = decodeAdvertisement(
      ra({
        prefixes: [{ prefix: '2001:db8:0:2::4/64' }, { prefix: '2001:db8:0:1::4/64', routerAddress: true }],
        routes: [{ prefix: 'fe80:f:2::/32' }, { prefix: '2001:db8:ffff:1234::/50' }],
      }),
    ).options;
    expect(options.filter((o) => o.type === 'prefix').map((o) => o.prefix)).toEqual(['2001:db8:0:2::', '2001:db8:0:1::4']);
    expect(options.filter((o) => o.type === 'route').map((o) => o.prefix)).toEqual(['fe80:f::', '2001:db8:ffff::']);
  });

  it('DeprecatePrefix, RemoveRoute off, FlushRDNSS/FlushDNSSL off in the final RA', () => {
    const config: Partial<RaInterfaceConfig> = {
      prefixes: [{ prefix: '2001:db8::/64', deprecateOnStop: true }, { prefix: '2001:db8:1::/64' }],
      routes: [
        { prefix: '2001:db8:9::/48', lifetime: 900, removeOnStop: false },
        { prefix: '2001:db8:8::/48', lifetime: 900 },
      ],
      rdnss: [{ servers: ['2001:db8::53'], lifetime: 900, flushOnStop: false }],
      dnssl: [{ domains: ['Example.COM'], lifetime: 900, flushOnStop: false }],
    };
    const final = decodeAdvertisement(ra(config, true)).options;
    expect(final).toEqual([
      expect.objectContaining({ type: 'prefix', prefix: '2001:db8::', preferredLifetime: 0, validLifetime: 7200 }),
      expect.objectContaining({ type: 'prefix', prefix: '2001:db8:1::', preferredLifetime: 14400, validLifetime: 86400 }),
      expect.objectContaining({ type: 'route', prefix: '2001:db8:9::', lifetime: 900 }),
      expect.objectContaining({ type: 'route', prefix: '2001:db8:8::', lifetime: 0 }),
      { type: 'rdnss', servers: ['2001:db8::53'], lifetime: 900 },
      { type: 'dnssl', domains: ['Example.COM'], lifetime: 900 },
    ]);
  });
});
