/**
 * ForwardingWatch (lib/ra/forwarding.ts) against the kernel: it knows the namespace's
 * net.ipv6.conf.all.forwarding as sysctl(8) reads it and hears each change as it happens, also
 * among the link announcements the kernel makes on the same group.
 */
import { describe, expect, it } from 'vitest';

import { ForwardingWatch } from '../../lib/ra/forwarding.js';
import { useNetlinkNamespace } from '../helpers/netlink-fixture.js';
import { until } from '../helpers/poll.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

describe.skipIf(skipUnlessRoot('forwarding watch'))('ForwardingWatch', () => {
  const t = useNetlinkNamespace('vmpfwd');

  it('follows net.ipv6.conf.all.forwarding of its namespace', async () => {
    const sysctl = (): number => Number(t.ns.exec('sysctl', ['-n', 'net.ipv6.conf.all.forwarding']).trim());
    const errors: Error[] = [];
    const watch = new ForwardingWatch(`/run/netns/${t.ns.name}`, (e) => errors.push(e));
    try {
      expect(watch.forwarding).toBeUndefined();
      await watch.ready();
      expect(sysctl()).toBe(0);
      expect(watch.forwarding).toBe(false);
      const changes: boolean[] = [];
      watch.onChange((f) => changes.push(f));

      t.ns.sysctl('net.ipv6.conf.all.forwarding', 1);
      await until('the watch to hear forwarding on', () => watch.forwarding === true, 10_000);
      expect(sysctl()).toBe(1);
      // Links made meanwhile are announced on the same group: noise around the next change.
      t.ns.ipBatch(Array.from({ length: 5 }, (_, i) => `link add fwd${i} type bridge`));
      t.ns.sysctl('net.ipv6.conf.all.forwarding', 0);
      await until('the watch to hear forwarding off', () => watch.forwarding === false, 10_000);
      expect(changes).toEqual([true, false]);
      expect(errors).toEqual([]);
    } finally {
      watch.close();
    }
  });
});
