/**
 * Proving that a pid is the VM we mean before anything is sent to it (docs/ARCHITECTURE.md,
 * "State on disk"). A pidfile alone proves nothing: after qemu exits its pid can be handed to
 * any process. The proof, as Proxmox's `vm_running_locally` does it but without its race:
 *
 * 1. pidfd_open(pid): from now on the fd names one process, whatever happens to the number;
 * 2. /proc/<pid>/cmdline carries `-pidfile <that VM's pidfile>`: only that VM's qemu has it;
 * 3. a null signal through the pidfd succeeds: the process checked in 2 is still the one the
 *    pidfd names (had it exited and the pid been reused between 1 and 2, this fails).
 *
 * Every later signal goes through the pidfd, so a recycled pid is never touched.
 */
import { readdirSync, readFileSync } from 'node:fs';

import { native, type NativePidFd } from '../native.js';

/** The pid in a pidfile, or undefined when it is missing or not a pid. */
export function readPidFile(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** A process's argv from /proc, or undefined when it is gone (or a zombie: empty cmdline). */
export function cmdlineOf(pid: number): string[] | undefined {
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return undefined;
  }
  if (raw.length === 0) return undefined;
  return raw.replace(/\0$/u, '').split('\0');
}

/** Whether argv carries `-pidfile <pidfile>` (the mark of one VM's qemu). */
export function carriesPidfile(argv: readonly string[], pidfile: string): boolean {
  for (let i = 0; i + 1 < argv.length; i++) if (argv[i] === '-pidfile' && argv[i + 1] === pidfile) return true;
  return false;
}

/** Whether `pid` is, right now, the qemu whose pidfile is `pidfile` (no fd kept; for reports only). */
export function isProcessOf(pid: number, pidfile: string): boolean {
  const argv = cmdlineOf(pid);
  return argv !== undefined && carriesPidfile(argv, pidfile);
}

/**
 * The process that carries `-pidfile <pidfile>`, found by scanning /proc: for a qemu that
 * has not written its pidfile yet (a crash between spawn and qemu's start-up) or whose
 * pidfile names something else. Undefined when no process carries the mark.
 */
export function findProcessOf(pidfile: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/u.test(entry)) continue;
    const argv = cmdlineOf(Number(entry));
    if (argv !== undefined && carriesPidfile(argv, pidfile)) return Number(entry);
  }
  return undefined;
}

/** The pid of the qemu of `pidfile`: the pidfile's when proven, else the one found in /proc. */
export function livePidOf(pidfile: string): number | undefined {
  const pid = readPidFile(pidfile);
  if (pid !== undefined && isProcessOf(pid, pidfile)) return pid;
  return findProcessOf(pidfile);
}

/**
 * Opens a pidfd for `pid` and proves it is the qemu of `pidfile` (steps above). Returns the
 * pidfd, watching for the exit (`onExit`), or undefined when `pid` is gone or is another
 * process; nothing is ever sent to a process that fails the proof.
 */
export function openProvenProcess(pid: number, pidfile: string, onExit: () => void): NativePidFd | undefined {
  let pidfd: NativePidFd;
  try {
    pidfd = new native.PidFd(pid, () => onExit());
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
    throw error;
  }
  if (!isProcessOf(pid, pidfile) || pidfd.sendSignal(0) !== 0) {
    pidfd.close();
    return undefined;
  }
  return pidfd;
}
