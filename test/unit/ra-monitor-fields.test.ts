/**
 * The RA monitor's event streams keep, per link and per IPv6 address of the namespace, only
 * the fields the tracker needs (lib/ra/monitor.ts): at 4,096 networks that is 8,192 links held
 * for as long as the advertiser serves. Control: a plain link stream of the same namespace
 * keeps whole parsed Links. Read-only, in the test's own namespace (no privilege needed).
 */
import { describe, expect, it } from 'vitest';

import { linkEventStream } from '../../lib/netlink/events.js';
import type { Link } from '../../lib/netlink/types.js';
import { trackedLink } from '../../lib/ra/interface-tracker.js';
import { NetlinkInterfaceMonitor } from '../../lib/ra/monitor.js';
import { until } from '../helpers/poll.js';

/** The private part of an EventStream this test looks at. */
interface StreamState {
  state: Map<string, Record<string, unknown>>;
  syncing: boolean;
}

const dumped = (s: StreamState): boolean => !s.syncing && s.state.size > 0;

describe('NetlinkInterfaceMonitor', () => {
  it('keeps six fields per link and only IPv6 addresses (control: a plain stream keeps whole Links)', async () => {
    const monitor = await NetlinkInterfaceMonitor.open(undefined, (error) => {
      throw error;
    });
    const plain = linkEventStream(undefined, false, undefined, () => undefined);
    try {
      const [links, addresses] = (monitor as unknown as { streams: [StreamState, StreamState] }).streams;
      const control = plain as unknown as StreamState;
      await until('the first dumps', () => dumped(links) && !addresses.syncing && dumped(control), 10_000);
      for (const link of links.state.values()) expect(Object.keys(link).sort()).toEqual(['carrier', 'index', 'mac', 'mtu', 'name', 'up']);
      for (const address of addresses.state.values()) {
        expect(address.family).toBe(6);
        expect(Object.keys(address).sort()).toEqual(['address', 'family', 'flags', 'index', 'preferredLifetime', 'prefixLength', 'scope', 'validLifetime']);
      }
      expect(links.state.size).toBe(control.state.size);
      for (const link of control.state.values()) expect(Object.keys(link)).toEqual(expect.arrayContaining(['kind', 'flags', 'operstate']));
      // The monitor's socket decodes links brief (only what it keeps): the same fields as a whole Link's.
      for (const [key, link] of control.state) expect(links.state.get(key)).toEqual(trackedLink(link as unknown as Link));
    } finally {
      await plain.return();
      await monitor.close();
    }
  });
});
