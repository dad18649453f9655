#!/usr/bin/env bash
# Starts a private single-node Slurm cluster on this machine, for trying the sweep job array
# (tools/slurm/sweep_array.sh) and for its test, without touching any system Slurm or MUNGE:
#
#   tools/slurm/start_cluster.sh [STATE_DIR]     default: ${TMPDIR:-/tmp}/msqsim-slurm
#   export SLURM_CONF=STATE_DIR/slurm.conf       then sinfo, sbatch, squeue talk to it
#   tools/slurm/stop_cluster.sh [STATE_DIR]
#
# Everything lives in STATE_DIR: slurm.conf, a MUNGE key and its own munged socket, the daemons'
# state, logs and pid files. The ports are free ones picked at start, so several such clusters
# (other checkouts, a real slurmd on 6817/6818) do not collide. Needs root (slurmd launches jobs
# as the submitting user) and Debian's slurm-wlm and munge (tools/setup.sh installs them); runs
# without systemd (the daemons are started directly, as in a container).
#
# Idempotent: when the cluster in STATE_DIR is up and its node is idle, nothing happens.
# Otherwise whatever is left of it (a killed run) is stopped and it starts from clean state.
# When the start fails, what was started is stopped again and the logs' last lines are shown.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
die() { echo "start_cluster: $*" >&2; exit 1; }

[ $# -le 1 ] || { echo "usage: tools/slurm/start_cluster.sh [STATE_DIR]" >&2; exit 2; }
mkdir -p "${1:-${TMPDIR:-/tmp}/msqsim-slurm}" || die "cannot create the state directory ${1:-}"
state=$(cd "${1:-${TMPDIR:-/tmp}/msqsim-slurm}" && pwd)
conf=$state/slurm.conf
export SLURM_CONF=$conf

# The daemons are in /usr/sbin, which a user's PATH may lack.
export PATH=$PATH:/usr/sbin:/sbin
for cmd in munged munge slurmctld slurmd sinfo scontrol sbatch; do
  command -v "$cmd" >/dev/null 2>&1 ||
    die "'$cmd' not found: install Debian's slurm-wlm and munge (tools/setup.sh does)"
done
[ "$(id -u)" -eq 0 ] || die "must run as root: slurmd starts jobs as the submitting user"

node=$(hostname -s)
[ -n "$node" ] || die "'hostname -s' is empty: Slurm needs a host name for the node"

node_state() { timeout 10 sinfo -h -N -n "$node" -o '%T' 2>/dev/null | head -n1 || true; }

# (sinfo only when slurmctld runs: without it, sinfo retries for seconds.)
ctld_pid=$(cat "$state/ctld/slurmctld.pid" 2>/dev/null || true)
if [ -f "$conf" ] && [[ "$ctld_pid" =~ ^[0-9]+$ ]] && kill -0 "$ctld_pid" 2>/dev/null &&
   [ "$(node_state)" = idle ]; then
  echo "start_cluster: already running: export SLURM_CONF=$conf"
  exit 0
fi

# A cluster of an earlier, killed run: stop it and start from scratch (jobs are not kept).
"$here/stop_cluster.sh" "$state" >/dev/null

started=0
# shellcheck disable=SC2317 # called by the trap
on_exit() {
  [ "$started" -eq 1 ] || return 0
  echo "start_cluster: the cluster did not come up; last lines of its logs:" >&2
  for log in "$state"/daemons.out "$state"/munge/munged.log "$state"/ctld/slurmctld.log \
             "$state"/slurmd/slurmd.log; do
    [ -f "$log" ] && { echo "== $log" >&2; tail -n 15 "$log" >&2; }
  done
  # Without the marker, or stop_cluster.sh would find itself among the cluster's processes.
  env -u MSQ_SLURM_STATE "$here/stop_cluster.sh" "$state" >/dev/null 2>&1 || true
}
trap on_exit EXIT

# MUNGE's socket and slurmd's spool (which holds a socket per job step) go to a directory of
# their own, searchable by all as munged demands. A Unix socket's path has at most 107 bytes:
# for a long STATE_DIR that directory is a short one in /tmp named after it.
if [ ${#state} -le 60 ]; then
  run=$state/run
else
  run=/tmp/msqsim-slurm-$(cksum <<<"$state" | cut -d' ' -f1)
fi
rm -rf "$state/ctld" "$state/slurmd" "$state/munge"/*.{log,pid,seed} "$run"
mkdir -p "$state/munge" "$state/ctld/state" "$state/slurmd"
if ! mkdir -m 755 "$run" || ! mkdir "$run/spool"; then die "cannot create $run"; fi

# Two free TCP ports next to each other, from a start that depends on the state directory so
# that a restart usually gets the same ones. A port is free when no socket listens on it
# (/proc/net/tcp*, state 0A), read directly so that nothing beyond coreutils is needed.
listening=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
  while read -r _ local _ st _; do
    if [ "$st" = 0A ]; then echo $((16#${local##*:})); fi
  done | sort -un)
is_free() { ! grep -qx "$1" <<<"$listening"; }
port=$((20000 + $(cksum <<<"$state" | cut -d' ' -f1) % 9000))
for _ in $(seq 1000); do
  is_free "$port" && is_free $((port + 1)) && break
  port=$((port + 2 > 29998 ? 20000 : port + 2))
done
if ! is_free "$port" || ! is_free $((port + 1)); then die "no two free TCP ports in 20000..29999"; fi

# The node's hardware as slurmd itself detects it, so that slurmd does not drain the node for
# a mismatch; memory is not scheduled (CR_CPU), so jobs need not ask for any.
hw=$(slurmd -C 2>/dev/null | head -n1 | sed 's/^NodeName=[^ ]* //') ||
  hw="CPUs=$(nproc) RealMemory=$(free -m | awk '/^Mem:/ { print $2 }')"
[ -n "$hw" ] || hw="CPUs=$(nproc) RealMemory=$(free -m | awk '/^Mem:/ { print $2 }')"

tmp=$(mktemp "$conf.XXXXXX")
cat >"$tmp" <<EOF
# Written by tools/slurm/start_cluster.sh: a private single-node cluster, state in $state.
ClusterName=msqsim
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$run/munge.sock
StateSaveLocation=$state/ctld/state
SlurmctldPidFile=$state/ctld/slurmctld.pid
SlurmctldLogFile=$state/ctld/slurmctld.log
SlurmdSpoolDir=$run/spool
SlurmdPidFile=$state/slurmd/slurmd.pid
SlurmdLogFile=$state/slurmd/slurmd.log
SlurmdParameters=config_overrides
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
InactiveLimit=0
KillWait=5
MinJobAge=600
NodeName=$node NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=main Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
mv "$tmp" "$conf"
chmod 644 "$conf"

started=1
# The marker lets stop_cluster.sh find this cluster's daemons (and their job step daemons)
# when their pid files are gone.
export MSQ_SLURM_STATE=$state
key=$state/munge/munge.key
if [ ! -s "$key" ]; then
  dd if=/dev/urandom of="$key.tmp" bs=1024 count=1 status=none
  chmod 400 "$key.tmp"
  mv "$key.tmp" "$key"
fi
# The daemons get none of the caller's standard streams: ctest, for one, waits for the end of
# a test's output, which would not come while a daemon holds it. What they print before their
# log files are open goes to daemons.out.
out=$state/daemons.out
: >"$out"
munged --key-file="$key" --socket="$run/munge.sock" --pid-file="$state/munge/munged.pid" \
  --log-file="$state/munge/munged.log" --seed-file="$state/munge/munged.seed" \
  </dev/null >>"$out" 2>&1 || die "munged did not start (see $state/munge/munged.log)"
munge -S "$run/munge.sock" -n </dev/null | unmunge -S "$run/munge.sock" >/dev/null ||
  die "MUNGE does not decode its own credential"

slurmctld -f "$conf" -c </dev/null >>"$out" 2>&1 || die "slurmctld did not start (see $state/ctld/slurmctld.log)"
slurmd -f "$conf" -N "$node" </dev/null >>"$out" 2>&1 || die "slurmd did not start (see $state/slurmd/slurmd.log)"

for _ in $(seq 120); do
  s=$(node_state)
  case "$s" in
    idle) started=0
          echo "start_cluster: node $node idle ($hw), ports $port/$((port + 1))"
          echo "start_cluster: export SLURM_CONF=$conf"
          exit 0 ;;
    *drain*|*down*|*fail*|inval*)
          die "node $node is '$s': $(sinfo -h -R -o '%E' 2>/dev/null)" ;;
  esac
  sleep 0.5
done
die "node $node not idle after 60 s (state '${s:-no answer from slurmctld}')"
