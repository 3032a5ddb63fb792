// Lossy and noisy paths: a rounding ADC (isaac.yaml with adc.range worst_case) and device
// non-idealities (ideal.yaml with programming and read noise) against the exact integer
// reference of the same arch. Bounds and their justification: README.md in this folder.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/models.h"

namespace e2e {
namespace {

std::string replace_all_once(std::string text, const std::vector<std::pair<std::string, std::string>>& edits) {
  for (const auto& [from, to] : edits) {
    size_t at = text.find(from);
    if (at == std::string::npos) throw std::runtime_error("pattern not found: " + from);
    text.replace(at, from.size(), to);
  }
  return text;
}

std::string worst_case_isaac(const TempDir& tmp) {
  std::string path = tmp / "isaac_worst_case.yaml";
  write_file(path, replace_all_once(read_file(source_path("configs/isaac.yaml")),
                                    {{"range: lsb_aligned", "range: worst_case"}}));
  return path;
}

// ideal.yaml with programming noise sigma = 0.02 * factor and read noise sigma = 0.01 * factor.
std::string noisy_ideal(const TempDir& tmp, double factor = 1.0) {
  std::string path = tmp / ("ideal_noise_" + std::to_string(factor) + ".yaml");
  write_file(path, replace_all_once(read_file(source_path("configs/ideal.yaml")),
                                    {{"programming_noise_sigma: 0\n",
                                      "programming_noise_sigma: " + std::to_string(0.02 * factor) + "\n"},
                                     {"read_noise_sigma: 0\n", "read_noise_sigma: " + std::to_string(0.01 * factor) + "\n"}}));
  return path;
}

struct Outputs {
  Tensor sim, ref;
};

Outputs run_and_reference(const TempDir& tmp, const ModelFiles& f, const std::string& arch, const std::string& out,
                          const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"run", f.model, "--arch", arch, "--input", f.input, "-o", tmp / out, "-q"};
  args.insert(args.end(), extra.begin(), extra.end());
  RunResult r = run_cimsim(args, tmp.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  RunResult ref = run_cimsim({"reference", f.model, "--input", f.input, "--output", tmp / (out + "_ref.npy"), "--arch", arch},
                             tmp.path());
  EXPECT_EQ(ref.exit_code, 0) << ref.err;
  Outputs o{read_npy(tmp / (out + "/output.npy")), read_npy(tmp / (out + "_ref.npy"))};
  EXPECT_EQ(o.sim.shape, o.ref.shape);
  return o;
}

// Rounding ADC: every conversion is off by at most half a step, step = 1.5 cell-current LSBs
// for a 128-row tile. Deterministic (no noise), so the bound only moves when the code does.
constexpr double kWorstCaseAdcBound = 0.40;  // measured max 0.279 (wide_conv) over the zoo

class E2EWorstCaseAdc : public ::testing::TestWithParam<std::string> {};

TEST_P(E2EWorstCaseAdc, ErrorBoundedAndDeterministic) {
  TempDir tmp;
  ModelFiles f = write_model(find_model(GetParam()), tmp.path());
  std::string arch = worst_case_isaac(tmp);
  Outputs a = run_and_reference(tmp, f, arch, "a");
  double err = rel_l2(a.sim.data, a.ref.data);
  RecordProperty("rel_l2", std::to_string(err));
  EXPECT_LT(err, kWorstCaseAdcBound);
  EXPECT_GT(err, 1e-4) << "a worst_case ADC was expected to lose information";
  Outputs b = run_and_reference(tmp, f, arch, "b");
  EXPECT_EQ(read_file(tmp / "a/output.npy"), read_file(tmp / "b/output.npy"));
  // worst_case clips nothing by construction.
  nlohmann::json rep = nlohmann::json::parse(read_file(tmp / "a/report.json"));
  EXPECT_EQ(rep["counts"]["adc_saturations"].get<int64_t>(), 0);
  EXPECT_GT(rep["counts"]["adc_conversions"].get<int64_t>(), 0);
}

std::vector<std::string> zoo_names(int max_cores) {
  std::vector<std::string> v;
  for (const auto& c : model_zoo())
    if (c.min_cores <= max_cores) v.push_back(c.name);
  return v;
}

INSTANTIATE_TEST_SUITE_P(Zoo, E2EWorstCaseAdc, ::testing::ValuesIn(zoo_names(168)),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

// Programming noise 0.02 and read noise 0.01 of the conductance window. Measured over seeds
// 1..5: chain 0.017-0.079, fc_after_flatten 0.19-0.29, residual_add 0.095-0.14, lut_ops 0.088.
constexpr double kNoiseBound = 0.5;
const std::vector<std::string> kNoiseModels = {"chain", "fc_after_flatten", "residual_add", "lut_ops"};

class E2ENoise : public ::testing::TestWithParam<std::string> {};

TEST_P(E2ENoise, ErrorBoundedAndSeeded) {
  TempDir tmp;
  ModelFiles f = write_model(find_model(GetParam()), tmp.path());
  std::string arch = noisy_ideal(tmp);
  Outputs s1 = run_and_reference(tmp, f, arch, "s1", {"--seed", "1"});
  Outputs s1again = run_and_reference(tmp, f, arch, "s1again", {"--seed", "1"});
  Outputs s2 = run_and_reference(tmp, f, arch, "s2", {"--seed", "2"});
  for (const auto* o : {&s1, &s2}) {
    double err = rel_l2(o->sim.data, o->ref.data);
    RecordProperty(o == &s1 ? "rel_l2_seed1" : "rel_l2_seed2", std::to_string(err));
    EXPECT_LT(err, kNoiseBound);
    EXPECT_GT(err, 1e-4) << "noise had no effect";
  }
  EXPECT_EQ(read_file(tmp / "s1/output.npy"), read_file(tmp / "s1again/output.npy"));
  EXPECT_NE(read_file(tmp / "s1/output.npy"), read_file(tmp / "s2/output.npy"));
  // The default seed is the arch's (nonideality.seed: 1).
  Outputs def = run_and_reference(tmp, f, arch, "default");
  EXPECT_EQ(read_file(tmp / "s1/output.npy"), read_file(tmp / "default/output.npy"));
}

INSTANTIATE_TEST_SUITE_P(Models, E2ENoise, ::testing::ValuesIn(kNoiseModels),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

// The error grows linearly with the noise sigmas (both noises are additive Gaussians on the
// cell levels, far above the output quantization step): mean over 4 seeds at 0.5x, 1x, 2x.
TEST(E2ENoiseScaling, ErrorProportionalToSigma) {
  TempDir tmp;
  ModelFiles f = write_model(find_model("residual_add"), tmp.path());
  std::vector<double> mean;
  for (double factor : {0.5, 1.0, 2.0}) {
    std::string arch = noisy_ideal(tmp, factor);
    double sum = 0;
    for (const char* seed : {"1", "2", "3", "4"}) {
      Outputs o = run_and_reference(tmp, f, arch, "x", {"--seed", seed});
      sum += rel_l2(o.sim.data, o.ref.data);
    }
    mean.push_back(sum / 4);
  }
  // Measured: 0.063, 0.127, 0.257.
  EXPECT_GT(mean[1] / mean[0], 1.5);
  EXPECT_LT(mean[1] / mean[0], 2.6);
  EXPECT_GT(mean[2] / mean[1], 1.5);
  EXPECT_LT(mean[2] / mean[1], 2.6);
}

}  // namespace
}  // namespace e2e
