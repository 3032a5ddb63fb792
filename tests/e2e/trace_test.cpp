// --trace-dir from the outside: timeline.pftrace (default) against timeline.json for the same
// run, its size, and the --trace-* selection flags and their errors.
#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/models.h"
#include "tests/traces/pftrace_reader.h"

namespace e2e {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
namespace pftest = cimsim::pftest;

// (pid, track name without its lane suffix, slice name, start ns, end ns) of the unit slices.
using Row = std::tuple<int, std::string, std::string, uint64_t, uint64_t>;

std::string base_track(const std::string& name) {
  size_t paren = name.rfind(" (");
  return paren != std::string::npos && name.back() == ')' ? name.substr(0, paren) : name;
}

std::multiset<Row> unit_rows(const pftest::Trace& t) {
  std::multiset<Row> out;
  for (const auto& s : t.slices) {
    const auto& track = t.track_of(s);
    if (base_track(track.name) == "layers") continue;
    out.emplace(track.pid, base_track(track.name), s.name, s.start_ns, s.end_ns);
  }
  return out;
}

std::multiset<Row> unit_rows(const json& trace) {
  std::map<std::pair<int, int>, std::string> threads;
  for (const auto& e : trace["traceEvents"])
    if (e["ph"] == "M" && e["name"] == "thread_name")
      threads[{e["pid"].get<int>(), e["tid"].get<int>()}] = e["args"]["name"].get<std::string>();
  std::multiset<Row> out;
  auto ns = [](double us) { return static_cast<uint64_t>(std::llround(us * 1000.0)); };
  for (const auto& e : trace["traceEvents"]) {
    if (e["ph"] != "X") continue;
    std::string track = base_track(threads[{e["pid"].get<int>(), e["tid"].get<int>()}]);
    if (track == "layers") continue;
    uint64_t start = ns(e["ts"].get<double>());
    out.emplace(e["pid"].get<int>(), track, e["name"].get<std::string>(), start, start + ns(e["dur"].get<double>()));
  }
  return out;
}

class E2ETrace : public ::testing::Test {
 protected:
  void SetUp() override {
    files_ = write_model(find_model("chain4"), tmp_.path());
    RunResult r = run_cimsim({"compile", files_.model, "--arch", source_path("configs/tiny.yaml"), "-o", tmp_ / "prog"},
                             tmp_.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  RunResult simulate(const std::string& trace_dir, const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"simulate", tmp_ / "prog", "--input", files_.input, "--trace-dir", trace_dir,
                                     "--report", tmp_ / "report.json", "-q"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cimsim(args, tmp_.path());
  }
  pftest::Trace pftrace(const std::string& dir) {
    pftest::Trace t = pftest::decode(read_file(dir + "/timeline.pftrace"));
    for (const auto& e : t.errors) ADD_FAILURE() << e;
    return t;
  }
  TempDir tmp_;
  ModelFiles files_;
};

TEST_F(E2ETrace, PerfettoHoldsTheSameSlicesAsJsonInATenthOfTheBytes) {
  RunResult a = simulate(tmp_ / "tp", {});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  RunResult b = simulate(tmp_ / "tj", {"--trace-format", "json"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_FALSE(exists(tmp_ / "tp/timeline.json"));
  EXPECT_FALSE(exists(tmp_ / "tj/timeline.pftrace"));
  pftest::Trace t = pftrace(tmp_ / "tp");
  json j = json::parse(read_file(tmp_ / "tj/timeline.json"));
  std::multiset<Row> from_pftrace = unit_rows(t), from_json = unit_rows(j);
  EXPECT_GT(from_json.size(), 1000u);
  EXPECT_EQ(from_pftrace.size(), from_json.size());
  EXPECT_TRUE(from_pftrace == from_json);
  // Same energy.csv and waves.vcd whatever the timeline format.
  EXPECT_EQ(read_file(tmp_ / "tp/energy.csv"), read_file(tmp_ / "tj/energy.csv"));
  EXPECT_EQ(read_file(tmp_ / "tp/waves.vcd"), read_file(tmp_ / "tj/waves.vcd"));
  const double pf_bytes = static_cast<double>(read_file(tmp_ / "tp/timeline.pftrace").size());
  const double json_bytes = static_cast<double>(read_file(tmp_ / "tj/timeline.json").size());
  EXPECT_GE(json_bytes / pf_bytes, 10.0) << json_bytes << " vs " << pf_bytes;
}

TEST_F(E2ETrace, SelectionFlagsRestrictEveryFile) {
  ASSERT_EQ(simulate(tmp_ / "all", {}).exit_code, 0);
  pftest::Trace all = pftrace(tmp_ / "all");
  std::set<std::string> layers;
  for (const auto& s : all.slices)
    if (s.args.count("layer")) layers.insert(s.args.at("layer"));
  ASSERT_GE(layers.size(), 2u);
  const std::string layer = *layers.begin();

  ASSERT_EQ(simulate(tmp_ / "cores", {"--trace-cores", "1-2"}).exit_code, 0);
  pftest::Trace cores = pftrace(tmp_ / "cores");
  EXPECT_GT(cores.slices.size(), 0u);
  for (const auto& s : cores.slices) {
    int pid = cores.track_of(s).pid;
    EXPECT_TRUE(pid == 1 || pid == 2 || cores.track_of(s).name == "memory port") << pid;
  }
  EXPECT_EQ(read_file(tmp_ / "cores/waves.vcd").find("core_0 "), std::string::npos);

  ASSERT_EQ(simulate(tmp_ / "units", {"--trace-units", "xbar,memory"}).exit_code, 0);
  pftest::Trace units = pftrace(tmp_ / "units");
  std::set<std::string> names;
  for (const auto& s : units.slices) names.insert(base_track(units.track_of(s).name).substr(0, 4));
  EXPECT_EQ(names, (std::set<std::string>{"xbar", "memo", "laye"}));
  EXPECT_THAT(read_file(tmp_ / "units/energy.csv"), ::testing::Not(HasSubstr(",vector,")));

  // A window in the middle of the run.
  uint64_t first = ~0ull, last = 0;
  for (const auto& s : all.slices) {
    first = std::min(first, s.start_ns);
    last = std::max(last, s.end_ns);
  }
  const uint64_t lo = first + (last - first) / 3, hi = first + 2 * (last - first) / 3;
  ASSERT_EQ(simulate(tmp_ / "window", {"--trace-window", std::to_string(lo) + ":" + std::to_string(hi)}).exit_code, 0);
  pftest::Trace window = pftrace(tmp_ / "window");
  EXPECT_GT(window.slices.size(), 0u);
  EXPECT_LT(window.slices.size(), all.slices.size());
  for (const auto& s : window.slices) {
    // Times are rounded to ns: an event overlapping [lo, hi) by < 1 ns may round to touching.
    EXPECT_LE(s.start_ns, hi);
    EXPECT_GE(s.end_ns, lo);
  }

  ASSERT_EQ(simulate(tmp_ / "layer", {"--trace-layer", layer}).exit_code, 0);
  pftest::Trace one = pftrace(tmp_ / "layer");
  EXPECT_GT(one.slices.size(), 0u);
  for (const auto& s : one.slices) {
    if (s.args.count("layer")) EXPECT_EQ(s.args.at("layer"), layer);
    else EXPECT_EQ(s.name, layer);  // its layer stretches
  }
  // Repeated, and placed before the positional program directory (which it must not swallow).
  const std::string second = *std::next(layers.begin());
  RunResult two = run_cimsim({"simulate", "--trace-layer", layer, "--trace-layer", second, tmp_ / "prog", "--input",
                              files_.input, "--trace-dir", tmp_ / "layers2", "-q"},
                             tmp_.path());
  ASSERT_EQ(two.exit_code, 0) << two.err;
  std::set<std::string> seen;
  for (const auto& s : pftrace(tmp_ / "layers2").slices)
    if (s.args.count("layer")) seen.insert(s.args.at("layer"));
  EXPECT_EQ(seen, (std::set<std::string>{layer, second}));
}

TEST_F(E2ETrace, BadSelectionsExit1BeforeSimulating) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--trace-units", "scalar,tensor"}, "--trace-units: unknown unit 'tensor'"},
      {{"--trace-cores", "0,7"}, "--trace-cores '0,7': core 7 is out of range (the chip has cores 0-3)"},
      {{"--trace-cores", "two"}, "--trace-cores 'two': 'two' is not a core or a range"},
      {{"--trace-window", "500:100"}, "--trace-window '500:100': END must be greater than START"},
      {{"--trace-window", "100"}, "--trace-window '100': expected START_NS:END_NS"},
      {{"--trace-layer", "no_such_layer"}, "--trace-layer: the program has no layer 'no_such_layer'"},
      {{"--trace-format", "chrome"}, "--trace-format: unknown format 'chrome' (expected perfetto or json)"},
  };
  for (const auto& [flags, message] : cases) {
    RunResult r = simulate(tmp_ / "bad", flags);
    EXPECT_EQ(r.exit_code, 1) << flags[1] << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(message));
    EXPECT_TRUE(r.out.empty()) << r.out;  // no summary table: nothing was simulated
    EXPECT_FALSE(exists(tmp_ / "bad"));
    EXPECT_FALSE(exists(tmp_ / "report.json"));
  }
  RunResult no_dir = run_cimsim({"simulate", tmp_ / "prog", "--input", files_.input, "--trace-units", "xbar", "-q"},
                                tmp_.path());
  EXPECT_EQ(no_dir.exit_code, 1);
  EXPECT_THAT(no_dir.err, HasSubstr("need --trace-dir"));
  // run: the same check, and no DIR left behind.
  RunResult run = run_cimsim({"run", files_.model, "--arch", source_path("configs/tiny.yaml"), "--input",
                              files_.input, "-o", tmp_ / "out", "--trace-dir", tmp_ / "bad", "--trace-layer",
                              "no_such_layer", "-q"},
                             tmp_.path());
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_THAT(run.err, HasSubstr("no layer 'no_such_layer'"));
  EXPECT_FALSE(exists(tmp_ / "out"));
  EXPECT_FALSE(exists(tmp_ / "bad"));
}

}  // namespace
}  // namespace e2e
