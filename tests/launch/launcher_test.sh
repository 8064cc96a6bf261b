#!/usr/bin/env bash
# launch/seqrec-mpirun: the mpirun lines it builds (one node; two nodes from a hostfile;
# CPU-only and oversubscribed nodes), its refusals, and in a real mpirun run that SIGTERM
# reaches every rank as SIGUSR1 and the ranks' exit code 3 comes back.
#
#   tests/launch/launcher_test.sh            (ctest: launcher)
set -uo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
launcher="$repo/launch/seqrec-mpirun"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

failures=0
check() {  # description expected actual
  if [[ "$2" == "$3" ]]; then
    echo "ok   $1"
  else
    echo "FAIL $1"; echo "  expected: $2"; echo "  actual:   $3"
    failures=$((failures + 1))
  fi
}

export MPIRUN=mpirun SEQREC_BINARY=/opt/seqrec/bin/seqrec
unset SLURM_JOB_ID CUDA_VISIBLE_DEVICES
root=""
[[ "$(id -u)" == 0 ]] && root=" --allow-run-as-root"

# One node, 4 GPUs, 32 hardware threads: 4 ranks of 8 threads.
check "one node, one rank per GPU" \
  "mpirun -np 4 --use-hwthread-cpus --map-by ppr:4:node:PE=8 --bind-to hwthread$root -x OMP_NUM_THREADS=8 -x OPENBLAS_NUM_THREADS=1 /opt/seqrec/bin/seqrec train --config c.ini --train.threads 8" \
  "$("$launcher" --dry-run --gpus-per-node 4 --cores-per-node 32 -- train --config c.ini)"

# -np 2 on a CPU-only node of 2 threads; the user's --train.threads is kept.
check "one node, CPU ranks, --train.threads given" \
  "mpirun -np 2 --use-hwthread-cpus --map-by ppr:2:node:PE=1 --bind-to hwthread$root -x OMP_NUM_THREADS=1 -x OPENBLAS_NUM_THREADS=1 /opt/seqrec/bin/seqrec train --train.threads=1" \
  "$("$launcher" --dry-run -np 2 --gpus-per-node 0 --cores-per-node 2 train --train.threads=1)"

# More ranks than threads: no binding, one thread each; not train: no --train.threads.
check "oversubscribed node" \
  "mpirun -np 3 --map-by ppr:3:node --bind-to none --oversubscribe$root -x OMP_NUM_THREADS=1 -x OPENBLAS_NUM_THREADS=1 /opt/seqrec/bin/seqrec inspect data/x" \
  "$("$launcher" --dry-run -np 3 --gpus-per-node 0 --cores-per-node 2 inspect data/x)"

# Two nodes from a hostfile: ranks per node from slots, remote ranks get PATH and NCCL_*.
cat >"$work/hosts" <<'EOF'
# two GPU nodes
node-a slots=2
node-b slots=2 max_slots=2
EOF
check "two nodes from a hostfile" \
  "mpirun -np 4 --hostfile $work/hosts --use-hwthread-cpus --map-by ppr:2:node:PE=16 --bind-to hwthread$root -x OMP_NUM_THREADS=16 -x OPENBLAS_NUM_THREADS=1 -x PATH -x NCCL_DEBUG /opt/seqrec/bin/seqrec train --config c.ini --train.threads 16" \
  "$(env -u LD_LIBRARY_PATH -u HDF5_USE_FILE_LOCKING NCCL_DEBUG=WARN "$launcher" --dry-run --hostfile "$work/hosts" --gpus-per-node 2 --cores-per-node 32 train --config c.ini)"

printf 'node-a\nnode-b\n' >"$work/hosts-no-slots"
check "two nodes without slots: -np split evenly" \
  "mpirun -np 6 --hostfile $work/hosts-no-slots --use-hwthread-cpus --map-by ppr:3:node:PE=4 --bind-to hwthread$root -x OMP_NUM_THREADS=4 -x OPENBLAS_NUM_THREADS=1 -x PATH /opt/seqrec/bin/seqrec train --train.threads 4" \
  "$(env -u LD_LIBRARY_PATH -u HDF5_USE_FILE_LOCKING "$launcher" --dry-run --hostfile "$work/hosts-no-slots" -np 6 --gpus-per-node 0 --cores-per-node 12 train)"

# Refusals: exit 2 and a line naming the problem.
printf 'node-a slots=2\nnode-b slots=4\n' >"$work/uneven"
"$launcher" --dry-run --hostfile "$work/uneven" train >/dev/null 2>"$work/err"; rc=$?
check "uneven hostfile refused" "2 different slots" "$rc $(grep -o 'different slots' "$work/err")"
"$launcher" --dry-run -np 3 --hostfile "$work/hosts" --ranks-per-node 1 train >/dev/null 2>"$work/err"; rc=$?
check "-np beyond the nodes refused" "2 is more than" "$rc $(grep -o 'is more than' "$work/err")"
"$launcher" --dry-run >/dev/null 2>"$work/err"; rc=$?
check "no subcommand refused" "2 no seqrec subcommand" "$rc $(grep -o 'no seqrec subcommand' "$work/err")"
"$launcher" --dry-run --bogus train >/dev/null 2>"$work/err"; rc=$?
check "unknown option refused" "2 unknown option" "$rc $(grep -o 'unknown option' "$work/err")"

# A real run: two ranks of a stand-in for seqrec that behaves as its preemption contract
# says (SIGUSR1: save, exit 3). SIGTERM to the launcher must reach both ranks as SIGUSR1.
cat >"$work/rank.sh" <<'EOF'
#!/usr/bin/env bash
out="$RANK_OUT/rank-$OMPI_COMM_WORLD_RANK"
trap 'echo "USR1 $*" >"$out.signal"; exit 3' USR1
trap 'echo "TERM" >"$out.signal"; exit 1' TERM
echo "local_rank=$OMPI_COMM_WORLD_LOCAL_RANK omp=$OMP_NUM_THREADS" >"$out.started"
for _ in $(seq 600); do sleep 0.2; done
exit 0
EOF
chmod +x "$work/rank.sh"
mkdir "$work/out"
RANK_OUT="$work/out" SEQREC_BINARY="$work/rank.sh" \
  "$launcher" -np 2 --gpus-per-node 0 --cores-per-node 2 --mpirun-arg=-x --mpirun-arg=RANK_OUT train \
  >"$work/run.log" 2>&1 &
launcher_pid=$!
for _ in $(seq 600); do  # generous: a loaded machine starts mpirun slowly
  [[ -e "$work/out/rank-0.started" && -e "$work/out/rank-1.started" ]] && break
  sleep 0.2
done
check "both ranks started, one thread each" "local_rank=0 omp=1 local_rank=1 omp=1" \
  "$(cat "$work/out/rank-0.started" "$work/out/rank-1.started" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
kill -TERM "$launcher_pid"
wait "$launcher_pid"; rc=$?
check "SIGTERM: launcher exits 3" "3" "$rc"
check "SIGTERM: every rank got SIGUSR1" "USR1 train --train.threads 1 USR1 train --train.threads 1" \
  "$(cat "$work/out/rank-0.signal" "$work/out/rank-1.signal" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
grep -q '^seqrec-mpirun: mpirun -np 2 ' "$work/run.log"
check "the mpirun line is printed" "0" "$?"
[[ $failures == 0 ]] || { echo "--- launcher log"; cat "$work/run.log"; }

echo "$failures failure(s)"
[[ $failures == 0 ]]
