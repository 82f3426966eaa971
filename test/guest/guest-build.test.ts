/**
 * The guest builder from scratch: two processes building into one empty cache at once end up
 * with one intact entry (build in a temporary folder, then rename), and the initramfs holds
 * what the recipe says.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';

import { afterAll, describe, expect, it } from 'vitest';

import { guestRecipeKey, type Guest } from '../../testing/guest/index.js';
import { GUEST_MODULES } from '../../testing/guest/init.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

const execFileP = promisify(execFile);
const cli = fileURLToPath(new URL('./helpers/ensure-guest-cli.ts', import.meta.url));

describe.skipIf(skipUnlessRoot('guest build test'))('ensureGuest', () => {
  const cache = mkdtempSync(join(tmpdir(), 'vmptap-guestcache-'));
  afterAll(() => rmSync(cache, { recursive: true, force: true }));

  it('survives two concurrent builders and produces a bootable layout', async () => {
    const build = async (): Promise<Guest> => {
      const { stdout } = await execFileP(process.execPath, ['--import', 'tsx', cli, cache], { encoding: 'utf8' });
      return JSON.parse(stdout.trim().split('\n').at(-1) as string) as Guest;
    };
    const [a, b] = await Promise.all([build(), build()]);
    expect(a).toEqual(b);
    expect(a.dir).toBe(join(cache, guestRecipeKey()));
    expect(readdirSync(cache)).toEqual([guestRecipeKey()]); // no temporary folders left
    expect(readdirSync(a.dir).sort()).toEqual(['initrd.img', 'manifest.json', 'vmlinuz']);
    expect(readFileSync(a.kernel).subarray(0x202, 0x206).toString('latin1')).toBe('HdrS'); // x86 boot protocol header

    const cpio = gunzipSync(readFileSync(a.initrd));
    const listing = execFileSync('cpio', ['-t', '--quiet'], { input: cpio, encoding: 'utf8' }).split('\n');
    expect(listing).toEqual(
      expect.arrayContaining(['init', 'bin/busybox', 'bin/sh', 'dev', 'proc', 'sys', ...GUEST_MODULES.map((m) => `lib/modules/${m}.ko`)]),
    );
    expect(a.kernelRelease).toMatch(/^\d+\.\d+\.\d+-\d+-amd64$/);
  }, 180_000);
});
