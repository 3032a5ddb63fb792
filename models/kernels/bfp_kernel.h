// Block floating point (shared-exponent) matrix-vector products through the crossbar.
//
// Contract: with quantization.bfp_block = B > 0, a float dot product of length K is cut into
// blocks of B consecutive elements. In each block the inputs share one exponent, and the B
// weights of each output channel facing them share one exponent; mantissas are signed
// integers of activation_bits / weight_bits bits (sign included, |m| <= 2^(M-1)-1, the
// symmetric codes the crossbar takes). bfp_quantize() defines the rounding. The mantissas go
// through ProgrammedTile (crossbar_kernel.h), the same bit-sliced crossbar + DAC + ADC +
// shift-and-add model integer layers use, one tile per (block, group of output channels);
// each block's integer partial sums are scaled by 2^(input exponent + weight exponent) and
// accumulated in double. With a lossless (or never-clipping) ADC and no noise the result
// equals reference() exactly: the BFP-quantized operands' exact dot products. The math is in
// docs/functional-model.md, "Block floating point".
//
// Deterministic: same arch, weights, seed and call sequence give the same bits. Bad input
// (bfp_block 0, non-finite values, sizes < 1) throws InputError.
#pragma once

#include <cstdint>
#include <vector>

#include "models/kernels/crossbar_kernel.h"
#include "platform/spec/arch.h"

namespace cimsim::kernels {

// Quantizes n values (x[i * stride]) into mantissas m[i] sharing one exponent: the largest
// magnitude's binary exponent E = floor(log2 max|x|), clamped to the exponent range
// [-2^(e-1), 2^(e-1)-1]; scale exponent s = E - (M - 2); m = clamp(round(x / 2^s)) to
// +-(2^(M-1)-1), rounding half away from zero. Returns s (value ~ m * 2^s). An all-zero block
// gets E = -2^(e-1) and zero mantissas.
int bfp_quantize(const float* x, int64_t n, int64_t stride, int mantissa_bits, int exponent_bits,
                 int8_t* m);

class BfpMatrix {
 public:
  // w: out_ch x K, row-major (row o = the weights of output channel o along the dot product).
  // `seed_stream` seeds the tiles' non-idealities (tile t of this matrix uses seed_stream + t).
  BfpMatrix(const ArchSpec& arch, const float* w, int64_t out_ch, int64_t K,
            uint64_t seed_stream);
  ~BfpMatrix();
  BfpMatrix(BfpMatrix&&) noexcept;
  BfpMatrix& operator=(BfpMatrix&&) noexcept;

  // y[o] = sum_k W[o][k] * x[k * x_stride] on the crossbar; stats (may be null) accumulates
  // the tiles' action counts.
  void mvm(const float* x, int64_t x_stride, float* y, MvmStats* stats);
  // The same BFP-quantized operands multiplied exactly (int64 mantissa dot products per block,
  // scaled in double): what mvm() returns with a lossless, noise-free crossbar.
  void reference(const float* x, int64_t x_stride, double* y) const;

  int64_t out_channels() const { return out_ch_; }
  int64_t depth() const { return k_; }
  int64_t blocks() const { return blocks_; }
  int64_t tiles() const;
  // W[o][k] as the crossbar stores it: mantissa * 2^exponent.
  double stored_weight(int64_t o, int64_t k) const;

 private:
  ArchSpec arch_;
  int64_t out_ch_ = 0, k_ = 0, block_ = 0, blocks_ = 0, group_cols_ = 0, groups_ = 0;
  std::vector<int8_t> w_mant_;   // [out_ch][K]
  std::vector<int> w_exp_;       // [block][out_ch] scale exponents
  std::vector<ProgrammedTile> tiles_;  // [block][group]
  std::vector<int8_t> x_mant_;   // scratch, one block
  std::vector<int32_t> part_;    // scratch, one group
  std::vector<double> acc_;      // scratch, out_ch
};

}  // namespace cimsim::kernels
