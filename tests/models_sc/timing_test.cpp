// Cycle-exact timing checks, each derived by hand from docs/timing.md on small_arch()
// (1 cycle = 1 ns). Every check compares the exact cycle, so "one cycle earlier" fails too.
#include <gtest/gtest.h>

#include <random>

#include "sc_test_util.h"

namespace cimsim::test {
namespace {

TileDesc make_tile(int pe, int xbar, int rows, int cols, uint32_t seed) {
  return random_tile(pe, xbar, rows, cols, seed);
}

// Finish cycle of core 0 running `code` (other cores halt at once).
uint64_t run_core0(std::vector<Instruction> code, std::vector<TileDesc> tiles = {},
                   ArchSpec arch = small_arch()) {
  Program p = program_for(arch);
  p.cores[0].code = std::move(code);
  p.cores[0].tiles = std::move(tiles);
  RequantDesc rq;
  rq.channels = 1;
  rq.bias = {0};
  rq.multiplier = {1 << 30};
  rq.shift = {31};
  p.cores[0].requant.push_back(rq);
  RequantDesc add;
  add.kind = RequantDesc::Kind::kAdd;
  add.mult_a = add.mult_b = 1 << 30;
  add.add_shift = 31;
  p.cores[0].requant.push_back(add);
  LutDesc lut;
  lut.in_unsigned = true;
  for (int i = 0; i < 256; ++i) lut.table.push_back(255 - i);
  p.cores[0].luts.push_back(lut);
  Sim sim(arch, p);
  ChipStats s = sim.run();
  EXPECT_TRUE(sim.chip->error().empty()) << sim.chip->error();
  EXPECT_TRUE(sim.chip->finished());
  return cycles(s.core_finish_ps[0]);
}

// Vector latency = 2 + max(ceil(n / 8), ceil(bytes_moved / 16)); the op dispatches at cycle 0
// and halt (dispatched at 1) waits for the unit to drain.
TEST(Timing, FillAlone) {
  // n = 100, moved = 100: max(13, 7) = 13 -> 15.
  EXPECT_EQ(run_core0({fill(A(0), 100, 7), halt()}), 15u);
}
TEST(Timing, CopyAlone) {
  // n = 10 * 3 * 2 = 60, moved 120: max(8, 8) -> 10.
  EXPECT_EQ(run_core0({copy(A(1000), A(0), 10, 3, 20, 10, 2, 100, 30), halt()}), 10u);
}
TEST(Timing, RequantAlone) {
  // n = 20, moved = 4*20 + 20 = 100: max(3, 7) -> 9.
  EXPECT_EQ(run_core0({requant(A(200), A(0), 20, 0), halt()}), 9u);
}
TEST(Timing, AddqAlone) {
  // n = 40, moved 120: max(5, 8) -> 10.
  EXPECT_EQ(run_core0({binop(Op::kAddq, A(200), A(0), A(100), 40, 1), halt()}), 10u);
}
TEST(Timing, Add32Alone) {
  // n = 10, moved 120: max(2, 8) -> 10.
  EXPECT_EQ(run_core0({binop(Op::kAdd32, A(200), A(0), A(100), 10, 0), halt()}), 10u);
}
TEST(Timing, MaxAlone) {
  // n = 64, moved 192: max(8, 12) -> 14.
  EXPECT_EQ(run_core0({binop(Op::kMax, A(200), A(0), A(100), 64, 1), halt()}), 14u);
}
TEST(Timing, Sum32Alone) {
  // n = 16, moved 4*16 + 16 + 4*16 = 144: max(2, 9) -> 11.
  EXPECT_EQ(run_core0({unop(Op::kSum32, A(200), A(0), 16, 1), halt()}), 11u);
}
TEST(Timing, LutAlone) {
  // n = 33, moved 66: max(5, 5) -> 7.
  EXPECT_EQ(run_core0({unop(Op::kLut, A(200), A(0), 33, 0), halt()}), 7u);
}

TEST(Timing, ScalarLoop) {
  // li, li (2) + 10 x (addi 1 + blt 1) + 9 taken branches (9) + halt (1) = 32.
  Program p = program_for(small_arch());
  p.cores[0].code = {li(1, 0), li(2, 10), addi(1, 1, 1), blt(1, 2, 2), halt()};
  Sim sim(small_arch(), p);
  ChipStats s = sim.run();
  EXPECT_EQ(cycles(s.core_finish_ps[0]), 32u);
  EXPECT_EQ(s.core_instructions[0], 23u);
  EXPECT_EQ(cycles(s.core_busy_ps[0]), 32u);
}

// mvm: ceil(32 rows / 16) = 2 input cycles; analog 10 + 8 * max(10, ceil(4*4 / 1) * 1) = 138;
// output ceil(16 / 16) = 1: 141 cycles.
TEST(Timing, MvmAlone) {
  EXPECT_EQ(run_core0({mvm(0, A(1024), A(0), 0), halt()}, {make_tile(0, 0, 32, 4, 1)}), 141u);
}

TEST(Timing, IndependentUnitsOverlap) {
  // fill [2000..2016) on the vector unit: 2 + max(2, 1) = 4 cycles (0..4), port 0..1. The mvm
  // reading [0..32) dispatches at 1 and finds the port free at 1: input 1..3, analog 3..141,
  // output 141..142. It overlaps the fill: 142, not 4 + 141.
  EXPECT_EQ(run_core0({fill(A(2000), 16, 1), mvm(0, A(1024), A(0), 0), halt()},
                      {make_tile(0, 0, 32, 4, 1)}),
            142u);
}

// Buffer port: one transfer at a time; a transfer starts at the earliest cycle >= its wanted
// start where the port is free for its whole ceil(bytes / 16) cycles.
TEST(Timing, VectorOpAndMvmInputLoadContendForThePort) {
  // fill [2000..2100): port ceil(100/16) = 7 cycles, 0..7 (the op runs 0..15). The mvm
  // dispatches at 1 and wants its input load at 1..3: the port is busy until 7, so the load
  // runs 7..9, analog 9..147, output 147..148. Without the port it would end at 142.
  EXPECT_EQ(run_core0({fill(A(2000), 100, 1), mvm(0, A(1024), A(0), 0), halt()},
                      {make_tile(0, 0, 32, 4, 1)}),
            148u);
}

TEST(Timing, PortBlockEndingAtTheWantedCycleDoesNotDelay) {
  // One cycle either side of the boundary: the mvm wants the port at 1.
  // fill 16 B holds the port 0..1: the load runs 1..3, end 1 + 141 = 142.
  EXPECT_EQ(run_core0({fill(A(2000), 16, 1), mvm(0, A(1024), A(0), 0), halt()},
                      {make_tile(0, 0, 32, 4, 1)}),
            142u);
  // fill 17 B holds it 0..2: the load runs 2..4, end 2 + 141 = 143.
  EXPECT_EQ(run_core0({fill(A(2000), 17, 1), mvm(0, A(1024), A(0), 0), halt()},
                      {make_tile(0, 0, 32, 4, 1)}),
            143u);
}

TEST(Timing, LaterTransferFillsAGapButNeverMovesAnEarlierOne) {
  // The mvm (dispatch 0) reserves the port 0..2 (input) and 140..141 (output); it ends at 141
  // whatever comes later. The fill dispatches at 1, wants the port at 1, finds it busy until 2.
  // 2208 B: port 2208/16 = 138 cycles, 2..140 fits the gap before the output write exactly;
  // the fill ends 2 + 2 + max(ceil(2208/8) = 276, 138) = 280.
  std::vector<TileDesc> tiles = {make_tile(0, 0, 32, 4, 1)};
  EXPECT_EQ(run_core0({mvm(0, A(1024), A(0), 0), fill(A(1100), 2208, 1), halt()}, tiles), 280u);
  // 2209 B: 139 port cycles, 2..141 would overlap 140..141, so the fill waits for the output
  // write: it starts at 141 and ends 141 + 2 + max(277, 139) = 420.
  EXPECT_EQ(run_core0({mvm(0, A(1024), A(0), 0), fill(A(1100), 2209, 1), halt()}, tiles), 420u);
}

TEST(Timing, SecondBufferPortTakesTheOverflow) {
  // fill [2000..2100) holds a port 0..7 (op 0..15); mvm0 (dispatch 1), mvm1 on crossbar 1
  // (dispatch 2), both reading 32 B.
  std::vector<TileDesc> tiles = {make_tile(0, 0, 32, 4, 1), make_tile(0, 1, 32, 4, 2)};
  std::vector<Instruction> code = {fill(A(2000), 100, 1), mvm(0, A(1024), A(0), 0),
                                   mvm(1, A(1536), A(64), 0), halt()};
  // One port: mvm0 input 7..9, analog 9..147, output 147..148. mvm1 wants 2..4: the port is
  // busy until 7 and 7..9 is taken, so its input runs 9..11, analog 11..149, output 149..150.
  EXPECT_EQ(run_core0(code, tiles), 150u);
  // Two ports: mvm0's input takes port 1 at 1..3 (port 0 is busy until 7): analog 3..141,
  // output 141..142 on port 0 (free at 141, the lowest index). mvm1 wants 2..4: port 0 could
  // start at 7, port 1 at 3, so 3..5 on port 1; analog 5..143, output 143..144 on port 0.
  ArchSpec two = small_arch();
  two.core.buffer_ports = 2;
  EXPECT_EQ(run_core0(code, tiles, two), 144u);
}

TEST(Timing, MvmWithAccumulateReadsAndWritesTheAccumulator) {
  // acc=1: phase 3 reads D and writes it back, 2 * ceil(16/16) = 2 cycles: 2 + 138 + 2 = 142.
  EXPECT_EQ(run_core0({mvm(0, A(1024), A(0), 1), halt()}, {make_tile(0, 0, 32, 4, 1)}), 142u);
}

TEST(Timing, TlmShiftAddLatencyDelaysTheAccumulatorWrite) {
  // pe.shift_add_latency_cycles = 5: the result is ready 5 cycles after the analog part,
  // so the output write runs 145..146 instead of 140..141.
  ArchSpec arch = small_arch();
  arch.pe.shift_add_latency_cycles = 5;
  EXPECT_EQ(run_core0({mvm(0, A(1024), A(0), 0), halt()}, {make_tile(0, 0, 32, 4, 1)}, arch), 146u);
}

TEST(Timing, TwoMvmsContendForInputLoads) {
  // Two crossbars with their own ADCs. mvm0: input 0..2, analog 2..140, output 140..141.
  // mvm1 (dispatch 1) wants the port at 1..3; it is busy until 2: input 2..4, analog
  // 4..142, output 142..143.
  std::vector<TileDesc> tiles = {make_tile(0, 0, 32, 4, 1), make_tile(0, 1, 32, 4, 2)};
  EXPECT_EQ(run_core0({mvm(0, A(1024), A(0), 0), mvm(1, A(2048), A(64), 0), halt()}, tiles), 143u);
}

TEST(Timing, SendReadOutWaitsForThePort) {
  // fill [100..196) 96 B: port 0..6 (op 0..14). send [0..40) dispatches at 1, wants the
  // read-out at 1: it runs 6..9, so the core's send is done at 9 (3 without the fill's port
  // use); arrival at core 1 (one hop) 9 + 2 + 10 = 21, recv write-in 21..24.
  Program p = program_for(small_arch());
  p.cores[0].code = {fill(A(100), 96, 1), send(A(0), 40, 1, 5), halt()};
  p.cores[1].code = {recv(A(0), 40, 0, 5), halt()};
  Sim sim(small_arch(), p);
  ChipStats s = sim.run();
  ASSERT_TRUE(sim.chip->finished()) << sim.chip->error();
  EXPECT_EQ(cycles(s.core_finish_ps[0]), 14u);
  EXPECT_EQ(cycles(s.core_finish_ps[1]), 24u);
}

TEST(Timing, DependentOpsSerializeThroughTheBuffer) {
  // fill [0..32): n 32 -> 2 + max(4, 2) = 6; mvm reads it (RAW): starts at 6, ends 147.
  EXPECT_EQ(run_core0({fill(A(0), 32, 1), mvm(0, A(1024), A(0), 0), halt()},
                      {make_tile(0, 0, 32, 4, 1)}),
            147u);
}

TEST(Timing, WriteAfterReadAndWriteAfterWrite) {
  // mvm reads [0..32) from cycle 0. fill [0..32) (WAR) may start once the mvm started:
  // dispatch 1, 1 + 2 + max(4, 2) = 7. fill [1024..1040) overwrites the mvm's output (WAW):
  // it waits for the mvm's end 141; 2 + max(2, 1) = 4 -> 145.
  EXPECT_EQ(run_core0({mvm(0, A(1024), A(0), 0), fill(A(0), 32, 0), fill(A(1024), 16, 0), halt()},
                      {make_tile(0, 0, 32, 4, 1)}),
            145u);
}

TEST(Timing, SharedAdcSerializesConversions) {
  // Two crossbars of PE 0 sharing one ADC: the second analog phase waits for the first.
  // mvm0: input 0..2 -> analog 2..140 -> output 140..141. mvm1 (dispatch 1): the port is
  // busy until 2, input 2..4; ADC free at 140: analog 140..278, output 278..279.
  ArchSpec shared = small_arch();
  shared.pe.adcs = 1;
  std::vector<TileDesc> tiles = {make_tile(0, 0, 32, 4, 1), make_tile(0, 1, 32, 4, 2)};
  EXPECT_EQ(run_core0({mvm(0, A(1024), A(0), 0), mvm(1, A(2048), A(64), 0), halt()}, tiles, shared),
            279u);
  // With an ADC each they overlap, only the input loads serialize on the port: input 2..4,
  // analog 4..142, output 142..143.
  EXPECT_EQ(run_core0({mvm(0, A(1024), A(0), 0), mvm(1, A(2048), A(64), 0), halt()}, tiles), 143u);
}

TEST(Timing, DispatchQueueFullStallsDispatch) {
  // Six 100-byte fills (15 cycles each) on the vector unit, queue depth 4: fill k starts at
  // 15k and holds the port 15k..15k+7; fill 5 may dispatch only when fill 1 has started (15).
  // The mvm after them therefore dispatches at 16 (not 6). Its input load wants the port at
  // 16..18, which fill 1 holds until 22 (fill 2's block starts at 30, so 22..24 fits):
  // analog 24..162, output 162..163.
  std::vector<Instruction> code;
  for (int k = 0; k < 6; ++k) code.push_back(fill(A(100 * k), 100, 1));
  code.push_back(mvm(0, A(3000), A(1000), 0));
  code.push_back(halt());
  EXPECT_EQ(run_core0(code, {make_tile(0, 0, 32, 4, 1)}), 163u);
}

// send/recv: read-out ceil(40/16) = 3, 10 flits; arrival = inject + hops * 2 + 10;
// recv end = arrival + 3.
uint64_t send_recv(int dst) {
  Program p = program_for(small_arch());
  p.cores[0].code = {send(A(0), 40, dst, 5), halt()};
  p.cores[static_cast<size_t>(dst)].code = {recv(A(0), 40, 0, 5), halt()};
  Sim sim(small_arch(), p);
  for (int i = 0; i < 40; ++i) sim.chip->buffer(0).data()[i] = static_cast<uint8_t>(i * 3);
  ChipStats s = sim.run();
  EXPECT_TRUE(sim.chip->finished());
  EXPECT_EQ(get_bytes(*sim.chip, dst, 0, 40), get_bytes(*sim.chip, 0, 0, 40));
  EXPECT_EQ(cycles(s.core_finish_ps[0]), 3u);
  return cycles(s.core_finish_ps[static_cast<size_t>(dst)]);
}

TEST(Timing, SendRecvOneHop) {
  // core 1 is one hop east: 3 + 2 + 10 = 15; + 3 = 18.
  EXPECT_EQ(send_recv(1), 18u);
}

TEST(Timing, SendRecvThreeHops) {
  // core 5 = (row 1, col 2): 2 hops east + 1 south: 3 + 6 + 10 = 19; + 3 = 22.
  EXPECT_EQ(send_recv(5), 22u);
}

TEST(Timing, TwoSendersContendForOneLink) {
  // core 0 -> core 2 (links 0E, 1E, eject 2) injects at 3: 0E 3..13, 1E 5..15, eject 7..17.
  // core 1 -> core 2 starts 1 cycle later (an li first), injects at 4: 1E busy until 15, so
  // it enters at 15, head at node 2 at 17, eject 17..27: arrival 27 (16 without contention).
  // core 2: recv from 0 ends 17 + 3 = 20; recv from 1 starts 20, ends 27 + 3 = 30.
  Program p = program_for(small_arch());
  p.cores[0].code = {send(A(0), 40, 2, 1), halt()};
  p.cores[1].code = {li(3, 0), send(A(0), 40, 2, 2), halt()};
  p.cores[2].code = {recv(A(0), 40, 0, 1), recv(A(64), 40, 1, 2), halt()};
  Sim sim(small_arch(), p);
  ChipStats s = sim.run();
  EXPECT_TRUE(sim.chip->finished());
  EXPECT_EQ(cycles(s.core_finish_ps[2]), 30u);
  // 10 flits x (2 hops + 1 hop) link traversals between routers.
  EXPECT_EQ(s.flit_hops, 30u);
}

TEST(Timing, LoadLatency) {
  // memory: 50 cycles latency, 64 B / 8 B per cycle = 8: data ready at 58; 16 flits.
  // core 0 (the memory node): eject 58..74, + ceil(64/16) = 4 -> 78.
  // core 1 (one hop): link 58, head 60, eject 60..76, + 4 -> 80.
  Program p = program_for(small_arch());
  p.cores[0].code = {load(A(0), A(256), 64), halt()};
  Sim sim0(small_arch(), p);
  std::vector<uint8_t> data(64);
  for (int i = 0; i < 64; ++i) data[static_cast<size_t>(i)] = static_cast<uint8_t>(i * 5 + 1);
  sim0.chip->memory().write(256, data.data(), data.size());
  EXPECT_EQ(cycles(sim0.run().core_finish_ps[0]), 78u);
  EXPECT_EQ(get_bytes(*sim0.chip, 0, 0, 64), data);
  sim0.chip.reset();
  Program q = program_for(small_arch());
  q.cores[1].code = {load(A(0), A(256), 64), halt()};
  Sim sim1(small_arch(), q);
  EXPECT_EQ(cycles(sim1.run().core_finish_ps[1]), 80u);
}

TEST(Timing, StoreCompletesForTheCoreAtReadOut) {
  // core 1 stores 64 B: read-out 4, inject 4; 1W 4..20, head at node 0 at 6, eject 6..22;
  // memory port 22..30, written at 22 + 50 + 8 = 80. The core is done at 4; the chip at 80.
  Program p = program_for(small_arch());
  p.cores[1].code = {store(A(512), A(0), 64), halt()};
  Sim sim(small_arch(), p);
  for (int i = 0; i < 64; ++i) sim.chip->buffer(1).data()[i] = static_cast<uint8_t>(200 - i);
  ChipStats s = sim.run();
  EXPECT_EQ(cycles(s.core_finish_ps[1]), 4u);
  EXPECT_EQ(cycles(s.end_ps), 80u);
  EXPECT_EQ(sim.global(512, 64), get_bytes(*sim.chip, 1, 0, 64));
  EXPECT_EQ(s.memory_bytes, 64u);
}

TEST(Timing, TwoCorePipelineOverlaps) {
  // core 0: fill [0..32) 0..6 (port 0..2); send it (start 6, read-out on the port 6..8,
  // inject 8, 8 flits: arrival 8 + 2 + 8 = 18); a long fill of 800 B: the vector unit is
  // free at 6, but the port is busy with the send's read-out until 8, so its 50 port cycles
  // run 8..58 and the op 8 + 2 + max(100, 50) = 110.
  // core 1: recv write-in 18..20; copy of the 32 bytes (port 4 cycles) 20..26 -> finishes
  // at 26, long before core 0 (110).
  Program p = program_for(small_arch());
  p.cores[0].code = {fill(A(0), 32, 9), send(A(0), 32, 1, 0), fill(A(64), 800, 1), halt()};
  p.cores[1].code = {recv(A(0), 32, 0, 0), copy(A(100), A(0), 32, 1, 0, 0, 1, 0, 0), halt()};
  Sim sim(small_arch(), p);
  ChipStats s = sim.run();
  EXPECT_EQ(cycles(s.core_finish_ps[0]), 110u);
  EXPECT_EQ(cycles(s.core_finish_ps[1]), 26u);
  EXPECT_EQ(cycles(s.end_ps), 110u);
  EXPECT_EQ(get_bytes(*sim.chip, 1, 100, 32), std::vector<uint8_t>(32, 9));
}

}  // namespace
}  // namespace cimsim::test
