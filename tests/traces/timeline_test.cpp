#include "traces/timeline.h"

#include <gtest/gtest.h>

#include "tests/traces/sim_event_util.h"

#include <algorithm>
#include <map>
#include <random>
#include <tuple>

#include <nlohmann/json.hpp>

namespace cimsim {
namespace {


// Independent check: on every (pid, tid), any two slices are disjoint or one contains the other.
void expect_properly_nested(const nlohmann::json& trace) {
  std::map<std::pair<int, int>, std::vector<std::pair<int64_t, int64_t>>> tracks;
  for (const auto& e : trace["traceEvents"]) {
    if (e["ph"] != "X") continue;
    auto ns = [](double us) { return static_cast<int64_t>(std::llround(us * 1000.0)); };
    int64_t start = ns(e["ts"].get<double>());
    tracks[{e["pid"].get<int>(), e["tid"].get<int>()}].emplace_back(start, start + ns(e["dur"].get<double>()));
  }
  for (const auto& [key, spans] : tracks)
    for (size_t i = 0; i < spans.size(); ++i)
      for (size_t j = i + 1; j < spans.size(); ++j) {
        auto a = spans[i], b = spans[j];
        bool disjoint = a.second <= b.first || b.second <= a.first;
        bool a_in_b = b.first <= a.first && a.second <= b.second;
        bool b_in_a = a.first <= b.first && b.second <= a.second;
        EXPECT_TRUE(disjoint || a_in_b || b_in_a)
            << "pid " << key.first << " tid " << key.second << ": [" << a.first << "," << a.second
            << ") vs [" << b.first << "," << b.second << ")";
      }
}

std::map<std::string, int> thread_names(const nlohmann::json& trace, int pid) {
  std::map<std::string, int> out;
  for (const auto& e : trace["traceEvents"])
    if (e["ph"] == "M" && e["name"] == "thread_name" && e["pid"] == pid)
      out[e["args"]["name"].get<std::string>()] = e["tid"].get<int>();
  return out;
}

TEST(Timeline, ProcessesThreadsAndSlices) {
  std::vector<SimEvent> events = {
      ev(0, Unit::kVector, 0, 0, 0, 10'000, "copy"),
      ev(0, Unit::kCrossbar, 3, 1, 1'234'567, 100'000, "mvm", 30.5),
      ev(1, Unit::kNic, 0, 1, 0, 5'000, "send"),
      ev(-1, Unit::kMemory, 0, 0, 0, 5'000, "read"),
  };
  auto trace = nlohmann::json::parse(build_timeline_json(events, {"conv1", "fc"}, 2));
  std::map<int, std::string> processes;
  int slices = 0;
  for (const auto& e : trace["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "process_name")
      processes[e["pid"].get<int>()] = e["args"]["name"].get<std::string>();
    if (e["ph"] == "X") ++slices;
  }
  EXPECT_EQ(processes[0], "core 0");
  EXPECT_EQ(processes[1], "core 1");
  EXPECT_EQ(processes[2], "global memory");
  auto t0 = thread_names(trace, 0);
  ASSERT_TRUE(t0.count("vector"));
  ASSERT_TRUE(t0.count("xbar 3"));
  ASSERT_TRUE(t0.count("layers"));
  // 4 unit slices + layer stretches: core 0 has conv1 then fc, core 1 has fc.
  EXPECT_EQ(slices, 4 + 3);
  bool found = false;
  for (const auto& e : trace["traceEvents"])
    if (e["ph"] == "X" && e["name"] == "mvm") {
      found = true;
      EXPECT_EQ(e["tid"].get<int>(), t0["xbar 3"]);
      EXPECT_DOUBLE_EQ(e["ts"].get<double>(), 1.235);  // 1,234,567 ps rounds to 1235 ns
      EXPECT_DOUBLE_EQ(e["dur"].get<double>(), 0.1);
      EXPECT_EQ(e["args"]["layer"], "fc");
      EXPECT_DOUBLE_EQ(e["args"]["energy_pj"].get<double>(), 30.5);
    }
  EXPECT_TRUE(found);
}

TEST(Timeline, LayerStretchesFollowActivity) {
  // layer 0 on two units overlapping, then layer 1, then layer 0 again.
  std::vector<SimEvent> events = {
      ev(0, Unit::kVector, 0, 0, 0, 10'000), ev(0, Unit::kCrossbar, 0, 0, 5'000, 15'000),
      ev(0, Unit::kVector, 0, 1, 20'000, 10'000), ev(0, Unit::kVector, 0, 0, 40'000, 1'000)};
  auto trace = nlohmann::json::parse(build_timeline_json(events, {"a", "b"}, 1));
  int layers_tid = thread_names(trace, 0)["layers"];
  std::vector<std::tuple<double, double, std::string>> stretches;
  for (const auto& e : trace["traceEvents"])
    if (e["ph"] == "X" && e["tid"] == layers_tid)
      stretches.emplace_back(e["ts"].get<double>(), e["dur"].get<double>(), e["name"].get<std::string>());
  std::sort(stretches.begin(), stretches.end());
  ASSERT_EQ(stretches.size(), 3u);
  EXPECT_EQ(stretches[0], std::make_tuple(0.0, 0.02, std::string("a")));
  EXPECT_EQ(stretches[1], std::make_tuple(0.02, 0.01, std::string("b")));
  EXPECT_EQ(stretches[2], std::make_tuple(0.04, 0.001, std::string("a")));
}

TEST(Timeline, OverlappingEventsAreSplitIntoNestedLanes) {
  std::mt19937_64 rng(7);
  std::vector<SimEvent> events;
  for (int i = 0; i < 400; ++i) {
    uint64_t start = rng() % 1'000'000, dur = rng() % 200'000;
    events.push_back(ev(static_cast<int>(rng() % 3), static_cast<Unit>(rng() % 5),
                        static_cast<int>(rng() % 2), static_cast<uint16_t>(rng() % 4), start, dur));
  }
  auto trace = nlohmann::json::parse(build_timeline_json(events, {}, 3));
  expect_properly_nested(trace);
  size_t unit_slices = 0;
  for (const auto& e : trace["traceEvents"])
    if (e["ph"] == "X" && e["args"].contains("pc")) ++unit_slices;
  EXPECT_EQ(unit_slices, events.size());
}

TEST(Timeline, LaneAssignmentIsNestedOrDisjoint) {
  std::mt19937_64 rng(3);
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  for (int i = 0; i < 300; ++i) {
    uint64_t s = rng() % 1000;
    spans.emplace_back(s, s + rng() % 100);
  }
  auto lanes = assign_nesting_lanes(spans);
  for (size_t i = 0; i < spans.size(); ++i)
    for (size_t j = i + 1; j < spans.size(); ++j) {
      if (lanes[i] != lanes[j]) continue;
      auto a = spans[i], b = spans[j];
      bool ok = a.second <= b.first || b.second <= a.first || (b.first <= a.first && a.second <= b.second) ||
                (a.first <= b.first && b.second <= a.second);
      EXPECT_TRUE(ok);
    }
  // Nested spans share a lane.
  EXPECT_EQ(assign_nesting_lanes({{0, 10}, {2, 5}, {5, 9}, {10, 20}}), (std::vector<int>{0, 0, 0, 0}));
  EXPECT_EQ(assign_nesting_lanes({{0, 10}, {5, 15}}), (std::vector<int>{0, 1}));
}

}  // namespace
}  // namespace cimsim
