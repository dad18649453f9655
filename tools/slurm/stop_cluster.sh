#!/usr/bin/env bash
# Stops the private Slurm cluster that tools/slurm/start_cluster.sh started in STATE_DIR
# (default ${TMPDIR:-/tmp}/msqsim-slurm): cancels its jobs, then stops slurmd, slurmctld and
# munged. Safe to run when nothing is running, and after a killed run whose pid files are lost:
# the daemons are then found by the marker start_cluster.sh put in their environment, never by
# their name (a system Slurm on the same machine is left alone). Logs stay in STATE_DIR;
# `rm -rf STATE_DIR` removes everything.
set -euo pipefail

[ $# -le 1 ] || { echo "usage: tools/slurm/stop_cluster.sh [STATE_DIR]" >&2; exit 2; }
dir=${1:-${TMPDIR:-/tmp}/msqsim-slurm}
[ -d "$dir" ] || { echo "stop_cluster: nothing to stop ($dir does not exist)"; exit 0; }
state=$(cd "$dir" && pwd)
export SLURM_CONF=$state/slurm.conf

# A zombie is dead: a container's init may never reap the daemons it inherited.
alive() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }
living() { local p; for p in "$@"; do if alive "$p"; then echo "$p"; fi; done; }

# The pid in a pid file when it is alive and its command line names the state directory (the
# pid of a dead daemon may belong to an unrelated process by now).
daemon() {
  local pid
  pid=$(cat "$state/$1" 2>/dev/null) || return 0
  if [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" &&
     tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "$state/"; then
    echo "$pid"
  fi
}

# Jobs first, while slurmctld can still cancel them: their processes are not the daemons'.
# (Only when slurmctld runs: without it, squeue would retry for seconds.)
if [ -n "$(daemon ctld/slurmctld.pid)" ] && [ -f "$SLURM_CONF" ] &&
   jobs=$(timeout 10 squeue -h -o '%A' 2>/dev/null) && [ -n "$jobs" ]; then
  # shellcheck disable=SC2086 # one job id per word
  timeout 10 scancel $jobs 2>/dev/null || true
  for _ in $(seq 20); do
    [ -z "$(timeout 5 squeue -h -o '%A' 2>/dev/null)" ] && break
    sleep 0.5
  done
fi

# This cluster's processes: its daemons by their pid files, and every process with this state
# directory's marker in its environment (daemons whose pid files are lost, slurmstepd).
ours() {
  local f pid
  for f in slurmd/slurmd.pid ctld/slurmctld.pid munge/munged.pid; do daemon "$f"; done
  for f in /proc/[0-9]*/environ; do
    pid=${f#/proc/}; pid=${pid%/environ}
    [ "$pid" = "$$" ] && continue
    if tr '\0' '\n' 2>/dev/null <"$f" | grep -qxF "MSQ_SLURM_STATE=$state"; then echo "$pid"; fi
  done
}

# shellcheck disable=SC2046 # one pid per word
pids=$(living $(ours | sort -un))
if [ -z "$pids" ]; then
  echo "stop_cluster: nothing running in $state"
  exit 0
fi
# shellcheck disable=SC2086
kill -TERM $pids 2>/dev/null || true
for _ in $(seq 40); do
  # shellcheck disable=SC2086
  left=$(living $pids)
  [ -z "$left" ] && break
  sleep 0.25
done
if [ -n "$left" ]; then
  # shellcheck disable=SC2086
  kill -KILL $left 2>/dev/null || true
  sleep 0.5
fi
rm -f "$state"/slurmd/slurmd.pid "$state"/ctld/slurmctld.pid "$state"/munge/munged.pid
echo "stop_cluster: stopped $(wc -w <<<"$pids") processes of $state"
