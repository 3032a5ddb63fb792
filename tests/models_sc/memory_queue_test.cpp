// Back-pressure from global memory's request queue (memory.queue_depth, docs/timing.md
// "Global memory"): cycles derived by hand on small_arch() (memory at node 0, 50 cycles
// latency, 8 bytes per cycle; 4-byte flits, 2 cycles per hop; buffer port 16 B/cycle).
#include <gtest/gtest.h>

#include "sc_test_util.h"

namespace cimsim::test {
namespace {

ArchSpec with_queue(int depth) {
  ArchSpec a = small_arch();
  a.memory.queue_depth = depth;
  return a;
}

// Core 0 loads 64 B at cycle 0; core 1 loads 64 B at cycle 4 (after a 4-cycle fill of the
// same bytes). Core 0: port [0, 8), ready 58, ejects 58..74, write-in 74..78.
// Depth 2: core 1 is accepted at 4, port max(4, 8) = 8, ready 8 + 50 + 8 = 66; east link of
// node 0 66..82, head at node 1 at 68, ejects 68..84, write-in 84..88.
// Depth 1: core 0's request holds the only entry until 58; core 1 is accepted at 58, port
// 58, ready 116; link 116, head 118, ejects 118..134, write-in 134..138; waited 58 - 4 = 54.
struct TwoLoads {
  uint64_t core0 = 0, core1 = 0, stall_ps = 0;
};
TwoLoads two_loads(int depth) {
  Program p = program_for(small_arch());
  p.cores[0].code = {load(A(0), A(256), 64), halt()};
  p.cores[1].code = {fill(A(0), 16, 1), load(A(0), A(512), 64), halt()};
  Sim sim(with_queue(depth), p);
  ChipStats s = sim.run();
  EXPECT_TRUE(sim.chip->finished()) << sim.chip->error();
  return {cycles(s.core_finish_ps[0]), cycles(s.core_finish_ps[1]), s.memory_queue_stall_ps};
}

TEST(MemoryQueue, RoomForBothLoadsMeansNoWait) {
  const TwoLoads r = two_loads(2);
  EXPECT_EQ(r.core0, 78u);
  EXPECT_EQ(r.core1, 88u);
  EXPECT_EQ(r.stall_ps, 0u);
}

// The load's wait for an entry is an event on core 1: [4, 58), no energy.
struct Waits : Observer {
  std::vector<SimEvent> events;
  void on_event(const SimEvent& e) override {
    if (e.unit == Unit::kWait) events.push_back(e);
  }
};

TEST(MemoryQueue, QueueWaitIsReportedAsAnEvent) {
  Program p = program_for(small_arch());
  p.cores[0].code = {load(A(0), A(256), 64), halt()};
  p.cores[1].code = {fill(A(0), 16, 1), load(A(0), A(512), 64), halt()};
  Waits waits;
  Sim sim(with_queue(1), p, &waits);
  sim.run();
  ASSERT_EQ(waits.events.size(), 1u);
  const SimEvent& w = waits.events[0];
  EXPECT_EQ(w.core, 1);
  EXPECT_EQ(w.unit_index, 1);
  EXPECT_STREQ(w.action, "memory queue wait");
  EXPECT_EQ(w.start_ps, 4u * 1000u);
  EXPECT_EQ(w.start_ps + w.duration_ps, 58u * 1000u);
  EXPECT_EQ(w.energy_pj, 0.0);
}

TEST(MemoryQueue, FullQueueHoldsTheLoadUntilAnEntryFrees) {
  const TwoLoads r = two_loads(1);
  EXPECT_EQ(r.core0, 78u);
  EXPECT_EQ(r.core1, 138u);
  EXPECT_EQ(r.stall_ps, 54u * 1000u);
}

// A posted store holds an entry from its arrival at the memory until it is written.
// Core 1 stores 64 B: read-out [0, 4), injected at 4, tail at node 0 at 22 (docs example),
// accepted at 22, port 22..30, written at 80; core 1 itself is done at 4.
// Core 0 loads 64 B at 30 (after a 30-cycle fill of those bytes; the fill holds core 0's
// port [0, 14)). Depth 2: accepted at 30, port max(30, 30) = 30, ready 88, ejects 88..104,
// write-in 104..108. Depth 1: accepted at 80, ready 80 + 58 = 138, ejects 138..154,
// write-in 154..158; waited 50.
TEST(MemoryQueue, PostedStoreHoldsAnEntryUntilWritten) {
  for (int depth : {2, 1}) {
    Program p = program_for(small_arch());
    p.cores[0].code = {fill(A(0), 224, 3), load(A(0), A(256), 64), halt()};
    p.cores[1].code = {store(A(512), A(0), 64), halt()};
    Sim sim(with_queue(depth), p);
    ChipStats s = sim.run();
    ASSERT_TRUE(sim.chip->finished()) << sim.chip->error();
    EXPECT_EQ(cycles(s.core_finish_ps[1]), 4u) << "depth " << depth;
    EXPECT_EQ(cycles(s.core_finish_ps[0]), depth == 2 ? 108u : 158u) << "depth " << depth;
    EXPECT_EQ(s.memory_queue_stall_ps, depth == 2 ? 0u : 50u * 1000u) << "depth " << depth;
    EXPECT_EQ(cycles(s.end_ps), depth == 2 ? 108u : 158u);
  }
}

// Values follow causal order while requests wait: core 1's store waits behind core 0's long
// load (depth 1), core 1 then tells core 2, which loads the stored bytes; they must be the
// stored ones (the store's bytes are applied when it is injected, docs/models.md).
TEST(MemoryQueue, LoadAfterAWaitingStoreSeesItsBytes) {
  Program p = program_for(small_arch());
  p.cores[0].code = {load(A(0), A(1024), 512), halt()};
  p.cores[1].code = {fill(A(0), 64, 0x5A), store(A(2048), A(0), 64), send(A(0), 1, 2, 7), halt()};
  p.cores[2].code = {recv(A(0), 1, 1, 7), load(A(100), A(2048), 64), halt()};
  Sim sim(with_queue(1), p);
  ChipStats s = sim.run();
  ASSERT_TRUE(sim.chip->finished()) << sim.chip->error();
  EXPECT_EQ(get_bytes(*sim.chip, 2, 100, 64), std::vector<uint8_t>(64, 0x5A));
  EXPECT_GT(s.memory_queue_stall_ps, 0u);
}

}  // namespace
}  // namespace cimsim::test
