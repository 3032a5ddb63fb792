#include "traces/report.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

namespace cimsim {
namespace {

double rel_diff(double a, double b) { return std::abs(a - b) / std::max(1e-300, std::max(std::abs(a), std::abs(b))); }

struct Fixture {
  ArchSpec spec;
  ArchDerived derived;
  Program program;
  RunStats stats;
  Fixture() {
    spec.chip.cores = 4;
    spec.core.pes = 2;
    spec.pe.crossbars = 8;
    spec.pe.adcs = 8;
    spec.costs.components["crossbar"] = {30.0, 0.3, 25.0, "t"};
    spec.costs.components["adc"] = {1.67, 2.0, 1200.0, "t"};
    spec.costs.components["router"] = {20.0, 1.5, 0.0, "t"};  // no area: structural count (cores)
    spec.costs.components["memory"] = {10.0, 0.0, 0.0, "t"};
    derived.cycle_ns = 1.0;
    derived.area_um2_by_component = {{"crossbar", 25.0 * 64}, {"adc", 1200.0 * 64}};
    derived.area_um2 = 25.0 * 64 + 1200.0 * 64;
    program.layers = {"conv1", "conv1", "fc"};
    stats.end_ps = 2'000'000;  // 2000 ns
    stats.batch = 4;
    stats.instructions_executed = 1000;
    stats.energy.resize(3);
    stats.energy.add(Component::kCrossbar, 0, 100.0);
    stats.energy.add(Component::kAdc, 0, 50.0);
    stats.energy.add(Component::kAdc, 1, 25.0);
    stats.energy.add(Component::kRouter, 2, 7.5);
    stats.energy.add(Component::kMemory, 2, 0.125);
    stats.core_busy_ps = {2'000'000, 1'000'000, 500'000, 0};
    stats.crossbar_busy_ps = {{1'000'000, 0}, {2'000'000, 2'000'000}, {}, {500'000}};
    stats.mvms = 10;
    stats.macs = 1000;
  }
};

TEST(Report, KeysLatencyThroughputCycles) {
  Fixture f;
  auto r = build_report(f.stats, f.spec, f.derived, f.program, 0.5);
  EXPECT_DOUBLE_EQ(r["latency_ns"].get<double>(), 2000.0);
  EXPECT_EQ(r["cycles"].get<uint64_t>(), 2000u);
  EXPECT_EQ(r["batch"].get<int>(), 4);
  EXPECT_NEAR(r["throughput_inferences_per_s"].get<double>(), 4 / 2e-6, 1e-3);
  EXPECT_EQ(r["instructions_executed"].get<uint64_t>(), 1000u);
  EXPECT_DOUBLE_EQ(r["sim"]["instructions_per_s"].get<double>(), 2000.0);
  EXPECT_GT(r["sim"]["peak_rss_mb"].get<double>(), 0.0);
  EXPECT_EQ(r["counts"]["mvms"].get<uint64_t>(), 10u);
  EXPECT_EQ(r["counts"]["macs"].get<uint64_t>(), 1000u);
}

TEST(Report, LeakageIsInstancesTimesPowerTimesLatency) {
  Fixture f;
  auto r = build_report(f.stats, f.spec, f.derived, f.program, 1.0);
  // 64 crossbars * 0.3 mW + 64 ADCs * 2 mW + 4 routers (one per core) * 1.5 mW, over 2000 ns.
  double expected_leak = (64 * 0.3 + 64 * 2.0 + 4 * 1.5) * 2000.0;
  EXPECT_NEAR(r["energy_pj"]["leakage"].get<double>(), expected_leak, 1e-9 * expected_leak);
  EXPECT_NEAR(r["energy_pj"]["dynamic"].get<double>(), 182.625, 1e-12);
  EXPECT_NEAR(r["energy_pj"]["by_component"]["adc"].get<double>(), 75.0 + 64 * 2.0 * 2000.0, 1e-6);
  EXPECT_NEAR(r["energy_pj"]["by_layer"]["leakage"].get<double>(), expected_leak, 1e-6);
}

TEST(Report, BreakdownsAddUpToTotals) {
  Fixture f;
  auto r = build_report(f.stats, f.spec, f.derived, f.program, 1.0);
  const auto& e = r["energy_pj"];
  double total = e["total"].get<double>();
  EXPECT_LT(rel_diff(total, e["dynamic"].get<double>() + e["leakage"].get<double>()), 1e-9);
  double by_comp = 0, by_layer = 0;
  for (const auto& kv : e["by_component"].items()) by_comp += kv.value().get<double>();
  for (const auto& kv : e["by_layer"].items()) by_layer += kv.value().get<double>();
  EXPECT_LT(rel_diff(total, by_comp), 1e-9);
  EXPECT_LT(rel_diff(total, by_layer), 1e-9);
  double area = 0;
  for (const auto& kv : r["area_um2"]["by_component"].items()) area += kv.value().get<double>();
  EXPECT_LT(rel_diff(area, r["area_um2"]["total"].get<double>()), 1e-9);
}

TEST(Report, DuplicateLayerNamesStayDistinct) {
  Fixture f;
  auto r = build_report(f.stats, f.spec, f.derived, f.program, 1.0);
  const auto& by_layer = r["energy_pj"]["by_layer"];
  EXPECT_DOUBLE_EQ(by_layer["conv1"].get<double>(), 150.0);
  EXPECT_DOUBLE_EQ(by_layer["conv1#2"].get<double>(), 25.0);
  EXPECT_DOUBLE_EQ(by_layer["fc"].get<double>(), 7.625);
}

TEST(Report, AreaRemainderBecomesOther) {
  Fixture f;
  f.derived.area_um2 += 500.0;
  auto r = build_report(f.stats, f.spec, f.derived, f.program, 1.0);
  EXPECT_DOUBLE_EQ(r["area_um2"]["by_component"]["other"].get<double>(), 500.0);
}

TEST(Report, Utilization) {
  Fixture f;
  auto r = build_report(f.stats, f.spec, f.derived, f.program, 1.0);
  const auto& u = r["utilization"];
  ASSERT_EQ(u["cores"].size(), 4u);
  EXPECT_DOUBLE_EQ(u["cores"][0].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(u["cores"][2].get<double>(), 0.25);
  // Crossbar fractions: 0.5, 0, 1, 1, 0.25 -> mean 2.75 / 5, max 1, per core 0.25, 1, 0, 0.25.
  EXPECT_DOUBLE_EQ(u["crossbars"]["mean"].get<double>(), 2.75 / 5);
  EXPECT_DOUBLE_EQ(u["crossbars"]["max"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(u["crossbars"]["per_core"][0].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(u["crossbars"]["per_core"][1].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(u["crossbars"]["per_core"][2].get<double>(), 0.0);
}

TEST(Report, SummaryNamesTopConsumers) {
  Fixture f;
  auto r = build_report(f.stats, f.spec, f.derived, f.program, 1.0);
  std::ostringstream out;
  print_summary(r, out);
  std::string s = out.str();
  EXPECT_NE(s.find("latency"), std::string::npos);
  EXPECT_NE(s.find("TOPS/W"), std::string::npos);
  // adc leaks the most, so it leads the list.
  auto adc = s.find("adc"), xbar = s.find("crossbar");
  ASSERT_NE(adc, std::string::npos);
  ASSERT_NE(xbar, std::string::npos);
  EXPECT_LT(adc, xbar);
  EXPECT_EQ(s.find("shift_add"), std::string::npos);  // components that spent nothing are not listed
}

}  // namespace
}  // namespace cimsim

namespace cimsim {
namespace {

// derive()'s area breakdown and the structural counts of docs/report.md must agree, so leakage
// is charged for the instances the area is.
TEST(Report, InstancesMatchDeriveOnShippedConfigs) {
  for (const char* name : {"tiny.yaml", "isaac.yaml"}) {
    ArchSpec spec = load_arch_spec(std::string(CIMSIM_SOURCE_DIR) + "/configs/" + name);
    auto inst = component_instances(spec, derive(spec));
    const double cores = spec.chip.cores, pes = cores * spec.core.pes, xbars = pes * spec.pe.crossbars;
    std::map<std::string, double> expected = {
        {"crossbar", xbars}, {"dac", xbars * spec.crossbar.rows}, {"snh", xbars * spec.crossbar.cols},
        {"adc", pes * spec.pe.adcs}, {"shift_add", pes * spec.pe.shift_adds}, {"pe_input_reg", pes},
        {"pe_output_reg", pes}, {"buffer", cores}, {"bus", cores}, {"router", cores}, {"vector_unit", cores},
        {"scalar_unit", cores}, {"core_output_reg", cores}, {"memory", 1}};
    for (const auto& [component, count] : expected) {
      ASSERT_TRUE(inst.count(component)) << name << " " << component;
      EXPECT_NEAR(inst[component], count, 1e-6 * count) << name << " " << component;
    }
  }
}

}  // namespace
}  // namespace cimsim

namespace cimsim {
namespace {

TEST(Report, SummaryTopsPerWattIsOpsPerPicojoule) {
  Fixture f;
  f.spec.costs.components.clear();  // no leakage: total = dynamic = 182.625 pJ
  auto r = build_report(f.stats, f.spec, f.derived, f.program, 1.0);
  std::ostringstream out;
  print_summary(r, out);
  std::string s = out.str();
  auto pos = s.find("TOPS/W");
  ASSERT_NE(pos, std::string::npos);
  double tops_w = std::stod(s.substr(s.find_first_not_of(' ', pos + 6)));
  EXPECT_NEAR(tops_w, 2.0 * 1000 / 182.625, 1e-3 * 10.95);  // 2 ops per MAC; ops/pJ = TOPS/W; 4 digits
  // energy per inference: 182.625 pJ / 4 images = 45.66 pJ
  EXPECT_NE(s.find("45.66 pJ"), std::string::npos) << s;
}

}  // namespace
}  // namespace cimsim

namespace cimsim {
namespace {

// report["layers"]: program order, by_layer's names, times in ns, null times for a layer that
// ran no unit instruction, energy equal to its by_layer entry.
TEST(Report, LayersCarryTimesInNsUnderByLayerNames) {
  Fixture f;
  f.stats.layer_times.resize(3);
  f.stats.layer_times[0] = {2'000, 1'200'000, 2'000'000, 600, 400};  // ps; busy > span: two units
  f.stats.layer_times[1] = {0, 0, 3'000, 3, 0};                      // scalar only
  f.stats.layer_times[2] = {1'100'000, 2'000'000, 700'000, 397, 300};
  auto r = build_report(f.stats, f.spec, f.derived, f.program, 1.0);
  const auto& layers = r.at("layers");
  ASSERT_EQ(layers.size(), 3u);
  EXPECT_EQ(layers[0].at("name"), "conv1");
  EXPECT_EQ(layers[1].at("name"), "conv1#2");
  EXPECT_EQ(layers[2].at("name"), "fc");
  EXPECT_DOUBLE_EQ(layers[0].at("start_ns").get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(layers[0].at("end_ns").get<double>(), 1200.0);
  EXPECT_DOUBLE_EQ(layers[0].at("busy_ns").get<double>(), 2000.0);
  EXPECT_EQ(layers[0].at("instructions").get<uint64_t>(), 600u);
  EXPECT_TRUE(layers[1].at("start_ns").is_null());
  EXPECT_TRUE(layers[1].at("end_ns").is_null());
  EXPECT_DOUBLE_EQ(layers[1].at("busy_ns").get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(layers[2].at("end_ns").get<double>(), r.at("latency_ns").get<double>());
  uint64_t instructions = 0;
  double pj = 0;
  for (const auto& l : layers) {
    EXPECT_DOUBLE_EQ(l.at("energy_pj").get<double>(),
                     r.at("energy_pj").at("by_layer").at(l.at("name").get<std::string>()).get<double>());
    instructions += l.at("instructions").get<uint64_t>();
    pj += l.at("energy_pj").get<double>();
  }
  EXPECT_EQ(instructions, r.at("instructions_executed").get<uint64_t>());
  EXPECT_NEAR(pj, r.at("energy_pj").at("dynamic").get<double>(), 1e-9);

  std::ostringstream out;
  print_layer_table(r, out);
  const std::string s = out.str();
  EXPECT_NE(s.find("conv1#2"), std::string::npos) << s;
  EXPECT_NE(s.find("1.2 us"), std::string::npos) << s;  // conv1's end
  EXPECT_NE(s.find("1.198 us"), std::string::npos) << s;  // its span, 1200 - 2 ns
  // The table is printed only on request: the summary does not hold it.
  std::ostringstream summary;
  print_summary(r, summary);
  EXPECT_EQ(summary.str().find("per layer"), std::string::npos);
}

}  // namespace
}  // namespace cimsim
