#!/usr/bin/env bash
# Incremental build of the addon for development: serialized with flock (several people may
# build in one tree), re-configured when the set of native/*.cc files changes (binding.gyp
# lists them at configure time). `npm install` does the full build through node-gyp-build.
set -euo pipefail
cd "$(dirname "$0")/.."
exec 9>/tmp/vmplumb-build.lock
flock 9
sources=$(ls -1 native/*.cc | sort | tr '\n' ' ')
if [ ! -f build/Makefile ] || [ "$(cat build/.sources 2>/dev/null)" != "$sources" ]; then
  npx --no-install node-gyp configure >/tmp/vmplumb-configure.log 2>&1 || { cat /tmp/vmplumb-configure.log; exit 1; }
  echo "$sources" > build/.sources
fi
make -C build -j2 BUILDTYPE=Release V=0 2>&1 | grep -vE '^make(\[[0-9]+\])?: (Entering|Leaving)' || true
test "${PIPESTATUS[0]}" -eq 0
