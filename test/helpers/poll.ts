/**
 * Waiting for a condition with a deadline: the one way tests synchronise with the kernel, a
 * peer or a child process (never a fixed sleep). A condition that throws counts as not yet
 * met; the last error goes into the timeout message.
 */

/** Resolves after `ms` (for pacing a poll, never for synchronisation). */
export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** How long to wait and how often to look. */
export interface UntilOptions {
  /** Give up after this long (default 60 s: DAD and SLAAC on a loaded host take many seconds). */
  timeoutMs?: number;
  /** Look again after this long (default 200 ms). */
  intervalMs?: number;
}

/**
 * Polls `fn` until it returns something other than undefined/false/null and resolves with it;
 * rejects with `timed out waiting for <what>` at the deadline.
 */
export async function until<T>(
  what: string,
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  options: UntilOptions | number = {},
): Promise<T> {
  const { timeoutMs = 60_000, intervalMs = 200 } = typeof options === 'number' ? { timeoutMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await delay(intervalMs);
  }
}

/**
 * Polls `read` until it returns the same value `times` looks in a row (e.g. a descriptor count
 * once a closing socket's last job is done) and resolves with that value.
 */
export async function stable<T>(what: string, read: () => T, options: UntilOptions & { times?: number } = {}): Promise<T> {
  const { times = 3, intervalMs = 50, timeoutMs = 10_000 } = options;
  let previous = read();
  let same = 1;
  return until(
    `${what} to settle`,
    () => {
      const now = read();
      same = now === previous ? same + 1 : 1;
      previous = now;
      return same >= times ? { now } : undefined;
    },
    { timeoutMs, intervalMs },
  ).then((r) => r.now);
}
