// synthesize(): search (estimator) -> validate the top K (compile + simulate) -> write DIR.
#include "platform/synth/synthesize.h"

#include "platform/spec/directory_replace.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "compiler/backend/driver.h"
#include "compiler/frontend/onnx_loader.h"
#include "compiler/frontend/passes.h"
#include "compiler/quant/quantizer.h"
#include "compiler/reference/reference.h"
#include "platform/spec/arch_edit.h"
#include "platform/spec/npy.h"
#include "platform/synth/layer_error.h"
#include "platform/synth/search.h"
#include "platform/vp/simulate.h"

namespace cimsim::synth {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

double parse_power(const std::string& text) {
  char* end = nullptr;
  const double w = std::strtod(text.c_str(), &end);
  if (text.empty() || end == nullptr || *end != '\0' || !std::isfinite(w) || !(w > 0))
    throw InputError(fmt::format("--power-w {}: expected a finite power budget in W greater than 0", text));
  return w;
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
  f.close();
  if (!f) throw InputError(p.string() + ": cannot write file");
}

void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove_all(p, ec);
}

// A design that was compiled and simulated.
struct Validated {
  size_t point = 0;          // index into SearchResult::evaluated
  ArchSpec arch;
  double sim_latency_ns = 0, sim_energy_pj = 0, sim_macs = 0;
  json sim_by_layer;
  json sim_layers;  // report.json "layers": per-layer simulated start/end
  double sim_tops_per_w() const { return sim_energy_pj > 0 ? 2.0 * sim_macs / sim_energy_pj : 0.0; }
  fs::path program;
};

std::string knob_values(const SearchSpace& s, const std::vector<int>& g, const std::string& sep) {
  std::string out;
  for (size_t k = 0; k < s.knobs.size(); ++k)
    out += (k ? sep : "") + s.knobs[k].path + "=" + s.knobs[k].choices[static_cast<size_t>(g[k])];
  return out;
}

double ratio(double est, double sim) { return sim > 0 ? est / sim : 0.0; }

// An estimate within 10 % of the simulation on latency and energy counts as confirmed.
constexpr double kConfirmed = 0.10;

MappingChoice mapping_of(const CompileChoice& c) {
  MappingChoice m;
  if (c.mode == "throughput" && c.replicas.empty()) m.replication = c.replication;
  m.replicas = c.replicas;
  return m;
}

// The command that compiles the design's program (arch.yaml beside it; file names only, no
// paths: the files are byte-identical wherever they are written).
std::string compile_command(const CompileChoice& c, const std::string& model_file, const std::string& calibration) {
  std::string cmd = "cimsim compile " + model_file + " --arch arch.yaml -o program";
  if (!calibration.empty()) cmd += " --calibration " + fs::path(calibration).filename().string();
  if (!c.replicas.empty()) return cmd + " --mode throughput --replicas " + replicas_option_text(c.replicas);
  return c.mode == "throughput" ? cmd + fmt::format(" --mode throughput --replication {}", c.replication)
                                : cmd + " --mode latency";
}

// a dominates b: no worse in TOPS/W, latency and peak power, better in one.
bool dominates(const Estimate& a, const Estimate& b) {
  const bool ge = a.tops_per_w() >= b.tops_per_w() && a.latency_ns <= b.latency_ns &&
                  a.peak_power_w <= b.peak_power_w;
  const bool gt = a.tops_per_w() > b.tops_per_w() || a.latency_ns < b.latency_ns ||
                  a.peak_power_w < b.peak_power_w;
  return ge && gt;
}

NpyArray validation_input(const q::QModel& qm, const std::string& path, uint64_t seed) {
  if (!path.empty()) return read_npy(path);
  if (qm.inputs.size() != 1)
    throw InputError(fmt::format("{}: the model has {} inputs; give --input", qm.name, qm.inputs.size()));
  NpyArray a;
  a.shape = {1};
  for (int64_t d : qm.tensors[static_cast<size_t>(qm.inputs[0])].shape) a.shape.push_back(d);
  int64_t n = 1;
  for (int64_t d : a.shape) n *= d;
  std::mt19937_64 rng(seed);
  a.data.resize(static_cast<size_t>(n));
  // Uniform in [0, 1) from the top 24 bits: the same floats on every machine.
  for (float& v : a.data) v = static_cast<float>(rng() >> 40) / 16777216.0f;
  return a;
}

std::string arch_header(const std::string& title, const Estimate& e, const Validated* v, double budget_w,
                        const std::string& knobs, const std::string& compile_cmd) {
  std::string h = title + "\n";
  h += "Written by `cimsim synthesize` (docs/synthesis.md); every figure below is derived from\n";
  h += "this file by derive() or measured by the estimator / the cycle-level simulator.\n";
  h += "Search point: " + knobs + "\n";
  h += "Mapped as: " + compile_cmd + "\n";
  h += fmt::format("Peak power (derive): {:.3f} W (budget {:.3f} W)\n", e.peak_power_w, budget_w);
  h += fmt::format("Area (derive): {:.3f} mm2\n", e.area_mm2);
  h += fmt::format("Peak TOPS (derive, 8-bit MACs x 2): {:.3f}; peak TOPS/W {:.3f}\n", e.peak_tops,
                   e.peak_power_w > 0 ? e.peak_tops / e.peak_power_w : 0.0);
  h += fmt::format("Mapping (estimator): {} cores, {} crossbars\n", e.cores_used, e.crossbars_used);
  h += fmt::format("Estimated: latency {:.6f} ms, energy {:.3f} uJ, {:.4f} TOPS/W\n", e.latency_ns * 1e-6,
                   e.energy_pj * 1e-6, e.tops_per_w());
  if (v)
    h += fmt::format("Simulated (cimsim simulate, batch 1): latency {:.6f} ms, energy {:.3f} uJ, {:.4f} TOPS/W\n",
                     v->sim_latency_ns * 1e-6, v->sim_energy_pj * 1e-6, v->sim_tops_per_w());
  return h;
}

}  // namespace

void synthesize(const SynthesizeOptions& opt, std::ostream& log) {
  const auto t0 = std::chrono::steady_clock::now();
  auto since = [&](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  const double budget_w = parse_power(opt.power_w_text);
  if (opt.out_dir.empty()) throw InputError("synthesize: no output directory given (-o)");
  if (opt.rank != "simulated" && opt.rank != "estimated")
    throw InputError("--rank " + opt.rank + ": expected simulated or estimated");
  if (opt.population < 2 || opt.children < 1 || opt.generations < 0 || opt.top < 1)
    throw InputError("synthesize: need --population >= 2, --children >= 1, --generations >= 0, --top >= 1");
  const ArchSpec base = load_arch_spec(opt.base_arch_path);

  ir::Graph g = frontend::load_onnx(opt.model_path);
  frontend::simplify(g);
  std::vector<ir::FloatTensor> calib;
  if (!opt.calibration_path.empty()) calib = load_calibration(opt.calibration_path);
  const q::QModel qm = quant::quantize(g, base.quantization, calib);
  const NetShape net = net_shape(qm);
  const std::string model_file = fs::path(opt.model_path).filename().string();  // no paths in files
  // The space after the model: compile.replicas.LAYER keys name its layers.
  const SearchSpace space = opt.space_path.empty() ? default_space(base) : load_space(opt.space_path, base, &net);
  if (opt.space_path.empty()) check_space(space, base);

  // --- search ---------------------------------------------------------------------------
  double build_s = 0, estimate_s = 0;  // wall time split, for the log only
  const Evaluator eval = [&](const std::vector<int>& genome) {
    Point p;
    p.genome = genome;
    ArchSpec arch;
    const auto tb = std::chrono::steady_clock::now();
    try {
      arch = apply_arch_overrides(base, to_overrides(space, genome), "candidate");
    } catch (const InputError& e) {
      p.why = e.what();
      p.violation = 1e9;
      build_s += since(tb);
      return p;
    }
    build_s += since(tb);
    p.valid = true;
    const auto te = std::chrono::steady_clock::now();
    p.est = estimate(net, arch, mapping_of(compile_choice_of(space, genome)));
    estimate_s += since(te);
    if (!p.est.feasible) {
      p.why = p.est.why;
      p.violation = 1e6;
    } else if (p.est.peak_power_w > budget_w) {
      p.why = fmt::format("peak power {:.3f} W exceeds the budget {:.3f} W", p.est.peak_power_w, budget_w);
      p.violation = p.est.peak_power_w / budget_w - 1.0;
    }
    return p;
  };
  log << fmt::format("synthesize: {} knobs, {:.4g} points; (mu + lambda) = ({} + {}) for {} generations, seed {}\n",
                     space.knobs.size(), space.points(), opt.population, opt.children, opt.generations, opt.seed);
  SearchOptions so;
  so.seed = opt.seed;
  so.population = opt.population;
  so.children = opt.children;
  so.generations = opt.generations;
  const auto t_search = std::chrono::steady_clock::now();
  const SearchResult res = evolve(space, so, eval, log);
  const double search_s = since(t_search);
  log << fmt::format("synthesize: {} estimator evaluations in {:.2f} s ({:.0f} points/s; per point {:.2f} ms "
                     "building and checking the architecture, {:.2f} ms estimating)\n",
                     res.evaluations, search_s, search_s > 0 ? double(res.evaluations) / search_s : 0.0,
                     1e3 * build_s / double(std::max<int64_t>(1, res.evaluations)),
                     1e3 * estimate_s / double(std::max<int64_t>(1, res.evaluations)));

  // Distinct points, best first.
  std::map<std::vector<int>, size_t> first_of;
  for (size_t i = 0; i < res.evaluated.size(); ++i) first_of.emplace(res.evaluated[i].genome, i);
  std::vector<size_t> order;
  for (const auto& [genome, i] : first_of) order.push_back(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return better(res.evaluated[a], res.evaluated[b]); });
  if (order.empty() || !res.evaluated[order.front()].feasible()) {
    double lowest = -1;
    std::string why;
    for (size_t i : order) {
      const Point& p = res.evaluated[i];
      if (p.valid && p.est.feasible && (lowest < 0 || p.est.peak_power_w < lowest)) lowest = p.est.peak_power_w;
      if (why.empty() && !p.why.empty()) why = p.why;
    }
    throw InputError(
        lowest > 0
            ? fmt::format("{}: no design in the search space meets --power-w {} W: the lowest peak power of "
                          "a design that maps it is {:.3f} W ({} points evaluated)",
                          opt.model_path, opt.power_w_text, lowest, res.evaluations)
            : fmt::format("{}: no design in the search space maps it ({} points evaluated); e.g. {}",
                          opt.model_path, res.evaluations, why));
  }

  // --- validation -----------------------------------------------------------------------
  fs::path out = fs::path(opt.out_dir);
  if (out.filename().empty()) out = out.parent_path();
  const fs::path stage = out.parent_path() / (out.filename().string() + ".cimsim-synth");
  remove_quietly(stage);
  std::vector<Validated> val;
  std::vector<std::pair<size_t, std::string>> rejected;  // point, why compile/simulate refused it
  try {
    std::error_code ec;
    fs::create_directories(stage / "candidates", ec);
    if (ec) throw InputError(fmt::format("{}: cannot create directory: {}", stage.string(), ec.message()));
    const NpyArray x = validation_input(qm, opt.input_path, opt.seed);
    write_npy((stage / "input.npy").string(), x);
    const auto t_val = std::chrono::steady_clock::now();
    for (size_t i : order) {
      if (static_cast<int>(val.size()) == opt.top || !res.evaluated[i].feasible()) break;
      if (rejected.size() >= static_cast<size_t>(2 * opt.top)) break;  // bounded effort
      const Point& p = res.evaluated[i];
      // Walk down the front: a design that a validated one matches or beats on TOPS/W,
      // latency and peak power at once would only repeat its simulation -- provided the
      // simulation confirmed that one's estimate (within kConfirmed); an estimate the
      // simulator contradicted covers nothing.
      const bool covered = std::any_of(val.begin(), val.end(), [&](const Validated& q) {
        const Estimate& e = res.evaluated[q.point].est;
        const bool confirmed = std::abs(ratio(e.latency_ns, q.sim_latency_ns) - 1) <= kConfirmed &&
                               std::abs(ratio(e.energy_pj, q.sim_energy_pj) - 1) <= kConfirmed;
        return confirmed && e.tops_per_w() >= p.est.tops_per_w() && e.latency_ns <= p.est.latency_ns &&
               e.peak_power_w <= p.est.peak_power_w;
      });
      if (covered) continue;
      Validated v;
      v.point = i;
      v.arch = apply_arch_overrides(base, to_overrides(space, p.genome), "candidate");
      const fs::path dir = stage / "candidates" / fmt::format("{:02d}", val.size());
      fs::create_directories(dir, ec);
      const fs::path arch_path = dir / "arch.yaml";
      write_text(arch_path, arch_to_yaml(v.arch, arch_header("cimsim synthesize candidate", p.est, nullptr, budget_w,
                                                 knob_values(space, p.genome, ", "),
                                                 compile_command(compile_choice_of(space, p.genome), model_file,
                                                                 opt.calibration_path))));
      try {
        CompileOptions co;
        co.model_path = opt.model_path;
        co.arch_path = arch_path.string();
        co.out_dir = (dir / "program").string();
        co.calibration_path = opt.calibration_path;
        const CompileChoice cc = compile_choice_of(space, p.genome);
        co.mode = cc.mode;
        co.replication = cc.replication;
        co.replicas = cc.replicas;
        std::ostringstream clog;
        compile(co, clog);
        SimulateOptions sim;
        sim.program_dir = co.out_dir;
        sim.input_path = (stage / "input.npy").string();
        sim.quiet = true;
        std::ostringstream sout, serr;
        const SimulateResult r = simulate(sim, sout, serr);
        if (!r.finished) throw std::runtime_error("synthesize: a validation run did not finish: " + serr.str());
        v.sim_latency_ns = r.report.at("latency_ns").get<double>();
        v.sim_energy_pj = r.report.at("energy_pj").at("total").get<double>();
        v.sim_macs = r.report.at("counts").at("macs").get<double>();
        v.sim_by_layer = r.report.at("energy_pj").at("by_layer");
        v.sim_layers = r.report.at("layers");
        v.program = co.out_dir;
      } catch (const InputError& e) {
        // The estimator does not model everything the compiler checks (buffer spills that
        // cannot fit, ...): such a design is reported, not fatal.
        std::string why = e.what();
        for (size_t at = why.find(dir.string()); at != std::string::npos; at = why.find(dir.string()))
          why.replace(at, dir.string().size(), "(candidate)");
        log << fmt::format("synthesize: design {} failed validation: {}\n", knob_values(space, p.genome, " "), why);
        rejected.emplace_back(i, why);
        remove_quietly(dir);
        continue;
      }
      log << fmt::format("synthesize: validated {}/{}: estimated {:.3f} ms {:.4f} TOPS/W, simulated {:.3f} ms "
                         "{:.4f} TOPS/W\n",
                         val.size() + 1, opt.top, p.est.latency_ns * 1e-6, p.est.tops_per_w(),
                         v.sim_latency_ns * 1e-6, v.sim_tops_per_w());
      val.push_back(std::move(v));
    }
    if (val.empty())
      throw InputError(fmt::format("{}: none of the {} best designs compiled and simulated; the first: {}",
                                   opt.model_path, rejected.size(), rejected.front().second));
    const double val_s = since(t_val);
    log << fmt::format("synthesize: compiled and simulated {} designs in {:.2f} s\n", val.size(), val_s);
    if (opt.rank == "simulated") {
      std::stable_sort(val.begin(), val.end(), [](const Validated& a, const Validated& b) {
        const int64_t sa = efficiency_step(a.sim_tops_per_w()), sb = efficiency_step(b.sim_tops_per_w());
        if (sa != sb) return sa > sb;
        return a.sim_latency_ns < b.sim_latency_ns;
      });
    }
    const Validated& best = val.front();
    const Point& bp = res.evaluated[best.point];
    write_text(stage / "arch.yaml",
               arch_to_yaml(best.arch, arch_header(fmt::format("cimsim synthesize: best design for {} under {} W "
                                                               "(ranked by {} TOPS/W)",
                                                               model_file, opt.power_w_text, opt.rank),
                                                   bp.est, &best, budget_w, knob_values(space, bp.genome, ", "),
                                                   compile_command(compile_choice_of(space, bp.genome), model_file,
                                                                   opt.calibration_path))));
    fs::rename(best.program, stage / "program", ec);
    if (ec) throw InputError(fmt::format("{}: cannot move the program: {}", stage.string(), ec.message()));
    // The program's arch.yaml is its compile-time byte copy; make it the documented one.
    fs::copy_file(stage / "arch.yaml", stage / "program" / "arch.yaml", fs::copy_options::overwrite_existing, ec);

    // --- Pareto table ---------------------------------------------------------------------
    std::map<size_t, const Validated*> sim_of;
    for (const Validated& v : val) sim_of[v.point] = &v;
    std::vector<size_t> rows;
    for (size_t i : order) {
      const Point& p = res.evaluated[i];
      if (!p.feasible()) continue;
      bool dominated = false;
      for (size_t j : order)
        if (j != i && res.evaluated[j].feasible() && dominates(res.evaluated[j].est, p.est)) {
          dominated = true;
          break;
        }
      if (!dominated || sim_of.count(i)) rows.push_back(i);
    }
    json pj;
    pj["model"] = model_file;
    pj["power_budget_w"] = budget_w;
    pj["rank"] = opt.rank;
    pj["search"] = {{"seed", opt.seed},           {"population", opt.population},
                    {"children", opt.children},   {"generations", opt.generations},
                    {"evaluations", res.evaluations}, {"distinct_points", first_of.size()},
                    {"space_points", space.points()}};
    int64_t feasible = 0;
    for (const Point& p : res.evaluated) feasible += p.feasible() ? 1 : 0;
    pj["search"]["feasible_evaluations"] = feasible;
    json knobs = json::array();
    for (const Knob& k : space.knobs) knobs.push_back({{"path", k.path}, {"choices", k.choices}});
    pj["space"] = knobs;
    std::string csv = "rank,pareto,simulated";
    for (const Knob& k : space.knobs) csv += "," + k.path;
    csv += ",peak_power_w,area_mm2,peak_tops,cores,crossbars,est_tops_per_w,est_latency_ns,est_energy_pj,"
           "est_throughput_per_s,sim_tops_per_w,sim_latency_ns,sim_energy_pj,sim_throughput_per_s,"
           "latency_ratio,energy_ratio\n";
    json designs = json::array();
    int rank_no = 0;
    for (size_t i : rows) {
      const Point& p = res.evaluated[i];
      const Estimate& e = p.est;
      json d;
      json kv = json::object();
      for (size_t k = 0; k < space.knobs.size(); ++k)
        kv[space.knobs[k].path] = space.knobs[k].choices[static_cast<size_t>(p.genome[k])];
      bool pareto = true;
      for (size_t j : order)
        if (j != i && res.evaluated[j].feasible() && dominates(res.evaluated[j].est, e)) pareto = false;
      d["rank"] = ++rank_no;
      d["pareto"] = pareto;
      d["knobs"] = kv;
      d["peak_power_w"] = e.peak_power_w;
      d["area_mm2"] = e.area_mm2;
      d["peak_tops"] = e.peak_tops;
      d["cores"] = e.cores_used;
      d["crossbars"] = e.crossbars_used;
      d["estimated"] = {{"tops_per_w", e.tops_per_w()},
                        {"latency_ns", e.latency_ns},
                        {"energy_pj", e.energy_pj},
                        {"throughput_per_s", e.throughput_per_s()}};
      csv += fmt::format("{},{},{}", rank_no, pareto ? 1 : 0, sim_of.count(i) ? 1 : 0);
      for (size_t k = 0; k < space.knobs.size(); ++k)
        csv += "," + space.knobs[k].choices[static_cast<size_t>(p.genome[k])];
      csv += fmt::format(",{},{},{},{},{},{},{},{},{}", e.peak_power_w, e.area_mm2, e.peak_tops, e.cores_used,
                         e.crossbars_used, e.tops_per_w(), e.latency_ns, e.energy_pj, e.throughput_per_s());
      if (const auto it = sim_of.find(i); it != sim_of.end()) {
        const Validated& v = *it->second;
        d["simulated"] = {{"tops_per_w", v.sim_tops_per_w()},
                          {"latency_ns", v.sim_latency_ns},
                          {"energy_pj", v.sim_energy_pj},
                          {"throughput_per_s", v.sim_latency_ns > 0 ? 1e9 / v.sim_latency_ns : 0.0},
                          {"latency_ratio", ratio(e.latency_ns, v.sim_latency_ns)},
                          {"energy_ratio", ratio(e.energy_pj, v.sim_energy_pj)},
                          {"best", &v == &best}};
        if (&v == &best) d["simulated"]["per_layer"] = layer_times_json(compare_layer_times(net, e, v.sim_layers));
        csv += fmt::format(",{},{},{},{},{},{}", v.sim_tops_per_w(), v.sim_latency_ns, v.sim_energy_pj,
                           v.sim_latency_ns > 0 ? 1e9 / v.sim_latency_ns : 0.0, ratio(e.latency_ns, v.sim_latency_ns),
                           ratio(e.energy_pj, v.sim_energy_pj));
      } else {
        csv += ",,,,,,";
      }
      csv += "\n";
      designs.push_back(d);
    }
    pj["designs"] = designs;
    write_text(stage / "pareto.json", pj.dump(2) + "\n");
    write_text(stage / "pareto.csv", csv);

    // --- estimator error report -----------------------------------------------------------
    std::string md = fmt::format("# Estimator vs cycle-level simulation: {} under {} W\n\n", model_file,
                                 opt.power_w_text);
    md += "Ratio = estimate / simulated (1.0 = exact). Simulated: `cimsim simulate` of the compiled\n"
          "program on input.npy (batch 1). The estimator's model: docs/synthesis.md.\n\n";
    md += "| design | peak W | est. latency ms | sim. latency ms | ratio | est. energy uJ | sim. energy uJ | ratio | "
          "est. TOPS/W | sim. TOPS/W |\n|---|---|---|---|---|---|---|---|---|---|\n";
    double worst_lat = 0, worst_en = 0;
    for (size_t k = 0; k < val.size(); ++k) {
      const Validated& v = val[k];
      const Estimate& e = res.evaluated[v.point].est;
      const double rl = ratio(e.latency_ns, v.sim_latency_ns), re = ratio(e.energy_pj, v.sim_energy_pj);
      worst_lat = std::max(worst_lat, std::abs(rl - 1));
      worst_en = std::max(worst_en, std::abs(re - 1));
      md += fmt::format("| {}{} | {:.2f} | {:.4f} | {:.4f} | {:.3f} | {:.2f} | {:.2f} | {:.3f} | {:.4f} | {:.4f} |\n",
                        k + 1, k == 0 ? " (best)" : "", e.peak_power_w, e.latency_ns * 1e-6, v.sim_latency_ns * 1e-6,
                        rl, e.energy_pj * 1e-6, v.sim_energy_pj * 1e-6, re, e.tops_per_w(), v.sim_tops_per_w());
    }
    md += fmt::format("\nLargest error over these designs: latency {:.1f} %, energy {:.1f} %.\n\n", 100 * worst_lat,
                      100 * worst_en);
    md += "Designs:\n\n";
    for (size_t k = 0; k < val.size(); ++k)
      md += fmt::format("{}. {}\n", k + 1, knob_values(space, res.evaluated[val[k].point].genome, ", "));
    if (!rejected.empty()) {
      md += "\n## Designs the estimator accepted but validation refused\n\n";
      for (const auto& [i, why] : rejected)
        md += fmt::format("- {}: {}\n", knob_values(space, res.evaluated[i].genome, ", "), why);
    }
    md += "\n## Per layer, best design (energy; estimator layer start/end times)\n\n"
          "| layer | replicas | cores | crossbars | est. start us | est. end us | est. energy uJ | sim. energy uJ | "
          "ratio |\n|---|---|---|---|---|---|---|---|---|\n";
    for (const LayerEstimate& le : bp.est.layers) {
      const double sim = best.sim_by_layer.contains(le.name) ? best.sim_by_layer.at(le.name).get<double>() : 0.0;
      md += fmt::format("| {} | {} | {} | {} | {:.2f} | {:.2f} | {:.3f} | {:.3f} | {:.3f} |\n", le.name, le.replicas, le.cores,
                        le.crossbars, le.start_ns * 1e-3, le.end_ns * 1e-3, le.energy_pj * 1e-6, sim * 1e-6,
                        ratio(le.energy_pj, sim));
    }
    md += layer_times_markdown(compare_layer_times(net, bp.est, best.sim_layers));
    write_text(stage / "estimator_error.md", md);
    remove_quietly(stage / "candidates");

    replace_directory(stage.string(), out.string());
  } catch (...) {
    remove_quietly(stage);
    throw;
  }
  const Validated& best = val.front();
  log << fmt::format("synthesize: best {} -> {}: {:.2f} W peak, simulated {:.3f} ms, {:.4f} TOPS/W "
                     "(estimated {:.3f} ms, {:.4f} TOPS/W); total {:.2f} s\n",
                     knob_values(space, res.evaluated[best.point].genome, " "), out.string(),
                     res.evaluated[best.point].est.peak_power_w, best.sim_latency_ns * 1e-6, best.sim_tops_per_w(),
                     res.evaluated[best.point].est.latency_ns * 1e-6, res.evaluated[best.point].est.tops_per_w(),
                     since(t0));
}

}  // namespace cimsim::synth
