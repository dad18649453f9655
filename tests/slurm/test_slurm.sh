#!/usr/bin/env bash
# ctest slurm.sweep_array (label slurm): a real Slurm run of a sharded sweep.
#
#   tests/slurm/test_slurm.sh MSQSIM WORK_DIR
#
# Starts a private single-node cluster (tools/slurm/start_cluster.sh, state in WORK_DIR/cluster),
# runs tests/slurm/small_sweep.yaml (12 points, timing only) as README.md's Slurm section does
# (tools/slurm/sweep_array.sh: a job array of 3 shards plus a merge job with
# --dependency=afterok), runs the same sweep unsharded, and compares:
#   - merged.csv and its .pareto.csv / .best.csv are byte-identical to the unsharded sweep's
#     (both are sorted by point id; docs/sweeps.md promises byte identity);
#   - each part_I.csv holds exactly the points with id % 3 == I - 1, and the parts' rows sorted
#     by id are the unsharded rows (so the merge joined three real shards, each run by its own
#     array task);
#   - the merge job started after the last array task had ended.
# Fails (never skips) without Slurm, MUNGE or root. A cluster left over by a killed run is
# stopped first; the cluster is stopped again at the end.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: tests/slurm/test_slurm.sh MSQSIM WORK_DIR" >&2; exit 2; }
src=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "test_slurm: FAIL: $*" >&2; exit 1; }

[ -x "$1" ] || fail "$1: no msqsim binary"
msqsim=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
mkdir -p "$2"
work=$(cd "$2" && pwd)
state=$work/cluster
shards=3

# ctest's RESOURCE_LOCK keeps one ctest from running this twice at once. (No lock file: the
# processes a killed run leaves behind would hold it.)
"$src/tools/slurm/stop_cluster.sh" "$state"
trap '"$src/tools/slurm/stop_cluster.sh" "$state" || true' EXIT
"$src/tools/slurm/start_cluster.sh" "$state" || fail "the Slurm cluster did not start"
export SLURM_CONF=$state/slurm.conf

run=$work/run
rm -rf "$run"
mkdir -p "$run"
sweep=$src/tests/slurm/small_sweep.yaml

# What README.md's Slurm section shows, with this cluster's sizes.
"$src/tools/slurm/sweep_array.sh" --shards "$shards" --cpus-per-task 1 --msqsim "$msqsim" \
  --wait "$sweep" "$run/array" | tee "$run/sweep_array.log" || {
  for f in "$run"/array/slurm-*.out; do [ -f "$f" ] && { echo "== $f"; cat "$f"; }; done
  fail "the Slurm sweep failed"
}
array=$(sed -n 's/^sweep_array: job array \([0-9]*\):.*/\1/p' "$run/sweep_array.log")
merge=$(sed -n 's/^sweep_array: merge job \([0-9]*\) done.*/\1/p' "$run/sweep_array.log")
if [ -z "$array" ] || [ -z "$merge" ]; then fail "no job ids in sweep_array.sh's output"; fi

(cd "$run" && "$msqsim" sweep "$sweep" --jobs 2 --out unsharded.csv >unsharded.log 2>&1) ||
  fail "the unsharded sweep failed: $(tail -n 3 "$run/unsharded.log")"

rows=$(($(wc -l <"$run/unsharded.csv") - 1))
[ "$rows" -eq 12 ] || fail "the unsharded sweep has $rows rows, expected 12"

for suffix in csv pareto.csv best.csv; do
  cmp "$run/array/merged.$suffix" "$run/unsharded.$suffix" || {
    diff "$run/array/merged.$suffix" "$run/unsharded.$suffix" | head -n 20
    fail "merged.$suffix differs from the unsharded sweep's"
  }
done

for i in $(seq "$shards"); do
  part=$run/array/part_$i.csv
  [ -f "$run/array/slurm-${array}_$i.out" ] || fail "array task $i left no Slurm output"
  ids=$(tail -n +2 "$part" | cut -d, -f1 | tr '\n' ' ')
  want=$(seq $((i - 1)) "$shards" $((rows - 1)) | tr '\n' ' ')
  [ "$ids" = "$want" ] || fail "part_$i.csv has the ids '$ids', expected '$want'"
done
# shellcheck disable=SC2046 # one file name per word (part_*.csv would take the summaries too)
tail -q -n +2 $(seq -f "$run/array/part_%g.csv" "$shards") | sort -t, -k1,1n >"$run/parts_sorted.csv"
tail -n +2 "$run/unsharded.csv" | cmp - "$run/parts_sorted.csv" ||
  fail "the parts' rows, sorted by id, are not the unsharded sweep's rows"

# Times have a resolution of one second; ISO 8601 strings compare as times.
last_end=$(scontrol show job -o "$array" | grep -o 'EndTime=[^ ]*' | cut -d= -f2 | sort | tail -n1)
tasks=$(scontrol show job -o "$array" | grep -c 'ArrayTaskId=')
merge_start=$(scontrol show job -o "$merge" | grep -o 'StartTime=[^ ]*' | cut -d= -f2)
[ "$tasks" -eq "$shards" ] || fail "the array had $tasks tasks, expected $shards"
[[ ! "$merge_start" < "$last_end" ]] ||
  fail "the merge job started at $merge_start, before the last shard ended at $last_end"

echo "test_slurm: ok: array $array ($shards tasks) and merge job $merge (started $merge_start," \
  "last shard ended $last_end); merged.csv = unsharded.csv, $rows rows"
