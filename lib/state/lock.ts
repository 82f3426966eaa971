/**
 * Exclusive locks on files of the run directory (flock(2) through the addon). The kernel
 * releases a lock when its holder dies, SIGKILL included, so a lock never goes stale: "held"
 * always means a live process is managing the thing right now.
 */
import { closeSync } from 'node:fs';

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
