// NoC back-pressure (docs/timing.md, "Back-pressure: receive channels and credits"): each
// core's NIC holds one receive channel of noc.rx_channel_bytes per sending core; a message
// is admitted into the network at the first cycle its channel has room, and a recv returns
// its bytes to the sender at end + hops * hop_latency. Every expected cycle below is derived
// by hand from the formulas on small_arch() (1 cycle = 1 ns = 1000 ps; flit 4 B, 2 cycles per
// hop, 1 flit per cycle; 16 B per buffer cycle; vector 8 lanes + 2 pipeline cycles); checks
// are exact, so one cycle early or late fails.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>

#include "sc_test_util.h"

namespace cimsim::test {
namespace {

using ::testing::HasSubstr;

// NIC instruction spans [start, end) in cycles, by (core, pc); vector ones apart.
struct NicSpans : Observer {
  std::map<std::pair<int, uint32_t>, std::pair<uint64_t, uint64_t>> spans, vector_spans;
  std::vector<SimEvent> waits;  // Unit::kWait events, in emission order
  void on_event(const SimEvent& e) override {
    if (e.unit == Unit::kWait) waits.push_back(e);
    if (e.unit != Unit::kNic && e.unit != Unit::kVector) return;
    (e.unit == Unit::kNic ? spans : vector_spans)[{e.core, e.pc}] = {
        e.start_ps / 1000, (e.start_ps + e.duration_ps) / 1000};
  }
  uint64_t end(int core, uint32_t pc) const { return spans.at({core, pc}).second; }
  uint64_t start(int core, uint32_t pc) const { return spans.at({core, pc}).first; }
};

ArchSpec arch_with_channel(int64_t rx_channel_bytes) {
  ArchSpec a = small_arch();
  a.noc.rx_channel_bytes = rx_channel_bytes;
  return a;
}

// The docs' worked example: core 0 sends 40 B twice (tags 1, 2) to `dst`; `dst` first fills
// [100, 3300) (the buffer port is held [0, 200): 3200 / 16 cycles; the op runs 2 +
// max(3200 / 8, 200) = 402 cycles), then receives both messages into [0, 40) and [40, 80).
Program two_sends(int dst) {
  Program p = program_for(small_arch());
  p.cores[0].code = {send(A(0), 40, dst, 1), send(A(40), 40, dst, 2), halt()};
  p.cores[static_cast<size_t>(dst)].code = {fill(A(100), 3200, 0), recv(A(0), 40, 0, 1),
                                            recv(A(40), 40, 0, 2), halt()};
  return p;
}

struct Outcome {
  ChipStats stats;
  NicSpans nic;
  bool finished = false;
  std::string error;
};

Outcome simulate(const ArchSpec& arch, const Program& p) {
  Outcome r;
  Sim sim(arch, p, &r.nic);
  r.stats = sim.run();
  r.finished = sim.chip->finished();
  r.error = sim.chip->error();
  return r;
}

TEST(Backpressure, DocsWorkedExampleSecondSendWaitsForTheCredit) {
  const Outcome r = simulate(arch_with_channel(64), two_sends(1));
  ASSERT_TRUE(r.finished) << r.error;
  // Send 1: read-out [0, 3), requested and admitted at 3 (the channel is empty).
  EXPECT_EQ(r.nic.start(0, 0), 0u);
  EXPECT_EQ(r.nic.end(0, 0), 3u);
  // Send 2: the NIC is free at 3, read-out [3, 6), requested at 6; 40 + 40 > 64, so it waits.
  // Core 1's first recv: arrival 3 + 2 + 10 = 15, but the fill holds the port until 200:
  // write-in [200, 203). Its credit is back at core 0 at 203 + 1 hop * 2 = 205: admission at
  // 205, and the in-order NIC (and so core 0) is done then.
  EXPECT_EQ(r.nic.start(0, 1), 3u);
  EXPECT_EQ(r.nic.end(0, 1), 205u);
  EXPECT_EQ(cycles(r.stats.core_finish_ps[0]), 205u);
  EXPECT_EQ(r.nic.end(1, 1), 203u);
  // Send 2's packet: link 0E free since 13, enter 205, head at node 1 at 207, eject free since
  // 15: 207..217, arrival 217. Second recv: NIC free at 203, write-in [217, 220).
  EXPECT_EQ(r.nic.end(1, 2), 220u);
  // Core 1 ends with its fill: 402. The chip: max(402, last packet 217) = 402.
  EXPECT_EQ(cycles(r.stats.core_finish_ps[1]), 402u);
  // Waited from request 6 to admission 205; the channel never held both messages.
  EXPECT_EQ(r.stats.credit_stall_ps, (205u - 6u) * 1000u);
  EXPECT_EQ(r.stats.rx_peak_channel_bytes, 40u);
}

TEST(Backpressure, ChannelThatHoldsBothMessagesGivesTheUnboundedTimes) {
  // Without back-pressure send 2 is admitted at its request, 6. Its packet finds link 0E
  // busy with send 1's flits until 13: enter 13, head 15, eject (free at 15) 15..25, arrival
  // 25. Recv 2 starts when the NIC is free (203) and writes [203, 206). Core 0 is done at 6.
  for (int64_t rx : {int64_t{0}, int64_t{80}}) {
    SCOPED_TRACE("rx_channel_bytes = " + std::to_string(rx));
    const Outcome r = simulate(arch_with_channel(rx), two_sends(1));
    ASSERT_TRUE(r.finished) << r.error;
    EXPECT_EQ(r.nic.end(0, 0), 3u);
    EXPECT_EQ(r.nic.end(0, 1), 6u);
    EXPECT_EQ(cycles(r.stats.core_finish_ps[0]), 6u);
    EXPECT_EQ(r.nic.end(1, 1), 203u);
    EXPECT_EQ(r.nic.end(1, 2), 206u);
    EXPECT_EQ(r.stats.credit_stall_ps, 0u);
    // Both messages sat in the channel at once (admitted at 3 and 6, first credit at 205).
    EXPECT_EQ(r.stats.rx_peak_channel_bytes, 80u);
  }
  // One byte less than both messages: back-pressure again, the worked example's times.
  const Outcome r = simulate(arch_with_channel(79), two_sends(1));
  ASSERT_TRUE(r.finished) << r.error;
  EXPECT_EQ(r.nic.end(0, 1), 205u);
  EXPECT_EQ(r.nic.end(1, 2), 220u);
}

TEST(Backpressure, CreditReturnLatencyScalesWithHops) {
  // core 5 = (row 1, col 2), 3 hops from core 0 (0E, 1E, 2S, eject at 5).
  // Send 1: admitted 3; 0E 3..13, 1E 5..15, 2S 7..17, eject 9..19: arrival 19. Recv 1 write-in
  // [200, 203) (the fill); credit back at 203 + 3 * 2 = 209 (205 at one hop).
  // Send 2: requested 6, admitted 209; 0E 209, 1E 211, 2S 213, eject 215..225: arrival 225,
  // recv 2 write-in [225, 228).
  const Outcome r = simulate(arch_with_channel(64), two_sends(5));
  ASSERT_TRUE(r.finished) << r.error;
  EXPECT_EQ(r.nic.end(5, 1), 203u);
  EXPECT_EQ(r.nic.end(0, 1), 209u);
  EXPECT_EQ(cycles(r.stats.core_finish_ps[0]), 209u);
  EXPECT_EQ(r.nic.end(5, 2), 228u);
  EXPECT_EQ(r.stats.credit_stall_ps, (209u - 6u) * 1000u);
}

TEST(Backpressure, ChannelsOfDifferentSendersAreIndependent) {
  // Core 1 receives from core 0 (two 40 B messages, the worked example) and from core 2 (one
  // 40 B message), with a 64-byte channel per sender. Core 2 first fills [100, 420): port
  // [0, 20), op 2 + max(40, 20) = 42. Its send then reads [20, 23) and requests at 23, while
  // core 0's second message waits for its own channel (40 of 64 bytes used until 205). Core
  // 2's channel is empty: admitted at 23 (a shared 64-byte buffer would make it wait until
  // 205). Packet: link 2W 23..33, head at node 1 at 25, eject free since 15 (core 0's first
  // packet): 25..35, arrival 35.
  Program p = program_for(small_arch());
  p.cores[0].code = {send(A(0), 40, 1, 1), send(A(40), 40, 1, 2), halt()};
  p.cores[2].code = {fill(A(100), 320, 0), send(A(0), 40, 1, 3), halt()};
  p.cores[1].code = {fill(A(100), 3200, 0), recv(A(0), 40, 0, 1), recv(A(3400), 40, 2, 3),
                     recv(A(40), 40, 0, 2), halt()};
  const Outcome r = simulate(arch_with_channel(64), p);
  ASSERT_TRUE(r.finished) << r.error;
  EXPECT_EQ(r.nic.start(2, 1), 20u);
  EXPECT_EQ(r.nic.end(2, 1), 23u);
  // Core 1: recv from 0 [200, 203); recv from 2 from 203 (its NIC), write-in [203, 206);
  // recv of core 0's tag 2 (admitted 205: 0E 205, head 207, eject free since 35: 207..217)
  // write-in [217, 220).
  EXPECT_EQ(r.nic.end(1, 1), 203u);
  EXPECT_EQ(r.nic.end(1, 2), 206u);
  EXPECT_EQ(r.nic.end(0, 1), 205u);
  EXPECT_EQ(r.nic.end(1, 3), 220u);
  // Only core 0's second message waited.
  EXPECT_EQ(r.stats.credit_stall_ps, (205u - 6u) * 1000u);
}

TEST(Backpressure, OneMessageChannelStreamsOneMessagePer17Cycles) {
  // rx = 40: each message waits for the previous one's credit. Core 1 receives at once.
  // m0: read [0, 3), admitted 3, arrival 15, write-in [15, 18), credit 20.
  // m1: read [3, 6), requested 6, admitted 20; 0E free since 13: enter 20, head 22, eject
  //     22..32, arrival 32; write-in [32, 35), credit 37.
  // m2: read [20, 23), requested 23, admitted 37, arrival 37 + 2 + 10 = 49; write-in
  //     [49, 52), credit 54.
  // Period 17 = 10 (serialization) + 2 (hop) + 3 (write-in) + 2 (credit's hop back).
  Program p = program_for(small_arch());
  p.cores[0].code = {send(A(0), 40, 1, 0), send(A(40), 40, 1, 0), send(A(80), 40, 1, 0), halt()};
  p.cores[1].code = {recv(A(0), 40, 0, 0), recv(A(40), 40, 0, 0), recv(A(80), 40, 0, 0), halt()};
  const Outcome r = simulate(arch_with_channel(40), p);
  ASSERT_TRUE(r.finished) << r.error;
  EXPECT_EQ(r.nic.end(0, 1), 20u);
  EXPECT_EQ(r.nic.start(0, 2), 20u);
  EXPECT_EQ(r.nic.end(0, 2), 37u);
  EXPECT_EQ(r.nic.end(1, 0), 18u);
  EXPECT_EQ(r.nic.end(1, 1), 35u);
  EXPECT_EQ(r.nic.end(1, 2), 52u);
  EXPECT_EQ(cycles(r.stats.core_finish_ps[0]), 37u);
  EXPECT_EQ(cycles(r.stats.core_finish_ps[1]), 52u);
  EXPECT_EQ(r.stats.credit_stall_ps, ((20u - 6u) + (37u - 23u)) * 1000u);
  EXPECT_EQ(r.stats.rx_peak_channel_bytes, 40u);
}

TEST(Backpressure, CreditArrivingAtTheRequestCycleAdmitsAtOnce) {
  // rx = 40. m0: read [0, 3), admitted 3, arrival 15; core 1's recv writes [15, 18) and the
  // credit is back at 20. Between the sends core 0 fills [200, 200 + L) (dispatch 1): its port
  // block starts at 3 (m0 holds [0, 3)) and lasts L / 16 cycles, so m1 reads [3 + L/16,
  // 6 + L/16) and requests at 6 + L/16: L = 208 -> 19 (one cycle before the credit: admitted
  // at 20 after 1 cycle's stall); L = 224 -> 20 (admitted at once); L = 240 -> 21.
  struct Case {
    int fill_len;
    uint64_t admitted, stall_cycles;
  };
  for (const Case& c : {Case{208, 20, 1}, Case{224, 20, 0}, Case{240, 21, 0}}) {
    SCOPED_TRACE("fill len " + std::to_string(c.fill_len));
    Program p = program_for(small_arch());
    p.cores[0].code = {send(A(0), 40, 1, 0), fill(A(200), c.fill_len, 1), send(A(40), 40, 1, 0), halt()};
    p.cores[1].code = {recv(A(0), 40, 0, 0), recv(A(40), 40, 0, 0), halt()};
    const Outcome r = simulate(arch_with_channel(40), p);
    ASSERT_TRUE(r.finished) << r.error;
    EXPECT_EQ(r.nic.end(1, 0), 18u);
    EXPECT_EQ(r.nic.end(0, 2), c.admitted);
    // m1: link 0E free since 13, so enter at admission, head +2, eject +10; write-in +3.
    EXPECT_EQ(r.nic.end(1, 1), c.admitted + 2 + 10 + 3);
    EXPECT_EQ(r.stats.credit_stall_ps, c.stall_cycles * 1000);
  }
}

TEST(Backpressure, CreditLearnedAfterTheRequestStillReleasesTheSender) {
  // Core 1 receives into [0, 40) and [40, 80), which its fill of [0, 3200) writes first
  // (write after write): the first recv starts at the fill's end, 2 + max(400, 200) = 402, so
  // the NIC learns of the credit only then (after core 0's request at 6). Write-in [402, 405),
  // credit back at 407: m1 admitted at 407, arrival 407 + 2 + 10 = 419; the second recv starts
  // at 405 and writes [419, 422).
  Program p = program_for(small_arch());
  p.cores[0].code = {send(A(0), 40, 1, 1), send(A(40), 40, 1, 2), halt()};
  p.cores[1].code = {fill(A(0), 3200, 0), recv(A(0), 40, 0, 1), recv(A(40), 40, 0, 2), halt()};
  const Outcome r = simulate(arch_with_channel(64), p);
  ASSERT_TRUE(r.finished) << r.error;
  EXPECT_EQ(r.nic.end(1, 1), 405u);
  EXPECT_EQ(r.nic.end(0, 1), 407u);
  EXPECT_EQ(r.nic.end(1, 2), 422u);
  EXPECT_EQ(r.stats.credit_stall_ps, (407u - 6u) * 1000u);
}

TEST(Backpressure, OtherUnitsKeepGoingWhileTheNicWaits) {
  // The worked example with a fill of [200, 300) after core 0's two sends (dispatched at 2):
  // only the in-order NIC waits for the credit (until 205). The fill wants the port at 2;
  // the sends' read-outs hold [0, 6), so its 7 port cycles run [6, 13) and the op ends at
  // 6 + 2 + max(ceil(100 / 8), 7) = 21. Core 0 still halts at 205.
  Program p = two_sends(1);
  p.cores[0].code = {send(A(0), 40, 1, 1), send(A(40), 40, 1, 2), fill(A(200), 100, 1), halt()};
  const Outcome r = simulate(arch_with_channel(64), p);
  ASSERT_TRUE(r.finished) << r.error;
  EXPECT_EQ(r.nic.end(0, 1), 205u);
  EXPECT_EQ(r.nic.vector_spans.at({0, 2}), std::make_pair(uint64_t{6}, uint64_t{21}));
  EXPECT_EQ(cycles(r.stats.core_finish_ps[0]), 205u);
}

TEST(Backpressure, MessageLargerThanTheChannelIsAnError) {
  Program p = program_for(small_arch());
  p.cores[0].code = {send(A(0), 80, 1, 1), halt()};
  p.cores[1].code = {recv(A(0), 80, 0, 1), halt()};
  const Outcome r = simulate(arch_with_channel(64), p);  // returns: no hang
  EXPECT_FALSE(r.finished);
  EXPECT_THAT(r.error, HasSubstr("core 0, pc 0 ("));
  EXPECT_THAT(r.error, HasSubstr("larger than the receive channel"));
  EXPECT_THAT(r.error, HasSubstr("noc.rx_channel_bytes = 64"));
  // Exactly the channel's size fits.
  const Outcome ok = simulate(arch_with_channel(80), p);
  EXPECT_TRUE(ok.finished) << ok.error;
}

TEST(Backpressure, ReceivingOutOfOrderWithAOneMessageChannelDeadlocks) {
  // Core 1 wants tag 2 first, but tag 2 cannot enter the network until tag 1 is received.
  Program p = program_for(small_arch());
  p.cores[0].code = {send(A(0), 40, 1, 1), send(A(40), 40, 1, 2), halt()};
  p.cores[1].code = {recv(A(40), 40, 0, 2), recv(A(0), 40, 0, 1), halt()};
  reset_systemc_context();
  Chip chip("chip", arch_with_channel(64), p, 1, nullptr);
  sc_core::sc_start();  // returns when no event is left: no hang
  EXPECT_FALSE(chip.finished());
  EXPECT_TRUE(chip.error().empty()) << chip.error();
  const std::vector<BlockedCore> b = chip.blocked();
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].core, 0);
  EXPECT_EQ(b[0].pc, 1u);
  EXPECT_THAT(b[0].waiting_for, HasSubstr("network admission"));
  EXPECT_THAT(b[0].waiting_for, HasSubstr("40-byte message to core 1 tag 2"));
  // Tag 1 (40 bytes) is admitted but never received, so its credit never comes back.
  EXPECT_THAT(b[0].waiting_for, HasSubstr("core 1's receive channel from core 0 holds 40 of 64 bytes"));
  EXPECT_EQ(b[1].core, 1);
  EXPECT_EQ(b[1].pc, 0u);
  EXPECT_THAT(b[1].waiting_for, HasSubstr("recv from core 0 tag 2"));
  // Room for both: the same program finishes.
  const Outcome ok = simulate(arch_with_channel(80), p);
  EXPECT_TRUE(ok.finished) << ok.error;
}

TEST(Backpressure, BytesReceivedAreTheBytesSentUnderBackPressure) {
  // Eight 40-byte messages through a one-message channel; the sender overwrites its source
  // bytes right after the last send (the NoC copied each message at its admission).
  constexpr int kMessages = 8, kLen = 40, kDst = 1000;
  Program p = program_for(small_arch());
  auto& c0 = p.cores[0].code;
  auto& c1 = p.cores[1].code;
  c0.clear();
  c1.clear();
  for (int k = 0; k < kMessages; ++k) {
    c0.push_back(send(A(k * kLen), kLen, 1, k % 3));
    c1.push_back(recv(A(kDst + k * kLen), kLen, 0, k % 3));
  }
  c0.push_back(fill(A(0), kMessages * kLen, 0xEE));
  c0.push_back(halt());
  c1.push_back(halt());
  Sim sim(arch_with_channel(kLen), p);
  std::vector<uint8_t> sent(kMessages * kLen);
  for (size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<uint8_t>(i * 7 + 3);
  put_bytes(*sim.chip, 0, 0, sent);
  const ChipStats s = sim.run();
  ASSERT_TRUE(sim.chip->finished()) << sim.chip->error();
  EXPECT_EQ(get_bytes(*sim.chip, 1, kDst, kMessages * kLen), sent);
  EXPECT_EQ(get_bytes(*sim.chip, 0, 0, kMessages * kLen),
            std::vector<uint8_t>(kMessages * kLen, 0xEE));
  EXPECT_GT(s.credit_stall_ps, 0u);
  EXPECT_EQ(s.rx_peak_channel_bytes, static_cast<uint64_t>(kLen));
}

}  // namespace
// The wait shows in the traces: one credit-wait event on core 0 for the second send (pc 1),
// [6, 205) as derived above, with no energy; none without back-pressure.
TEST(Backpressure, CreditWaitIsReportedAsAnEvent) {
  const Outcome r = simulate(arch_with_channel(64), two_sends(1));
  ASSERT_TRUE(r.finished) << r.error;
  ASSERT_EQ(r.nic.waits.size(), 1u);
  const SimEvent& w = r.nic.waits[0];
  EXPECT_EQ(w.core, 0);
  EXPECT_EQ(w.unit_index, 0);
  EXPECT_EQ(w.pc, 1u);
  EXPECT_STREQ(w.action, "credit wait");
  EXPECT_EQ(w.start_ps, 6u * 1000u);
  EXPECT_EQ(w.start_ps + w.duration_ps, 205u * 1000u);
  EXPECT_EQ(w.energy_pj, 0.0);
  EXPECT_TRUE(simulate(arch_with_channel(80), two_sends(1)).nic.waits.empty());
}

}  // namespace cimsim::test
