/**
 * Link and address events: notifications as `ip monitor` would see them, the `existing` mode
 * (present links first, then changes), closing on break and on nl.close(), and surviving a
 * receive-queue overrun (ENOBUFS) by re-dumping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netlink, type AddressEvent, type LinkEvent } from '../../lib/netlink/index.js';
import { TestNetns } from '../helpers/netns.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

/** Collects events until `done` says so (or times out). */
async function collect<E>(iterable: AsyncIterable<E>, done: (events: E[]) => boolean, timeoutMs = 10_000): Promise<E[]> {
  const events: E[] = [];
  const timer = setTimeout(() => undefined, timeoutMs);
  const deadline = Date.now() + timeoutMs;
  try {
    for await (const event of iterable) {
      events.push(event);
      if (done(events) || Date.now() > deadline) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return events;
}

describe.skipIf(skipUnlessRoot('netlink events'))('netlink events', () => {
  let ns: TestNetns | undefined;
  let nl: Netlink | undefined;

  beforeAll(async () => {
    ns = new TestNetns('vmpnl');
    nl = await Netlink.open({ netns: ns.name });
  });

  afterAll(async () => {
    await nl?.close();
    ns?.cleanup();
  });

  it('reports link creation, change and deletion (made by ip, a different process)', async () => {
    const events = nl!.linkEvents();
    const seen = collect(events, (e) => e.some((x) => x.type === 'del' && x.link.name === 'ev0'));
    // Give the iterable its baseline dump before changing anything.
    await new Promise((r) => setTimeout(r, 100));
    ns!.ip('link', 'add', 'ev0', 'type', 'bridge');
    ns!.ip('link', 'set', 'ev0', 'up');
    ns!.ip('link', 'del', 'ev0');
    const got = (await seen).filter((e) => e.link.name === 'ev0');
    expect(got[0]).toMatchObject({ type: 'new', link: { name: 'ev0', kind: 'bridge', up: false } });
    expect(got.some((e) => e.type === 'new' && e.link.up)).toBe(true);
    expect(got.at(-1)).toMatchObject({ type: 'del', link: { name: 'ev0' } });
  });

  it('existing: true yields present links first, then changes, with nothing lost in between', async () => {
    await nl!.createBridge({ name: 'pre0' });
    const events = nl!.linkEvents({ existing: true });
    // Created right after subscribing: it must be seen either in the dump or as a change.
    const created = nl!.createBridge({ name: 'post0' });
    const got = await collect(events, (e) => e.some((x) => x.link.name === 'post0'));
    await created;
    const names = got.map((e) => e.link.name);
    expect(names).toEqual(expect.arrayContaining(['lo', 'pre0', 'post0']));
    expect(got.every((e) => e.type === 'new')).toBe(true);
  });

  it('ignores bridge-port notifications (AF_BRIDGE) and reports enslaving as a link change', async () => {
    await nl!.createBridge({ name: 'br7' });
    await nl!.createVxlan({ name: 'vx7', vni: 7, remote: '2001:db8::7' });
    const events = nl!.linkEvents();
    await new Promise((r) => setTimeout(r, 100));
    const br7 = ns!.ipJson('link', 'show', 'dev', 'br7')[0].ifindex;
    const seen = collect(events, (e) => e.some((x) => x.link.name === 'vx7' && x.link.master === br7));
    await nl!.setLink('vx7', { master: 'br7' });
    const got = await seen;
    expect(got.every((e) => e.link.name !== '' && e.link.index > 0)).toBe(true);
    expect(got.at(-1)).toMatchObject({ type: 'new', link: { name: 'vx7', master: br7 } });
  });

  it('reports IPv6 and IPv4 address events', async () => {
    const events = nl!.addressEvents();
    await new Promise((r) => setTimeout(r, 100));
    // IPv6 announces addresses from the DAD work queue, so it may come after the IPv4 ones.
    const seen = collect<AddressEvent>(events, (e) => e.some((x) => x.type === 'del' && x.address.address === '192.0.2.9')
      && e.some((x) => x.type === 'new' && x.address.address === '2001:db8:7::1'));
    await nl!.addAddress('br7', '2001:db8:7::1/64', { nodad: true });
    await nl!.addAddress('br7', '192.0.2.9/24');
    await nl!.deleteAddress('br7', '192.0.2.9/24');
    const got = await seen;
    expect(got).toEqual(expect.arrayContaining([
      { type: 'new', address: expect.objectContaining({ family: 6, address: '2001:db8:7::1', prefixLength: 64, flags: expect.objectContaining({ nodad: true }) }) },
      { type: 'new', address: expect.objectContaining({ family: 4, address: '192.0.2.9', prefixLength: 24 }) },
      { type: 'del', address: expect.objectContaining({ family: 4, address: '192.0.2.9' }) },
    ]));
  });

  it('addressEvents existing: true starts with the present addresses', async () => {
    const got = await collect(nl!.addressEvents({ existing: true }), (e) => e.some((x) => x.address.address === '2001:db8:7::1'));
    expect(got.some((e) => e.address.address === '127.0.0.1' && e.type === 'new')).toBe(true);
  });

  it('nl.close() ends every iteration and closes its socket', async () => {
    const other = await Netlink.open({ netns: ns!.name });
    const events = other.linkEvents();
    const ended = (async () => {
      const got: LinkEvent[] = [];
      for await (const e of events) got.push(e);
      return got;
    })();
    await new Promise((r) => setTimeout(r, 50));
    await other.close();
    await expect(ended).resolves.toEqual([]);
    await expect(events.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('survives an overrun (ENOBUFS): re-dumps and reports what changed', async () => {
    // A tiny receive queue and a JS thread blocked in execFileSync while `ip` makes 200
    // changes: the kernel must drop notifications.
    const events = nl!.linkEvents({ receiveBuffer: 4096 });
    const iterator = events[Symbol.asyncIterator]();
    await new Promise((r) => setTimeout(r, 100));
    const names = Array.from({ length: 200 }, (_, i) => `of${i}`);
    ns!.exec('sh', ['-c', names.map((n) => `ip link add ${n} type bridge`).join('; ')]);
    ns!.exec('sh', ['-c', names.slice(0, 100).map((n) => `ip link del ${n}`).join('; ')]);
    const last = new Map<string, 'new' | 'del'>();
    const deadline = Date.now() + 20_000;
    const settled = () => names.every((n, i) => (i < 100 ? last.get(n) !== 'new' : last.get(n) === 'new'));
    while (Date.now() < deadline && !settled()) {
      const r = await iterator.next();
      if (r.done) break;
      last.set(r.value.link.name, r.value.type);
    }
    expect((events as unknown as { overruns: number }).overruns).toBeGreaterThan(0);
    await iterator.return?.();
    // Every surviving link was reported 'new'; no deleted one is left reported as present.
    expect(names.filter((n, i) => (i < 100 ? last.get(n) === 'new' : last.get(n) !== 'new'))).toEqual([]);
  });
});
