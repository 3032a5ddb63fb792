// timeline.pftrace: decoded with the independent reader in pftrace_reader.h and compared with
// the event stream and with timeline.json for the same events.
#include "traces/perfetto_timeline.h"

#include <gtest/gtest.h>

#include "tests/traces/sim_event_util.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include <nlohmann/json.hpp>

#include "tests/traces/pftrace_reader.h"
#include "traces/timeline.h"

namespace cimsim {
namespace {


std::string write_pftrace(const std::vector<SimEvent>& events, const std::vector<std::string>& layers,
                          int memory_pid, bool compress = true) {
  std::ostringstream out;
  PerfettoTimelineWriter w(out, layers, memory_pid, compress);
  for (const auto& e : events) w.add(e);
  w.finish();
  return out.str();
}

pftest::Trace decode_ok(const std::string& bytes) {
  pftest::Trace t = pftest::decode(bytes);
  for (const auto& e : t.errors) ADD_FAILURE() << e;
  return t;
}

// (process name, thread name, slice name, start ns, end ns): what a viewer shows.
using Row = std::tuple<std::string, std::string, std::string, uint64_t, uint64_t>;

std::multiset<Row> rows(const pftest::Trace& t) {
  std::map<int, std::string> process_names;
  for (const auto& [uuid, track] : t.tracks)
    if (track.process) process_names[track.pid] = track.name;
  std::multiset<Row> out;
  for (const auto& s : t.slices) {
    const auto& track = t.track_of(s);
    out.emplace(process_names[track.pid], track.name, s.name, s.start_ns, s.end_ns);
  }
  return out;
}

std::multiset<Row> rows(const nlohmann::json& trace) {
  std::map<int, std::string> processes;
  std::map<std::pair<int, int>, std::string> threads;
  for (const auto& e : trace["traceEvents"]) {
    if (e["ph"] != "M") continue;
    if (e["name"] == "process_name") processes[e["pid"].get<int>()] = e["args"]["name"].get<std::string>();
    if (e["name"] == "thread_name")
      threads[{e["pid"].get<int>(), e["tid"].get<int>()}] = e["args"]["name"].get<std::string>();
  }
  std::multiset<Row> out;
  auto ns = [](double us) { return static_cast<uint64_t>(std::llround(us * 1000.0)); };
  for (const auto& e : trace["traceEvents"]) {
    if (e["ph"] != "X") continue;
    int pid = e["pid"].get<int>(), tid = e["tid"].get<int>();
    uint64_t start = ns(e["ts"].get<double>());
    out.emplace(processes[pid], threads[{pid, tid}], e["name"].get<std::string>(), start,
                start + ns(e["dur"].get<double>()));
  }
  return out;
}

TEST(PerfettoTimeline, TracksNamesTimesAndArguments) {
  std::vector<SimEvent> events = {
      ev(0, Unit::kVector, 0, 0, 0, 10'000, "copy", 2.0, 4),
      ev(0, Unit::kCrossbar, 3, 1, 1'234'567, 100'000, "mvm", 30.5, 7),
      ev(1, Unit::kNic, 0, 1, 0, 5'000, "send"),
      ev(-1, Unit::kMemory, 0, 0, 0, 5'000, "read"),
      ev(1, Unit::kLink, 4, 1, 100, 2'000, "packet"),
      ev(1, Unit::kWait, 0, 1, 0, 3'000, "credit wait", 0.0),
  };
  pftest::Trace t = decode_ok(write_pftrace(events, {"conv1", "fc"}, 2));
  std::map<int, std::string> processes;
  std::set<std::pair<int, std::string>> threads;
  for (const auto& [uuid, track] : t.tracks) {
    if (track.process) processes[track.pid] = track.name;
    else threads.emplace(track.pid, track.name);
    if (!track.process) {
      ASSERT_TRUE(t.tracks.count(track.parent)) << track.name;
      EXPECT_EQ(t.tracks.at(track.parent).pid, track.pid);
    }
  }
  EXPECT_EQ(processes, (std::map<int, std::string>{{0, "core 0"}, {1, "core 1"}, {2, "global memory"}}));
  for (auto want : {std::make_pair(0, "vector"), {0, "xbar 3"}, {0, "layers"}, {1, "nic"}, {1, "link local"},
                    {1, "nic wait: credits"}, {1, "layers"}, {2, "memory port"}})
    EXPECT_TRUE(threads.count({want.first, want.second})) << want.first << " " << want.second;
  // 6 unit slices + layer stretches: core 0 conv1 then fc, core 1 fc (links and waits excluded).
  EXPECT_EQ(t.slices.size(), 6u + 3u);
  bool found = false;
  for (const auto& s : t.slices)
    if (s.name == "mvm") {
      found = true;
      EXPECT_EQ(t.track_of(s).name, "xbar 3");
      EXPECT_EQ(s.start_ns, 1235u);  // 1,234,567 ps rounds to 1235 ns
      EXPECT_EQ(s.end_ns, 1335u);
      EXPECT_EQ(s.args.at("layer"), "fc");
      EXPECT_EQ(s.args.at("pc"), "7");
      EXPECT_DOUBLE_EQ(s.energy_pj, 30.5);
    }
  EXPECT_TRUE(found);
  for (const auto& s : t.slices)
    if (t.track_of(s).name == "layers" && t.track_of(s).pid == 0 && s.name == "conv1") {
      EXPECT_EQ(s.args.at("events"), "1");
      EXPECT_DOUBLE_EQ(s.energy_pj, 2.0);
    }
}

TEST(PerfettoTimeline, SameSlicesAsTimelineJson) {
  // Random overlapping events (several lanes per track), reported in start order as the JSON
  // writer sorts them, so layer stretches and lanes must match exactly.
  // Whole-ns times and distinct starts, so that neither rounding nor tie order can differ.
  std::mt19937_64 rng(11);
  std::vector<uint64_t> starts(5000);
  for (size_t i = 0; i < starts.size(); ++i) starts[i] = i * 1000;
  std::shuffle(starts.begin(), starts.end(), rng);
  std::vector<SimEvent> events;
  for (int i = 0; i < 3000; ++i) {
    uint64_t dur = (rng() % 300) * 1000;
    Unit unit = static_cast<Unit>(rng() % 8);
    int core = unit == Unit::kMemory ? -1 : static_cast<int>(rng() % 3);
    events.push_back(ev(core, unit, static_cast<int>(rng() % 2), static_cast<uint16_t>(rng() % 3), starts[i], dur,
                        i % 2 ? "mvm" : "copy"));
  }
  std::sort(events.begin(), events.end(),
            [](const SimEvent& a, const SimEvent& b) { return a.start_ps < b.start_ps; });
  const std::vector<std::string> layers = {"c1", "c2", "fc"};
  pftest::Trace t = decode_ok(write_pftrace(events, layers, 3));
  auto json = nlohmann::json::parse(build_timeline_json(events, layers, 3));
  std::multiset<Row> from_pftrace = rows(t), from_json = rows(json);
  EXPECT_EQ(from_pftrace.size(), from_json.size());
  EXPECT_TRUE(from_pftrace == from_json);
  std::set<std::string> lanes;
  for (const auto& r : from_pftrace) lanes.insert(std::get<1>(r));
  EXPECT_TRUE(lanes.count("vector (2)"));  // overlaps did need lanes
}

TEST(PerfettoTimeline, OutOfOrderArrivalStillNestsAndKeepsEveryEvent) {
  // The models report events when they are scheduled, not in start order.
  std::mt19937_64 rng(5);
  std::vector<SimEvent> events;
  for (int i = 0; i < 5000; ++i) {
    uint64_t start = rng() % 2'000'000, dur = rng() % 50'000;
    events.push_back(ev(static_cast<int>(rng() % 2), static_cast<Unit>(rng() % 5), 0,
                        static_cast<uint16_t>(i / 700), start, dur));
  }
  pftest::Trace t = decode_ok(write_pftrace(events, {}, 2));  // decoder checks order + nesting
  std::multiset<std::tuple<int, uint64_t, uint64_t>> want, got;
  for (const auto& e : events)
    want.emplace(e.core, (e.start_ps + 500) / 1000, (e.start_ps + e.duration_ps + 500) / 1000);
  size_t stretches = 0;
  for (const auto& s : t.slices) {
    if (t.track_of(s).name.rfind("layers", 0) == 0) {
      ++stretches;
      continue;
    }
    got.emplace(t.track_of(s).pid, s.start_ns, s.end_ns);
  }
  EXPECT_TRUE(want == got);
  EXPECT_GE(stretches, 2u * 8u);  // 8 layers in arrival order on each of 2 cores
}

TEST(PerfettoTimeline, CompressedAndPlainDecodeToTheSameTrace) {
  std::vector<SimEvent> events;
  for (int i = 0; i < 40000; ++i)
    events.push_back(ev(i % 4, static_cast<Unit>(i % 3), 0, static_cast<uint16_t>(i / 5000),
                        uint64_t(i) * 1000, 900, "mvm", 0.25 * (i % 7), static_cast<uint32_t>(i % 100)));
  std::string packed = write_pftrace(events, {}, 4, true), plain = write_pftrace(events, {}, 4, false);
  pftest::Trace a = decode_ok(packed), b = decode_ok(plain);
  EXPECT_GT(a.compressed, 1u);  // several chunks
  EXPECT_LT(a.largest_compressed, 512u * 1024u);
  EXPECT_EQ(b.compressed, 0u);
  EXPECT_TRUE(rows(a) == rows(b));
  EXPECT_LT(packed.size() * 4, plain.size());
}

TEST(NestingLanes, OnlineLanesAreNestedOrDisjointAndTimeOrdered) {
  std::mt19937_64 rng(3);
  NestingLanes lanes;
  std::vector<NestingLanes::Closed> closed;
  std::map<size_t, std::vector<std::pair<uint64_t, uint64_t>>> by_lane;
  std::map<size_t, uint64_t> last_time;
  for (int i = 0; i < 2000; ++i) {
    uint64_t s = rng() % 10000;
    uint64_t e = s + rng() % 300;
    closed.clear();
    size_t k = lanes.place(s, e, closed);
    for (const auto& c : closed) {
      EXPECT_LE(c.end, s);
      EXPECT_GE(c.end, last_time[c.lane]);
      last_time[c.lane] = c.end;
    }
    EXPECT_GE(s, last_time[k]);
    last_time[k] = s;
    by_lane[k].emplace_back(s, e);
  }
  for (const auto& [k, spans] : by_lane)
    for (size_t i = 0; i < spans.size(); ++i)
      for (size_t j = i + 1; j < spans.size(); ++j) {
        auto a = spans[i], b = spans[j];
        bool ok = a.second <= b.first || b.second <= a.first || (b.first <= a.first && a.second <= b.second) ||
                  (a.first <= b.first && b.second <= a.second);
        EXPECT_TRUE(ok) << "lane " << k;
      }
  closed.clear();
  NestingLanes fresh;
  EXPECT_EQ(fresh.place(0, 10, closed), 0u);
  EXPECT_EQ(fresh.place(2, 5, closed), 0u);   // nested
  EXPECT_EQ(fresh.place(5, 9, closed), 0u);   // after [2,5) closed, inside [0,10)
  EXPECT_EQ(fresh.place(8, 15, closed), 1u);  // overlaps [0,10) partially
  EXPECT_EQ(fresh.place(1, 3, closed), 2u);   // earlier than what lanes 0 and 1 emitted
}

TEST(PerfettoTimeline, WriterStateStaysBoundedOverAMillionEvents) {
  // A discarding stream: only the writer's own memory is measured.
  struct Null : std::streambuf {
    int overflow(int c) override { return c; }
    std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
  } null_buf;
  std::ostream null_out(&null_buf);
  PerfettoTimelineWriter w(null_out, {"a", "b", "c"}, 8);
  size_t at_100k = 0, peak = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    const uint64_t t = uint64_t(i) * 700;
    w.add(ev(i % 8, static_cast<Unit>(i % 6 == 5 ? 2 : i % 5), i % 4, static_cast<uint16_t>((i / 1000) % 3), t,
             (i % 3) * 500 + 400, i % 2 ? "mvm" : "copy", 1.5, static_cast<uint32_t>(i % 1000)));
    if (i % 10000 == 0) peak = std::max(peak, w.bytes_held());
    if (i == 100'000) at_100k = w.bytes_held();
  }
  w.finish();
  // Every event, plus one layer stretch per 1000-event block per core (8 cores, 1000 blocks).
  EXPECT_EQ(w.slices_written(), 1'000'000u + 8u * 1000u);
  EXPECT_GT(at_100k, 0u);
  EXPECT_LE(peak, at_100k + PerfettoTimelineWriter::kChunkBytes);  // no growth after 10% of the run
  EXPECT_LT(peak, 2u * 1024u * 1024u);
}

}  // namespace
}  // namespace cimsim
