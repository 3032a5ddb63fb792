// Bad input on every CLI path: exit code 1, a message that starts with / names the offending
// file (line:col or node where there is one), and no partial output. Usage errors exit 2;
// --help and --version exit 0.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/models.h"

namespace e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Replaces the first occurrence of `from` in text (which must contain it).
std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("pattern not found: " + from);
  return text.replace(at, from.size(), to);
}

// 1-based line number of the first line containing `needle`.
int line_of(const std::string& text, const std::string& needle) {
  size_t at = text.find(needle);
  if (at == std::string::npos) throw std::runtime_error("not found: " + needle);
  int line = 1;
  for (size_t i = 0; i < at; ++i) line += text[i] == '\n';
  return line;
}

std::string last_line(const std::string& text) {
  size_t end = text.find_last_not_of('\n');
  if (end == std::string::npos) return "";
  size_t begin = text.rfind('\n', end);
  return text.substr(begin == std::string::npos ? 0 : begin + 1, end + 1 - (begin == std::string::npos ? 0 : begin + 1));
}

class E2EBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    files_ = write_model(find_model("fc_after_flatten"), tmp_.path());
    tiny_ = source_path("configs/tiny.yaml");
    tiny_text_ = read_file(tiny_);
  }

  // A variant of tiny.yaml in the temp dir.
  std::string arch_variant(const std::string& name, const std::string& text) {
    std::string path = tmp_ / name;
    write_file(path, text);
    return path;
  }

  // A program directory compiled for tiny.yaml.
  std::string compiled(const std::string& name = "prog") {
    RunResult r = run_cimsim({"compile", files_.model, "--arch", tiny_, "-o", tmp_ / name}, tmp_.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return tmp_ / name;
  }

  // The program `args` must fail with exit code 1 and a stderr message starting with
  // `prefix` and containing every string of `mentions`.
  RunResult expect_bad(const std::vector<std::string>& args, const std::string& prefix,
                       const std::vector<std::string>& mentions = {}) {
    RunResult r = run_cimsim(args, tmp_.path());
    EXPECT_EQ(r.exit_code, 1) << "stderr: " << r.err;
    // `run` reports its compile step on stderr first: the error is the last line.
    EXPECT_THAT(last_line(r.err), StartsWith(prefix)) << r.err;
    for (const auto& m : mentions) EXPECT_THAT(r.err, HasSubstr(m));
    EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
    return r;
  }

  // compile and run with a bad model or arch: no output directory appears, and an existing
  // one is left exactly as it was.
  void expect_compile_and_run_fail(const std::string& model, const std::string& arch,
                                   const std::string& prefix,
                                   const std::vector<std::string>& mentions = {},
                                   const std::vector<std::string>& extra = {}) {
    auto with = [&](std::vector<std::string> args) {
      args.insert(args.end(), extra.begin(), extra.end());
      return args;
    };
    expect_bad(with({"compile", model, "--arch", arch, "-o", tmp_ / "new_out"}), prefix, mentions);
    EXPECT_FALSE(exists(tmp_ / "new_out"));
    expect_bad(with({"run", model, "--arch", arch, "--input", files_.input, "-o", tmp_ / "new_run", "-q"}),
               prefix, mentions);
    EXPECT_FALSE(exists(tmp_ / "new_run"));

    std::string keep = tmp_ / "existing";
    std::filesystem::create_directories(keep);
    write_file(keep + "/sentinel.txt", "keep me");
    auto before = dir_contents(keep);
    expect_bad(with({"compile", model, "--arch", arch, "-o", keep}), prefix, mentions);
    EXPECT_EQ(dir_contents(keep), before);
    expect_bad(with({"run", model, "--arch", arch, "--input", files_.input, "-o", keep, "-q"}), prefix, mentions);
    EXPECT_EQ(dir_contents(keep), before);
  }

  // simulate with a bad program dir / arch / input: no output or report file is written.
  void expect_simulate_fail(const std::string& dir, const std::string& input, const std::string& prefix,
                            const std::vector<std::string>& mentions = {},
                            const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"simulate", dir, "--input", input, "--output", tmp_ / "y.npy",
                                     "--report", tmp_ / "r.json", "--trace-dir", tmp_ / "trace", "-q"};
    args.insert(args.end(), extra.begin(), extra.end());
    expect_bad(args, prefix, mentions);
    EXPECT_FALSE(exists(tmp_ / "y.npy"));
    EXPECT_FALSE(exists(tmp_ / "r.json"));
    EXPECT_FALSE(exists(tmp_ / "trace/timeline.pftrace"));
    EXPECT_FALSE(exists(tmp_ / "trace/timeline.json"));
  }

  TempDir tmp_;
  ModelFiles files_;
  std::string tiny_, tiny_text_;
};

TEST_F(E2EBadInput, ArchUnknownKey) {
  std::string text = replace_once(tiny_text_, "  cores: 4", "  cores: 4\n  coars: 4");
  std::string bad = arch_variant("bad.yaml", text);
  std::string where = bad + ":" + std::to_string(line_of(text, "  coars:")) + ":3: ";
  expect_compile_and_run_fail(files_.model, bad, where, {"coars"});
  expect_bad({"arch", bad}, where, {"coars"});
  expect_bad({"reference", files_.model, "--input", files_.input, "--output", tmp_ / "y.npy", "--arch", bad},
             where, {"coars"});
  EXPECT_FALSE(exists(tmp_ / "y.npy"));
}

TEST_F(E2EBadInput, ArchWrongType) {
  std::string text = replace_once(tiny_text_, "  rows: 32", "  rows: many");
  std::string bad = arch_variant("bad.yaml", text);
  std::string where = bad + ":" + std::to_string(line_of(text, "  rows: many")) + ":";
  expect_compile_and_run_fail(files_.model, bad, where, {"many"});
}

TEST_F(E2EBadInput, ArchOutOfRange) {
  std::string text = replace_once(tiny_text_, "  cell_bits: 2", "  cell_bits: 0");
  std::string bad = arch_variant("bad.yaml", text);
  std::string where = bad + ":" + std::to_string(line_of(text, "  cell_bits: 0")) + ":";
  expect_compile_and_run_fail(files_.model, bad, where, {"cell_bits"});
}

TEST_F(E2EBadInput, ArchMissingFile) {
  expect_compile_and_run_fail(files_.model, tmp_ / "nope.yaml", tmp_ / "nope.yaml");
}

TEST_F(E2EBadInput, TruncatedOnnx) {
  std::string bytes = read_file(files_.model);
  std::string bad = tmp_ / "truncated.onnx";
  write_file(bad, bytes.substr(0, bytes.size() / 2));
  expect_compile_and_run_fail(bad, tiny_, bad);
  expect_bad({"reference", bad, "--input", files_.input, "--output", tmp_ / "y.npy"}, bad);
  EXPECT_FALSE(exists(tmp_ / "y.npy"));
}

TEST_F(E2EBadInput, UnsupportedOp) {
  Model m("unsupported", {1, 3, 4, 4});
  std::string x = m.conv("input", 3, 4, 1);
  std::string y = m.node("Hardmax", {x});
  m.output(y);
  const std::string node = y.substr(0, y.size() - 4);  // the node of output "NAME_out"
  std::string bad = tmp_ / "unsupported.onnx";
  m.save(bad);
  Tensor in{{1, 3, 4, 4}, random_data(48, 3)};
  write_npy(tmp_ / "in.npy", in);
  expect_compile_and_run_fail(bad, tiny_, bad, {"Hardmax", "'" + node + "'"});
  expect_bad({"reference", bad, "--input", tmp_ / "in.npy", "--output", tmp_ / "y.npy"}, bad,
             {"Hardmax", "'" + node + "'"});
  EXPECT_FALSE(exists(tmp_ / "y.npy"));
}

TEST_F(E2EBadInput, NonexistentModel) {
  expect_compile_and_run_fail(tmp_ / "missing.onnx", tiny_, tmp_ / "missing.onnx");
}

TEST_F(E2EBadInput, NotAModel) {
  std::string bad = tmp_ / "text.onnx";
  write_file(bad, "this is not a protobuf file\n");
  expect_compile_and_run_fail(bad, tiny_, bad);
}

TEST_F(E2EBadInput, SimulateMissingProgramDir) {
  expect_simulate_fail(tmp_ / "no_such_dir", files_.input, tmp_ / "no_such_dir");
}

TEST_F(E2EBadInput, SimulateCorruptedProgramBin) {
  std::string dir = compiled();
  std::string bin = dir + "/program.bin";
  std::string bytes = read_file(bin);
  bytes[0] = 'X';  // bad magic
  write_file(bin, bytes);
  expect_simulate_fail(dir, files_.input, bin, {"magic"});
  write_file(bin, read_file(bin).substr(0, bytes.size() / 2));  // truncated
  expect_simulate_fail(dir, files_.input, bin);
}

TEST_F(E2EBadInput, SimulateTruncatedWeightsBin) {
  std::string dir = compiled();
  std::string bin = dir + "/weights.bin";
  std::string bytes = read_file(bin);
  write_file(bin, bytes.substr(0, bytes.size() - 3));
  // The loader finds the short file while reading program.bin's tile table.
  expect_simulate_fail(dir, files_.input, dir + "/", {"weights.bin"});
}

TEST_F(E2EBadInput, SimulateOnAnotherArch) {
  std::string dir = compiled();
  std::string other = arch_variant("other.yaml", replace_once(tiny_text_, "  rows: 32", "  rows: 64"));
  RunResult r = run_cimsim({"simulate", dir, "--input", files_.input, "--arch", other, "--output", tmp_ / "y.npy", "-q"},
                           tmp_.path());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr(other));
  EXPECT_THAT(r.err, HasSubstr("rows"));
  EXPECT_FALSE(exists(tmp_ / "y.npy"));
}

// Positive control for SimulateOnAnotherArch: a copy of the same machine (comments edited)
// is accepted and gives the same output as the program's own arch.yaml.
TEST_F(E2EBadInput, SimulateOnSameArchCopyIsAccepted) {
  std::string dir = compiled();
  std::string copy = arch_variant("copy.yaml", "# a copy\n" + replace_once(tiny_text_, "# A small chip", "# Same chip"));
  RunResult own = run_cimsim({"simulate", dir, "--input", files_.input, "--output", tmp_ / "own.npy", "-q"}, tmp_.path());
  ASSERT_EQ(own.exit_code, 0) << own.err;
  RunResult r = run_cimsim({"simulate", dir, "--input", files_.input, "--arch", copy, "--output", tmp_ / "y.npy", "-q"},
                           tmp_.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(tmp_ / "own.npy"), read_file(tmp_ / "y.npy"));
}

TEST_F(E2EBadInput, SimulateBadArchOverride) {
  std::string dir = compiled();
  std::string text = replace_once(tiny_text_, "  cores: 4", "  cores: 4\n  coars: 4");
  std::string bad = arch_variant("bad.yaml", text);
  expect_simulate_fail(dir, files_.input, bad + ":" + std::to_string(line_of(text, "  coars:")) + ":3: ",
                       {"coars"}, {"--arch", bad});
}

TEST_F(E2EBadInput, InputWrongShape) {
  std::string dir = compiled();
  std::string bad = tmp_ / "wrong_shape.npy";
  write_npy(bad, Tensor{{1, 3, 6, 6}, random_data(108, 5)});  // the model takes 2 channels
  expect_simulate_fail(dir, bad, bad);
  expect_bad({"run", files_.model, "--arch", tiny_, "--input", bad, "-o", tmp_ / "run_out", "-q"}, bad);
  EXPECT_FALSE(exists(tmp_ / "run_out/output.npy"));
  EXPECT_FALSE(exists(tmp_ / "run_out/report.json"));
  expect_bad({"reference", files_.model, "--input", bad, "--output", tmp_ / "y.npy"}, bad);
  expect_bad({"reference", files_.model, "--input", bad, "--output", tmp_ / "y.npy", "--arch", tiny_}, bad);
  EXPECT_FALSE(exists(tmp_ / "y.npy"));
}

TEST_F(E2EBadInput, InputCorruptedNpy) {
  std::string dir = compiled();
  std::string bad = tmp_ / "corrupt.npy";
  std::string bytes = read_file(files_.input);
  bytes = replace_once(bytes, "'<f4'", "'<c8'");  // complex64: not a supported dtype
  write_file(bad, bytes);
  std::string truncated = tmp_ / "truncated.npy";
  write_file(truncated, read_file(files_.input).substr(0, 100));
  std::string garbage = tmp_ / "garbage.npy";
  write_file(garbage, "garbage, not numpy");
  for (const std::string& f : {bad, truncated, garbage}) {
    SCOPED_TRACE(f);
    expect_simulate_fail(dir, f, f);
    expect_bad({"run", files_.model, "--arch", tiny_, "--input", f, "-o", tmp_ / "run_out", "-q"}, f);
    EXPECT_FALSE(exists(tmp_ / "run_out/output.npy"));
    EXPECT_FALSE(exists(tmp_ / "run_out/report.json"));
    expect_bad({"reference", files_.model, "--input", f, "--output", tmp_ / "y.npy"}, f);
    expect_bad({"reference", files_.model, "--input", f, "--output", tmp_ / "y.npy", "--arch", tiny_}, f);
    EXPECT_FALSE(exists(tmp_ / "y.npy"));
  }
}

// `run` with an input that cannot be used must not leave a compiled program behind either.
TEST_F(E2EBadInput, RunWithBadInputCreatesNoDirectory) {
  std::string bad = tmp_ / "wrong_shape.npy";
  write_npy(bad, Tensor{{1, 3, 6, 6}, random_data(108, 5)});
  expect_bad({"run", files_.model, "--arch", tiny_, "--input", bad, "-o", tmp_ / "run_out", "-q"}, bad);
  EXPECT_FALSE(exists(tmp_ / "run_out"));
  std::string garbage = tmp_ / "garbage.npy";
  write_file(garbage, "garbage, not numpy");
  expect_bad({"run", files_.model, "--arch", tiny_, "--input", garbage, "-o", tmp_ / "run_out2", "-q"}, garbage);
  EXPECT_FALSE(exists(tmp_ / "run_out2"));
}

// --replicas (docs/cli.md): accepted counts reach compile.json; bad ones are exit 1 naming
// the item or the layer, on compile and run, with no output directory.
TEST_F(E2EBadInput, BadReplicasNameTheLayer) {
  const nlohmann::json cj = nlohmann::json::parse(read_file(compiled() + "/compile.json"));
  std::string layer;
  for (const auto& L : cj.at("layers"))
    if (layer.empty() && L.at("kind").get<std::string>() == "conv") layer = L.at("name").get<std::string>();
  ASSERT_FALSE(layer.empty());
  RunResult ok = run_cimsim({"compile", files_.model, "--arch", tiny_, "-o", tmp_ / "rep", "--replicas", layer + "=2"},
                            tmp_.path());
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  const nlohmann::json rj = nlohmann::json::parse(read_file(tmp_ / "rep/compile.json"));
  EXPECT_EQ(rj.at("mode").get<std::string>(), "throughput");
  for (const auto& L : rj.at("layers"))
    EXPECT_EQ(L.at("replication").get<int64_t>(), L.at("name").get<std::string>() == layer ? 2 : 1);

  expect_compile_and_run_fail(files_.model, tiny_, "--replicas " + layer + ": item '" + layer + "': expected LAYER=COUNT",
                              {}, {"--replicas", layer});
  expect_compile_and_run_fail(files_.model, tiny_, "--replicas " + layer + "=0: item", {}, {"--replicas", layer + "=0"});
  expect_compile_and_run_fail(files_.model, tiny_, "", {"replicas for layer '" + layer + "x': no such layer (did you mean '" + layer + "'?)"},
                              {"--replicas", layer + "x=2"});
  expect_compile_and_run_fail(files_.model, tiny_, "", {"replicas for layer '" + layer + "': 9999 is not in [1, "},
                              {"--replicas", layer + "=9999"});
  expect_compile_and_run_fail(files_.model, tiny_, "--replicas with --mode latency", {},
                              {"--replicas", layer + "=2", "--mode", "latency"});
  expect_compile_and_run_fail(files_.model, tiny_, "--replicas and --replication exclude each other", {},
                              {"--replicas", layer + "=2", "--replication", "0.5"});
}

TEST_F(E2EBadInput, InputMissingNpy) {
  std::string dir = compiled();
  std::string missing = tmp_ / "missing.npy";
  expect_simulate_fail(dir, missing, missing);
  expect_bad({"reference", files_.model, "--input", missing, "--output", tmp_ / "y.npy"}, missing);
  EXPECT_FALSE(exists(tmp_ / "y.npy"));
}

TEST_F(E2EBadInput, BadCalibrationNpy) {
  std::string garbage = tmp_ / "calib.npy";
  write_file(garbage, "garbage, not numpy");
  expect_compile_and_run_fail(files_.model, tiny_, garbage, {}, {"--calibration", garbage});
  expect_bad({"reference", files_.model, "--input", files_.input, "--output", tmp_ / "y.npy", "--arch", tiny_,
              "--calibration", garbage},
             garbage);
  EXPECT_FALSE(exists(tmp_ / "y.npy"));
}

// --max-time stops the run: exit 1, a message, no output or report; traces are still written.
TEST_F(E2EBadInput, MaxTimeStopsWithoutOutput) {
  std::string dir = compiled();
  RunResult r = run_cimsim({"simulate", dir, "--input", files_.input, "--output", tmp_ / "y.npy", "--report",
                            tmp_ / "r.json", "--trace-dir", tmp_ / "trace", "--max-time", "1000", "-q"},
                           tmp_.path());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("max-time"));
  EXPECT_FALSE(exists(tmp_ / "y.npy"));
  EXPECT_FALSE(exists(tmp_ / "r.json"));
  EXPECT_TRUE(exists(tmp_ / "trace/timeline.pftrace"));
}

TEST_F(E2EBadInput, UsageErrorsExit2) {
  const std::vector<std::vector<std::string>> usage = {
      {},                                                        // no subcommand
      {"frobnicate"},                                            // unknown subcommand
      {"compile", files_.model, "--arch", tiny_, "-o", tmp_ / "o", "--bogus"},  // unknown option
      {"compile", files_.model, "-o", tmp_ / "o"},               // missing --arch
      {"compile", files_.model, "--arch", tiny_},                // missing -o
      {"compile", files_.model, "--arch", tiny_, "-o", tmp_ / "o", "--mode", "fastest"},
      {"simulate", "--input", files_.input},                     // missing program dir
      {"simulate", tmp_ / "o"},                                  // missing --input
      {"simulate", tmp_ / "o", "--input", files_.input, "--seed", "abc"},
      {"run", files_.model, "--arch", tiny_, "-o", tmp_ / "o"},  // missing --input
      {"reference", files_.model, "--input", files_.input},      // missing --output
      {"arch"},                                                  // missing file
  };
  for (const auto& args : usage) {
    std::string cmd;
    for (const auto& a : args) cmd += a + " ";
    SCOPED_TRACE(cmd);
    RunResult r = run_cimsim(args, tmp_.path());
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_FALSE(r.err.empty());
    EXPECT_FALSE(exists(tmp_ / "o"));
  }
}

TEST_F(E2EBadInput, HelpAndVersionExit0) {
  RunResult v = run_cimsim({"--version"}, tmp_.path());
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_THAT(v.out, HasSubstr("cimsim"));
  RunResult h = run_cimsim({"--help"}, tmp_.path());
  EXPECT_EQ(h.exit_code, 0);
  for (const char* sub : {"compile", "simulate", "run", "reference", "arch", "sweep", "synthesize", "calibrate",
                          "export-training", "imc-validate", "bfp-error"}) {
    EXPECT_THAT(h.out, HasSubstr(sub));
    RunResult s = run_cimsim({sub, "--help"}, tmp_.path());
    EXPECT_EQ(s.exit_code, 0) << sub;
    EXPECT_THAT(s.out, HasSubstr("--")) << sub;
  }
  for (const char* cfg : {"tiny", "ideal", "isaac"}) {
    RunResult a = run_cimsim({"arch", source_path(std::string("configs/") + cfg + ".yaml")}, tmp_.path());
    EXPECT_EQ(a.exit_code, 0) << a.err;
  }
}

}  // namespace
}  // namespace e2e
