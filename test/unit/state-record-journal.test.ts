/**
 * The run directory's group commit (lib/state/record-journal.ts): what many callers ask for in
 * one turn lands on disk together, each path at the state its last change asked for, with no
 * temp file left; one caller's failure is its own.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { RecordJournal, tempPathOf } from '../../lib/state/record-journal.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vmplumb-journal-'));
  dirs.push(dir);
  return dir;
}

describe('RecordJournal', () => {
  it('writes what many callers ask for in one turn, each file whole, no temp file left', async () => {
    const dir = scratch();
    const journal = new RecordJournal();
    await Promise.all(Array.from({ length: 200 }, (_, i) => journal.write(join(dir, `${i}.json`), `{"id":${i}}\n`)));
    const names = readdirSync(dir);
    expect(names).toHaveLength(200);
    expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([]);
    for (let i = 0; i < 200; i++) expect(readFileSync(join(dir, `${i}.json`), 'utf8')).toBe(`{"id":${i}}\n`);
  });

  it('leaves each path as its last change in a batch says (write then remove, remove then write)', async () => {
    const dir = scratch();
    const journal = new RecordJournal();
    const gone = join(dir, 'gone.json');
    const kept = join(dir, 'kept.json');
    writeFileSync(kept, 'old\n');
    await Promise.all([
      journal.write(gone, 'a\n'),
      journal.remove([kept]),
      journal.remove([gone]),
      journal.write(kept, 'new\n'),
      journal.write(kept, 'newest\n'),
    ]);
    expect(existsSync(gone)).toBe(false);
    expect(readFileSync(kept, 'utf8')).toBe('newest\n');
  });

  it('rejects only the caller whose file cannot be written', async () => {
    const dir = scratch();
    writeFileSync(join(dir, 'file'), 'not a folder');
    const journal = new RecordJournal();
    const bad = journal.write(join(dir, 'file', 'x.json'), 'x\n');
    const good = journal.write(join(dir, 'y.json'), 'y\n');
    await expect(bad).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(good).resolves.toBeUndefined(); // control: the same batch, a writable path
    expect(readFileSync(join(dir, 'y.json'), 'utf8')).toBe('y\n');
    expect(existsSync(tempPathOf(join(dir, 'y.json')))).toBe(false);
  });

  it('removes the folder with its last file, not while another file is in it', async () => {
    const root = scratch();
    const dir = join(root, 'ns');
    mkdirSync(dir);
    const journal = new RecordJournal();
    await Promise.all([journal.write(join(dir, '1.json'), '1\n'), journal.write(join(dir, '2.json'), '2\n')]);
    await journal.remove([join(dir, '1.json')], dir);
    expect(readdirSync(dir)).toEqual(['2.json']); // control: still in use
    await journal.remove([join(dir, '2.json')], dir);
    expect(existsSync(dir)).toBe(false);
    // A write into a folder that went meanwhile makes it again.
    await journal.write(join(dir, '3.json'), '3\n');
    expect(readFileSync(join(dir, '3.json'), 'utf8')).toBe('3\n');
  });

  it('settled() waits for the pending change of a path', async () => {
    const dir = scratch();
    const journal = new RecordJournal();
    const path = join(dir, 'r.json');
    void journal.write(path, 'r\n');
    expect(existsSync(path)).toBe(false); // not yet: the batch leaves in a later turn
    await journal.settled(path);
    expect(readFileSync(path, 'utf8')).toBe('r\n');
  });
});
