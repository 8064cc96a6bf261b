#!/usr/bin/env bash
# Installs what is missing, then configures and builds seqrec (Release) into build/.
# Extra arguments go to CMake's configure step, e.g. -DTorch_DIR=... for a CUDA LibTorch.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$(nproc)"
