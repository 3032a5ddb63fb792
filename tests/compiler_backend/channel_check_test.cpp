// The static checker's model of bounded receive channels (compiler/backend/program_check.h,
// docs/timing.md "Back-pressure"): with rx_channel_bytes > 0 a send blocks while the bytes
// sent to that destination and not yet received, plus its own, exceed the channel; a message
// larger than the channel is a problem. Hand-built programs whose verdict is known, checked
// against the SystemC chip too; a compiled model on an arch whose channels are smaller than
// its messages (the backend splits them) is sound and bit-exact on the chip.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <unistd.h>

#include <systemc>

#include "compiler/backend/backend.h"
#include "compiler/backend/program_check.h"
#include "models/sc/chip.h"
#include "qmodel_util.h"

namespace cimsim {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr int64_t kBuffer = 4096;

Instruction ins(Op op, std::array<int32_t, 8> imm) {
  Instruction i;
  i.op = op;
  i.imm = imm;
  return i;
}
// Sends read from and recvs write to `addr`, so the programs also run on the chip.
Instruction send(int len, int dst, int tag, int addr = 0) {
  Instruction i = ins(Op::kSend, {len, dst, tag, 0, 0, 0, 0, 0});
  i.addr[1].imm = addr;
  return i;
}
Instruction recv(int len, int src, int tag, int addr = 0) {
  Instruction i = ins(Op::kRecv, {len, src, tag, 0, 0, 0, 0, 0});
  i.addr[0].imm = addr;
  return i;
}
Instruction halt() { return ins(Op::kHalt, {}); }

Program with_cores(int n) {
  Program p;
  p.layers = {"l0"};
  p.cores.resize(static_cast<size_t>(n));
  for (auto& c : p.cores) c.code = {halt()};
  return p;
}

// Core 0 sends 40 B with tag 1, then tag 2; core 1 receives tag 2 first.
Program out_of_order() {
  Program p = with_cores(2);
  p.cores[0].code = {send(40, 1, 1, 0), send(40, 1, 2, 40), halt()};
  p.cores[1].code = {recv(40, 0, 2, 40), recv(40, 0, 1, 0), halt()};
  return p;
}

backend::CheckResult check(const Program& p, int64_t rx) {
  return backend::check_program(p, 1, kBuffer, 0, rx);
}

TEST(ChannelCheck, OutOfOrderRecvDeadlocksWhenTheChannelHoldsOneMessage) {
  EXPECT_TRUE(check(out_of_order(), 0).ok());
  // Both messages fit at once: 40 + 40 <= 80.
  EXPECT_TRUE(check(out_of_order(), 80).ok());
  // One byte less: tag 2 needs room that only the recv of tag 1 (after core 1's recv of tag 2)
  // would free.
  for (int64_t rx : {int64_t{79}, int64_t{64}, int64_t{40}}) {
    SCOPED_TRACE("rx_channel_bytes = " + std::to_string(rx));
    const backend::CheckResult r = check(out_of_order(), rx);
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.problems.front(), HasSubstr("deadlock"));
    EXPECT_THAT(r.problems.front(),
                HasSubstr("core 0 waits at instruction 1 to send 40 bytes (tag 2) for room in the "
                          "receive channel (40 of noc.rx_channel_bytes = " + std::to_string(rx)));
    EXPECT_THAT(r.problems.front(), HasSubstr("core 1 waits at instruction 0 for tag 2 from core 0"));
  }
}

TEST(ChannelCheck, MessageLargerThanTheChannel) {
  Program p = with_cores(2);
  p.cores[0].code = {send(80, 1, 3), halt()};
  p.cores[1].code = {recv(80, 0, 3), halt()};
  EXPECT_TRUE(check(p, 0).ok());
  EXPECT_TRUE(check(p, 80).ok());
  const backend::CheckResult r = check(p, 79);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.problems.front(), HasSubstr("core 0 instruction 0: send of 80 bytes to core 1 is "
                                            "larger than the receive channel (noc.rx_channel_bytes = 79)"));
}

// Core 0 sends `n` messages of `len` bytes to core 1 in a loop (r1 counts), core 1 receives
// them in order in a loop: many more bytes than one channel holds, drained as they come.
Program stream(int n, int len) {
  Program p = with_cores(2);
  Instruction li1 = ins(Op::kLi, {0, 0, 0, 0, 0, 0, 0, 0});
  li1.rd = 1;
  Instruction li2 = ins(Op::kLi, {n, 0, 0, 0, 0, 0, 0, 0});
  li2.rd = 2;
  Instruction inc = ins(Op::kAddi, {1, 0, 0, 0, 0, 0, 0, 0});
  inc.rd = 1;
  inc.rs = 1;
  Instruction loop = ins(Op::kBlt, {2, 0, 0, 0, 0, 0, 0, 0});  // back to pc 2
  loop.rs = 1;
  loop.rt = 2;
  p.cores[0].code = {li1, li2, send(len, 1, 9), inc, loop, halt()};
  p.cores[1].code = {li1, li2, recv(len, 0, 9), inc, loop, halt()};
  return p;
}

TEST(ChannelCheck, InOrderStreamLargerThanTheChannelIsSound) {
  const backend::CheckResult r = check(stream(25, 40), 40);  // 1000 bytes through 40
  EXPECT_TRUE(r.ok()) << r.problems.front();
  EXPECT_EQ(r.messages, 25);
  EXPECT_TRUE(check(stream(25, 40), 64).ok());
}

TEST(ChannelCheck, ExchangeWithoutReceivingFirstDeadlocksOnCredits) {
  // Cores 0 and 1 each send two 40-byte messages to the other before receiving any: with a
  // 64-byte channel both second sends wait for room only the other's recvs would make.
  Program p = with_cores(2);
  for (int c = 0; c < 2; ++c) {
    const int peer = 1 - c;
    p.cores[static_cast<size_t>(c)].code = {send(40, peer, 1, 0), send(40, peer, 2, 40),
                                            recv(40, peer, 1, 100), recv(40, peer, 2, 140), halt()};
  }
  EXPECT_TRUE(check(p, 0).ok());
  EXPECT_TRUE(check(p, 80).ok());
  const backend::CheckResult r = check(p, 64);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.problems.front(), HasSubstr("core 0 waits at instruction 1 to send 40 bytes (tag 2)"));
  EXPECT_THAT(r.problems.front(), HasSubstr("of core 1 waits at instruction 1 to send 40 bytes (tag 2)"));
  EXPECT_THAT(r.problems.front(), HasSubstr("cycle of waits"));
}

TEST(ChannelCheck, SenderBlockedByAReceiverThatHalted) {
  // Core 1 never receives: core 0's second message never gets room.
  Program p = with_cores(2);
  p.cores[0].code = {send(40, 1, 1, 0), send(40, 1, 2, 40), halt()};
  const backend::CheckResult r = check(p, 64);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.problems.front(), HasSubstr("core 0 waits at instruction 1 to send 40 bytes (tag 2)"));
  EXPECT_THAT(r.problems.front(), HasSubstr("of core 1 (finished: never receives it)"));
  EXPECT_THAT(r.problems, ::testing::Contains(HasSubstr("from core 0 to core 1 tag 1 never received")));
}

TEST(ChannelCheck, ChannelsArePerSender) {
  // Core 1 takes core 2's message before core 0's first one. Core 0's second message waits
  // for its own channel only; core 2's is independent, so 64 bytes per sender are enough
  // (a single 64-byte buffer shared by both senders would not hold 40 + 40).
  Program p = with_cores(3);
  p.cores[0].code = {send(40, 1, 1, 0), send(40, 1, 2, 40), halt()};
  p.cores[2].code = {send(40, 1, 3, 0), halt()};
  p.cores[1].code = {recv(40, 2, 3, 200), recv(40, 0, 1, 0), recv(40, 0, 2, 40), halt()};
  EXPECT_TRUE(check(p, 64).ok());
}

// The checker's verdict is the chip's: the simulator finishes the sound programs and blocks on
// the deadlocked ones (tiny.yaml on a 2 x 2 mesh, the channel bound set in the arch).
bool chip_finishes(Program p, int64_t rx) {
  ArchSpec a = testing::test_arch(2, 2);
  a.noc.rx_channel_bytes = rx;
  p.cores.resize(static_cast<size_t>(a.chip.cores));
  for (auto& c : p.cores)
    if (c.code.empty()) c.code = {halt()};
  reset_systemc_context();
  Chip chip("chip", a, p, 1, nullptr);
  sc_core::sc_start();
  EXPECT_TRUE(chip.error().empty()) << chip.error();
  return chip.finished();
}

TEST(ChannelCheck, SimulatorAgrees) {
  EXPECT_TRUE(chip_finishes(out_of_order(), 80));
  EXPECT_FALSE(chip_finishes(out_of_order(), 79));
  EXPECT_TRUE(chip_finishes(stream(25, 40), 40));
}

// Random message patterns among 3 cores (each core's sends and recvs in a random order,
// recvs of one (source, tag) in send order), random lengths and channel sizes: the checker
// calls a program sound exactly when the chip runs it to the end without an error.
TEST(ChannelCheck, CheckerAndChipAgreeOnRandomPatterns) {
  std::mt19937 rng(2024);
  const int lens[] = {8, 16, 24, 40};
  const int64_t channels[] = {0, 24, 40, 48, 64, 100};
  int sound = 0, unsound = 0;
  for (int round = 0; round < 60; ++round) {
    Program p = with_cores(3);
    std::vector<std::vector<Instruction>> ops(3);
    std::vector<std::vector<Instruction>> recvs(3);
    const int messages = 2 + static_cast<int>(rng() % 6);
    for (int k = 0; k < messages; ++k) {
      const int src = static_cast<int>(rng() % 3);
      const int dst = (src + 1 + static_cast<int>(rng() % 2)) % 3;
      const int len = lens[rng() % 4];
      const int tag = static_cast<int>(rng() % 2);
      ops[static_cast<size_t>(src)].push_back(send(len, dst, tag, 0));
      recvs[static_cast<size_t>(dst)].push_back(recv(len, src, tag, 64 * k));
    }
    // Merge each core's recvs into its sends at random positions, keeping both orders.
    for (int c = 0; c < 3; ++c) {
      std::vector<Instruction> merged;
      auto& a = ops[static_cast<size_t>(c)];
      auto& b = recvs[static_cast<size_t>(c)];
      size_t i = 0, j = 0;
      while (i < a.size() || j < b.size()) {
        const bool take_send = j == b.size() || (i < a.size() && rng() % 2 == 0);
        merged.push_back(take_send ? a[i++] : b[j++]);
      }
      merged.push_back(halt());
      p.cores[static_cast<size_t>(c)].code = merged;
    }
    const int64_t rx = channels[rng() % 6];
    const bool ok = check(p, rx).ok();
    ArchSpec a = testing::test_arch(2, 2);
    a.noc.rx_channel_bytes = rx;
    Program q = p;
    q.cores.resize(static_cast<size_t>(a.chip.cores));
    for (auto& c : q.cores)
      if (c.code.empty()) c.code = {halt()};
    reset_systemc_context();
    Chip chip("chip", a, q, 1, nullptr);
    sc_core::sc_start();
    EXPECT_EQ(chip.finished(), ok) << "round " << round << ", rx " << rx << ": chip error '" << chip.error()
                                   << "', checker: " << (ok ? "sound" : check(p, rx).problems.front());
    (ok ? sound : unsound)++;
  }
  // Both verdicts occur, so the comparison means something.
  EXPECT_GT(sound, 10);
  EXPECT_GT(unsound, 10);
}

// Two 3x3 convolutions (6 channels x 6 rows x 48 columns -> 16 -> 8 channels): on tiny.yaml they sit
// on two cores and the first sends its output rows (768 bytes, more than the smallest bounded
// channel, 256) to the second.
q::QModel two_convs() {
  testing::ModelBuilder b(3, "rx");
  testing::ConvSpec k3;
  k3.kh = k3.kw = 3;
  k3.pt = k3.pl = k3.pb = k3.pr = 1;
  k3.M = 16;
  const int c1 = b.conv(b.input({6, 6, 48}), k3);
  k3.M = 8;
  b.output(b.conv(c1, k3));
  return b.m;
}

// A directory of this process's own: CTest runs the cases of this file as parallel processes,
// and a shared one was removed by one case while another read it.
ArchSpec tiny_with_channel(int64_t rx) {
  const fs::path dir = fs::path(CIMSIM_BINARY_DIR) /
                       ("backend_channel_check_" + std::to_string(::getpid()) + "_" + std::to_string(rx));
  ArchSpec a = testing::write_tiny_arch(
      dir.string(), {{"link_flits_per_cycle: 1",
                      "link_flits_per_cycle: 1\n  rx_channel_bytes: " + std::to_string(rx)}});
  fs::remove_all(dir);
  return a;
}

int64_t largest_message(const Program& p) {
  int64_t largest = 0;
  for (const CoreProgram& c : p.cores)
    for (const Instruction& in : c.code)
      if (in.op == Op::kSend) largest = std::max<int64_t>(largest, in.imm[0]);
  return largest;
}

// Bytes each (sender, receiver, tag) sends, from the program's send instructions.
std::map<std::tuple<int, int, int>, int64_t> bytes_sent(const Program& p) {
  std::map<std::tuple<int, int, int>, int64_t> out;
  for (size_t c = 0; c < p.cores.size(); ++c)
    for (const Instruction& in : p.cores[c].code)
      if (in.op == Op::kSend) out[{static_cast<int>(c), in.imm[1], in.imm[2]}] += in.imm[0];
  return out;
}

// With noc.rx_channel_bytes below the model's largest message the backend splits messages
// into channel-sized ones (same peer and tag): every send fits, the same bytes flow between
// the same cores, and the checker finds the program sound with that bound.
TEST(ChannelCheck, CompilerSplitsMessagesToFitTheChannel) {
  const q::QModel m = two_convs();
  const ArchSpec unbounded = tiny_with_channel(0);
  ASSERT_EQ(unbounded.noc.rx_channel_bytes, 0);
  const Program whole = backend::compile_qmodel(m, unbounded, {}).program;
  const int64_t largest = largest_message(whole);
  ASSERT_GT(largest, 2) << "the model must put messages on the NoC";
  for (int64_t rx : {largest, largest - 1, largest / 2 + 1}) {
    SCOPED_TRACE("rx_channel_bytes = " + std::to_string(rx));
    const ArchSpec a = tiny_with_channel(rx);
    ASSERT_EQ(a.noc.rx_channel_bytes, rx);
    const Program split = backend::compile_qmodel(m, a, {}).program;
    EXPECT_EQ(largest_message(split), rx);
    EXPECT_EQ(bytes_sent(split), bytes_sent(whole));
    const backend::CheckResult r = backend::check_program(split, 2, a.core.buffer_bytes, 0, rx);
    EXPECT_TRUE(r.ok()) << r.problems.front();
  }
}

// The compiled model on the chip with channels smaller than its largest unsplit message:
// the senders stall on credits, and the outputs still equal the integer reference for two
// images.
TEST(ChannelCheck, CompiledModelIsBitExactUnderBackPressure) {
  const q::QModel m = two_convs();
  const int64_t largest = largest_message(backend::compile_qmodel(m, tiny_with_channel(0), {}).program);
  const int64_t rx = largest / 2 + 1;
  const ArchSpec a = tiny_with_channel(rx);
  const backend::CompiledModel cm = backend::compile_qmodel(m, a, {});
  constexpr int kImages = 2;
  ASSERT_GE(cm.max_batch, kImages);
  std::mt19937 rng(17);
  std::vector<uint8_t> global;
  std::vector<std::vector<int32_t>> want;
  const q::QTensor& in = m.tensors[static_cast<size_t>(m.inputs[0])];
  for (int n = 0; n < kImages; ++n) {
    const std::vector<int32_t> x = testing::random_codes(in, rng);
    testing::put_input(global, cm.program.inputs[0], n, x);
    want.push_back(testing::reference_codes(m, {x})[static_cast<size_t>(m.outputs[0])]);
  }
  reset_systemc_context();
  Chip chip("chip", a, cm.program, 1, nullptr);
  chip.set_batch(kImages);
  const TensorIO& x = cm.program.inputs[0];
  chip.memory().write(static_cast<uint64_t>(x.global_addr), global.data() + x.global_addr,
                      static_cast<size_t>(kImages * x.bytes_per_image));
  sc_core::sc_start();
  ASSERT_TRUE(chip.finished()) << chip.error();
  const ChipStats s = chip.stats();
  EXPECT_GT(s.credit_stall_ps, 0u) << "the channel bound never mattered";
  EXPECT_LE(s.rx_peak_channel_bytes, static_cast<uint64_t>(rx));
  const TensorIO& out = cm.program.outputs[0];
  std::vector<uint8_t> result(static_cast<size_t>(out.global_addr + kImages * out.bytes_per_image));
  chip.memory().read(0, result.data(), result.size());
  for (int n = 0; n < kImages; ++n)
    EXPECT_EQ(testing::get_output(result, out, n), want[static_cast<size_t>(n)]) << "image " << n;
}

}  // namespace

// A residual block: c0's rows go to c1 and, on the skip path, to the add, which cannot take
// row y before c2 (two 3x3 convolutions later) delivers it. The skip channel must hold the
// rows in flight; with the smallest channel it cannot, and the compiler refuses the program
// naming the size it would need, at which it compiles.
q::QModel skip_block() {
  testing::ModelBuilder b(5, "skip");
  testing::ConvSpec k1;
  k1.M = 8;
  const int c0 = b.conv(b.input({8, 8, 48}), k1);
  testing::ConvSpec k3 = k1;
  k3.kh = k3.kw = 3;
  k3.pt = k3.pl = k3.pb = k3.pr = 1;
  const int c2 = b.conv(b.conv(c0, k3), k3);
  b.output(b.add(c2, c0, true));
  return b.m;
}

TEST(ChannelCheck, TooSmallSkipChannelIsRefusedWithTheSizeThatWorks) {
  const q::QModel m = skip_block();
  std::string msg;
  try {
    backend::compile_qmodel(m, tiny_with_channel(kMinRxChannelBytes), {});
  } catch (const InputError& e) {
    msg = e.what();
  }
  ASSERT_THAT(msg, HasSubstr("noc.rx_channel_bytes = 256 is too small for this model's schedule: deadlock"));
  const std::string key = "deadlock-free from ";
  const size_t at = msg.find(key);
  ASSERT_NE(at, std::string::npos) << msg;
  const int64_t need = std::stoll(msg.substr(at + key.size()));
  EXPECT_GT(need, 384) << "more than one 384-byte row is in flight on the skip path";
  const backend::CompiledModel ok = backend::compile_qmodel(m, tiny_with_channel(need), {});
  EXPECT_TRUE(backend::check_program(ok.program, 2, 0, 0, need).ok());
  EXPECT_FALSE(backend::check_program(ok.program, 2, 0, 0, need - 1).ok());
}

}  // namespace cimsim
