#!/usr/bin/env bash
# The main job on a fresh machine: installs what is missing, builds, prepares the built-in
# synthetic data set and shows what it holds.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build.sh
build/seqrec prepare --synthetic --output data/synthetic --overwrite
build/seqrec inspect data/synthetic --sessions 2
