/**
 * What the command under test printed: the CLI unit tests run `main()` in-process, so its
 * writes to process.stdout and process.stderr are captured (and kept off the test output)
 * for each test of the file.
 */
import { afterEach, beforeEach, vi } from 'vitest';

/** The text the current test wrote so far; read it inside tests. */
export interface CapturedOutput {
  readonly out: string;
  readonly err: string;
}

/** Registers beforeEach/afterEach hooks that capture stdout and stderr, fresh for each test. */
export function captureOutput(): CapturedOutput {
  const captured = { out: '', err: '' };
  beforeEach(() => {
    captured.out = '';
    captured.err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      captured.out += String(chunk);
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      captured.err += String(chunk);
      return true;
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  return captured;
}
