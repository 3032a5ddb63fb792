// Chip-level behaviour: deadlock reporting, runtime errors, energy accounting against
// counts x costs, observer events, determinism.
#include <gtest/gtest.h>

#include <random>

#include "models/kernels/crossbar_kernel.h"
#include "sc_test_util.h"

namespace cimsim::test {
namespace {

TEST(Chip, DeadlockIsReportedWithPeerAndTag) {
  Program p = program_for(small_arch());
  p.cores[0].code = {recv(A(0), 8, 1, 7), halt()};
  p.cores[1].code = {recv(A(0), 8, 0, 9), halt()};
  Sim sim(small_arch(), p);
  sim.run();
  EXPECT_FALSE(sim.chip->finished());
  EXPECT_TRUE(sim.chip->error().empty());
  auto b = sim.chip->blocked();
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].core, 0);
  EXPECT_EQ(b[0].pc, 0u);
  EXPECT_EQ(b[0].waiting_for, "recv from core 1 tag 7");
  EXPECT_NE(b[0].instruction.find("recv"), std::string::npos);
  EXPECT_EQ(b[1].core, 1);
  EXPECT_EQ(b[1].waiting_for, "recv from core 0 tag 9");
}

TEST(Chip, UnreceivedMessageMeansNotFinished) {
  Program p = program_for(small_arch());
  p.cores[0].code = {send(A(0), 8, 1, 3), halt()};
  Sim sim(small_arch(), p);
  sim.run();
  EXPECT_FALSE(sim.chip->finished());
  EXPECT_TRUE(sim.chip->blocked().empty());
}

std::string run_error(std::vector<Instruction> code, int core = 0) {
  Program p = program_for(small_arch());
  p.cores[static_cast<size_t>(core)].code = std::move(code);
  Sim sim(small_arch(), p);
  sim.run();
  EXPECT_FALSE(sim.chip->finished());
  return sim.chip->error();
}

TEST(Chip, OutOfRangeBufferAccessNamesCoreAndPc) {
  std::string e = run_error({li(1, 4000), fill(A(90, 1), 10, 0), halt()}, 2);
  EXPECT_NE(e.find("core 2, pc 1 (fill [r1+90], len=10, value=0)"), std::string::npos) << e;
  EXPECT_NE(e.find("outside the local buffer"), std::string::npos) << e;
}

TEST(Chip, OutOfRangeGlobalMemoryIsAnError) {
  std::string e = run_error({load(A(0), A((1 << 20) - 4), 8), halt()});
  EXPECT_NE(e.find("core 0, pc 0 (load"), std::string::npos) << e;
  EXPECT_NE(e.find("outside its capacity"), std::string::npos) << e;
}

TEST(Chip, RecvLengthMismatchIsAnError) {
  Program p = program_for(small_arch());
  p.cores[0].code = {send(A(0), 8, 1, 3), halt()};
  p.cores[1].code = {recv(A(0), 16, 0, 3), halt()};
  Sim sim(small_arch(), p);
  sim.run();
  EXPECT_NE(sim.chip->error().find("message of 8 bytes from core 0 tag 3, expected 16"), std::string::npos)
      << sim.chip->error();
}

TEST(Chip, InputCodeOutsideActivationBitsIsAProgramFault) {
  ArchSpec arch = small_arch();
  arch.quantization.activation_bits = 4;
  Program p = program_for(arch);
  TileDesc t;
  t.rows = 2;
  t.cols = 1;
  t.weights = {1, 1};
  p.cores[0].tiles = {t};
  p.cores[0].code = {fill(A(0), 2, 200), mvm(0, A(64), A(0), 0), halt()};
  Sim sim(arch, p);
  sim.run();
  const std::string& e = sim.chip->error();
  EXPECT_EQ(e.rfind("core 0, pc 1 (mvm t0, [r0+64], [r0+0], acc=0): ", 0), 0u) << e;
}

TEST(Chip, BadBranchTargetIsAnError) {
  std::string e = run_error({blt(0, 15, 99), halt()});
  EXPECT_NE(e.find("branch target 99"), std::string::npos) << e;
}

TEST(Chip, TileOnMissingPeIsAnInputError) {
  Program p = program_for(small_arch());
  TileDesc t;
  t.pe = 2;
  t.rows = 1;
  t.cols = 1;
  t.weights = {1};
  p.cores[0].tiles = {t};
  reset_systemc_context();
  EXPECT_THROW(Chip("chip", small_arch(), p, 1, nullptr), InputError);
}

ArchSpec costed_arch() {
  ArchSpec a = small_arch();
  const std::pair<const char*, double> costs[] = {
      {"crossbar", 1.5}, {"dac", 0.25},  {"snh", 0.125},       {"adc", 2.0},
      {"shift_add", 0.5}, {"pe_input_reg", 0.0625}, {"pe_output_reg", 0.03125},
      {"buffer", 3.0},   {"bus", 0.01},  {"router", 0.7},      {"vector_unit", 0.2},
      {"scalar_unit", 0.9}, {"memory", 0.05}, {"core_output_reg", 1.25}};
  for (const auto& c : costs) a.costs.components[c.first].energy_pj = c.second;
  return a;
}

TileDesc energy_tile() {
  TileDesc t;
  t.rows = 32;
  t.cols = 4;
  t.layer = 1;
  std::mt19937 g(5);
  for (int i = 0; i < 128; ++i) t.weights.push_back(static_cast<int8_t>(static_cast<int>(g() % 255) - 127));
  return t;
}

Program energy_program() {
  Program p = program_for(small_arch());
  Instruction m = mvm(0, A(1024), A(0), 0);
  m.layer = 1;
  p.cores[0].tiles = {energy_tile()};
  p.cores[0].code = {li(1, 5), fill(A(0), 100, 3), m, send(A(0), 40, 5, 1), load(A(2000), A(256), 64),
                     store(A(512), A(0), 32), halt()};
  p.cores[5].code = {recv(A(0), 40, 0, 1), halt()};
  return p;
}

struct Recorder : Observer {
  std::vector<SimEvent> events;
  int finishes = 0;
  uint64_t end_ps = 0;
  void on_event(const SimEvent& e) override { events.push_back(e); }
  void on_finish(uint64_t ps) override {
    ++finishes;
    end_ps = ps;
  }
};

TEST(Chip, EnergyEqualsCountsTimesCosts) {
  ArchSpec arch = costed_arch();
  Recorder rec;
  Sim sim(arch, energy_program(), &rec);
  ChipStats s = sim.run();
  ASSERT_TRUE(sim.chip->finished()) << sim.chip->error();

  // The same MVM on a stand-alone tile gives the analog action counts.
  std::vector<uint8_t> x(32, 3);
  std::vector<int32_t> y(4);
  MvmStats ms;
  ProgrammedTile(arch, energy_tile(), 0).mvm(x.data(), y.data(), false, &ms);

  auto total = [&](Component c) { return s.energy.get(c, 0) + s.energy.get(c, 1); };
  // 7 scalar instructions: li + 6 halts.
  EXPECT_DOUBLE_EQ(total(Component::kScalarUnit), 7 * 0.9);
  EXPECT_DOUBLE_EQ(total(Component::kVectorUnit), 100 * 0.2);
  EXPECT_DOUBLE_EQ(total(Component::kCrossbar), ms.input_steps * 1.5);
  EXPECT_DOUBLE_EQ(total(Component::kDac), ms.row_drives * 0.25);
  EXPECT_DOUBLE_EQ(total(Component::kSnh), ms.adc_conversions * 0.125);
  EXPECT_DOUBLE_EQ(total(Component::kAdc), ms.adc_conversions * 2.0);
  EXPECT_DOUBLE_EQ(total(Component::kShiftAdd), ms.shift_adds * 0.5);
  EXPECT_DOUBLE_EQ(total(Component::kPeInputReg), 32 * 0.0625);
  EXPECT_DOUBLE_EQ(total(Component::kPeOutputReg), 16 * 0.03125);
  // buffer accesses: fill 7, mvm 2 + 1, send 3, recv 3, load 4, store 2.
  EXPECT_DOUBLE_EQ(total(Component::kBuffer), (7 + 3 + 3 + 3 + 4 + 2) * 3.0);
  // core output register: one access per bpc-byte chunk sent out: send ceil(40/16) = 3,
  // store ceil(32/16) = 2 (recv and load write the buffer from the NIC, not through it).
  EXPECT_DOUBLE_EQ(total(Component::kCoreOutputReg), (3 + 2) * 1.25);
  EXPECT_DOUBLE_EQ(s.energy.get(Component::kCoreOutputReg, 1), 0.0);
  // bus bytes: fill 100, mvm 32 + 16, send 40, recv 40, load 64, store 32.
  EXPECT_NEAR(total(Component::kBus), (100 + 48 + 40 + 40 + 64 + 32) * 0.01, 1e-9);
  // router: send 10 flits x (3 hops + 1); load 16 x 1; store 8 x 1 (core 0 is the memory node).
  EXPECT_NEAR(total(Component::kRouter), (40 + 16 + 8) * 0.7, 1e-9);
  EXPECT_NEAR(total(Component::kMemory), (64 + 32) * 0.05, 1e-9);
  // Layer 1 holds exactly the mvm's energy.
  double mvm_pj = ms.input_steps * 1.5 + ms.row_drives * 0.25 + ms.adc_conversions * 2.125 +
                  ms.shift_adds * 0.5 + 32 * 0.0625 + 16 * 0.03125 + 3 * 3.0 + 48 * 0.01;
  double layer1 = 0;
  for (size_t c = 0; c < static_cast<size_t>(Component::kCount); ++c)
    layer1 += s.energy.get(static_cast<Component>(c), 1);
  EXPECT_NEAR(layer1, mvm_pj, 1e-9);
  EXPECT_EQ(s.mvms, 1u);
  EXPECT_EQ(s.macs, 32u * 4u);
  EXPECT_EQ(rec.finishes, 1);
  EXPECT_EQ(rec.end_ps, s.end_ps);
  EXPECT_EQ(s.adc_conversions, static_cast<uint64_t>(ms.adc_conversions));

  // Observer: one event per instruction, and the events' energy adds up to the ledger.
  size_t instr_events = 0;
  double event_pj = 0, ledger_pj = 0;
  size_t links = 0;
  for (const SimEvent& e : rec.events) {
    if (e.unit == Unit::kLink) ++links;
    if (e.unit != Unit::kLink && e.unit != Unit::kMemory) ++instr_events;
    event_pj += e.energy_pj;
  }
  for (size_t l = 0; l < 2; ++l)
    for (size_t c = 0; c < static_cast<size_t>(Component::kCount); ++c)
      ledger_pj += s.energy.get(static_cast<Component>(c), static_cast<uint16_t>(l));
  EXPECT_EQ(instr_events, s.instructions_executed);
  EXPECT_EQ(s.instructions_executed, 7u + 2u + 4u);  // core 0, core 5, four idle halts
  EXPECT_NEAR(event_pj, ledger_pj, 1e-9);
  // send: 3 router-to-router links + ejection; load and store: ejection only.
  EXPECT_EQ(links, 4u + 1u + 1u);
}

TEST(Chip, SameInputsSameResults) {
  ArchSpec arch = costed_arch();
  ChipStats a, b;
  {
    Sim sim(arch, energy_program());
    a = sim.run();
  }
  {
    Sim sim(arch, energy_program());
    b = sim.run();
  }
  EXPECT_EQ(a.end_ps, b.end_ps);
  EXPECT_EQ(a.core_finish_ps, b.core_finish_ps);
  EXPECT_EQ(a.core_busy_ps, b.core_busy_ps);
  EXPECT_EQ(a.energy.get(Component::kBuffer, 0), b.energy.get(Component::kBuffer, 0));
}

TEST(Chip, TimeLimitLeavesCoresRunning) {
  Program p = program_for(small_arch());
  p.cores[0].code = {addi(1, 1, 1), blt(1, 15, 0), halt()};
  Sim sim(small_arch(), p);
  sim.chip->set_batch(10000000);
  sc_core::sc_start(sc_core::sc_time(1000, sc_core::SC_NS));
  EXPECT_FALSE(sim.chip->finished());
  EXPECT_TRUE(sc_core::sc_pending_activity());
  auto b = sim.chip->blocked();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].core, 0);
  EXPECT_EQ(b[0].waiting_for, "running (simulation time limit)");
}

TEST(Chip, BatchRegisterAndProgress) {
  // r15 = batch: a loop of `batch` iterations of addi/blt.
  Program p = program_for(small_arch());
  p.cores[0].code = {addi(1, 1, 1), blt(1, 15, 0), halt()};
  Sim sim(small_arch(), p);
  sim.chip->set_batch(1000);
  ChipStats s = sim.run();
  EXPECT_EQ(s.core_instructions[0], 2001u);
  EXPECT_EQ(sim.chip->progress_instructions().load(), s.instructions_executed);
  // 1000 x 2 + 999 taken + halt = 3000 cycles.
  EXPECT_EQ(cycles(s.core_finish_ps[0]), 3000u);
}

}  // namespace
}  // namespace cimsim::test
