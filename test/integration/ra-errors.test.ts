/**
 * RouterAdvertiser's 'error' event on a real kernel: a send the kernel refuses. An nf_tables
 * rule in the router namespace drops RAs leaving one interface (rB0) in the inet output hook,
 * so sendmsg(2) on the raw ICMPv6 socket fails with EPERM (nf_hook_slow: NF_DROP). That socket
 * carries an interface's first RA and every solicited unicast reply; the periodic multicast
 * RAs after the first go out through the packet socket, below the inet hooks. Checked: the
 * event and its fields, the counters, that the advertiser keeps serving the other interface
 * (rA0) all along, and that the rule is the cause (without it, rB0's solicited reply arrives).
 */
import { constants as osConstants } from 'node:os';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RouterAdvertiser } from '../../lib/ra/index.js';
import type { RaError } from '../../lib/ra/ra-error.js';
import type { RaInterfaceConfig, RaSentEvent } from '../../lib/ra/types.js';
import { joinWithVeth, runAsync, TestNetns } from '../helpers/netns.js';
import { until } from '../helpers/poll.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

const TABLE = 'vmpt-raerr';

const config = (name: string, prefix: string): RaInterfaceConfig => ({
  name,
  minInterval: 3,
  maxInterval: 4,
  defaultLifetime: 1800,
  prefixes: [{ prefix }],
});

describe.skipIf(skipUnlessRoot('RouterAdvertiser send errors'))('RouterAdvertiser: a send the kernel refuses', () => {
  let router: TestNetns;
  let client: TestNetns;

  /** rdisc6 from the client on `dev` (after its link-local's DAD): exit code and output. */
  const rdisc6 = async (dev: string): Promise<{ code: number; out: string }> => {
    await until(`${dev}'s link-local past DAD`, () => client.linkLocal(dev));
    return runAsync('ip', ['netns', 'exec', client.name, 'rdisc6', '-1', '-r', '3', '-w', '1000', dev]).then(
      (out) => ({ code: 0, out }),
      (error: Error) => ({ code: 1, out: error.message }),
    );
  };

  beforeAll(() => {
    router = new TestNetns('vmpraerr');
    client = new TestNetns('vmpraerr');
    joinWithVeth(router, 'rA0', client, 'cA0');
    joinWithVeth(router, 'rB0', client, 'cB0');
    // Drop RAs leaving rB0 only, in the router's own inet output hook (its namespace only).
    router.exec('nft', ['-f', '-'], {
      input: `table inet ${TABLE} {\n chain out {\n  type filter hook output priority 0;\n  oifname "rB0" icmpv6 type nd-router-advert drop\n }\n}\n`,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  });

  afterAll(() => {
    router?.cleanup();
    client?.cleanup();
  });

  it("emits 'error' with code, errno, syscall and interface, and keeps serving the other interface", async () => {
    const ra = new RouterAdvertiser({
      netns: router.name,
      finalAdvertisements: 0,
      interfaces: [config('rA0', '2001:db8:a::/64'), config('rB0', '2001:db8:b::/64')],
    });
    const errors: RaError[] = [];
    const sent: RaSentEvent[] = [];
    ra.on('error', (e) => errors.push(e));
    ra.on('sent', (e) => sent.push(e));
    await ra.start();
    try {
      // rB0's first RA goes through the raw socket: the kernel refuses it.
      const first = await until("an 'error' for rB0", () => errors.find((e) => e.interface === 'rB0'), 60_000);
      expect(first).toBeInstanceOf(Error);
      expect(first).toMatchObject({ code: 'EPERM', errno: -osConstants.errno.EPERM, syscall: 'sendmsg', interface: 'rB0' });
      expect(first.message).toMatch(/^sendmsg EPERM: operation not permitted \(rB0\)$/iu);
      // The other interface is served all along, and never failed: its client's solicitation
      // is answered (rdisc6 sees our prefix) and RAs keep going out on it after the error.
      const seenA = await rdisc6('cA0');
      expect(seenA.code).toBe(0);
      expect(seenA.out).toContain('2001:db8:a::/64');
      const sentOnA = sent.filter((e) => e.interface === 'rA0').length;
      await until('another RA on rA0 after the error', () => sent.filter((e) => e.interface === 'rA0').length > sentOnA, 30_000);
      expect(errors.filter((e) => e.interface !== 'rB0')).toEqual([]);
      const stats = new Map(ra.stats().map((s) => [s.name, s]));
      expect(stats.get('rA0')).toMatchObject({ state: 'serving', sendErrors: 0 });
      expect(stats.get('rB0')!.sendErrors).toBeGreaterThanOrEqual(1);
      // rB0 is not given up on (EPERM says nothing about its address): still served, and a
      // solicitation from its client makes a unicast reply that the kernel refuses again.
      expect(stats.get('rB0')!.state).toBe('serving');
      const before = errors.length;
      await rdisc6('cB0');
      await until('the refused solicited reply on rB0', () => errors.length > before && errors.at(-1)!.interface === 'rB0', 30_000);

      // Control: without the rule the same solicitation is answered on rB0, and no error comes.
      router.exec('nft', ['delete', 'table', 'inet', TABLE]);
      const after = errors.length;
      const sentBefore = sent.length;
      const seenB = await rdisc6('cB0');
      expect(seenB.code).toBe(0);
      expect(seenB.out).toContain('2001:db8:b::/64');
      const solicitor = client.linkLocal('cB0');
      await until('the solicited reply to cB0 sent', () =>
        sent.slice(sentBefore).some((e) => e.interface === 'rB0' && e.solicited && e.destination === solicitor),
      );
      expect(errors.length).toBe(after);
    } finally {
      await ra.stop();
    }
  }, 180_000);
});
