// `cimsim sweep`: spec validation, expansion order, the local pool, resumption, --point,
// --merge, Slurm script emission, and that the merged table does not depend on the executor.
// The binary is run from the outside (tests/e2e/e2e_util.h); pure helpers are called directly.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include <nlohmann/json.hpp>

#include "platform/sweep/sweep_local.h"
#include "platform/sweep/sweep_point.h"
#include "platform/sweep/sweep_slurm.h"
#include "platform/sweep/sweep_spec.h"
#include "tests/e2e/e2e_util.h"

namespace {
namespace fs = std::filesystem;
using e2e::TempDir;

std::string model() { return e2e::source_path("configs/sweeps/tiny_cnn.onnx"); }
std::string tiny() { return e2e::source_path("configs/tiny.yaml"); }

// A spec in `dir` with absolute model/arch paths; `body` holds the axes and anything else.
std::string write_spec(const TempDir& dir, const std::string& body, const std::string& name = "spec.yaml") {
  const std::string text = "model: " + model() + "\narch: " + tiny() + "\ninput_shape: [1, 3, 8, 8]\n" + body;
  e2e::write_file(dir / name, text);
  return dir / name;
}

const char* kThreePoints = "axes:\n  pe.adcs: [1, 2, 4]\n";

size_t count_lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

TEST(SweepSpec, UnknownTopLevelKeyNamesLineColumnAndSuggestion) {
  TempDir d;
  const std::string spec = write_spec(d, "axes:\n  pe.adcs: [1]\nouptut: x\n");
  auto r = e2e::run_cimsim({"sweep", spec, "-o", d / "out"}, d.path());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(spec + ":6:1: unknown sweep key 'ouptut' (did you mean 'output'?)"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(d / "out"));
}

TEST(SweepSpec, UnknownAxisSuggestsTheArchKey) {
  TempDir d;
  const std::string spec = write_spec(d, "axes:\n  crossbar.row: [32, 64]\n");
  auto r = e2e::run_cimsim({"sweep", spec, "-o", d / "out"}, d.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(spec + ":5:3: unknown axis 'crossbar.row' (did you mean 'crossbar.rows'?)"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(d / "out"));
}

TEST(SweepSpec, BadKnobValuesAndShapesAreErrorsWithTheirPosition) {
  TempDir d;
  struct Case {
    std::string body, expected;
  } cases[] = {
      {"axes:\n  mode: [latency, fast]\n", ":5:19: axes.mode: expected latency or throughput, got 'fast'"},
      {"axes:\n  seed: [1, -2]\n", ":5:13: axes.seed: expected an unsigned integer, got '-2'"},
      {"axes:\n  pe.adcs: []\n", ":5:12: axes.pe.adcs: expected a non-empty list"},
      {"axes:\n  pe.adcs: 4\n", ":5:12: axes.pe.adcs: expected a non-empty list"},
      {"axes:\n  pe.adcs: [[1, 2]]\n", ":5:13: axes.pe.adcs: expected a single value"},
      {"zip:\n  - crossbar.rows: [32, 64]\n    crossbar.cols: [32]\n",
       ":6:20: zip[0].crossbar.cols: 1 values, but the other lists of this zip group have 2"},
      {"axes:\n  pe.adcs: [1]\nzip:\n  - pe.adcs: [2]\n", ":7:5: axis 'pe.adcs' is swept twice"},
      {"mode: latency\naxes:\n  mode: [latency]\n", ":6:3: 'mode' is both a top-level key and an axis"},
      {"input: x.npy\n", "give either input (a .npy) or input_shape, not both"},
      {"axes: [1]\n", ":4:7: axes: expected a mapping of axis names to value lists"},
      {"keep_programs: no\n", ":4:16: keep_programs: expected true or false, got 'no'"},
  };
  for (const auto& c : cases) {
    const std::string spec = write_spec(d, c.body);
    auto r = e2e::run_cimsim({"sweep", spec, "-o", d / "out"}, d.path());
    EXPECT_EQ(r.exit_code, 1) << c.body;
    EXPECT_NE(r.err.find(c.expected), std::string::npos) << c.body << "\n" << r.err;
    EXPECT_FALSE(fs::exists(d / "out")) << c.body;
  }
  // A model axis replaces the top-level model; its files are checked up front.
  e2e::write_file(d / "models.yaml", "arch: " + tiny() + "\ninput_shape: [1, 3, 8, 8]\naxes:\n  model: [" + model() +
                                         ", missing.onnx]\n");
  auto r = e2e::run_cimsim({"sweep", d / "models.yaml", "-o", d / "out"}, d.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("axes.model: " + d.path() + "/missing.onnx: no such file"), std::string::npos) << r.err;
}

TEST(SweepSpec, InvalidPointArchIsReportedBeforeRunningNamingPointAndOverride) {
  TempDir d;
  const std::string spec = write_spec(d, "axes:\n  pe.adcs: [1, 2]\n  crossbar.rows: [32, 0]\n");
  auto r = e2e::run_cimsim({"sweep", spec, "-o", d / "out"}, d.path());
  EXPECT_EQ(r.exit_code, 1);
  // Point 1 is (pe.adcs = 1, crossbar.rows = 0): the error names it and the value's position.
  EXPECT_NE(r.err.find("point 1 (pe.adcs = 1, crossbar.rows = 0)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(spec + ":6:23: crossbar.rows = 0"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(d / "out"));
}

TEST(SweepSpec, ExpansionIsTheCartesianProductWithZipGroupsLastFastest) {
  TempDir d;
  const std::string spec =
      write_spec(d, "output: out\naxes:\n  pe.adcs: [1, 2]\n  mode: [latency, throughput]\nzip:\n"
                    "  - crossbar.rows: [32, 64]\n    crossbar.cols: [32, 64]\n");
  const auto s = cimsim::sweep::load_sweep_spec(spec);
  EXPECT_EQ(s.output_dir, d / "out");
  const auto points = cimsim::sweep::expand_sweep(s);
  ASSERT_EQ(points.size(), 8u);
  auto value = [&](size_t i, size_t a) { return points[i].values[a].second; };
  EXPECT_EQ(value(0, 0), "1");
  EXPECT_EQ(value(0, 1), "latency");
  EXPECT_EQ(value(0, 2), "32");
  EXPECT_EQ(value(1, 2), "64");
  EXPECT_EQ(value(1, 3), "64");  // zipped: rows and cols advance together
  EXPECT_EQ(value(2, 1), "throughput");
  EXPECT_EQ(value(4, 0), "2");
  EXPECT_EQ(points[5].arch.crossbar.rows, 64);
  EXPECT_EQ(points[5].arch.pe.adcs, 2);
  EXPECT_EQ(points[6].mode, "throughput");
  // Keys differ between points and are reproducible.
  EXPECT_NE(points[0].key, points[1].key);
  EXPECT_EQ(cimsim::sweep::expand_sweep(s)[3].key, points[3].key);
  // A point process expands its point alone, to the same point.
  const auto alone = cimsim::sweep::expand_point(s, 5);
  EXPECT_EQ(alone.key, points[5].key);
  EXPECT_EQ(alone.arch_yaml, points[5].arch_yaml);
  EXPECT_THROW(cimsim::sweep::expand_point(s, 8), cimsim::InputError);
}

TEST(SweepSlurm, ArrayRangesCompressRuns) {
  EXPECT_EQ(cimsim::sweep::array_ranges({0, 1, 2, 3}), "0-3");
  EXPECT_EQ(cimsim::sweep::array_ranges({0, 2, 3, 4, 7}), "0,2-4,7");
  EXPECT_EQ(cimsim::sweep::array_ranges({5}), "5");
}

TEST(SweepLocal, RunsAllPointsMergesAndResumes) {
  TempDir d;
  const std::string spec = write_spec(d, kThreePoints);
  const std::string out = d / "out";
  auto r = e2e::run_cimsim({"sweep", spec, "-o", out, "-j", "2"}, d.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("sweep: 3/3 points done, 0 failed"), std::string::npos) << r.err;
  const std::string csv = e2e::read_file(out + "/results.csv");
  EXPECT_EQ(count_lines(csv), 4u) << csv;
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "index,pe.adcs,model,mode,status,latency_ns,cycles,batch,throughput_inferences_per_s,energy_pj,"
            "area_um2,peak_power_mw,average_power_mw,instructions_executed,error");
  const auto results = nlohmann::json::parse(e2e::read_file(out + "/results.json"));
  ASSERT_EQ(results["points"].size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const auto& row = results["points"][i];
    EXPECT_EQ(row["status"], "ok");
    const std::string dir = out + "/points/000" + std::to_string(i);
    const auto report = nlohmann::json::parse(e2e::read_file(dir + "/report.json"));
    // The row's figures are the point's report's.
    EXPECT_EQ(row["metrics"]["latency_ns"], report["latency_ns"]);
    EXPECT_EQ(row["metrics"]["energy_pj"], report["energy_pj"]["total"]);
    EXPECT_EQ(row["metrics"]["area_um2"], report["area_um2"]["total"]);
    EXPECT_GT(row["metrics"]["peak_power_mw"].get<double>(), 0);
    EXPECT_TRUE(fs::exists(dir + "/arch.yaml"));
    EXPECT_TRUE(fs::exists(dir + "/program/program.bin"));
    EXPECT_TRUE(fs::exists(dir + "/output.npy"));
    // arch.yaml is a loadable architecture with the point's value.
    auto a = e2e::run_cimsim({"arch", dir + "/arch.yaml"}, d.path());
    EXPECT_EQ(a.exit_code, 0) << a.err;
  }
  // One shared ADC per PE serialises conversions: slower than four.
  EXPECT_GT(results["points"][0]["metrics"]["latency_ns"].get<double>(),
            results["points"][2]["metrics"]["latency_ns"].get<double>());

  // Resumption: nothing is rerun, the table is the same bytes.
  const auto report_time = fs::last_write_time(out + "/points/0001/report.json");
  r = e2e::run_cimsim({"sweep", spec, "-o", out}, d.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("3 of 3 points already complete"), std::string::npos) << r.err;
  EXPECT_EQ(fs::last_write_time(out + "/points/0001/report.json"), report_time);
  EXPECT_EQ(e2e::read_file(out + "/results.csv"), csv);

  // A removed report makes its point incomplete: only it is rerun.
  fs::remove(out + "/points/0001/report.json");
  r = e2e::run_cimsim({"sweep", spec, "-o", out}, d.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("2 of 3 points already complete"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("sweep: 1/1 points done"), std::string::npos) << r.err;
  EXPECT_EQ(e2e::read_file(out + "/results.csv"), csv);

  // --force reruns everything, same table.
  r = e2e::run_cimsim({"sweep", spec, "-o", out, "--force", "-q"}, d.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("points done"), std::string::npos) << "-q: no progress line\n" << r.err;
  EXPECT_EQ(e2e::read_file(out + "/results.csv"), csv);
  EXPECT_NE(fs::last_write_time(out + "/points/0002/report.json"), report_time);
}

TEST(SweepLocal, InputFileAndPathsRelativeToTheSpecWorkFromAnyDirectory) {
  TempDir d;
  fs::create_directories(d / "specs/data");
  fs::copy_file(model(), d / "specs/data/m.onnx");
  e2e::write_npy(d / "specs/data/x.npy", {{2, 3, 8, 8}, e2e::random_data(2 * 3 * 8 * 8, 7)});
  e2e::write_file(d / "specs/s.yaml", "model: data/m.onnx\narch: " + tiny() +
                                          "\ninput: data/x.npy\noutput: ../out\naxes:\n  seed: [1, 2]\n");
  fs::create_directories(d / "elsewhere");
  auto r = e2e::run_cimsim({"sweep", "../specs/s.yaml", "-q"}, d.path(), d / "elsewhere");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string csv = e2e::read_file(d / "out/results.csv");
  EXPECT_NE(csv.find("\n0,1,m.onnx,latency,ok,"), std::string::npos) << csv;
  const auto row = nlohmann::json::parse(e2e::read_file(d / "out/points/0001/row.json"));
  EXPECT_EQ(row["metrics"]["batch"], 2);  // the .npy's batch
  EXPECT_FALSE(fs::exists(d / "out/input.npy"));  // only a generated input is written
  EXPECT_TRUE(fs::exists(d / "out/points/0000/program/program.bin"));
}

TEST(SweepLocal, KeepProgramsFalseDropsTheProgramButKeepsTheResult) {
  TempDir d;
  const std::string spec = write_spec(d, "keep_programs: false\naxes:\n  pe.adcs: [1, 4]\n");
  auto r = e2e::run_cimsim({"sweep", spec, "-o", d / "out", "-q"}, d.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(d / "out/points/0001/program"));
  EXPECT_TRUE(fs::exists(d / "out/points/0001/report.json"));
  r = e2e::run_cimsim({"sweep", spec, "-o", d / "out"}, d.path());
  EXPECT_NE(r.err.find("2 of 2 points already complete"), std::string::npos) << r.err;
}

TEST(SweepLocal, ChangedSpecMakesStoredPointsStale) {
  TempDir d;
  const std::string out = d / "out";
  std::string spec = write_spec(d, "axes:\n  pe.adcs: [1, 2]\n");
  ASSERT_EQ(e2e::run_cimsim({"sweep", spec, "-o", out, "-q"}, d.path()).exit_code, 0);
  // Same indexes, other architectures: no stored point may be reused.
  spec = write_spec(d, "axes:\n  pe.adcs: [2, 4]\n");
  auto r = e2e::run_cimsim({"sweep", spec, "-o", out, "--merge"}, d.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("2 points: 0 ok, 0 failed, 2 pending"), std::string::npos) << r.err;
  r = e2e::run_cimsim({"sweep", spec, "-o", out, "-q"}, d.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("already complete"), std::string::npos) << r.err;
  const auto row = nlohmann::json::parse(e2e::read_file(out + "/points/0000/row.json"));
  EXPECT_EQ(row["values"][0]["value"], 2);
}

TEST(SweepLocal, FailedPointsAreRecordedTheRestKeptAndTheExitCodeSaysSo) {
  TempDir d;
  // 1-bit cells on 32x32 crossbars need 5 cores for this model; tiny has 4.
  const std::string spec = write_spec(d, "axes:\n  crossbar.cell_bits: [1, 2]\n");
  const std::string out = d / "out";
  auto r = e2e::run_cimsim({"sweep", spec, "-o", out, "-q"}, d.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("1 ok, 1 failed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("failed: point 0 (crossbar.cell_bits = 1): tiny_cnn: model needs 5 cores"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("1 of 2 points failed; the other results are kept"), std::string::npos) << r.err;
  const auto results = nlohmann::json::parse(e2e::read_file(out + "/results.json"));
  EXPECT_EQ(results["points"][0]["status"], "failed");
  EXPECT_EQ(results["points"][1]["status"], "ok");
  EXPECT_TRUE(fs::exists(out + "/points/0000/arch.yaml"));
  EXPECT_FALSE(fs::exists(out + "/points/0000/report.json"));
  // No staging directories are left behind.
  for (const auto& e : fs::directory_iterator(out + "/points"))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  // A rerun retries the failed point only.
  r = e2e::run_cimsim({"sweep", spec, "-o", out}, d.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("1 of 2 points already complete"), std::string::npos) << r.err;
}

// A point process that ends without recording a result (here: one that is not cimsim at all)
// gets a failed row naming its exit status; the pool goes on with the other points.
TEST(SweepLocal, PointProcessDyingWithoutAResultIsRecordedAsFailed) {
  TempDir d;
  const std::string spec_path = write_spec(d, kThreePoints);
  const auto spec = cimsim::sweep::load_sweep_spec(spec_path, d / "out");
  const auto points = cimsim::sweep::expand_sweep(spec);
  cimsim::sweep::LocalOptions opt;
  opt.exe = "/bin/false";
  opt.jobs = 2;
  std::ostringstream progress;
  EXPECT_EQ(cimsim::sweep::run_local(spec, points, {0, 2}, opt, progress), 2u);
  EXPECT_NE(progress.str().find("sweep: 2/2 points done, 2 failed"), std::string::npos) << progress.str();
  const auto row = cimsim::sweep::read_point_row(spec, points[2]);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ((*row)["status"], "failed");
  EXPECT_EQ((*row)["error"], "the point process exited with code 1 without recording a result (see "
                             "logs/point-0002.log)");
  EXPECT_FALSE(cimsim::sweep::read_point_row(spec, points[1]).has_value());
}

TEST(SweepPoint, PointRunsOnePointAndMergeShowsTheRestPending) {
  TempDir d;
  const std::string spec = write_spec(d, kThreePoints);
  const std::string out = d / "out";
  auto r = e2e::run_cimsim({"sweep", spec, "-o", out, "--point", "1"}, d.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "point 1 (pe.adcs = 2): ok\n");
  EXPECT_TRUE(fs::exists(out + "/points/0001/report.json"));
  EXPECT_FALSE(fs::exists(out + "/points/0000"));
  r = e2e::run_cimsim({"sweep", spec, "-o", out, "--merge"}, d.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("3 points: 1 ok, 0 failed, 2 pending"), std::string::npos) << r.err;
  const std::string csv = e2e::read_file(out + "/results.csv");
  EXPECT_NE(csv.find("\n0,1,tiny_cnn.onnx,latency,pending,,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\n1,2,tiny_cnn.onnx,latency,ok,"), std::string::npos) << csv;

  r = e2e::run_cimsim({"sweep", spec, "-o", out, "--point", "3"}, d.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--point 3: the sweep " + spec + " has points 0..2"), std::string::npos) << r.err;
}

// The Slurm executor runs `--point I` per array task; running the points that way (in any
// order, one process each) must give the same bytes as the local pool.
TEST(SweepMerge, TableIsByteIdenticalWhateverRanThePoints) {
  TempDir d;
  const std::string spec = write_spec(d, "axes:\n  pe.adcs: [1, 4]\n  mode: [latency, throughput]\n");
  ASSERT_EQ(e2e::run_cimsim({"sweep", spec, "-o", d / "pool", "-j", "2", "-q"}, d.path()).exit_code, 0);
  for (const char* i : {"3", "0", "2", "1"})
    ASSERT_EQ(e2e::run_cimsim({"sweep", spec, "-o", d / "single", "--point", i}, d.path()).exit_code, 0);
  ASSERT_EQ(e2e::run_cimsim({"sweep", spec, "-o", d / "single", "--merge"}, d.path()).exit_code, 0);
  EXPECT_EQ(e2e::read_file(d / "pool/results.csv"), e2e::read_file(d / "single/results.csv"));
  EXPECT_EQ(e2e::read_file(d / "pool/results.json"), e2e::read_file(d / "single/results.json"));
  EXPECT_EQ(e2e::read_file(d / "pool/points/0002/row.json"), e2e::read_file(d / "single/points/0002/row.json"));
}

TEST(SweepSlurm, EmitWritesAJobArrayOfTheIncompletePoints) {
  TempDir d;
  const std::string spec = write_spec(d, kThreePoints);
  const std::string out = d / "out";
  auto r = e2e::run_cimsim({"sweep", spec, "-o", out, "--slurm", "emit", "--partition", "debug", "--time",
                            "00:05:00", "--mem", "500M", "--array-limit", "2"},
                           d.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string script = e2e::read_file(out + "/sweep.sbatch");
  EXPECT_EQ(script.rfind("#!/bin/bash\n", 0), 0u);
  for (const std::string& line : std::vector<std::string>{"#SBATCH --array=0-2%2\n", "#SBATCH --partition=debug\n", "#SBATCH --time=00:05:00\n",
                                 "#SBATCH --mem=500M\n", "#SBATCH --output=" + out + "/logs/slurm-%A_%a.log\n",
                                 "sweep '" + spec + "' -o '" + out + "' --point \"$SLURM_ARRAY_TASK_ID\"\n"})
    EXPECT_NE(script.find(line), std::string::npos) << line << "\n" << script;
  EXPECT_TRUE(fs::exists(out + "/input.npy"));  // generated once, before the tasks start

  // The script runs a point as a task would (SLURM_ARRAY_TASK_ID set by Slurm).
  const std::string cmd = "SLURM_ARRAY_TASK_ID=1 bash '" + out + "/sweep.sbatch' >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_TRUE(fs::exists(out + "/points/0001/report.json"));

  // Emitting again covers the points still to do.
  r = e2e::run_cimsim({"sweep", spec, "-o", out, "--slurm", "emit"}, d.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(e2e::read_file(out + "/sweep.sbatch").find("#SBATCH --array=0,2\n"), std::string::npos);

  r = e2e::run_cimsim({"sweep", spec, "-o", out, "--slurm", "emit", "--partition", "a b"}, d.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--partition 'a b': expected one word"), std::string::npos) << r.err;
}

TEST(SweepSlurm, SubmitWithoutSbatchIsAClearError) {
  TempDir d;
  const std::string spec = write_spec(d, kThreePoints);
  const std::string cmd = "PATH=/nonexistent '" + e2e::cimsim_binary() + "' sweep '" + spec + "' -o '" + d.path() +
                          "/out' --slurm submit > '" + d.path() + "/log' 2>&1";
  const int status = std::system(cmd.c_str());
  EXPECT_EQ(WEXITSTATUS(status), 1);
  const std::string log = e2e::read_file(d / "log");
  EXPECT_NE(log.find("--slurm submit: sbatch not found in PATH (/nonexistent)"), std::string::npos) << log;
}

TEST(SweepCli, ConflictingModesAreErrors) {
  TempDir d;
  const std::string spec = write_spec(d, kThreePoints);
  auto r = e2e::run_cimsim({"sweep", spec, "-o", d / "out", "--merge", "--point", "0"}, d.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("at most one of --point, --merge, --list, --slurm"), std::string::npos) << r.err;
  r = e2e::run_cimsim({"sweep", spec, "-o", d / "out", "--partition", "x"}, d.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("need --slurm"), std::string::npos) << r.err;
  r = e2e::run_cimsim({"sweep", spec, "-o", d / "out", "--slurm", "emit", "-j", "2"}, d.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("-j applies to the local executor"), std::string::npos) << r.err;
  r = e2e::run_cimsim({"sweep", spec, "-o", d / "out", "--slurm", "queue"}, d.path());
  EXPECT_EQ(r.exit_code, 2) << r.err;  // a CLI11 usage error
  r = e2e::run_cimsim({"sweep", spec}, d.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing key 'output'"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(d / "out"));
  r = e2e::run_cimsim({"sweep", spec, "-o", spec}, d.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("exists and is not a directory"), std::string::npos) << r.err;
}

}  // namespace

namespace {

// The shipped example (docs/sweep.md) runs and every point is ok.
TEST(SweepExample, ConfigsSweepsTinyRuns) {
  TempDir d;
  auto r = e2e::run_cimsim({"sweep", e2e::source_path("configs/sweeps/tiny.yaml"), "-o", d / "out", "-j", "2", "-q"},
                           d.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("sweep: 6 points: 6 ok, 0 failed, 0 pending"), std::string::npos) << r.err;
  const std::string csv = e2e::read_file(d / "out/results.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "index,pe.adcs,crossbar.rows,crossbar.cols,model,mode,status,latency_ns,cycles,batch,"
            "throughput_inferences_per_s,energy_pj,area_um2,peak_power_mw,average_power_mw,instructions_executed,error");
}

}  // namespace
