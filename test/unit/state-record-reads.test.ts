/**
 * Batched reads of the run directory (lib/state/record-reads.ts): what many callers ask for in
 * one turn is read in one thread-pool job, each caller getting its own file's text, undefined
 * for a missing file, and its own error for any other failure.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { native } from '../../lib/native.js';
import { readFileBatched } from '../../lib/state/record-reads.js';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('readFileBatched', () => {
  it('reads what many callers ask for in one turn in one job: texts (multi-byte, larger than a read), missing files as undefined', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmplumb-reads-'));
    dirs.push(dir);
    const big = `${'é'.repeat(20_000)}\n`;
    for (let i = 0; i < 100; i++) writeFileSync(join(dir, `${i}.json`), i === 7 ? big : `{"id":${i}}\n`);
    const jobs = vi.spyOn(native, 'fileOps');
    const texts = await Promise.all([
      ...Array.from({ length: 100 }, (_, i) => readFileBatched(join(dir, `${i}.json`))),
      readFileBatched(join(dir, 'missing.json')),
    ]);
    expect(jobs).toHaveBeenCalledTimes(1);
    expect(texts[7]).toBe(big);
    expect(texts[42]).toBe('{"id":42}\n');
    expect(texts[100]).toBeUndefined();
  });

  it("another failure is that caller's own (EISDIR naming the call and path), the others are read", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmplumb-reads-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'folder.json'));
    writeFileSync(join(dir, 'ok.json'), 'ok');
    const [folder, ok] = await Promise.allSettled([readFileBatched(join(dir, 'folder.json')), readFileBatched(join(dir, 'ok.json'))]);
    expect(folder).toMatchObject({ status: 'rejected', reason: { code: 'EISDIR', syscall: 'read', path: join(dir, 'folder.json') } });
    expect(ok).toEqual({ status: 'fulfilled', value: 'ok' });
  });
});
