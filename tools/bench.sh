#!/usr/bin/env bash
# Simulation speed against a plain int8 GEMM over the same MACs, all on one core, in one run:
#   tools/bench.sh [MSQSIM] [CONFIG] [REPEATS]
# Prints the reference time, the whole-process times of `msqsim run` with --no-verify and with
# verification, and their ratios to the reference (best of REPEATS runs each; default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
exe=${1:-build/msqsim}
config=${2:-configs/examples/default.yaml}
repeats=${3:-3}
gemm=$(dirname "$exe")/msqsim_bench_gemm
pin=(taskset -c 0)
command -v taskset >/dev/null || pin=()

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$exe" run "$config" --no-verify --json "$tmp/r.json" > /dev/null
macs=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['total']['macs'])" "$tmp/r.json")

best() {  # best wall time of a command, in seconds
  local b=""
  for _ in $(seq "$repeats"); do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" > /dev/null
    t1=$(date +%s.%N)
    b=$(python3 -c "import sys; t=float(sys.argv[2])-float(sys.argv[1]); b=sys.argv[3]; print(t if b=='' or t<float(b) else b)" "$t0" "$t1" "$b")
  done
  echo "$b"
}

ref=$(for _ in $(seq "$repeats"); do "${pin[@]}" "$gemm" "$macs" | cut -d' ' -f1; done | sort -g | head -1)
ref_rate=$(python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2])/1e9:.2f}')" "$macs" "$ref")
timing=$(best "${pin[@]}" "$exe" run "$config" --no-verify)
verified=$(best "${pin[@]}" "$exe" run "$config")
python3 - "$config" "$macs" "$ref" "$ref_rate" "$timing" "$verified" <<'PY'
import sys
cfg, macs, ref, rate, timing, verified = sys.argv[1], int(sys.argv[2]), *map(float, sys.argv[3:4]), sys.argv[4], float(sys.argv[5]), float(sys.argv[6])
print(f"bench: {cfg}: {macs/1e9:.3f} GMAC, one core, best of the runs")
print(f"bench: reference int8 GEMM over the same MACs: {ref:.3f} s ({rate} GMAC/s)")
print(f"bench: msqsim run --no-verify (timing only): {timing:.3f} s = {timing/ref:.2f}x the reference (target <= 0.25x)")
print(f"bench: msqsim run (every output verified):   {verified:.3f} s = {verified/ref:.2f}x the reference (target <= 3x)")
PY
