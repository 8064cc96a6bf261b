#!/usr/bin/env bash
# The main job on a fresh machine: installs what is missing, builds, prepares the built-in
# synthetic data set and trains a small SASRec on it; the last lines compare the model's
# test metrics with the most-popular baseline.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build.sh
build/seqrec prepare --synthetic --output data/synthetic --overwrite
build/seqrec inspect data/synthetic --sessions 1
build/seqrec train --config configs/quickstart.ini "$@"
