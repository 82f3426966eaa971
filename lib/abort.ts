/**
 * Cancellation with AbortSignal, the one way for every long operation: `{ signal }` in its
 * options, validated like any option, and a rejection with `signal.reason` (an AbortError
 * DOMException unless the caller gave a reason) as soon as it fires. What the operation made
 * before is rolled back by the operation itself, as on any other failure.
 */
import { invalidType } from './validate.js';

/** Validates an optional `signal` option: undefined or an AbortSignal. */
export function checkSignal(field: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw invalidType(field, 'an AbortSignal', value);
  return value;
}

/** Throws `signal.reason` when the signal has fired (call before each step). */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  signal?.throwIfAborted();
}

/**
 * Settles as `work` does, or rejects with `signal.reason` as soon as the signal fires,
 * whichever is first. `work` itself goes on: `onAbort` is how the caller stops it (kill a
 * process, close a socket) and undoes what it made.
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined, onAbort?: () => void): Promise<T> {
  if (signal === undefined) return work;
  if (signal.aborted) {
    onAbort?.();
    work.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => {
      onAbort?.();
      work.catch(() => undefined);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', abort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error as Error);
      },
    );
  });
}

/** Whether `error` is what an aborted `signal` rejects with (its reason), not a failure of the work. */
export function isAbortReason(signal: AbortSignal | undefined, error: unknown): boolean {
  return signal?.aborted === true && error === signal.reason;
}

/**
 * For work an abort cannot leave half-done (a stop): when `signal` fires, `hurry` makes the
 * work end at once (kill the process, skip the remaining final RAs), and the call rejects with
 * `signal.reason` only once the work has settled, so the caller never sees a state in between.
 */
export function hurried<T>(work: Promise<T>, signal: AbortSignal | undefined, hurry: () => void): Promise<T> {
  if (signal === undefined) return work;
  return abortable(work, signal, hurry).catch(async (error: unknown) => {
    if (signal.aborted) await work.catch(() => undefined);
    throw error;
  });
}
