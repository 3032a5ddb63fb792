#!/usr/bin/env bash
# The two independent references agree: onnxruntime on the exported MODEL vs torch's own output
# recorded at export (relative L2 < 1e-5, same top-1). Checks the golden chain itself (export,
# .npy reading/writing in ort_run.js), without cimsim. Usage: ort_vs_torch.sh MODEL
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
model="${1:?usage: $0 MODEL}"
need_ort
ensure_model "$model"
m="$GOLDEN_DIR/models/$model"
out="$GOLDEN_DIR/ort_vs_torch/$model"
rm -rf "$out" && mkdir -p "$out" || fail "cannot create $out"
run_or_skip node "$golden_src/ort_run.js" "$m.onnx" "$m.input.npy" "$out/ort.npy"
"$PYTHON" "$golden_src/compare.py" "$out/ort.npy" "$m.torch.npy" --max-rel-l2 1e-5 --same-top1 ||
  fail "onnxruntime and torch disagree on $model"
