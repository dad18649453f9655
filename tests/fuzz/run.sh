#!/usr/bin/env bash
# Runs every fuzz harness of BUILD_DIR (built by tools/setup.sh fuzz) for SECONDS each, starting
# from its seed corpus in tests/fuzz/corpus/NAME. New inputs go to BUILD_DIR/fuzz-corpus/NAME
# (the seeds in the repository are never modified), a crashing input to
# BUILD_DIR/fuzz-artifacts/NAME/. Runs JOBS harnesses at a time (default: number of cores).
# Exit 1 if any harness found something; its log is printed.
#   tests/fuzz/run.sh BUILD_DIR [SECONDS] [NAME...]
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:?usage: tests/fuzz/run.sh BUILD_DIR [SECONDS] [NAME...]}
secs=${2:-20}
shift $(( $# < 2 ? $# : 2 ))
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(config network sweep npy trace energy onnx)
jobs=${JOBS:-$(nproc)}

run_one() {
  local name=$1 exe="$build/fuzz_$1" corpus="$build/fuzz-corpus/$1" art="$build/fuzz-artifacts/$1/"
  mkdir -p "$corpus" "$art"
  # The bad-input cases of the test suite (tests/bad_inputs, named by loader) are seeds too.
  local f
  for f in tests/bad_inputs/"$name"_*; do
    if [ -f "$f" ]; then cp "$f" "$corpus/"
    elif [ -f "$f/trace.yaml" ]; then cp "$f/trace.yaml" "$corpus/$(basename "$f").yaml"
    fi
  done
  # -timeout: one input taking seconds is a finding (the loaders read small files in
  # milliseconds); -rss_limit_mb/-malloc_limit_mb: an input that makes the loader allocate
  # gigabytes is a finding too, reported with the allocation's stack.
  "$exe" "$corpus" "tests/fuzz/corpus/$name" -max_total_time="$secs" -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=1024 -artifact_prefix="$art" -print_final_stats=1 \
    > "$build/fuzz-$name.log" 2>&1
  echo $? > "$build/fuzz-$name.rc"
}

failed=()
for name in "${names[@]}"; do
  [ -x "$build/fuzz_$name" ] || { echo "fuzz: $build/fuzz_$name is not built" >&2; exit 2; }
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  echo "fuzz: $name for ${secs}s"
  rm -f "$build/fuzz-$name.rc"
  run_one "$name" &
done
wait
for name in "${names[@]}"; do
  if [ "$(cat "$build/fuzz-$name.rc" 2>/dev/null)" = 0 ]; then
    runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$build/fuzz-$name.log" | grep -o '[0-9]*$')
    echo "fuzz: $name clean (${runs:-?} inputs)"
  else
    failed+=("$name")
    echo "fuzz: $name FOUND A PROBLEM (inputs in $build/fuzz-artifacts/$name/):"
    grep -v -E '^#[0-9]+|^INFO:|^MS:|^\s*$' "$build/fuzz-$name.log" | head -40
  fi
done
[ ${#failed[@]} -eq 0 ] || { echo "fuzz: findings in: ${failed[*]}" >&2; exit 1; }
