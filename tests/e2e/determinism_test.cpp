// E2EDeterminism: the same command gives the same bytes (report.json up to its wall-clock
// `sim` block); two compiles give byte-identical program directories.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/models.h"

namespace e2e {
namespace {

using nlohmann::json;

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

TEST_P(E2EDeterminism, CompileTwiceSameProgramDir) {
  TempDir tmp;
  ModelFiles f = write_model(find_model(GetParam() == "tiny" ? "chain4" : "chain"), tmp.path());
  const std::string arch = source_path("configs/" + GetParam() + ".yaml");
  for (const char* out : {"p1", "p2"}) {
    RunResult r = run_cimsim({"compile", f.model, "--arch", arch, "-o", tmp / out}, tmp.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  auto a = dir_contents(tmp / "p1"), b = dir_contents(tmp / "p2");
  // compile.json's wall_s is the compile's wall-clock time: the one field allowed to differ.
  for (auto* files : {&a, &b})
    for (auto& [name, content] : *files)
      if (name == "compile.json") {
        json j = json::parse(content);
        EXPECT_TRUE(j.contains("wall_s"));
        j.erase("wall_s");
        content = j.dump();
      }
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].first, b[i].first);
    EXPECT_EQ(a[i].second, b[i].second) << a[i].first << " differs between two compiles";
  }
  EXPECT_TRUE(exists(tmp / "p1/program.bin"));
  EXPECT_TRUE(exists(tmp / "p1/weights.bin"));
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
