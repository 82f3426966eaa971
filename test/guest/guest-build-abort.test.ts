/**
 * Cancelling the guest build: a caller's AbortSignal rejects its wait with the reason; the
 * shared build goes on while another caller still waits, and stops (temporary folder removed,
 * nothing cached) once the last one has aborted. Control: without aborting, the same build
 * completes into the cache.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { ensureGuest, guestRecipeKey } from '../../testing/guest/index.js';
import { until } from '../helpers/poll.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

describe.skipIf(skipUnlessRoot('guest build abort test'))('ensureGuest with an AbortSignal', () => {
  const cache = mkdtempSync(join(tmpdir(), 'vmptap-guestabort-'));
  afterAll(() => rmSync(cache, { recursive: true, force: true }));

  it('an already-aborted signal starts no build: nothing in the cache', async () => {
    const reason = new Error('no guest today');
    await expect(ensureGuest({ cacheDir: cache, signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(readdirSync(cache)).toEqual([]);
  });

  it('stops the build only when every waiter has aborted, and leaves nothing behind', async () => {
    const first = new AbortController();
    const second = new AbortController();
    let downloading!: () => void;
    const reachedDownload = new Promise<void>((resolve) => {
      downloading = resolve;
    });
    const onProgress = (m: string): void => {
      if (m.startsWith('downloading')) downloading();
    };
    const a = ensureGuest({ cacheDir: cache, signal: first.signal, onProgress });
    const b = ensureGuest({ cacheDir: cache, signal: second.signal });
    await reachedDownload;
    const reasonA = new Error('caller A gave up');
    first.abort(reasonA);
    await expect(a).rejects.toBe(reasonA);
    // B still waits: the build (its temporary folder in the cache) goes on.
    expect(readdirSync(cache).filter((e) => e.startsWith('.build-'))).toHaveLength(1);
    second.abort();
    await expect(b).rejects.toMatchObject({ name: 'AbortError' });
    // The build stops (its running command is killed); its temporary folder goes, and nothing
    // is cached: a build that went on would have renamed its folder into the cache.
    await until('the aborted build to remove its temporary folder', () => !readdirSync(cache).some((e) => e.startsWith('.build-')), { intervalMs: 100 });
    expect(existsSync(join(cache, guestRecipeKey(), 'manifest.json'))).toBe(false);

    // Control: the same call, not aborted, builds into the cache.
    const guest = await ensureGuest({ cacheDir: cache });
    expect(existsSync(join(guest.dir, 'manifest.json'))).toBe(true);
    await expect(ensureGuest({ cacheDir: cache, signal: 'now' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });
});
