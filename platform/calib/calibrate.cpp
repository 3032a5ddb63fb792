#include "platform/calib/calibrate.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "compiler/backend/driver.h"
#include "compiler/frontend/onnx_loader.h"
#include "compiler/frontend/passes.h"
#include "compiler/frontend/trained_weights.h"
#include "compiler/reference/float_interpreter.h"
#include "models/kernels/adc_model.h"
#include "platform/spec/arch.h"
#include "platform/spec/arch_edit.h"
#include "platform/spec/directory_replace.h"
#include "platform/spec/npy.h"
#include "platform/spec/program_io.h"
#include "platform/vp/simulate.h"
#include "traces/file_write.h"

namespace cimsim {
namespace {

namespace fs = std::filesystem;

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string t = "[";
  for (size_t i = 0; i < shape.size(); ++i) t += (i ? ", " : "") + std::to_string(shape[i]);
  return t + "]";
}

// The samples must be [N, ...model input shape without its batch dimension].
void check_samples(const std::string& path, const ir::Value& input, const NpyArray& x) {
  bool ok = x.shape.size() == input.shape.size() && !x.shape.empty() && x.shape[0] >= 1;
  for (size_t i = 1; ok && i < x.shape.size(); ++i) ok = x.shape[i] == input.shape[i];
  if (ok) return;
  std::vector<int64_t> want = input.shape;
  std::string w = "[N";
  for (size_t i = 1; i < want.size(); ++i) w += ", " + std::to_string(want[i]);
  throw InputError(fmt::format("{}: input '{}' must have shape {}] (N samples), got {}", path, input.name, w,
                               shape_text(x.shape)));
}

// N integer class indices in [0, classes).
std::vector<int> load_labels(const std::string& path, int64_t samples, int64_t classes) {
  NpyArray l = read_npy(path);
  if (static_cast<int64_t>(l.data.size()) != samples || l.shape.empty() || l.shape[0] != samples)
    throw InputError(fmt::format("{}: {} labels of shape {} for {} samples; expected shape [{}]", path,
                                 l.data.size(), shape_text(l.shape), samples, samples));
  std::vector<int> out;
  for (size_t i = 0; i < l.data.size(); ++i) {
    const float v = l.data[i];
    if (!(v >= 0) || v != std::floor(v) || v >= static_cast<float>(classes))
      throw InputError(fmt::format("{}: label {} is {}; expected a class index 0..{}", path, i, v, classes - 1));
    out.push_back(static_cast<int>(v));
  }
  return out;
}

size_t argmax(const float* v, size_t n) { return static_cast<size_t>(std::max_element(v, v + n) - v); }

DeploymentMetrics compare(const std::vector<float>& y, const std::vector<float>& ref, int64_t samples,
                          const std::vector<int>* labels) {
  if (y.size() != ref.size())
    throw std::runtime_error(fmt::format("internal: simulated output has {} values, the float reference {}",
                                         y.size(), ref.size()));
  DeploymentMetrics m;
  const size_t per = ref.size() / static_cast<size_t>(samples);
  double err2 = 0, ref2 = 0, cos_sum = 0;
  int agree = 0, correct = 0;
  for (int64_t n = 0; n < samples; ++n) {
    const float* a = y.data() + n * per;
    const float* b = ref.data() + n * per;
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < per; ++i) {
      const double d = double(a[i]) - double(b[i]);
      err2 += d * d;
      ab += double(a[i]) * b[i];
      aa += double(a[i]) * a[i];
      bb += double(b[i]) * b[i];
    }
    ref2 += bb;
    // A zero vector agrees with nothing (cosine 0) unless both are zero.
    cos_sum += (aa > 0 && bb > 0) ? ab / std::sqrt(aa * bb) : (aa == 0 && bb == 0 ? 1.0 : 0.0);
    const size_t top = argmax(a, per);
    agree += top == argmax(b, per);
    if (labels) correct += static_cast<int>(top) == (*labels)[static_cast<size_t>(n)];
  }
  m.rel_l2_error = ref2 > 0 ? std::sqrt(err2 / ref2) : std::sqrt(err2);
  m.mean_cosine = cos_sum / static_cast<double>(samples);
  m.top1_agreement = double(agree) / static_cast<double>(samples);
  if (labels) m.accuracy = double(correct) / static_cast<double>(samples);
  return m;
}

// One layer's place in the search: which tiles, and the candidate full scales.
struct LayerSlot {
  LayerCalibration info;
  std::vector<double> candidates;  // ascending; [0] = 2^Ba-1, back() = the layer's worst case
};

std::vector<LayerSlot> tunable_layers(const Program& p, const ArchSpec& arch) {
  std::map<int, LayerSlot> by_layer;
  for (const CoreProgram& core : p.cores)
    for (const TileDesc& t : core.tiles) {
      LayerSlot& s = by_layer[t.layer];
      s.info.layer = t.layer;
      s.info.tiles += 1;
      s.info.rows_max = std::max(s.info.rows_max, t.rows);
    }
  const double lo = std::ldexp(1.0, arch.adc.bits) - 1.0;
  const int points = arch.calibration.full_scale_points;
  std::vector<LayerSlot> out;
  for (auto& [layer, s] : by_layer) {
    s.info.name = layer >= 0 && static_cast<size_t>(layer) < p.layers.size() ? p.layers[layer] : "";
    s.info.worst_case_full_scale = kernels::adc_full_scale(arch, s.info.rows_max, 0.0f);
    const double hi = s.info.worst_case_full_scale;
    // hi <= lo: one count per level already covers every column sum: no full scale to tune
    // (the layer stays in the search only for its offset).
    if (hi > lo && arch.calibration.adc_full_scale)
      for (int i = 0; i < points; ++i)
        s.candidates.push_back(i == points - 1 ? hi : lo * std::pow(hi / lo, double(i) / (points - 1)));
    if (!s.candidates.empty() || arch.calibration.adc_offset) out.push_back(std::move(s));
  }
  return out;
}

// Writes `full_scale` (cell-level units) into every tile of `layer`, each capped at its own
// worst case (a tile with fewer rows cannot use a larger range).
void set_full_scale(Program& p, const ArchSpec& arch, int layer, double full_scale) {
  for (CoreProgram& core : p.cores)
    for (TileDesc& t : core.tiles)
      if (t.layer == layer)
        t.adc_full_scale = static_cast<float>(std::min(full_scale, kernels::adc_full_scale(arch, t.rows, 0.0f)));
}

// Writes the offset correction `offset_lsb` into every tile of `layer`.
void set_offset(Program& p, int layer, float offset_lsb) {
  for (CoreProgram& core : p.cores)
    for (TileDesc& t : core.tiles)
      if (t.layer == layer) t.adc_offset_lsb = offset_lsb;
}

// calibration.offset_points values evenly spaced over +-offset_range_lsb, as the floats
// TileDesc carries (so that "already measured" comparisons see the value the chip ran).
std::vector<float> offset_candidates(const CalibrationSpec& c) {
  std::vector<float> v;
  for (int i = 0; i < c.offset_points; ++i)
    v.push_back(static_cast<float>(-c.offset_range_lsb + 2.0 * c.offset_range_lsb * i / (c.offset_points - 1)));
  return v;
}

std::string pct(double x) { return fmt::format("{:.2f} %", 100.0 * x); }

std::string metrics_row(const std::string& name, const DeploymentMetrics& m, bool labels, bool sim) {
  std::string row = fmt::format("| {} | {:.4f} | {:.4f} | {} |", name, m.rel_l2_error, m.mean_cosine,
                                pct(m.top1_agreement));
  if (labels) row += fmt::format(" {} |", pct(m.accuracy));
  row += sim ? fmt::format(" {} of {} |", m.adc_saturations, m.adc_conversions) : " - |";
  return row + "\n";
}

nlohmann::json metrics_json(const DeploymentMetrics& m) {
  nlohmann::json j = {{"rel_l2_error", m.rel_l2_error},
                      {"mean_cosine", m.mean_cosine},
                      {"top1_agreement", m.top1_agreement},
                      {"adc_saturations", m.adc_saturations},
                      {"adc_conversions", m.adc_conversions}};
  if (m.accuracy >= 0) j["accuracy"] = m.accuracy;
  return j;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// Removes the staging directory unless released (every error path).
struct StagingGuard {
  std::string path;
  bool keep = false;
  ~StagingGuard() {
    if (keep) return;
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

const std::vector<std::string>& calibration_file_names() {
  static const std::vector<std::string> n = {"calibration.json", "calibration.csv", "summary.md", "output.npy"};
  return n;
}

CalibrateResult calibrate(const CalibrateOptions& opt, std::ostream& log) {
  // Inputs first: every bad-input error comes before any file is written.
  const ArchSpec base = load_arch_spec(opt.arch_path);
  if (!base.calibration.adc_full_scale && !base.calibration.adc_offset)
    throw InputError(opt.arch_path + ": calibration.adc_full_scale and calibration.adc_offset are false: nothing "
                     "is marked tunable");
  if (base.adc.lossless && base.calibration.adc_offset)
    throw InputError(opt.arch_path + ": calibration.adc_offset is true, but adc.lossless is true: a lossless ADC "
                     "does not round, so there is no offset to correct (expected adc.lossless: false or "
                     "calibration.adc_offset: false)");
  if (base.adc.lossless)
    throw InputError(opt.arch_path + ": adc.lossless is true: an ideal ADC has no range to calibrate");
  ir::Graph g = frontend::load_onnx(opt.model_path);
  frontend::simplify(g);
  if (!opt.weights_path.empty()) frontend::apply_trained_weights(g, opt.weights_path);
  if (g.inputs.size() != 1 || g.outputs.size() != 1)
    throw InputError(fmt::format("{}: calibrate takes a model with one input and one output; it has {} and {}",
                                 opt.model_path, g.inputs.size(), g.outputs.size()));
  const NpyArray samples = read_npy(opt.inputs_path);
  check_samples(opt.inputs_path, g.values[g.inputs[0]], samples);
  const int64_t n = samples.shape[0];
  const ir::FloatTensor float_out =
      reference::run_float(g, {ir::FloatTensor{samples.shape, samples.data}}).at(0);
  const int64_t classes = float_out.numel() / n;
  std::vector<int> labels;
  if (!opt.labels_path.empty()) labels = load_labels(opt.labels_path, n, classes);
  const std::vector<int>* labels_ptr = opt.labels_path.empty() ? nullptr : &labels;

  ArchSpec tuned_arch = base;
  if (base.adc.range != AdcRangePolicy::kCalibrated)
    tuned_arch = apply_arch_overrides(base, {{"adc.range", "calibrated", opt.arch_path + " (calibrate)"}},
                                      opt.arch_path);

  std::string out = opt.out_dir;
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  StagingGuard work{out + ".cimsim-calibrate"};
  std::error_code ec;
  fs::remove_all(work.path, ec);
  fs::create_directories(work.path, ec);
  if (ec) throw InputError(fmt::format("{}: cannot create the staging directory {} ({})", out, work.path, ec.message()));
  const std::string tuned_arch_path = (fs::path(work.path) / "arch.yaml").string();
  write_file_atomically(tuned_arch_path,
                        arch_to_yaml(tuned_arch, fmt::format("{} with adc.range = calibrated; written by cimsim "
                                                             "calibrate (the per-layer tuned values are in "
                                                             "program.bin and cim-ir.yaml)",
                                                             fs::path(opt.arch_path).filename().string())));
  const std::string naive_dir = (fs::path(work.path) / "naive").string();
  const std::string tuned_dir = (fs::path(work.path) / "tuned").string();
  CompileOptions co;
  co.model_path = opt.model_path;
  co.calibration_path = opt.calibration_path.empty() ? opt.inputs_path : opt.calibration_path;
  co.weights_path = opt.weights_path;
  co.mode = opt.mode;
  std::ostringstream compile_log;
  co.arch_path = opt.arch_path;
  co.out_dir = naive_dir;
  compile(co, compile_log);
  co.arch_path = tuned_arch_path;
  co.out_dir = tuned_dir;
  compile(co, compile_log);

  CalibrateResult result;
  result.float_ref = compare(float_out.data, float_out.data, n, labels_ptr);
  const uint64_t seed = base.nonideality.seed;
  auto run = [&](const Program& p, const ArchSpec& a) {
    InMemoryRun r = simulate_in_memory(p, a, samples, opt.inputs_path, seed);
    ++result.simulations;
    DeploymentMetrics m = compare(r.outputs.at(0).data, float_out.data, n, labels_ptr);
    m.adc_saturations = r.adc_saturations;
    m.adc_conversions = r.adc_conversions;
    return std::make_pair(m, std::move(r.outputs.at(0).data));
  };

  result.naive = run(read_program_dir(naive_dir), base).first;
  log << fmt::format("calibrate: naive deployment ({} adc.range {}): rel. L2 error {:.4f}, top-1 agreement {}\n",
                     opt.arch_path, base.adc.range == AdcRangePolicy::kLsbAligned ? "lsb_aligned"
                                    : base.adc.range == AdcRangePolicy::kWorstCase ? "worst_case" : "calibrated",
                     result.naive.rel_l2_error, pct(result.naive.top1_agreement));

  Program program = read_program_dir(tuned_dir);
  std::vector<LayerSlot> slots = tunable_layers(program, tuned_arch);
  const double lsb_full_scale = std::ldexp(1.0, base.adc.bits) - 1.0;
  // Layers with nothing to tune keep the naive range too (lsb_aligned: step 1, not the finer
  // step a worst case below 2^Ba-1 would give), so that the start is the naive deployment.
  if (base.adc.range == AdcRangePolicy::kLsbAligned)
    for (CoreProgram& core : program.cores)
      for (TileDesc& t : core.tiles) t.adc_full_scale = static_cast<float>(lsb_full_scale);
  for (LayerSlot& s : slots) {
    // Start from the naive range: lsb_aligned is a calibrated full scale of 2^Ba-1 counts.
    s.info.initial_full_scale =
        base.adc.range == AdcRangePolicy::kLsbAligned ? lsb_full_scale : s.info.worst_case_full_scale;
    // A layer in the search for its offset only keeps what the loop above gave its tiles
    // (capping 2^Ba-1 at a smaller worst case would make its step finer than the naive one).
    if (!s.candidates.empty()) set_full_scale(program, tuned_arch, s.info.layer, s.info.initial_full_scale);
    s.info.chosen_full_scale = s.info.initial_full_scale;
  }
  auto [current, best_out] = run(program, tuned_arch);
  const double start_error = current.rel_l2_error;
  log << fmt::format("calibrate: {} layer(s) to tune, {} candidates each, {} pass(es); naive start: rel. L2 error "
                     "{:.4f}\n",
                     slots.size(), tuned_arch.calibration.full_scale_points, tuned_arch.calibration.passes,
                     current.rel_l2_error);
  // Global step first: every layer at the same grid point k (the same fraction of its range on
  // a log scale). Greedy per-layer steps from a start where later layers clip everything see
  // no change at the output; this start gives them a working network.
  const int points = tuned_arch.calibration.full_scale_points;
  bool any_full_scale = false;
  for (const LayerSlot& s : slots) any_full_scale = any_full_scale || !s.candidates.empty();
  for (int k = 0; k < points && any_full_scale; ++k) {
    bool same = true;
    for (const LayerSlot& s : slots)
      same = same && (s.candidates.empty() || s.candidates[k] == s.info.chosen_full_scale);
    if (same) continue;  // the naive start: already measured
    for (const LayerSlot& s : slots)
      if (!s.candidates.empty()) set_full_scale(program, tuned_arch, s.info.layer, s.candidates[k]);
    auto [m, y] = run(program, tuned_arch);
    log << fmt::format("calibrate: every layer at grid point {}/{}: rel. L2 error {:.4f}\n", k + 1, points,
                       m.rel_l2_error);
    if (m.rel_l2_error < current.rel_l2_error) {
      current = m;
      best_out = std::move(y);
      for (LayerSlot& s : slots)
        if (!s.candidates.empty()) s.info.chosen_full_scale = s.candidates[k];
      result.global_grid_point = k + 1;
    }
  }
  result.naive_start_error = start_error;
  result.global_step_error = current.rel_l2_error;
  for (const LayerSlot& s : slots)
    if (!s.candidates.empty()) set_full_scale(program, tuned_arch, s.info.layer, s.info.chosen_full_scale);
  const std::vector<float> offsets = offset_candidates(tuned_arch.calibration);
  // Global offset step: every layer at the same correction. A device offset is the same in
  // every converter, and (as for the full scales) a single layer's correction barely shows at
  // the output while the layers after it are still biased.
  if (tuned_arch.calibration.adc_offset && !slots.empty()) {
    for (float offset : offsets) {
      if (offset == 0.0f) continue;  // the start: already measured
      for (const LayerSlot& s : slots) set_offset(program, s.info.layer, offset);
      auto [m, y] = run(program, tuned_arch);
      log << fmt::format("calibrate: every layer at offset correction {} LSB: rel. L2 error {:.4f}\n", offset,
                         m.rel_l2_error);
      if (m.rel_l2_error < current.rel_l2_error) {
        current = m;
        best_out = std::move(y);
        result.global_offset_lsb = offset;
      }
    }
    for (LayerSlot& s : slots) {
      s.info.chosen_offset_lsb = result.global_offset_lsb;
      set_offset(program, s.info.layer, result.global_offset_lsb);
    }
    result.global_offset_error = current.rel_l2_error;
  }
  for (int pass = 0; pass < tuned_arch.calibration.passes; ++pass)
    for (size_t i = 0; i < slots.size(); ++i) {
      LayerSlot& s = slots[i];
      const double before = current.rel_l2_error;
      if (pass == 0) s.info.error_before = before;
      for (double fs_candidate : s.candidates) {
        if (fs_candidate == s.info.chosen_full_scale) continue;  // already measured: `current`
        const double keep = s.info.chosen_full_scale;
        set_full_scale(program, tuned_arch, s.info.layer, fs_candidate);
        auto [m, y] = run(program, tuned_arch);
        if (m.rel_l2_error < current.rel_l2_error) {
          current = m;
          best_out = std::move(y);
          s.info.chosen_full_scale = fs_candidate;
        } else {
          set_full_scale(program, tuned_arch, s.info.layer, keep);
        }
      }
      s.info.error_after_full_scale = current.rel_l2_error;
      // Its offset correction next, given the full scale just chosen (the step it corrects).
      if (tuned_arch.calibration.adc_offset)
        for (float offset : offsets) {
          if (offset == static_cast<float>(s.info.chosen_offset_lsb)) continue;  // `current`
          set_offset(program, s.info.layer, offset);
          auto [m, y] = run(program, tuned_arch);
          if (m.rel_l2_error < current.rel_l2_error) {
            current = m;
            best_out = std::move(y);
            s.info.chosen_offset_lsb = offset;
          } else {
            set_offset(program, s.info.layer, static_cast<float>(s.info.chosen_offset_lsb));
          }
        }
      s.info.error_after = current.rel_l2_error;
      log << fmt::format("calibrate: pass {} layer {}/{} '{}' ({} tile(s), {} rows): full scale {:.4g} of worst "
                         "case {:.4g}{}; rel. L2 error {:.4f} -> {:.4f}\n",
                         pass + 1, i + 1, slots.size(), s.info.name, s.info.tiles, s.info.rows_max,
                         s.info.chosen_full_scale, s.info.worst_case_full_scale,
                         tuned_arch.calibration.adc_offset
                             ? fmt::format(", offset correction {} LSB", s.info.chosen_offset_lsb)
                             : std::string(),
                         before, current.rel_l2_error);
    }
  result.calibrated = current;
  for (const LayerSlot& s : slots) result.layers.push_back(s.info);

  // The tuned program, written by compile() itself so that every file of the directory
  // (program.bin, cores/*.s, cim-ir.yaml) shows the tuned values; then the check that the
  // files reproduce what the search measured.
  co.tuned_adc = &program;
  compile(co, compile_log);
  SimulateOptions so;
  so.program_dir = tuned_dir;
  so.input_path = opt.inputs_path;
  so.quiet = true;
  std::ostringstream sim_out, sim_err;
  SimulateResult check = simulate(so, sim_out, sim_err);
  if (!check.finished || check.outputs.at(0).data != best_out)
    throw std::runtime_error("internal: simulating the written calibrated program does not reproduce the "
                             "outputs the search measured");

  const bool with_labels = labels_ptr != nullptr;
  nlohmann::json j;
  j["model"] = fs::path(opt.model_path).filename().string();
  j["arch"] = fs::path(opt.arch_path).filename().string();
  j["samples"] = n;
  j["seed"] = seed;
  j["objective"] = "relative L2 error of the network output vs the float reference";
  j["simulations"] = result.simulations;
  j["float"] = metrics_json(result.float_ref);
  j["naive"] = metrics_json(result.naive);
  j["calibrated"] = metrics_json(result.calibrated);
  j["start_rel_l2_error"] = result.naive_start_error;
  j["global_step"] = {{"grid_point", result.global_grid_point}, {"rel_l2_error", result.global_step_error}};
  if (tuned_arch.calibration.adc_offset)
    j["global_offset_step"] = {{"offset_lsb", result.global_offset_lsb}, {"rel_l2_error", result.global_offset_error}};
  const CalibrationSpec& cs = tuned_arch.calibration;
  j["tuned"] = {{"adc_full_scale", cs.adc_full_scale}, {"adc_offset", cs.adc_offset}};
  if (cs.adc_offset) j["offset_candidates_lsb"] = offsets;
  j["layers"] = nlohmann::json::array();
  std::string csv = "layer,name,tiles,rows_max,initial_full_scale,worst_case_full_scale,chosen_full_scale,"
                    "error_before,error_after,chosen_offset_lsb,error_after_full_scale\n";
  for (const LayerCalibration& l : result.layers) {
    j["layers"].push_back({{"layer", l.layer}, {"name", l.name}, {"tiles", l.tiles}, {"rows_max", l.rows_max},
                           {"initial_full_scale", l.initial_full_scale},
                           {"worst_case_full_scale", l.worst_case_full_scale},
                           {"chosen_full_scale", l.chosen_full_scale},
                           {"chosen_offset_lsb", l.chosen_offset_lsb}, {"error_before", l.error_before},
                           {"error_after_full_scale", l.error_after_full_scale}, {"error_after", l.error_after}});
    csv += fmt::format("{},{},{},{},{},{},{},{:.6f},{:.6f},{},{:.6f}\n", l.layer, csv_field(l.name), l.tiles,
                       l.rows_max, l.initial_full_scale, l.worst_case_full_scale, l.chosen_full_scale,
                       l.error_before, l.error_after, l.chosen_offset_lsb, l.error_after_full_scale);
  }
  std::string md = fmt::format("# Calibration of {} on {}\n\n{} samples, seed {}; {} chip simulations. Full scales "
                               "are in cell-level units (docs/functional-model.md){}.\n\n",
                               j["model"].get<std::string>(), j["arch"].get<std::string>(), n, seed,
                               result.simulations,
                               cs.adc_offset ? "; offset corrections in ADC LSBs, subtracted from every conversion "
                                               "before rounding"
                                             : "");
  md += std::string("| deployment | rel. L2 error vs float | mean cosine | top-1 agreement |") +
        (with_labels ? " accuracy |" : "") + " ADC saturations |\n|---|---|---|---|" +
        (with_labels ? "---|" : "") + "---|\n";
  md += metrics_row("float reference", result.float_ref, with_labels, false);
  md += metrics_row("naive (" + j["arch"].get<std::string>() + ")", result.naive, with_labels, true);
  md += metrics_row("calibrated", result.calibrated, with_labels, true);
  md += fmt::format("\nSearch: start (the naive ranges on the calibrated arch) rel. L2 error {:.4f}; global step "
                    "(every layer at grid point k of {}) {} -> {:.4f}{}; then per layer:\n",
                    result.naive_start_error, tuned_arch.calibration.full_scale_points,
                    result.global_grid_point > 0 ? fmt::format("k = {}", result.global_grid_point)
                                                 : std::string("kept the start"),
                    result.global_step_error,
                    tuned_arch.calibration.adc_offset
                        ? fmt::format("; global offset step (every layer at one correction) {} LSB -> {:.4f}",
                                      result.global_offset_lsb, result.global_offset_error)
                        : std::string());
  md += std::string("\n| layer | name | tiles | full scale (naive) | full scale (chosen) | worst case |") +
        (cs.adc_offset ? " offset correction (LSB) | error after full scale |" : "") +
        " error before | error after |\n|---|---|---|---|---|---|" + (cs.adc_offset ? "---|---|" : "") + "---|---|\n";
  for (const LayerCalibration& l : result.layers)
    md += fmt::format("| {} | {} | {} | {:.4g} | {:.4g} | {:.4g} |{} {:.4f} | {:.4f} |\n", l.layer, l.name, l.tiles,
                      l.initial_full_scale, l.chosen_full_scale, l.worst_case_full_scale,
                      cs.adc_offset ? fmt::format(" {} | {:.4f} |", l.chosen_offset_lsb, l.error_after_full_scale)
                                    : std::string(),
                      l.error_before, l.error_after);
  md += "\nThe calibrated row is the search's own measurement; `cimsim simulate` of this directory on the same "
        "samples reproduces its outputs bit for bit (checked before this file was written).\n";
  const std::vector<uint8_t> output_bytes = encode_npy(check.outputs.at(0));
  write_file_atomically((fs::path(tuned_dir) / "output.npy").string(),
                        std::string(output_bytes.begin(), output_bytes.end()));
  write_file_atomically((fs::path(tuned_dir) / "calibration.json").string(), j.dump(2) + "\n");
  write_file_atomically((fs::path(tuned_dir) / "calibration.csv").string(), csv);
  write_file_atomically((fs::path(tuned_dir) / "summary.md").string(), md);

  replace_directory(tuned_dir, out);
  log << fmt::format("calibrate: rel. L2 error {:.4f} (naive) -> {:.4f} (calibrated), top-1 agreement {} -> {}; "
                     "wrote {}\n",
                     result.naive.rel_l2_error, result.calibrated.rel_l2_error, pct(result.naive.top1_agreement),
                     pct(result.calibrated.top1_agreement), out);
  return result;
}

}  // namespace cimsim
