#!/usr/bin/env bash
# `cimsim run` of MODEL on configs/isaac.yaml vs onnxruntime's float output: cosine >= 0.98 on
# every batch element and the same top-1. Calibration uses the input itself (one image).
# Usage: ort_cimsim_run.sh MODEL [CHIPS]
#   CHIPS > 1 runs on isaac.yaml with the chip replicated CHIPS times (scale_chip.py), for
#   networks whose weights do not fit on one ISAAC chip (alexnet, vgg16).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
model="${1:?usage: $0 MODEL [CHIPS]}"
chips="${2:-1}"
need_ort
need_cimsim run
ensure_model "$model"
m="$GOLDEN_DIR/models/$model"
out="$GOLDEN_DIR/ort_cimsim_run/$model"
rm -rf "$out" && mkdir -p "$out" || fail "cannot create $out"
arch="$repo_root/configs/isaac.yaml"
if [[ "$chips" != 1 ]]; then
  "$PYTHON" "$golden_src/scale_chip.py" "$arch" "$chips" "$out/isaac-x$chips.yaml" ||
    fail "cannot derive a $chips-chip isaac.yaml"
  arch="$out/isaac-x$chips.yaml"
fi
run_or_skip node "$golden_src/ort_run.js" "$m.onnx" "$m.input.npy" "$out/ort.npy"
cimsim_or_fail run "$m.onnx" --arch "$arch" --input "$m.input.npy" --calibration "$m.input.npy" \
  -o "$out/run" -q
[[ -f "$out/run/output.npy" ]] || fail "cimsim run wrote no $out/run/output.npy"
"$PYTHON" "$golden_src/compare.py" "$out/run/output.npy" "$out/ort.npy" --min-cosine 0.98 --same-top1 ||
  fail "cimsim run on $(basename "$arch") differs from onnxruntime on $model"
