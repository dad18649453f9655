#!/usr/bin/env bash
# A real trained network end to end (ctest label `model`): the digits residual CNN of
# configs/models/ (tools/train_digits_onnx.py) is imported, calibrated, quantized and simulated
# with every layer verified, and its integer outputs are compared with the float network's on 100
# held-out images. The bounds are checked once with the quantizer as it is and once with a
# deliberately broken one (MSQSIM_BREAK_QUANTIZER=zero_point: biases without the input zero
# point), which must fail them: a test of the bounds themselves.
#   test_digits_resnet.sh MSQSIM SOURCE_DIR WORK_DIR
set -euo pipefail
msqsim=$1 src=$2 work=$3
mkdir -p "$work"
config=$src/configs/examples/digits_resnet.yaml
images=$src/configs/models/digits_test_images.npy
labels=$src/configs/models/digits_test_labels.npy

# Bounds: measured cosine 0.980, top-1 agreement 100% and integer accuracy 98% against the labels
# (the float network's: 98%) for the example's mix; the broken quantizer measured 0.781, 70% and
# 68%.
check='
import json, sys
r = json.load(open(sys.argv[1]))
a = r["accuracy"]
ok = a["cosine_mean"] >= 0.95 and a["top1_agreement"] >= 0.95 and a["top1_int"] >= 0.95
print("cosine %.4f, top-1 agreement %.2f, integer accuracy %.2f (float %.2f): %s" % (
      a["cosine_mean"], a["top1_agreement"], a["top1_int"], a["top1_float"],
      "within the bounds" if ok else "outside the bounds"))
sys.exit(0 if ok else 1)
'

"$msqsim" run "$config" --eval "$images" --eval-labels "$labels" --json "$work/good.json" > "$work/good.txt"
grep -q "verify: .* 0 mismatches" "$work/good.txt" || { cat "$work/good.txt"; exit 1; }
grep -q "^block.conv2 " "$work/good.txt" || { echo "the report lacks the model's layers"; exit 1; }
/usr/bin/python3 -c "$check" "$work/good.json"

MSQSIM_BREAK_QUANTIZER=zero_point "$msqsim" run "$config" --eval "$images" \
  --eval-labels "$labels" --json "$work/broken.json" > "$work/broken.txt"
if /usr/bin/python3 -c "$check" "$work/broken.json"; then
  echo "a broken quantizer passed the accuracy bounds: the bounds catch nothing"
  exit 1
fi
echo "the broken quantizer fails the bounds, as it must"
