/**
 * Set-up as a list of named steps with their undo actions: when a step fails, what the earlier
 * steps made is undone in reverse order and the error says which step failed, keeping the
 * original error as `cause`.
 */
import { isAbortReason } from '../abort.js';
import { ERROR_CODES, VmplumbError } from '../errors.js';
import { crashPoint } from '../state/crash-point.js';
import { timeSlice } from '../time-slice.js';

/**
 * A set-up step failed; what was made before it has been removed. Its `code` is the step's own
 * error's ('EEXIST' from the kernel, 'ERR_INVALID_ARG_VALUE', …), or 'ERR_NETWORK_SETUP' when
 * that had none.
 */
export class NetworkSetupError extends VmplumbError<string> {
  /** The step that failed, in words ('create vxlan100 on eth0'). */
  readonly step: string;
  /** Undo actions that failed themselves (something may be left behind: they say what). */
  readonly rollbackErrors: Error[];

  constructor(subject: string, step: string, cause: unknown, rollbackErrors: Error[]) {
    const why = cause instanceof Error ? cause.message : String(cause);
    const left = rollbackErrors.length === 0 ? '' : `; rollback incomplete: ${rollbackErrors.map((e) => e.message).join('; ')}`;
    const code = (cause as { code?: unknown } | undefined)?.code;
    super(typeof code === 'string' ? code : ERROR_CODES.NETWORK_SETUP, `${subject}: ${step} failed: ${why}${left}`, { cause });
    this.name = 'NetworkSetupError';
    this.step = step;
    this.rollbackErrors = rollbackErrors;
  }
}

type Undo = () => unknown;

/** Runs steps, remembering how to undo each; `rollback()` undoes them newest first. */
export class Steps {
  private readonly undos: { step: string; undo: Undo }[] = [];

  /**
   * @param signal Checked before each step: once it fired, what was made is rolled back and
   *   `signal.reason` is thrown, as for a failed step.
   */
  constructor(
    private readonly subject: string,
    private readonly signal?: AbortSignal,
  ) {}

  /** Runs `action`; on success remembers `undo` (if any). On failure rolls back and throws NetworkSetupError. */
  async run<T>(step: string, action: () => Promise<T> | T, undo?: (result: T) => unknown): Promise<T> {
    // Thousands of concurrent set-ups resume together: each step waits for its time slice.
    await timeSlice();
    if (this.signal?.aborted) {
      await this.rollback();
      throw this.signal.reason;
    }
    let result: T;
    try {
      result = await action();
    } catch (error) {
      const rollbackErrors = await this.rollback();
      // Aborted inside the step (e.g. qemu killed while it was starting): the caller's reason, as between steps.
      if (isAbortReason(this.signal, error)) throw error;
      throw new NetworkSetupError(this.subject, step, error, rollbackErrors);
    }
    if (undo) this.undos.push({ step, undo: () => undo(result) });
    crashPoint(`${this.subject}: ${step}`);
    return result;
  }

  /** Undoes every completed step, newest first; returns the undo errors (it never throws). */
  async rollback(): Promise<Error[]> {
    const errors: Error[] = [];
    for (let u = this.undos.pop(); u; u = this.undos.pop()) {
      try {
        await u.undo();
      } catch (error) {
        const e = error instanceof Error ? error : new Error(String(error));
        errors.push(new Error(`undo of "${u.step}": ${e.message}`, { cause: e }));
      }
    }
    return errors;
  }

  /** Forgets the undo actions: the set-up is complete and now owned by its object. */
  commit(): void {
    this.undos.length = 0;
  }
}
