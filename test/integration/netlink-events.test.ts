/**
 * Link and address events: notifications as `ip monitor` would see them, the `existing` mode
 * (present links first, then changes), closing on break and on nl.close(), and surviving a
 * receive-queue overrun (ENOBUFS) by re-dumping.
 */
import { describe, expect, it } from 'vitest';
import { Netlink, type AddressEvent, type LinkEvent } from '../../lib/netlink/index.js';
import { useNetlinkNamespace } from '../helpers/netlink-fixture.js';
import { runAsync } from '../helpers/netns.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

/**
 * Collects events until `done` says so; at the deadline it fails (naming what it saw), also
 * when no event arrives at all. Ends the iteration unless `end` is false.
 */
async function collect<E>(iterable: AsyncIterableIterator<E>, done: (events: E[]) => boolean, timeoutMs = 20_000, end = true): Promise<E[]> {
  const events: E[] = [];
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no matching event within ${timeoutMs} ms; saw ${JSON.stringify(events)}`)), timeoutMs);
  });
  try {
    while (!done(events)) {
      const r = await Promise.race([iterable.next(), expired]);
      if (r.done) throw new Error(`the iteration ended before a matching event; saw ${JSON.stringify(events)}`);
      events.push(r.value);
    }
    return events;
  } finally {
    clearTimeout(timer);
    if (end) await iterable.return?.();
  }
}

describe.skipIf(skipUnlessRoot('netlink events'))('netlink events', () => {
  const t = useNetlinkNamespace();

  it('reports link creation, change and deletion (made by ip, a different process)', async () => {
    const events = t.nl.linkEvents();
    const seen = collect(events, (e) => e.some((x) => x.type === 'del' && x.link.name === 'ev0'));
    t.ns.ip('link', 'add', 'ev0', 'type', 'bridge');
    t.ns.ip('link', 'set', 'ev0', 'up');
    t.ns.ip('link', 'del', 'ev0');
    const got = (await seen).filter((e) => e.link.name === 'ev0');
    expect(got[0]).toMatchObject({ type: 'new', link: { name: 'ev0', kind: 'bridge', up: false } });
    expect(got.some((e) => e.type === 'new' && e.link.up)).toBe(true);
    expect(got.at(-1)).toMatchObject({ type: 'del', link: { name: 'ev0' } });
  });

  it('is subscribed when linkEvents()/addressEvents() return: changes made by ip right after the call are reported', async () => {
    // No `existing`, no waiting for anything: the socket of each stream is in the namespace
    // and subscribed before the call returns, so a change another process makes at once (here
    // before the stream's first dump is even sent) must come out.
    for (let round = 0; round < 5; round++) {
      const links = t.nl.linkEvents();
      const addresses = t.nl.addressEvents();
      t.ns.ip('link', 'add', `sub${round}`, 'type', 'bridge');
      t.ns.ip('addr', 'add', `192.0.2.${200 + round}/32`, 'dev', 'lo');
      t.ns.ip('link', 'del', `sub${round}`);
      const got = await collect(links, (e) => e.some((x) => x.type === 'del' && x.link.name === `sub${round}`));
      expect(got.filter((e) => e.link.name === `sub${round}`)[0]).toMatchObject({ type: 'new', link: { kind: 'bridge' } });
      await collect(addresses, (e) => e.some((x) => x.type === 'new' && x.address.address === `192.0.2.${200 + round}`));
    }
  });

  it('a missing event fails at the deadline instead of hanging until the test times out', async () => {
    await expect(collect(t.nl.linkEvents(), (e) => e.some((x) => x.link.name === 'never0'), 300)).rejects.toThrow(/no matching event within 300 ms/);
  });

  it('existing: true yields present links first, then changes, with nothing lost in between', async () => {
    t.ns.ip('link', 'add', 'pre0', 'type', 'bridge');
    const events = t.nl.linkEvents({ existing: true });
    // Created right after subscribing, by another process: seen either in the dump or as a change.
    t.ns.ip('link', 'add', 'post0', 'type', 'bridge');
    const got = await collect(events, (e) => e.some((x) => x.link.name === 'post0'));
    const names = got.map((e) => e.link.name);
    expect(names).toEqual(expect.arrayContaining(['lo', 'pre0', 'post0']));
    expect(got.every((e) => e.type === 'new')).toBe(true);
  });

  it('ignores bridge-port notifications (AF_BRIDGE) and reports enslaving as a link change', async () => {
    t.ns.ip('link', 'add', 'br7', 'type', 'bridge');
    t.ns.ip('link', 'add', 'vx7', 'type', 'vxlan', 'id', '7', 'remote', '2001:db8::7', 'dstport', '4789');
    const events = t.nl.linkEvents();
    const br7 = t.ns.ipJson('link', 'show', 'dev', 'br7')[0].ifindex;
    const seen = collect(events, (e) => e.some((x) => x.link.name === 'vx7' && x.link.master === br7));
    t.ns.ip('link', 'set', 'vx7', 'master', 'br7');
    const got = await seen;
    expect(got.every((e) => e.link.name !== '' && e.link.index > 0)).toBe(true);
    expect(got.at(-1)).toMatchObject({ type: 'new', link: { name: 'vx7', master: br7 } });
    // The port messages carry no link kind: every vx7 event here is the vxlan's own.
    expect(got.filter((e) => e.link.name === 'vx7').every((e) => e.link.kind === 'vxlan')).toBe(true);
    // Leaving the bridge is a change of vx7, not its deletion (the kernel's AF_BRIDGE
    // RTM_DELLINK for the port must not come out as a 'del').
    const stream = t.nl.linkEvents();
    const left = collect(stream, (e) => e.some((x) => x.link.name === 'vx7' && x.link.master === undefined));
    t.ns.ip('link', 'set', 'vx7', 'nomaster');
    const after = await left;
    expect(after.filter((e) => e.link.name === 'vx7').map((e) => e.type)).not.toContain('del');
    expect(t.ns.ipJson('link', 'show', 'dev', 'vx7')[0].master).toBeUndefined();
  });

  it('reports IPv6 and IPv4 address events', async () => {
    const events = t.nl.addressEvents();
    // IPv6 announces addresses from the DAD work queue, so it may come after the IPv4 ones.
    const seen = collect<AddressEvent>(
      events,
      (e) => e.some((x) => x.type === 'del' && x.address.address === '192.0.2.9') && e.some((x) => x.type === 'new' && x.address.address === '2001:db8:7::1'),
    );
    t.ns.ip('addr', 'add', '2001:db8:7::1/64', 'dev', 'br7', 'nodad');
    t.ns.ip('addr', 'add', '192.0.2.9/24', 'dev', 'br7');
    t.ns.ip('addr', 'del', '192.0.2.9/24', 'dev', 'br7');
    const got = await seen;
    expect(got).toEqual(
      expect.arrayContaining([
        {
          type: 'new',
          address: expect.objectContaining({ family: 6, address: '2001:db8:7::1', prefixLength: 64, flags: expect.objectContaining({ nodad: true }) }),
        },
        { type: 'new', address: expect.objectContaining({ family: 4, address: '192.0.2.9', prefixLength: 24 }) },
        { type: 'del', address: expect.objectContaining({ family: 4, address: '192.0.2.9' }) },
      ]),
    );
  });

  it('addressEvents existing: true starts with the present addresses', async () => {
    const got = await collect(t.nl.addressEvents({ existing: true }), (e) => e.some((x) => x.address.address === '2001:db8:7::1'));
    expect(got.some((e) => e.address.address === '127.0.0.1' && e.type === 'new')).toBe(true);
  });

  it('nl.close() ends every iteration and closes its socket', async () => {
    const other = await Netlink.open({ netns: t.ns.name });
    const events = other.linkEvents();
    const ended = (async () => {
      const got: LinkEvent[] = [];
      for await (const e of events) got.push(e);
      return got;
    })();
    // The loop above is already waiting in next(): close() must end it.
    await other.close();
    await expect(ended).resolves.toEqual([]);
    await expect(events.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('survives an overrun (ENOBUFS): re-dumps and reports what changed', async () => {
    // A tiny receive queue, and the JS thread deliberately held (`ip -batch`, synchronously)
    // while the kernel announces 200 new links and 100 deletions: the kernel must drop
    // notifications. The flood starts once the first dump is over (the present links, yielded
    // with `existing`, have come); overruns during a dump are the next two tests.
    const events = t.nl.linkEvents({ existing: true, receiveBuffer: 4096 });
    const iterator = events[Symbol.asyncIterator]();
    await collect(iterator, (got) => got.some((e) => e.link.name === 'lo'), 20_000, false);
    const names = Array.from({ length: 200 }, (_, i) => `of${i}`);
    t.ns.ipBatch(names.map((n) => `link add ${n} type bridge`));
    t.ns.ipBatch(names.slice(0, 100).map((n) => `link del ${n}`));
    const last = new Map<string, 'new' | 'del'>();
    const settled = () => names.every((n, i) => (i < 100 ? last.get(n) !== 'new' : last.get(n) === 'new'));
    // Every surviving link reported 'new' and no deleted one left reported as present, in the
    // end; a stream that lost some fails at the deadline, naming them.
    let seen = 0;
    await collect(iterator, (got) => {
      for (; seen < got.length; seen++) last.set(got[seen]!.link.name, got[seen]!.type);
      return settled();
    }).catch((error: Error) => {
      const wrong = names.filter((n, i) => (i < 100 ? last.get(n) === 'new' : last.get(n) !== 'new'));
      throw new Error(`${error.message.slice(0, 200)}…; wrongly reported: ${wrong.join(' ')}`);
    });
    expect((events as unknown as { overruns: number }).overruns).toBeGreaterThan(0);
  });

  it('survives the kernel refusing to start the first dump (ENOBUFS ack: the queue was not empty)', async () => {
    // One notification sits unread in a 4 KiB queue when the dump request goes out (the `ip`
    // below runs synchronously, before the microtask that sends the dump): netlink_dump() finds
    // no room for its 32 KiB buffer and the kernel acks the request with ENOBUFS, yet keeps the
    // dump running; its messages follow under the same sequence number. Links and addresses.
    for (let round = 0; round < 3; round++) {
      const links = t.nl.linkEvents({ existing: true, receiveBuffer: 4096 });
      t.ns.ip('link', 'add', `fd${round}`, 'type', 'bridge');
      const got = await collect(links, (e) => e.some((x) => x.link.name === 'lo') && e.some((x) => x.link.name === `fd${round}`));
      expect(got.filter((e) => e.link.name === `fd${round}`).map((e) => e.type)).toEqual(expect.arrayContaining(['new']));
      const addresses = t.nl.addressEvents({ existing: true, receiveBuffer: 4096 });
      t.ns.ip('addr', 'add', `192.0.2.${100 + round}/32`, 'dev', 'lo');
      await collect(addresses, (e) => e.some((x) => x.address.address === '127.0.0.1') && e.some((x) => x.address.address === `192.0.2.${100 + round}`));
    }
  });

  it('survives overruns while re-dumping (notifications keep coming as each re-dump starts)', async () => {
    // A flood from another process runs while the stream reads, so re-dumps go out while
    // notifications are queued (the kernel then refuses to start them: ENOBUFS ack); and three
    // times the JS thread is held (`ip -batch`, synchronously) while 100 links change, so the
    // 4 KiB queue certainly overflows. Four bridges come and go 200 times: every dump fits in
    // one buffer (a dump of one buffer cannot be flagged interrupted: only ENOBUFS is tested).
    const events = t.nl.linkEvents({ existing: true, receiveBuffer: 4096 });
    t.ns.ipBatch(Array.from({ length: 100 }, (_, i) => `link add rs${i} type bridge`));
    const last = new Map<string, 'new' | 'del'>();
    const mtu = new Map<string, number>();
    // collect() calls its predicate once per event, with the new one last.
    const track = (got: LinkEvent[]): void => {
      const e = got.at(-1);
      if (!e) return;
      last.set(e.link.name, e.type);
      mtu.set(e.link.name, e.link.mtu);
    };
    await collect(events, (got) => (track(got), got.some((e) => e.link.name === 'rs99')), 20_000, false);
    const flood = Array.from({ length: 200 }, () => [0, 1, 2, 3].flatMap((i) => [`link add rd${i} type bridge`, `link del rd${i}`])).flat();
    const flooded = runAsync('ip', ['-n', t.ns.name, '-batch', '-'], {}, `${[...flood, 'link add rdend type bridge'].join('\n')}\n`);
    for (const value of [1400, 1300, 1200]) {
      t.ns.ipBatch(Array.from({ length: 100 }, (_, i) => `link set rs${i} mtu ${value}`));
      await collect(events, (got) => (track(got), mtu.get('rs99') === value), 60_000, false);
    }
    await flooded;
    // In the end: rdend present, no rd<i> left reported present (each was deleted last), every
    // rs<i> at the last MTU; a stream that failed or lost something fails here, naming it.
    const settled = () =>
      last.get('rdend') === 'new' &&
      [0, 1, 2, 3].every((i) => last.get(`rd${i}`) !== 'new') &&
      Array.from({ length: 100 }, (_, i) => mtu.get(`rs${i}`)).every((m) => m === 1200);
    await collect(events, (got) => (track(got), settled()), 60_000);
    expect((events as unknown as { overruns: number }).overruns).toBeGreaterThan(0);
  }, 240_000);
});
