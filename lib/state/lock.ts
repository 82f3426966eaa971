/**
 * Exclusive locks on files of the run directory (flock(2) through the addon). The kernel
 * releases a lock when its holder dies, SIGKILL included, so a lock never goes stale: "held"
 * always means a live process is managing the thing right now.
 */
import { closeSync } from 'node:fs';

import { SystemCallError } from '../errors.js';
import { native, type FileOp } from '../native.js';
import { NextMacrotaskRunner } from '../next-macrotask.js';
import { inLane } from './fs-lanes.js';

/** A held lock; `release()` is idempotent. */
export interface FileLock {
  readonly path: string;
  release(): void;
}

/** Takes the lock at `path` (creating the file) without waiting; undefined when another process holds it. */
export function tryLock(path: string): FileLock | undefined {
  const fd = native.lockFile(path);
  return fd < 0 ? undefined : heldLock(path, fd);
}

/**
 * A lock held through `fd` (a class, not an object with a closure: a served network holds two
 * locks for as long as it lives, and a closure with its context is ~100 bytes more each).
 */
class HeldLock implements FileLock {
  constructor(
    readonly path: string,
    private fd: number,
  ) {}

  release(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    closeSync(fd);
  }
}

function heldLock(path: string, fd: number): FileLock {
  return new HeldLock(path, fd);
}

interface LockRequest {
  path: string;
  resolve: (lock: FileLock | undefined) => void;
  reject: (error: unknown) => void;
}

const requested: LockRequest[] = [];

/** Takes the locks asked for meanwhile in one thread-pool job (native fileOps), in a run-directory lane. */
async function takeRequested(): Promise<void> {
  const batch = requested.splice(0);
  let outcomes: Awaited<ReturnType<typeof native.fileOps>>;
  try {
    outcomes = await inLane(() => native.fileOps(batch.map((r): FileOp => ['lock', r.path])));
  } catch (error) {
    for (const r of batch) r.reject(error);
    return;
  }
  batch.forEach((r, i) => {
    const outcome = outcomes[i];
    if (Array.isArray(outcome)) r.reject(new SystemCallError(outcome[0], outcome[1], r.path));
    else if (typeof outcome === 'number' && outcome >= 0) r.resolve(heldLock(r.path, outcome));
    else r.resolve(undefined);
  });
}

const lockRunner = new NextMacrotaskRunner(takeRequested, () => requested.length > 0);

/**
 * tryLock without blocking the event loop: the open(O_CREAT), which waits for the file
 * system's journal (seconds on a busy ext4 while other files of the folder are being synced),
 * and the flock run in the thread pool, and the locks asked for in one turn of the loop are
 * taken in one pool job (thousands of concurrent creations ask for two each). Rejects with a
 * SystemCallError (code 'ENOENT' when the folder is gone).
 */
export function tryLockAsync(path: string): Promise<FileLock | undefined> {
  return new Promise((resolve, reject) => {
    requested.push({ path, resolve, reject });
    lockRunner.kick();
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
