#!/usr/bin/env bash
# Makes a release in one command: `npm run release` (add `-- --dry-run` to stop before the
# upload). A clean install from the lock file, the typecheck, the N-API prebuild for this
# platform (prebuildify --napi --strip: linux-x64 glibc on the release machine), then
# `npm publish`, whose prepack check refuses a tarball without that prebuild.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf prebuilds dist
npm ci --no-audit --no-fund
npm run typecheck
npm run prebuild
npm publish "$@"
