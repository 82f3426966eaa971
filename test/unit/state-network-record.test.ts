/**
 * A network's paths in the run directory; a namespace's folder there goes with its last
 * network record, and a lock taken after that makes it again (nothing is left in /run/vmplumb
 * by a destroyed network).
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
  it('names each network its folder and files, whatever was asked for before (the folder string is reused)', () => {
    const paths = (runDir: string, key: string, id: number): string[] => {
      const f = networkFiles(runDir, key, id);
      return [f.dir, f.record, f.lock, f.raLock];
    };
    // Alternating run directories and namespaces: each answer is its own, not the last one's.
    expect(paths('/run/a', 'current', 7)).toEqual(['/run/a/net/host', '/run/a/net/host/7.json', '/run/a/net/host/7.lock', '/run/a/net/host/7.ra.lock']);
    expect(paths('/run/a', '/run/netns/x', 8)).toEqual([
      '/run/a/net/%2Frun%2Fnetns%2Fx',
      '/run/a/net/%2Frun%2Fnetns%2Fx/8.json',
      '/run/a/net/%2Frun%2Fnetns%2Fx/8.lock',
      '/run/a/net/%2Frun%2Fnetns%2Fx/8.ra.lock',
    ]);
    expect(paths('/run/b', '/run/netns/x', 8)[1]).toBe('/run/b/net/%2Frun%2Fnetns%2Fx/8.json');
    expect(paths('/run/a', 'current', 9)[3]).toBe('/run/a/net/host/9.ra.lock');
  });

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
