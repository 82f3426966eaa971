/**
 * Waiting for a lock of the run directory that another process holds, without polling. A
 * flock(2) lock is freed in one of two ways, and each is an event here:
 *
 * - its holder lets go on purpose: it releases the lock, then touches the lock file
 *   ({@link releaseAndNotify}), which inotify reports on the file's folder (IN_ATTRIB);
 * - its holder dies (SIGKILL included): the holder's pid, read from /proc/locks by the file's
 *   device and inode, is watched with a pidfd, readable once the process is gone.
 *
 * On either event the lock is tried again; another process may have taken it meanwhile, and
 * then its holder is watched in turn. The wait ends with the lock, with undefined once
 * `timeoutMs` passed, or with `signal.reason` when the signal fires (nothing is then held).
 */
import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { utimes } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

import { native, type NativePidFd } from '../native.js';
import type { FileLock } from './lock.js';

/** Options of {@link waitForLock}. */
export interface WaitForLockOptions {
  /** Gives up (resolves undefined) after this many ms. */
  timeoutMs: number;
  /** Rejects with `signal.reason` when it fires; no lock is then held. */
  signal?: AbortSignal;
}

/**
 * Releases `lock` and tells processes waiting for it: touches its file (inotify IN_ATTRIB on
 * its folder), after the release so that a waiter woken by it finds the lock free. The touch
 * runs in the thread pool (an inode update may wait for the file system's journal).
 */
export function releaseAndNotify(lock: FileLock): void {
  lock.release();
  const now = new Date();
  // A file gone with its folder has nobody waiting for it.
  utimes(lock.path, now, now).catch(() => undefined);
}

/** Linux's major and minor of a st_dev (the glibc gnu_dev_major/minor split). */
function majorMinor(dev: bigint): [bigint, bigint] {
  return [((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn), (dev & 0xffn) | ((dev >> 12n) & ~0xffn)];
}

/**
 * The pid holding a flock(2) lock on `path` according to /proc/locks (lines such as
 * `1: FLOCK  ADVISORY  WRITE 18581 fe:00:2147186 0 EOF`, device in hex and inode), or
 * undefined when none is held (or the holder is outside this pid namespace: pid 0 or -1).
 */
export function flockHolder(path: string): number | undefined {
  let st;
  try {
    st = statSync(path, { bigint: true });
  } catch {
    return undefined;
  }
  const [major, minor] = majorMinor(st.dev);
  const file = `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:${st.ino}`;
  for (const line of readFileSync('/proc/locks', 'utf8').split('\n')) {
    const fields = line.trim().split(/\s+/u);
    // Waiters are listed as `N: -> FLOCK …`: only the holder's line has the kind second.
    if (fields[1] !== 'FLOCK' || fields[5] !== file) continue;
    const pid = Number(fields[4]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }
  return undefined;
}

/**
 * Takes the lock with `take` (a non-blocking attempt), waiting for its holder to let go or
 * die (see the file header) when it is held.
 */
export function waitForLock(path: string, take: () => Promise<FileLock | undefined>, options: WaitForLockOptions): Promise<FileLock | undefined> {
  const { timeoutMs, signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  return new Promise((resolve, reject) => {
    let done = false;
    let watcher: FSWatcher | undefined;
    let holder: { pid: number; fd: NativePidFd } | undefined;
    let attempt: Promise<void> | undefined;
    let again = false;
    const finish = (settle: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      watcher?.close();
      holder?.fd.close();
      settle();
    };
    const onAbort = (): void => finish(() => reject(signal?.reason as Error));
    const timer = setTimeout(() => finish(() => resolve(undefined)), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    /** Watches the current holder's exit (the pidfd of a holder that changed is replaced). */
    const watchHolder = (): void => {
      const pid = flockHolder(path);
      if (holder && holder.pid === pid) return;
      holder?.fd.close();
      holder = undefined;
      if (pid === undefined) {
        // Freed between the attempt and the look: try again at once.
        again = true;
        return;
      }
      try {
        holder = { pid, fd: new native.PidFd(pid, () => tryNow()) };
        holder.fd.unref();
      } catch {
        again = true; // exited already
      }
    };
    /** One attempt at a time; an event during one makes another follow it. */
    const tryNow = (): void => {
      if (done) return;
      if (attempt) {
        again = true;
        return;
      }
      again = false;
      attempt = take().then(
        (lock) => {
          attempt = undefined;
          if (lock) {
            if (done) lock.release();
            else finish(() => resolve(lock));
            return;
          }
          if (done) return;
          watchHolder();
          if (again) tryNow();
        },
        (error: unknown) => {
          attempt = undefined;
          finish(() => reject(error as Error));
        },
      );
    };
    try {
      // Watching before the first attempt: a release between the two is not missed.
      watcher = watch(dirname(path), { persistent: false }, (_event, name) => {
        if (name === null || name === basename(path)) tryNow();
      });
      watcher.on('error', () => watcher?.close());
    } catch (error) {
      finish(() => reject(error as Error));
      return;
    }
    tryNow();
  });
}
