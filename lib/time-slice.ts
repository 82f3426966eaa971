/**
 * Time slices of the event loop for bulk work: thousands of concurrent creations or
 * destructions each run a little JavaScript per step, and the steps of all of them resume
 * together (one Promise.all turn, one netlink reply batch, one record batch), which made
 * single macrotasks of 50-250 ms at 1,024 networks (bench:scale, --cpu-prof). Each step
 * awaits {@link timeSlice} first. The waiting steps go on one at a time, oldest first, and
 * the clock is read before each: once the current macrotask has run steps for
 * {@link SLICE_MS}, the rest go on in a later macrotask, so timers, RAs and I/O callbacks
 * run in between and no macrotask of ours grows past a slice plus one step.
 *
 * Synchronous work that is not a step, the RA sender's system calls (lib/ra/frame-batch.ts),
 * shares the same slice through {@link sliceHasTime}: one event loop, one budget per
 * macrotask, whoever spends it.
 */

/** Milliseconds of steps per macrotask (the bound on event-loop delay is 20). */
export const SLICE_MS = 8;

/** When the current slice began; undefined between slices. */
let sliceStart: number | undefined;
const waiting: (() => void)[] = [];
/** Whether a pump is queued (as a microtask, or as the next macrotask's). */
let pumping = false;

/** Starts a slice at `now`, ended by the next check phase (the end of this turn). */
function open(now: number): number {
  sliceStart = now;
  setImmediate(() => {
    if (sliceStart === now) sliceStart = undefined;
  });
  return now;
}

/**
 * Lets the oldest waiting step go on, then comes back (a microtask queued after the step's
 * continuation, which runs up to its next await) for the next one while the slice lasts.
 */
function pump(): void {
  const next = waiting.shift();
  if (!next) {
    pumping = false;
    return;
  }
  const now = performance.now();
  const start = sliceStart ?? open(now);
  if (now - start >= SLICE_MS) {
    waiting.unshift(next);
    setImmediate(() => {
      open(performance.now());
      pump();
    });
    return;
  }
  next();
  queueMicrotask(pump);
}

/**
 * Whether the current slice still has time, opening one now when none is open: work that
 * cannot await each step (a run of system calls) checks it between pieces and, when it says
 * no, goes on in a later macrotask (setImmediate, or {@link timeSlice}), where a fresh slice
 * opens. What it runs counts against the slice like a step's time.
 */
export function sliceHasTime(): boolean {
  const now = performance.now();
  return now - (sliceStart ?? open(now)) < SLICE_MS;
}

/** Resolves when it is this caller's turn in the current or a later macrotask (see the file comment). */
export function timeSlice(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    if (pumping) return;
    pumping = true;
    queueMicrotask(pump);
  });
}
