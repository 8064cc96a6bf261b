#!/usr/bin/env bash
# Installs the Debian 12 packages seqrec builds against (or the packages given as
# arguments), only those that are missing. Idempotent and non-interactive: safe to run on
# every build.
set -euo pipefail

packages=(
  cmake g++ make pkg-config
  libtorch-dev libopenblas0-pthread       # LibTorch 1.13 (CPU); OpenBLAS, ~7x faster than reference BLAS
  libopenmpi-dev openmpi-bin              # ranks and CPU collectives
  libhdf5-dev                             # session shards and checkpoints
  libboost-program-options-dev            # command line and INI configs
  libgtest-dev nlohmann-json3-dev
)

[ $# -gt 0 ] && packages=("$@")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "seqrec: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
