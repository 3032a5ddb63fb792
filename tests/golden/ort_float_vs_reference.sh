#!/usr/bin/env bash
# cimsim's float reference interpreter vs onnxruntime on MODEL: relative L2 error < 1e-4 and the
# same top-1. Usage: ort_float_vs_reference.sh MODEL   (a name known to make_models.py)
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
model="${1:?usage: $0 MODEL}"
need_ort
need_cimsim reference
ensure_model "$model"
m="$GOLDEN_DIR/models/$model"
out="$GOLDEN_DIR/ort_float_vs_reference/$model"
rm -rf "$out" && mkdir -p "$out" || fail "cannot create $out"
run_or_skip node "$golden_src/ort_run.js" "$m.onnx" "$m.input.npy" "$out/ort.npy"
cimsim_or_fail reference "$m.onnx" --input "$m.input.npy" --output "$out/reference.npy"
"$PYTHON" "$golden_src/compare.py" "$out/reference.npy" "$out/ort.npy" --max-rel-l2 1e-4 --same-top1 ||
  fail "cimsim reference differs from onnxruntime on $model"
