/**
 * Bundling a benchmark for a child process under plain node: tsx's loader alone adds ~35 MB
 * RSS to a process, which would swamp the memory figures of bench:ra and bench:scale.
 */

import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * Bundles `bench/<entry>` with esbuild into `bench/<outName>` (ESM, packages left external)
 * and returns the bundle's path; the caller removes it.
 */
export function bundleBench(entry: string, outName: string): string {
  const outfile = join(HERE, outName);
  execFileSync(
    join(HERE, '..', 'node_modules', '.bin', 'esbuild'),
    [
      join(HERE, entry),
      '--bundle',
      '--platform=node',
      '--format=esm',
      // Node 20 has no `using` declarations (lib/ uses them): esbuild lowers them.
      '--target=node20',
      '--packages=external',
      `--outfile=${outfile}`,
      '--log-level=warning',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  return outfile;
}
