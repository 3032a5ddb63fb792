#!/usr/bin/env bash
# `cimsim run` of the trained LeNet-5 on ARCH (default configs/ideal.yaml: lossless ADC, no
# noise) vs `cimsim reference --arch ARCH` (the exact integer model), same calibration: the
# outputs must be identical (max abs diff 0). Usage: lenet_bitexact.sh [ARCH.yaml]
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
arch="${1:-$repo_root/configs/ideal.yaml}"
need_cimsim run reference
ensure_lenet
l="$GOLDEN_DIR/lenet"
out="$GOLDEN_DIR/lenet_bitexact/$(basename "$arch" .yaml)"
rm -rf "$out" && mkdir -p "$out" || fail "cannot create $out"
cimsim_or_fail run "$l/lenet5_digits.onnx" --arch "$arch" --input "$l/test_x.npy" \
  --calibration "$l/calib_x.npy" -o "$out/run" -q
[[ -f "$out/run/output.npy" ]] || fail "cimsim run wrote no $out/run/output.npy"
cimsim_or_fail reference "$l/lenet5_digits.onnx" --arch "$arch" --input "$l/test_x.npy" \
  --calibration "$l/calib_x.npy" --output "$out/reference.npy"
"$PYTHON" "$golden_src/compare.py" "$out/run/output.npy" "$out/reference.npy" --max-abs 0 ||
  fail "cimsim run on $(basename "$arch") is not bit-exact to the integer reference"
"$PYTHON" "$golden_src/accuracy.py" "$out/reference.npy" "$l/test_y.npy"
