/** Interface readiness from link and address events (what the netlink monitor feeds). */
import { describe, expect, it } from 'vitest';
import type { LinkInfo } from '../../lib/ra/interface-advertiser.js';
import { InterfaceTracker } from '../../lib/ra/interface-tracker.js';
import type { Address, Link } from '../../lib/netlink/types.js';

const link = (over: Partial<Link> = {}): Link => ({
  index: 5,
  name: 'br100',
  kind: 'bridge',
  up: true,
  carrier: true,
  operstate: 'UP',
  flags: [],
  mtu: 1500,
  mac: '02:00:00:00:01:00',
  master: undefined,
  linkGroup: 0,
  group: 0,
  ...over,
});
const flags = { tentative: false, dadfailed: false, nodad: false, permanent: true, deprecated: false, optimistic: false };
const addr = (over: Partial<Address> = {}, f: Partial<Address['flags']> = {}): Address => ({
  index: 5,
  family: 6,
  address: 'fe80::ff:fe00:100',
  prefixLength: 64,
  scope: 'link',
  flags: { ...flags, ...f },
  ...over,
});

function watch(t: InterfaceTracker, name = 'br100') {
  const seen: Array<LinkInfo | undefined> = [];
  t.watch(name, (l) => seen.push(l));
  return seen;
}

describe('InterfaceTracker', () => {
  it('is ready only with the link up, carrier, and a link-local that is not tentative', () => {
    const t = new InterfaceTracker();
    const seen = watch(t);
    t.onLink({ type: 'new', link: link({ carrier: false }) });
    t.onAddress({ type: 'new', address: addr({}, { tentative: true }) });
    t.onAddress({ type: 'new', address: addr({ address: '2001:db8::1', scope: 'universe' }) });
    t.onAddress({ type: 'new', address: addr({ family: 4, address: '192.0.2.1' }) });
    expect(seen).toEqual([]);
    t.onLink({ type: 'new', link: link() });
    expect(seen).toEqual([]);
    t.onAddress({ type: 'new', address: addr() });
    expect(seen).toEqual([
      {
        index: 5,
        name: 'br100',
        mac: '02:00:00:00:01:00',
        mtu: 1500,
        linkLocal: 'fe80::ff:fe00:100',
        // The global address's prefix, for radvd's `prefix ::/64`.
        prefixes: [expect.objectContaining({ address: '2001:db8::' })],
      },
    ]);
  });

  it("reports the prefixes of the global addresses (radvd's prefix ::/64) as they come and go", () => {
    const t = new InterfaceTracker();
    t.onLink({ type: 'new', link: link() });
    t.onAddress({ type: 'new', address: addr() });
    const seen = watch(t);
    t.onAddress({ type: 'new', address: addr({ address: '2001:db8:1:2::99', prefixLength: 64, scope: 'universe' }) });
    t.onAddress({ type: 'new', address: addr({ address: '2001:db8:1:2::98', prefixLength: 64, scope: 'universe' }) }); // same prefix
    t.onAddress({ type: 'new', address: addr({ address: '2001:db8:7::1', prefixLength: 48, scope: 'universe', validLifetime: 300, preferredLifetime: 100 }) });
    t.onAddress({ type: 'new', address: addr({ address: '2001:db8:9::1', prefixLength: 64, scope: 'universe' }, { tentative: true }) });
    t.onAddress({ type: 'del', address: addr({ address: '2001:db8:1:2::99', prefixLength: 64, scope: 'universe' }) });
    t.onAddress({ type: 'del', address: addr({ address: '2001:db8:1:2::98', prefixLength: 64, scope: 'universe' }) });
    expect(seen.map((s) => s?.prefixes)).toEqual([
      undefined,
      [{ address: '2001:db8:1:2::', length: 64, validLifetime: undefined, preferredLifetime: undefined }],
      [
        { address: '2001:db8:1:2::', length: 64, validLifetime: undefined, preferredLifetime: undefined },
        { address: '2001:db8:7::', length: 48, validLifetime: 300, preferredLifetime: 100 },
      ],
      [{ address: '2001:db8:7::', length: 48, validLifetime: 300, preferredLifetime: 100 }],
    ]);
  });

  it('reports MTU and MAC changes, loss of carrier, deletion and return with a new index', () => {
    const t = new InterfaceTracker();
    t.onAddress({ type: 'new', address: addr() }); // addresses may come before their link
    t.onLink({ type: 'new', link: link() });
    const seen = watch(t);
    expect(seen).toHaveLength(1);
    t.onLink({ type: 'new', link: link() }); // no change, no call
    t.onLink({ type: 'new', link: link({ mtu: 9000 }) });
    t.onLink({ type: 'new', link: link({ mtu: 9000, mac: '02:00:00:00:01:99' }) });
    t.onLink({ type: 'new', link: link({ mtu: 9000, mac: '02:00:00:00:01:99', carrier: false }) });
    t.onLink({ type: 'del', link: link({ carrier: false }) });
    t.onLink({ type: 'new', link: link({ index: 8 }) });
    t.onAddress({ type: 'new', address: addr({ index: 8, address: 'fe80::1' }) });
    expect(seen.map((s) => s && [s.index, s.mtu, s.mac, s.linkLocal])).toEqual([
      [5, 1500, '02:00:00:00:01:00', 'fe80::ff:fe00:100'],
      [5, 9000, '02:00:00:00:01:00', 'fe80::ff:fe00:100'],
      [5, 9000, '02:00:00:00:01:99', 'fe80::ff:fe00:100'],
      undefined,
      [8, 1500, '02:00:00:00:01:00', 'fe80::1'],
    ]);
  });

  it('follows renames and a link-local that goes away or fails DAD', () => {
    const t = new InterfaceTracker();
    const a = watch(t, 'br100');
    const b = watch(t, 'br200');
    t.onLink({ type: 'new', link: link() });
    t.onAddress({ type: 'new', address: addr() });
    t.onLink({ type: 'new', link: link({ name: 'br200' }) });
    expect(a.map((x) => x?.index)).toEqual([5, undefined]);
    expect(b.map((x) => x?.name)).toEqual(['br200']);
    t.onAddress({ type: 'new', address: addr({}, { dadfailed: true, tentative: true }) });
    expect(b.at(-1)).toBeUndefined();
    t.onAddress({ type: 'del', address: addr() });
    t.onAddress({ type: 'new', address: addr({ address: 'fe80::2' }) });
    expect(b.at(-1)?.linkLocal).toBe('fe80::2');
  });

  it('suspend() reports not ready until the next event says otherwise', () => {
    const t = new InterfaceTracker();
    t.onLink({ type: 'new', link: link() });
    t.onAddress({ type: 'new', address: addr() });
    const seen = watch(t);
    t.suspend('br100');
    t.suspend('br100');
    expect(seen.map((s) => s?.index)).toEqual([5, undefined]);
    t.onAddress({ type: 'new', address: addr() }); // DAD completed
    expect(seen.map((s) => s?.index)).toEqual([5, undefined, 5]);
  });
});
