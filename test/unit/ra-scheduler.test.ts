/**
 * RFC 4861 §6.2.4–6.2.6 timing of one interface, on a fake clock: random intervals in
 * [min, max], the first three at most 16 s apart, solicited replies within 500 ms, never two
 * multicast RAs within 3 s, final RAs with router lifetime 0; and the shared timer queue.
 */
import { describe, expect, it } from 'vitest';
import { decodeAdvertisement, icmpv6Checksum } from '../../lib/ra/codec.js';
import { resolveInterfaceConfig } from '../../lib/ra/config.js';
import { InterfaceAdvertiser, type AdvertiserHost, type LinkInfo } from '../../lib/ra/interface-advertiser.js';
import { FRAMES_PER_CALL, FrameBatch, type FrameSender } from '../../lib/ra/frame-batch.js';
import { SLICE_MS } from '../../lib/time-slice.js';
import { RA_TICK_MS, TimerEntry, TimerQueue } from '../../lib/ra/timer-queue.js';
import type { NativeIcmp6Socket } from '../../lib/native.js';
import { bytesToIPv6, ipv6ToBytes } from '../../lib/validate.js';
import { FakeClock } from './ra-fake-clock.js';

interface Sent {
  at: number;
  index: number;
  source: string;
  destination: string;
  message: Buffer;
}

const LINK: LinkInfo = { index: 7, name: 'br100', mac: '02:00:00:00:01:00', mtu: 1500, linkLocal: 'fe80::ff:fe00:100' };
const RS = Buffer.from([133, 0, 0, 0, 0, 0, 0, 0]);
const HOST_LL = ipv6ToBytes('fe80::1234');
const UNSPECIFIED = Buffer.alloc(16);
const busy = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

function setup(config: object = {}, seed = 1) {
  const clock = new FakeClock(seed);
  const queue = new TimerQueue(clock, 20);
  const sent: Sent[] = [];
  const errors: number[] = [];
  let fail = 0;
  let unusable = 0;
  const host: AdvertiserHost = {
    queue,
    transmit(index, source, destination, message) {
      if (fail) return fail;
      sent.push({ at: clock.now(), index, source: bytesToIPv6(source), destination: bytesToIPv6(destination), message });
      return 0;
    },
    onSent: undefined,
    onReceived: undefined,
    onSendError: (_i, errno) => errors.push(errno),
    onSourceUnusable: (i) => {
      unusable += 1;
      i.setLink(undefined);
    },
  };
  const iface = new InterfaceAdvertiser(
    resolveInterfaceConfig('c', {
      name: 'br100',
      minInterval: 3,
      maxInterval: 5,
      defaultLifetime: 3600,
      prefixes: [{ prefix: '2a0a:e5c1:111:888::/64' }],
      ...config,
    }),
    host,
  );
  const multicast = () => sent.filter((s) => s.destination === 'ff02::1');
  return {
    clock,
    queue,
    sent,
    errors,
    iface,
    multicast,
    failWith: (e: number) => {
      fail = e;
    },
    unusable: () => unusable,
  };
}

describe('unsolicited RAs (RFC 4861 §6.2.4)', () => {
  it('waits for the link, then sends from its link-local to ff02::1 at intervals in [min, max]', () => {
    const { clock, iface, multicast, sent } = setup();
    clock.advance(60_000);
    expect(sent).toHaveLength(0);
    expect(iface.stats().state).toBe('waiting');
    iface.setLink(LINK);
    clock.advance(600_000);
    const m = multicast();
    expect(m.length).toBeGreaterThan(100);
    expect(m[0]!.at - 60_000).toBeLessThanOrEqual(500);
    for (let i = 1; i < m.length; i++) {
      const gap = m[i]!.at - m[i - 1]!.at;
      expect(gap).toBeGreaterThanOrEqual(3000);
      expect(gap).toBeLessThanOrEqual(5000);
    }
    const gaps = m.slice(1).map((s, i) => s.at - m[i]!.at);
    // Uniformly random, not fixed: both halves of the range are used.
    expect(gaps.some((g) => g < 4000)).toBe(true);
    expect(gaps.some((g) => g > 4000)).toBe(true);
    expect(m.every((s) => s.source === 'fe80::ff:fe00:100' && s.index === 7)).toBe(true);
    expect(iface.stats()).toMatchObject({ state: 'serving', index: 7, advertisementsSent: m.length, sendErrors: 0 });
  });

  it('sends the first three RAs at most 16 s apart (MAX_INITIAL_RTR_ADVERT_INTERVAL), then uses the configured interval', () => {
    const { clock, iface, multicast } = setup({ minInterval: 200, maxInterval: 600, defaultLifetime: 1800 });
    iface.setLink(LINK);
    clock.advance(3_000_000);
    const at = multicast().map((s) => s.at);
    expect(at[0]).toBeLessThanOrEqual(500);
    expect(at[1]! - at[0]!).toBeLessThanOrEqual(16_000);
    expect(at[2]! - at[1]!).toBeLessThanOrEqual(16_000);
    // The three initial RAs (the first after 0-500 ms, two more at most 16 s apart), then the normal interval.
    for (let i = 3; i < at.length; i++) {
      expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(200_000);
      expect(at[i]! - at[i - 1]!).toBeLessThanOrEqual(600_000);
    }
  });

  it('starts a fresh initial burst when the link comes back', () => {
    const { clock, iface, multicast } = setup({ minInterval: 200, maxInterval: 600, defaultLifetime: 1800 });
    iface.setLink(LINK);
    clock.advance(1_000_000);
    iface.setLink(undefined);
    const before = multicast().length;
    clock.advance(1_000_000);
    expect(multicast()).toHaveLength(before);
    iface.setLink({ ...LINK, index: 9 });
    const t = clock.now();
    clock.advance(40_000);
    const after = multicast().filter((s) => s.at >= t);
    expect(after.length).toBeGreaterThanOrEqual(3);
    expect(after[0]!.index).toBe(9);
    expect(after[0]!.at - t).toBeLessThanOrEqual(500);
  });

  it('rebuilds the RA when the MAC or MTU changes', () => {
    const { clock, iface, multicast } = setup({ mtu: 1500 });
    iface.setLink(LINK);
    clock.advance(1000);
    iface.setLink({ ...LINK, mac: '02:00:00:00:02:00', mtu: 1280 });
    clock.advance(6000);
    const last = decodeAdvertisement(multicast().at(-1)!.message);
    expect(last.options).toContainEqual({ type: 'sourceLinkLayer', mac: '02:00:00:00:02:00' });
  });

  it('counts send errors and keeps going', () => {
    const { clock, iface, errors, failWith, multicast } = setup();
    iface.setLink(LINK);
    failWith(101);
    clock.advance(20_000);
    expect(iface.stats().sendErrors).toBeGreaterThan(2);
    expect(errors.every((e) => e === 101)).toBe(true);
    failWith(0);
    clock.advance(20_000);
    expect(multicast().length).toBeGreaterThan(2);
  });

  it('stops on EINVAL (source address tentative again) until the link is reported ready again', () => {
    const { clock, iface, failWith, multicast, unusable, queue } = setup();
    iface.setLink(LINK);
    clock.advance(1000);
    failWith(22);
    clock.advance(10_000);
    expect(unusable()).toBe(1);
    expect(iface.stats()).toMatchObject({ state: 'waiting', sendErrors: 1 });
    expect(queue.size).toBe(0);
    failWith(0);
    const n = multicast().length;
    iface.setLink(LINK);
    clock.advance(1000);
    expect(multicast().length).toBe(n + 1);
  });
});

describe('solicited RAs (RFC 4861 §6.2.6)', () => {
  it('answers a solicitation from a host with a unicast RA within 500 ms', () => {
    for (let seed = 1; seed < 30; seed++) {
      const { clock, iface, sent } = setup({}, seed);
      iface.setLink(LINK);
      clock.advance(1000);
      const t = clock.now();
      iface.solicit(HOST_LL, 255, RS);
      clock.advance(600);
      const reply = sent.find((s) => s.destination === 'fe80::1234');
      expect(reply).toBeDefined();
      expect(reply!.at - t).toBeLessThanOrEqual(500);
      expect(decodeAdvertisement(reply!.message).routerLifetime).toBe(3600);
    }
  });

  it('coalesces a burst of solicitations from one host into one reply', () => {
    const { clock, iface, sent } = setup();
    iface.setLink(LINK);
    clock.advance(1000);
    for (let i = 0; i < 50; i++) iface.solicit(HOST_LL, 255, RS);
    clock.advance(600);
    expect(sent.filter((s) => s.destination === 'fe80::1234')).toHaveLength(1);
    expect(iface.stats().solicitationsReceived).toBe(50);
  });

  it('answers a solicitation from :: by multicast, never within 3 s of the previous multicast RA', () => {
    for (let seed = 1; seed < 30; seed++) {
      const { clock, iface, multicast } = setup({ minInterval: 30, maxInterval: 60, defaultLifetime: 180 }, seed);
      iface.setLink(LINK);
      clock.advance(600); // the first RA has gone out
      const first = multicast().length;
      expect(first).toBe(1);
      const t = clock.now();
      iface.solicit(UNSPECIFIED, 255, RS);
      clock.advance(4000);
      const m = multicast();
      expect(m.length).toBe(2);
      expect(m[1]!.at - m[0]!.at).toBeGreaterThanOrEqual(3000);
      expect(m[1]!.at - m[0]!.at).toBeLessThanOrEqual(3500);
      // Later: a solicitation long after the last RA is answered within 500 ms.
      clock.advance(5000);
      const t2 = clock.now();
      iface.solicit(UNSPECIFIED, 255, RS);
      clock.advance(600);
      const m2 = multicast();
      expect(m2).toHaveLength(3);
      expect(m2[2]!.at - t2).toBeLessThanOrEqual(500);
      expect(t).toBeGreaterThan(0);
    }
  });

  it('a flood of solicitations from :: yields multicast RAs at least 3 s apart', () => {
    const { clock, iface, multicast } = setup();
    iface.setLink(LINK);
    for (let i = 0; i < 3000; i++) {
      iface.solicit(UNSPECIFIED, 255, RS);
      clock.advance(10);
    }
    const m = multicast();
    for (let i = 1; i < m.length; i++) expect(m[i]!.at - m[i - 1]!.at).toBeGreaterThanOrEqual(3000);
    expect(m.length).toBeGreaterThanOrEqual(8);
  });

  it('with solicitedUnicast off, replies by multicast', () => {
    const { clock, iface, sent } = setup({ solicitedUnicast: false });
    iface.setLink(LINK);
    clock.advance(4000);
    const n = sent.length;
    iface.solicit(HOST_LL, 255, RS);
    clock.advance(3600);
    expect(sent.slice(n).every((s) => s.destination === 'ff02::1')).toBe(true);
    expect(sent.length).toBeGreaterThan(n);
  });

  it('drops and counts invalid solicitations without replying', () => {
    const { clock, iface, sent } = setup();
    iface.setLink(LINK);
    clock.advance(1000);
    iface.solicit(HOST_LL, 64, RS);
    iface.solicit(HOST_LL, 255, Buffer.from([133, 1, 0, 0, 0, 0, 0, 0]));
    clock.advance(600);
    expect(sent.filter((s) => s.destination === 'fe80::1234')).toHaveLength(0);
    expect(iface.stats()).toMatchObject({ solicitationsReceived: 2, solicitationsDropped: 2 });
  });
});

describe('stop and update', () => {
  it('stop() sends three final RAs, the first at once and then 3 s apart, router lifetime 0, then nothing', async () => {
    const { clock, iface, multicast } = setup({ rdnss: [{ servers: ['2a0a:e5c0::3'], lifetime: 6000 }] });
    iface.setLink(LINK);
    clock.advance(10_000);
    const before = multicast().length;
    let done = false;
    const stoppedAt = clock.now();
    const p = iface.stop(3).then(() => {
      done = true;
    });
    clock.advance(20_000);
    await p;
    expect(done).toBe(true);
    const finals = multicast().slice(before);
    expect(finals).toHaveLength(3);
    for (const f of finals) {
      const d = decodeAdvertisement(f.message);
      expect(d.routerLifetime).toBe(0);
      expect(d.options.find((o) => o.type === 'rdnss')).toMatchObject({ lifetime: 0 });
    }
    expect(finals[1]!.at - finals[0]!.at).toBeGreaterThanOrEqual(3000);
    // At once (within the queue's 20 ms tick), not MIN_DELAY_BETWEEN_RAS after the last RA, as radvd.
    expect(finals[0]!.at - stoppedAt).toBeLessThanOrEqual(20);
    expect(finals[2]!.at - finals[1]!.at).toBeGreaterThanOrEqual(3000);
    clock.advance(60_000);
    expect(multicast().length).toBe(before + 3);
    expect(iface.stats().state).toBe('stopped');
    expect(iface.stop(3)).toBe(iface.stop(1)); // idempotent
  });

  it('stop() of an interface that is not ready sends nothing and resolves at once', async () => {
    const { iface, sent } = setup();
    await iface.stop(3);
    expect(sent).toHaveLength(0);
  });

  it('farewell() waits for the link, then sends only the final RA: nothing before it, nothing after', async () => {
    const { clock, iface, multicast } = setup();
    let done = false;
    const p = iface.farewell(1).then(() => {
      done = true;
    });
    clock.advance(30_000);
    expect(multicast()).toHaveLength(0);
    expect(done).toBe(false);
    iface.setLink(LINK);
    clock.advance(20);
    await p;
    expect(multicast().map((m) => decodeAdvertisement(m.message).routerLifetime)).toEqual([0]);
    clock.advance(60_000);
    expect(multicast()).toHaveLength(1);
    expect(iface.stats()).toMatchObject({ state: 'stopped', finalAdvertisementsSent: 1 });
  });

  it('farewell() given up by abandon() resolves having sent nothing', async () => {
    const { clock, iface, sent } = setup();
    const p = iface.farewell(1);
    clock.advance(5_000);
    iface.abandon();
    await p;
    iface.setLink(LINK);
    clock.advance(60_000);
    expect(sent).toHaveLength(0);
  });

  it('update() advertises a removed prefix with lifetimes 0 three times, then drops it', () => {
    const { clock, iface, multicast } = setup({ prefixes: [{ prefix: '2001:db8:1::/64' }, { prefix: '2001:db8:2::/64' }] });
    iface.setLink(LINK);
    clock.advance(30_000);
    const n = multicast().length;
    iface.update(
      resolveInterfaceConfig('c', { name: 'br100', minInterval: 3, maxInterval: 5, defaultLifetime: 3600, prefixes: [{ prefix: '2001:db8:2::/64' }] }),
    );
    clock.advance(60_000);
    const prefixesOf = (s: Sent) => decodeAdvertisement(s.message).options.filter((o) => o.type === 'prefix');
    const after = multicast().slice(n);
    for (const s of after.slice(0, 3)) {
      expect(prefixesOf(s)).toEqual([
        expect.objectContaining({ prefix: '2001:db8:2::', validLifetime: 86400 }),
        expect.objectContaining({ prefix: '2001:db8:1::', validLifetime: 0, preferredLifetime: 0 }),
      ]);
    }
    for (const s of after.slice(3)) expect(prefixesOf(s)).toEqual([expect.objectContaining({ prefix: '2001:db8:2::' })]);
    // The change is announced soon (an initial burst), not at the end of the current interval.
    expect(after[0]!.at - (clock.now() - 60_000)).toBeLessThanOrEqual(3500);
  });
});

describe('TimerQueue', () => {
  it('runs entries in deadline order on one clock timer, never early, at most one tick late', () => {
    const clock = new FakeClock();
    const queue = new TimerQueue(clock, 20);
    const ran: Array<[number, number]> = [];
    const entries = Array.from({ length: 1000 }, (_, i) => new TimerEntry(() => ran.push([i, clock.now()])));
    const due = entries.map(() => Math.floor(clock.random() * 10_000));
    entries.forEach((e, i) => queue.scheduleAt(e, due[i]!));
    expect(clock.pending).toBe(1);
    // Moving and cancelling entries.
    queue.cancel(entries[0]!);
    queue.scheduleAt(entries[1]!, 20_000);
    due[1] = 20_000;
    clock.advance(30_000);
    expect(ran).toHaveLength(999);
    for (const [i, at] of ran) {
      expect(at).toBeGreaterThanOrEqual(due[i]!);
      expect(at - due[i]!).toBeLessThanOrEqual(20);
    }
    const order = ran.map(([i]) => due[i]!);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(clock.pending).toBe(0);
    expect(queue.size).toBe(0);
  });

  it('moves scheduled entries where they are: earlier, later and to the same deadline keep deadline-then-scheduling order', () => {
    const clock = new FakeClock(11);
    const queue = new TimerQueue(clock, 0);
    const ran: number[] = [];
    const entries = Array.from({ length: 500 }, (_, i) => new TimerEntry(() => ran.push(i)));
    /** The model: each entry's deadline and the order it was last scheduled in. */
    const due: number[] = [];
    const seq: number[] = [];
    let n = 0;
    const schedule = (i: number, at: number): void => {
      queue.scheduleAt(entries[i]!, at);
      due[i] = at;
      seq[i] = n++;
    };
    entries.forEach((_, i) => schedule(i, 1000 + Math.floor(clock.random() * 100)));
    for (let k = 0; k < 5000; k++) {
      const i = Math.floor(clock.random() * entries.length);
      const move = Math.floor(clock.random() * 3);
      // Earlier, later, or the same deadline again (then it goes after its equals).
      schedule(i, move === 0 ? due[i]! - Math.floor(clock.random() * 50) : move === 1 ? due[i]! + Math.floor(clock.random() * 50) : due[i]!);
    }
    clock.advance(100_000);
    const expected = entries.map((_, i) => i).sort((a, b) => due[a]! - due[b]! || seq[a]! - seq[b]!);
    expect(ran).toEqual(expected);
    expect(queue.size).toBe(0);
  });

  it('batches deadlines within one tick into one wakeup', () => {
    const clock = new FakeClock();
    const queue = new TimerQueue(clock, 20);
    for (let i = 0; i < 100; i++) queue.scheduleAt(new TimerEntry(() => {}), 1000 + (i % 20));
    clock.advance(2000);
    expect(clock.fired).toBeLessThanOrEqual(2);
  });
});

/** A host with a packet socket whose frames leave at once; `parts` replaces what a test watches. */
function packetHost(queue: TimerQueue, parts: Partial<AdvertiserHost> = {}): AdvertiserHost {
  return {
    queue,
    transmit: () => 0,
    queueFrame: (sender, _index, packet, final, solicited) => sender.frameSent(0, final, solicited, packet.length),
    onSent: undefined,
    onReceived: undefined,
    onSendError: () => {},
    onSourceUnusable: () => {},
    ...parts,
  };
}

/** An advertiser for br100 at the reference 3–5 s intervals. */
const referenceAdvertiser = (host: AdvertiserHost, config: object = {}): InterfaceAdvertiser =>
  new InterfaceAdvertiser(resolveInterfaceConfig('c', { name: 'br100', minInterval: 3, maxInterval: 5, defaultLifetime: 3600, ...config }), host);

describe('packet-socket path', () => {
  it('queues multicast RAs as whole IPv6 packets, the first one through the raw socket', () => {
    const clock = new FakeClock(3);
    const queue = new TimerQueue(clock, 20);
    const raw: Buffer[] = [];
    const frames: Array<{ index: number; packet: Buffer }> = [];
    const host = packetHost(queue, {
      transmit: (_i, _s, _d, m) => {
        raw.push(m);
        return 0;
      },
      queueFrame: (sender, index, packet, final, solicited) => {
        frames.push({ index, packet });
        sender.frameSent(0, final, solicited, packet.length);
      },
    });
    const iface = referenceAdvertiser(host);
    iface.setLink(LINK);
    clock.advance(20_000);
    expect(raw).toHaveLength(1);
    expect(frames.length).toBeGreaterThanOrEqual(3);
    const { index, packet } = frames[0]!;
    expect(index).toBe(LINK.index);
    expect(iface.stats().multicastAdvertisementsSent).toBe(raw.length + frames.length);
    // IPv6 header: version 6, payload length, next header 58, hop limit 255, fe80::ff:fe00:100 → ff02::1
    expect(packet.subarray(0, 8).toString('hex')).toBe(`60000000${(packet.length - 40).toString(16).padStart(4, '0')}3aff`);
    expect(bytesToIPv6(packet.subarray(8, 24))).toBe('fe80::ff:fe00:100');
    expect(bytesToIPv6(packet.subarray(24, 40))).toBe('ff02::1');
    const message = packet.subarray(40);
    expect(icmpv6Checksum('fe80::ff:fe00:100', 'ff02::1', message)).toBe(message.readUInt16BE(2));
    const zeroed = Buffer.from(message);
    zeroed.writeUInt16BE(0, 2);
    expect(zeroed.equals(raw[0]!)).toBe(true);
  });
  it('keeps MinRtrAdvInterval between RAs on the wire when a frame leaves late (a sliced batch)', () => {
    const clock = new FakeClock(5);
    const queue = new TimerQueue(clock, 20);
    // Every other frame leaves 1.5 s after it was queued, the others at once.
    const LATE_MS = 1500;
    let queued = 0;
    const held: Array<{ at: number; done: () => void }> = [];
    const departures: number[] = [];
    const host = packetHost(queue, {
      queueFrame: (sender, _index, packet, final, solicited) => {
        const done = (): void => {
          departures.push(clock.now());
          sender.frameSent(0, final, solicited, packet.length);
        };
        queued += 1;
        if (queued % 2 === 1) held.push({ at: clock.now() + LATE_MS, done });
        else done();
      },
    });
    const iface = referenceAdvertiser(host);
    iface.setLink(LINK);
    for (let t = 0; t < 120_000; t += 10) {
      clock.advance(10);
      while (held.length > 0 && held[0]!.at <= clock.now()) held.shift()!.done();
    }
    expect(departures.length).toBeGreaterThan(15);
    const gaps = departures.slice(1).map((at, i) => at - departures[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(3000);
    // A late frame makes its own interval longer, by at most its lateness.
    expect(Math.max(...gaps)).toBeLessThanOrEqual(5000 + LATE_MS);
  });
});

describe('FrameBatch', () => {
  const MAC = Buffer.from([0x33, 0x33, 0, 0, 0, 1]);
  /** A packet socket whose sendFrames takes `msPerFrame` of the event loop (the kernel's route lookup at scale). */
  function fakeSocket(fail: (index: number) => number, msPerFrame = 0) {
    const calls: Array<{ indexes: number[]; lengths: number[]; mac: string; turn: number }> = [];
    let turn = 0;
    const socket = {
      sendFrames(indexes: Int32Array, packets: Buffer[], count: number, mac: Buffer, errnos: Int32Array): number {
        calls.push({ indexes: [...indexes.subarray(0, count)], lengths: packets.slice(0, count).map((p) => p.length), mac: mac.toString('hex'), turn });
        busy(msPerFrame * count);
        let failures = 0;
        for (let i = 0; i < count; i++) failures += (errnos[i] = fail(indexes[i]!)) === 0 ? 0 : 1;
        return failures;
      },
    } as unknown as NativeIcmp6Socket;
    /** Counts check phases, so a call's `turn` tells which macrotask made it. */
    const ticking = (): (() => void) => {
      let on = true;
      const tick = (): void => {
        turn += 1;
        if (on) setImmediate(tick);
      };
      setImmediate(tick);
      return () => (on = false);
    };
    return { socket, calls, ticking };
  }
  const nextMacrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  async function drained(batch: FrameBatch): Promise<void> {
    while (batch.size > 0) await nextMacrotask();
  }

  it("sends one tick's frames at the end of the tick, FRAMES_PER_CALL at a time in order, and reports each outcome once", async () => {
    await nextMacrotask(); // a fresh time slice
    const { socket, calls } = fakeSocket((index) => (index === 3 ? 100 : 0));
    const batch = new FrameBatch(() => socket, MAC);
    const heard: Array<[number, number, boolean, boolean, number]> = [];
    const sender = (index: number): FrameSender => ({ frameSent: (errno, final, solicited, bytes) => heard.push([index, errno, final, solicited, bytes]) });
    // 100 frames: past the initial capacity of 64.
    for (let i = 1; i <= 100; i++) batch.queue(sender(i), i, Buffer.alloc(40 + i), i === 2, i === 4);
    expect(calls).toHaveLength(0); // not yet: at the end of the tick
    await drained(batch);
    expect(calls.every((c) => c.indexes.length <= FRAMES_PER_CALL)).toBe(true);
    expect(calls.flatMap((c) => c.indexes)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(calls.flatMap((c) => c.lengths)[99]).toBe(140);
    expect(calls[0]!.mac).toBe('333300000001');
    expect(heard.map((h) => h[0])).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(heard[1]).toEqual([2, 0, true, false, 42]);
    expect(heard[2]).toEqual([3, 100, false, false, 43]);
    expect(heard[3]).toEqual([4, 0, false, true, 44]);
    // The next tick's frames make a new call (in this tick's flush, or a later macrotask's
    // when a loaded machine has already spent this macrotask's slice).
    const before = calls.length;
    batch.queue(sender(5), 5, Buffer.alloc(50), false, false);
    await drained(batch);
    expect(calls).toHaveLength(before + 1);
    expect(calls[before]!.indexes).toEqual([5]);
  });

  it('spreads a batch that takes longer than a slice over macrotasks, older frames first, each outcome once', async () => {
    await nextMacrotask();
    const { socket, calls, ticking } = fakeSocket((index) => (index % 7 === 0 ? 105 : 0), 1);
    const batch = new FrameBatch(() => socket, MAC);
    const heard: Array<[number, number]> = [];
    const sender = (index: number): FrameSender => ({ frameSent: (errno) => heard.push([index, errno]) });
    const stopTicking = ticking();
    try {
      for (let i = 1; i <= 48; i++) batch.queue(sender(i), i, Buffer.alloc(48), false, false);
      await Promise.resolve();
      // 1 ms a frame: a slice's worth went, the rest waits for a later macrotask.
      expect(batch.size).toBeGreaterThan(0);
      expect(calls.length).toBeLessThanOrEqual(Math.ceil(SLICE_MS / FRAMES_PER_CALL) + 1);
      // Queued while a remainder waits: sent after it, not before.
      for (let i = 49; i <= 60; i++) batch.queue(sender(i), i, Buffer.alloc(48), false, false);
      await drained(batch);
    } finally {
      stopTicking();
    }
    expect(calls.flatMap((c) => c.indexes)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(heard).toEqual(Array.from({ length: 60 }, (_, i) => [i + 1, (i + 1) % 7 === 0 ? 105 : 0]));
    // Other macrotasks ran in between, and none of the batch's sent much more than a slice.
    const perTurn = new Map<number, number>();
    for (const c of calls) perTurn.set(c.turn, (perTurn.get(c.turn) ?? 0) + c.indexes.length);
    expect(perTurn.size).toBeGreaterThanOrEqual(Math.floor(60 / (SLICE_MS + FRAMES_PER_CALL)));
    for (const frames of perTurn.values()) expect(frames).toBeLessThanOrEqual(SLICE_MS + 2 * FRAMES_PER_CALL);
  });

  it('fails every frame with EBADF once the socket is gone', async () => {
    const batch = new FrameBatch(() => undefined, MAC);
    const errnos: number[] = [];
    batch.queue({ frameSent: (errno) => errnos.push(errno) }, 1, Buffer.alloc(48), true, false);
    await Promise.resolve();
    expect(errnos).toEqual([9]);
  });

  it('close() with a remainder waiting fails it EBADF at once and leaves no immediate behind', async () => {
    await nextMacrotask();
    const { socket, calls } = fakeSocket(() => 0, 1);
    let open = true;
    const batch = new FrameBatch(() => (open ? socket : undefined), MAC);
    const heard: Array<[number, number]> = [];
    for (let i = 1; i <= 40; i++) batch.queue({ frameSent: (errno) => heard.push([i, errno]) }, i, Buffer.alloc(48), false, false);
    await Promise.resolve();
    expect(batch.size).toBeGreaterThan(0);
    const sent = calls.flatMap((c) => c.indexes).length;
    const immediates = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Immediate').length;
    const pending = immediates();
    open = false;
    batch.close();
    expect(immediates()).toBe(pending - 1); // the remainder's
    expect(batch.size).toBe(0);
    expect(heard).toEqual(Array.from({ length: 40 }, (_, i) => [i + 1, i < sent ? 0 : 9]));
    await nextMacrotask(); // the slice's own end-of-turn immediate
    expect(immediates()).toBe(0);
    expect(calls.flatMap((c) => c.indexes)).toHaveLength(sent);
  });

  it('stop() resolves only once its final RA has left, even when the batch sends it in a later macrotask', async () => {
    await nextMacrotask();
    const { socket, calls } = fakeSocket(() => 0, 1);
    const batch = new FrameBatch(() => socket, MAC);
    const clock = new FakeClock(3);
    const host = packetHost(new TimerQueue(clock, 20), {
      queueFrame: (sender, index, packet, final, solicited) => batch.queue(sender, index, packet, final, solicited),
    });
    const iface = referenceAdvertiser(host);
    iface.setLink(LINK);
    // Other interfaces' RAs of this tick, more than a slice of sends: the final RA queues behind them.
    for (let i = 100; i < 140; i++) batch.queue({ frameSent: () => {} }, i, Buffer.alloc(48), false, false);
    let leftWhenResolved: boolean | undefined;
    const stopped = iface.stop(1).then(() => {
      leftWhenResolved = calls.some((c) => c.indexes.includes(LINK.index));
    });
    clock.advance(0); // the first final RA is due at once
    expect(batch.size).toBe(41);
    await stopped;
    expect(leftWhenResolved).toBe(true);
    expect(iface.stats()).toMatchObject({ state: 'stopped', finalAdvertisementsSent: 1 });
    expect(calls.length).toBeGreaterThan(1); // it did go in a later macrotask
    await drained(batch);
  });
});

describe('raw-socket sends within the send budget', () => {
  function rawSetup() {
    const clock = new FakeClock(3);
    const queue = new TimerQueue(clock, 100);
    const raw: Array<{ at: number; destination: string }> = [];
    let turn: { promise: Promise<void>; resolve: () => void } | undefined;
    const host = packetHost(queue, {
      transmit: (_i, _s, d) => {
        raw.push({ at: clock.now(), destination: bytesToIPv6(d) });
        return 0;
      },
      rawSendTurn: () => turn?.promise,
    });
    const iface = referenceAdvertiser(host, { solicitedUnicast: true });
    const spend = (): void => {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      turn = { promise, resolve };
    };
    const refill = (): void => {
      turn?.resolve();
      turn = undefined;
    };
    /** The budget is back, but the turn already handed out never comes. */
    const budgetBack = (): void => {
      turn = undefined;
    };
    return { clock, raw, iface, spend, refill, budgetBack };
  }

  it('postpones the first RA while the budget is spent, without counting it, and sends it at its turn', async () => {
    const { clock, raw, iface, spend, refill } = rawSetup();
    spend();
    iface.setLink(LINK);
    clock.advance(600); // the first RA was due within 500 ms
    expect(raw).toHaveLength(0);
    expect(iface.stats().advertisementsSent).toBe(0);
    refill();
    await Promise.resolve();
    await Promise.resolve();
    expect(raw).toHaveLength(1);
    expect(iface.stats()).toMatchObject({ advertisementsSent: 1, multicastAdvertisementsSent: 1 });
    // Then the packet socket, and the initial RAs at most 16 s apart.
    clock.advance(60_000);
    expect(raw).toHaveLength(1);
    expect(iface.stats().multicastAdvertisementsSent).toBeGreaterThan(10);
  });

  it('sends a postponed first RA at the next tick when the budget is back before its turn', () => {
    const { clock, raw, iface, spend, budgetBack } = rawSetup();
    spend();
    iface.setLink(LINK);
    clock.advance(500);
    expect(raw).toHaveLength(0);
    const at = clock.now();
    budgetBack(); // the turn it waits for has not come yet
    clock.advance(300);
    expect(raw).toHaveLength(1);
    expect(raw[0]!.at - at).toBeLessThanOrEqual(200);
    expect(iface.stats().advertisementsSent).toBe(1);
  });

  it('does not postpone a solicited unicast reply', () => {
    const { clock, raw, iface, spend } = rawSetup();
    iface.setLink(LINK);
    clock.advance(1000); // the first RA
    spend();
    iface.solicit(HOST_LL, 255, RS);
    clock.advance(600);
    expect(raw.map((r) => r.destination)).toEqual(['ff02::1', 'fe80::1234']);
  });
});

describe('TimerQueue default tick', () => {
  it('wakes at most 10 times a second for 4,096 interfaces at 3–5 s, runs due-now entries at once, never early', () => {
    const clock = new FakeClock(5);
    const queue = new TimerQueue(clock);
    expect(queue.tick).toBe(RA_TICK_MS);
    let late = 0;
    let early = 0;
    const entries = Array.from({ length: 4096 }, () => {
      const entry: TimerEntry = new TimerEntry(() => {
        const lag = clock.now() - entry.due;
        if (lag < 0) early++;
        late = Math.max(late, lag);
        queue.scheduleAt(entry, clock.now() + 3000 + clock.random() * (2000 - RA_TICK_MS));
      });
      return entry;
    });
    for (const e of entries) queue.scheduleAt(e, clock.random() * 5000);
    clock.advance(60_000);
    expect(early).toBe(0);
    expect(late).toBeLessThanOrEqual(RA_TICK_MS);
    // The cost that matters when serving thousands of bridges (each wakeup ~125 µs of CPU here).
    expect(clock.fired).toBeLessThanOrEqual(601);
    // Due now (a final RA "at once"): not rounded up to the tick.
    let ranAt = -1;
    const now = clock.now() + 1; // off the tick grid
    clock.advance(1);
    queue.scheduleAt(new TimerEntry(() => (ranAt = clock.now())), clock.now());
    clock.advance(0);
    expect(ranAt).toBe(now);
  });
});
