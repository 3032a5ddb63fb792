// BFP network error through the float interpreter's weight-product hook (bfp_network.h).
#include "platform/bfp/bfp_network.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "compiler/frontend/onnx_loader.h"
#include "compiler/frontend/passes.h"
#include "compiler/reference/float_interpreter.h"
#include "compiler/reference/float_kernels.h"
#include "models/kernels/bfp_kernel.h"
#include "models/kernels/bfp_study.h"
#include "platform/spec/npy.h"

namespace cimsim::bfp {
namespace {

// Restores the previous hook on scope exit (also when a layer throws).
class ScopedWeightProduct {
 public:
  explicit ScopedWeightProduct(reference::WeightProduct f)
      : prev_(reference::set_weight_product(std::move(f))) {}
  ~ScopedWeightProduct() { reference::set_weight_product(std::move(prev_)); }
  ScopedWeightProduct(const ScopedWeightProduct&) = delete;
  ScopedWeightProduct& operator=(const ScopedWeightProduct&) = delete;

 private:
  reference::WeightProduct prev_;
};

}  // namespace

NetworkError bfp_network_error(const std::string& model_path, const std::string& input_npy,
                               const ArchSpec& arch) {
  if (arch.quantization.bfp_block <= 0)
    throw InputError(arch.source_path + ": quantization.bfp_block = 0; expected a block size");
  ir::Graph g = frontend::load_onnx(model_path);
  frontend::simplify(g);
  if (g.inputs.size() != 1 || g.outputs.size() != 1)
    throw InputError(model_path + ": expected one input and one output");
  NpyArray in = read_npy(input_npy);
  const std::vector<ir::FloatTensor> inputs = {
      ir::FloatTensor{std::move(in.shape), std::move(in.data)}};
  const std::vector<ir::FloatTensor> want = reference::run_float(g, inputs);

  NetworkError e;
  uint64_t seed = arch.nonideality.seed;
  std::vector<ir::FloatTensor> got;
  {
    ScopedWeightProduct hook([&](int64_t M, int64_t P, int64_t K, const float* W,
                                 const float* X, float* Y) {
      kernels::BfpMatrix m(arch, W, M, K, seed);
      seed += static_cast<uint64_t>(m.tiles());
      ++e.weight_products;
      std::vector<float> y(static_cast<size_t>(M));
      for (int64_t p = 0; p < P; ++p) {
        m.mvm(X + p, P, y.data(), nullptr);
        for (int64_t o = 0; o < M; ++o) Y[o * P + p] = y[o];
      }
    });
    got = reference::run_float(g, inputs);
  }
  const auto& a = got[0].data;
  const auto& b = want[0].data;
  double err2 = 0, f2 = 0, y2 = 0, dot = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    err2 += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    f2 += double(b[i]) * b[i];
    y2 += double(a[i]) * a[i];
    dot += double(a[i]) * b[i];
  }
  e.relative_error = f2 > 0 ? std::sqrt(err2 / f2) : std::sqrt(err2);
  e.cosine = f2 > 0 && y2 > 0 ? dot / std::sqrt(f2 * y2) : 1.0;
  const auto& shape = want[0].shape;
  e.samples = shape.empty() ? 1 : shape[0];
  const int64_t per = static_cast<int64_t>(b.size()) / std::max<int64_t>(1, e.samples);
  for (int64_t s = 0; s < e.samples && per > 0; ++s) {
    auto ia = std::max_element(a.begin() + s * per, a.begin() + (s + 1) * per);
    auto ib = std::max_element(b.begin() + s * per, b.begin() + (s + 1) * per);
    e.top1_agree += (ia - a.begin()) == (ib - b.begin());
  }
  return e;
}

std::string bfp_network_table(const std::string& model_path, const std::string& input_npy,
                              const ArchSpec& base, const std::vector<int>& mantissa_bits,
                              const std::vector<int>& blocks) {
  std::string out = fmt::format(
      "{} on {} through {} (Conv/Gemm weight products in BFP on the crossbar, the rest in "
      "float).\n\n| mantissa bits | block | relative error | cosine | top-1 agrees with float "
      "| weight products |\n|---|---|---|---|---|---|\n",
      model_path, input_npy, base.source_path);
  for (int mb : mantissa_bits)
    for (int b : blocks) {
      ArchSpec arch = base;
      arch.quantization.bfp_block = b;
      arch.quantization.weight_bits = mb;
      arch.quantization.activation_bits = mb;
      const NetworkError e = bfp_network_error(model_path, input_npy, arch);
      out += fmt::format("| {} | {} | {:.3e} | {:.6f} | {} / {} | {} |\n", mb, b,
                         e.relative_error, e.cosine, e.top1_agree, e.samples, e.weight_products);
    }
  return out;
}

std::string error_report(const ReportOptions& o) {
  const ArchSpec base = load_arch_spec(o.arch_path);
  if (o.model_path.empty() != o.input_npy.empty())
    throw InputError("bfp-error: --model and --input go together");
  for (int mb : o.mantissa_bits)
    if (mb < 2 || mb > 8)
      throw InputError(fmt::format("bfp-error: mantissa bits {} out of range; expected 2..8 "
                                   "(quantization.weight_bits / activation_bits)", mb));
  for (int b : o.blocks)
    if (b < 1 || b > base.crossbar.rows)
      throw InputError(fmt::format("bfp-error: block {} out of range; expected 1..{} "
                                   "(crossbar.rows of {})", b, base.crossbar.rows, o.arch_path));
  if (o.out_ch < 1 || o.depth < 1 || o.vectors < 1)
    throw InputError("bfp-error: matrix sizes and vector count must be >= 1");
  std::string out = kernels::bfp_error_table(base, o.mantissa_bits, o.blocks, o.out_ch,
                                             o.depth, o.vectors, o.seed);
  if (!o.model_path.empty())
    out += "\n" + bfp_network_table(o.model_path, o.input_npy, base, o.mantissa_bits, o.blocks);
  return out;
}

}  // namespace cimsim::bfp
