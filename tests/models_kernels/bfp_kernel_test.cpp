// Block floating point through the crossbar (models/kernels/bfp_kernel.h): quantization rules,
// exactness where the math says so, and error bounds vs float on random matrices.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "models/kernels/bfp_kernel.h"
#include "models/kernels/bfp_study.h"
#include "models/kernels/crossbar_kernel.h"

namespace cimsim::kernels {
namespace {

ArchSpec bfp_arch(int block, int mantissa_bits, bool lossless, const std::string& adc = "") {
  return parse_arch_spec(
      "chip: {cores: 1}\n"
      "crossbar: {rows: 128, cols: 128, cell_bits: 2}\n"
      "adc: {bits: 8, lossless: " + std::string(lossless ? "true" : "false") + adc + "}\n"
      "quantization: {bfp_block: " + std::to_string(block) + ", weight_bits: " +
          std::to_string(mantissa_bits) + ", activation_bits: " + std::to_string(mantissa_bits) +
          "}\n",
      "bfp.yaml");
}

TEST(BfpQuantize, SharedExponentOfTheLargestMagnitude) {
  const float x[] = {1.0f, -0.5f, 0.25f, 0.0f};
  int8_t m[4];
  // max |x| = 1 = 2^0: E = 0, s = 0 - (8 - 2) = -6, mantissas x * 64.
  EXPECT_EQ(bfp_quantize(x, 4, 1, 8, 8, m), -6);
  EXPECT_EQ(m[0], 64);
  EXPECT_EQ(m[1], -32);
  EXPECT_EQ(m[2], 16);
  EXPECT_EQ(m[3], 0);
  // Rounding half away from zero at 4 bits: max 1.75 -> E = 0, s = -2, 0.375 * 4 = 1.5 -> 2.
  const float y[] = {1.75f, 0.375f, -0.375f};
  EXPECT_EQ(bfp_quantize(y, 3, 1, 4, 8, m), -2);
  EXPECT_EQ(m[0], 7);
  EXPECT_EQ(m[1], 2);
  EXPECT_EQ(m[2], -2);
  // Strided reads.
  const float z[] = {3.0f, 99.0f, -3.0f, 99.0f};
  EXPECT_EQ(bfp_quantize(z, 2, 2, 8, 8, m), -5);  // E = 1
  EXPECT_EQ(m[0], 96);
  EXPECT_EQ(m[1], -96);
}

TEST(BfpQuantize, ExponentRangeSaturatesAndUnderflows) {
  int8_t m[2];
  // 4 exponent bits: E in [-8, 7]. 2^20 clamps to E = 7: mantissas saturate at 127.
  const float big[] = {1048576.0f, -1048576.0f};
  EXPECT_EQ(bfp_quantize(big, 2, 1, 8, 4, m), 7 - 6);
  EXPECT_EQ(m[0], 127);
  EXPECT_EQ(m[1], -127);
  // 2^-12 clamps up to E = -8: s = -14, 2^-12 * 2^14 = 4.
  const float tiny[] = {1.0f / 4096, 0.0f};
  EXPECT_EQ(bfp_quantize(tiny, 2, 1, 8, 4, m), -14);
  EXPECT_EQ(m[0], 4);
  const float zeros[] = {0.0f, 0.0f};
  EXPECT_EQ(bfp_quantize(zeros, 2, 1, 8, 4, m), -8 - 6);
  EXPECT_EQ(m[0], 0);
  const float bad[] = {NAN, 1.0f};
  EXPECT_THROW(bfp_quantize(bad, 2, 1, 8, 8, m), InputError);
}

// Every block has the same exponents (each holds a code of magnitude 64..127 and values are
// codes * 2^s), so BFP is exactly the integer crossbar scaled by 2^(sx + sw): the same path.
TEST(BfpMatrix, EqualExponentsEqualTheIntegerCrossbar) {
  const int K = 96, N = 20, B = 32;
  for (bool lossless : {true, false}) {
    const ArchSpec arch = bfp_arch(B, 8, lossless);
    std::mt19937_64 rng(5);
    std::uniform_int_distribution<int> code(-127, 127);
    std::vector<int8_t> wq(static_cast<size_t>(N * K)), xq(K);
    for (auto& v : wq) v = static_cast<int8_t>(code(rng));
    for (auto& v : xq) v = static_cast<int8_t>(code(rng));
    for (int b = 0; b < K / B; ++b) {
      xq[b * B] = 127;
      for (int o = 0; o < N; ++o) wq[o * K + b * B + 1] = -100;
    }
    const int sx = -3, sw = 2;  // values = code * 2^s
    std::vector<float> w(wq.size()), x(K);
    for (size_t i = 0; i < w.size(); ++i) w[i] = std::ldexp(float(wq[i]), sw);
    for (int k = 0; k < K; ++k) x[k] = std::ldexp(float(xq[k]), sx);
    BfpMatrix m(arch, w.data(), N, K, 1);
    EXPECT_EQ(m.blocks(), 3);
    std::vector<float> y(N);
    MvmStats bfp_stats;
    m.mvm(x.data(), 1, y.data(), &bfp_stats);
    // The integer path: one tile per block of the same codes, partial sums added.
    std::vector<int64_t> yint(N, 0);
    MvmStats int_stats;
    for (int b = 0; b < K / B; ++b) {
      TileDesc t;
      t.rows = B;
      t.cols = N;
      t.input_unsigned = false;
      for (int r = 0; r < B; ++r)
        for (int o = 0; o < N; ++o) t.weights.push_back(wq[o * K + b * B + r]);
      ProgrammedTile tile(arch, t, 1 + b);
      std::vector<int32_t> part(N);
      tile.mvm(reinterpret_cast<const uint8_t*>(xq.data() + b * B), part.data(), false,
               &int_stats);
      for (int o = 0; o < N; ++o) yint[o] += part[o];
    }
    for (int o = 0; o < N; ++o)
      EXPECT_EQ(y[o], std::ldexp(float(yint[o]), sx + sw)) << "lossless " << lossless << " " << o;
    EXPECT_EQ(bfp_stats.adc_conversions, int_stats.adc_conversions);
    EXPECT_EQ(bfp_stats.adc_saturations, int_stats.adc_saturations);
  }
}

// Lossless ADC: the crossbar returns the exact dot products of the BFP mantissas.
TEST(BfpMatrix, LosslessCrossbarEqualsExactBfp) {
  std::mt19937_64 rng(9);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int mb : {4, 6, 8})
    for (int block : {8, 16, 128}) {
      const ArchSpec arch = bfp_arch(block, mb, true);
      const int K = 200, N = 70;  // partial last block, two column groups (64 + 6)
      std::vector<float> w(N * K), x(K);
      for (auto& v : w) v = normal(rng);
      for (auto& v : x) v = normal(rng) * 3.0f;
      BfpMatrix m(arch, w.data(), N, K, 3);
      std::vector<float> y(N);
      std::vector<double> yr(N);
      m.mvm(x.data(), 1, y.data(), nullptr);
      m.reference(x.data(), 1, yr.data());
      for (int o = 0; o < N; ++o)
        EXPECT_EQ(y[o], static_cast<float>(yr[o])) << mb << " b, block " << block << ", " << o;
      // stored_weight is the dequantized BFP weight: within half a mantissa LSB of w.
      const double lsb = std::ldexp(1.0, -(mb - 2));  // relative to the block's 2^E
      EXPECT_LE(std::fabs(m.stored_weight(0, 0) - w[0]), 0.5 * lsb * 8.0);
    }
}

// Error vs float on random Gaussian matrices: bounded, shrinking with mantissa bits and with
// smaller blocks. Bounds: a uniform rounding error of half an LSB, LSB = 2^(E-M+2) with 2^E
// up to the block's max |x| (about 2.5 sigma for 16 Gaussians), gives ~2^-(M-1) relative
// error per operand; the bounds allow 2x that for the product of two quantized operands.
TEST(BfpMatrix, RandomMatrixErrorBounds) {
  const ArchSpec base = bfp_arch(16, 8, true);
  const double bound[] = {0, 0, 0, 0, 0.25, 0, 0.06, 0, 0.016};
  double prev = 1.0;
  for (int mb : {4, 6, 8}) {
    const BfpError e = bfp_random_error(base, 16, mb, 64, 256, 8, 1);
    EXPECT_LT(e.relative_error, bound[mb]) << mb;
    EXPECT_GT(e.cosine, 1.0 - bound[mb] * bound[mb]) << mb;
    EXPECT_LT(e.relative_error, prev) << mb;
    EXPECT_EQ(e.relative_error, e.reference_relative_error);  // lossless: crossbar == exact
    prev = e.relative_error;
  }
  // A smaller block tracks the local magnitude: lower error at 4 bits.
  EXPECT_LT(bfp_random_error(base, 8, 4, 64, 256, 8, 1).relative_error,
            bfp_random_error(base, 128, 4, 64, 256, 8, 1).relative_error);
}

// A lossy ADC (worst-case range, 4 bits) runs on the mantissas too: the crossbar result now
// differs from the exact BFP product and its error is larger.
TEST(BfpMatrix, LossyAdcIsOnThePath) {
  std::string adc = ", range: worst_case";
  ArchSpec lossy = bfp_arch(32, 8, false, adc);
  lossy.adc.bits = 4;
  const BfpError e = bfp_random_error(lossy, 32, 8, 32, 128, 4, 2);
  EXPECT_GT(e.relative_error, 2 * e.reference_relative_error);
}

// docs/validation.md's random-matrix tables are the current output of `cimsim bfp-error`.
TEST(BfpMatrix, DocsTablesAreCurrent) {
  std::ifstream in(std::string(CIMSIM_SOURCE_DIR) + "/docs/validation.md");
  ASSERT_TRUE(in);
  std::stringstream buf;
  buf << in.rdbuf();
  ArchSpec tiny = load_arch_spec(std::string(CIMSIM_SOURCE_DIR) + "/configs/tiny.yaml");
  tiny.source_path = "configs/tiny.yaml";  // as the documented command names it
  EXPECT_NE(buf.str().find(bfp_error_table(tiny, {4, 6, 8}, {8, 16, 32}, 64, 256, 16, 1)),
            std::string::npos)
      << "stale: rerun `cimsim bfp-error --arch configs/tiny.yaml --mantissa-bits 4,6,8 "
         "--blocks 8,16,32` (docs/validation.md)";
  ArchSpec worst = load_arch_spec(std::string(CIMSIM_SOURCE_DIR) + "/configs/isaac.yaml");
  worst.adc.range = AdcRangePolicy::kWorstCase;
  worst.source_path = "/tmp/isaac_worst_case.yaml";
  EXPECT_NE(buf.str().find(bfp_error_table(worst, {4, 6, 8}, {16, 64, 128}, 64, 256, 16, 1)),
            std::string::npos)
      << "stale: the worst-case ISAAC table of docs/validation.md";
}

TEST(BfpMatrix, BadInput) {
  ArchSpec arch = bfp_arch(16, 8, true);
  arch.quantization.bfp_block = 0;
  const float w[] = {1.0f};
  EXPECT_THROW(BfpMatrix(arch, w, 1, 1, 0), InputError);
  EXPECT_THROW(parse_arch_spec("chip: {cores: 1}\ncrossbar: {rows: 32, cols: 32, cell_bits: 2}\n"
                               "adc: {bits: 8}\nquantization: {bfp_block: 64}\n",
                               "bfp.yaml"),
               InputError);  // block larger than the crossbar
}

}  // namespace
}  // namespace cimsim::kernels
