#!/usr/bin/env bash
# Simulation speed against a plain int8 GEMM over the same MACs, all on one core, in one run:
#   tools/bench.sh [MSQSIM] [CONFIG] [REPEATS]
# Prints the reference time, the whole-process times of `msqsim run` with --no-verify and with
# verification, and their ratios to the reference (best of REPEATS interleaved runs; default 3).
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
# The kernel variant in use (MSQSIM_ISA or the widest the CPU runs); the reference uses the same.
kernels=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get('kernels', 'unknown'))" "$tmp/r.json")

# Seconds of one run of a command (wall clock).
seconds() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" > /dev/null
  t1=$(date +%s.%N)
  python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$t0" "$t1"
}

# The machine's speed drifts from minute to minute: each repeat times the reference and both runs
# back to back, and each figure is the best of its repeats.
ref="" timing="" verified=""
min() { python3 -c "import sys; v=[float(x) for x in sys.argv[1:] if x]; print(min(v))" "$@"; }
for _ in $(seq "$repeats"); do
  r=$("${pin[@]}" "$gemm" "$macs" | cut -d' ' -f1)
  t=$(seconds "${pin[@]}" "$exe" run "$config" --no-verify)
  v=$(seconds "${pin[@]}" "$exe" run "$config")
  ref=$(min "$ref" "$r") timing=$(min "$timing" "$t") verified=$(min "$verified" "$v")
done
ref_rate=$(python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2])/1e9:.2f}')" "$macs" "$ref")
python3 - "$config" "$macs" "$ref" "$ref_rate" "$timing" "$verified" "$kernels" <<'PY'
import sys
cfg, macs, ref, rate, timing, verified = sys.argv[1], int(sys.argv[2]), *map(float, sys.argv[3:4]), sys.argv[4], float(sys.argv[5]), float(sys.argv[6])
print(f"bench: {cfg}: {macs/1e9:.3f} GMAC, one core, {sys.argv[7]} kernels, best of the runs")
print(f"bench: reference int8 GEMM over the same MACs: {ref:.3f} s ({rate} GMAC/s)")
print(f"bench: msqsim run --no-verify (timing only): {timing:.3f} s = {timing/ref:.2f}x the reference (target <= 0.25x)")
print(f"bench: msqsim run (every output verified):   {verified:.3f} s = {verified/ref:.2f}x the reference (target <= 3x)")
PY
