#!/usr/bin/env node
/**
 * The `vmplumb` command (package.json "bin"). See ./cli/program.ts for the commands:
 * demo, net up, vm run, ra, links, bench churn.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { main } from './cli/program.js';
import { packageRoot } from './package-root.js';

const pkg = JSON.parse(readFileSync(join(packageRoot(import.meta.url), 'package.json'), 'utf8')) as { version: string };
// Exit explicitly: a library handle left open by a failed command must not keep us alive.
process.exit(await main(process.argv, pkg.version));
