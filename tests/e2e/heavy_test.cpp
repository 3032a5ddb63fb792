// Heavier end-to-end cases (LABELS heavy, not in the default run): larger networks that are
// exact on ideal.yaml and isaac.yaml, and noise statistics over many seeds.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/models.h"

namespace e2e {
namespace {

// The default zoo has these at width 16 on 16x16 images; here width 64 on 32x32, batch 8.
const std::vector<ModelCase>& heavy_zoo() {
  static const std::vector<ModelCase> zoo = {{"mini_resnet", [] { return mini_resnet(64, 32); }, 8, 10},
                                             {"mobilenet_block", [] { return mobilenet_block(64, 32); }, 8, 7}};
  return zoo;
}

struct HeavyParam {
  std::string model, arch;
};
void PrintTo(const HeavyParam& p, std::ostream* os) { *os << p.model << " on " << p.arch; }

class E2EHeavyGolden : public ::testing::TestWithParam<HeavyParam> {};

TEST_P(E2EHeavyGolden, SimulationEqualsIntegerReference) {
  const HeavyParam& p = GetParam();
  const ModelCase* c = nullptr;
  for (const auto& m : heavy_zoo())
    if (m.name == p.model) c = &m;
  ASSERT_NE(c, nullptr);
  TempDir tmp;
  ModelFiles f = write_model(*c, tmp.path());
  const std::string arch = source_path("configs/" + p.arch + ".yaml");
  for (const char* mode : {"latency", "throughput"}) {
    SCOPED_TRACE(mode);
    RunResult run = run_cimsim({"run", f.model, "--arch", arch, "--mode", mode, "--input", f.input, "-o",
                                tmp / mode, "-q"},
                               tmp.path());
    ASSERT_EQ(run.exit_code, 0) << run.err;
  }
  RunResult ref = run_cimsim({"reference", f.model, "--input", f.input, "--output", tmp / "ref.npy", "--arch", arch},
                             tmp.path());
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  RunResult flt = run_cimsim({"reference", f.model, "--input", f.input, "--output", tmp / "float.npy"}, tmp.path());
  ASSERT_EQ(flt.exit_code, 0) << flt.err;
  Tensor want = read_npy(tmp / "ref.npy");
  for (const char* mode : {"latency", "throughput"}) {
    Tensor sim = read_npy(tmp / (std::string(mode) + "/output.npy"));
    ASSERT_EQ(sim.shape, want.shape) << mode;
    EXPECT_EQ(max_abs_diff(sim.data, want.data), 0.0) << mode;
  }
  EXPECT_LT(rel_l2(want.data, read_npy(tmp / "float.npy").data), 0.15);
}

INSTANTIATE_TEST_SUITE_P(Nets, E2EHeavyGolden,
                         ::testing::Values(HeavyParam{"mini_resnet", "ideal"}, HeavyParam{"mini_resnet", "isaac"},
                                           HeavyParam{"mobilenet_block", "ideal"},
                                           HeavyParam{"mobilenet_block", "isaac"}),
                         [](const ::testing::TestParamInfo<HeavyParam>& i) {
                           return i.param.model + "_" + i.param.arch;
                         });

// Over 10 seeds, the noisy error of each model stays below the default run's bound (0.5) and
// varies: the seeds really draw different noise.
TEST(E2EHeavyNoise, TenSeedsBelowBound) {
  TempDir tmp;
  std::string text = read_file(source_path("configs/ideal.yaml"));
  text.replace(text.find("programming_noise_sigma: 0\n"), 27, "programming_noise_sigma: 0.02\n");
  text.replace(text.find("read_noise_sigma: 0\n"), 20, "read_noise_sigma: 0.01\n");
  write_file(tmp / "noisy.yaml", text);
  for (const char* name : {"chain", "fc_after_flatten", "residual_add", "lut_ops"}) {
    SCOPED_TRACE(name);
    ModelFiles f = write_model(find_model(name), tmp.path());
    ASSERT_EQ(run_cimsim({"reference", f.model, "--input", f.input, "--output", tmp / "ref.npy", "--arch",
                          tmp / "noisy.yaml"},
                         tmp.path())
                  .exit_code,
              0);
    Tensor ref = read_npy(tmp / "ref.npy");
    double lo = 1e9, hi = 0;
    for (int seed = 1; seed <= 10; ++seed) {
      RunResult r = run_cimsim({"run", f.model, "--arch", tmp / "noisy.yaml", "--input", f.input, "-o", tmp / "o",
                                "--seed", std::to_string(seed), "-q"},
                               tmp.path());
      ASSERT_EQ(r.exit_code, 0) << r.err;
      double err = rel_l2(read_npy(tmp / "o/output.npy").data, ref.data);
      lo = std::min(lo, err);
      hi = std::max(hi, err);
    }
    RecordProperty(std::string(name) + "_max", std::to_string(hi));
    EXPECT_LT(hi, 0.5);
    EXPECT_GT(hi, lo * 1.05);
  }
}

}  // namespace
}  // namespace e2e
