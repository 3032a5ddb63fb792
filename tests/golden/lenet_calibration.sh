#!/usr/bin/env bash
# ADC calibration on the trained LeNet-5 (docs/calibration.md, docs/validation.md "ADC
# calibration"): a noisy ISAAC (4-bit ADC, read noise 6 % of the conductance range, everything
# else configs/isaac.yaml). Naive deployment = `cimsim run` on that arch; calibrated =
# `cimsim calibrate` on the 64 calibration (training) images, then `cimsim simulate` of its
# directory on the 360 held-out test images. Checks: calibrated accuracy at most 8 points below
# float and at least 20 points above naive. Several minutes of CPU (label heavy).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_cimsim run calibrate simulate
ensure_lenet
l="$GOLDEN_DIR/lenet"
out="$GOLDEN_DIR/lenet_calibration"
rm -rf "$out" && mkdir -p "$out" || fail "cannot create $out"
arch="$out/isaac_adc4_noise6.yaml"
sed -e 's/^  bits: 8 .*8-bit SAR ADC.*$/  bits: 4/' -e 's/^  read_noise_sigma: 0$/  read_noise_sigma: 0.06/' \
  "$repo_root/configs/isaac.yaml" > "$arch" || fail "cannot write $arch"
grep -q '^  bits: 4$' "$arch" && grep -q '^  read_noise_sigma: 0.06$' "$arch" ||
  fail "configs/isaac.yaml changed: the adc.bits / read_noise_sigma edits did not apply"
cimsim_or_fail run "$l/lenet5_digits.onnx" --arch "$arch" --input "$l/test_x.npy" \
  --calibration "$l/calib_x.npy" -o "$out/naive" -q > /dev/null
cimsim_or_fail calibrate "$l/lenet5_digits.onnx" --arch "$arch" --inputs "$l/calib_x.npy" -o "$out/calibrated"
cimsim_or_fail simulate "$out/calibrated" --input "$l/test_x.npy" --output "$out/calibrated_test.npy" -q > /dev/null
cat "$out/calibrated/summary.md" >&2
"$PYTHON" - "$l/lenet.json" "$l/test_y.npy" "$out/naive/output.npy" "$out/calibrated_test.npy" <<'PY' || fail "accuracy check failed"
import json, sys
import numpy as np
meta, labels, naive, cal = sys.argv[1:]
y = np.load(labels)
acc = lambda p: float((np.load(p).reshape(len(y), -1).argmax(1) == y).mean())
f, n, c = json.load(open(meta))["float_accuracy"], acc(naive), acc(cal)
print(f"test accuracy ({len(y)} images): float {f:.4f}, naive {n:.4f}, calibrated {c:.4f}", file=sys.stderr)
sys.exit(0 if c >= f - 0.08 and c >= n + 0.20 else 1)
PY
