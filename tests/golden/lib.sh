# Shared helpers for the golden-reference test scripts (sourced, not run).
#
# Environment (set by tests/golden/CMakeLists.txt; defaults for running by hand from the repo):
#   CIMSIM          the cimsim binary                  (build/bin/cimsim)
#   GOLDEN_DIR      where generated models/data go     (build/golden)
#   CIMSIM_ORT_DIR  folder holding node_modules/onnxruntime-node (build/ort)
#   PYTHON          a python with numpy/torch/onnx     (/usr/bin/python3)
# Exit convention: 77 = skip (an optional tool is missing, or cimsim lacks a subcommand);
# any other non-zero = failure. A cimsim that runs but errors or gives wrong numbers fails.

golden_src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$golden_src/../.." && pwd)"
CIMSIM="${CIMSIM:-$repo_root/build/bin/cimsim}"
GOLDEN_DIR="${GOLDEN_DIR:-$repo_root/build/golden}"
PYTHON="${PYTHON:-/usr/bin/python3}"
export CIMSIM_ORT_DIR="${CIMSIM_ORT_DIR:-$repo_root/build/ort}"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1

skip() { echo "SKIP: $*" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# Runs a command that may report "unavailable" with 77: propagates a skip, fails otherwise.
run_or_skip() {
  "$@"
  local rc=$?
  [[ $rc -eq 77 ]] && skip "$1 reports a missing optional tool"
  [[ $rc -ne 0 ]] && fail "$* exited with $rc"
  return 0
}

need_cimsim() {
  [[ -x "$CIMSIM" ]] || fail "cimsim binary not found at $CIMSIM"
  local sub
  for sub in "$@"; do
    "$CIMSIM" "$sub" --help >/dev/null 2>&1 || skip "$CIMSIM has no '$sub' subcommand yet"
  done
}

need_ort() { run_or_skip bash "$golden_src/ort_available.sh" --install; }

# ensure_model NAME: GOLDEN_DIR/models/NAME.{onnx,input.npy,torch.npy}, generated once (locked
# so that tests running in parallel do not export the same model twice).
ensure_model() {
  mkdir -p "$GOLDEN_DIR/models" || fail "cannot create $GOLDEN_DIR/models"
  (
    flock 9
    "$PYTHON" "$golden_src/make_models.py" "$GOLDEN_DIR/models" "$1"
  ) 9>"$GOLDEN_DIR/models/.$1.lock"
  local rc=$?
  [[ $rc -eq 77 ]] && skip "torch/torchvision/onnx missing for make_models.py"
  [[ $rc -ne 0 ]] && fail "make_models.py $1 exited with $rc"
  return 0
}

# ensure_lenet: GOLDEN_DIR/lenet/{lenet5_digits.onnx,test_x.npy,test_y.npy,calib_x.npy,lenet.json}
ensure_lenet() {
  mkdir -p "$GOLDEN_DIR/lenet" || fail "cannot create $GOLDEN_DIR/lenet"
  (
    flock 9
    "$PYTHON" "$golden_src/train_lenet.py" "$GOLDEN_DIR/lenet"
  ) 9>"$GOLDEN_DIR/lenet/.lock"
  local rc=$?
  [[ $rc -eq 77 ]] && skip "torch/onnx/sklearn missing for train_lenet.py (scripts/setup --optional)"
  [[ $rc -ne 0 ]] && fail "train_lenet.py exited with $rc"
  return 0
}

# cimsim_or_fail ARGS...: runs cimsim; any non-zero exit is a failure that names the exit code's
# meaning (docs/cli.md).
cimsim_or_fail() {
  echo "+ cimsim $*" >&2
  "$CIMSIM" "$@"
  local rc=$?
  case $rc in
    0) return 0 ;;
    1) fail "cimsim $1 rejected the input (exit 1)" ;;
    2) fail "cimsim $1: usage error (exit 2)" ;;
    3) fail "cimsim $1: internal error (exit 3)" ;;
    *) fail "cimsim $1 exited with $rc" ;;
  esac
}
