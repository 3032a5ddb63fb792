// compile(): the whole compiler pipeline and the atomic write of the program directory.
#include "compiler/backend/driver.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

#include "compiler/backend/backend.h"
#include "compiler/frontend/onnx_loader.h"
#include "compiler/frontend/passes.h"
#include "compiler/frontend/trained_weights.h"
#include "compiler/quant/quantizer.h"
#include "compiler/reference/reference.h"
#include "platform/spec/arch.h"
#include "platform/spec/directory_replace.h"
#include "platform/spec/program_io.h"

namespace cimsim {
namespace {

namespace fs = std::filesystem;

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
  f.close();
  if (!f) throw InputError(p.string() + ": cannot write file");
}

// The same tensor `cimsim reference --calibration` uses (compiler/reference/reference.h).
std::vector<ir::FloatTensor> calibration_for(const std::string& path, const ir::Graph& g) {
  if (path.empty()) return {};
  if (g.inputs.size() != 1) {
    throw InputError(fmt::format("{}: calibration data is one tensor, the model has {} inputs",
                                 path, g.inputs.size()));
  }
  return load_calibration(path);
}

// CompileOptions::tuned_adc: copies the tuned per-tile ADC settings into the compiled program.
void apply_tuned_adc(Program& compiled, const Program& tuned) {
  bool same = compiled.cores.size() == tuned.cores.size();
  for (size_t c = 0; same && c < compiled.cores.size(); ++c) {
    std::vector<TileDesc>& to = compiled.cores[c].tiles;
    const std::vector<TileDesc>& from = tuned.cores[c].tiles;
    same = to.size() == from.size();
    for (size_t t = 0; same && t < to.size(); ++t) {
      TileDesc want = from[t];
      want.adc_full_scale = to[t].adc_full_scale;
      want.adc_offset_lsb = to[t].adc_offset_lsb;
      same = want == to[t];
      to[t].adc_full_scale = from[t].adc_full_scale;
      to[t].adc_offset_lsb = from[t].adc_offset_lsb;
    }
  }
  if (!same)
    throw std::logic_error("compile: the tuned ADC settings are for another program (cores or tiles differ)");
}

// Removes a directory tree, ignoring errors (cleanup paths).
void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove_all(p, ec);
}

}  // namespace

void compile(const CompileOptions& opt, std::ostream& log) {
  const auto t0 = std::chrono::steady_clock::now();
  if (opt.out_dir.empty()) throw InputError("compile: no output directory given");
  const ArchSpec arch = load_arch_spec(opt.arch_path);
  if (arch.quantization.bfp_block > 0)
    throw InputError(fmt::format(
        "{}: quantization.bfp_block = {}: block floating point runs at the kernel level only "
        "(models/kernels/bfp_kernel.h, `cimsim bfp-error`); compile supports integer codes, "
        "expected bfp_block: 0",
        opt.arch_path, arch.quantization.bfp_block));
  ir::Graph g = frontend::load_onnx(opt.model_path);
  frontend::simplify(g);
  if (!opt.weights_path.empty()) frontend::apply_trained_weights(g, opt.weights_path);
  if (opt.dump_ir) log << frontend::dump_graph(g);
  const std::vector<ir::FloatTensor> calib = calibration_for(opt.calibration_path, g);
  const q::QModel qm = quant::quantize(g, arch.quantization, calib);
  backend::BackendOptions bo;
  bo.mode = opt.mode;
  bo.replication = opt.replication;
  bo.replicas = opt.replicas;
  backend::CompiledModel cm = backend::compile_qmodel(qm, arch, bo);
  if (opt.tuned_adc) apply_tuned_adc(cm.program, *opt.tuned_adc);

  fs::path out = fs::path(opt.out_dir);
  if (out.filename().empty()) out = out.parent_path();  // "dir/" -> "dir"
  const fs::path tmp = out.parent_path() / (out.filename().string() + ".cimsim-tmp");
  remove_quietly(tmp);
  try {
    std::error_code ec;
    fs::create_directories(tmp, ec);
    if (ec) throw InputError(fmt::format("{}: cannot create directory: {}", tmp.string(), ec.message()));
    write_program_files(cm.program, tmp.string());
    write_text(tmp / "cim-ir.yaml", backend::cim_ir_yaml(qm, arch, cm));
    write_text(tmp / "schedule.yaml", backend::schedule_yaml(qm, cm));
    fs::copy_file(opt.arch_path, tmp / "arch.yaml", fs::copy_options::overwrite_existing, ec);
    if (ec) throw InputError(fmt::format("{}: cannot copy to the program directory: {}", opt.arch_path, ec.message()));
    write_text(tmp / "compile.json", backend::compile_json_text(qm, arch, cm));
    replace_directory(tmp.string(), out.string());
  } catch (...) {
    remove_quietly(tmp);
    throw;
  }
  int64_t cores = 0, instrs = 0;
  for (const CoreProgram& c : cm.program.cores) {
    cores += c.code.empty() ? 0 : 1;
    instrs += static_cast<int64_t>(c.code.size());
  }
  // The wall time goes to the log only: the program directory stays reproducible.
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log << fmt::format("compiled {}: {} layers on {} of {} cores, {} of {} crossbars, {} instructions -> {} "
                     "({:.2f} s)\n",
                     qm.name, cm.layers.size(), cores, arch.chip.cores, cm.crossbars_used,
                     cm.crossbars_available, instrs, out.string(), wall_s);
}

void set_replicas_option(CompileOptions* o, const std::string& text, bool mode_given, bool replication_given) {
  std::map<std::string, int64_t> reps;
  size_t at = 0;
  while (at <= text.size()) {
    const size_t comma = std::min(text.find(',', at), text.size());
    const std::string item = text.substr(at, comma - at);
    const size_t eq = item.rfind('=');
    const std::string name = eq == std::string::npos ? item : item.substr(0, eq);
    const std::string count = eq == std::string::npos ? "" : item.substr(eq + 1);
    char* end = nullptr;
    const long long n = count.empty() ? 0 : std::strtoll(count.c_str(), &end, 10);
    if (eq == std::string::npos || name.empty() || count.empty() || *end != '\0' || n < 1)
      throw InputError(fmt::format("--replicas {}: item '{}': expected LAYER=COUNT with a count >= 1, e.g. "
                                   "conv1=2,layer1.0.conv1=4",
                                   text, item));
    if (!reps.emplace(name, n).second)
      throw InputError(fmt::format("--replicas {}: layer '{}' is given twice", text, name));
    at = comma + 1;
  }
  if (mode_given && o->mode != "throughput")
    throw InputError(fmt::format("--replicas with --mode {}: explicit replica counts are a throughput-mode "
                                 "mapping (--replicas implies --mode throughput)",
                                 o->mode));
  if (replication_given)
    throw InputError("--replicas and --replication exclude each other: explicit counts replace the rule the "
                     "share --replication caps (layers not named get 1 replica)");
  o->replicas = std::move(reps);
  o->mode = "throughput";
}

std::string replicas_option_text(const std::map<std::string, int64_t>& replicas) {
  std::string s;
  for (const auto& [name, n] : replicas) s += fmt::format("{}{}={}", s.empty() ? "" : ",", name, n);
  return s;
}

}  // namespace cimsim
