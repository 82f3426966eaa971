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

/** /proc/locks as flock holders by file (`<major hex>:<minor hex>:<inode>` to pid), and when it was read. */
let snapshot: { at: number; holders: Map<string, number> } | undefined;
/**
 * How long one read of /proc/locks serves: a host destroying thousands of networks at once has
 * thousands of waiters and thousands of locks, and each read is all of them.
 */
const SNAPSHOT_MS = 50;

/** The flock holders of the host, read at most `maxAgeMs` ago. */
function flockHolders(maxAgeMs: number): Map<string, number> {
  const now = Date.now();
  if (snapshot && now - snapshot.at <= maxAgeMs) return snapshot.holders;
  const holders = new Map<string, number>();
  for (const line of readFileSync('/proc/locks', 'utf8').split('\n')) {
    const fields = line.trim().split(/\s+/u);
    // Waiters are listed as `N: -> FLOCK …`: only a holder's line has the kind second.
    if (fields[1] !== 'FLOCK' || fields[5] === undefined) continue;
    const pid = Number(fields[4]);
    // 0 or -1: a holder outside this pid namespace, which cannot be watched.
    if (Number.isInteger(pid) && pid > 0) holders.set(fields[5], pid);
  }
  snapshot = { at: now, holders };
  return holders;
}

/** The file's key in /proc/locks, or undefined when it does not exist. */
function lockKey(path: string): string | undefined {
  let st;
  try {
    st = statSync(path, { bigint: true });
  } catch {
    return undefined;
  }
  const [major, minor] = majorMinor(st.dev);
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:${st.ino}`;
}

/**
 * The pid holding a flock(2) lock on `path` according to /proc/locks (lines such as
 * `1: FLOCK  ADVISORY  WRITE 18581 fe:00:2147186 0 EOF`: device in hex, then inode), or
 * undefined when none is held (or the holder is outside this pid namespace). `maxAgeMs`: a
 * read of /proc/locks that old may answer (0: read it now).
 */
export function flockHolder(path: string, maxAgeMs = 0): number | undefined {
  const key = lockKey(path);
  return key === undefined ? undefined : flockHolders(maxAgeMs).get(key);
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
      // A recent read of /proc/locks first (shared by the waiters of this moment), a fresh one
      // when it names nobody or a process gone: the lock changed hands meanwhile.
      for (const maxAgeMs of [SNAPSHOT_MS, 0]) {
        const pid = flockHolder(path, maxAgeMs);
        if (holder && holder.pid === pid) return;
        holder?.fd.close();
        holder = undefined;
        if (pid === undefined) continue;
        try {
          holder = { pid, fd: new native.PidFd(pid, () => tryNow()) };
          holder.fd.unref();
          return;
        } catch {
          // exited already
        }
      }
      // Freed (or its holder gone) between the attempt and the look: try again at once.
      again = true;
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
