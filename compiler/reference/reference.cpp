#include "compiler/reference/reference.h"

#include "compiler/frontend/onnx_loader.h"
#include "compiler/frontend/passes.h"
#include "compiler/frontend/trained_weights.h"
#include "compiler/quant/quantizer.h"
#include "compiler/reference/float_interpreter.h"
#include "compiler/reference/integer_interpreter.h"
#include "platform/spec/arch.h"
#include "platform/spec/npy.h"

namespace cimsim {

std::vector<ir::FloatTensor> load_calibration(const std::string& npy) {
  if (npy.empty()) return {};
  NpyArray a = read_npy(npy);
  if (a.shape.size() < 2)
    throw InputError(npy + ": calibration data must have a leading batch dimension (N images), got rank " +
                     std::to_string(a.shape.size()));
  return {ir::FloatTensor{std::move(a.shape), std::move(a.data)}};
}

namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string t = "[";
  for (size_t i = 0; i < shape.size(); ++i) t += (i ? ", " : "") + std::to_string(shape[i]);
  return t + "]";
}

// The batch dimension is free; every other dimension must be the model's. Checked here so
// the message names the .npy file, not the model.
void check_input_shape(const std::string& npy, const ir::Value& input, const std::vector<int64_t>& got) {
  std::vector<int64_t> want = input.shape;
  bool ok = got.size() == want.size() && !got.empty() && got[0] >= 1;
  for (size_t i = 1; ok && i < want.size(); ++i) ok = got[i] == want[i];
  if (ok) return;
  if (!want.empty()) want[0] = -1;
  throw InputError(npy + ": input '" + input.name + "' must have shape " + shape_text(want) +
                   " (N = batch), got " + shape_text(got));
}

}  // namespace

void run_reference(const std::string& model_path, const std::string& input_npy, const std::string& output_npy,
                   const std::string& arch_path, const std::string& calibration_npy,
                   const std::string& weights_path) {
  ir::Graph g = frontend::load_onnx(model_path);
  frontend::simplify(g);
  if (!weights_path.empty()) frontend::apply_trained_weights(g, weights_path);
  if (g.inputs.size() != 1)
    throw InputError(model_path + ": the reference takes one input tensor; the model has " +
                     std::to_string(g.inputs.size()) + " inputs");
  if (g.outputs.size() != 1)
    throw InputError(model_path + ": the reference writes one output tensor; the model has " +
                     std::to_string(g.outputs.size()) + " outputs");
  NpyArray in = read_npy(input_npy);
  check_input_shape(input_npy, g.values[g.inputs[0]], in.shape);
  const std::vector<ir::FloatTensor> inputs = {ir::FloatTensor{std::move(in.shape), std::move(in.data)}};
  std::vector<ir::FloatTensor> out;
  if (arch_path.empty()) {
    if (!calibration_npy.empty())
      throw InputError(calibration_npy + ": calibration data only applies with --arch (the quantized model)");
    out = reference::run_float(g, inputs);
  } else {
    const ArchSpec arch = load_arch_spec(arch_path);
    if (arch.quantization.bfp_block > 0)
      throw InputError(arch_path + ": quantization.bfp_block > 0: the integer reference runs "
                       "integer codes; block floating point runs with `cimsim bfp-error "
                       "--model` (float interpreter + BFP crossbar kernel)");
    const q::QModel m = quant::quantize(g, arch.quantization, load_calibration(calibration_npy));
    out = reference::run_integer(m, inputs);
    // Same shape as the float model's output (the QTensor drops ranks other than 1 and 3).
    std::vector<int64_t> shape = g.values[g.outputs[0]].shape;
    if (!shape.empty() && !out[0].shape.empty()) {
      shape[0] = out[0].shape[0];
      ir::FloatTensor t{shape, {}};
      if (t.numel() == out[0].numel()) out[0].shape = shape;
    }
  }
  write_npy(output_npy, NpyArray{out[0].shape, out[0].data});
}

}  // namespace cimsim
