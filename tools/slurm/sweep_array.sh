#!/usr/bin/env bash
# Runs one sweep on a Slurm cluster: a job array of N shards (tools/slurm/sweep_shard.sbatch,
# task I writes DIR/part_I.csv) and a merge job (tools/slurm/sweep_merge.sbatch, writes
# DIR/merged.csv) that starts once every task of the array has succeeded.
#
#   tools/slurm/sweep_array.sh [--shards N] [--cpus-per-task C] [--msqsim PATH] [--wait]
#                              SWEEP.yaml DIR [-- SBATCH_OPTION...]
#
#   --shards N          array tasks (default 8); task I runs `msqsim sweep --shard I/N`
#   --cpus-per-task C   CPUs per task (default 4), also the task's `msqsim sweep --jobs`
#   --msqsim PATH       the binary the jobs run (default: $MSQSIM, else msqsim on PATH, else
#                       this checkout's build/msqsim)
#   --wait              wait for the merge job; exit 0 when it succeeded, 1 otherwise
#   -- SBATCH_OPTION... passed to both sbatch calls (--partition=..., --time=..., --account=...);
#                       sbatch's SBATCH_* environment variables work too
#
# The sweep file, DIR and the binary must be on a file system every node sees. Rerunning with
# the same DIR resumes: each task keeps the rows its part already has.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
usage() {
  echo "usage: tools/slurm/sweep_array.sh [--shards N] [--cpus-per-task C] [--msqsim PATH]" \
    "[--wait] SWEEP.yaml DIR [-- SBATCH_OPTION...]" >&2
  exit 2
}
bad() { echo "sweep_array: $*" >&2; exit 2; }

shards=8 cpus=4 msqsim=${MSQSIM:-} wait=0 pos=() extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --shards) [ $# -ge 2 ] || usage; shards=$2; shift 2 ;;
    --shards=*) shards=${1#*=}; shift ;;
    --cpus-per-task) [ $# -ge 2 ] || usage; cpus=$2; shift 2 ;;
    --cpus-per-task=*) cpus=${1#*=}; shift ;;
    --msqsim) [ $# -ge 2 ] || usage; msqsim=$2; shift 2 ;;
    --msqsim=*) msqsim=${1#*=}; shift ;;
    --wait) wait=1; shift ;;
    -h|--help) sed -n '2,19s/^# \{0,1\}//p' "$0"; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    -*) bad "unknown option '$1'" ;;
    *) pos+=("$1"); shift ;;
  esac
done
[ ${#pos[@]} -eq 2 ] || usage
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || bad "--shards: expected a positive integer, got '$shards'"
[[ "$cpus" =~ ^[1-9][0-9]*$ ]] || bad "--cpus-per-task: expected a positive integer, got '$cpus'"
[ -f "${pos[0]}" ] || bad "${pos[0]}: no such sweep file"
command -v sbatch >/dev/null 2>&1 || bad "sbatch not found: this needs a Slurm cluster"

if [ -z "$msqsim" ]; then
  msqsim=$(command -v msqsim || true)
  [ -n "$msqsim" ] || msqsim=$here/../../build/msqsim
fi
[ -x "$msqsim" ] || bad "$msqsim: not an executable msqsim (give --msqsim PATH)"

# Absolute paths: the jobs run in DIR, maybe on another node.
mkdir -p "${pos[1]}"
dir=$(cd "${pos[1]}" && pwd)
MSQSIM=$(cd "$(dirname "$msqsim")" && pwd)/$(basename "$msqsim")
SWEEP=$(cd "$(dirname "${pos[0]}")" && pwd)/$(basename "${pos[0]}")
SHARDS=$shards
export MSQSIM SWEEP SHARDS

array=$(sbatch --parsable --array="1-$SHARDS" --cpus-per-task="$cpus" --chdir="$dir" \
  --output="$dir/slurm-%A_%a.out" "${extra[@]}" "$here/sweep_shard.sbatch") || {
  echo "sweep_array: sbatch could not submit the array (for a cluster of" \
    "tools/slurm/start_cluster.sh: export SLURM_CONF=STATE_DIR/slurm.conf)" >&2
  exit 1; }
array=${array%%;*}
echo "sweep_array: job array $array: $SHARDS shards of $SWEEP, $cpus CPUs each, in $dir"

merge_opts=(--dependency="afterok:$array" --kill-on-invalid-dep=yes --chdir="$dir"
            --output="$dir/slurm-%j.out" "${extra[@]}")
if [ "$wait" -eq 0 ]; then
  merge=$(sbatch --parsable "${merge_opts[@]}" "$here/sweep_merge.sbatch")
  echo "sweep_array: merge job ${merge%%;*} (after $array) writes $dir/merged.csv"
  exit 0
fi
# sbatch --wait returns when the merge job ends, with its exit code, but with 0 when the job
# never ran because a shard failed (--kill-on-invalid-dep cancels it): the job's state decides.
merge=$(sbatch --parsable --wait "${merge_opts[@]}" "$here/sweep_merge.sbatch") && rc=0 || rc=$?
merge=${merge%%;*}
state=$(scontrol show job -o "$merge" 2>/dev/null | grep -o 'JobState=[A-Z_]*' || true)
if [ "$rc" -eq 0 ] && [ "$state" = JobState=COMPLETED ]; then
  echo "sweep_array: merge job $merge done: $dir/merged.csv"
else
  echo "sweep_array: the sweep failed (merge job ${merge:-?}: ${state:-exit $rc});" \
    "see $dir/slurm-*.out" >&2
  exit 1
fi
