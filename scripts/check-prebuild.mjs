// `npm pack` / `npm publish` refuse to produce a tarball without the N-API prebuild: users
// without a compiler depend on it (node-gyp-build loads prebuilds/<platform>-<arch>/ first and
// builds from source only when none fits). Run `npm run prebuild` first, or `npm run release`.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = `${process.platform}-${process.arch}`;
const dir = join(root, 'prebuilds', target);
const found = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.node')) : [];
if (found.length === 0) {
  process.stderr.write(`vmplumb: refusing to pack without the prebuild: no prebuilds/${target}/*.node (run \`npm run prebuild\` first)\n`);
  process.exit(1);
}
process.stderr.write(`vmplumb: packing with prebuilds/${target}/${found.join(', ')}\n`);
