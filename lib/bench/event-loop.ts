/**
 * The event loop's delay while something runs (perf_hooks.monitorEventLoopDelay, 1 ms
 * resolution): the largest, which the target is about, and the 99th percentile,
 * which a single preemption by another process on a busy machine does not move.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** Delays in milliseconds. */
export interface EventLoopDelay {
  maxMs: number;
  p99Ms: number;
}

/** A watch over the event loop: `pause()`/`resume()` leave out what is not measured. */
export interface EventLoopWatch {
  pause(): void;
  resume(): void;
  /** Stops watching and returns the delays seen while watching. */
  stop(): EventLoopDelay;
}

/** Starts watching now. */
export function watchEventLoop(): EventLoopWatch {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  return {
    pause: () => histogram.disable(),
    resume: () => histogram.enable(),
    stop: () => {
      histogram.disable();
      return { maxMs: histogram.max / 1e6, p99Ms: histogram.percentile(99) / 1e6 };
    },
  };
}
