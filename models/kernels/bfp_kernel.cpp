// Block floating point through the bit-sliced crossbar (bfp_kernel.h).
#include "models/kernels/bfp_kernel.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "platform/spec/slicing.h"

namespace cimsim::kernels {

int bfp_quantize(const float* x, int64_t n, int64_t stride, int mantissa_bits, int exponent_bits,
                 int8_t* m) {
  if (mantissa_bits < 2 || mantissa_bits > 8 || exponent_bits < 2 || exponent_bits > 16)
    throw InputError(fmt::format("block floating point: {}-bit mantissas, {}-bit exponents; "
                                 "expected 2..8 and 2..16", mantissa_bits, exponent_bits));
  const int e_min = -(1 << (exponent_bits - 1));
  const int e_max = (1 << (exponent_bits - 1)) - 1;
  const double m_max = static_cast<double>((1 << (mantissa_bits - 1)) - 1);
  float max_abs = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i * stride];
    if (!std::isfinite(v))
      throw InputError(fmt::format("block floating point: value {} is not finite", v));
    max_abs = std::max(max_abs, std::fabs(v));
  }
  int e = e_min;
  if (max_abs > 0.0f) {
    int frexp_e = 0;
    std::frexp(max_abs, &frexp_e);  // max_abs = f * 2^frexp_e, f in [0.5, 1)
    e = std::clamp(frexp_e - 1, e_min, e_max);
  }
  // The largest magnitude lands in [2^(M-2), 2^(M-1)): the top mantissa bit below the sign.
  const int s = e - (mantissa_bits - 2);
  for (int64_t i = 0; i < n; ++i) {
    // Clamp before the conversion: a saturating block can hold values far beyond int range.
    const double q = std::round(std::ldexp(static_cast<double>(x[i * stride]), -s));
    m[i] = static_cast<int8_t>(std::clamp(q, -m_max, m_max));
  }
  return s;
}

BfpMatrix::BfpMatrix(const ArchSpec& arch, const float* w, int64_t out_ch, int64_t K,
                     uint64_t seed_stream)
    : arch_(arch), out_ch_(out_ch), k_(K) {
  const QuantSpec& q = arch.quantization;
  if (q.bfp_block <= 0)
    throw InputError(arch.source_path + ": quantization.bfp_block = 0; block floating point "
                     "needs a block size > 0");
  if (out_ch < 1 || K < 1)
    throw InputError(fmt::format("block floating point: a {} x {} weight matrix; expected at "
                                 "least 1 x 1", out_ch, K));
  block_ = q.bfp_block;
  blocks_ = (K + block_ - 1) / block_;
  group_cols_ = derive(arch).weight_cols_per_crossbar;
  groups_ = (out_ch + group_cols_ - 1) / group_cols_;

  // Weights: per (block, output channel) one exponent over that block's K-range.
  w_mant_.assign(static_cast<size_t>(out_ch * K), 0);
  w_exp_.assign(static_cast<size_t>(blocks_ * out_ch), 0);
  for (int64_t b = 0; b < blocks_; ++b) {
    const int64_t k0 = b * block_, n = std::min(block_, K - k0);
    for (int64_t o = 0; o < out_ch; ++o)
      w_exp_[b * out_ch + o] = bfp_quantize(w + o * K + k0, n, 1, q.weight_bits,
                                            q.bfp_exponent_bits, &w_mant_[o * K + k0]);
  }
  // One tile per (block, group): rows = the block's K-range, cols = the group's channels;
  // mantissa inputs are signed codes.
  tiles_.reserve(static_cast<size_t>(blocks_ * groups_));
  for (int64_t b = 0; b < blocks_; ++b) {
    const int64_t k0 = b * block_, rows = std::min(block_, K - k0);
    for (int64_t g = 0; g < groups_; ++g) {
      const int64_t o0 = g * group_cols_, cols = std::min(group_cols_, out_ch - o0);
      TileDesc t;
      t.rows = static_cast<int32_t>(rows);
      t.cols = static_cast<int32_t>(cols);
      t.input_unsigned = false;
      t.weights.resize(static_cast<size_t>(rows * cols));
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
          t.weights[r * cols + c] = w_mant_[(o0 + c) * K + k0 + r];
      tiles_.emplace_back(arch_, t, seed_stream + static_cast<uint64_t>(tiles_.size()));
    }
  }
  x_mant_.resize(static_cast<size_t>(block_));
  part_.resize(static_cast<size_t>(group_cols_));
  acc_.resize(static_cast<size_t>(out_ch));
}

BfpMatrix::~BfpMatrix() = default;
BfpMatrix::BfpMatrix(BfpMatrix&&) noexcept = default;
BfpMatrix& BfpMatrix::operator=(BfpMatrix&&) noexcept = default;

int64_t BfpMatrix::tiles() const { return static_cast<int64_t>(tiles_.size()); }

double BfpMatrix::stored_weight(int64_t o, int64_t k) const {
  return std::ldexp(static_cast<double>(w_mant_[o * k_ + k]),
                    w_exp_[(k / block_) * out_ch_ + o]);
}

void BfpMatrix::mvm(const float* x, int64_t x_stride, float* y, MvmStats* stats) {
  const QuantSpec& q = arch_.quantization;
  std::fill(acc_.begin(), acc_.end(), 0.0);
  for (int64_t b = 0; b < blocks_; ++b) {
    const int64_t k0 = b * block_, n = std::min(block_, k_ - k0);
    const int sx = bfp_quantize(x + k0 * x_stride, n, x_stride, q.activation_bits,
                                q.bfp_exponent_bits, x_mant_.data());
    const auto* codes = reinterpret_cast<const uint8_t*>(x_mant_.data());
    for (int64_t g = 0; g < groups_; ++g) {
      ProgrammedTile& t = tiles_[b * groups_ + g];
      t.mvm(codes, part_.data(), false, stats);
      const int64_t o0 = g * group_cols_;
      for (int c = 0; c < t.cols(); ++c)
        acc_[o0 + c] +=
            std::ldexp(static_cast<double>(part_[c]), sx + w_exp_[b * out_ch_ + o0 + c]);
    }
  }
  for (int64_t o = 0; o < out_ch_; ++o) y[o] = static_cast<float>(acc_[o]);
}

void BfpMatrix::reference(const float* x, int64_t x_stride, double* y) const {
  const QuantSpec& q = arch_.quantization;
  std::vector<int8_t> xm(static_cast<size_t>(block_));
  std::fill(y, y + out_ch_, 0.0);
  for (int64_t b = 0; b < blocks_; ++b) {
    const int64_t k0 = b * block_, n = std::min(block_, k_ - k0);
    const int sx = bfp_quantize(x + k0 * x_stride, n, x_stride, q.activation_bits,
                                q.bfp_exponent_bits, xm.data());
    for (int64_t o = 0; o < out_ch_; ++o) {
      int64_t dot = 0;
      for (int64_t r = 0; r < n; ++r) dot += int64_t{xm[r]} * w_mant_[o * k_ + k0 + r];
      y[o] += std::ldexp(static_cast<double>(dot), sx + w_exp_[b * out_ch_ + o]);
    }
  }
}

}  // namespace cimsim::kernels
