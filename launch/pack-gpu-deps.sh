#!/usr/bin/env bash
# Packs, on this machine (Debian's packages), what the lent GPU machine may lack, into
# .device/ to carry there: the shared sysroot (Open MPI, HDF5, Boost.Program_options,
# GoogleTest; ../shared/device/make-sysroot.sh) and nlohmann_json, which that one lacks.
#
#   launch/pack-gpu-deps.sh          # from the repository root, once per checkout
#   then in a device run:  carry [".device"]  and  bash launch/build-gpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qx '/.device/' "$exclude" 2>/dev/null || echo /.device/ >> "$exclude"
../shared/device/make-sysroot.sh .device
rm -rf .device/nlohmann && mkdir -p .device/nlohmann
( cd .device/nlohmann && apt-get download nlohmann-json3-dev >/dev/null && dpkg -x nlohmann-json3-dev_*.deb . &&
  rm nlohmann-json3-dev_*.deb && rm -rf usr/share/doc )
du -sh .device
