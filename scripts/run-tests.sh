#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what is missing, builds, runs ctest
# (GoogleTest unit tests and the multi-process tests under mpirun -np 2 and -np 3).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build.sh
jobs="$(nproc)"  # counted before the export below: nproc honours OMP_NUM_THREADS
# Ranks of the MPI tests share the machine with each other: one thread each.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
ctest --test-dir build --output-on-failure -j"$jobs" "$@"
