// SRAM IMC macros end to end: configs/sram_aimc.yaml and configs/sram_dimc.yaml compile and
// simulate a network unchanged, bit-exact to the integer reference (both macros are exact by
// construction, see the configs), with the macro costs of the ZigZag-IMC model in the report.
// Block floating point is kernel-level only: compile rejects it with a clear message.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/models.h"

namespace e2e {
namespace {

class SramE2e : public ::testing::TestWithParam<std::string> {};

TEST_P(SramE2e, RunsExactWithMacroCosts) {
  TempDir tmp;
  const std::string arch = source_path("configs/" + GetParam() + ".yaml");
  const ModelFiles f = write_model(find_model("chain4"), tmp.path());
  RunResult r = run_cimsim({"run", f.model, "--arch", arch, "--input", f.input, "-o",
                            tmp / "out", "-q"}, tmp.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  RunResult ref = run_cimsim({"reference", f.model, "--input", f.input, "--output",
                              tmp / "ref.npy", "--arch", arch}, tmp.path());
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  const Tensor sim = read_npy(tmp / "out/output.npy");
  const Tensor want = read_npy(tmp / "ref.npy");
  EXPECT_EQ(sim.shape, want.shape);
  EXPECT_EQ(max_abs_diff(sim.data, want.data), 0.0);

  // The same network on tiny.yaml (ReRAM, ISAAC-CE costs): the macro components' energy and
  // area differ, the rest of the report has the same structure.
  RunResult rr = run_cimsim({"run", f.model, "--arch", source_path("configs/tiny.yaml"),
                             "--input", f.input, "-o", tmp / "reram", "-q"}, tmp.path());
  ASSERT_EQ(rr.exit_code, 0) << rr.err;
  const auto sram = nlohmann::json::parse(read_file(tmp / "out/report.json"));
  const auto reram = nlohmann::json::parse(read_file(tmp / "reram/report.json"));
  for (const char* c : {"crossbar", "adc"}) {
    const double e = sram["energy_pj"]["by_component"][c].get<double>();
    EXPECT_GT(e, 0.0) << c;
    EXPECT_NE(e, reram["energy_pj"]["by_component"][c].get<double>()) << c;
  }
  EXPECT_EQ(sram["energy_pj"]["by_component"]["snh"].get<double>(), 0.0);
  EXPECT_GT(sram["latency_ns"].get<double>(), 0.0);

  RunResult a = run_cimsim({"arch", arch}, tmp.path());
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_NE(a.out.find("ZigZag-IMC"), std::string::npos) << a.out;
}

INSTANTIATE_TEST_SUITE_P(Configs, SramE2e, ::testing::Values("sram_aimc", "sram_dimc"));

TEST(BfpE2e, CompileRejectsBlockFloatingPoint) {
  TempDir tmp;
  std::string text = read_file(source_path("configs/tiny.yaml"));
  text.replace(text.find("  requant_shift_max: 31\n"), 23,
               "  requant_shift_max: 31\n  bfp_block: 16\n");
  write_file(tmp / "bfp.yaml", text);
  const ModelFiles f = write_model(find_model("chain4"), tmp.path());
  RunResult r = run_cimsim({"compile", f.model, "--arch", tmp / "bfp.yaml", "-o", tmp / "p"},
                           tmp.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bfp_block = 16"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(tmp / "p"));
}

// The relative error column of the network table's rows, in order.
std::vector<double> network_errors(const std::string& out) {
  std::vector<double> errs;
  size_t at = out.find("| top-1 agrees");
  while ((at = out.find("\n| ", at)) != std::string::npos) {
    at += 3;
    size_t c1 = out.find('|', at), c2 = out.find('|', c1 + 1), c3 = out.find('|', c2 + 1);
    if (c3 == std::string::npos) break;
    errs.push_back(std::stod(out.substr(c2 + 1, c3 - c2 - 1)));
  }
  return errs;
}

TEST(BfpE2e, NetworkErrorShrinksWithMantissaBits) {
  TempDir tmp;
  const ModelFiles f = write_model(find_model("chain4"), tmp.path());
  RunResult r = run_cimsim({"bfp-error", "--arch", source_path("configs/tiny.yaml"),
                            "--mantissa-bits", "4,8", "--blocks", "16", "--vectors", "2",
                            "--model", f.model, "--input", f.input}, tmp.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<double> errs = network_errors(r.out);
  ASSERT_EQ(errs.size(), 2u) << r.out;
  EXPECT_LT(errs[1], 0.03) << r.out;  // 8-bit mantissas, blocks of 16
  EXPECT_LT(errs[1], errs[0] / 4) << r.out;
  EXPECT_GT(errs[0], 0.0) << r.out;
}

TEST(BfpE2e, BadArguments) {
  TempDir tmp;
  RunResult r = run_cimsim({"bfp-error", "--arch", source_path("configs/tiny.yaml"), "--blocks",
                            "64"}, tmp.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("block 64 out of range"), std::string::npos) << r.err;
  r = run_cimsim({"bfp-error", "--arch", source_path("configs/tiny.yaml"), "--model", "x.onnx"},
                 tmp.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--model and --input go together"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace e2e
