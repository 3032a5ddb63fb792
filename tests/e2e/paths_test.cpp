// Output paths of one command line against each other and against its inputs: every pair of
// -o, --trace-dir, --output, --report (and the inputs) either works, with every file landing
// where it was asked for, or is refused before anything runs (exit 1, a message naming both
// flags, no output written, no input touched). docs/cli.md "Paths".
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/models.h"

namespace e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Every trace file of a run, whatever the timeline's format.
void expect_traces_in(const std::string& dir) {
  EXPECT_TRUE(exists(dir + "/energy.csv")) << dir;
  EXPECT_TRUE(exists(dir + "/waves.vcd")) << dir;
  EXPECT_TRUE(exists(dir + "/timeline.pftrace") || exists(dir + "/timeline.json")) << dir;
}

class E2EPaths : public ::testing::Test {
 protected:
  void SetUp() override { f_ = write_model(find_model("chain4"), tmp_.path()); }
  RunResult run(std::vector<std::string> extra) {
    std::vector<std::string> args = {"run", f_.model, "--arch", arch_, "--input", f_.input, "-q"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cimsim(args, tmp_.path(), tmp_.path());
  }
  void compile_to(const std::string& dir) {
    RunResult r = run_cimsim({"compile", f_.model, "--arch", arch_, "-o", dir}, tmp_.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  RunResult simulate(const std::string& dir, std::vector<std::string> extra) {
    std::vector<std::string> args = {"simulate", dir, "--input", f_.input, "-q"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cimsim(args, tmp_.path(), tmp_.path());
  }
  void expect_refused(const RunResult& r, const std::string& flag_a, const std::string& flag_b) {
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_THAT(r.err, HasSubstr(flag_a));
    EXPECT_THAT(r.err, HasSubstr(flag_b));
    EXPECT_THAT(r.out, ::testing::Not(HasSubstr("latency"))) << "refused only after simulating";
  }
  std::string t(const std::string& rel) const { return tmp_ / rel; }

  TempDir tmp_;
  ModelFiles f_;
  std::string arch_ = source_path("configs/tiny.yaml");
};

// -o and --trace-dir: inside, equal, above, deeper, with a trailing slash, over an old DIR.
TEST_F(E2EPaths, RunTraceDirInsideOutputDirLands) {
  RunResult r = run({"-o", "out", "--trace-dir", "out/traces"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(exists(t("out/output.npy")));
  expect_traces_in(t("out/traces"));
  EXPECT_FALSE(exists(t("out.cimsim-run")));
}

TEST_F(E2EPaths, RunTraceDirEqualToOutputDirLands) {
  RunResult r = run({"-o", t("out"), "--trace-dir", t("out")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(exists(t("out/report.json")));
  EXPECT_TRUE(exists(t("out/program.bin")));
  expect_traces_in(t("out"));
}

TEST_F(E2EPaths, RunTraceDirAboveOutputDirLands) {
  RunResult r = run({"-o", "top/run", "--trace-dir", "top"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(exists(t("top/run/output.npy")));
  expect_traces_in(t("top"));
  EXPECT_FALSE(exists(t("top/run.cimsim-run")));
}

TEST_F(E2EPaths, RunDeepTraceDirSpelledDifferentlyLands) {
  RunResult r = run({"-o", "out/", "--trace-dir", "./out/a/../a/b/traces"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_traces_in(t("out/a/b/traces"));
  EXPECT_TRUE(exists(t("out/output.npy")));
}

TEST_F(E2EPaths, RunOverAnOldOutputDirKeepsTheNewTraces) {
  ASSERT_EQ(run({"-o", "out", "--trace-dir", "out/traces"}).exit_code, 0);
  write_file(t("out/traces/energy.csv"), "stale");
  RunResult r = run({"-o", "out", "--trace-dir", "out/traces"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(read_file(t("out/traces/energy.csv")), "stale");
}

TEST_F(E2EPaths, RunTraceDirInOutputDirOfASymlinkLands) {
  fs::create_directories(t("real"));
  fs::create_symlink(t("real"), t("link"));
  RunResult r = run({"-o", "real/out", "--trace-dir", "link/out/traces"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_traces_in(t("real/out/traces"));
}

TEST_F(E2EPaths, RunTraceDirInsideTheStagingDirIsRefused) {
  RunResult r = run({"-o", "out", "--trace-dir", "out.cimsim-run/traces"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--trace-dir"));
  EXPECT_FALSE(exists(t("out")));
}

// Inputs inside a directory that run/compile replace as a whole would be deleted.
TEST_F(E2EPaths, RunInputInsideOutputDirIsRefusedAndKept) {
  fs::create_directories(t("out"));
  fs::copy_file(f_.input, t("out/x.npy"));
  RunResult r = run_cimsim({"run", f_.model, "--arch", arch_, "--input", "out/x.npy", "-o", "out", "-q"},
                           tmp_.path(), tmp_.path());
  expect_refused(r, "--input", "-o");
  EXPECT_THAT(r.err, HasSubstr("deleted"));
  EXPECT_TRUE(exists(t("out/x.npy")));
}

TEST_F(E2EPaths, CompileModelOrArchInsideOutputDirIsRefusedAndKept) {
  fs::create_directories(t("prog"));
  fs::copy_file(f_.model, t("prog/m.onnx"));
  fs::copy_file(arch_, t("prog/a.yaml"));
  RunResult r = run_cimsim({"compile", "prog/m.onnx", "--arch", arch_, "-o", "prog"}, tmp_.path(), tmp_.path());
  expect_refused(r, "model", "-o");
  r = run_cimsim({"compile", f_.model, "--arch", "prog/a.yaml", "-o", "prog"}, tmp_.path(), tmp_.path());
  expect_refused(r, "--arch", "-o");
  EXPECT_TRUE(exists(t("prog/m.onnx")));
  EXPECT_TRUE(exists(t("prog/a.yaml")));
  r = run_cimsim({"compile", f_.model, "--arch", arch_, "-o", f_.model}, tmp_.path(), tmp_.path());
  expect_refused(r, "model", "-o");
  EXPECT_TRUE(fs::is_regular_file(f_.model));
}

// simulate: --output, --report, --trace-dir, the program directory and --input.
TEST_F(E2EPaths, SimulateOutputEqualToReportIsRefused) {
  compile_to(t("prog"));
  RunResult r = simulate(t("prog"), {"--output", "r.json", "--report", "./sub/../r.json"});
  expect_refused(r, "--output", "--report");
  EXPECT_FALSE(exists(t("r.json")));
}

TEST_F(E2EPaths, SimulateOutputNamedLikeATraceFileIsRefused) {
  compile_to(t("prog"));
  RunResult r = simulate(t("prog"), {"--output", "T/energy.csv", "--trace-dir", "T"});
  expect_refused(r, "--output", "--trace-dir");
  EXPECT_FALSE(exists(t("T/energy.csv")));
}

TEST_F(E2EPaths, SimulateOutputAndReportInsideTraceDirLand) {
  compile_to(t("prog"));
  RunResult r = simulate(t("prog"), {"--output", "T/y.npy", "--report", "T/r.json", "--trace-dir", "T"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(exists(t("T/y.npy")));
  EXPECT_TRUE(exists(t("T/r.json")));
  expect_traces_in(t("T"));
}

TEST_F(E2EPaths, SimulateOutputFileEqualToOrAboveTraceDirIsRefused) {
  compile_to(t("prog"));
  expect_refused(simulate(t("prog"), {"--output", "T", "--trace-dir", "T"}), "--output", "--trace-dir");
  expect_refused(simulate(t("prog"), {"--report", "T", "--trace-dir", "T/deeper"}), "--report", "--trace-dir");
  EXPECT_FALSE(exists(t("T")));
}

TEST_F(E2EPaths, SimulateOutputOverAProgramFileIsRefusedAndTheProgramKept) {
  compile_to(t("prog"));
  const std::string before = read_file(t("prog/program.bin"));
  expect_refused(simulate(t("prog"), {"--output", "prog/program.bin"}), "--output", "program directory");
  expect_refused(simulate(t("prog"), {"--report", "prog/cores/core_000.s"}), "--report", "program directory");
  EXPECT_EQ(read_file(t("prog/program.bin")), before);
}

TEST_F(E2EPaths, SimulateTraceDirEqualToProgramDirLandsAndTheProgramStillRuns) {
  compile_to(t("prog"));
  ASSERT_EQ(simulate(t("prog"), {"--trace-dir", "prog"}).exit_code, 0);
  expect_traces_in(t("prog"));
  RunResult again = simulate(t("prog"), {"--output", "prog/y.npy"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(exists(t("prog/y.npy")));
}

TEST_F(E2EPaths, SimulateOutputOverTheInputOrArchIsRefused) {
  compile_to(t("prog"));
  const std::string before = read_file(f_.input);
  expect_refused(simulate(t("prog"), {"--output", f_.input}), "--input", "--output");
  EXPECT_EQ(read_file(f_.input), before);
  fs::copy_file(t("prog/arch.yaml"), t("a.yaml"));
  expect_refused(simulate(t("prog"), {"--arch", "a.yaml", "--report", t("a.yaml")}), "--arch", "--report");
  RunResult r = simulate(t("prog"), {"--report", "prog/arch.yaml"});
  expect_refused(r, "--report", "program directory");
  EXPECT_THAT(r.err, HasSubstr("overwrite a file of the program directory"));
}

}  // namespace
}  // namespace e2e
