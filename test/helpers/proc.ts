/**
 * What /proc says about processes: the oracle for "who holds a tap" and "is it reaped".
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** The tap names a process holds fds of (the `iff:` lines of /proc/PID/fdinfo, one per queue fd). */
export function heldTaps(pid: number | 'self' = 'self'): string[] {
  return readdirSync(`/proc/${pid}/fdinfo`).flatMap((fd) => {
    try {
      return [...readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8').matchAll(/^iff:\s*(\S+)/gmu)].map((m) => m[1] as string);
    } catch {
      return [];
    }
  });
}

/** No zombie left: no /proc entry, or not in state Z (true for a process still running, too). */
export function reaped(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return true;
  try {
    return !/^State:\s*Z/mu.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}

/** A process that exists and is not a zombie. */
export function running(pid: number): boolean {
  try {
    return !/^State:\s*Z/mu.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}
