#!/usr/bin/env bash
# ADC offset calibration on the trained LeNet-5 (docs/calibration.md, docs/validation.md "ADC
# calibration"): the noisy ISAAC of lenet_calibration.sh (4-bit ADC, read noise 6 %) whose ADCs
# also have a systematic offset of +0.5 LSB (nonideality.adc_offset_lsb). Naive = `cimsim run`
# on that arch; "full scale only" = `cimsim calibrate` as is; "full scale + offset" = the same
# with `calibration: {adc_offset: true}`; both searched on the 64 calibration images and run
# with `cimsim simulate` on the 360 held-out test images. Checks: full scale + offset at most 8
# points below float and at least 15 points above full scale only. Minutes of CPU (label heavy).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_cimsim run calibrate simulate
ensure_lenet
l="$GOLDEN_DIR/lenet"
out="$GOLDEN_DIR/lenet_offset_calibration"
rm -rf "$out" && mkdir -p "$out" || fail "cannot create $out"
arch="$out/isaac_adc4_noise6_offset05.yaml"
sed -e 's/^  bits: 8 .*8-bit SAR ADC.*$/  bits: 4/' -e 's/^  read_noise_sigma: 0$/  read_noise_sigma: 0.06/' \
  -e 's/^  adc_offset_lsb: 0$/  adc_offset_lsb: 0.5/' "$repo_root/configs/isaac.yaml" > "$arch" ||
  fail "cannot write $arch"
grep -q '^  bits: 4$' "$arch" && grep -q '^  read_noise_sigma: 0.06$' "$arch" && grep -q '^  adc_offset_lsb: 0.5$' "$arch" ||
  fail "configs/isaac.yaml changed: the adc.bits / read_noise_sigma / adc_offset_lsb edits did not apply"
tuned="$out/isaac_adc4_noise6_offset05_tune_offset.yaml"
{ cat "$arch"; printf 'calibration:\n  adc_offset: true\n'; } > "$tuned" || fail "cannot write $tuned"
cimsim_or_fail run "$l/lenet5_digits.onnx" --arch "$arch" --input "$l/test_x.npy" \
  --calibration "$l/calib_x.npy" -o "$out/naive" -q > /dev/null
cimsim_or_fail calibrate "$l/lenet5_digits.onnx" --arch "$arch" --inputs "$l/calib_x.npy" -o "$out/full_scale"
cimsim_or_fail calibrate "$l/lenet5_digits.onnx" --arch "$tuned" --inputs "$l/calib_x.npy" -o "$out/offset"
for d in full_scale offset; do
  cimsim_or_fail simulate "$out/$d" --input "$l/test_x.npy" --output "$out/${d}_test.npy" -q > /dev/null
done
grep -q 'adc_offset_lsb: ' "$out/offset/cim-ir.yaml" || fail "$out/offset/cim-ir.yaml lists no tuned offset"
cat "$out/offset/summary.md" >&2
"$PYTHON" - "$l/lenet.json" "$l/test_y.npy" "$out/naive/output.npy" "$out/full_scale_test.npy" \
  "$out/offset_test.npy" <<'PY' || fail "accuracy check failed"
import json, sys
import numpy as np
meta, labels, naive, fs, off = sys.argv[1:]
y = np.load(labels)
acc = lambda p: float((np.load(p).reshape(len(y), -1).argmax(1) == y).mean())
f, n, a, b = json.load(open(meta))["float_accuracy"], acc(naive), acc(fs), acc(off)
print(f"test accuracy ({len(y)} images): float {f:.4f}, naive {n:.4f}, full scale only {a:.4f}, "
      f"full scale + offset {b:.4f}", file=sys.stderr)
sys.exit(0 if b >= f - 0.08 and b >= a + 0.15 else 1)
PY
