// The chip with pe.shift_add_model: rtl against tlm on the same program: the same values and
// action counts, and the cycles of tlm with pe.shift_add_latency_cycles = the RTL's latency
// (CIMSIM_RTL_SHIFT_ADD_LATENCY, 1 for the bundled RTL; docs/cosim.md).
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "models/sc/shift_add_unit.h"
#include "tests/models_sc/sc_test_util.h"

namespace cimsim::test {
namespace {

TileDesc tile_at(int pe, int xbar, int rows, int cols, uint32_t seed) {
  return random_tile(pe, xbar, rows, cols, seed);
}

struct Outcome {
  std::vector<uint8_t> out;  // the three MVMs' int32 results, as bytes
  ChipStats stats;
  uint64_t rtl_cycles = 0;
};

// Core 0: mvm, accumulating mvm into the same outputs, and an mvm on a second crossbar that
// shares the first one's ADC (small_arch has 2 ADCs for 2 crossbars: pe.adcs = 1 here).
Outcome run(ArchSpec arch) {
  arch.pe.adcs = 1;
  Program p = program_for(arch);
  p.cores[0].code = {mvm(0, A(1024), A(0), 0), mvm(0, A(1024), A(64), 1), mvm(1, A(2048), A(0), 0), halt()};
  p.cores[0].tiles = {tile_at(0, 0, 32, 16, 1), tile_at(0, 1, 20, 9, 2)};
  Sim sim(arch, p);
  std::mt19937 g(3);
  std::vector<uint8_t> in(128);
  for (uint8_t& x : in) x = static_cast<uint8_t>(g());
  put_bytes(*sim.chip, 0, 0, in);
  Outcome o;
  o.stats = sim.run();
  EXPECT_EQ(sim.chip->error(), "");
  o.out = get_bytes(*sim.chip, 0, 1024, 4 * 16);
  const std::vector<uint8_t> second = get_bytes(*sim.chip, 0, 2048, 4 * 9);
  o.out.insert(o.out.end(), second.begin(), second.end());
  o.rtl_cycles = o.stats.rtl_cycles;
  return o;
}

void expect_same_values(const Outcome& a, const Outcome& b) {
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(a.stats.mvms, b.stats.mvms);
  EXPECT_EQ(a.stats.adc_conversions, b.stats.adc_conversions);
  EXPECT_EQ(a.stats.adc_saturations, b.stats.adc_saturations);
  for (size_t c = 0; c < static_cast<size_t>(Component::kCount); ++c)
    EXPECT_DOUBLE_EQ(a.stats.energy.get(static_cast<Component>(c), 0), b.stats.energy.get(static_cast<Component>(c), 0));
}

class RtlChip : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!rtl_available()) GTEST_SKIP() << "cimsim built without Verilator (CIMSIM_RTL off)";
  }
  ArchSpec arch() const {
    ArchSpec a = small_arch();
    if (GetParam() == "clipping adc") {  // lsb-aligned 4-bit ADC: column sums clip
      a.adc.lossless = false;
      a.adc.bits = 4;
    }
    return a;
  }
};

TEST_P(RtlChip, SameValuesAndTheDocumentedCycles) {
  const Outcome tlm = run(arch());
  ArchSpec with_latency = arch();
  with_latency.pe.shift_add_latency_cycles = CIMSIM_RTL_SHIFT_ADD_LATENCY;
  const Outcome tlm1 = run(with_latency);
  ArchSpec rtl_arch = arch();
  rtl_arch.pe.shift_add_model = ShiftAddModel::kRtl;
  const Outcome rtl = run(rtl_arch);
  expect_same_values(rtl, tlm);
  if (GetParam() == "clipping adc") {
    EXPECT_GT(rtl.stats.adc_saturations, 0u);
  }
  EXPECT_EQ(rtl.stats.end_ps, tlm1.stats.end_ps);
  EXPECT_EQ(rtl.stats.core_finish_ps, tlm1.stats.core_finish_ps);
  EXPECT_EQ(rtl.stats.core_busy_ps, tlm1.stats.core_busy_ps);
  if (CIMSIM_RTL_SHIFT_ADD_LATENCY > 0) {  // the RTL's cycles are observable
    EXPECT_GT(rtl.stats.end_ps, tlm.stats.end_ps);
  }
  // 2 reset cycles, then per MVM one cycle per sample (cols x 4 cells x 8 steps) + latency.
  constexpr uint64_t kLatency = CIMSIM_RTL_SHIFT_ADD_LATENCY;
  EXPECT_EQ(rtl.rtl_cycles, 2u + (16 * 32 + kLatency) * 2 + (9 * 32 + kLatency));
  EXPECT_EQ(tlm.rtl_cycles, 0u);
}

INSTANTIATE_TEST_SUITE_P(Adcs, RtlChip, ::testing::Values("lossless adc", "clipping adc"),
                         [](const auto& info) { return info.param == "lossless adc" ? "Lossless" : "Clipping"; });

TEST(RtlChipInput, RealValuedAdcCodesAreAnInputError) {
  if (!rtl_available()) GTEST_SKIP() << "cimsim built without Verilator (CIMSIM_RTL off)";
  ArchSpec a = small_arch();
  a.adc.lossless = false;
  a.adc.range = AdcRangePolicy::kWorstCase;
  a.pe.shift_add_model = ShiftAddModel::kRtl;
  Program p = program_for(a);
  p.cores[0].tiles = {tile_at(0, 0, 32, 16, 1)};
  try {
    Sim sim(a, p);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("test-arch: pe.shift_add_model: rtl needs integer ADC codes"),
              std::string::npos)
        << e.what();
  }
}

TEST(RtlChipInput, RtlWithoutVerilatorIsAnInputError) {
  if (rtl_available()) GTEST_SKIP() << "cimsim built with Verilator: nothing to refuse";
  ArchSpec a = small_arch();
  a.pe.shift_add_model = ShiftAddModel::kRtl;
  try {
    Sim sim(a, program_for(a));
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("this cimsim was built without Verilator; install verilator"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace cimsim::test
