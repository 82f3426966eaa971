/**
 * vitest setup file: every test file gets its own temporary run directory through
 * $VMPLUMB_RUN_DIR, so no test ever reads or writes the host's /run/vmplumb, and removes it
 * afterwards. A test that needs a second one makes it with {@link tempRunDir}.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll } from 'vitest';

/** A fresh run directory under the system temp folder (remove it with rmSync). */
export function tempRunDir(): string {
  return mkdtempSync(join(tmpdir(), 'vmplumb-run-'));
}

const dir = tempRunDir();
process.env.VMPLUMB_RUN_DIR = dir;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
