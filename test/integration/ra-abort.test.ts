/**
 * AbortSignal on RouterAdvertiser.start and stop, against the kernel and a client: the
 * namespace's raw ICMPv6 sockets (/proc/net/raw6 inside it: the advertiser's socket is there
 * exactly while it serves) and the RAs a client namespace captures. An already-aborted signal
 * changes nothing; a start aborted while opening releases its socket before it rejects; a stop
 * aborted after its first final RA skips the others and releases at once. Controls: the same
 * calls not aborted open the socket, and send all three final RAs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RouterAdvertiser } from '../../lib/ra/index.js';
import type { RaInterfaceConfig, RaSentEvent } from '../../lib/ra/types.js';
import { joinWithVeth, runAsync, TestNetns } from '../helpers/netns.js';
import { until } from '../helpers/poll.js';
import { skipUnlessRoot } from '../helpers/privileges.js';
import { Capture } from './ra-capture.js';

const config = (): RaInterfaceConfig => ({
  name: 'br0',
  minInterval: 3,
  maxInterval: 5,
  defaultLifetime: 3600,
  prefixes: [{ prefix: '2001:db8:ad::/64' }],
});

describe.skipIf(skipUnlessRoot('RouterAdvertiser abort'))('AbortSignal on RouterAdvertiser', () => {
  let router: TestNetns;
  let client: TestNetns;

  beforeAll(() => {
    router = new TestNetns('vmprab');
    client = new TestNetns('vmprabc');
    router.ip('link', 'add', 'br0', 'type', 'bridge');
    joinWithVeth(router, 'vmprab-r0', client, 'vmprab-c0');
    router.ip('link', 'set', 'vmprab-r0', 'master', 'br0');
    router.ip('link', 'set', 'br0', 'up');
  });
  afterAll(() => {
    router?.cleanup();
    client?.cleanup();
  });

  /** Raw ICMPv6 sockets open in the router namespace (protocol 58 = 0x3A in /proc/net/raw6). */
  const icmp6Sockets = async (): Promise<number> => {
    const table = await runAsync('ip', ['netns', 'exec', router.name, 'cat', '/proc/net/raw6']);
    return table.split('\n').filter((l) => /^\s*\d+: [0-9A-F]{32}:003A /u.test(l)).length;
  };

  it('start: an aborted signal opens nothing; an abort while opening releases before rejecting; the control opens the socket', async () => {
    const reason = new Error('not needed');
    const first = new RouterAdvertiser({ netns: router.name, interfaces: [config()] });
    await expect(first.start({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(await icmp6Sockets()).toBe(0);

    // Mid-way: the namespace's socket and monitor are being opened when the signal fires.
    const second = new RouterAdvertiser({ netns: router.name, interfaces: [config()] });
    const controller = new AbortController();
    const starting = second.start({ signal: controller.signal });
    controller.abort(reason);
    await expect(starting).rejects.toBe(reason);
    expect(await icmp6Sockets()).toBe(0);
    expect(second.stats()[0]).toMatchObject({ state: 'stopped', advertisementsSent: 0 });

    // Control: not aborted, the socket is there while it serves.
    const third = new RouterAdvertiser({ netns: router.name, interfaces: [config()] });
    await third.start({ signal: new AbortController().signal });
    expect(await icmp6Sockets()).toBe(1);
    await third.stop({ final: false });
    expect(await icmp6Sockets()).toBe(0);
  });

  it('stop: an aborted signal keeps serving; an abort after the first final RA skips the rest and releases at once', async () => {
    const capture = new Capture(client, 'vmprab-c0');
    await capture.ready;
    try {
      const finals = (): number => capture.packets().filter((p) => p.payload.readUInt16BE(6) === 0).length;
      const ra = new RouterAdvertiser({ netns: router.name, finalAdvertisements: 3, interfaces: [config()] });
      await ra.start();
      await until('the first RA at the client', () => capture.packets().length > 0, 30_000);
      const reason = new Error('shutting down now');
      await expect(ra.stop({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
      expect(await icmp6Sockets()).toBe(1);
      expect(ra.stats()[0]?.state).toBe('serving');

      const controller = new AbortController();
      ra.on('sent', (e: RaSentEvent) => {
        if (e.final) controller.abort(reason);
      });
      await expect(ra.stop({ signal: controller.signal })).rejects.toBe(reason);
      // Released when the caller hears: nothing more can be sent.
      expect(await icmp6Sockets()).toBe(0);
      expect(ra.stats()[0]).toMatchObject({ finalAdvertisementsSent: 1 });
      await until('the final RA at the client', () => finals() === 1, 30_000);

      // Control: not aborted, all three final RAs go out (3 s apart).
      const control = new RouterAdvertiser({ netns: router.name, finalAdvertisements: 3, interfaces: [config()] });
      await control.start();
      await until('the control serving', () => (control.stats()[0]?.advertisementsSent ?? 0) > 0, 30_000);
      const before = finals();
      await control.stop({ signal: new AbortController().signal });
      expect(control.stats()[0]).toMatchObject({ finalAdvertisementsSent: 3 });
      await until('three more final RAs at the client', () => finals() === before + 3, 30_000);
      expect(await icmp6Sockets()).toBe(0);
    } finally {
      await capture.stop();
    }
  }, 60_000);
});
