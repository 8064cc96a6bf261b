#!/usr/bin/env bash
# Installs what is missing, then configures and builds seqrec (Release) into build/.
# Extra arguments go to CMake's configure step, e.g. -DTorch_DIR=... for a CUDA LibTorch.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
# Ninja where it is installed, for a new build directory: with Make and a precompiled
# header, adding a source file rewrites every object's flags file and rebuilds the tree.
generator=()
if [[ ! -f build/CMakeCache.txt ]] && command -v ninja >/dev/null; then generator=(-G Ninja); fi
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$(nproc)"
