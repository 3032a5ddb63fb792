// Per-layer timing (ChipStats::layer_times, report.json "layers") on a hand-built program
// whose cycles are derived by hand from docs/timing.md on small_arch() (1 cycle = 1 ns), as
// tests/models_sc/timing_test.cpp derives them.
#include <gtest/gtest.h>

#include "sc_test_util.h"

namespace cimsim::test {
namespace {

std::vector<Instruction> tagged(std::vector<Instruction> code, uint16_t layer) {
  for (Instruction& in : code) in.layer = layer;
  return code;
}

// core 0, layer l0: fill [0..32) 0..6; send it to core 1: read-out 6..8, injected at 8
//   (no credit wait: the send ends at 8), 8 flits one hop: arrival 8 + 2 + 8 = 18; halt
//   dispatched at 2 (one scalar cycle 2..3).
//   l0: no recv/load, so start = first unit instruction = 0; end 8; busy 6 + 2 + 1 = 9.
// core 1, layer l1: recv write-in 18..20 (waits 0..18 for the message: not work); copy of
//   32 bytes (port 4 cycles) 20..26; halt 1 cycle.
//   l1: start 18 (its bytes arrived), end 26, busy 2 + 6 + 1 = 9.
// core 3 (one hop south of the memory node 0), layer l2: load 64 B: data ready at the
//   memory 58, link 58, head 60, eject 60..76, write-in 76..80; halt 1 cycle.
//   l2: start 76, end 80, busy 4 + 1 = 5. The run ends at 80, with l2.
// cores 2, 4, 5, layer idle: halt only (1 scalar cycle each): no unit instruction.
Program pipeline() {
  Program p = program_for(small_arch());
  p.layers = {"l0", "l1", "l2", "idle"};
  p.cores[0].code = tagged({fill(A(0), 32, 9), send(A(0), 32, 1, 0), halt()}, 0);
  p.cores[1].code = tagged({recv(A(0), 32, 0, 0), copy(A(100), A(0), 32, 1, 0, 0, 1, 0, 0), halt()}, 1);
  p.cores[3].code = tagged({load(A(0), A(256), 64), halt()}, 2);
  for (int c : {2, 4, 5}) p.cores[static_cast<size_t>(c)].code = tagged({halt()}, 3);
  return p;
}

TEST(LayerTimes, HandDerivedStartEndBusy) {
  Sim sim(small_arch(), pipeline());
  const ChipStats s = sim.run();
  ASSERT_TRUE(sim.chip->finished()) << sim.chip->error();
  ASSERT_EQ(s.layer_times.size(), 4u);
  struct Want {
    uint64_t start, end, busy, instructions;
  };
  const Want want[] = {{0, 8, 9, 3}, {18, 26, 9, 3}, {76, 80, 5, 2}};
  for (size_t l = 0; l < 3; ++l) {
    const LayerTime& t = s.layer_times[l];
    EXPECT_EQ(cycles(t.start_ps), want[l].start) << "layer " << l;
    EXPECT_EQ(cycles(t.end_ps), want[l].end) << "layer " << l;
    EXPECT_EQ(cycles(t.busy_ps), want[l].busy) << "layer " << l;
    EXPECT_EQ(t.instructions, want[l].instructions) << "layer " << l;
  }
  EXPECT_EQ(s.layer_times[3].unit_instructions, 0u);
  EXPECT_EQ(s.layer_times[3].instructions, 3u);
  EXPECT_EQ(cycles(s.layer_times[3].busy_ps), 3u);
  // The run ends with its last layer; no layer ends after the run; every instruction counted.
  EXPECT_EQ(cycles(s.end_ps), 80u);
  uint64_t latest = 0, instructions = 0;
  for (const LayerTime& t : s.layer_times) {
    EXPECT_LE(t.end_ps, s.end_ps);
    latest = std::max(latest, t.end_ps);
    instructions += t.instructions;
  }
  EXPECT_EQ(latest, s.end_ps);
  EXPECT_EQ(instructions, s.instructions_executed);
}

TEST(LayerTimes, StartIsTheArrivalNotTheLateRecv) {
  // core 1 first fills [0..800): 2 + max(800 / 8, 800 / 16) = 102 cycles (0..102, port
  // 0..50); its recv into [0..32) must wait for that write (WAW) and starts at 102, while the
  // message from core 0 arrived at 18 (as above). Write-in 102..104.
  //   l1: start 18 (arrival, though its first unit instruction started at 0 and the recv
  //   took the bytes at 102), end 104, busy 102 + 2 + 1 = 105.
  Program p = program_for(small_arch());
  p.layers = {"l0", "l1"};
  p.cores[0].code = tagged({fill(A(0), 32, 9), send(A(0), 32, 1, 0), halt()}, 0);
  p.cores[1].code = tagged({fill(A(0), 800, 1), recv(A(0), 32, 0, 0), halt()}, 1);
  Sim sim(small_arch(), p);
  const ChipStats s = sim.run();
  ASSERT_TRUE(sim.chip->finished()) << sim.chip->error();
  EXPECT_EQ(cycles(s.layer_times[1].start_ps), 18u);
  EXPECT_EQ(cycles(s.layer_times[1].end_ps), 104u);
  EXPECT_EQ(cycles(s.layer_times[1].busy_ps), 105u);
  EXPECT_EQ(cycles(s.end_ps), 104u);
  EXPECT_EQ(get_bytes(*sim.chip, 1, 0, 32), std::vector<uint8_t>(32, 9));
}

TEST(LayerTimes, SameAttributionAsTheEnergyLedger) {
  // Instructions tagged with a layer outside Program::layers are charged to layer 0 by the
  // ledger; their time goes there too.
  ArchSpec arch = small_arch();
  arch.costs.components["vector_unit"] = {1.0, 0.0, 0.0, "test"};  // pJ per element
  Program p = program_for(arch);
  p.layers = {"l0", "l1"};
  p.cores[0].code = tagged({fill(A(0), 100, 7), halt()}, 9);
  Sim sim(arch, p);
  const ChipStats s = sim.run();
  ASSERT_TRUE(sim.chip->finished()) << sim.chip->error();
  // fill of 100: 0..15 (timing_test FillAlone), charged to layer 0 like its energy.
  EXPECT_EQ(cycles(s.layer_times[0].end_ps), 15u);
  EXPECT_DOUBLE_EQ(s.energy.get(Component::kVectorUnit, 0), 100.0);
  EXPECT_EQ(s.layer_times[1].instructions, 0u);
  EXPECT_EQ(s.energy.get(Component::kVectorUnit, 1), 0.0);
}

TEST(LayerTimes, DeterministicAndIndependentOfTheObserver) {
  struct Count : Observer {
    uint64_t events = 0;
    void on_event(const SimEvent&) override { ++events; }
  } observer;
  Sim a(small_arch(), pipeline());
  const ChipStats sa = a.run();
  a.chip.reset();
  Sim b(small_arch(), pipeline(), &observer);
  const ChipStats sb = b.run();
  EXPECT_GT(observer.events, 0u);
  ASSERT_EQ(sa.layer_times.size(), sb.layer_times.size());
  for (size_t l = 0; l < sa.layer_times.size(); ++l) {
    EXPECT_EQ(sa.layer_times[l].start_ps, sb.layer_times[l].start_ps);
    EXPECT_EQ(sa.layer_times[l].end_ps, sb.layer_times[l].end_ps);
    EXPECT_EQ(sa.layer_times[l].busy_ps, sb.layer_times[l].busy_ps);
    EXPECT_EQ(sa.layer_times[l].instructions, sb.layer_times[l].instructions);
  }
}

}  // namespace
}  // namespace cimsim::test
