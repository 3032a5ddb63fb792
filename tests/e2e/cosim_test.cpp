// RTL co-simulation end to end (docs/cosim.md): one compiled program simulated with
// pe.shift_add_model tlm and rtl gives bit-identical outputs and energy, and the cycles of
// tlm with pe.shift_add_latency_cycles = the RTL's latency (CIMSIM_RTL_SHIFT_ADD_LATENCY, 1
// for the bundled RTL). Skips when the binary was built without Verilator (it then refuses
// rtl with a clear message).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/models.h"

namespace e2e {
namespace {

using nlohmann::json;

// configs/tiny.yaml with extra `pe` keys (the keys do not change the program).
std::string tiny_with(const std::string& pe_keys, const TempDir& tmp, const std::string& name) {
  std::string yaml = read_file(source_path("configs/tiny.yaml"));
  const std::string anchor = "  shift_adds: 2\n";
  const size_t at = yaml.find(anchor);
  EXPECT_NE(at, std::string::npos) << "configs/tiny.yaml has no pe.shift_adds line";
  yaml.insert(at + anchor.size(), pe_keys);
  write_file(tmp / name, yaml);
  return tmp / name;
}

class E2ECosim : public ::testing::TestWithParam<std::string> {};

TEST_P(E2ECosim, RtlShiftAddSameOutputsAndDocumentedCycles) {
  TempDir tmp;
  ModelFiles f = write_model(find_model(GetParam()), tmp.path());
  ASSERT_EQ(run_cimsim({"compile", f.model, "--arch", source_path("configs/tiny.yaml"), "-o", tmp / "prog"},
                       tmp.path())
                .exit_code,
            0);
  auto simulate = [&](const std::string& arch, const std::string& out) {
    return run_cimsim({"simulate", tmp / "prog", "--arch", arch, "--input", f.input, "--output",
                       tmp / (out + ".npy"), "--report", tmp / (out + ".json"), "-q"},
                      tmp.path());
  };
  const RunResult rtl = simulate(tiny_with("  shift_add_model: rtl\n", tmp, "rtl.yaml"), "rtl");
  if (rtl.exit_code == 1 && rtl.err.find("built without Verilator") != std::string::npos)
    GTEST_SKIP() << "cimsim built without Verilator: " << rtl.err;
  ASSERT_EQ(rtl.exit_code, 0) << rtl.err;
  ASSERT_EQ(simulate(source_path("configs/tiny.yaml"), "tlm").exit_code, 0);
  const std::string latency = std::to_string(CIMSIM_RTL_SHIFT_ADD_LATENCY);
  ASSERT_EQ(simulate(tiny_with("  shift_add_latency_cycles: " + latency + "\n", tmp, "tlm1.yaml"), "tlm1").exit_code,
            0);

  EXPECT_EQ(read_file(tmp / "rtl.npy"), read_file(tmp / "tlm.npy"));
  const json r = json::parse(read_file(tmp / "rtl.json"));
  const json t = json::parse(read_file(tmp / "tlm.json"));
  const json t1 = json::parse(read_file(tmp / "tlm1.json"));
  EXPECT_EQ(r["cycles"], t1["cycles"]);
  EXPECT_EQ(r["latency_ns"], t1["latency_ns"]);
  EXPECT_EQ(r["utilization"], t1["utilization"]);
  if (CIMSIM_RTL_SHIFT_ADD_LATENCY > 0) {  // the RTL's cycles are observable
    EXPECT_GT(r["cycles"].get<double>(), t["cycles"].get<double>());
  }
  EXPECT_EQ(r["energy_pj"]["by_component"]["adc"], t["energy_pj"]["by_component"]["adc"]);
  EXPECT_EQ(r["energy_pj"]["by_component"]["shift_add"], t["energy_pj"]["by_component"]["shift_add"]);
  EXPECT_EQ(r["instructions_executed"], t["instructions_executed"]);
  EXPECT_GT(r["sim"]["rtl_cycles"].get<uint64_t>(), 0u);
  EXPECT_EQ(t["sim"]["rtl_cycles"].get<uint64_t>(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Models, E2ECosim, ::testing::Values("residual_add", "chain4"));

// A worst-case ADC range decodes to real values, which no digital unit takes: exit 1 with a
// message naming the key, and no output file.
TEST(E2ECosimInput, RealValuedAdcCodesRefused) {
  TempDir tmp;
  ModelFiles f = write_model(find_model("chain4"), tmp.path());
  std::string yaml = read_file(source_path("configs/tiny.yaml"));
  const size_t at = yaml.find("  range: lsb_aligned");
  ASSERT_NE(at, std::string::npos);
  yaml.replace(at, std::string("  range: lsb_aligned").size(), "  range: worst_case");
  write_file(tmp / "worst.yaml", yaml);
  ASSERT_EQ(run_cimsim({"compile", f.model, "--arch", tmp / "worst.yaml", "-o", tmp / "prog"}, tmp.path()).exit_code,
            0);
  const std::string rtl = tiny_with("  shift_add_model: rtl\n", tmp, "rtl.yaml");
  yaml = read_file(rtl);
  yaml.replace(yaml.find("  range: lsb_aligned"), std::string("  range: lsb_aligned").size(), "  range: worst_case");
  write_file(rtl, yaml);
  const RunResult r = run_cimsim(
      {"simulate", tmp / "prog", "--arch", rtl, "--input", f.input, "--output", tmp / "y.npy", "-q"}, tmp.path());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  if (r.err.find("built without Verilator") == std::string::npos) {
    EXPECT_NE(r.err.find("rtl.yaml: pe.shift_add_model: rtl needs integer ADC codes"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(exists(tmp / "y.npy"));
}

}  // namespace
}  // namespace e2e
