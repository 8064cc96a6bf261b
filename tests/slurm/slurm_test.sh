#!/usr/bin/env bash
# The Slurm templates in cluster/, submitted with sbatch to a real one-node Slurm started
# on this machine (tests/slurm/local_slurm.sh), on a tiny synthetic data set.
#
#   tests/slurm/slurm_test.sh jobs     # ctest: slurm_jobs
#       train-single-node (mpirun) and train-multi-node (srun --mpi=pmix, one node here)
#       complete with equal test metrics; a 2-task sweep array completes, each task with
#       its own setting and a run directory named by array job and task.
#   tests/slurm/slurm_test.sh resume   # ctest: slurm_resume
#       a job sent USR1 mid-run (scancel --signal=USR1 --batch) saves, exits 3, requeues
#       itself, resumes from its checkpoint and ends with the same test metrics as an
#       uninterrupted job. Needs `seqrec train --resume` (the checkpoint work): without it
#       the stage is skipped (exit 77, which ctest reports as skipped).
#
# Needs root (the test's Slurm runs as SlurmUser=root) and Debian's slurm-wlm and munge,
# which scripts/install-slurm.sh installs when missing. SEQREC_BINARY: the seqrec to test
# (default build/seqrec). Every daemon started is stopped by its pid on any exit.
set -uo pipefail
stage="${1:-}"
[[ "$stage" == jobs || "$stage" == resume ]] || { echo "usage: $0 jobs|resume" >&2; exit 2; }
repo="$(cd "$(dirname "$0")/../.." && pwd)"
export SEQREC_BINARY="${SEQREC_BINARY:-$repo/build/seqrec}"
skip() { echo "SKIP slurm $stage: $*"; exit 77; }

[[ -x "$SEQREC_BINARY" ]] || { echo "FAIL: no seqrec binary at $SEQREC_BINARY" >&2; exit 1; }
[[ "$(id -u)" == 0 ]] || skip "needs root (the test's own Slurm runs as SlurmUser=root)"
"$repo/scripts/install-slurm.sh" || { echo "FAIL: could not install slurm-wlm and munge" >&2; exit 1; }
if [[ "$stage" == resume ]] && ! "$SEQREC_BINARY" train --help 2>/dev/null | grep -q -- '--resume'; then
  skip "seqrec train has no --resume yet; this stage passes once the checkpoint work (--resume auto, save and exit 3 on SIGUSR1) is merged"
fi

work="$(mktemp -d /tmp/seqrec-slurm-test.XXXXXX)"
source "$repo/tests/slurm/local_slurm.sh"
keep_on_failure=0
finish() {
  local status=$?
  # Jobs first (their ranks are children of slurmd's step daemons), then the daemons.
  scancel --full --quiet --signal=KILL $(squeue -h -o %A 2>/dev/null) 2>/dev/null || true
  sleep 1
  local_slurm_stop "$work/slurm"
  if [[ $status != 0 && $status != 77 ]]; then
    echo "--- kept for inspection: $work (logs: $work/jobs/slurm-*.out, $work/slurm/*.log)"
  else
    rm -rf "$work"
  fi
  exit $status
}
trap finish EXIT
trap 'exit 130' INT TERM

failures=0
check() {  # description expected actual
  if [[ "$2" == "$3" ]]; then echo "ok   $1"; else
    echo "FAIL $1"; echo "  expected: $2"; echo "  actual:   $3"; failures=$((failures + 1)); fi
}
die() { echo "FAIL $*"; exit 1; }

job_field() {  # job id, field of `scontrol show job`
  scontrol show job -o "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1
}

# Waits (generously) until the job leaves the queue for good; prints its final state.
wait_done() {  # job id, seconds
  local state _
  for _ in $(seq "$2"); do
    state="$(job_field "$1" JobState)"
    case "$state" in
      COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED) echo "$state"; return ;;
    esac
    sleep 1
  done
  echo "still ${state:-unknown} after $2 s"
}

# The test metrics of a run directory, as one canonical JSON line.
test_metrics() {
  python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["test"], sort_keys=True))' "$1/result.json" 2>/dev/null || echo "no $1/result.json"
}

# Training-loss lines in a metrics.jsonl so far.
train_lines() { cat "$1" 2>/dev/null | grep -c '"event":"train"'; }

mkdir -p "$work/jobs" "$work/runs"
local_slurm_start "$work/slurm" >"$work/slurm-start.log" 2>&1 || { cat "$work/slurm-start.log"; die "local Slurm did not start"; }
echo "ok   local Slurm up (SLURM_CONF=$SLURM_CONF)"

"$SEQREC_BINARY" prepare --synthetic --output "$work/data" --synthetic.users 300 --synthetic.items 100 \
  >"$work/prepare.log" 2>&1 || { cat "$work/prepare.log"; die "seqrec prepare --synthetic"; }

# Tiny model; each job: 2 CPU ranks of one thread. The jobs run the templates unmodified;
# only what a user would change at submission is given to sbatch. --time is generous so
# that the templates' USR1 (5 minutes before the limit) cannot come during the test.
export SEQREC_HOME="$repo" SEQREC_RUNS="$work/runs"
tiny=(--data.path "$work/data" --model.d_model 16 --model.layers 1 --train.batch_size 32
      --train.eval_batch_size 64 --train.log_every 1 --train.epochs 1000)
submit=(sbatch --parsable --time=60 --gpus-per-node=0 --cpus-per-task=1)
cd "$work/jobs"  # logs (slurm-%x-%j.out) land in the submission directory

if [[ "$stage" == jobs ]]; then
  single=$("${submit[@]}" --ntasks-per-node=2 "$repo/cluster/train-single-node.sbatch" \
           "$repo/configs/quickstart.ini" "${tiny[@]}" --train.max_steps 30) || die "sbatch train-single-node"
  launch=mpirun
  srun --mpi=list 2>&1 | grep -qw pmix && launch=srun
  multi=$(SEQREC_LAUNCH=$launch "${submit[@]}" --nodes=1 --ntasks-per-node=2 "$repo/cluster/train-multi-node.sbatch" \
          "$repo/configs/quickstart.ini" "${tiny[@]}" --train.max_steps 30) || die "sbatch train-multi-node"
  printf '# two settings\n--train.lr 0.002\n\n--train.lr 0.0005\n' >"$work/sweep.txt"
  sweep=$(SEQREC_SWEEP="$work/sweep.txt" "${submit[@]}" --array=0-1 --ntasks-per-node=1 \
          "$repo/cluster/sweep-array.sbatch" "$repo/configs/quickstart.ini" "${tiny[@]}" --train.max_steps 20) \
    || die "sbatch sweep-array"

  check "train-single-node completes" "COMPLETED 0:0" "$(wait_done "$single" 900) $(job_field "$single" ExitCode)"
  check "its run directory is named by job id" "yes" \
    "$([[ -s "$work/runs/seqrec-train-$single/result.json" ]] && echo yes || echo no)"
  check "its log names the mpirun line" "yes" \
    "$(grep -q 'seqrec-mpirun: mpirun -np 2 ' "slurm-seqrec-train-$single.out" && echo yes || echo no)"
  check "train-multi-node ($launch) completes" "COMPLETED 0:0" "$(wait_done "$multi" 900) $(job_field "$multi" ExitCode)"
  check "$launch-launched == mpirun-launched (test metrics)" \
    "$(test_metrics "$work/runs/seqrec-train-$single")" "$(test_metrics "$work/runs/seqrec-train-multi-$multi")"
  for task in 0 1; do
    check "sweep task $task completes" "COMPLETED 0:0" \
      "$(wait_done "${sweep}_$task" 900) $(job_field "${sweep}_$task" ExitCode)"
    dir="$work/runs/seqrec-sweep-$sweep-$task"
    lr=$([[ $task == 0 ]] && echo 0.002 || echo 0.0005)
    check "sweep task $task: own run directory and setting" "lr = $lr" \
      "$(sed -n 's/^lr *= *\(.*\)/lr = \1/p' "$dir/config.ini" 2>/dev/null | head -1)"
    check "sweep task $task: log named by array job and task" "yes" \
      "$([[ -s "slurm-seqrec-sweep-${sweep}_$task.out" ]] && echo yes || echo no)"
  done
fi

if [[ "$stage" == resume ]]; then
  steps=150
  preempted=$("${submit[@]}" --ntasks-per-node=2 "$repo/cluster/train-single-node.sbatch" \
              "$repo/configs/quickstart.ini" "${tiny[@]}" --train.max_steps $steps) || die "sbatch (preempted job)"
  whole=$("${submit[@]}" --ntasks-per-node=2 "$repo/cluster/train-single-node.sbatch" \
          "$repo/configs/quickstart.ini" "${tiny[@]}" --train.max_steps $steps) || die "sbatch (uninterrupted job)"
  metrics="$work/runs/seqrec-train-$preempted/metrics.jsonl"
  # Preempt it once training is under way: a few steps logged, far from the end.
  for _ in $(seq 900); do
    [[ $(train_lines "$metrics") -ge 5 ]] && break
    sleep 1
  done
  logged=$(train_lines "$metrics")
  [[ $logged -ge 5 ]] || die "the job to preempt logged $logged training steps in 900 s (state $(job_field "$preempted" JobState))"
  scancel --signal=USR1 --batch "$preempted"
  echo "ok   sent USR1 to job $preempted after $logged logged steps"
  # Requeued jobs wait about two minutes (a held begin time); release it at once.
  for _ in $(seq 600); do
    [[ "$(job_field "$preempted" Restarts)" -ge 1 && "$(job_field "$preempted" JobState)" == PENDING ]] && break
    sleep 1
  done
  check "USR1: the job saved, exited 3 and requeued itself" "1 PENDING" \
    "$(job_field "$preempted" Restarts) $(job_field "$preempted" JobState)"
  scontrol update JobId="$preempted" StartTime=now
  check "the requeued job completes" "COMPLETED 0:0" "$(wait_done "$preempted" 900) $(job_field "$preempted" ExitCode)"
  check "the uninterrupted job completes" "COMPLETED 0:0" "$(wait_done "$whole" 900) $(job_field "$whole" ExitCode)"
  log="slurm-seqrec-train-$preempted.out"
  check "its log shows the requeue and a second start" "yes yes" \
    "$(grep -q 'requeueing job' "$log" && echo yes || echo no) $(grep -q 'start 2 ' "$log" && echo yes || echo no)"
  check "resumed == uninterrupted (test metrics)" \
    "$(test_metrics "$work/runs/seqrec-train-$whole")" "$(test_metrics "$work/runs/seqrec-train-$preempted")"
fi

echo "$failures failure(s)"
[[ $failures == 0 ]] || exit 1
