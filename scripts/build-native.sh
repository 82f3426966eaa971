#!/usr/bin/env bash
# Incremental build of the addon for development: serialized with flock (several people may
# build in one tree), re-configured when binding.gyp changes. binding.gyp lists the sources
# by hand: a native/*.cc it does not list is refused here rather than silently left out.
# `npm install` does the full build through node-gyp-build.
set -euo pipefail
cd "$(dirname "$0")/.."
exec 9>/tmp/vmplumb-build.lock
flock 9
for source in native/*.cc; do
  grep -q "\"$source\"" binding.gyp || { echo "binding.gyp does not list $source" >&2; exit 1; }
done
if [ ! -f build/Makefile ] || [ binding.gyp -nt build/Makefile ]; then
  npx --no-install node-gyp configure >/tmp/vmplumb-configure.log 2>&1 || { cat /tmp/vmplumb-configure.log; exit 1; }
fi
make -C build -j2 BUILDTYPE=Release V=0 2>&1 | grep -vE '^make(\[[0-9]+\])?: (Entering|Leaving)' || true
test "${PIPESTATUS[0]}" -eq 0
