#!/usr/bin/env bash
# The default (portable) build on CPUs older than the build machine, as a user's laptop or a
# cluster node would run it: Debian's qemu-user emulates a CPU with AVX2 but no AVX-512 (-cpu max)
# and one at the x86-64 baseline (-cpu qemu64). Each runs a verified `msqsim run` of ResNet-18
# layers, which must pick the right kernel variant and end with 0 mismatches.
#   tests/test_isa_qemu.sh MSQSIM CONFIG
set -euo pipefail
exe=$1
config=$2
if ! command -v qemu-x86_64 >/dev/null; then
  echo "test_isa_qemu: qemu-x86_64 not found: install Debian's qemu-user (tools/setup.sh does)" >&2
  exit 1
fi
# The variant is the one the CPU picks, whatever the caller's environment asks for.
unset MSQSIM_ISA
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# check CPU VARIANT LAYERS
check() {
  local cpu=$1 want=$2 layers=$3
  # qemu warns on stderr about CPU features its emulator lacks; only msqsim's output counts.
  qemu-x86_64 -cpu "$cpu" "$exe" --version > "$tmp/version" 2> /dev/null
  if ! grep -q "^kernels: $want " "$tmp/version"; then
    echo "test_isa_qemu: -cpu $cpu: expected the $want kernels, got: $(cat "$tmp/version")" >&2
    exit 1
  fi
  local rc=0
  qemu-x86_64 -cpu "$cpu" "$exe" run "$config" --set "workload.layers=$layers" \
    --json "$tmp/r.json" > "$tmp/out" 2> "$tmp/err" || rc=$?
  if [ $rc -ne 0 ]; then
    echo "test_isa_qemu: -cpu $cpu: msqsim run exited $rc" >&2
    tail -5 "$tmp/out" "$tmp/err" >&2
    exit 1
  fi
  python3 - "$tmp/r.json" "$cpu" "$want" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
v = r["verify"]
ok = v["enabled"] and v["outputs_checked"] > 0 and v["mismatches"] == 0 and r["kernels"] == sys.argv[3]
print(f"test_isa_qemu: -cpu {sys.argv[2]}: {r['kernels']} kernels, {len(r['layers'])} layers, "
      f"{v['outputs_checked']} outputs checked, {v['mismatches']} mismatches")
sys.exit(0 if ok else 1)
PY
}

check max avx2 "[conv1, layer1.0.conv1, layer2.0.downsample, layer3.0.conv2, fc]"
check qemu64 scalar "[layer1.0.conv1, layer4.0.conv1, fc]"
