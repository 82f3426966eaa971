import { describe, expect, it } from 'vitest';

import { SLICE_MS, sliceHasTime, timeSlice } from '../../lib/time-slice.js';

const busy = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

/** Counts event-loop turns (check phases) while `work` runs. */
async function turns<T>(work: (turn: () => number) => Promise<T>): Promise<T> {
  let turn = 0;
  let on = true;
  const tick = (): void => {
    turn += 1;
    if (on) setImmediate(tick);
  };
  setImmediate(tick);
  try {
    return await work(() => turn);
  } finally {
    on = false;
  }
}

describe('timeSlice', () => {
  it('spreads steps that resume together over macrotasks of about SLICE_MS, in order', async () => {
    const steps = 40;
    // Control: without it, 40 steps of 1 ms resume in one macrotask.
    const plain = await turns(async (turn) => Promise.all(Array.from({ length: steps }, () => Promise.resolve().then(() => (busy(1), turn())))));
    expect(new Set(plain).size).toBe(1);

    const order: number[] = [];
    const sliced = await turns(async (turn) =>
      Promise.all(
        Array.from({ length: steps }, async (_, i) => {
          await timeSlice();
          order.push(i);
          busy(1);
          return turn();
        }),
      ),
    );
    expect(order).toEqual([...order].sort((a, b) => a - b));
    const perTurn = new Map<number, number>();
    for (const t of sliced) perTurn.set(t, (perTurn.get(t) ?? 0) + 1);
    expect(perTurn.size).toBeGreaterThanOrEqual(Math.floor(steps / (SLICE_MS + 1)));
    for (const n of perTurn.values()) expect(n).toBeLessThanOrEqual(SLICE_MS + 1);
  });

  it('lets a lone step go on in the same macrotask', async () => {
    // The previous test's last slice ends at the next check phase.
    await new Promise((resolve) => setImmediate(resolve));
    const seen = await turns(async (turn) => {
      const before = turn();
      await timeSlice();
      return [before, turn()];
    });
    expect(seen[1]).toBe(seen[0]);
  });

  it('shares the slice with work that checks sliceHasTime between pieces', async () => {
    await new Promise((resolve) => setImmediate(resolve));
    expect(sliceHasTime()).toBe(true); // opens the slice
    busy(SLICE_MS);
    expect(sliceHasTime()).toBe(false);
    // A step waiting now goes on in a later macrotask, where a fresh slice has time.
    const seen = await turns(async (turn) => {
      const before = turn();
      await timeSlice();
      return [before, turn(), sliceHasTime()];
    });
    expect(seen[1]).toBeGreaterThan(seen[0] as number);
    expect(seen[2]).toBe(true);
  });
});
