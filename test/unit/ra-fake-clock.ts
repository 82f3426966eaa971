/**
 * A manual clock for the RA scheduler: time moves only in advance(), timers fire in order,
 * and random() comes from a seeded generator (or a fixed value) so runs are reproducible.
 */
import type { Clock, TimerHandle } from '../../lib/ra/clock.js';

interface FakeTimer {
  at: number;
  callback: () => void;
  id: number;
}

/** A clock under the test's control. */
export class FakeClock implements Clock {
  time = 0;
  private timers: FakeTimer[] = [];
  private nextId = 1;
  private seed: number;
  /** When set, random() returns it instead of the seeded sequence. */
  fixedRandom: number | undefined;

  constructor(seed = 1) {
    this.seed = seed;
  }

  now(): number {
    return this.time;
  }

  setTimer(callback: () => void, delay: number): TimerHandle {
    const t = { at: this.time + Math.max(0, delay), callback, id: this.nextId++ };
    this.timers.push(t);
    return t.id;
  }

  clearTimer(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  random(): number {
    if (this.fixedRandom !== undefined) return this.fixedRandom;
    // mulberry32
    this.seed = (this.seed + 0x6d2b79f5) | 0;
    let t = this.seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Timers that have fired (the scheduler's wakeups). */
  fired = 0;

  /** Pending timers. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing every timer due on the way, in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.time = Math.max(this.time, next.at);
      this.fired += 1;
      next.callback();
    }
    this.time = end;
  }
}
