// Random-matrix error of block floating point vs float (bfp_study.h).
#include "models/kernels/bfp_study.h"

#include <fmt/format.h>

#include <cmath>
#include <random>

#include "models/kernels/bfp_kernel.h"

namespace cimsim::kernels {

BfpError bfp_random_error(const ArchSpec& base, int block, int mantissa_bits, int64_t out_ch,
                          int64_t K, int vectors, uint64_t seed) {
  ArchSpec arch = base;
  arch.quantization.bfp_block = block;
  arch.quantization.weight_bits = mantissa_bits;
  arch.quantization.activation_bits = mantissa_bits;
  if (block > arch.crossbar.rows)
    throw InputError(fmt::format("bfp-error: block {} exceeds crossbar.rows = {} of {}", block,
                                 arch.crossbar.rows, base.source_path));
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(static_cast<size_t>(out_ch * K));
  for (float& v : w) v = normal(rng);
  std::vector<float> x(static_cast<size_t>(K));
  std::vector<float> y(static_cast<size_t>(out_ch));
  std::vector<double> yr(static_cast<size_t>(out_ch));
  BfpMatrix m(arch, w.data(), out_ch, K, seed);
  double err2 = 0, ref_err2 = 0, f2 = 0, y2 = 0, dot = 0;
  for (int v = 0; v < vectors; ++v) {
    for (float& e : x) e = normal(rng);
    m.mvm(x.data(), 1, y.data(), nullptr);
    m.reference(x.data(), 1, yr.data());
    for (int64_t o = 0; o < out_ch; ++o) {
      double f = 0;
      for (int64_t k = 0; k < K; ++k) f += double(w[o * K + k]) * x[k];
      err2 += (y[o] - f) * (y[o] - f);
      ref_err2 += (yr[o] - f) * (yr[o] - f);
      f2 += f * f;
      y2 += double(y[o]) * y[o];
      dot += y[o] * f;
    }
  }
  BfpError e;
  e.relative_error = std::sqrt(err2 / f2);
  e.reference_relative_error = std::sqrt(ref_err2 / f2);
  e.cosine = dot / std::sqrt(f2 * y2);
  return e;
}

std::string bfp_error_table(const ArchSpec& base, const std::vector<int>& mantissa_bits,
                            const std::vector<int>& blocks, int64_t out_ch, int64_t K,
                            int vectors, uint64_t seed) {
  std::string out = fmt::format(
      "Random Gaussian W ({} x {}) and {} input vectors, seed {}, crossbar of {} ({} rows, "
      "{}-bit cells, {}-bit DAC, {}-bit ADC {}{}).\n\n"
      "| mantissa bits | block | relative error (crossbar) | cosine (crossbar) | relative "
      "error (exact BFP) |\n|---|---|---|---|---|\n",
      out_ch, K, vectors, seed, base.source_path, base.crossbar.rows, base.crossbar.cell_bits,
      base.dac.bits, base.adc.bits,
      base.adc.range == AdcRangePolicy::kLsbAligned  ? "lsb_aligned"
      : base.adc.range == AdcRangePolicy::kWorstCase ? "worst_case"
                                                     : "calibrated",
      base.adc.lossless ? ", lossless" : "");
  for (int mb : mantissa_bits)
    for (int b : blocks) {
      const BfpError e = bfp_random_error(base, b, mb, out_ch, K, vectors, seed);
      out += fmt::format("| {} | {} | {:.3e} | {:.6f} | {:.3e} |\n", mb, b, e.relative_error,
                         e.cosine, e.reference_relative_error);
    }
  return out;
}

}  // namespace cimsim::kernels
