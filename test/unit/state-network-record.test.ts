/**
 * A namespace's folder in the run directory goes with its last network record, and a lock
 * taken after that makes it again (nothing is left in /run/vmplumb by a destroyed network).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { lockNetwork, networkFiles, removeNetworkRecord } from '../../lib/state/network-record.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('network records in the run directory', () => {
  it("removes the namespace's folder with its last network, and makes it again for the next", async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'vmplumb-run-'));
    dirs.push(runDir);
    const a = networkFiles(runDir, '4:1234', 100);
    const b = networkFiles(runDir, '4:1234', 101);
    const lockA = lockNetwork(a);
    const lockB = lockNetwork(b);
    expect(existsSync(a.dir)).toBe(true);
    lockA?.release();
    await removeNetworkRecord(a);
    expect(existsSync(b.dir)).toBe(true); // control: network 101 is still recorded there
    lockB?.release();
    await removeNetworkRecord(b);
    expect(existsSync(b.dir)).toBe(false);
    const again = lockNetwork(a);
    expect(again).toBeDefined();
    expect(existsSync(a.lock)).toBe(true);
    again?.release();
  });
});
