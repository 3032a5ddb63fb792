// ADC range policies: DESIGN.md's accuracy claims, ISAAC's weight flip, calibrated range,
// ADC offset and gain error.
#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "models/kernels/crossbar_kernel.h"
#include "platform/spec/slicing.h"
#include "tests/models_kernels/kernel_reference.h"

namespace cimsim::kernel_test {
namespace {

std::vector<int64_t> run(ProgrammedTile& tile, const std::vector<uint8_t>& in,
                         MvmStats* stats = nullptr) {
  std::vector<int32_t> out(tile.cols(), 0);
  tile.mvm(in.data(), out.data(), false, stats);
  return std::vector<int64_t>(out.begin(), out.end());
}

// Relative L2 error ||y - y_exact|| / ||y_exact|| over random 128-row tiles (uniform 8-bit
// unsigned inputs, uniform signed 8-bit weights), and the error the uniform-quantization
// model predicts for it: each conversion adds an independent error of variance step^2/12,
// weighted by its shift-and-add factor column_weight(p) * 2^(k d).
struct ErrorMeasure {
  double measured = 0, predicted = 0;
};

ErrorMeasure relative_error(const ArchSpec& arch, int tiles, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int bw = arch.quantization.weight_bits, cb = arch.crossbar.cell_bits;
  const auto enc = arch.crossbar.encoding;
  const int cells = slicing::cells_per_weight(bw, cb, enc);
  const int steps = slicing::input_steps(arch.quantization.activation_bits, arch.dac.bits);
  const double step = 128.0 * ((1 << arch.dac.bits) - 1) * ((1 << cb) - 1) /
                      double((1 << arch.adc.bits) - 1);
  double factor2 = 0;  // sum over conversions of one weight column of (shift-add weight)^2
  for (int s = 0; s < cells; ++s)
    for (int k = 0; k < steps; ++k)
      factor2 += std::pow(double(slicing::column_weight(s, bw, cb, enc)) *
                              std::ldexp(1.0, k * arch.dac.bits), 2);
  double err2 = 0, ref2 = 0;
  int64_t outputs = 0;
  for (int t = 0; t < tiles; ++t) {
    const TileDesc desc = random_tile(arch, 128, 128 / cells, true, rng);
    ProgrammedTile tile(arch, desc, 1);
    for (int i = 0; i < 4; ++i) {
      const auto in = random_inputs(arch, 128, true, rng);
      const auto got = run(tile, in);
      const auto want = naive_dot(desc, in);
      for (size_t c = 0; c < got.size(); ++c) {
        err2 += double(got[c] - want[c]) * double(got[c] - want[c]);
        ref2 += double(want[c]) * double(want[c]);
        ++outputs;
      }
    }
  }
  return {std::sqrt(err2 / ref2), std::sqrt(double(outputs) * factor2 * step * step / 12 / ref2)};
}

// DESIGN.md says a worst-case full scale gives "about 38 %" relative error here. With this
// model's definitions (rounding ADC, relative L2 error of the outputs) the error is a few
// percent, and agrees with the quantization-noise prediction; see docs/functional-model.md.
TEST(KernelAdc, WorstCaseFullScaleLosesAccuracyLsbAlignedDoesNot) {
  for (auto enc : {WeightEncoding::kOffset, WeightEncoding::kDifferential}) {
    ArchParams p;
    p.encoding = enc;
    p.range = AdcRangePolicy::kWorstCase;
    const ErrorMeasure worst = relative_error(make_arch(p), 8, 7);
    p.range = AdcRangePolicy::kLsbAligned;
    const ErrorMeasure aligned8 = relative_error(make_arch(p), 8, 7);
    p.adc_bits = 9;  // 128 x 3 x 1 = 384 < 512: never clips
    const ErrorMeasure aligned9 = relative_error(make_arch(p), 8, 7);
    std::printf("%s encoding, 128 rows, 2-bit cells, 1-bit DAC: worst-case 8-bit ADC relative "
                "error %.4f (quantization-noise prediction %.4f); lsb-aligned 8-bit %.6f, "
                "9-bit %.6f\n",
                enc == WeightEncoding::kOffset ? "offset" : "differential", worst.measured,
                worst.predicted, aligned8.measured, aligned9.measured);
    // The prediction assumes errors uniform over a step and independent; integer column sums
    // quantized with a step of 1.5 deviate a little from that, so allow +-30 %.
    EXPECT_GT(worst.measured, 0.7 * worst.predicted);
    EXPECT_LT(worst.measured, 1.3 * worst.predicted);
    EXPECT_GT(worst.measured, 0.01);
    EXPECT_EQ(aligned9.measured, 0.0);
    EXPECT_LT(aligned8.measured, 0.2 * worst.measured);
  }
}

TEST(KernelAdc, WorstCaseAndCalibratedMatchTheReference) {
  std::mt19937_64 rng(8);
  for (auto range : {AdcRangePolicy::kWorstCase, AdcRangePolicy::kCalibrated}) {
    for (float fs : {0.0f, 200.0f, 255.0f}) {
      ArchParams p;
      p.range = range;
      const ArchSpec arch = make_arch(p);
      TileDesc desc = random_tile(arch, 128, 32, false, rng);
      desc.adc_full_scale = fs;
      ProgrammedTile tile(arch, desc, 1);
      EXPECT_EQ(tile.path(), MvmPath::kBitPlane);
      for (int i = 0; i < 3; ++i) {
        const auto in = random_inputs(arch, 128, false, rng);
        MvmStats stats;
        const auto got = run(tile, in, &stats);
        int64_t ref_sat = 0;
        const auto want = reference_mvm(arch, desc, in, &ref_sat);
        // Both sum decoded doubles, in different orders: the final rounding may differ by one.
        for (size_t c = 0; c < got.size(); ++c) ASSERT_LE(std::llabs(got[c] - want[c]), 1);
        EXPECT_EQ(stats.adc_saturations, ref_sat);
        // A calibrated full scale of 255 codes over 255 levels is the lsb-aligned ADC.
        if (range == AdcRangePolicy::kCalibrated && fs == 255.0f) {
          ArchParams q;
          ProgrammedTile aligned(make_arch(q), desc, 1);
          EXPECT_EQ(got, run(aligned, in));
        }
      }
    }
  }
}

TEST(KernelAdc, OffsetAndGainErrorMatchTheReference) {
  std::mt19937_64 rng(9);
  for (auto range : {AdcRangePolicy::kLsbAligned, AdcRangePolicy::kWorstCase}) {
    ArchParams p;
    p.range = range;
    p.dac_bits = 2;
    ArchSpec arch = make_arch(p);
    arch.nonideality.adc_offset_lsb = 0.4;
    arch.nonideality.adc_gain_error = -0.03;
    const TileDesc desc = random_tile(arch, 128, 32, true, rng);
    ProgrammedTile tile(arch, desc, 1);
    EXPECT_EQ(tile.path(), MvmPath::kBitPlane);
    const auto in = random_inputs(arch, 128, true, rng);
    int64_t ref_sat = 0;
    const auto want = reference_mvm(arch, desc, in, &ref_sat);
    const auto got = run(tile, in);
    for (size_t c = 0; c < got.size(); ++c) ASSERT_LE(std::llabs(got[c] - want[c]), 1);
    EXPECT_NE(got, naive_dot(desc, in));
  }
}

// TileDesc::adc_offset_lsb is subtracted from every conversion, next to the device's
// nonideality.adc_offset_lsb, on every range policy and both non-exact paths; the exact path
// is used only when both are 0; a correction equal to the device offset undoes it exactly.
TEST(KernelAdc, TileOffsetCorrectionMatchesThePerStepReference) {
  std::mt19937_64 rng(10);
  for (auto range : {AdcRangePolicy::kLsbAligned, AdcRangePolicy::kWorstCase, AdcRangePolicy::kCalibrated}) {
    for (double device : {0.0, 0.5}) {
      for (float correction : {0.5f, -0.25f, 0.875f}) {
        SCOPED_TRACE(::testing::Message() << "range " << static_cast<int>(range) << " device " << device
                                        << " correction " << correction);
        ArchParams p;
        p.range = range;
        p.adc_bits = 6;  // clips at lsb_aligned: saturation counts matter too
        ArchSpec arch = make_arch(p);
        arch.nonideality.adc_offset_lsb = device;
        TileDesc desc = random_tile(arch, 96, 24, (static_cast<int>(range) + 1) % 2 == 0, rng);
        if (range == AdcRangePolicy::kCalibrated) desc.adc_full_scale = 300.0f;
        desc.adc_offset_lsb = correction;
        for (MvmPath path : {MvmPath::kBitPlane, MvmPath::kAnalog}) {
          ProgrammedTile tile(arch, desc, 1);
          EXPECT_EQ(tile.path(), MvmPath::kBitPlane);
          tile.force_path(path);
          for (int i = 0; i < 2; ++i) {
            const auto in = random_inputs(arch, desc.rows, desc.input_unsigned, rng);
            MvmStats stats;
            const auto got = run(tile, in, &stats);
            int64_t ref_sat = 0;
            const auto want = reference_mvm(arch, desc, in, &ref_sat);
            for (size_t c = 0; c < got.size(); ++c) ASSERT_LE(std::llabs(got[c] - want[c]), 1) << c;
            EXPECT_EQ(stats.adc_saturations, ref_sat);
          }
        }
      }
    }
  }
  // The correction alone leaves the exact path (it changes results) ...
  ArchParams p;
  p.adc_bits = 12;  // never clips: without offsets this tile is exact
  const ArchSpec ideal = make_arch(p);
  TileDesc desc = random_tile(ideal, 64, 16, true, rng);
  EXPECT_EQ(ProgrammedTile(ideal, desc, 1).path(), MvmPath::kExact);
  desc.adc_offset_lsb = 0.75f;
  ProgrammedTile corrected(ideal, desc, 1);
  EXPECT_EQ(corrected.path(), MvmPath::kBitPlane);
  const auto in = random_inputs(ideal, 64, true, rng);
  EXPECT_NE(run(corrected, in), naive_dot(desc, in));
  // ... and a correction equal to the device's offset cancels it bit for bit.
  ArchSpec offset_arch = ideal;
  offset_arch.nonideality.adc_offset_lsb = 0.75;
  ProgrammedTile cancelled(offset_arch, desc, 1);
  EXPECT_EQ(run(cancelled, in), naive_dot(desc, in));
  desc.adc_offset_lsb = 0.0f;
  ProgrammedTile uncorrected(offset_arch, desc, 1);
  EXPECT_NE(run(uncorrected, in), naive_dot(desc, in));
}

// ISAAC: 128 rows x 2-bit cells x 1-bit inputs can reach 384 per column (9 bits); with the
// weight flip no column sum exceeds 128 * 3 / 2 = 192, so 8 bits never clip.
std::vector<TileDesc> adversarial_tiles(const ArchSpec& arch, std::mt19937_64& rng) {
  std::vector<TileDesc> tiles;
  for (int kind = 0; kind < 5; ++kind) {
    TileDesc t = random_tile(arch, 128, 32, true, rng);
    for (int r = 0; r < 128; ++r)
      for (int c = 0; c < 32; ++c) {
        int8_t& w = t.weights[size_t(r) * 32 + c];
        if (kind == 1) w = 127;                          // every level 3
        if (kind == 2) w = -127;                         // u = 1: levels 1, 0, 0, 0
        if (kind == 3) w = (r < 64 + c) ? 127 : -127;    // column sums around half scale
        if (kind == 4) w = static_cast<int8_t>(r % 2 ? 127 : 63);
      }
    tiles.push_back(t);
  }
  return tiles;
}

TEST(KernelAdc, IsaacWeightFlipNeverSaturatesAtEightBits) {
  ArchParams p;
  p.flip = true;
  const ArchSpec arch = make_arch(p);
  std::mt19937_64 rng(10);
  for (const TileDesc& desc : adversarial_tiles(arch, rng)) {
    ProgrammedTile tile(arch, desc, 1);
    EXPECT_EQ(tile.path(), MvmPath::kExact);
    tile.force_path(MvmPath::kBitPlane);
    for (int i = 0; i < 4; ++i) {
      auto in = random_inputs(arch, 128, true, rng);
      if (i == 0) std::fill(in.begin(), in.end(), 255);
      MvmStats stats;
      EXPECT_EQ(run(tile, in, &stats), naive_dot(desc, in));
      EXPECT_EQ(stats.adc_saturations, 0);
    }
  }
}

TEST(KernelAdc, WithoutFlipEightBitsSaturateAndNineBitsAreExact) {
  ArchParams p;
  std::mt19937_64 rng(10);
  int64_t saturations_8 = 0;
  for (const TileDesc& desc : adversarial_tiles(make_arch(p), rng)) {
    p.adc_bits = 8;
    ProgrammedTile tile8(make_arch(p), desc, 1);
    p.adc_bits = 9;
    ProgrammedTile tile9(make_arch(p), desc, 1);
    EXPECT_EQ(tile9.path(), MvmPath::kExact);
    tile9.force_path(MvmPath::kBitPlane);
    const std::vector<uint8_t> in(128, 255);
    MvmStats s8, s9;
    run(tile8, in, &s8);
    EXPECT_EQ(run(tile9, in, &s9), naive_dot(desc, in));
    EXPECT_EQ(s9.adc_saturations, 0);
    saturations_8 += s8.adc_saturations;
  }
  // The all-127 tile alone clips all 128 columns in all 8 steps.
  EXPECT_GE(saturations_8, 128 * 8);
}

}  // namespace
}  // namespace cimsim::kernel_test
