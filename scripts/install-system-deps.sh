#!/usr/bin/env bash
# Installs the Debian packages the tests, the benchmark and the demo need, and only those
# that are missing. Used by .ci/run; `vmplumb demo` installs its own subset at run time.
#   iproute2       ip/bridge: the oracle of every link test and the `ip -batch` benchmark peer
#   qemu-system-x86, busybox-static, cpio: the tiny test guest (see docs/ARCHITECTURE.md, "Testing")
#   ndisc6 (rdisc6), tshark, radvd: real router-advertisement peers and the radvd comparison
#   iputils-ping   ping from client namespaces
#   gcc libc6-dev  the benchmark's kernel-floor program
#   clang-format   the formatting check of native/ in CI
#   nftables       nft -j: the oracle of the port-security (lib/guard) tests
set -euo pipefail
packages=(clang-format iproute2 qemu-system-x86 busybox-static cpio ndisc6 tshark radvd iputils-ping gcc libc6-dev nftables)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system packages: installed ${missing[*]}"
