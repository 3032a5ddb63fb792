// Exact and bit-plane paths against the naive dot product and the per-step reference.
#include <gtest/gtest.h>

#include <random>
#include <string>
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

struct Combo {
  WeightEncoding enc;
  bool flip, input_unsigned;
  int cell_bits, dac_bits;
  std::string name() const {
    return std::string(enc == WeightEncoding::kOffset ? "offset" : "diff") +
           (flip ? "+flip" : "") + (input_unsigned ? " u" : " s") + " c" +
           std::to_string(cell_bits) + " d" + std::to_string(dac_bits);
  }
};

std::vector<Combo> all_combos() {
  std::vector<Combo> v;
  for (auto enc : {WeightEncoding::kOffset, WeightEncoding::kDifferential})
    for (bool flip : {false, true})
      for (bool uns : {true, false})
        for (int cb : {1, 2, 4})
          for (int d : {1, 2}) v.push_back({enc, flip, uns, cb, d});
  return v;
}

ArchParams params_for(const Combo& k) {
  ArchParams p;
  p.encoding = k.enc;
  p.flip = k.flip;
  p.cell_bits = k.cell_bits;
  p.dac_bits = k.dac_bits;
  return p;
}

TEST(KernelExact, LosslessEqualsNaiveDotForAllEncodings) {
  std::mt19937_64 rng(11);
  for (const Combo& k : all_combos()) {
    ArchParams p = params_for(k);
    p.lossless = true;
    const ArchSpec arch = make_arch(p);
    const int cells = slicing::cells_per_weight(8, k.cell_bits, k.enc);
    const int rows = 97, cols = (128 / cells) - 1;  // partial rows and columns
    const TileDesc desc = random_tile(arch, rows, cols, k.input_unsigned, rng);
    ProgrammedTile tile(arch, desc, 5);
    ASSERT_EQ(tile.path(), MvmPath::kExact) << k.name();
    ASSERT_EQ(tile.physical_columns(), cols * cells);
    for (int trial = 0; trial < 3; ++trial) {
      const auto in = random_inputs(arch, rows, k.input_unsigned, rng);
      ASSERT_EQ(run(tile, in), naive_dot(desc, in)) << k.name();
    }
  }
}

TEST(KernelExact, WideLsbAlignedAdcChoosesExactPath) {
  std::mt19937_64 rng(12);
  ArchParams p;
  p.adc_bits = 10;  // 128 rows x 3 levels x 1-bit input = 384 <= 1023
  const ArchSpec arch = make_arch(p);
  const TileDesc desc = random_tile(arch, 128, 32, true, rng);
  ProgrammedTile tile(arch, desc, 1);
  EXPECT_EQ(tile.path(), MvmPath::kExact);
  const auto in = random_inputs(arch, 128, true, rng);
  EXPECT_EQ(run(tile, in), naive_dot(desc, in));
}

TEST(KernelExact, AccumulateAddsToOutput) {
  std::mt19937_64 rng(13);
  ArchParams p;
  p.lossless = true;
  const ArchSpec arch = make_arch(p);
  const TileDesc desc = random_tile(arch, 64, 16, false, rng);
  ProgrammedTile tile(arch, desc, 1);
  const auto in = random_inputs(arch, 64, false, rng);
  std::vector<int32_t> out(16, 1000);
  tile.mvm(in.data(), out.data(), true, nullptr);
  const auto want = naive_dot(desc, in);
  for (int c = 0; c < 16; ++c) EXPECT_EQ(out[c], want[c] + 1000);
}

TEST(KernelBitPlane, EqualsReferenceAndExactWhenNothingSaturates) {
  std::mt19937_64 rng(21);
  for (const Combo& k : all_combos()) {
    ArchParams p = params_for(k);
    p.adc_bits = 8;
    const ArchSpec arch = make_arch(p);
    const int cells = slicing::cells_per_weight(8, k.cell_bits, k.enc);
    const int rows = 100, cols = 128 / cells;
    const TileDesc desc = random_tile(arch, rows, cols, k.input_unsigned, rng);
    ProgrammedTile tile(arch, desc, 1);
    if (tile.path() == MvmPath::kExact) tile.force_path(MvmPath::kBitPlane);
    ASSERT_EQ(tile.path(), MvmPath::kBitPlane);
    for (int trial = 0; trial < 3; ++trial) {
      const auto in = random_inputs(arch, rows, k.input_unsigned, rng);
      MvmStats stats;
      const auto got = run(tile, in, &stats);
      int64_t ref_sat = 0;
      ASSERT_EQ(got, reference_mvm(arch, desc, in, &ref_sat)) << k.name();
      ASSERT_EQ(stats.adc_saturations, ref_sat) << k.name();
      if (ref_sat == 0) {
        ASSERT_EQ(got, naive_dot(desc, in)) << k.name();
      }
    }
  }
}

TEST(KernelBitPlane, SaturatesLikeTheReference) {
  // Offset encoding, w = 127 -> u = 255 -> every 2-bit cell at level 3; all-ones inputs give
  // I = 128 * 3 = 384 per step, above the 8-bit ADC's 255.
  ArchParams p;
  const ArchSpec arch = make_arch(p);
  std::mt19937_64 rng(22);
  TileDesc desc = random_tile(arch, 128, 32, true, rng);
  for (int r = 0; r < 128; ++r) desc.weights[size_t(r) * 32 + 3] = 127;
  ProgrammedTile tile(arch, desc, 1);
  EXPECT_EQ(tile.path(), MvmPath::kBitPlane);
  const std::vector<uint8_t> in(128, 255);
  MvmStats stats;
  const auto got = run(tile, in, &stats);
  int64_t ref_sat = 0;
  EXPECT_EQ(got, reference_mvm(arch, desc, in, &ref_sat));
  EXPECT_GE(ref_sat, 4 * 8);  // column 3's four slices clip in all 8 steps
  EXPECT_EQ(stats.adc_saturations, ref_sat);
  // Column 3 loses 129 per step per slice: y = 127*255*128 - sum_s 4^s * 129 * 255 = ...
  const int64_t lost = (1 + 4 + 16 + 64) * int64_t{384 - 255} * 255;
  EXPECT_EQ(got[3], int64_t{127} * 255 * 128 - lost);
}

TEST(KernelAnalog, ForcedAnalogWithoutNoiseEqualsBitPlane) {
  std::mt19937_64 rng(23);
  for (const Combo& k : all_combos()) {
    ArchParams p = params_for(k);
    const ArchSpec arch = make_arch(p);
    const int cells = slicing::cells_per_weight(8, k.cell_bits, k.enc);
    const TileDesc desc = random_tile(arch, 128, 128 / cells, k.input_unsigned, rng);
    ProgrammedTile bitplane(arch, desc, 1), analog(arch, desc, 1);
    bitplane.force_path(MvmPath::kBitPlane);
    analog.force_path(MvmPath::kAnalog);
    EXPECT_EQ(analog.path(), MvmPath::kAnalog);
    const auto in = random_inputs(arch, 128, k.input_unsigned, rng);
    MvmStats sb, sa;
    ASSERT_EQ(run(analog, in, &sa), run(bitplane, in, &sb)) << k.name();
    ASSERT_EQ(sa.adc_saturations, sb.adc_saturations);
  }
}

TEST(KernelPaths, ForcingExactIsRefusedWhereItWouldBeWrong) {
  const ArchSpec arch = make_arch(ArchParams{});
  std::mt19937_64 rng(24);
  // Random weights keep every column sum under 255 (mean 192, sigma 13), so the exact path
  // applies; one all-127 column (sum 384) rules it out.
  TileDesc desc = random_tile(arch, 128, 32, true, rng);
  ProgrammedTile random_weights(arch, desc, 1);
  EXPECT_EQ(random_weights.path(), MvmPath::kExact);
  for (int r = 0; r < 128; ++r) desc.weights[size_t(r) * 32] = 127;
  ProgrammedTile tile(arch, desc, 1);
  ASSERT_EQ(tile.path(), MvmPath::kBitPlane);
  EXPECT_THROW(tile.force_path(MvmPath::kExact), std::logic_error);
}

TEST(KernelStats, CountsPerCall) {
  ArchParams p;
  p.dac_bits = 2;
  p.encoding = WeightEncoding::kDifferential;  // 8-bit weights: 2 x ceil(7/2) = 8 columns
  const ArchSpec arch = make_arch(p);
  std::mt19937_64 rng(31);
  const TileDesc desc = random_tile(arch, 77, 15, true, rng);
  ProgrammedTile tile(arch, desc, 1);
  EXPECT_EQ(tile.physical_columns(), 15 * 8);
  MvmStats stats;
  const auto in = random_inputs(arch, 77, true, rng);
  run(tile, in, &stats);
  run(tile, in, &stats);
  EXPECT_EQ(stats.input_steps, 2 * 4);
  EXPECT_EQ(stats.row_drives, 2 * 77 * 4);
  EXPECT_EQ(stats.adc_conversions, 2 * 120 * 4);
  EXPECT_EQ(stats.shift_adds, 2 * 120 * 4);
  EXPECT_EQ(stats.adc_saturations, 0);
}

TEST(KernelInput, RejectsBadTilesAndCodes) {
  ArchParams p;
  p.activation_bits = 4;
  const ArchSpec arch = make_arch(p);
  std::mt19937_64 rng(41);
  TileDesc desc = random_tile(arch, 8, 4, true, rng);
  desc.weights[5] = -128;  // outside +-127
  EXPECT_THROW(ProgrammedTile(arch, desc, 1), InputError);
  desc.weights[5] = 0;
  desc.rows = 129;
  EXPECT_THROW(ProgrammedTile(arch, desc, 1), InputError);
  desc.rows = 8;
  desc.cols = 33;  // 33 x 4 cells > 128 columns
  EXPECT_THROW(ProgrammedTile(arch, desc, 1), InputError);
  desc.cols = 4;
  ProgrammedTile tile(arch, desc, 1);
  std::vector<uint8_t> in(8, 15);
  std::vector<int32_t> out(4);
  EXPECT_NO_THROW(tile.mvm(in.data(), out.data(), false, nullptr));
  in[2] = 16;  // 4-bit activations
  EXPECT_THROW(tile.mvm(in.data(), out.data(), false, nullptr), std::out_of_range);
}

}  // namespace
}  // namespace cimsim::kernel_test
