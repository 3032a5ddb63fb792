#include "traces/trace_selection.h"

#include <gtest/gtest.h>

#include "platform/spec/arch.h"

namespace cimsim {
namespace {

SimEvent ev(int core, Unit unit, uint16_t layer, uint64_t start_ps, uint64_t dur_ps) {
  SimEvent e;
  e.core = core;
  e.unit = unit;
  e.layer = layer;
  e.start_ps = start_ps;
  e.duration_ps = dur_ps;
  return e;
}

const std::vector<std::string> kLayers = {"conv1", "conv2", "fc"};

std::string error_of(const TraceSelectionText& text, int cores = 4) {
  try {
    parse_trace_selection(text, cores, kLayers);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(TraceSelection, EmptySelectsEverything) {
  TraceSelection s = parse_trace_selection({}, 4, kLayers);
  EXPECT_TRUE(s.selects(ev(3, Unit::kAdc, 2, 0, 10)));
  EXPECT_TRUE(s.selects(ev(-1, Unit::kMemory, 0, 123456789, 0)));
}

TEST(TraceSelection, Cores) {
  TraceSelection s = parse_trace_selection({"0,2-3", {}, "", {}}, 4, kLayers);
  EXPECT_TRUE(s.selects(ev(0, Unit::kScalar, 0, 0, 1)));
  EXPECT_FALSE(s.selects(ev(1, Unit::kScalar, 0, 0, 1)));
  EXPECT_TRUE(s.selects(ev(2, Unit::kLink, 0, 0, 1)));
  EXPECT_TRUE(s.selects(ev(3, Unit::kNic, 0, 0, 1)));
  EXPECT_FALSE(s.selects(ev(7, Unit::kLink, 0, 0, 1)));  // a router without a core
  EXPECT_TRUE(s.selects(ev(-1, Unit::kMemory, 0, 0, 1)));  // memory is not a core
}

TEST(TraceSelection, Units) {
  TraceSelection s = parse_trace_selection({"", {"xbar,adc", "memory"}, "", {}}, 4, kLayers);
  EXPECT_TRUE(s.selects(ev(0, Unit::kCrossbar, 0, 0, 1)));
  EXPECT_TRUE(s.selects(ev(0, Unit::kAdc, 0, 0, 1)));
  EXPECT_TRUE(s.selects(ev(-1, Unit::kMemory, 0, 0, 1)));
  EXPECT_FALSE(s.selects(ev(0, Unit::kVector, 0, 0, 1)));
  EXPECT_FALSE(s.selects(ev(0, Unit::kWait, 0, 0, 1)));
  TraceSelection all = parse_trace_selection(
      {"", {"scalar,vector,crossbar,adc,nic,link,wait,memory"}, "", {}}, 4, kLayers);
  for (int u = 0; u < 8; ++u) EXPECT_TRUE(all.selects(ev(0, static_cast<Unit>(u), 0, 0, 1))) << u;
}

TEST(TraceSelection, WindowKeepsOverlappingEventsWhole) {
  TraceSelection s = parse_trace_selection({"", {}, "10:20.5", {}}, 4, kLayers);
  EXPECT_EQ(s.window_start_ps, 10'000u);
  EXPECT_EQ(s.window_end_ps, 20'500u);
  EXPECT_TRUE(s.selects(ev(0, Unit::kScalar, 0, 5'000, 6'000)));    // [5, 11) overlaps
  EXPECT_FALSE(s.selects(ev(0, Unit::kScalar, 0, 5'000, 5'000)));   // [5, 10) ends at the start
  EXPECT_TRUE(s.selects(ev(0, Unit::kScalar, 0, 20'000, 9'000)));
  EXPECT_FALSE(s.selects(ev(0, Unit::kScalar, 0, 20'500, 1'000)));  // starts at the end
  EXPECT_TRUE(s.selects(ev(0, Unit::kScalar, 0, 10'000, 0)));       // zero-length inside
  EXPECT_FALSE(s.selects(ev(0, Unit::kScalar, 0, 9'999, 0)));
  TraceSelection open_end = parse_trace_selection({"", {}, "1000:", {}}, 4, kLayers);
  EXPECT_TRUE(open_end.selects(ev(0, Unit::kScalar, 0, 1'000'000'000'000, 1)));
  EXPECT_FALSE(open_end.selects(ev(0, Unit::kScalar, 0, 0, 1'000'000)));
}

TEST(TraceSelection, Layers) {
  TraceSelection s = parse_trace_selection({"", {}, "", {"conv2", "fc"}}, 4, kLayers);
  EXPECT_FALSE(s.selects(ev(0, Unit::kScalar, 0, 0, 1)));
  EXPECT_TRUE(s.selects(ev(0, Unit::kScalar, 1, 0, 1)));
  EXPECT_TRUE(s.selects(ev(-1, Unit::kMemory, 2, 0, 1)));
  TraceSelection comma = parse_trace_selection({"", {}, "", {"conv1,fc"}}, 4, kLayers);
  EXPECT_TRUE(comma.selects(ev(0, Unit::kScalar, 0, 0, 1)));
  EXPECT_FALSE(comma.selects(ev(0, Unit::kScalar, 1, 0, 1)));
}

TEST(TraceSelection, BadSelectionsNameTheFlagAndTheItem) {
  EXPECT_NE(error_of({"", {"xbar", "vectr"}, "", {}}).find("--trace-units: unknown unit 'vectr' (did you mean 'vector'?)"),
            std::string::npos);
  EXPECT_NE(error_of({"4", {}, "", {}}).find("--trace-cores '4': core 4 is out of range (the chip has cores 0-3)"),
            std::string::npos);
  EXPECT_NE(error_of({"1-x", {}, "", {}}).find("--trace-cores '1-x': '1-x' is not a core"), std::string::npos);
  EXPECT_NE(error_of({"3-1", {}, "", {}}).find("is not a core or a range"), std::string::npos);
  EXPECT_NE(error_of({"", {}, "20:10", {}}).find("--trace-window '20:10': END must be greater than START"),
            std::string::npos);
  EXPECT_NE(error_of({"", {}, "5:5", {}}).find("END must be greater"), std::string::npos);
  EXPECT_NE(error_of({"", {}, "abc", {}}).find("--trace-window 'abc': expected START_NS:END_NS"), std::string::npos);
  EXPECT_NE(error_of({"", {}, "-1:5", {}}).find("is not a time in ns"), std::string::npos);
  EXPECT_NE(error_of({"", {}, "", {"conv3"}}).find("--trace-layer: the program has no layer 'conv3' (did you mean"),
            std::string::npos);
  EXPECT_NE(error_of({"", {}, "", {"zzzzzzzzzz"}}).find("(layers: conv1, conv2, fc)"), std::string::npos);
}

}  // namespace
}  // namespace cimsim
