# A one-node Slurm cluster on this machine for tests, run from one directory: its own munge
# key and socket, its own slurm.conf and ports, every file (state, spool, pids, logs) under
# that directory, nothing global touched. Source this file, then:
#
#   local_slurm_start DIR    # exports SLURM_CONF; returns once the node is idle
#   local_slurm_stop DIR     # stops the daemons by the pids they wrote (safe to repeat)
#
# Needs Debian's slurm-wlm and munge (scripts/install-slurm.sh) and root (SlurmUser=root).
# What works here is recorded in docs/CLUSTER.md ("A Slurm of your own").

local_slurm_start() {
  local dir="$1"
  local host cpus mem port
  host="$(hostname -s)"
  # nproc alone honours OMP_NUM_THREADS, which the test command sets to 1.
  cpus="$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)"
  mem="$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)"
  # Ports of our own, so that runs side by side (and any system Slurm) do not collide.
  port=$(( 20000 + ($$ * 7 + RANDOM) % 20000 ))
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool"
  chmod 700 "$dir" "$dir/munge"

  head -c 1024 /dev/urandom >"$dir/munge/munge.key"
  chmod 400 "$dir/munge/munge.key"
  munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
    --seed-file="$dir/munge/munged.seed" --force || return 1

  cat >"$dir/slurm.conf" <<EOF
ClusterName=seqrec-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
SlurmctldPort=$port
SlurmdPort=$((port + 1))
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MailProg=/bin/true
InactiveLimit=0
KillWait=30
MinJobAge=600
SlurmctldTimeout=60
SlurmdTimeout=60
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$dir/slurm.conf"
  slurmctld || return 1
  slurmd || return 1
  local _
  for _ in $(seq 120); do  # generous: a loaded machine starts the daemons slowly
    sinfo -h -o '%t' 2>/dev/null | grep -qx 'idle' && return 0
    sleep 1
  done
  echo "local_slurm: the node did not come up idle; sinfo says: $(sinfo -h -o '%t %E' 2>&1)" >&2
  return 1
}

local_slurm_stop() {
  local dir="$1" pidfile pid _
  for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
    [[ -s "$pidfile" ]] || continue
    pid="$(cat "$pidfile")"
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
}
