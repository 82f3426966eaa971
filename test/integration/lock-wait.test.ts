/**
 * Waiting for a run-directory lock another process holds (lib/state/lock-wait.ts): the wait
 * ends on an event — the holder lets go (releaseAndNotify: inotify) or dies (pidfd) — not
 * by polling, honours its AbortSignal at once, and gives up after its timeout. Holders are
 * real processes holding a real flock(2).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { tryLock, tryLockAsync, type FileLock } from '../../lib/state/lock.js';
import { flockHolder, releaseAndNotify, waitForLock } from '../../lib/state/lock-wait.js';
import { holdLock } from '../helpers/lock-holder.js';

const dir = mkdtempSync(join(tmpdir(), 'vmplumb-lockwait-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** holdLock, killed after each test. */
async function holder(path: string): Promise<ChildProcess> {
  const child = await holdLock(path);
  children.push(child);
  return child;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** tryLockAsync that counts its calls. */
function counted(path: string): { take: () => Promise<FileLock | undefined>; calls: () => number } {
  let n = 0;
  return {
    take: () => {
      n += 1;
      return tryLockAsync(path);
    },
    calls: () => n,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('waitForLock', () => {
  it('flockHolder names the process holding the lock, and nobody for a free one', async () => {
    const path = join(dir, 'holder.lock');
    const child = await holder(path);
    expect(flockHolder(path)).toBe(child.pid);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(flockHolder(path)).toBeUndefined();
    expect(flockHolder(join(dir, 'missing.lock'))).toBeUndefined();
  });

  it('ends as soon as the holder lets go (releaseAndNotify), after two attempts, not by polling', async () => {
    const path = join(dir, 'notify.lock');
    const held = tryLock(path) as FileLock;
    const c = counted(path);
    const waiting = waitForLock(path, c.take, { timeoutMs: 5000 });
    await sleep(400);
    expect(c.calls()).toBe(1); // polling (every 10 ms) would have tried ~40 times
    const released = Date.now();
    releaseAndNotify(held);
    const lock = await waiting;
    const latency = Date.now() - released;
    expect(lock).toBeDefined();
    expect(latency).toBeLessThan(1000);
    expect(c.calls()).toBe(2);
    lock?.release();
  });

  it('positive control: a holder that lets go without telling is only noticed at the timeout', async () => {
    const path = join(dir, 'silent.lock');
    const held = tryLock(path) as FileLock;
    const c = counted(path);
    const started = Date.now();
    const waiting = waitForLock(path, c.take, { timeoutMs: 600 });
    await sleep(100);
    held.release();
    expect(await waiting).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(590);
    expect(c.calls()).toBe(1);
  });

  it('ends as soon as the holder dies (pidfd)', async () => {
    const path = join(dir, 'dies.lock');
    const child = await holder(path);
    const c = counted(path);
    const waiting = waitForLock(path, c.take, { timeoutMs: 5000 });
    await sleep(300);
    const killed = Date.now();
    child.kill('SIGKILL');
    const lock = await waiting;
    expect(lock).toBeDefined();
    expect(Date.now() - killed).toBeLessThan(1000);
    expect(c.calls()).toBeLessThanOrEqual(3);
    lock?.release();
  });

  it('rejects with the AbortError at once when aborted, holding nothing and trying no more', async () => {
    const path = join(dir, 'abort.lock');
    const child = await holder(path);
    const c = counted(path);
    const ac = new AbortController();
    const waiting = waitForLock(path, c.take, { timeoutMs: 5000, signal: ac.signal });
    await sleep(200);
    const aborted = Date.now();
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - aborted).toBeLessThan(500);
    const calls = c.calls();
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    await sleep(100);
    expect(c.calls()).toBe(calls); // the holder's exit no longer wakes a finished wait
    const free = tryLock(path);
    expect(free).toBeDefined(); // nothing was taken behind the caller's back
    free?.release();
    // Already aborted: rejects without an attempt.
    await expect(waitForLock(path, c.take, { timeoutMs: 5000, signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(c.calls()).toBe(calls);
  });

  it('a free lock is taken at once', async () => {
    const path = join(dir, 'free.lock');
    const c = counted(path);
    const lock = await waitForLock(path, c.take, { timeoutMs: 5000 });
    expect(lock).toBeDefined();
    expect(c.calls()).toBe(1);
    lock?.release();
  });
});
