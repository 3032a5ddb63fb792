// E2EGolden end-to-end tests: for every model of the zoo on every exact arch config,
// `cimsim run` must reproduce `cimsim reference --arch` bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <tuple>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/models.h"

namespace e2e {
namespace {

struct GoldenParam {
  std::string model;
  std::string arch;  // file under configs/
  std::string mode;  // compile --mode
};

void PrintTo(const GoldenParam& p, std::ostream* os) { *os << p.model << " on " << p.arch << " (" << p.mode << ")"; }

class E2EGolden : public ::testing::TestWithParam<GoldenParam> {};

TEST_P(E2EGolden, SimulationEqualsIntegerReference) {
  const GoldenParam& p = GetParam();
  const ModelCase& c = find_model(p.model);
  TempDir tmp;
  ModelFiles f = write_model(c, tmp.path());
  const std::string arch = source_path("configs/" + p.arch + ".yaml");

  RunResult run = run_cimsim({"run", f.model, "--arch", arch, "--mode", p.mode, "--input", f.input, "-o", tmp / "out", "-q"},
                             tmp.path());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  RunResult ref = run_cimsim({"reference", f.model, "--input", f.input, "--output", tmp / "ref.npy", "--arch", arch},
                             tmp.path());
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  RunResult flt = run_cimsim({"reference", f.model, "--input", f.input, "--output", tmp / "float.npy"}, tmp.path());
  ASSERT_EQ(flt.exit_code, 0) << flt.err;

  Tensor sim = read_npy(tmp / "out/output.npy");
  Tensor want = read_npy(tmp / "ref.npy");
  Tensor fl = read_npy(tmp / "float.npy");
  ASSERT_EQ(sim.shape, want.shape);
  ASSERT_EQ(want.shape, fl.shape);
  ASSERT_EQ(sim.shape.at(0), c.batch);
  EXPECT_EQ(max_abs_diff(sim.data, want.data), 0.0);

  // The comparison above is only meaningful when the reference is a real result: not
  // constant, and close to the float network (8-bit quantization of a few layers).
  float lo = want.data[0], hi = want.data[0];
  for (float v : want.data) {
    ASSERT_TRUE(std::isfinite(v));
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_LT(lo, hi) << "reference output is constant";
  EXPECT_LT(rel_l2(want.data, fl.data), 0.1) << "integer reference far from the float model";
}

std::vector<GoldenParam> all_cases() {
  std::vector<GoldenParam> v;
  // isaac.yaml is exact too: lsb_aligned with weight_flip fits every 128-row column sum.
  const std::vector<std::pair<std::string, std::string>> configs = {
      {"tiny", "latency"}, {"ideal", "latency"}, {"isaac", "latency"}, {"tiny", "throughput"}, {"ideal", "throughput"}};
  for (const auto& [arch, mode] : configs)
    for (const auto& c : model_zoo())
      if (arch != "tiny" || c.min_cores <= 4) v.push_back({c.name, arch, mode});
  return v;
}

INSTANTIATE_TEST_SUITE_P(Zoo, E2EGolden, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<GoldenParam>& i) {
                           return i.param.model + "_" + i.param.arch + "_" + i.param.mode;
                         });

}  // namespace
}  // namespace e2e
