import { describe, expect, it } from 'vitest';

import { NextMacrotaskRunner } from '../../lib/next-macrotask.js';

const macrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('NextMacrotaskRunner', () => {
  it('runs once for every kick of one turn, at the next macrotask, and again for kicks during a run', async () => {
    const runs: number[][] = [];
    let pending: number[] = [];
    let release: (() => void) | undefined;
    let idle = 0;
    const runner = new NextMacrotaskRunner(
      async () => {
        runs.push(pending.splice(0));
        await new Promise<void>((resolve) => (release = resolve));
      },
      () => pending.length > 0,
      () => (idle += 1),
    );
    for (const n of [1, 2, 3]) {
      pending.push(n);
      runner.kick();
    }
    await Promise.resolve();
    expect(runs).toEqual([]); // not within the turn: later callers of the turn must join
    expect(runner.busy).toBe(true);
    await macrotask();
    expect(runs).toEqual([[1, 2, 3]]);
    pending.push(4);
    runner.kick(); // during the run: waits for it
    await macrotask();
    expect(runs).toEqual([[1, 2, 3]]);
    release!();
    await macrotask();
    await macrotask();
    expect(runs).toEqual([[1, 2, 3], [4]]);
    expect(idle).toBe(0);
    release!();
    await macrotask();
    expect(idle).toBe(1);
    expect(runner.busy).toBe(false);
    pending = [];
  });
});
