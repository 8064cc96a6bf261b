#!/usr/bin/env bash
# The main job on a fresh machine: installs what is missing, builds, prepares the built-in
# synthetic data set and trains a small SASRec on it over two MPI ranks (the item table
# row-sharded across them); the last lines compare the model's test metrics with the
# most-popular baseline. RANKS=1 scripts/quickstart.sh trains in one process.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build.sh
build/seqrec prepare --synthetic --output data/synthetic --overwrite
build/seqrec inspect data/synthetic --sessions 1

ranks="${RANKS:-2}"
mpi_flags=(--oversubscribe)
# Open MPI refuses root unless told; containers and CI machines often run as root.
[[ "$(id -u)" == 0 ]] && mpi_flags+=(--allow-run-as-root)
# Each rank takes its share of the cores for LibTorch's and OpenBLAS's pools (seqrec
# sets both from the launcher's local rank count).
# The data set was prepared afresh, so train afresh too: --resume auto would take up the
# last quickstart's final checkpoint and only evaluate it again.
mpirun -np "$ranks" "${mpi_flags[@]}" build/seqrec train --config configs/quickstart.ini --resume never "$@"
