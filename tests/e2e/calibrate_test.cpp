// `cimsim calibrate` from the outside: on tiny.yaml with a 4-bit ADC (lossy: 32 rows x 3
// levels exceed 15 counts) the calibrated program's error against the float reference is
// strictly below the naive deployment's; the written program simulates to the outputs the
// search measured; runs are reproducible; `--weights` replaces the model's weights in the float
// reference and in both deployments; bad input exits 1 and leaves no directory.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/models.h"

namespace e2e {
namespace {

// tiny.yaml with a 4-bit lsb-aligned ADC (and read noise when `read_noise` > 0), plus `extra`.
std::string lossy_tiny(const TempDir& tmp, const std::string& name, double read_noise = 0,
                       const std::string& extra = "") {
  std::string text = read_file(source_path("configs/tiny.yaml"));
  const std::string adc = "  bits: 8             # 8-bit";
  const std::string noise = "  read_noise_sigma: 0\n";
  size_t a = text.find(adc), n = text.find(noise);
  if (a == std::string::npos || n == std::string::npos) throw std::runtime_error("tiny.yaml changed");
  text.replace(n, noise.size(), "  read_noise_sigma: " + std::to_string(read_noise) + "\n");
  text.replace(a, adc.size(), "  bits: 4             # was 8-bit");
  std::string path = tmp / (name + ".yaml");
  write_file(path, text + extra);
  return path;
}

// chain4 (conv, pool, conv, gemm, softmax) with `n` random input images.
ModelFiles chain4_files(const TempDir& tmp, int n) {
  ModelFiles f = write_model(find_model("chain4"), tmp.path());
  Tensor x;
  x.shape = {n, 3, 10, 10};
  x.data = random_data(static_cast<size_t>(n) * 300, 11);
  write_npy(f.input, x);
  return f;
}

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_file(path)); }

// A cimsim-weights file (docs/training.md, "Weights file") holding every initializer of
// `model` (chain4's are exactly its Conv/Gemm weights and biases, the trainable constants)
// with every other value scaled by `scale` (a uniform scale would leave the per-channel weight
// codes unchanged); initializers named in `skip` are left out.
void write_scaled_weights(const std::string& model, const std::string& path, float scale,
                          const std::string& skip = "") {
  onnx::ModelProto m;
  std::ifstream in(model, std::ios::binary);
  if (!m.ParseFromIstream(&in)) throw std::runtime_error("cannot parse " + model);
  nlohmann::json index = nlohmann::json::array();
  std::string payload;
  for (const auto& t : m.graph().initializer()) {
    if (t.name() == skip) continue;
    index.push_back({{"name", t.name()}, {"shape", std::vector<int64_t>(t.dims().begin(), t.dims().end())}});
    for (int k = 0; k < t.float_data_size(); ++k) {
      const float w = k % 2 == 0 ? t.float_data(k) : t.float_data(k) * scale;
      payload.append(reinterpret_cast<const char*>(&w), sizeof w);
    }
  }
  write_file(path, "cimsim-weights 1\n" + nlohmann::json{{"tensors", index}}.dump() + "\n" + payload);
}

std::string first_initializer(const std::string& model) {
  onnx::ModelProto m;
  std::ifstream in(model, std::ios::binary);
  if (!m.ParseFromIstream(&in) || m.graph().initializer_size() == 0)
    throw std::runtime_error("cannot parse " + model);
  return m.graph().initializer(0).name();
}

TEST(E2ECalibrate, CalibratedErrorBelowNaiveAndProgramReproducesIt) {
  TempDir tmp;
  ModelFiles f = chain4_files(tmp, 8);
  const std::string arch = lossy_tiny(tmp, "tiny4");
  RunResult r = run_cimsim({"calibrate", f.model, "--arch", arch, "--inputs", f.input, "-o", tmp / "cal"}, tmp.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = read_json(tmp / "cal/calibration.json");
  const double naive = j["naive"]["rel_l2_error"].get<double>();
  const double calibrated = j["calibrated"]["rel_l2_error"].get<double>();
  RecordProperty("naive_rel_l2", std::to_string(naive));
  RecordProperty("calibrated_rel_l2", std::to_string(calibrated));
  EXPECT_LT(calibrated, naive);
  EXPECT_GT(naive, 0.01) << "a 4-bit lsb-aligned ADC was expected to clip";
  ASSERT_FALSE(j["layers"].empty());
  bool moved = false;
  for (const auto& l : j["layers"]) {
    const double fs = l["chosen_full_scale"].get<double>();
    EXPECT_GE(fs, 15.0);
    EXPECT_LE(fs, l["worst_case_full_scale"].get<double>());
    moved = moved || fs != l["initial_full_scale"].get<double>();
  }
  EXPECT_TRUE(moved);
  EXPECT_NE(read_file(tmp / "cal/arch.yaml").find("range: calibrated"), std::string::npos);
  for (const char* name : {"program.bin", "weights.bin", "cim-ir.yaml", "calibration.csv", "summary.md"})
    EXPECT_TRUE(exists(tmp / ("cal/" + std::string(name)))) << name;
  EXPECT_FALSE(exists(tmp / "cal.cimsim-calibrate"));

  // The written program, simulated by `cimsim simulate`, gives the outputs the search kept,
  // and their error against `cimsim reference` (float) is the one calibration.json reports.
  RunResult sim = run_cimsim({"simulate", tmp / "cal", "--input", f.input, "--output", tmp / "sim.npy", "-q"},
                             tmp.path());
  ASSERT_EQ(sim.exit_code, 0) << sim.err;
  EXPECT_EQ(read_file(tmp / "sim.npy"), read_file(tmp / "cal/output.npy"));
  RunResult ref = run_cimsim({"reference", f.model, "--input", f.input, "--output", tmp / "float.npy"}, tmp.path());
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  EXPECT_NEAR(rel_l2(read_npy(tmp / "sim.npy").data, read_npy(tmp / "float.npy").data), calibrated, 1e-6);
  // The naive figure is what `cimsim run` on the base arch gives.
  RunResult naive_run = run_cimsim({"run", f.model, "--arch", arch, "--input", f.input, "--calibration", f.input,
                                    "-o", tmp / "naive", "-q"}, tmp.path());
  ASSERT_EQ(naive_run.exit_code, 0) << naive_run.err;
  EXPECT_NEAR(rel_l2(read_npy(tmp / "naive/output.npy").data, read_npy(tmp / "float.npy").data), naive, 1e-6);
}

TEST(E2ECalibrate, DeterministicWithReadNoiseAndLabels) {
  TempDir tmp;
  ModelFiles f = chain4_files(tmp, 6);
  const std::string arch = lossy_tiny(tmp, "tiny4_noisy", 0.06, "calibration:\n  full_scale_points: 6\n");
  Tensor labels{{6}, {0, 1, 2, 3, 4, 0}};
  write_npy(tmp / "labels.npy", labels);
  std::vector<std::string> args = {"calibrate", f.model, "--arch", arch, "--inputs", f.input, "--labels",
                                   tmp / "labels.npy", "-o"};
  std::vector<std::string> a = args, b = args;
  a.push_back(tmp / "a");
  b.push_back(tmp / "b");
  RunResult ra = run_cimsim(a, tmp.path()), rb = run_cimsim(b, tmp.path());
  ASSERT_EQ(ra.exit_code, 0) << ra.err;
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  for (const char* name : {"program.bin", "calibration.json", "calibration.csv", "summary.md", "output.npy"})
    EXPECT_EQ(read_file(tmp / ("a/" + std::string(name))), read_file(tmp / ("b/" + std::string(name)))) << name;
  nlohmann::json j = read_json(tmp / "a/calibration.json");
  ASSERT_TRUE(j["calibrated"].contains("accuracy"));
  // The search starts from the naive ranges on the calibrated arch: a calibrated full scale of
  // 2^Ba-1 counts is the lsb-aligned ADC, read noise draws included.
  EXPECT_EQ(j["start_rel_l2_error"].get<double>(), j["naive"]["rel_l2_error"].get<double>());
  EXPECT_LE(j["calibrated"]["rel_l2_error"].get<double>(), j["naive"]["rel_l2_error"].get<double>());
  EXPECT_NE(read_file(tmp / "a/summary.md").find("accuracy"), std::string::npos);
}

// `text` with the line `from` replaced by `to` (which must be there).
std::string replace_line(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("'" + from + "' not found");
  return text.replace(at, from.size(), to);
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A device with a systematic ADC offset of +0.5 LSB: every conversion rounds up by half a
// step. Tuning the per-layer offset correction after the full scale removes most of it, so
// the error is strictly below the full-scale-only calibration's; the written directory
// reproduces the search's outputs and its cim-ir.yaml lists the tuned values per tile.
TEST(E2ECalibrate, OffsetTuningBeatsFullScaleOnlyOnADeviceOffset) {
  TempDir tmp;
  ModelFiles f = chain4_files(tmp, 8);
  const std::string base = replace_line(read_file(lossy_tiny(tmp, "tmp4")), "  adc_offset_lsb: 0\n",
                                        "  adc_offset_lsb: 0.5\n");
  write_file(tmp / "fs_only.yaml", base);
  write_file(tmp / "with_offset.yaml", base + "calibration:\n  adc_offset: true\n");
  std::vector<std::string> args = {"calibrate", f.model, "--inputs", f.input, "--arch"};
  std::vector<std::string> a = args, b = args;
  for (std::string s : {tmp / "fs_only.yaml", std::string("-o"), tmp / "fs"}) a.push_back(s);
  for (std::string s : {tmp / "with_offset.yaml", std::string("-o"), tmp / "off"}) b.push_back(s);
  RunResult ra = run_cimsim(a, tmp.path()), rb = run_cimsim(b, tmp.path());
  ASSERT_EQ(ra.exit_code, 0) << ra.err;
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  const nlohmann::json ja = read_json(tmp / "fs/calibration.json"), jb = read_json(tmp / "off/calibration.json");
  const double naive = ja["naive"]["rel_l2_error"].get<double>();
  const double fs_only = ja["calibrated"]["rel_l2_error"].get<double>();
  const double with_offset = jb["calibrated"]["rel_l2_error"].get<double>();
  RecordProperty("naive_rel_l2", std::to_string(naive));
  RecordProperty("full_scale_only_rel_l2", std::to_string(fs_only));
  RecordProperty("full_scale_offset_rel_l2", std::to_string(with_offset));
  EXPECT_EQ(jb["naive"]["rel_l2_error"].get<double>(), naive);
  EXPECT_EQ(jb["start_rel_l2_error"].get<double>(), naive) << "the search starts at the naive deployment";
  EXPECT_LT(fs_only, naive);
  EXPECT_LT(with_offset, fs_only);
  EXPECT_FALSE(ja["tuned"]["adc_offset"].get<bool>());
  EXPECT_TRUE(jb["tuned"]["adc_offset"].get<bool>());
  size_t corrected_tiles = 0;
  for (const auto& l : ja["layers"]) EXPECT_EQ(l["chosen_offset_lsb"].get<double>(), 0.0);
  for (const auto& l : jb["layers"]) {
    const double off = l["chosen_offset_lsb"].get<double>();
    EXPECT_GE(off, -1.0);
    EXPECT_LE(off, 1.0);
    EXPECT_LE(l["error_after"].get<double>(), l["error_after_full_scale"].get<double>());
    if (off != 0) corrected_tiles += l["tiles"].get<size_t>();
  }
  EXPECT_GT(corrected_tiles, 0u);
  // `cimsim simulate DIR` reproduces DIR/output.npy bit for bit.
  RunResult sim = run_cimsim({"simulate", tmp / "off", "--input", f.input, "--output", tmp / "sim.npy", "-q"},
                             tmp.path());
  ASSERT_EQ(sim.exit_code, 0) << sim.err;
  EXPECT_EQ(read_file(tmp / "sim.npy"), read_file(tmp / "off/output.npy"));
  // cim-ir.yaml lists each tuned tile: a full scale on every tile (the calibrated range), an
  // offset on each tile of a corrected layer; the compiler's own cim-ir.yaml lists neither.
  const std::string ir = read_file(tmp / "off/cim-ir.yaml");
  EXPECT_EQ(count_of(ir, ", adc_offset_lsb: "), corrected_tiles) << ir;
  EXPECT_GT(count_of(ir, ", adc_full_scale: "), 0u) << ir;
  EXPECT_EQ(count_of(read_file(tmp / "fs/cim-ir.yaml"), ", adc_offset_lsb: "), 0u);
  RunResult comp = run_cimsim({"compile", f.model, "--arch", tmp / "off/arch.yaml", "--calibration", f.input, "-o",
                               tmp / "plain"}, tmp.path());
  ASSERT_EQ(comp.exit_code, 0) << comp.err;
  const std::string plain_ir = read_file(tmp / "plain/cim-ir.yaml");
  EXPECT_EQ(count_of(plain_ir, "adc_offset_lsb"), 0u);
  EXPECT_EQ(count_of(plain_ir, "adc_full_scale"), 0u);
  // Apart from the tuned values the calibrated directory is that compile's: strip them and the
  // two cim-ir.yaml files are equal.
  std::string stripped = ir;
  for (const char* key : {", adc_full_scale: ", ", adc_offset_lsb: "})
    for (size_t at = stripped.find(key); at != std::string::npos; at = stripped.find(key, at)) {
      const size_t end = stripped.find_first_of(",}", at + 2);
      stripped.erase(at, end - at);
    }
  EXPECT_EQ(stripped, plain_ir);
  EXPECT_NE(read_file(tmp / "off/summary.md").find("offset correction (LSB)"), std::string::npos);

  // Offsets alone: the full scales stay at the naive ranges.
  write_file(tmp / "offset_only.yaml", base + "calibration:\n  adc_full_scale: false\n  adc_offset: true\n");
  RunResult rc = run_cimsim({"calibrate", f.model, "--inputs", f.input, "--arch", tmp / "offset_only.yaml", "-o",
                             tmp / "only"}, tmp.path());
  ASSERT_EQ(rc.exit_code, 0) << rc.err;
  const nlohmann::json jc = read_json(tmp / "only/calibration.json");
  EXPECT_EQ(jc["start_rel_l2_error"].get<double>(), naive);
  EXPECT_EQ(jc["global_step"]["grid_point"].get<int>(), 0);
  EXPECT_LT(jc["calibrated"]["rel_l2_error"].get<double>(), naive);
  bool corrected = false;
  for (const auto& l : jc["layers"]) {
    EXPECT_EQ(l["chosen_full_scale"].get<double>(), l["initial_full_scale"].get<double>());
    corrected = corrected || l["chosen_offset_lsb"].get<double>() != 0;
  }
  ASSERT_TRUE(corrected);
  // At the naive lsb-aligned ranges (a full scale of 2^Ba-1 counts: one level per code) the ADC
  // codes stay integers with a correction, so the RTL shift-and-add (docs/cosim.md) runs the
  // corrected program and gives the same bits as the TLM model.
  const std::string rtl_arch = replace_line(read_file(tmp / "only/arch.yaml"), "  shift_add_model: tlm\n",
                                            "  shift_add_model: rtl\n");
  write_file(tmp / "rtl.yaml", rtl_arch);
  RunResult rtl = run_cimsim({"simulate", tmp / "only", "--arch", tmp / "rtl.yaml", "--input", f.input, "--output",
                              tmp / "rtl.npy", "-q"}, tmp.path());
  if (rtl.exit_code == 1 && rtl.err.find("built without Verilator") != std::string::npos)
    GTEST_SKIP() << "cimsim built without Verilator: " << rtl.err;
  ASSERT_EQ(rtl.exit_code, 0) << rtl.err;
  EXPECT_EQ(read_file(tmp / "rtl.npy"), read_file(tmp / "only/output.npy"));
}

// `calibrate --weights W`: the float reference the search minimizes against is the network
// with W (the error calibration.json reports is the one against `reference --weights W`), the
// naive deployment is `run --weights W`, and W changes the result.
TEST(E2ECalibrate, WeightsFileReplacesTheModelsWeights) {
  TempDir tmp;
  ModelFiles f = chain4_files(tmp, 8);
  const std::string arch = lossy_tiny(tmp, "tiny4w");
  const std::string w = tmp / "scaled.weights";
  write_scaled_weights(f.model, w, 1.5f);
  RunResult plain = run_cimsim({"calibrate", f.model, "--arch", arch, "--inputs", f.input, "-o", tmp / "plain"},
                               tmp.path());
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  RunResult r = run_cimsim({"calibrate", f.model, "--arch", arch, "--inputs", f.input, "--weights", w, "-o",
                            tmp / "cal"}, tmp.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(read_file(tmp / "cal/output.npy") != read_file(tmp / "plain/output.npy"));
  EXPECT_TRUE(read_file(tmp / "cal/weights.bin") != read_file(tmp / "plain/weights.bin"));
  nlohmann::json j = read_json(tmp / "cal/calibration.json");
  const double naive = j["naive"]["rel_l2_error"].get<double>();
  const double calibrated = j["calibrated"]["rel_l2_error"].get<double>();
  EXPECT_LE(calibrated, naive);

  RunResult ref = run_cimsim({"reference", f.model, "--input", f.input, "--output", tmp / "float_w.npy", "--weights",
                              w}, tmp.path());
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  RunResult ref0 = run_cimsim({"reference", f.model, "--input", f.input, "--output", tmp / "float.npy"}, tmp.path());
  ASSERT_EQ(ref0.exit_code, 0) << ref0.err;
  const std::vector<float> cal_out = read_npy(tmp / "cal/output.npy").data;
  EXPECT_NEAR(rel_l2(cal_out, read_npy(tmp / "float_w.npy").data), calibrated, 1e-6);
  // Against the float network without W the error is another number: the reference moved.
  EXPECT_GT(std::fabs(rel_l2(cal_out, read_npy(tmp / "float.npy").data) - calibrated), 1e-3);
  RunResult naive_run = run_cimsim({"run", f.model, "--arch", arch, "--input", f.input, "--calibration", f.input,
                                    "--weights", w, "-o", tmp / "naive", "-q"}, tmp.path());
  ASSERT_EQ(naive_run.exit_code, 0) << naive_run.err;
  EXPECT_NEAR(rel_l2(read_npy(tmp / "naive/output.npy").data, read_npy(tmp / "float_w.npy").data), naive, 1e-6);
  // The written program carries W: simulating it reproduces the calibrated outputs.
  RunResult sim = run_cimsim({"simulate", tmp / "cal", "--input", f.input, "--output", tmp / "sim.npy", "-q"},
                             tmp.path());
  ASSERT_EQ(sim.exit_code, 0) << sim.err;
  EXPECT_EQ(read_file(tmp / "sim.npy"), read_file(tmp / "cal/output.npy"));
}

// Exit 1, a message containing `want`, and no output or staging directory.
void expect_bad_input(const TempDir& tmp, const std::vector<std::string>& args, const std::string& want) {
  RunResult r = run_cimsim(args, tmp.path());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(want), std::string::npos) << r.err;
  EXPECT_FALSE(exists(tmp / "out"));
  EXPECT_FALSE(exists(tmp / "out.cimsim-calibrate"));
}

TEST(E2ECalibrate, BadInputExitsOneAndWritesNothing) {
  TempDir tmp;
  ModelFiles f = chain4_files(tmp, 4);
  const std::string good = lossy_tiny(tmp, "good");
  // A tunable cimsim does not know: named with its line and a suggestion.
  const std::string typo = lossy_tiny(tmp, "typo", 0, "calibration:\n  adc_full_scal: true\n");
  expect_bad_input(tmp, {"calibrate", f.model, "--arch", typo, "--inputs", f.input, "-o", tmp / "out"},
                   "unknown key 'adc_full_scal' in section 'calibration' (did you mean 'adc_full_scale'?)");
  expect_bad_input(tmp, {"calibrate", f.model, "--arch", typo, "--inputs", f.input, "-o", tmp / "out"}, "typo.yaml:");
  const std::string nothing = lossy_tiny(tmp, "nothing", 0, "calibration:\n  adc_full_scale: false\n");
  expect_bad_input(tmp, {"calibrate", f.model, "--arch", nothing, "--inputs", f.input, "-o", tmp / "out"},
                   "nothing is marked tunable");
  // An offset correction where it cannot apply: a lossless ADC does not round.
  const std::string lossless = replace_line(read_file(good), "  lossless: false", "  lossless: true");
  write_file(tmp / "lossless.yaml", lossless + "calibration:\n  adc_offset: true\n");
  expect_bad_input(tmp, {"calibrate", f.model, "--arch", tmp / "lossless.yaml", "--inputs", f.input, "-o", tmp / "out"},
                   "lossless.yaml: calibration.adc_offset is true, but adc.lossless is true");
  const std::string points = lossy_tiny(tmp, "points", 0, "calibration:\n  adc_offset: true\n  offset_points: 1\n");
  expect_bad_input(tmp, {"calibrate", f.model, "--arch", points, "--inputs", f.input, "-o", tmp / "out"},
                   "points.yaml:");
  Tensor wrong{{2, 3, 9, 10}, std::vector<float>(2 * 3 * 9 * 10, 0.5f)};
  write_npy(tmp / "wrong.npy", wrong);
  expect_bad_input(tmp, {"calibrate", f.model, "--arch", good, "--inputs", tmp / "wrong.npy", "-o", tmp / "out"},
                   "wrong.npy: input 'input' must have shape [N, 3, 10, 10]");
  Tensor labels{{3}, {0, 1, 2}};
  write_npy(tmp / "labels3.npy", labels);
  expect_bad_input(tmp, {"calibrate", f.model, "--arch", good, "--inputs", f.input, "--labels", tmp / "labels3.npy",
                         "-o", tmp / "out"},
                   "labels3.npy: 3 labels of shape [3] for 4 samples");
  Tensor bad_class{{4}, {0, 1, 7, 2}};
  write_npy(tmp / "labels7.npy", bad_class);
  expect_bad_input(tmp, {"calibrate", f.model, "--arch", good, "--inputs", f.input, "--labels", tmp / "labels7.npy",
                         "-o", tmp / "out"},
                   "label 2 is 7");
  // A weights file that does not match the model: one tensor missing, named with the file.
  const std::string missing = first_initializer(f.model);
  write_scaled_weights(f.model, tmp / "short.weights", 1.0f, missing);
  expect_bad_input(tmp, {"calibrate", f.model, "--arch", good, "--inputs", f.input, "--weights",
                         tmp / "short.weights", "-o", tmp / "out"},
                   tmp / "short.weights");
  expect_bad_input(tmp, {"calibrate", f.model, "--arch", good, "--inputs", f.input, "--weights",
                         tmp / "short.weights", "-o", tmp / "out"},
                   "'" + missing + "'");
  expect_bad_input(tmp, {"calibrate", f.model, "--arch", good, "--inputs", f.input, "--weights",
                         tmp / "none.weights", "-o", tmp / "out"},
                   "none.weights");
}

}  // namespace
}  // namespace e2e
