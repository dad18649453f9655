#!/usr/bin/env bash
# Regenerates the golden traces of tests/traces/ (README.md there). Usage, from anywhere:
#   tests/traces/regenerate.sh [BUILD_DIR]      (default: build)
# Each configs/<name>.yaml becomes <name>/ through `msqsim trace record`, except packed_drain,
# whose worst-case weights and activations the workload builder cannot produce: it is quantized
# from float weights by tools/quantize_to_trace.py, then `msqsim regress --update` records its
# cycles.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
msqsim=$build/msqsim
py=/usr/bin/python3

for cfg in "$here"/configs/*.yaml; do
  name=$(basename "$cfg" .yaml)
  case $name in golden_net | packed_drain) continue ;; esac
  "$msqsim" trace record "$cfg" --out "$here/$name"
done

# packed_drain: 8 filters of 64 x 3 x 3, all positive or all negative, |w| in [0.9, 1] of the
# row's maximum (4-bit codes 6 and 7); activations 250..255.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$py" - "$work" <<'PY'
import json, os, sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(5)
w = rng.uniform(0.9, 1.0, size=(8, 64, 3, 3)).astype(np.float32)
w[1::2] *= -1
np.save(os.path.join(d, "w.npy"), w)
np.save(os.path.join(d, "x.npy"), rng.integers(250, 256, size=(1, 64, 6, 6)).astype(np.uint8))
json.dump({"layers": [{"name": "packed", "type": "conv", "weights": "w.npy", "input": [64, 6, 6],
                       "stride": 1, "padding": 1, "calibration": "x.npy", "output": "accumulators"}]},
          open(os.path.join(d, "layers.json"), "w"))
PY
rm -rf "$here/packed_drain"
"$py" "$root/tools/quantize_to_trace.py" "$work/layers.json" --out "$here/packed_drain" \
  --sp2-fraction 0.25 --config "$here/configs/packed_drain.yaml"
"$msqsim" regress --update "$here/packed_drain"
