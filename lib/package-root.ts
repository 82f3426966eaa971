/**
 * The package's own folder (where package.json, binding.gyp, build/ and prebuilds/ are), from
 * any of its modules: lib/x.ts when run from source (tsx, vitest), dist/lib/x.js when
 * installed. One place knows the layout, so moving a file moves nothing else.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding package.json, walking up from `moduleUrl` (an import.meta.url). */
export function packageRoot(moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'binding.gyp'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`vmplumb: no package.json with binding.gyp above ${fileURLToPath(moduleUrl)}`);
    dir = parent;
  }
}
