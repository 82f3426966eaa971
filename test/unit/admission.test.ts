import { describe, expect, it } from 'vitest';

import { Admission, type Leave } from '../../lib/admission.js';

/** Lets every pending promise callback run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Admission', () => {
  it('lets `limit` in at once, and those in line in order, in a wave once the low-water mark is reached', async () => {
    const admission = new Admission(3, 1);
    const order: number[] = [];
    const leaves = new Map<number, Leave>();
    const entries = [1, 2, 3, 4, 5, 6, 7].map((k) =>
      admission.enter().then((leave) => {
        order.push(k);
        leaves.set(k, leave);
      }),
    );
    await settle();
    expect(order).toEqual([1, 2, 3]);
    expect([admission.size, admission.waiting]).toEqual([3, 4]);
    leaves.get(2)!();
    leaves.get(2)!(); // twice is once
    await settle();
    expect(order).toEqual([1, 2, 3]); // 2 under way: above the low-water mark
    expect([admission.size, admission.waiting]).toEqual([2, 4]);
    leaves.get(1)!();
    await settle();
    expect(order).toEqual([1, 2, 3, 4, 5]); // down to 1: filled up to 3 at once
    expect([admission.size, admission.waiting]).toEqual([3, 2]);
    for (const k of [3, 4, 5]) leaves.get(k)!();
    await Promise.all(entries);
    expect(order).toEqual([1, 2, 3, 4, 5, 6, 7]);
    leaves.get(6)!();
    leaves.get(7)!();
    expect([admission.size, admission.waiting]).toEqual([0, 0]);
  });

  it('a newcomer does not pass those in line, even when a place is free', async () => {
    const admission = new Admission(2, 0);
    const first = await admission.enter();
    const second = await admission.enter();
    const order: string[] = [];
    const third = admission.enter().then((leave) => (order.push('third'), leave));
    first(); // one place free, but 1 > lowWater: the line waits
    const fourth = admission.enter().then((leave) => (order.push('fourth'), leave));
    await settle();
    expect(order).toEqual([]);
    second();
    (await third)();
    (await fourth)();
    expect(order).toEqual(['third', 'fourth']);
    expect(admission.size).toBe(0);
  });

  it('an abort in line rejects with its reason and leaves the line; an aborted signal never enters', async () => {
    const admission = new Admission(1, 0);
    const first = await admission.enter();
    const controller = new AbortController();
    const reason = new Error('not now');
    const waiting = admission.enter(controller.signal);
    const after = admission.enter();
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(admission.waiting).toBe(1);
    await expect(admission.enter(AbortSignal.abort(reason))).rejects.toBe(reason);
    first();
    (await after)();
    expect([admission.size, admission.waiting]).toEqual([0, 0]);
  });
});
