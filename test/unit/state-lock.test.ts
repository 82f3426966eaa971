import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { isLocked, tryLock, tryLockAsync } from '../../lib/state/lock.js';

const fds = (): number => readdirSync('/proc/self/fd').length;

describe('tryLockAsync', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the locks asked for in one turn together; a held one is undefined, released ones free; no fd left', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vmplumb-lock-'));
    const before = fds();
    const paths = Array.from({ length: 50 }, (_, i) => join(dir, `l${i}`));
    const held = tryLock(paths[7]!);
    const locks = await Promise.all(paths.map((p) => tryLockAsync(p)));
    expect(locks.filter((l) => l === undefined).length).toBe(1);
    expect(locks[7]).toBeUndefined();
    for (const p of paths) expect(isLocked(p)).toBe(true);
    for (const l of locks) l?.release();
    held?.release();
    for (const p of paths) expect(isLocked(p)).toBe(false);
    expect(fds()).toBe(before);
  });

  it('rejects with ENOENT naming the path when the folder is gone, without failing the others', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vmplumb-lock-'));
    const missing = join(dir, 'gone', 'lock');
    const [a, b] = await Promise.allSettled([tryLockAsync(missing), tryLockAsync(join(dir, 'ok'))]);
    expect(a).toMatchObject({ status: 'rejected', reason: { code: 'ENOENT', syscall: 'open', path: missing } });
    expect(b.status).toBe('fulfilled');
    (b as PromiseFulfilledResult<{ release(): void }>).value.release();
  });
});
