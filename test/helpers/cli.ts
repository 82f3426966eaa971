/**
 * The `vmplumb` command as the integration tests run it: `node --import tsx lib/cli.ts` from
 * the repository root (one process: the tsx wrapper would put a second node in between, which
 * would get the signals the tests send), with its output collected as it arrives.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

/** The repository root. */
export const ROOT = join(import.meta.dirname, '..', '..');
/** node's arguments that run the command from source. */
export const CLI = ['--import', 'tsx', join(ROOT, 'lib', 'cli.ts')];

/** A running `vmplumb`: its process, its output so far, and its exit code once it ends. */
export interface RunningCli {
  child: ChildProcessByStdio<null, Readable, Readable>;
  out: () => string;
  err: () => string;
  /** The exit code (null when a signal ended it). */
  done: Promise<number | null>;
}

/** Starts `vmplumb …args` (stdin closed); `env` replaces the environment when given. */
export function startCli(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): RunningCli {
  const child = spawn(process.execPath, [...CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...(options.env ? { env: options.env } : {}) });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, done };
}

/** Runs `vmplumb …args` to its end. */
export async function runCli(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; out: string; err: string }> {
  const r = startCli(args, options);
  const code = await r.done;
  return { code, out: r.out(), err: r.err() };
}
