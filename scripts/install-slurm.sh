#!/usr/bin/env bash
# Installs Debian's Slurm (slurm-wlm: slurmctld, slurmd, sbatch, ...) and munge, only when
# missing: what the single-node Slurm test (tests/slurm/slurm_test.sh) needs. Nothing is
# configured or started here; the test runs its own daemons from a temporary directory.
set -euo pipefail
exec "$(dirname "$0")/install-deps.sh" slurm-wlm munge
