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
 * Several operations on one path in one batch collapse into the last one (whole-file writes
 * and removals: the last decides the outcome); each caller still waits for the batch.
 */
import { mkdir, open, rename, rmdir, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { NextMacrotaskRunner } from '../next-macrotask.js';
import { FS_LANES, inLane } from './fs-lanes.js';

/** One pending change of a file. */
type Change = { kind: 'write'; text: string; mode: number } | { kind: 'unlink' };

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
  paths: string[];
}

/**
 * Runs `work` over `items` in the run directory's lanes (./fs-lanes.ts): enough to overlap
 * the latencies of a loaded disk, and concurrent fdatasyncs share a journal commit, while
 * the rest of the thread pool stays free for the netlink sends that share it.
 */
async function eachLimited<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      await inLane(() => work(item));
    }
  };
  await Promise.all(Array.from({ length: Math.min(FS_LANES, items.length) }, lane));
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
    const writes = [...changes].filter((entry): entry is [string, Change & { kind: 'write' }] => entry[1].kind === 'write');

    // (1) Contents written, each to its temp file, then synced: all writes first, so that the
    // syncs run together (the file system commits them in shared journal transactions).
    const handles = new Map<string, FileHandle>();
    await eachLimited(writes, async ([path, change]) => {
      const temp = tempPathOf(path);
      try {
        const handle = await open(temp, 'w', change.mode).catch(async (error: unknown) => {
          // The folder went with its last network meanwhile (another process's removal): make it again.
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
          await mkdir(dirname(path), { recursive: true, mode: 0o700 });
          return open(temp, 'w', change.mode);
        });
        handles.set(path, handle);
        await handle.writeFile(change.text);
      } catch (error) {
        failed.set(path, error);
      }
    });
    await eachLimited([...handles], async ([path, handle]) => {
      try {
        if (!failed.has(path)) await handle.datasync();
      } catch (error) {
        failed.set(path, error);
      } finally {
        await handle.close().catch(() => undefined);
      }
      if (failed.has(path)) await unlink(tempPathOf(path)).catch(() => undefined);
    });
    // (2) Renames and removals, each path at its final state.
    const renamedIn = new Set<string>();
    await eachLimited([...changes], async ([path, change]) => {
      if (failed.has(path)) return;
      try {
        if (change.kind === 'write') {
          await rename(tempPathOf(path), path).catch(async (error: unknown) => {
            await unlink(tempPathOf(path)).catch(() => undefined);
            throw error;
          });
          renamedIn.add(dirname(path));
        } else {
          await unlink(path).catch((error: unknown) => {
            if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
          });
        }
      } catch (error) {
        failed.set(path, error);
      }
    });

    // (3) One fsync per folder makes all its renames durable.
    await eachLimited([...renamedIn], async (dir) => {
      try {
        const handle = await open(dir, 'r');
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
      } catch (error) {
        for (const [path, change] of changes) if (change.kind === 'write' && dirname(path) === dir && !failed.has(path)) failed.set(path, error);
      }
    });

    // (4) Folders that went empty (ENOTEMPTY, ENOENT: still in use, or gone already).
    for (const dir of dirsToRemove) await inLane(() => rmdir(dir).catch(() => undefined));

    for (const waiter of waiters) {
      const error = waiter.paths.map((p) => failed.get(p)).find((e) => e !== undefined);
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
  }
}

/** The process's journal (every record of the run directory goes through it). */
export const recordJournal = new RecordJournal();
