// wload and crossbar residency: exact cycles derived by hand from docs/timing.md on
// small_arch() (1 cycle = 1 ns), values against integer dot products computed here, the
// runtime fault for an mvm whose tile is not in its crossbar, and the load-time checks.
#include <gtest/gtest.h>

#include <random>

#include "sc_test_util.h"

namespace cimsim::test {
namespace {

TileDesc rtile(int pe, int xbar, int rows, int cols, uint32_t seed, int64_t gaddr) {
  TileDesc t = random_tile(pe, xbar, rows, cols, seed);
  t.weight_global_addr = gaddr;
  return t;
}

ArchSpec reload_arch() {
  ArchSpec a = small_arch();
  a.crossbar.write_ns_per_row = 5.0;
  a.costs.components["memory"].energy_pj = 0.5;
  a.costs.components["crossbar_write"].energy_pj = 2.0;
  return a;
}

Instruction wload(int tile) {
  Instruction in = I(Op::kWload);
  in.imm[0] = tile;
  return in;
}

struct ReloadRun {
  ChipStats stats;
  std::string error;
  std::vector<int32_t> out;
};

ReloadRun run_core0(std::vector<Instruction> code, std::vector<TileDesc> tiles, int out_addr = 0,
              int out_n = 0, const std::vector<uint8_t>& input = {}) {
  ArchSpec arch = reload_arch();
  Program p = program_for(arch);
  p.cores[0].code = std::move(code);
  p.cores[0].tiles = std::move(tiles);
  Sim sim(arch, p);
  put_bytes(*sim.chip, 0, 0, input);
  ReloadRun r;
  r.stats = sim.run();
  r.error = sim.chip->error();
  if (out_n) r.out = get_i32(*sim.chip, 0, out_addr, out_n);
  return r;
}

// wload of a 32 x 4 tile on core 0 (the memory node): memory 50 + 128 B / 8 = 66, 32 flits
// ejected 66..98; programming 32 rows x 5 ns = 160 -> 258.
TEST(Reload, WloadAlone) {
  ReloadRun r = run_core0({wload(0), halt()}, {rtile(0, 0, 32, 4, 1, 4096)});
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(cycles(r.stats.core_finish_ps[0]), 258u);
  EXPECT_EQ(r.stats.memory_bytes, 128u);
  // memory 128 B x 0.5 + crossbar_write 128 weights x 4 cells x 2.0.
  EXPECT_DOUBLE_EQ(r.stats.energy.get(Component::kMemory, 0), 64.0);
  EXPECT_DOUBLE_EQ(r.stats.energy.get(Component::kCrossbarWrite, 0), 1024.0);
}

// mvm after wload on the same crossbar starts when programming ends: 258 + 141 (MvmAlone).
TEST(Reload, MvmWaitsForItsWload) {
  ReloadRun r = run_core0({wload(0), mvm(0, A(1024), A(0), 0), halt()}, {rtile(0, 0, 32, 4, 1, 4096)});
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(cycles(r.stats.core_finish_ps[0]), 399u);
}

// A wload on another crossbar overlaps a running mvm: mvm t0 0..141 on crossbar 0; wload t1
// dispatched at 1 on crossbar 1: memory ready 1 + 66 = 67, ejected 67..99, programmed 259.
TEST(Reload, WloadOverlapsMvmOnAnotherCrossbar) {
  ReloadRun r = run_core0({mvm(0, A(1024), A(0), 0), wload(1), halt()},
                    {rtile(0, 0, 32, 4, 1, -1), rtile(0, 1, 32, 4, 2, 4096)});
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(cycles(r.stats.core_finish_ps[0]), 259u);
}

// Two wloads share the NIC: the second starts when the first's bytes have arrived (98):
// ready 98 + 66 = 164, ejected 164..196, programmed 356.
TEST(Reload, WloadsSerializeOnTheNic) {
  ReloadRun r = run_core0({wload(0), wload(1), halt()},
                    {rtile(0, 0, 32, 4, 1, 4096), rtile(0, 1, 32, 4, 2, 8192)});
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(cycles(r.stats.core_finish_ps[0]), 356u);
}

std::vector<int32_t> dot(const TileDesc& t, const std::vector<uint8_t>& x) {
  std::vector<int32_t> y(static_cast<size_t>(t.cols), 0);
  for (int r = 0; r < t.rows; ++r)
    for (int c = 0; c < t.cols; ++c)
      y[static_cast<size_t>(c)] += int32_t{t.weights[static_cast<size_t>(r * t.cols + c)]} * x[static_cast<size_t>(r)];
  return y;
}

// Resident t0 and reloadable t1, t2 share crossbar 0: each mvm uses whichever tile the
// crossbar holds at that point of the stream.
TEST(Reload, ValuesFollowTheTileTheCrossbarHolds) {
  std::vector<TileDesc> tiles = {rtile(0, 0, 32, 8, 1, -1), rtile(0, 0, 32, 8, 2, 0),
                                 rtile(0, 0, 20, 8, 3, 1000)};
  std::vector<uint8_t> x(32);
  for (int i = 0; i < 32; ++i) x[static_cast<size_t>(i)] = static_cast<uint8_t>(i * 7 % 251);
  ReloadRun r = run_core0({mvm(0, A(1024), A(0), 0), wload(1), mvm(1, A(1056), A(0), 0), wload(2),
                     mvm(2, A(1088), A(0), 0), wload(1), mvm(1, A(1120), A(0), 1), halt()},
                    tiles, 1024, 32, x);
  ASSERT_EQ(r.error, "");
  std::vector<int32_t> want;
  for (int t : {0, 1, 2}) {
    std::vector<int32_t> y = dot(tiles[static_cast<size_t>(t)], x);
    want.insert(want.end(), y.begin(), y.end());
  }
  std::vector<int32_t> y1 = dot(tiles[1], x);
  for (size_t c = 0; c < 8; ++c) want.push_back(y1[c]);  // acc=1 into zeroed bytes
  EXPECT_EQ(r.out, want);
  EXPECT_EQ(r.stats.mvms, 4u);
}

TEST(Reload, WloadProgramsTheBytesInGlobalMemory) {
  // The chip writes each reloadable tile's codes at its address; a host write after
  // construction (or a store) changes what wload programs.
  ArchSpec arch = reload_arch();
  Program p = program_for(arch);
  TileDesc t = rtile(0, 1, 4, 2, 9, 512);
  p.cores[0].tiles = {t};
  p.cores[0].code = {wload(0), mvm(0, A(64), A(0), 0), halt()};
  Sim sim(arch, p);
  std::vector<uint8_t> stored = sim.global(512, 8);
  EXPECT_EQ(std::vector<uint8_t>(t.weights.begin(), t.weights.end()), stored);
  std::vector<int8_t> w2 = {1, 2, 3, 4, 5, 6, 7, -8};
  sim.chip->memory().write(512, reinterpret_cast<const uint8_t*>(w2.data()), w2.size());
  put_bytes(*sim.chip, 0, 0, {1, 10, 100, 3});
  sim.run();
  ASSERT_EQ(sim.chip->error(), "");
  EXPECT_EQ(get_i32(*sim.chip, 0, 64, 2),
            (std::vector<int32_t>{1 + 30 + 500 + 21, 2 + 40 + 600 - 24}));
}

TEST(Reload, MvmOnATileNotInItsCrossbarFaults) {
  ReloadRun r = run_core0({wload(1), mvm(0, A(1024), A(0), 0), halt()},
                    {rtile(0, 1, 32, 4, 1, -1), rtile(0, 1, 32, 4, 2, 4096)});
  EXPECT_EQ(r.error,
            "core 0, pc 1 (mvm t0, [r0+1024], [r0+0], acc=0): tile 0 is not in its crossbar (pe 0 "
            "crossbar 1 holds tile 1; wload t0 first)");
  r = run_core0({mvm(0, A(1024), A(0), 0), halt()}, {rtile(1, 0, 32, 4, 2, 4096)});
  EXPECT_EQ(r.error,
            "core 0, pc 0 (mvm t0, [r0+1024], [r0+0], acc=0): tile 0 is not in its crossbar (pe 1 "
            "crossbar 0 holds no tile; wload t0 first)");
}

TEST(Reload, LoadTimeChecks) {
  ArchSpec arch = reload_arch();
  Program p = program_for(arch);
  p.cores[2].tiles = {rtile(0, 0, 4, 4, 1, (1 << 20) - 8)};
  reset_systemc_context();
  try {
    Chip chip("chip", arch, p, 1, nullptr);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "program: core 2, tile 0: reloadable weights [1048568, 1048584) are outside global "
              "memory (1048576 bytes)");
  }
  p.cores[2].tiles = {rtile(0, 0, 4, 4, 1, -1), rtile(0, 0, 4, 4, 2, -1)};
  reset_systemc_context();
  EXPECT_THROW(Chip("chip", arch, p, 1, nullptr), InputError);
}

TEST(Reload, BatchOverlappingStoredWeightsIsRejected) {
  ArchSpec arch = reload_arch();
  Program p = program_for(arch);
  p.cores[0].tiles = {rtile(0, 0, 4, 4, 1, 1000)};  // weights at [1000, 1016)
  TensorIO in;
  in.name = "x";
  in.shape = {100};
  in.global_addr = 0;
  in.bytes_per_image = 100;
  p.inputs = {in};
  Sim sim(arch, p);
  EXPECT_NO_THROW(sim.chip->set_batch(10));  // [0, 1000)
  try {
    sim.chip->set_batch(11);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "program: 11 images of 'x' at [0, 1100) overlap the reloadable weights stored at "
              "[1000, 1016) (batch too large for global memory)");
  }
}

}  // namespace
}  // namespace cimsim::test
