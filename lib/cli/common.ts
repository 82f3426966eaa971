/**
 * What every `vmplumb` command shares: option parsers that reject bad values with one clear
 * line, the error that ends a command with exit code 1, output helpers, and waiting in the
 * foreground until Ctrl-C (SIGINT) or SIGTERM.
 */
import { constants as osConstants } from 'node:os';

import { InvalidArgumentError } from 'commander';

/** An error the user can act on: printed as one line; exit code 1 unless it says otherwise. */
export class CliError extends Error {
  /** The command's exit status: 1, or 128 + the signal number when a signal ended it. */
  readonly exitCode: number;

  constructor(message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = options?.exitCode ?? 1;
  }
}

/**
 * A foreground command stopped by a signal, after it tore down what it made: exit status
 * 128 + the signal's number as a shell reports it (130 for Ctrl-C, 143 for SIGTERM).
 */
export function interrupted(signal: NodeJS.Signals): CliError {
  return new CliError(`interrupted by ${signal}`, { exitCode: 128 + (osConstants.signals[signal] ?? 0) });
}

/** `--id 100`: an integer in [min, max]. */
export function intOption(min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^-?\d+$/u.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    }
    return Number(value);
  };
}

/** A repeatable, comma-separable option (`--rdnss a,b --rdnss c`). */
export function listOption(value: string, previous: string[] | undefined): string[] {
  return [
    ...(previous ?? []),
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  ];
}

/**
 * Copies the options the user gave (not `undefined`) under the same names into the library's
 * options, so that an option left out keeps the library's default.
 */
export function copyDefined<T extends object, K extends keyof T>(to: T, from: { [P in K]?: T[P] }, keys: readonly K[]): void {
  for (const key of keys) {
    const value = from[key];
    if (value !== undefined) to[key] = value;
  }
}

/** The message of an error, without a stack (errors from the library already name field and value). */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.message;
  return String(error);
}

/** Prints one JSON document on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints a line on stdout. */
export function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Prints a progress/diagnostic line on stderr (stdout stays for results). */
export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * Resolves with the signal's name at the first SIGINT or SIGTERM (so the command can tear
 * down in order); a second one while tearing down exits at once with 130.
 */
export function untilSignal(): Promise<NodeJS.Signals>;
export function untilSignal(extra: Promise<unknown>[]): Promise<NodeJS.Signals | 'done'>;
export function untilSignal(extra: Promise<unknown>[] = []): Promise<NodeJS.Signals | 'done'> {
  return new Promise((resolve) => {
    let seen = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (seen) {
        note(`vmplumb: ${signal} again, exiting without tearing down`);
        process.exit(130);
      }
      seen = true;
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    for (const p of extra)
      void p.then(
        () => {
          if (!seen) {
            seen = true;
            resolve('done');
          }
        },
        () => undefined,
      );
  });
}

/** A left-aligned text table (columns separated by two spaces). */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

/** The `--run-dir` and `--netns` options as library options (absent ones left out). */
export function runAndNetns(o: { runDir?: string; netns?: string }): { runDir?: string; netns?: string } {
  return { ...(o.runDir === undefined ? {} : { runDir: o.runDir }), ...(o.netns === undefined ? {} : { netns: o.netns }) };
}
