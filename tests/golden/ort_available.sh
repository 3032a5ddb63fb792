#!/usr/bin/env bash
# Checks that node and onnxruntime-node work here: exit 0 if they do, 77 if not (CTest's
# SKIP_RETURN_CODE), printing why. The check runs a one-node ONNX model (Relu on [-1, 2]) and
# verifies the numbers, so a package whose native binding cannot load counts as unavailable.
#
# Usage: ort_available.sh [--install]
#   onnxruntime-node is looked up in $CIMSIM_ORT_DIR/node_modules (default: ./build/ort under
#   the repository). --install first runs, if it is missing there,
#     npm install --prefix "$CIMSIM_ORT_DIR" --ignore-scripts onnxruntime-node@$CIMSIM_ORT_VERSION
#   (default version 1.30.0). The package ships its Linux x64 CPU binary
#   (bin/napi-v6/linux/x64/onnxruntime_binding.node + libonnxruntime.so.1); its install script
#   only fetches optional CUDA libraries, so --ignore-scripts loses nothing on a CPU machine.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
ort_dir="${CIMSIM_ORT_DIR:-$root/build/ort}"
version="${CIMSIM_ORT_VERSION:-1.30.0}"

unavailable() { echo "onnxruntime unavailable: $*" >&2; exit 77; }

command -v node >/dev/null 2>&1 || unavailable "node is not installed (apt-get install nodejs npm)"

if [[ "${1:-}" == "--install" && ! -f "$ort_dir/node_modules/onnxruntime-node/package.json" ]]; then
  command -v npm >/dev/null 2>&1 || unavailable "npm is not installed (apt-get install npm)"
  mkdir -p "$ort_dir" || unavailable "cannot create $ort_dir"
  # Serialise concurrent installs from tests running in parallel.
  (
    flock 9
    if [[ ! -f "$ort_dir/node_modules/onnxruntime-node/package.json" ]]; then
      echo "installing onnxruntime-node@$version into $ort_dir" >&2
      # Bounded: without a registry, a skip within minutes beats a test timeout.
      timeout 240 npm install --prefix "$ort_dir" --ignore-scripts --no-audit --no-fund \
        --loglevel=error --fetch-retries=1 --fetch-timeout=60000 "onnxruntime-node@$version" >&2
    fi
  ) 9>"$ort_dir/.install.lock" || unavailable "npm install onnxruntime-node@$version failed"
fi

[[ -f "$ort_dir/node_modules/onnxruntime-node/package.json" ]] ||
  unavailable "onnxruntime-node not installed in $ort_dir (run $0 --install)"

# Relu over a [2] float tensor, opset 13, IR version 7 (written by onnx.helper, checked).
relu_model_b64='CAc6MwoMCgF4EgF5IgRSZWx1EgF0Wg8KAXgSCgoICAESBAoCCAJiDwoBeRIKCggIARIECgIIAkIECgAQDQ=='
out=$(cd "$ort_dir" && ORT_MODEL="$relu_model_b64" node -e '
const ort = require("onnxruntime-node");
(async () => {
  const s = await ort.InferenceSession.create(Buffer.from(process.env.ORT_MODEL, "base64"));
  const r = await s.run({ x: new ort.Tensor("float32", Float32Array.from([-1, 2]), [2]) });
  const y = Array.from(r.y.data);
  if (y.length !== 2 || y[0] !== 0 || y[1] !== 2) throw new Error("Relu([-1, 2]) gave " + y);
  console.log(require("onnxruntime-node/package.json").version);
})().catch((e) => { console.error(e.message); process.exit(1); });
' 2>&1) || unavailable "onnxruntime-node in $ort_dir does not run: $out"
echo "onnxruntime-node $out works (node $(node --version), $ort_dir)"
exit 0
