/**
 * Exclusive locks on files of the run directory (flock(2) through the addon). The kernel
 * releases a lock when its holder dies, SIGKILL included, so a lock never goes stale: "held"
 * always means a live process is managing the thing right now.
 */
import { closeSync, constants, open } from 'node:fs';

import { native } from '../native.js';

/** A held lock; `release()` is idempotent. */
export interface FileLock {
  readonly path: string;
  release(): void;
}

/** Takes the lock at `path` (creating the file) without waiting; undefined when another process holds it. */
export function tryLock(path: string): FileLock | undefined {
  const fd = native.lockFile(path);
  if (fd < 0) return undefined;
  let open = true;
  return {
    path,
    release(): void {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}

/**
 * tryLock without blocking the event loop: the file is opened (created) in the thread pool,
 * since an open(O_CREAT) waits for the file system's journal (seconds on a busy ext4 while
 * other files of the folder are being synced), and only the flock, which never waits, runs here.
 */
export function tryLockAsync(path: string): Promise<FileLock | undefined> {
  return new Promise((resolve, reject) => {
    // Node opens every file O_CLOEXEC.
    open(path, constants.O_RDWR | constants.O_CREAT, 0o600, (error, fd) => {
      if (error) {
        reject(error);
        return;
      }
      let taken: boolean;
      try {
        taken = native.lockFd(fd);
      } catch (failure) {
        closeSync(fd);
        reject(failure as Error);
        return;
      }
      if (!taken) {
        closeSync(fd);
        resolve(undefined);
        return;
      }
      let held = true;
      resolve({
        path,
        release(): void {
          if (!held) return;
          held = false;
          closeSync(fd);
        },
      });
    });
  });
}

/** Whether some process holds the lock at `path` right now (a missing file is not held). */
export function isLocked(path: string): boolean {
  let lock: FileLock | undefined;
  try {
    lock = tryLock(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  lock?.release();
  return lock === undefined;
}
