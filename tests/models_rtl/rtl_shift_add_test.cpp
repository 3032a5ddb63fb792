// The Verilated shift-and-add RTL against kernels::shift_add_reference, bit for bit, and
// its timing contract (docs/cosim.md): run() reports the same latency for every job,
// CIMSIM_RTL_SHIFT_ADD_LATENCY (1 for the bundled RTL: one sample per cycle, each result
// one cycle after the last sample of its column).
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include <systemc>

#include "models/kernels/crossbar_kernel.h"
#include "models/kernels/shift_add.h"
#include "models/sc/chip.h"
#include "models/sc/shift_add_unit.h"
#include "platform/spec/arch.h"

namespace cimsim {
namespace {

// Runs jobs through the RTL unit from an SC_THREAD, as a core does.
struct Harness : sc_core::sc_module {
  std::unique_ptr<ShiftAddUnit> unit;
  std::vector<kernels::ShiftAddJob> jobs;
  std::vector<std::vector<int32_t>> outs;
  std::vector<uint64_t> latency;
  std::string error;

  SC_HAS_PROCESS(Harness);
  explicit Harness(sc_core::sc_module_name name) : sc_core::sc_module(name) {
    unit = make_rtl_shift_add("unit", "test");
    SC_THREAD(run);
  }
  void run() {
    try {
      for (const kernels::ShiftAddJob& j : jobs) {
        outs.emplace_back(static_cast<size_t>(j.cols), 0);
        latency.push_back(unit->run(j, outs.back().data()));
      }
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
};

// Full-range random jobs: 32-bit codes, shifts 0..31 and 64-bit biases make the 64-bit sums
// wrap and the int32 results saturate both ways, so every datapath bit is exercised.
kernels::ShiftAddJob random_job(std::mt19937_64& rng, int cols, int per_col) {
  kernels::ShiftAddJob j;
  j.cols = cols;
  j.samples_per_column = per_col;
  for (int c = 0; c < cols; ++c) {
    const int kind = static_cast<int>(rng() % 3);
    // Small biases give in-range results, large ones saturate, huge ones wrap.
    const uint64_t r = rng();
    j.bias.push_back(kind == 0 ? static_cast<int64_t>(r % 2001) - 1000
                               : kind == 1 ? static_cast<int64_t>(r >> 30) - (int64_t{1} << 33)
                                           : static_cast<int64_t>(r));
    for (int i = 0; i < per_col; ++i) {
      kernels::ShiftAddSample s;
      s.code = kind == 0 ? static_cast<uint32_t>(rng() % 256) : static_cast<uint32_t>(rng());
      s.shift = static_cast<uint8_t>(kind == 0 ? rng() % 8 : rng() % 32);
      s.negate = rng() % 2 == 1;
      s.first = i == 0;
      s.last = i == per_col - 1;
      j.samples.push_back(s);
    }
  }
  return j;
}

TEST(RtlShiftAdd, BitIdenticalToTheCppModelOnRandomJobs) {
  if (!rtl_available()) GTEST_SKIP() << "cimsim built without Verilator (CIMSIM_RTL off)";
  reset_systemc_context();
  Harness h("h");
  std::mt19937_64 rng(42);
  for (int per_col : {1, 2, 7, 32})
    for (int cols : {1, 3, 16}) h.jobs.push_back(random_job(rng, cols, per_col));
  sc_core::sc_start();
  ASSERT_EQ(h.error, "");
  ASSERT_EQ(h.outs.size(), h.jobs.size());
  for (size_t i = 0; i < h.jobs.size(); ++i) {
    std::vector<int32_t> want(static_cast<size_t>(h.jobs[i].cols));
    kernels::shift_add_reference(h.jobs[i], want.data());
    EXPECT_EQ(h.outs[i], want) << "job " << i;
    EXPECT_EQ(h.latency[i], uint64_t{CIMSIM_RTL_SHIFT_ADD_LATENCY}) << "job " << i;
  }
  // Every job took samples + latency cycles, plus two reset cycles at the first use.
  uint64_t cycles = 2;
  for (const auto& j : h.jobs) cycles += j.samples.size() + CIMSIM_RTL_SHIFT_ADD_LATENCY;
  EXPECT_EQ(h.unit->cycles_simulated(), cycles);
}

TEST(RtlShiftAdd, RealTileMvmsMatchTheKernel) {
  if (!rtl_available()) GTEST_SKIP() << "cimsim built without Verilator (CIMSIM_RTL off)";
  // An ISAAC-like tile: 2-bit cells, 1-bit DAC, weight flip, 8-bit lsb-aligned ADC that clips.
  ArchSpec arch;
  arch.crossbar.rows = 128;
  arch.crossbar.cols = 128;
  arch.crossbar.cell_bits = 2;
  arch.crossbar.weight_flip = true;
  arch.dac.bits = 1;
  arch.adc.bits = 7;
  arch.quantization.weight_bits = 8;
  arch.quantization.activation_bits = 8;
  std::mt19937_64 rng(9);
  TileDesc t;
  t.rows = 128;
  t.cols = 32;
  t.input_unsigned = false;
  for (int i = 0; i < t.rows * t.cols; ++i) t.weights.push_back(static_cast<int8_t>(static_cast<int>(rng() % 255) - 127));
  ProgrammedTile tile(arch, t, 1);
  reset_systemc_context();
  Harness h("h");
  std::vector<std::vector<int32_t>> want;
  for (int trial = 0; trial < 3; ++trial) {
    std::vector<uint8_t> in(128);
    for (uint8_t& x : in) x = static_cast<uint8_t>(rng());
    std::vector<int32_t> prev(32, 1000 * trial), y = prev;
    tile.mvm(in.data(), y.data(), trial > 0, nullptr);
    want.push_back(y);
    h.jobs.emplace_back();
    tile.digitize(in.data(), trial > 0 ? prev.data() : nullptr, &h.jobs.back(), nullptr);
  }
  sc_core::sc_start();
  ASSERT_EQ(h.error, "");
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(h.outs[i], want[i]) << "mvm " << i;
}

TEST(RtlShiftAdd, RefusedWithoutVerilator) {
  if (rtl_available()) GTEST_SKIP() << "cimsim built with Verilator: nothing to refuse";
  reset_systemc_context();
  try {
    make_rtl_shift_add("unit", "a.yaml: pe.shift_add_model");
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("a.yaml: pe.shift_add_model: rtl: this cimsim was built without Verilator"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace cimsim
