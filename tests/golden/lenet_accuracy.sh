#!/usr/bin/env bash
# `cimsim run` of the trained LeNet-5 on the whole digits test split (one batch) on ARCH
# (default configs/isaac.yaml): top-1 accuracy at most 2 points below the float accuracy
# recorded by train_lenet.py. Calibration: 64 training images, never test images.
# Usage: lenet_accuracy.sh [ARCH.yaml]
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
arch="${1:-$repo_root/configs/isaac.yaml}"
need_cimsim run
ensure_lenet
l="$GOLDEN_DIR/lenet"
out="$GOLDEN_DIR/lenet_accuracy/$(basename "$arch" .yaml)"
rm -rf "$out" && mkdir -p "$out" || fail "cannot create $out"
cimsim_or_fail run "$l/lenet5_digits.onnx" --arch "$arch" --input "$l/test_x.npy" \
  --calibration "$l/calib_x.npy" -o "$out/run" -q
[[ -f "$out/run/output.npy" ]] || fail "cimsim run wrote no $out/run/output.npy"
min=$("$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["float_accuracy"] - 0.02 - 1e-9)' \
  "$l/lenet.json") || fail "cannot read $l/lenet.json"
echo "float accuracy $(cat "$l/lenet.json" | tr -d '\n ')" >&2
"$PYTHON" "$golden_src/accuracy.py" "$out/run/output.npy" "$l/test_y.npy" --min "$min" ||
  fail "LeNet accuracy on $(basename "$arch") is more than 2 points below float"
