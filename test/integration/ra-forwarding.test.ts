/**
 * followForwarding (RFC 4861 §6.2.5, radvd's behaviour): while the router's namespace does not
 * forward IPv6, its RAs carry router lifetime 0 and a client kernel takes no default route from
 * them; as soon as net.ipv6.conf.all.forwarding is 1 they carry the configured lifetime and the
 * client routes through the router. Positive control: the same advertiser with followForwarding
 * off sends the configured lifetime while the namespace does not forward.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RouterAdvertiser } from '../../lib/ra/index.js';
import type { RaInterfaceConfig } from '../../lib/ra/types.js';
import { joinWithVeth, TestNetns } from '../helpers/netns.js';
import { until } from '../helpers/poll.js';
import { routerLifetime } from '../helpers/rdisc6.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

const BRIDGE = 'br100';
const CLIENT = 'vmprafw-c';
const PEER = 'vmprafw-r';
const LIFETIME = 600;

describe.skipIf(skipUnlessRoot('RA forwarding tests', ['/usr/bin/rdisc6']))('followForwarding', () => {
  let router: TestNetns;
  let client: TestNetns;

  beforeAll(async () => {
    router = new TestNetns('vmprafw');
    client = new TestNetns('vmprafw');
    router.ip('link', 'add', BRIDGE, 'type', 'bridge');
    joinWithVeth(router, PEER, client, CLIENT);
    router.ip('link', 'set', PEER, 'master', BRIDGE);
    client.sysctl(`net.ipv6.conf.${CLIENT}.accept_ra`, 1);
    client.sysctl(`net.ipv6.conf.${CLIENT}.accept_ra_defrtr`, 1);
    router.ip('link', 'set', BRIDGE, 'up');
    await until(`${BRIDGE}'s link-local past DAD`, () => router.linkLocal(BRIDGE), 60_000);
    await until("the client's link-local past DAD", () => client.linkLocal(CLIENT), 60_000);
  });

  afterAll(() => {
    router?.cleanup();
    client?.cleanup();
  });

  const config = (followForwarding: boolean): RaInterfaceConfig => ({
    name: BRIDGE,
    minInterval: 3,
    maxInterval: 4,
    defaultLifetime: LIFETIME,
    followForwarding,
  });
  const defaultRoute = (): string => client.ip('-6', 'route', 'show', 'default', 'dev', CLIENT).trim();

  it('advertises router lifetime 0 while the namespace does not forward, the configured one when it does', async () => {
    router.sysctl('net.ipv6.conf.all.forwarding', 0);
    const ra = new RouterAdvertiser({ netns: router.name, interfaces: [config(true)] });
    try {
      await ra.start();
      await until('an RA with router lifetime 0', async () => (await routerLifetime(client, CLIENT)) === 0, 30_000);
      // Several RAs later the client has still no default route from them.
      await new Promise((r) => setTimeout(r, 5_000));
      expect(defaultRoute()).toBe('');

      // Control: the same advertiser not following forwarding sends the configured lifetime.
      await ra.update({ interfaces: [config(false)] });
      await until(`an RA with router lifetime ${LIFETIME}`, async () => (await routerLifetime(client, CLIENT)) === LIFETIME, 30_000);
      await until('the default route via the router', () => defaultRoute().includes(router.linkLocal(BRIDGE)!), 30_000);

      // Following again: 0 while not forwarding (the client drops the route), then the namespace forwards.
      await ra.update({ interfaces: [config(true)] });
      await until('the default route withdrawn', () => defaultRoute() === '', 30_000);
      router.sysctl('net.ipv6.conf.all.forwarding', 1);
      await until(`an RA with router lifetime ${LIFETIME} once forwarding`, async () => (await routerLifetime(client, CLIENT)) === LIFETIME, 30_000);
      await until('the default route back', () => defaultRoute().includes(router.linkLocal(BRIDGE)!), 30_000);
    } finally {
      await ra.stop();
      router.sysctl('net.ipv6.conf.all.forwarding', 0);
    }
  });
});
