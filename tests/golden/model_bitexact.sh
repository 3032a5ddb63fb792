#!/usr/bin/env bash
# `cimsim run` of a torchvision MODEL on ARCH (default configs/ideal.yaml: lossless ADC, no
# noise) vs `cimsim reference --arch ARCH` (the exact integer model), same calibration: the
# outputs must be identical (max abs diff 0). Needs torch only to generate the model.
# Usage: model_bitexact.sh MODEL [ARCH.yaml]
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
model="${1:?usage: $0 MODEL [ARCH.yaml]}"
arch="${2:-$repo_root/configs/ideal.yaml}"
need_cimsim run reference
ensure_model "$model"
m="$GOLDEN_DIR/models/$model"
out="$GOLDEN_DIR/model_bitexact/$model-$(basename "$arch" .yaml)"
rm -rf "$out" && mkdir -p "$out" || fail "cannot create $out"
cimsim_or_fail run "$m.onnx" --arch "$arch" --input "$m.input.npy" --calibration "$m.input.npy" \
  -o "$out/run" -q
[[ -f "$out/run/output.npy" ]] || fail "cimsim run wrote no $out/run/output.npy"
cimsim_or_fail reference "$m.onnx" --arch "$arch" --input "$m.input.npy" \
  --calibration "$m.input.npy" --output "$out/reference.npy"
"$PYTHON" "$golden_src/compare.py" "$out/run/output.npy" "$out/reference.npy" --max-abs 0 ||
  fail "cimsim run of $model on $(basename "$arch") is not bit-exact to the integer reference"
