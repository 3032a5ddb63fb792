// ProgrammedTile::digitize + the shift-and-add reference reproduce mvm() bit for bit: the
// split the RTL co-simulation relies on (docs/cosim.md).
#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/kernels/crossbar_kernel.h"
#include "models/kernels/shift_add.h"
#include "platform/spec/slicing.h"
#include "tests/models_kernels/kernel_reference.h"

namespace cimsim::kernel_test {
namespace {

struct Case {
  std::string name;
  ArchParams p;
  bool input_unsigned = true;
  double stuck_on = 0, offset_lsb = 0;
  float tile_offset_lsb = 0;  // TileDesc::adc_offset_lsb (the digital correction)
};

std::vector<Case> cases() {
  std::vector<Case> v;
  for (auto enc : {WeightEncoding::kOffset, WeightEncoding::kDifferential})
    for (bool flip : {false, true})
      for (int cb : {1, 2, 4})
        for (int d : {1, 2}) {
          Case c;
          c.p.encoding = enc;
          c.p.flip = flip;
          c.p.cell_bits = cb;
          c.p.dac_bits = d;
          c.input_unsigned = (cb + d) % 2 == 0;
          c.name = std::string(enc == WeightEncoding::kOffset ? "offset" : "diff") + (flip ? "+flip" : "") +
                   " c" + std::to_string(cb) + " d" + std::to_string(d);
          v.push_back(c);
        }
  Case lossless;  // exact path
  lossless.name = "lossless";
  lossless.p.lossless = true;
  v.push_back(lossless);
  Case clipping;  // bit-plane path with saturating conversions
  clipping.name = "5-bit adc clips";
  clipping.p.adc_bits = 5;
  v.push_back(clipping);
  Case stuck;  // bit-plane path over stuck cells, plus an ADC offset
  stuck.name = "stuck cells + offset";
  stuck.stuck_on = 0.05;
  stuck.offset_lsb = 0.4;
  stuck.input_unsigned = false;
  v.push_back(stuck);
  Case corrected;  // a device offset and a tile's correction of it, with clipping
  corrected.name = "offset + tile correction";
  corrected.p.adc_bits = 6;
  corrected.offset_lsb = 0.7;
  corrected.tile_offset_lsb = 0.45f;
  v.push_back(corrected);
  return v;
}

TEST(ShiftAdd, DigitizeThenReferenceEqualsMvm) {
  std::mt19937_64 rng(5);
  for (const Case& k : cases()) {
    ArchSpec arch = make_arch(k.p);
    arch.nonideality.stuck_on_fraction = k.stuck_on;
    arch.nonideality.adc_offset_lsb = k.offset_lsb;
    const int cells = slicing::cells_per_weight(8, k.p.cell_bits, k.p.encoding);
    TileDesc desc = random_tile(arch, 77, 128 / cells - 1, k.input_unsigned, rng);
    desc.adc_offset_lsb = k.tile_offset_lsb;
    ProgrammedTile tile(arch, desc, 3);
    ASSERT_TRUE(tile.integer_samples()) << k.name;
    int64_t saturations = 0;
    for (int trial = 0; trial < 4; ++trial) {
      const std::vector<uint8_t> in = random_inputs(arch, desc.rows, k.input_unsigned, rng);
      const bool acc = trial % 2 == 1;
      std::vector<int32_t> prev(static_cast<size_t>(desc.cols));
      for (int32_t& x : prev) x = static_cast<int32_t>(rng() % 2000001) - 1000000;
      if (trial == 3) prev[0] = std::numeric_limits<int32_t>::max();  // saturates
      std::vector<int32_t> want = prev, got(prev.size(), 7);
      MvmStats ms, ds;
      tile.mvm(in.data(), want.data(), acc, &ms);
      kernels::ShiftAddJob job;
      tile.digitize(in.data(), acc ? prev.data() : nullptr, &job, &ds);
      ASSERT_EQ(job.cols, desc.cols);
      ASSERT_EQ(job.samples.size(), static_cast<size_t>(desc.cols) * job.samples_per_column);
      kernels::shift_add_reference(job, got.data());
      ASSERT_EQ(got, want) << k.name << " trial " << trial;
      EXPECT_EQ(ds.adc_conversions, ms.adc_conversions);
      EXPECT_EQ(ds.adc_saturations, ms.adc_saturations) << k.name;
      EXPECT_EQ(ds.shift_adds, ms.shift_adds);
      EXPECT_EQ(ds.input_steps, ms.input_steps);
      EXPECT_EQ(ds.row_drives, ms.row_drives);
      saturations += ds.adc_saturations;
    }
    if (k.name == "5-bit adc clips") {
      EXPECT_GT(saturations, 0);
    }
  }
}

TEST(ShiftAdd, SampleOrderIsColumnSliceStep) {
  ArchParams p;
  p.cell_bits = 2;
  p.dac_bits = 2;
  const ArchSpec arch = make_arch(p);  // 4 cells per weight, 4 steps
  std::mt19937_64 rng(1);
  const TileDesc desc = random_tile(arch, 16, 3, true, rng);
  ProgrammedTile tile(arch, desc, 0);
  kernels::ShiftAddJob job;
  tile.digitize(random_inputs(arch, 16, true, rng).data(), nullptr, &job, nullptr);
  ASSERT_EQ(job.samples_per_column, 16);
  for (int c = 0; c < 3; ++c)
    for (int s = 0; s < 4; ++s)
      for (int k = 0; k < 4; ++k) {
        const kernels::ShiftAddSample& x = job.samples[static_cast<size_t>(c * 16 + s * 4 + k)];
        EXPECT_EQ(x.shift, 2 * s + 2 * k);  // slice significance 2^(2s), step 2^(2k)
        EXPECT_FALSE(x.negate);             // offset encoding, no flip
        EXPECT_EQ(x.first, s == 0 && k == 0);
        EXPECT_EQ(x.last, s == 3 && k == 3);
      }
}

TEST(ShiftAdd, ReferenceSaturatesAndNegates) {
  kernels::ShiftAddJob job;
  job.cols = 3;
  job.samples_per_column = 2;
  job.bias = {std::numeric_limits<int32_t>::max() - 5, std::numeric_limits<int32_t>::min() + 5, -3};
  job.samples = {{3, 1, false, true, false}, {1, 0, false, false, true},   // +7: saturates high
                 {1, 3, true, true, false}, {0, 0, false, false, true},    // -8: saturates low
                 {5, 2, true, true, false}, {4, 30, false, false, true}};  // -3 - 20 + 2^32: high
  std::vector<int32_t> out(3);
  kernels::shift_add_reference(job, out.data());
  EXPECT_EQ(out[0], std::numeric_limits<int32_t>::max());
  EXPECT_EQ(out[1], std::numeric_limits<int32_t>::min());
  EXPECT_EQ(out[2], std::numeric_limits<int32_t>::max());
}

TEST(ShiftAdd, RealValuedAdcCodesAreNotDigitized) {
  ArchParams p;
  p.range = AdcRangePolicy::kWorstCase;
  ArchSpec arch = make_arch(p);
  std::mt19937_64 rng(2);
  ProgrammedTile worst(arch, random_tile(arch, 32, 8, true, rng), 0);
  EXPECT_FALSE(worst.integer_samples());
  kernels::ShiftAddJob job;
  const std::vector<uint8_t> in(32, 1);
  EXPECT_THROW(worst.digitize(in.data(), nullptr, &job, nullptr), std::logic_error);
  arch = make_arch(ArchParams{});
  arch.nonideality.read_noise_sigma = 0.01;
  ProgrammedTile noisy(arch, random_tile(arch, 32, 8, true, rng), 0);
  EXPECT_FALSE(noisy.integer_samples());
}

}  // namespace
}  // namespace cimsim::kernel_test
