// report.json consistency and --trace-dir timeline.pftrace, from a real `cimsim run`.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <string>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/models.h"
#include "tests/traces/pftrace_reader.h"

namespace e2e {
namespace {

using nlohmann::json;

double sum_values(const json& obj) {
  double s = 0;
  for (const auto& [k, v] : obj.items()) s += v.get<double>();
  return s;
}

void expect_rel_near(double got, double want, const std::string& what) {
  EXPECT_LE(std::fabs(got - want), 1e-9 * std::fabs(want)) << what << ": " << got << " vs " << want;
}

class E2EReport : public ::testing::TestWithParam<std::string> {};

TEST_P(E2EReport, ConsistentAndComplete) {
  // chain needs 7 cores; tiny.yaml has 4.
  const ModelCase& c = find_model(GetParam() == "tiny" ? "chain4" : "chain");
  TempDir tmp;
  ModelFiles f = write_model(c, tmp.path());
  RunResult r = run_cimsim({"run", f.model, "--arch", source_path("configs/" + GetParam() + ".yaml"), "--input",
                            f.input, "-o", tmp / "out", "--trace-dir", tmp / "trace", "-q"},
                           tmp.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json rep = json::parse(read_file(tmp / "out/report.json"));

  // Every key of the "## Keys" table of docs/report.md ("| `a.b.c` | unit | meaning |"), except
  // `incomplete`, which only an in-memory report of a --max-time run has.
  std::istringstream doc(read_file(source_path("docs/report.md")));
  std::string row;
  int keys = 0;
  bool in_keys = false;
  while (std::getline(doc, row)) {
    if (row.rfind("## ", 0) == 0) in_keys = row == "## Keys";
    if (!in_keys || row.rfind("| `", 0) != 0) continue;
    std::string key = row.substr(3, row.find('`', 3) - 3);
    if (key == "incomplete") continue;
    std::string ptr = "/" + key;
    for (char& ch : ptr)
      if (ch == '.') ch = '/';
    ++keys;
    EXPECT_TRUE(rep.contains(json::json_pointer(ptr))) << "docs/report.md key missing from report.json: " << key;
  }
  EXPECT_GE(keys, 25);
  EXPECT_FALSE(rep.contains("incomplete"));
  for (const char* comp : {"crossbar", "dac", "snh", "adc", "shift_add", "pe_input_reg", "pe_output_reg",
                           "buffer", "bus", "router", "vector_unit", "scalar_unit", "core_output_reg", "memory",
                           "crossbar_write"})
    EXPECT_TRUE(rep["energy_pj"]["by_component"].contains(comp)) << comp;

  const json& e = rep["energy_pj"];
  double total = e["total"].get<double>();
  EXPECT_GT(total, 0);
  expect_rel_near(e["dynamic"].get<double>() + e["leakage"].get<double>(), total, "dynamic + leakage");
  expect_rel_near(sum_values(e["by_component"]), total, "energy by_component");
  expect_rel_near(sum_values(e["by_layer"]), total, "energy by_layer");
  EXPECT_TRUE(e["by_layer"].contains("leakage"));
  expect_rel_near(e["by_layer"]["leakage"].get<double>(), e["leakage"].get<double>(), "by_layer leakage");
  expect_rel_near(sum_values(rep["area_um2"]["by_component"]), rep["area_um2"]["total"].get<double>(),
                  "area by_component");
  EXPECT_GT(rep["area_um2"]["total"].get<double>(), 0);

  double latency_ns = rep["latency_ns"].get<double>();
  EXPECT_GT(latency_ns, 0);
  EXPECT_EQ(rep["batch"].get<int64_t>(), c.batch);
  // Both shipped configs clock at 1280 MHz.
  EXPECT_EQ(rep["cycles"].get<int64_t>(), static_cast<int64_t>(std::ceil(latency_ns / (1000.0 / 1280.0) - 1e-9)));
  expect_rel_near(rep["throughput_inferences_per_s"].get<double>(), c.batch / (latency_ns * 1e-9), "throughput");
  EXPECT_GT(rep["instructions_executed"].get<int64_t>(), 0);
  EXPECT_GT(rep["counts"]["mvms"].get<int64_t>(), 0);
  EXPECT_GT(rep["counts"]["macs"].get<int64_t>(), 0);
  EXPECT_GT(rep["counts"]["adc_conversions"].get<int64_t>(), 0);
  double umax = rep["utilization"]["crossbars"]["max"].get<double>();
  double umean = rep["utilization"]["crossbars"]["mean"].get<double>();
  EXPECT_GT(umax, 0);
  EXPECT_LE(umax, 1.0 + 1e-12);
  EXPECT_LE(umean, umax);
  for (const auto& u : rep["utilization"]["cores"]) {
    EXPECT_GE(u.get<double>(), 0);
    EXPECT_LE(u.get<double>(), 1.0 + 1e-12);
  }

  // layers: one entry per by_layer entry but "leakage", same names and energy; every executed
  // instruction attributed; no layer ends after the run and the last one ends within the
  // drain of the model output's store (the memory latency plus its transfer, far below 10 %).
  const json& layers = rep["layers"];
  ASSERT_EQ(layers.size() + 1, e["by_layer"].size());
  int64_t layer_instructions = 0;
  double latest_end_ns = 0;
  for (const auto& l : layers) {
    const std::string name = l["name"].get<std::string>();
    ASSERT_TRUE(e["by_layer"].contains(name)) << name;
    expect_rel_near(l["energy_pj"].get<double>(), e["by_layer"][name].get<double>(), "layer energy " + name);
    layer_instructions += l["instructions"].get<int64_t>();
    EXPECT_GE(l["busy_ns"].get<double>(), 0) << name;
    if (l["start_ns"].is_null()) {
      EXPECT_TRUE(l["end_ns"].is_null()) << name;
      continue;
    }
    EXPECT_GE(l["start_ns"].get<double>(), 0) << name;
    EXPECT_LE(l["start_ns"].get<double>(), l["end_ns"].get<double>()) << name;
    EXPECT_LE(l["end_ns"].get<double>(), latency_ns) << name;
    latest_end_ns = std::max(latest_end_ns, l["end_ns"].get<double>());
  }
  EXPECT_EQ(layer_instructions, rep["instructions_executed"].get<int64_t>());
  EXPECT_GT(latest_end_ns, 0.9 * latency_ns);
  // `simulate --layers` prints the table with every layer's name.
  RunResult table = run_cimsim({"simulate", tmp / "out", "--input", f.input, "--layers", "-q"}, tmp.path());
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("per layer"), std::string::npos) << table.out;
  for (const auto& l : layers) EXPECT_NE(table.out.find(l["name"].get<std::string>()), std::string::npos) << table.out;

  // timeline.pftrace: decodes cleanly, and every core that has code (cores/core_NNN.s) has a
  // slice.
  cimsim::pftest::Trace tl = cimsim::pftest::decode(read_file(tmp / "trace/timeline.pftrace"));
  for (const auto& err : tl.errors) ADD_FAILURE() << err;
  std::map<int64_t, int> slices;
  for (const auto& s : tl.slices) {
    ++slices[tl.track_of(s).pid];
    EXPECT_GE(s.end_ns, s.start_ns);
  }
  int cores_with_code = 0;
  for (const auto& [rel, content] : dir_contents(tmp / "out/cores")) {
    int64_t core = std::stoll(rel.substr(5, 3));  // core_NNN.s
    ++cores_with_code;
    EXPECT_GT(slices[core], 0) << "no timeline slice for core " << core;
  }
  EXPECT_GT(cores_with_code, 0);
  EXPECT_EQ(rep["utilization"]["cores"].size(), GetParam() == "tiny" ? 4u : 168u);

  // energy.csv: its energy column sums to the report's dynamic energy (docs/traces.md).
  std::istringstream csv(read_file(tmp / "trace/energy.csv"));
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line, "time_start_ns,time_end_ns,component,energy_pj");
  double csv_pj = 0;
  while (std::getline(csv, line)) csv_pj += std::stod(line.substr(line.rfind(',') + 1));
  EXPECT_LE(std::fabs(csv_pj - e["dynamic"].get<double>()), 1e-9 * e["dynamic"].get<double>());
  EXPECT_TRUE(exists(tmp / "trace/waves.vcd"));
}

INSTANTIATE_TEST_SUITE_P(Configs, E2EReport, ::testing::Values("tiny", "ideal"));

}  // namespace
}  // namespace e2e
