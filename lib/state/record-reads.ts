/**
 * Reads of run-directory files batched like the lock files (./lock.ts): the reads asked for
 * in one turn of the event loop go to the thread pool as one job (native fileOps 'read'), in a
 * run-directory lane (./fs-lanes.ts).
 *
 * Why: creating a thousand networks at once reads each one's record first (to find what a
 * crashed create left), and nearly every one is missing. Through fs.promises.readFile each
 * was a pool job of its own and, on ENOENT, an Error with a captured stack trace: the largest
 * run-directory item in a --cpu-prof of 1,024 creations (readRecord ~8 % of the JavaScript time).
 */
import { constants as osConstants } from 'node:os';

import { SystemCallError } from '../errors.js';
import { native } from '../native.js';
import { NextMacrotaskRunner } from '../next-macrotask.js';
import { inLane } from './fs-lanes.js';

interface ReadRequest {
  path: string;
  resolve: (text: string | undefined) => void;
  reject: (error: unknown) => void;
}

const requested: ReadRequest[] = [];

/** Reads the files asked for meanwhile in one thread-pool job. */
async function readRequested(): Promise<void> {
  const batch = requested.splice(0);
  let outcomes: Awaited<ReturnType<typeof native.fileOps>>;
  try {
    outcomes = await inLane(() => native.fileOps(batch.map((r) => ['read', r.path])));
  } catch (error) {
    for (const r of batch) r.reject(error);
    return;
  }
  batch.forEach((r, i) => {
    const outcome = outcomes[i];
    if (typeof outcome === 'string') r.resolve(outcome);
    else if (Array.isArray(outcome) && outcome[0] === ENOENT) r.resolve(undefined);
    else if (Array.isArray(outcome)) r.reject(new SystemCallError(outcome[0], outcome[1], r.path));
    else r.reject(new Error(`fileOps: no text read from ${r.path}`));
  });
}

const { ENOENT } = osConstants.errno;
const readRunner = new NextMacrotaskRunner(readRequested, () => requested.length > 0);

/**
 * The text of the file at `path` (UTF-8), or undefined when there is none; read off the event
 * loop, together with the other reads asked for in this turn. Rejects with a SystemCallError
 * for any other failure.
 */
export function readFileBatched(path: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    requested.push({ path, resolve, reject });
    readRunner.kick();
  });
}
