/**
 * The one way the test rig (guest builder, demo) runs a command: asynchronously (apt-get and
 * qemu take seconds, and the demo's progress must keep printing), stdout back, and a failure
 * that says which command failed and what it wrote on stderr.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** Options of {@link runCommand}. */
export interface RunCommandOptions {
  /** Working directory. */
  cwd?: string;
  /** Kills the command after this many ms (default: none). */
  timeoutMs?: number;
  /** Kills the command when aborted; the rejection is then `signal.reason`. */
  signal?: AbortSignal;
}

/** Runs `cmd args…` and resolves with its stdout; rejects naming the command, with its stderr. */
export async function runCommand(cmd: string, args: string[], options: RunCommandOptions = {}): Promise<string> {
  const { signal } = options;
  signal?.throwIfAborted();
  try {
    const { stdout } = await execFileP(cmd, args, {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
      ...(signal === undefined ? {} : { signal }),
    });
    return stdout;
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    const e = error as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(e.stderr ?? '').trim().slice(-2000) || e.message}`, { cause: error });
  }
}
