#!/usr/bin/env bash
# Self-test of compare.py and accuracy.py: they must pass what is right, fail what is wrong, and
# reject bad files, with values computed here independently (numpy, by construction).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
"$PYTHON" -c 'import numpy' 2>/dev/null || skip "numpy missing for $PYTHON"
t="$(mktemp -d)"
trap 'rm -rf "$t"' EXIT
"$PYTHON" - "$t" <<'PY' || fail "cannot write test tensors"
import sys, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(0)
ref = rng.standard_normal((4, 10)).astype(np.float32)
ref[np.arange(4), [3, 1, 4, 1]] += 10.0                   # decisive top-1 per sample: 3 1 4 1
np.save(f"{d}/ref.npy", ref)
np.save(f"{d}/same.npy", ref.copy())
np.save(f"{d}/ulp.npy", np.nextafter(ref, np.float32(np.inf)))          # 1 ulp off everywhere
np.save(f"{d}/close.npy", (ref * 1.001).astype(np.float32))              # cosine 1, rel L2 1e-3
noisy = ref.copy(); noisy[2] = rng.standard_normal(10).astype(np.float32)  # one sample wrong
np.save(f"{d}/noisy.npy", noisy)
flip = ref.copy(); flip[0, 3], flip[0, 5] = flip[0, 5], flip[0, 3]       # sample 0 argmax moves
np.save(f"{d}/flip.npy", flip)
nan = ref.copy(); nan[1, 1] = np.nan
np.save(f"{d}/nan.npy", nan)
np.save(f"{d}/f64.npy", ref.astype(np.float64))
np.save(f"{d}/short.npy", ref[:3])
np.save(f"{d}/labels.npy", np.array([3, 1, 4, 2], np.float32))          # 3 of 4 right: 0.75
np.save(f"{d}/badlabels.npy", np.array([3, 1, 4, 10], np.float32))
np.save(f"{d}/fraclabels.npy", np.array([3, 1, 4, 1.5], np.float32))
PY
cmp_py="$golden_src/compare.py"
acc_py="$golden_src/accuracy.py"
expect() {  # expect CODE CMD...: CMD must exit with CODE
  local want=$1; shift
  "$@" >"$t/out" 2>&1
  local rc=$?
  [[ $rc -eq $want ]] || { cat "$t/out" >&2; fail "expected exit $want, got $rc: ${*##*/}"; }
}
expect 0 "$PYTHON" "$cmp_py" "$t/same.npy" "$t/ref.npy" --max-abs 0 --min-cosine 0.999999 --same-top1
expect 1 "$PYTHON" "$cmp_py" "$t/ulp.npy" "$t/ref.npy" --max-abs 0
expect 0 "$PYTHON" "$cmp_py" "$t/ulp.npy" "$t/ref.npy" --max-rel-l2 1e-6 --min-cosine 0.999999
expect 0 "$PYTHON" "$cmp_py" "$t/close.npy" "$t/ref.npy" --min-cosine 0.9999 --max-rel-l2 1.1e-3
expect 1 "$PYTHON" "$cmp_py" "$t/close.npy" "$t/ref.npy" --max-rel-l2 0.9e-3
expect 1 "$PYTHON" "$cmp_py" "$t/noisy.npy" "$t/ref.npy" --min-cosine 0.98
expect 1 "$PYTHON" "$cmp_py" "$t/flip.npy" "$t/ref.npy" --same-top1
grep -q "top-1 agreement 0.7500" "$t/out" || fail "flip: expected top-1 agreement 0.75: $(cat "$t/out")"
expect 2 "$PYTHON" "$cmp_py" "$t/nan.npy" "$t/ref.npy"
expect 2 "$PYTHON" "$cmp_py" "$t/f64.npy" "$t/ref.npy"
expect 2 "$PYTHON" "$cmp_py" "$t/short.npy" "$t/ref.npy"
expect 2 "$PYTHON" "$cmp_py" "$t/missing.npy" "$t/ref.npy"
expect 0 "$PYTHON" "$acc_py" "$t/ref.npy" "$t/labels.npy" --min 0.75
grep -q "top-1 accuracy 0.7500 (3/4)" "$t/out" || fail "accuracy: expected 0.7500 (3/4): $(cat "$t/out")"
expect 1 "$PYTHON" "$acc_py" "$t/ref.npy" "$t/labels.npy" --min 0.76
expect 2 "$PYTHON" "$acc_py" "$t/ref.npy" "$t/badlabels.npy"
expect 2 "$PYTHON" "$acc_py" "$t/ref.npy" "$t/fraclabels.npy"
expect 2 "$PYTHON" "$acc_py" "$t/short.npy" "$t/labels.npy"
echo "compare.py and accuracy.py self-test passed"
