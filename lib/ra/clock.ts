/**
 * The time source of the RA scheduler, injectable so the RFC 4861 §6.2.4–6.2.6 timing can be
 * tested without waiting: milliseconds on a monotonic clock, one timer, and the random numbers
 * the intervals are drawn from.
 */

/** A timer handle as the clock returned it. */
export type TimerHandle = unknown;

/** What the scheduler needs from time. */
export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Calls `callback` once after `delay` ms. */
  setTimer(callback: () => void, delay: number): TimerHandle;
  /** Cancels a timer from setTimer (no-op when it already ran). */
  clearTimer(handle: TimerHandle): void;
  /** Uniform in [0, 1). */
  random(): number;
}

/** Real time: performance.now(), setTimeout, Math.random. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer: (callback, delay) => setTimeout(callback, delay),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  random: () => Math.random(),
};
