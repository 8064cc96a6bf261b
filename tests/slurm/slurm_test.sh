#!/usr/bin/env bash
# The Slurm templates in cluster/, submitted with sbatch to a real one-node Slurm started
# on this machine (tests/slurm/local_slurm.sh), on a tiny synthetic data set.
#
#   tests/slurm/slurm_test.sh jobs     # ctest: slurm_jobs
#       train-single-node (mpirun) and train-multi-node (srun --mpi=pmix and mpirun in the
#       allocation, one node here) complete with equal test metrics; a 2-task sweep array completes, each task with
#       its own setting and a run directory named by array job and task.
#   tests/slurm/slurm_test.sh requeue  # ctest: slurm_requeue
#       the requeue path with a stand-in for seqrec that keeps seqrec's preemption contract
#       (SIGUSR1: save, exit 3; next start: resume from the save): USR1 to a single-node
#       job and to one task of a sweep array passes through run-requeueable, the launcher
#       and mpirun to every rank, which exit 3; the job requeues itself, starts again in
#       the same run directory and completes. Needs nothing from the checkpoint work.
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
[[ "$stage" == jobs || "$stage" == requeue || "$stage" == resume ]] || { echo "usage: $0 jobs|requeue|resume" >&2; exit 2; }
repo="$(cd "$(dirname "$0")/../.." && pwd)"
export SEQREC_BINARY="${SEQREC_BINARY:-$repo/build/seqrec}"
skip() { echo "SKIP slurm $stage: $*"; exit 77; }

# The requeue stage runs a stand-in; the others the real seqrec.
[[ "$stage" == requeue || -x "$SEQREC_BINARY" ]] || { echo "FAIL: no seqrec binary at $SEQREC_BINARY" >&2; exit 1; }
[[ "$(id -u)" == 0 ]] || skip "needs root (the test's own Slurm runs as SlurmUser=root)"
"$repo/scripts/install-slurm.sh" || { echo "FAIL: could not install slurm-wlm and munge" >&2; exit 1; }

work="$(mktemp -d /tmp/seqrec-slurm-test.XXXXXX)"
source "$repo/tests/slurm/local_slurm.sh"
keep_on_failure=0
finish() {
  local status=$?
  # Jobs first (their ranks are children of slurmd's step daemons), then the daemons.
  if [[ -n "${SLURM_CONF:-}" ]]; then
    scancel --full --quiet --signal=KILL $(squeue -h -o %A 2>/dev/null) 2>/dev/null || true
    sleep 1
  fi
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

if [[ "$stage" != requeue ]]; then
  "$SEQREC_BINARY" prepare --synthetic --output "$work/data" --synthetic.users 300 --synthetic.items 100 \
    >"$work/prepare.log" 2>&1 || { cat "$work/prepare.log"; die "seqrec prepare --synthetic"; }
fi

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
  in_allocation=""
  if [[ $launch == srun ]]; then  # and the template's other path, mpirun inside the allocation
    in_allocation=$(SEQREC_LAUNCH=mpirun "${submit[@]}" --nodes=1 --ntasks-per-node=2 "$repo/cluster/train-multi-node.sbatch" \
                    "$repo/configs/quickstart.ini" "${tiny[@]}" --train.max_steps 30) || die "sbatch train-multi-node (mpirun)"
  fi
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
  if [[ -n "$in_allocation" ]]; then
    check "train-multi-node (mpirun) completes" "COMPLETED 0:0" \
      "$(wait_done "$in_allocation" 900) $(job_field "$in_allocation" ExitCode)"
    check "multi-node (mpirun) == single-node (test metrics)" \
      "$(test_metrics "$work/runs/seqrec-train-$single")" "$(test_metrics "$work/runs/seqrec-train-multi-$in_allocation")"
  fi
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

# Signals the job once `ready` (a command) succeeds, waits for it to requeue itself and
# releases it soon (a requeued job is held for about two minutes).
preempt_and_release() {  # job id, description, ready command...
  local job="$1" what="$2" _; shift 2
  for _ in $(seq 4500); do "$@" && break; sleep 0.2; done
  "$@" || die "$what never got under way (state $(job_field "$job" JobState))"
  scancel --signal=USR1 --batch "$job"
  echo "ok   sent USR1 to $what (job $job)"
  local state
  for _ in $(seq 600); do
    state="$(job_field "$job" JobState)"
    [[ "$(job_field "$job" Restarts)" -ge 1 && "$state" == PENDING ]] && break
    [[ "$state" == COMPLETED || "$state" == FAILED || "$state" == CANCELLED ]] && break
    sleep 1
  done
  check "USR1: $what saved, exited 3 and requeued itself" "1 PENDING" \
    "$(job_field "$job" Restarts) $(job_field "$job" JobState)"
  # Not within the second of the requeue: slurmd refuses a start whose credential is as
  # old as the revocation of the last one ("Job credential revoked", the job FAILS).
  sleep 3
  scontrol update JobId="$job" StartTime=now
}

if [[ "$stage" == requeue ]]; then
  # The stand-in: each rank counts its starts; on USR1 it saves (a file) and exits 3; a
  # start that finds its save finishes at once with exit 0.
  cat >"$work/standin.sh" <<'STANDIN'
#!/usr/bin/env bash
prev="" run=""
for a in "$@"; do [[ "$prev" == --train.run_dir ]] && run="$a"; prev="$a"; done
mkdir -p "$run"
me="$run/rank-${OMPI_COMM_WORLD_RANK:-$SLURM_PROCID}"
echo "start" >>"$me.starts"
[[ -e "$me.saved" ]] && { echo "resumed" >"$me.result"; exit 0; }
trap 'echo saved >"$me.saved"; exit 3' USR1
echo "running" >"$me.running"
for _ in $(seq 3000); do sleep 0.2; done
exit 0
STANDIN
  chmod +x "$work/standin.sh"
  ranks_running() {  # run directory, ranks
    local r; for ((r = 0; r < $2; r++)); do [[ -e "$1/rank-$r.running" ]] || return 1; done
  }
  single=$(SEQREC_BINARY="$work/standin.sh" "${submit[@]}" --ntasks-per-node=2 \
           "$repo/cluster/train-single-node.sbatch" "$repo/configs/quickstart.ini") || die "sbatch train-single-node"
  dir="$work/runs/seqrec-train-$single"
  preempt_and_release "$single" "the single-node job" ranks_running "$dir" 2
  check "the requeued job completes" "COMPLETED 0:0" "$(wait_done "$single" 900) $(job_field "$single" ExitCode)"
  check "both ranks saved, started twice in the same run directory, resumed" \
    "saved 2 resumed saved 2 resumed" \
    "$(for r in 0 1; do echo "$(cat "$dir/rank-$r.saved") $(wc -l <"$dir/rank-$r.starts") $(cat "$dir/rank-$r.result")"; done 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
  log="slurm-seqrec-train-$single.out"
  check "its log shows the requeue and a second start" "yes yes" \
    "$(grep -q 'requeueing job' "$log" && echo yes || echo no) $(grep -q 'start 2 ' "$log" && echo yes || echo no)"

  if srun --mpi=list 2>&1 | grep -qw pmix; then
    multi=$(SEQREC_BINARY="$work/standin.sh" SEQREC_LAUNCH=srun "${submit[@]}" --nodes=1 --ntasks-per-node=2 \
            "$repo/cluster/train-multi-node.sbatch" "$repo/configs/quickstart.ini") || die "sbatch train-multi-node"
    dir="$work/runs/seqrec-train-multi-$multi"
    preempt_and_release "$multi" "the multi-node job (srun)" ranks_running "$dir" 2
    check "the requeued srun job completes, both ranks resumed" "COMPLETED 0:0 resumed resumed" \
      "$(wait_done "$multi" 900) $(job_field "$multi" ExitCode) $(cat "$dir/rank-0.result" "$dir/rank-1.result" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
  fi

  printf -- '--train.lr 0.002\n--train.lr 0.0005\n' >"$work/sweep.txt"
  sweep=$(SEQREC_BINARY="$work/standin.sh" SEQREC_SWEEP="$work/sweep.txt" "${submit[@]}" --array=0-1 \
          --ntasks-per-node=1 "$repo/cluster/sweep-array.sbatch" "$repo/configs/quickstart.ini") || die "sbatch sweep-array"
  preempt_and_release "${sweep}_1" "sweep task 1" ranks_running "$work/runs/seqrec-sweep-$sweep-1" 1
  check "sweep task 1 completes after its requeue" "COMPLETED 0:0 resumed" \
    "$(wait_done "${sweep}_1" 900) $(job_field "${sweep}_1" ExitCode) $(cat "$work/runs/seqrec-sweep-$sweep-1/rank-0.result" 2>/dev/null)"
  check "sweep task 0 was left alone" "0 RUNNING" "$(job_field "${sweep}_0" Restarts) $(job_field "${sweep}_0" JobState)"
fi

if [[ "$stage" == resume ]]; then
  steps=300
  preempted=$("${submit[@]}" --ntasks-per-node=2 "$repo/cluster/train-single-node.sbatch" \
              "$repo/configs/quickstart.ini" "${tiny[@]}" --train.max_steps $steps) || die "sbatch (preempted job)"
  whole=$("${submit[@]}" --ntasks-per-node=2 "$repo/cluster/train-single-node.sbatch" \
          "$repo/configs/quickstart.ini" "${tiny[@]}" --train.max_steps $steps) || die "sbatch (uninterrupted job)"
  metrics="$work/runs/seqrec-train-$preempted/metrics.jsonl"
  # Preempted once training is under way: a few steps logged, far from the end.
  five_steps_logged() { [[ $(train_lines "$metrics") -ge 5 ]]; }
  preempt_and_release "$preempted" "the job to preempt" five_steps_logged
  check "the requeued job completes" "COMPLETED 0:0" "$(wait_done "$preempted" 900) $(job_field "$preempted" ExitCode)"
  check "the uninterrupted job completes" "COMPLETED 0:0" "$(wait_done "$whole" 900) $(job_field "$whole" ExitCode)"
  log="slurm-seqrec-train-$preempted.out"
  check "its log shows the requeue and a second start" "yes yes" \
    "$(grep -q 'requeueing job' "$log" && echo yes || echo no) $(grep -q 'start 2 ' "$log" && echo yes || echo no)"
  # A start from scratch would end alike too (CPU runs repeat): the second start must say
  # that it continued from the checkpoint. (Not sed | grep -q under pipefail: grep's early
  # exit can kill sed with SIGPIPE and fail the pipeline although the line is there.)
  check "the second start resumed from the checkpoint" "yes" \
    "$(awk '/start 2 /{after=1} after && tolower($0) ~ /resumed from/ {found=1} END{print found ? "yes" : "no"}' "$log")"
  check "resumed == uninterrupted (test metrics)" \
    "$(test_metrics "$work/runs/seqrec-train-$whole")" "$(test_metrics "$work/runs/seqrec-train-$preempted")"
fi

echo "$failures failure(s)"
[[ $failures == 0 ]] || exit 1
