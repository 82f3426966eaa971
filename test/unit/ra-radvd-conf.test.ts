/** radvd.conf(5) import, including errors with their line numbers. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseRadvdConf, RadvdConfError } from '../../lib/ra/radvd-conf.js';
import { referenceRaInterface } from '../helpers/reference.js';

describe('parseRadvdConf', () => {
  it('reads the reference radvd.conf', () => {
    const text = readFileSync(new URL('../fixtures/ra/radvd.conf', import.meta.url), 'utf8');
    // The tests' reference interface (test/helpers/reference.ts) is this file's, field for field.
    // followForwarding: radvd's router lifetime 0 while the host does not forward.
    expect(parseRadvdConf(text)).toEqual({ interfaces: [{ ...referenceRaInterface(), followForwarding: true }] });
  });

  it('reads every supported option, comments and several interfaces', () => {
    const conf = `
# a comment
interface br1 {   # trailing comment
  AdvSendAdvert on;
  MaxRtrAdvInterval 30; MinRtrAdvInterval 10.5;
  AdvDefaultLifetime 90; AdvManagedFlag on; AdvOtherConfigFlag on;
  AdvLinkMTU 1400; AdvReachableTime 30000; AdvRetransTimer 1000; AdvCurHopLimit 32;
  AdvDefaultPreference high; AdvSourceLLAddress off; AdvRASolicitedUnicast off; IgnoreIfMissing on;
  prefix 2001:db8:1::/64 { AdvOnLink off; AdvAutonomous on; AdvRouterAddr on; AdvValidLifetime infinity; AdvPreferredLifetime 600; };
  route 2001:db8::/32 { AdvRoutePreference low; AdvRouteLifetime 120; RemoveRoute on; };
  RDNSS 2001:db8::53 { AdvRDNSSLifetime infinity; FlushRDNSS on; };
  DNSSL a.example b.example { AdvDNSSLLifetime 100; };
  nat64prefix 64:ff9b::/96 { AdvValidLifetime 1800; };
};
interface br2 { AdvSendAdvert on; };
interface br3 { AdvSendAdvert off; };
`;
    expect(parseRadvdConf(conf)).toEqual({
      interfaces: [
        {
          name: 'br1',
          followForwarding: true,
          maxInterval: 30,
          minInterval: 10.5,
          defaultLifetime: 90,
          managed: true,
          other: true,
          mtu: 1400,
          reachableTime: 30000,
          retransTimer: 1000,
          hopLimit: 32,
          preference: 'high',
          sourceLinkLayerAddress: false,
          solicitedUnicast: false,
          prefixes: [{ prefix: '2001:db8:1::/64', onLink: false, autonomous: true, routerAddress: true, validLifetime: 'infinity', preferredLifetime: 600 }],
          routes: [{ prefix: '2001:db8::/32', preference: 'low', lifetime: 120, removeOnStop: true }],
          rdnss: [{ servers: ['2001:db8::53'], lifetime: 'infinity', flushOnStop: true }],
          dnssl: [{ domains: ['a.example', 'b.example'], lifetime: 100 }],
          pref64: [{ prefix: '64:ff9b::/96', lifetime: 1800 }],
        },
        { name: 'br2', followForwarding: true },
      ],
    });
  });

  const errors: Array<[string, string, number, RegExp]> = [
    ['unknown option', 'interface br0 {\n  AdvSendAdvert on;\n  AdvFrobnicate on;\n};', 3, /unknown option "AdvFrobnicate"/],
    [
      'unknown prefix option',
      'interface br0 {\nAdvSendAdvert on;\nprefix 2001:db8::/64 {\n  AdvOnLink on;\n  AdvBogus 1;\n};\n};',
      5,
      /unknown prefix option "AdvBogus"/,
    ],
    ['bad flag', 'interface br0 {\n AdvSendAdvert maybe;\n};', 2, /expected on or off, got "maybe"/],
    ['bad number', 'interface br0 {\n AdvSendAdvert on;\n MaxRtrAdvInterval ten;\n};', 3, /expected a number, got "ten"/],
    ['missing semicolon', 'interface br0 {\n AdvSendAdvert on\n MaxRtrAdvInterval 10;\n};', 3, /expected ";"/],
    ['unterminated block', 'interface br0 {\n AdvSendAdvert on;\n', 3, /unexpected end of file/],
    ['not an interface', 'inteface br0 {};', 1, /expected "interface"/],
    [
      'unsupported option switched on',
      'interface br0 {\n AdvSendAdvert on;\n AdvHomeAgentFlag on;\n};',
      3,
      /"AdvHomeAgentFlag on" is not supported: vmplumb does not implement Mobile IPv6 home agents/,
    ],
    ['abro block', 'interface br0 {\n AdvSendAdvert on;\n abro fe80::1 { AdvVersionLow 1; };\n};', 3, /"abro" blocks are not supported/],
    ['lowpanco block', 'interface br0 {\n AdvSendAdvert on;\n\n lowpanco { };\n};', 4, /"lowpanco" blocks are not supported/],
    [
      'Base6Interface',
      'interface br0 {\n AdvSendAdvert on;\n prefix 2001:db8::/64 {\n  Base6Interface eth1;\n };\n};',
      4,
      /"Base6Interface eth1" is not supported/,
    ],
    [
      'bad autoignoreprefixes',
      'interface br0 {\n AdvSendAdvert on;\n prefix ::/64 { };\n autoignoreprefixes {\n  2001:db8::/129;\n };\n};',
      5,
      /autoIgnorePrefixes\[0\]/,
    ],
    ['semantic: bad client', 'interface br0 {\n AdvSendAdvert on;\n clients {\n  fe80::1;\n  fe80::zz;\n };\n};', 5, /clients\[1\]/],
    [
      'semantic: interval out of range',
      'interface br0 {\n AdvSendAdvert on;\n MaxRtrAdvInterval 5;\n MinRtrAdvInterval 4;\n};',
      4,
      /"options\.interfaces\[0\]\.minInterval" to be a number from 3 to 3\.75, got 4/,
    ],
    ['semantic: prefix length', 'interface br0 {\n AdvSendAdvert on;\n\n prefix 2001:db8::/129 {\n };\n};', 4, /prefixes\[0\]\.prefix/],
    [
      'semantic: preferred > valid',
      'interface br0 {\n AdvSendAdvert on;\n prefix 2001:db8::/64 {\n  AdvValidLifetime 10;\n  AdvPreferredLifetime 20;\n };\n};',
      5,
      /preferredLifetime/,
    ],
    ['semantic: bad RDNSS address', 'interface br0 {\n AdvSendAdvert on;\n RDNSS 2001:db8::53 nameserver { };\n};', 3, /rdnss\[0\]\.servers\[1\]/],
    ['semantic: bad DNSSL domain', 'interface br0 {\n AdvSendAdvert on;\n DNSSL -bad-.example { };\n};', 3, /dnssl\[0\]\.domains\[0\]/],
    ['duplicate interface', 'interface br0 { AdvSendAdvert on; };\ninterface br0 { AdvSendAdvert on; };', 2, /configured twice/],
  ];
  it.each(errors)('throws with the line number: %s', (_name, text, line, message) => {
    let error: unknown;
    try {
      parseRadvdConf(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RadvdConfError);
    expect((error as RadvdConfError).line).toBe(line);
    expect((error as Error).message).toMatch(new RegExp(`^radvd\\.conf line ${line}: `));
    expect((error as Error).message).toMatch(message);
  });
});
