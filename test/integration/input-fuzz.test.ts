/**
 * Property-based fuzzing of the public Netlink and tap calls against the kernel (issue 14):
 * hostile arguments (test/helpers/hostile.ts) in a namespace of our own. Properties: no crash,
 * a rejection carries a `code` and a bounded message, and a rejected call changed nothing
 * `ip -d link`, `ip addr`, `bridge fdb` or `ip route` show. Fixed seed and run count: the
 * budget is the seconds the snapshots take.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { openTap } from '../../lib/tap.js';
import { FUZZ_SEED, hostile, isCodedError, optionsFor } from '../helpers/hostile.js';
import { namespaceStateAsync } from '../helpers/namespace-state.js';
import { useNetlinkNamespace } from '../helpers/netlink-fixture.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

// Each case costs two snapshots (five `ip`/`bridge` dumps, which wait for RTNL when other
// tests hold it): 30 cases are seconds on an idle machine, the unit fuzz runs the thousands.
const RUNS = 30;

describe.skipIf(skipUnlessRoot('input: kernel fuzz', ['/dev/net/tun']))('input: kernel fuzz', () => {
  const t = useNetlinkNamespace('vmpfz', (ns) => {
    ns.ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p');
    ns.ip('link', 'set', 'eth0', 'up');
    ns.ip('link', 'add', 'br0', 'type', 'bridge');
    ns.ip('link', 'add', 'vx0', 'type', 'vxlan', 'id', '7', 'dstport', '4789', 'group', 'ff05::7', 'dev', 'eth0');
  });

  it('hostile calls are refused with a code and change nothing, or do what they say', async () => {
    const ref = fc.oneof(fc.constantFrom('br0', 'vx0', 'eth0', 99999), hostile);
    // Every call acts in the test namespace only: taps get it forced, whatever was generated.
    const calls = fc.oneof(
      optionsFor(['name', 'vni', 'group', 'remote', 'local', 'dev', 'df', 'ttl', 'master', 'mtu', 'portRange'], { name: 'fz0', vni: 5 }).map(
        (o) => ['createVxlan', () => t.nl.createVxlan(o as never)] as const,
      ),
      optionsFor(['name', 'mtu', 'master', 'stp', 'priority', 'up'], { name: 'fz1' }).map(
        (o) => ['createBridge', () => t.nl.createBridge(o as never)] as const,
      ),
      fc
        .tuple(ref, optionsFor(['up', 'mtu', 'mac', 'group', 'name', 'master']))
        .map(([l, c]) => ['setLink', () => t.nl.setLink(l as never, c as never)] as const),
      ref.map((l) => ['deleteLink', () => t.nl.deleteLink(l as never)] as const),
      fc.array(ref, { maxLength: 4 }).map((ls) => ['deleteLinks', () => t.nl.deleteLinks(ls as never)] as const),
      fc
        .tuple(ref, hostile, optionsFor(['scope', 'label', 'nodad']))
        .map(([l, a, o]) => ['addAddress', () => t.nl.addAddress(l as never, a as never, o as never)] as const),
      optionsFor(['link', 'mac', 'dst', 'vni', 'port', 'state', 'append'], { link: 'vx0', mac: '00:00:00:00:00:00' }).map(
        (o) => ['addFdb', () => t.nl.addFdb(o as never)] as const,
      ),
      optionsFor(['destination', 'gateway', 'dev', 'metric', 'table', 'type'], { destination: '2001:db8:f::/64' }).map(
        (o) => ['addRoute', () => t.nl.addRoute(o as never)] as const,
      ),
      fc
        .tuple(hostile, optionsFor(['name', 'queues', 'vnetHdr', 'persist']))
        .map(([name, o]) => ['openTap', async () => (await openTap({ ...o, name: name as never, netns: t.ns.name })).close()] as const),
    );
    const tally = { calls: 0, refused: 0, resolved: 0 };
    await fc.assert(
      fc.asyncProperty(calls, async ([what, call]) => {
        tally.calls += 1;
        const before = await namespaceStateAsync(t.ns);
        let error: unknown;
        try {
          await call();
          tally.resolved += 1;
          return;
        } catch (e) {
          error = e;
        }
        tally.refused += 1;
        if (!isCodedError(error)) throw new Error(`${what}: uncoded or unbounded error: ${String(error)}`);
        expect(await namespaceStateAsync(t.ns), `${what} rejected (${(error as Error).message}) but changed the namespace`).toEqual(before);
      }),
      { seed: FUZZ_SEED, numRuns: RUNS, endOnFailure: true },
    );
    console.log(`input fuzz: ${tally.calls} calls, ${tally.refused} refused (namespace unchanged), ${tally.resolved} resolved`);
    expect(tally.calls).toBe(RUNS);
    expect(tally.refused).toBeGreaterThan(RUNS / 2);
  }, 180_000);
});
