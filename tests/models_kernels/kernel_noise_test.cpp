// Non-idealities: reproducibility by seed, stuck-at fractions, programming noise magnitude,
// conductance-level quantization, and ideal settings that must change nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <vector>

#include "models/kernels/crossbar_kernel.h"
#include "platform/spec/slicing.h"
#include "tests/models_kernels/kernel_reference.h"

namespace cimsim::kernel_test {
namespace {

std::vector<int32_t> run(ProgrammedTile& tile, const std::vector<uint8_t>& in) {
  std::vector<int32_t> out(tile.cols(), 0);
  tile.mvm(in.data(), out.data(), false, nullptr);
  return out;
}

ArchSpec noisy_arch(double prog_sigma, double read_sigma) {
  ArchParams p;
  p.adc_bits = 9;
  ArchSpec a = make_arch(p);
  a.nonideality.programming_noise_sigma = prog_sigma;
  a.nonideality.read_noise_sigma = read_sigma;
  return a;
}

TEST(KernelNoise, SameSeedSameBitsDifferentSeedDifferentBits) {
  std::mt19937_64 rng(51);
  const ArchSpec arch = noisy_arch(0.02, 0.01);
  const TileDesc desc = random_tile(arch, 128, 32, true, rng);
  const auto in1 = random_inputs(arch, 128, true, rng);
  const auto in2 = random_inputs(arch, 128, true, rng);
  ProgrammedTile a(arch, desc, 42), b(arch, desc, 42), c(arch, desc, 43);
  EXPECT_EQ(a.path(), MvmPath::kAnalog);
  const auto a1 = run(a, in1), a2 = run(a, in2);
  EXPECT_EQ(run(b, in1), a1);  // same call sequence, same read-noise draws
  EXPECT_EQ(run(b, in2), a2);
  EXPECT_NE(run(c, in1), a1);
  // Read noise is drawn per MVM: repeating an input gives a different result.
  EXPECT_NE(run(a, in1), a1);
  // And the result stays close to exact: sigma of a few % of a level on 128 rows.
  const auto want = naive_dot(desc, in1);
  double err2 = 0, ref2 = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    err2 += std::pow(double(a1[i] - want[i]), 2);
    ref2 += std::pow(double(want[i]), 2);
  }
  EXPECT_LT(std::sqrt(err2 / ref2), 0.2);
  EXPECT_GT(err2, 0.0);
}

// Read noise n[r][p] ~ N(0, (sigma * 3 levels)^2) per cell per MVM moves output c by
// sum_s column_weight(s) * sum_r n[r][c*4+s] * x[r]: variance (3 sigma)^2 * (1 + 4^2 + 16^2 +
// 64^2) * sum_r x[r]^2 with a lossless ADC. Per-step independent draws would give about half.
TEST(KernelNoise, ReadNoiseHasThePerCellVariance) {
  std::mt19937_64 rng(55);
  ArchParams p;
  p.lossless = true;
  ArchSpec arch = make_arch(p);
  const double sigma = 0.02;
  arch.nonideality.read_noise_sigma = sigma;
  const TileDesc desc = random_tile(arch, 128, 32, true, rng);
  ProgrammedTile tile(arch, desc, 8);
  ASSERT_EQ(tile.path(), MvmPath::kAnalog);
  const auto in = random_inputs(arch, 128, true, rng);
  const auto want = naive_dot(desc, in);
  double x2 = 0;
  for (uint8_t x : in) x2 += double(x) * x;
  const double predicted = std::pow(3 * sigma, 2) * 4369.0 * x2 + 1.0 / 12;  // + final rounding
  double sum2 = 0;
  int n = 0;
  for (int i = 0; i < 400; ++i) {
    const auto got = run(tile, in);
    for (size_t c = 0; c < got.size(); ++c, ++n) sum2 += std::pow(double(got[c] - want[c]), 2);
  }
  // 12800 samples: the variance estimate's standard error is 1.25 %; allow 6 %.
  EXPECT_NEAR(sum2 / n / predicted, 1.0, 0.06);
}

TEST(KernelNoise, ZeroSigmaIsExact) {
  std::mt19937_64 rng(52);
  const ArchSpec arch = noisy_arch(0.0, 0.0);
  const TileDesc desc = random_tile(arch, 128, 32, false, rng);
  ProgrammedTile tile(arch, desc, 7);
  EXPECT_EQ(tile.path(), MvmPath::kExact);
  const auto in = random_inputs(arch, 128, false, rng);
  const auto want = naive_dot(desc, in);
  const auto exact = run(tile, in);
  EXPECT_EQ(std::vector<int64_t>(exact.begin(), exact.end()), want);
  tile.force_path(MvmPath::kAnalog);
  const auto analog = run(tile, in);
  EXPECT_EQ(std::vector<int64_t>(analog.begin(), analog.end()), want);
}

TEST(KernelNoise, ConductanceLevelsQuantizeCells) {
  std::mt19937_64 rng(53);
  ArchSpec arch = noisy_arch(0.0, 0.0);
  // 2^cell_bits levels reproduce the ideal cells: analog path, exact result (9-bit ADC).
  arch.nonideality.conductance_levels = 4;
  const TileDesc desc = random_tile(arch, 128, 32, true, rng);
  ProgrammedTile ideal(arch, desc, 1);
  EXPECT_EQ(ideal.path(), MvmPath::kAnalog);
  const auto in = random_inputs(arch, 128, true, rng);
  const auto got = run(ideal, in);
  EXPECT_EQ(std::vector<int64_t>(got.begin(), got.end()), naive_dot(desc, in));
  // 3 levels over a 2-bit cell: levels 0, 1.5, 3 (levels 1 and 2 both round away).
  arch.nonideality.conductance_levels = 3;
  ProgrammedTile coarse(arch, desc, 1);
  std::set<double> seen;
  for (int r = 0; r < 128; ++r)
    for (int p = 0; p < coarse.physical_columns(); ++p) seen.insert(coarse.cell_level(r, p));
  EXPECT_EQ(seen, (std::set<double>{0.0, 1.5, 3.0}));
}

TEST(KernelNoise, ProgrammingNoiseHasTheRequestedSigma) {
  const ArchSpec arch = noisy_arch(0.05, 0.0);
  // w = -43 -> every 2-bit cell at level 1, far (6.7 sigma) from the 0 S clamp.
  TileDesc desc;
  desc.rows = 128;
  desc.cols = 32;
  desc.weights.assign(128 * 32, -43);
  ProgrammedTile noisy(arch, desc, 3);
  double sum = 0, sum2 = 0;
  int n = 0;
  for (int r = 0; r < 128; ++r)
    for (int p = 0; p < noisy.physical_columns(); ++p) {
      const double dev = noisy.cell_level(r, p) - 1.0;
      sum += dev;
      sum2 += dev * dev;
      ++n;
    }
  // sigma * (g_max - g_min) in level units: 0.05 * 3 = 0.15. 16384 samples: the sample
  // sigma is within 2 % (3.5 standard errors) and the mean within 0.005 (4 standard errors).
  EXPECT_NEAR(std::sqrt(sum2 / n), 0.15, 0.15 * 0.02);
  EXPECT_NEAR(sum / n, 0.0, 0.005);
}

TEST(KernelNoise, ProgrammingNoiseNeverGoesBelowZeroConductance) {
  std::mt19937_64 rng(54);
  const ArchSpec arch = noisy_arch(0.2, 0.0);
  const TileDesc desc = random_tile(arch, 128, 32, true, rng);
  ProgrammedTile noisy(arch, desc, 3);
  // g_min = 1 uS, g_max = 100 uS: 0 S is level -3 / 99.
  double lowest = 1e9;
  for (int r = 0; r < 128; ++r)
    for (int p = 0; p < noisy.physical_columns(); ++p)
      lowest = std::min(lowest, noisy.cell_level(r, p));
  EXPECT_NEAR(lowest, -3.0 / 99.0, 1e-6);
}

TEST(KernelNoise, StuckAtFractionsForceTheRequestedShareOfCells) {
  ArchParams p;
  ArchSpec arch = make_arch(p);
  arch.nonideality.stuck_on_fraction = 0.10;
  arch.nonideality.stuck_off_fraction = 0.05;
  // w = -43 -> u = 85 = 0b01010101: every 2-bit cell at level 1, so forced cells are visible.
  TileDesc desc;
  desc.rows = 128;
  desc.cols = 32;
  desc.weights.assign(128 * 32, -43);
  ProgrammedTile tile(arch, desc, 99);
  EXPECT_EQ(tile.path(), MvmPath::kBitPlane);  // stuck levels are still integers
  int on = 0, off = 0, other = 0;
  for (int r = 0; r < 128; ++r)
    for (int c = 0; c < tile.physical_columns(); ++c) {
      const double g = tile.cell_level(r, c);
      if (g == 3.0) ++on;
      else if (g == 0.0) ++off;
      else if (g != 1.0) ++other;
    }
  // 16384 cells: binomial sigma is 38 (on) and 28 (off); allow 4 sigma.
  EXPECT_NEAR(on, 1638.4, 4 * 38.4);
  EXPECT_NEAR(off, 819.2, 4 * 27.9);
  EXPECT_EQ(other, 0);
  // The MVM uses the stuck cells: an all-ones input gives per column and step sum_r g.
  const std::vector<uint8_t> in(128, 1);
  const auto got = run(tile, in);
  for (int c = 0; c < 32; ++c) {
    int64_t y = -128 * 128;  // offset-encoding correction 2^(Bw-1) * sum_r x
    for (int s = 0; s < 4; ++s) {
      int64_t column = 0;
      for (int r = 0; r < 128; ++r) column += static_cast<int64_t>(tile.cell_level(r, c * 4 + s));
      y += (int64_t{1} << (2 * s)) * std::min<int64_t>(column, 255);
    }
    ASSERT_EQ(got[c], y);
  }
  // Same seed, same stuck cells; another seed, other cells.
  ProgrammedTile again(arch, desc, 99), other_seed(arch, desc, 100);
  int same = 0, differ = 0;
  for (int r = 0; r < 128; ++r)
    for (int c = 0; c < tile.physical_columns(); ++c) {
      same += again.cell_level(r, c) == tile.cell_level(r, c);
      differ += other_seed.cell_level(r, c) != tile.cell_level(r, c);
    }
  EXPECT_EQ(same, 128 * 128);
  EXPECT_GT(differ, 1000);
}

}  // namespace
}  // namespace cimsim::kernel_test
