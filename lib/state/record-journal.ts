/**
 * Group commit of record writes and removals, off the event loop: the writes and removals
 * that many networks ask for while a batch is on disk go out together in the next batch,
 * through the libuv thread pool.
 *
 * Why: a record write is open, write, fsync, rename and fsync of the folder. On ext4 each
 * fsync is a journal commit, and while one runs the metadata operations of everyone else
 * (open(O_CREAT), rename, unlink) wait for it. Done synchronously per network, 512 networks
 * spent 18 s of their 15 s creation (the rest ran concurrently) blocked in these calls on
 * the event loop, stalling it for up to 6.5 s (bench:scale, --cpu-prof).
 *
 * A batch: (1) every surviving write goes to its temp file (`.<name>.<pid>.tmp`, as
 * writeRecord) and is fdatasync'd; (2) in queue order, temp files are renamed over their
 * records and removed files unlinked; (3) each folder that got a rename is fsync'd once;
 * (4) folders asked to go are removed if empty. Every caller's promise settles after (3), so
 * each write is as durable when it resolves as writeRecord's: its content was on disk before
 * its rename (1 before 2), and the rename before the resolution (3). One folder fsync per
 * batch covers all the batch's renames in it: fsync of a directory commits its entries as
 * they are, not one change. A process killed mid-batch leaves, for each record, the previous
 * file or the new one (rename is atomic), plus temp files that readers ignore and cleanup
 * removes: the same states writeRecord can leave.
 *
 * Each phase is one job of the thread pool (native fileOps; phase 1 in FS_LANES jobs side by
 * side), not one per system call: a batch of 128 writes made ~700 pool round trips, each
 * waking a pool thread and then the event loop, which on a loaded 2-core host was most of
 * the JavaScript time of creating 1,024 networks (--cpu-prof: open, write, rename, close).
 *
 * Several operations on one path in one batch collapse into the last one (whole-file writes
 * and removals: the last decides the outcome); each caller still waits for the batch.
 */
import { basename, dirname, join } from 'node:path';

import { SystemCallError } from '../errors.js';
import { native, type FileOp } from '../native.js';

import { NextMacrotaskRunner } from '../next-macrotask.js';
import { FS_LANES, inLane } from './fs-lanes.js';

/** One pending change of a file. */
type Change = { kind: 'write'; text: string; mode: number } | { kind: 'unlink' };

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
  paths: string[];
}

/** The temp file writeRecord uses for `path` (readers ignore it, cleanup removes it when its writer is dead). */
export function tempPathOf(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
}

/** What one batch does. */
interface Batch {
  changes: Map<string, Change>;
  dirsToRemove: Set<string>;
  waiters: Waiter[];
}

/**
 * Paths per batch. A batch resolves all its callers at its end, so an unbounded one would
 * hold the first of a thousand creations until the last record is synced (seconds on a busy
 * disk) with the kernel idle meanwhile; batches of 128 let the first networks go on to their
 * links while the next records are written.
 */
export const MAX_PATHS_PER_BATCH = 128;

/** Writes and removals of record files in shared batches (see the file comment). */
export class RecordJournal {
  /** Waiting batches, oldest first; only the last one takes new changes. */
  private readonly batches: Batch[] = [];
  private readonly runner = new NextMacrotaskRunner(
    () => this.flush(),
    () => this.batches.length > 0,
  );
  /** Per path: settles when the last change asked for it is on disk. */
  private readonly last = new Map<string, Promise<void>>();

  /** Writes `text` to `path` atomically and durably (temp file, fdatasync, rename, folder fsync). */
  write(path: string, text: string, mode = 0o600): Promise<void> {
    return this.enqueue([path], (b) => b.changes.set(path, { kind: 'write', text, mode }));
  }

  /** Removes `paths` (missing ones are fine), then `dir` if it is empty by then. */
  remove(paths: string[], dir?: string): Promise<void> {
    return this.enqueue(paths, (b) => {
      for (const path of paths) b.changes.set(path, { kind: 'unlink' });
      if (dir !== undefined) b.dirsToRemove.add(dir);
    });
  }

  /** Resolves once every change asked for `path` so far is done (whatever its outcome). */
  settled(path: string): Promise<void> {
    return this.last.get(path) ?? Promise.resolve();
  }

  /** The batch that takes new changes (a fresh one when the last is full). */
  private open(): Batch {
    let batch = this.batches.at(-1);
    if (!batch || batch.changes.size >= MAX_PATHS_PER_BATCH) {
      batch = { changes: new Map(), dirsToRemove: new Set(), waiters: [] };
      this.batches.push(batch);
    }
    return batch;
  }

  private enqueue(paths: string[], apply: (batch: Batch) => void): Promise<void> {
    const batch = this.open();
    // A removal re-adds its folder's entries: a later write in the folder must not see it go.
    for (const path of paths) batch.dirsToRemove.delete(dirname(path));
    apply(batch);
    const done = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject, paths }));
    const quiet = done.then(
      () => undefined,
      () => undefined,
    );
    for (const path of paths) {
      this.last.set(path, quiet);
      void quiet.then(() => {
        if (this.last.get(path) === quiet) this.last.delete(path);
      });
    }
    this.runner.kick();
    return done;
  }

  private async flush(): Promise<void> {
    const batch = this.batches.shift();
    if (!batch) return;
    const { changes, dirsToRemove, waiters } = batch;
    const failed = new Map<string, unknown>();
    const entries = [...changes];
    const writes = entries.filter((entry): entry is [string, Change & { kind: 'write' }] => entry[1].kind === 'write');

    // (1) Contents written, each to its temp file, and synced: in FS_LANES jobs of the thread
    // pool side by side, so that their syncs overlap (the file system commits them in shared
    // journal transactions).
    const share = Math.ceil(writes.length / FS_LANES);
    await Promise.all(
      Array.from({ length: Math.ceil(writes.length / Math.max(share, 1)) }, (_, i) => writes.slice(i * share, (i + 1) * share)).map((part) =>
        run(
          part.map(([path, change]): FileOp => ['write', tempPathOf(path), change.text, change.mode]),
          part.map(([path]) => path),
          failed,
        ),
      ),
    );
    // (2) Renames and removals, each path at its final state.
    const settled = entries.filter(([path]) => !failed.has(path));
    await run(
      settled.map(([path, change]): FileOp => (change.kind === 'write' ? ['rename', tempPathOf(path), path] : ['unlink', path])),
      settled.map(([path]) => path),
      failed,
    );
    const renamedIn = new Set(settled.filter(([path, change]) => change.kind === 'write' && !failed.has(path)).map(([path]) => dirname(path)));

    // (3) One fsync per folder makes all its renames durable; (4) folders that went empty
    // are removed (a failure: still in use, or gone already).
    const dirs = [...renamedIn];
    const dirFailures = new Map<string, unknown>();
    await run([...dirs.map((dir): FileOp => ['fsyncDir', dir]), ...[...dirsToRemove].map((dir): FileOp => ['rmdir', dir])], dirs, dirFailures);
    for (const [path, change] of changes) {
      const error = dirFailures.get(dirname(path));
      if (error !== undefined && change.kind === 'write' && !failed.has(path)) failed.set(path, error);
    }

    for (const waiter of waiters) {
      const error = waiter.paths.map((p) => failed.get(p)).find((e) => e !== undefined);
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
  }
}

/**
 * Runs `ops` in one thread-pool job (native fileOps) in a lane of the run directory; the
 * failure of op i, if any, goes into `failed` under `keys[i]` (ops past `keys` have none).
 */
async function run(ops: FileOp[], keys: string[], failed: Map<string, unknown>): Promise<void> {
  if (ops.length === 0) return;
  try {
    const outcomes = await inLane(() => native.fileOps(ops));
    outcomes.forEach((outcome, i) => {
      const key = keys[i];
      if (Array.isArray(outcome) && key !== undefined) failed.set(key, new SystemCallError(outcome[0], outcome[1], ops[i]![1]));
    });
  } catch (error) {
    for (const key of keys) if (!failed.has(key)) failed.set(key, error);
  }
}

/** The process's journal (every record of the run directory goes through it). */
export const recordJournal = new RecordJournal();
