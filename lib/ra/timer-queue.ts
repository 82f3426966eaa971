/**
 * One scheduler for every interface of a namespace: a binary min-heap of deadlines behind a
 * single clock timer, instead of one setTimeout per interface. Deadlines are rounded up to a
 * tick (default RA_TICK_MS, 100 ms) so RAs due close together go out in one wakeup: with
 * 4,096 interfaces at 3–5 s intervals that is at most 10 wakeups a second instead of 1,000.
 * A wakeup is what serving costs most per RA at these rates: an otherwise idle node process
 * woken every 20 ms spends 0.63 % of a core on it, every 100 ms 0.15 % (bench/FINDINGS.md).
 *
 * Rounding only ever delays, by less than a tick; callers that have an upper bound (the RFC's
 * MaxRtrAdvInterval, MAX_RA_DELAY_TIME) draw their delays from a range shortened by `tick`.
 * A deadline already due when the timer is armed (a final RA "at once") is not rounded.
 */
import type { Clock, TimerHandle } from './clock.js';

/** The default rounding tick of a TimerQueue, in ms. */
export const RA_TICK_MS = 100;

/** A schedulable callback; one entry is scheduled at most once at a time (rescheduling moves it). */
export class TimerEntry {
  /** Absolute time (clock ms) it is due. */
  due = 0;
  /** Position in the heap, -1 when not scheduled. */
  index = -1;
  private static counter = 0;
  /** Tie-breaker: entries due at the same time run in scheduling order. */
  seq = 0;

  constructor(readonly callback: () => void) {}

  /** Whether it is waiting in a queue. */
  get scheduled(): boolean {
    return this.index >= 0;
  }

  /** @internal */
  static nextSeq(): number {
    TimerEntry.counter += 1;
    return TimerEntry.counter;
  }
}

/** The shared scheduler. */
export class TimerQueue {
  private readonly heap: TimerEntry[] = [];
  private timer: TimerHandle | undefined;
  private armedFor = Infinity;
  private running = false;
  private closed = false;

  /**
   * @param clock time source
   * @param tick rounding granularity in ms (0 for exact deadlines)
   */
  constructor(
    readonly clock: Clock,
    readonly tick = RA_TICK_MS,
  ) {}

  /** Number of scheduled entries. */
  get size(): number {
    return this.heap.length;
  }

  /** Schedules (or moves) `entry` to run `delay` ms from now. */
  schedule(entry: TimerEntry, delay: number): void {
    this.scheduleAt(entry, this.clock.now() + Math.max(0, delay));
  }

  /** Schedules (or moves) `entry` to run at absolute clock time `due`. */
  scheduleAt(entry: TimerEntry, due: number): void {
    if (this.closed) return;
    entry.due = due;
    entry.seq = TimerEntry.nextSeq();
    if (entry.index >= 0) {
      // Moved where it is: a later deadline only sinks (from near the leaves, where an RA's
      // next one, seconds away, sits), an earlier one only rises. Removing and pushing it
      // would sift the heap's last entry down from the middle as well.
      this.down(entry.index);
      this.up(entry.index);
    } else {
      entry.index = this.heap.length;
      this.heap.push(entry);
      this.up(entry.index);
    }
    this.arm();
  }

  /** Unschedules `entry` (no-op when it is not scheduled). */
  cancel(entry: TimerEntry): void {
    if (entry.index < 0) return;
    this.remove(entry);
    this.arm();
  }

  /** Cancels everything and the clock timer. */
  close(): void {
    this.closed = true;
    for (const e of this.heap) e.index = -1;
    this.heap.length = 0;
    this.disarm();
  }

  private less(a: TimerEntry, b: TimerEntry): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i]!;
    const b = this.heap[j]!;
    this.heap[i] = b;
    this.heap[j] = a;
    a.index = j;
    b.index = i;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(this.heap[i]!, this.heap[parent]!)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(this.heap[l]!, this.heap[m]!)) m = l;
      if (r < n && this.less(this.heap[r]!, this.heap[m]!)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private remove(entry: TimerEntry): void {
    const i = entry.index;
    const last = this.heap.pop()!;
    entry.index = -1;
    if (last !== entry) {
      this.heap[i] = last;
      last.index = i;
      this.down(i);
      this.up(last.index);
    }
  }

  private roundUp(time: number): number {
    return this.tick > 0 ? Math.ceil(time / this.tick) * this.tick : time;
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  private arm(): void {
    if (this.running) return; // run() re-arms when it is done
    const first = this.heap[0];
    if (!first) {
      this.disarm();
      return;
    }
    const now = this.clock.now();
    const at = first.due <= now ? now : this.roundUp(first.due);
    if (this.timer !== undefined && at >= this.armedFor) return;
    this.disarm();
    this.armedFor = at;
    this.timer = this.clock.setTimer(() => this.run(), Math.max(0, at - now));
  }

  private run(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    this.running = true;
    try {
      // Everything due by now runs (never early); what callbacks schedule for later waits.
      const now = this.clock.now();
      let guard = this.heap.length + 1024;
      for (let first = this.heap[0]; first && first.due <= now && guard > 0; first = this.heap[0], guard--) {
        this.remove(first);
        first.callback();
      }
    } finally {
      this.running = false;
      if (!this.closed) this.arm();
    }
  }
}
