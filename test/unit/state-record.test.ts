/**
 * Run-directory records (lib/state/record.ts): what a reader refuses rather than guess at —
 * a newer version, another kind, not JSON, a missing file — and, as the control, that a
 * record this code wrote (and an older version) reads back.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { readRecord, RECORD_VERSION, StateRecordError, writeRecord } from '../../lib/state/record.js';

describe('run-directory records', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmprecord-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, body: unknown): string => {
    const path = join(dir, name);
    writeFileSync(path, typeof body === 'string' ? body : JSON.stringify(body));
    return path;
  };

  it('reads back what it wrote, and an older version (control)', async () => {
    const path = join(dir, 'ok.json');
    writeRecord(path, 'network', { id: 100 });
    await expect(readRecord(path, 'network')).resolves.toMatchObject({ format: 'vmplumb/network', version: RECORD_VERSION, id: 100 });
    await expect(readRecord(file('old.json', { format: 'vmplumb/network', version: 0, id: 7 }), 'network')).resolves.toMatchObject({ id: 7 });
  });

  it('refuses a newer version, naming both versions', async () => {
    const path = file('newer.json', { format: 'vmplumb/network', version: RECORD_VERSION + 1, id: 100 });
    const error = await readRecord(path, 'network').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateRecordError);
    expect(error).toMatchObject({ code: 'ERR_VMPLUMB_STATE', path });
    expect((error as Error).message).toBe(`${path}: record version ${RECORD_VERSION + 1} is newer than this vmplumb understands (${RECORD_VERSION})`);
    await expect(readRecord(file('noversion.json', { format: 'vmplumb/network', id: 100 }), 'network')).rejects.toThrow(/record version undefined/);
  });

  it('refuses another kind, something that is not JSON, and reports a missing file as ENOENT', async () => {
    await expect(readRecord(file('vm.json', { format: 'vmplumb/vm', version: RECORD_VERSION }), 'network')).rejects.toThrow(
      /not a vmplumb\/network record \(format "vmplumb\/vm"\)/,
    );
    await expect(readRecord(file('text.json', 'hello'), 'network')).rejects.toThrow(/not JSON/);
    await expect(readRecord(join(dir, 'absent.json'), 'network')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
