// E2EDeterminism: the same command gives the same bytes (report.json up to its wall-clock
// `sim` block); two compiles give byte-identical program directories (reproducible builds).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/models.h"

namespace e2e {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

json without_sim(const std::string& path) {
  json j = json::parse(read_file(path));
  EXPECT_TRUE(j.contains("sim"));
  j.erase("sim");
  return j;
}

class E2EDeterminism : public ::testing::TestWithParam<std::string> {};

TEST_P(E2EDeterminism, RunTwiceSameBytes) {
  TempDir tmp;
  ModelFiles f = write_model(find_model(GetParam() == "tiny" ? "chain4" : "chain"), tmp.path());
  const std::string arch = source_path("configs/" + GetParam() + ".yaml");
  for (const char* out : {"a", "b"}) {
    RunResult r = run_cimsim({"run", f.model, "--arch", arch, "--input", f.input, "-o", tmp / out, "--trace-dir",
                              tmp / (std::string(out) + "_trace"), "-q"},
                             tmp.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_EQ(read_file(tmp / "a/output.npy"), read_file(tmp / "b/output.npy"));
  EXPECT_EQ(without_sim(tmp / "a/report.json"), without_sim(tmp / "b/report.json"));
  EXPECT_EQ(dir_contents(tmp / "a_trace"), dir_contents(tmp / "b_trace"));
}

// Reproducible builds: two compiles of the same model and arch, from different directories,
// paths and working directories (as on two machines), give program directories that `diff -r`
// finds identical, byte for byte.
TEST_P(E2EDeterminism, CompileTwiceSameProgramDir) {
  TempDir tmp;
  ModelFiles f = write_model(find_model(GetParam() == "tiny" ? "chain4" : "chain"), tmp.path());
  const std::string arch = source_path("configs/" + GetParam() + ".yaml");
  fs::create_directories(tmp / "elsewhere/deeper");
  fs::copy_file(f.model, tmp / "elsewhere/deeper/renamed.onnx");
  fs::copy_file(arch, tmp / "elsewhere/arch-copy.yaml");
  RunResult r1 = run_cimsim({"compile", f.model, "--arch", arch, "-o", tmp / "p1"}, tmp.path());
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  RunResult r2 = run_cimsim({"compile", "deeper/renamed.onnx", "--arch", "arch-copy.yaml", "-o", "../p2"},
                            tmp.path(), tmp / "elsewhere");
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  const std::string diff = "diff -r '" + tmp / "p1" + "' '" + tmp / "p2" + "'";
  EXPECT_EQ(std::system(diff.c_str()), 0) << diff;
  auto a = dir_contents(tmp / "p1"), b = dir_contents(tmp / "p2");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].first, b[i].first);
    EXPECT_EQ(a[i].second, b[i].second) << a[i].first << " differs between two compiles";
  }
  EXPECT_TRUE(exists(tmp / "p1/program.bin"));
  EXPECT_TRUE(exists(tmp / "p1/weights.bin"));
  // The wall time is on stderr, not in any file.
  EXPECT_THAT(r1.err, ::testing::ContainsRegex("[0-9]+\\.[0-9]+ s\\)"));
}

// simulate on a compiled dir gives the same output as run (which compiles and simulates).
TEST_P(E2EDeterminism, SimulateEqualsRun) {
  TempDir tmp;
  ModelFiles f = write_model(find_model("residual_add"), tmp.path());
  const std::string arch = source_path("configs/" + GetParam() + ".yaml");
  ASSERT_EQ(run_cimsim({"run", f.model, "--arch", arch, "--input", f.input, "-o", tmp / "run", "-q"}, tmp.path())
                .exit_code,
            0);
  ASSERT_EQ(run_cimsim({"compile", f.model, "--arch", arch, "-o", tmp / "prog"}, tmp.path()).exit_code, 0);
  RunResult s = run_cimsim({"simulate", tmp / "prog", "--input", f.input, "--output", tmp / "y.npy", "--report",
                            tmp / "r.json", "-q"},
                           tmp.path());
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(read_file(tmp / "run/output.npy"), read_file(tmp / "y.npy"));
  EXPECT_EQ(without_sim(tmp / "run/report.json"), without_sim(tmp / "r.json"));
}

INSTANTIATE_TEST_SUITE_P(Configs, E2EDeterminism, ::testing::Values("tiny", "ideal"));

}  // namespace
}  // namespace e2e

namespace e2e {
namespace {

// Each image of a batch gives the same output as when it is run alone on the same program (no
// state leaks between the images of a batch).
class E2EBatch : public ::testing::TestWithParam<std::string> {};

TEST_P(E2EBatch, ImagesIndependentOfTheirBatch) {
  TempDir tmp;
  const ModelCase& c = find_model(GetParam());
  ModelFiles f = write_model(c, tmp.path());
  ASSERT_EQ(c.batch, 3);
  const std::string arch = source_path("configs/tiny.yaml");
  ASSERT_EQ(run_cimsim({"compile", f.model, "--arch", arch, "-o", tmp / "prog"}, tmp.path()).exit_code, 0);
  RunResult all = run_cimsim({"simulate", tmp / "prog", "--input", f.input, "--output", tmp / "all.npy", "-q"},
                             tmp.path());
  ASSERT_EQ(all.exit_code, 0) << all.err;
  Tensor in = read_npy(f.input), out = read_npy(tmp / "all.npy");
  const size_t in_per = in.data.size() / 3, out_per = out.data.size() / 3;
  for (size_t i = 0; i < 3; ++i) {
    Tensor one{in.shape, std::vector<float>(in.data.begin() + i * in_per, in.data.begin() + (i + 1) * in_per)};
    one.shape[0] = 1;
    std::string name = "one" + std::to_string(i);
    write_npy(tmp / (name + ".npy"), one);
    RunResult r = run_cimsim({"simulate", tmp / "prog", "--input", tmp / (name + ".npy"), "--output",
                              tmp / (name + "_out.npy"), "-q"},
                             tmp.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Tensor got = read_npy(tmp / (name + "_out.npy"));
    ASSERT_EQ(got.data.size(), out_per);
    EXPECT_EQ(got.data, std::vector<float>(out.data.begin() + i * out_per, out.data.begin() + (i + 1) * out_per))
        << "image " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, E2EBatch, ::testing::Values("chain4", "residual_add", "grouped"));

// compile --calibration and reference --calibration with the same file stay bit-exact, and the
// calibration really changes the program (scales differ from the default calibration).
TEST(E2ECalibration, SameCalibrationStaysExact) {
  TempDir tmp;
  ModelFiles f = write_model(find_model("chain4"), tmp.path());
  Tensor cal{{5, 3, 10, 10}, random_data(5 * 300, 99, 2.0f)};
  write_npy(tmp / "cal.npy", cal);
  const std::string arch = source_path("configs/tiny.yaml");
  RunResult r = run_cimsim({"run", f.model, "--arch", arch, "--input", f.input, "--calibration", tmp / "cal.npy", "-o",
                            tmp / "cal", "-q"},
                           tmp.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  RunResult ref = run_cimsim({"reference", f.model, "--input", f.input, "--output", tmp / "ref.npy", "--arch", arch,
                              "--calibration", tmp / "cal.npy"},
                             tmp.path());
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  EXPECT_EQ(max_abs_diff(read_npy(tmp / "cal/output.npy").data, read_npy(tmp / "ref.npy").data), 0.0);
  ASSERT_EQ(run_cimsim({"compile", f.model, "--arch", arch, "-o", tmp / "default"}, tmp.path()).exit_code, 0);
  EXPECT_NE(read_file(tmp / "cal/program.bin") + read_file(tmp / "cal/weights.bin"),
            read_file(tmp / "default/program.bin") + read_file(tmp / "default/weights.bin"));
}

}  // namespace
}  // namespace e2e
