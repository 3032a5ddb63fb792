// cimsim command line: compile, simulate, run, reference, arch, export-training.
//
// Exit codes (docs/cli.md): 0 success; 1 bad input (message names file/line/node);
// 2 usage error; 3 internal error (a bug: please report it with the command line).
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/backend/driver.h"
#include "compiler/export/torch_export.h"
#include "compiler/reference/reference.h"
#include "platform/calib/calibrate.h"
#include "platform/cli/output_paths.h"
#include "platform/bfp/bfp_network.h"
#include "platform/spec/arch.h"
#include "platform/spec/directory_replace.h"
#include "platform/spec/sram_imc_validation.h"
#include "platform/sweep/sweep_cli.h"
#include "platform/synth/synthesize.h"
#include "platform/vp/simulate.h"

#ifndef CIMSIM_VERSION
#define CIMSIM_VERSION "0.0.0"
#endif

namespace {

constexpr int kExitOk = 0;
constexpr int kExitBadInput = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInternal = 3;

struct CompileArgs {
  std::string model, arch, out, calibration, weights, mode = "latency";
  double replication = 1.0;
  std::string replicas;
  bool mode_given = false, replication_given = false, replicas_given = false;
  bool dump_ir = false, print_arch = false;
};

struct SimulateArgs {
  std::string program_dir, arch, input, output, report, trace_dir;
  std::string trace_format, trace_cores, trace_window;
  std::vector<std::string> trace_units, trace_layers;
  uint64_t seed = 0;
  bool seed_given = false;
  double max_time_ns = 0, energy_window_ns = 0;
  bool quiet = false;
  bool layers = false;
};

void add_compile_options(CLI::App* cmd, CompileArgs& a, bool with_output) {
  // No CLI11 ExistingFile check: a missing model is bad input (exit 1, named by the loader),
  // not a usage error.
  cmd->add_option("model", a.model, "ONNX model file")->required();
  cmd->add_option("--arch", a.arch, "architecture YAML (configs/*.yaml)")->required();
  if (with_output) cmd->add_option("-o,--output-dir", a.out, "program directory to write")->required();
  cmd->add_option("--calibration", a.calibration,
                  ".npy with calibration inputs (N,C,H,W) for activation scales");
  cmd->add_option("--weights", a.weights, "trained weights (cimsim-weights file, e.g. from export-training)");
  cmd->add_option("--mode", a.mode, "schedule: latency (one input) or throughput (a stream)")
      ->check(CLI::IsMember({"latency", "throughput"}))
      ->each([&a](const std::string&) { a.mode_given = true; });
  cmd->add_option("--replication", a.replication,
                  "throughput mode: share 0..1 of the free cores and crossbars replicas may take (default 1)")
      ->check(CLI::Range(0.0, 1.0))
      ->each([&a](const std::string&) { a.replication_given = true; });
  cmd->add_option("--replicas", a.replicas,
                  "explicit replicas per matrix layer, e.g. conv1=2,layer1.0.conv1=4 (implies --mode throughput; "
                  "other layers get 1)")
      ->each([&a](const std::string&) { a.replicas_given = true; });
  cmd->add_flag("--dump-ir", a.dump_ir, "print the simplified graph IR");
  cmd->add_flag("--print-arch", a.print_arch, "print the architecture and its derived figures");
}

void add_simulate_options(CLI::App* cmd, SimulateArgs& a) {
  cmd->add_option("--input", a.input, "input tensor .npy (float32, N,C,H,W)")->required();
  cmd->add_option("--trace-dir", a.trace_dir,
                  "write timeline.pftrace (or .json), energy.csv and waves.vcd into this directory");
  cmd->add_option("--trace-format", a.trace_format,
                  "timeline format: perfetto (timeline.pftrace, default) or json (timeline.json)");
  cmd->add_option("--trace-cores", a.trace_cores, "trace only these cores, e.g. 0,2-3");
  cmd->add_option("--trace-units", a.trace_units,
                  "trace only these units: scalar,vector,xbar,adc,nic,link,wait,memory")
      ->allow_extra_args(false);  // one value per occurrence: a following positional stays one
  cmd->add_option("--trace-window", a.trace_window, "trace only events overlapping START_NS:END_NS");
  cmd->add_option("--trace-layer", a.trace_layers, "trace only these layers (repeatable or a comma list)")
      ->allow_extra_args(false);
  cmd->add_option("--seed", a.seed, "seed for device non-idealities (default: the arch's)")
      ->each([&a](const std::string&) { a.seed_given = true; });
  cmd->add_option("--max-time", a.max_time_ns,
                  "stop simulated time at this many ns (the run then reports itself incomplete)");
  cmd->add_option("--energy-window", a.energy_window_ns, "energy.csv window in ns (default: auto)");
  cmd->add_flag("-q,--quiet", a.quiet, "no progress bar");
  cmd->add_flag("--layers", a.layers, "also print the per-layer table (start, end, busy time, energy)");
}

cimsim::SimulateOptions to_sim_options(const SimulateArgs& a) {
  cimsim::SimulateOptions o;
  o.program_dir = a.program_dir;
  o.arch_path = a.arch;
  o.input_path = a.input;
  o.output_path = a.output;
  o.report_path = a.report;
  o.trace_dir = a.trace_dir;
  o.trace_format = a.trace_format;
  o.trace_selection = {a.trace_cores, a.trace_units, a.trace_window, a.trace_layers};
  if (a.seed_given) o.seed = a.seed;
  o.max_time_ns = a.max_time_ns;
  o.quiet = a.quiet;
  o.energy_window_ns = a.energy_window_ns;
  o.print_layers = a.layers;
  return o;
}

cimsim::CompileOptions to_compile_options(const CompileArgs& a) {
  cimsim::CompileOptions o;
  o.model_path = a.model;
  o.arch_path = a.arch;
  o.out_dir = a.out;
  o.calibration_path = a.calibration;
  o.weights_path = a.weights;
  o.mode = a.mode;
  o.replication = a.replication;
  if (a.replicas_given) cimsim::set_replicas_option(&o, a.replicas, a.mode_given, a.replication_given);
  o.dump_ir = a.dump_ir;
  return o;
}

using cimsim::cli::PathUse;
using Kind = PathUse::Kind;

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<PathUse> compile_inputs(const CompileArgs& a) {
  return {{"model", a.model, Kind::kInputFile},
          {"--arch", a.arch, Kind::kInputFile},
          {"--calibration", a.calibration, Kind::kInputFile}};
}

void check_compile_paths(const CompileArgs& a) {
  std::vector<PathUse> uses = compile_inputs(a);
  uses.push_back({"-o", a.out, Kind::kReplacedDir, cimsim::cli::program_file_names()});
  cimsim::cli::check_paths(uses);
}

void check_simulate_paths(const SimulateArgs& a) {
  cimsim::cli::check_paths({{"program directory", a.program_dir, Kind::kInputDir, cimsim::cli::program_file_names()},
                            {"--arch", a.arch, Kind::kInputFile},
                            {"--input", a.input, Kind::kInputFile},
                            {"--output", a.output, Kind::kOutputFile},
                            {"--report", a.report, Kind::kOutputFile},
                            {"--trace-dir", a.trace_dir, Kind::kOutputDir, cimsim::cli::trace_file_names()}});
}

void check_run_paths(const CompileArgs& c, const SimulateArgs& s, const std::string& staging) {
  std::vector<PathUse> uses = compile_inputs(c);
  uses.push_back({"--input", s.input, Kind::kInputFile});
  uses.push_back({"-o", c.out, Kind::kReplacedDir,
                  concat(cimsim::cli::program_file_names(), {"output.npy", "report.json"})});
  uses.push_back({"-o (its staging directory)", staging, Kind::kReplacedDir});
  uses.push_back({"--trace-dir", s.trace_dir, Kind::kOutputDir, cimsim::cli::trace_file_names()});
  cimsim::cli::check_paths(uses);
  if (!s.trace_dir.empty() && (cimsim::cli::normal_path(s.trace_dir) == cimsim::cli::normal_path(staging) ||
                               cimsim::cli::is_inside(s.trace_dir, staging)))
    throw cimsim::InputError("--trace-dir " + s.trace_dir + ": inside " + staging +
                             ", the directory `run` stages -o in; pick another trace directory");
}

void print_arch_if(bool wanted, const std::string& path) {
  if (wanted) std::cout << cimsim::describe(cimsim::load_arch_spec(path));
}

int run_simulation(const SimulateArgs& a) {
  check_simulate_paths(a);
  cimsim::SimulateResult r = cimsim::simulate(to_sim_options(a), std::cout, std::cerr);
  return r.finished ? kExitOk : kExitBadInput;
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); !from.empty() && at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

// `run` stages everything (program, output.npy, report.json) in a sibling directory and
// renames it over DIR only when the simulation succeeded, so a bad --input or a deadlock
// leaves no half-made DIR behind (and an existing DIR untouched). Messages name DIR.
// A --trace-dir inside (or equal to) DIR is written inside the staging directory, so that the
// rename takes the traces to where they were asked for.
int run_compile_and_simulate(CompileArgs compile_args, SimulateArgs sim_args) {
  namespace fs = std::filesystem;
  std::string out = compile_args.out;
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  const std::string staging = out + ".cimsim-run";
  check_run_paths(compile_args, sim_args, staging);
  if (!sim_args.trace_dir.empty()) {
    const std::string t = cimsim::cli::normal_path(sim_args.trace_dir), o = cimsim::cli::normal_path(out);
    if (t == o) sim_args.trace_dir = staging;
    else if (cimsim::cli::is_inside(t, o)) sim_args.trace_dir = (fs::path(staging) / fs::path(t).lexically_relative(o)).string();
  }
  std::error_code ec;
  fs::remove_all(staging, ec);
  compile_args.out = staging;
  sim_args.program_dir = staging;
  sim_args.output = staging + "/output.npy";
  sim_args.report = staging + "/report.json";
  int code = kExitInternal;
  try {
    std::ostringstream log;
    cimsim::compile(to_compile_options(compile_args), log);
    std::string text = log.str();
    replace_all(text, staging, out);
    std::cerr << text;
    cimsim::SimulateResult r = cimsim::simulate(to_sim_options(sim_args), std::cout, std::cerr);
    code = r.finished ? kExitOk : kExitBadInput;
  } catch (cimsim::InputError& e) {
    fs::remove_all(staging, ec);
    std::string message = e.what();
    replace_all(message, staging, out);
    throw cimsim::InputError(message);
  } catch (...) {
    fs::remove_all(staging, ec);
    throw;
  }
  if (code != kExitOk) {
    fs::remove_all(staging, ec);
    return code;
  }
  try {
    cimsim::replace_directory(staging, out);
  } catch (const cimsim::InputError&) {
    fs::remove_all(staging, ec);
    throw;
  }
  return kExitOk;
}

}  // namespace

// libsystemc.so's own main() calls sc_main; cimsim has its own main(), so this is never
// called, but the shared library's reference must resolve.
extern "C" int sc_main(int, char**) { return kExitInternal; }

int main(int argc, char** argv) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);

  CLI::App app{"cimsim: compiler and cycle-level simulator for memristor compute-in-memory accelerators"};
  app.set_version_flag("--version", std::string("cimsim ") + CIMSIM_VERSION);
  app.require_subcommand(1);

  CompileArgs compile_args;
  CLI::App* compile = app.add_subcommand("compile", "compile an ONNX model into a program directory");
  add_compile_options(compile, compile_args, true);

  SimulateArgs sim_args;
  CLI::App* simulate = app.add_subcommand("simulate", "simulate a compiled program directory");
  simulate->add_option("program_dir", sim_args.program_dir, "directory written by `cimsim compile`")
      ->required();
  simulate->add_option("--output", sim_args.output, "write the model outputs to this .npy");
  simulate->add_option("--report", sim_args.report, "write report.json here");
  simulate->add_option("--arch", sim_args.arch,
                       "run on this architecture instead of DIR/arch.yaml (must match the compiled one)");
  add_simulate_options(simulate, sim_args);

  CompileArgs run_compile;
  SimulateArgs run_sim;
  CLI::App* run = app.add_subcommand(
      "run", "compile + simulate into one directory (writes DIR/output.npy and DIR/report.json)");
  add_compile_options(run, run_compile, true);
  add_simulate_options(run, run_sim);

  std::string ref_model, ref_input, ref_output, ref_arch, ref_calibration, ref_weights;
  CLI::App* reference = app.add_subcommand(
      "reference", "run the reference interpreter: float, or with --arch the exact integer model");
  reference->add_option("model", ref_model, "ONNX model file")->required();
  reference->add_option("--input", ref_input, "input tensor .npy")->required();
  reference->add_option("--output", ref_output, "output tensor .npy")->required();
  reference->add_option("--arch", ref_arch, "quantize for this architecture (integer model)");
  reference->add_option("--calibration", ref_calibration,
                        ".npy with calibration inputs (use the same as for compile)");
  reference->add_option("--weights", ref_weights, "trained weights (cimsim-weights file)");

  cimsim::ExportTrainingOptions export_opts;
  CLI::App* export_training = app.add_subcommand(
      "export-training", "write a PyTorch module that computes what cimsim computes (hardware-aware training)");
  export_training->add_option("model", export_opts.model_path, "ONNX model file")->required();
  export_training->add_option("--arch", export_opts.arch_path, "architecture YAML")->required();
  export_training->add_option("-o,--output", export_opts.out_path, "Python file to write")->required();
  export_training->add_option("--calibration", export_opts.calibration_path,
                              ".npy with calibration inputs (use the same as for compile)");
  export_training->add_option("--weights", export_opts.weights_path, "start from these trained weights");
  export_training->add_option("--tuned", export_opts.tuned_dir,
                              "a `cimsim calibrate` output directory: use its tuned ADC full scales and offsets");

  cimsim::CalibrateOptions cal;
  CLI::App* calibrate = app.add_subcommand(
      "calibrate", "tune per-layer ADC full scales (and offsets) against the float reference (docs/calibration.md)");
  calibrate->add_option("model", cal.model_path, "ONNX model file")->required();
  calibrate->add_option("--arch", cal.arch_path, "base architecture YAML")->required();
  calibrate->add_option("--inputs", cal.inputs_path, "samples .npy (N, ...) the search runs on")->required();
  calibrate->add_option("--labels", cal.labels_path, "labels .npy (N class indices): report accuracy");
  calibrate->add_option("--calibration", cal.calibration_path,
                        "activation-scale calibration .npy for the quantizer (default: --inputs)");
  calibrate->add_option("--weights", cal.weights_path, "trained weights (cimsim-weights file, e.g. from export-training)");
  calibrate->add_option("--mode", cal.mode, "schedule: latency or throughput")
      ->check(CLI::IsMember({"latency", "throughput"}));
  calibrate->add_option("-o,--output-dir", cal.out_dir, "directory to write (a program directory)")->required();

  std::string arch_path;
  CLI::App* arch = app.add_subcommand("arch", "check an architecture YAML and print its derived figures");
  arch->add_option("arch", arch_path, "architecture YAML")->required();

  CLI::App* imc_validate = app.add_subcommand(
      "imc-validate", "print the SRAM IMC macro model vs the 7 chips ZigZag-IMC validates against");

  cimsim::bfp::ReportOptions bfp_opts;
  CLI::App* bfp_error = app.add_subcommand(
      "bfp-error", "block floating point through the crossbar: error vs float on random "
                   "matrices and, with --model, on a network");
  bfp_error->add_option("--arch", bfp_opts.arch_path, "architecture YAML (crossbar, DAC, ADC)")
      ->required();
  bfp_error->add_option("--mantissa-bits", bfp_opts.mantissa_bits, "mantissa widths, sign included")
      ->delimiter(',');
  bfp_error->add_option("--blocks", bfp_opts.blocks, "block sizes along the dot product")
      ->delimiter(',');
  bfp_error->add_option("--rows", bfp_opts.depth, "random matrix: dot-product length K");
  bfp_error->add_option("--cols", bfp_opts.out_ch, "random matrix: output channels");
  bfp_error->add_option("--vectors", bfp_opts.vectors, "random input vectors");
  bfp_error->add_option("--seed", bfp_opts.seed, "random seed");
  bfp_error->add_option("--model", bfp_opts.model_path, "ONNX model for the network error");
  bfp_error->add_option("--input", bfp_opts.input_npy, "its input .npy");
  cimsim::sweep::SweepArgs sweep_args;
  CLI::App* sweep = app.add_subcommand("sweep", "run a parameter sweep locally (-j N) or as a Slurm job array");
  cimsim::sweep::add_sweep_options(sweep, sweep_args);
  cimsim::synth::SynthesizeOptions synth_args;
  CLI::App* synthesize = app.add_subcommand(
      "synthesize", "search a design space under a peak-power budget; simulate the best designs (docs/synthesis.md)");
  synthesize->add_option("model", synth_args.model_path, "ONNX model file")->required();
  synthesize->add_option("--power-w", synth_args.power_w_text, "peak power budget in W")->required();
  synthesize->add_option("--base", synth_args.base_arch_path, "base architecture YAML (configs/*.yaml)")->required();
  synthesize->add_option("-o,--output-dir", synth_args.out_dir, "directory to write")->required();
  synthesize->add_option("--space", synth_args.space_path, "search space YAML (default: the built-in space)");
  synthesize->add_option("--seed", synth_args.seed, "optimizer seed");
  synthesize->add_option("--population", synth_args.population, "mu: designs kept per generation");
  synthesize->add_option("--children", synth_args.children, "lambda: children evaluated per generation");
  synthesize->add_option("--generations", synth_args.generations, "generations");
  synthesize->add_option("--top", synth_args.top, "designs to compile and simulate");
  synthesize->add_option("--rank", synth_args.rank, "rank the simulated designs by simulated or estimated figures")
      ->check(CLI::IsMember({"simulated", "estimated"}));
  synthesize->add_option("--input", synth_args.input_path, "validation input .npy (default: seeded random)");
  synthesize->add_option("--calibration", synth_args.calibration_path, ".npy with calibration inputs");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }

  try {
    if (*compile) {
      print_arch_if(compile_args.print_arch, compile_args.arch);
      check_compile_paths(compile_args);
      cimsim::compile(to_compile_options(compile_args), std::cerr);
      return kExitOk;
    }
    if (*simulate) return run_simulation(sim_args);
    if (*run) {
      print_arch_if(run_compile.print_arch, run_compile.arch);
      return run_compile_and_simulate(run_compile, run_sim);
    }
    if (*reference) {
      cimsim::run_reference(ref_model, ref_input, ref_output, ref_arch, ref_calibration, ref_weights);
      return kExitOk;
    }
    if (*export_training) {
      cimsim::export_training(export_opts, std::cerr);
      return kExitOk;
    }
    if (*bfp_error) {
      std::cout << cimsim::bfp::error_report(bfp_opts);
      return kExitOk;
    }
    if (*imc_validate) {
      std::cout << cimsim::sram_imc::validation_table_markdown();
      return kExitOk;
    }
    if (*sweep) return cimsim::sweep::run_sweep_command(sweep_args, std::cout, std::cerr);
    if (*synthesize) {
      // -o is replaced as a whole: no input may live in it (nor in its staging directory).
      std::string out = synth_args.out_dir;
      while (out.size() > 1 && out.back() == '/') out.pop_back();
      std::vector<PathUse> uses = {{"model", synth_args.model_path, Kind::kInputFile},
                                   {"--base", synth_args.base_arch_path, Kind::kInputFile},
                                   {"--space", synth_args.space_path, Kind::kInputFile},
                                   {"--input", synth_args.input_path, Kind::kInputFile},
                                   {"--calibration", synth_args.calibration_path, Kind::kInputFile}};
      uses.push_back({"-o", out, Kind::kReplacedDir,
                      {"arch.yaml", "program", "input.npy", "pareto.csv", "pareto.json", "estimator_error.md"}});
      uses.push_back({"-o (its staging directory)", out + ".cimsim-synth", Kind::kReplacedDir});
      cimsim::cli::check_paths(uses);
      cimsim::synth::synthesize(synth_args, std::cerr);
      return kExitOk;
    }
    if (*calibrate) {
      std::string staging = cal.out_dir;
      while (staging.size() > 1 && staging.back() == '/') staging.pop_back();
      cimsim::cli::check_paths({{"model", cal.model_path, Kind::kInputFile},
                                {"--arch", cal.arch_path, Kind::kInputFile},
                                {"--inputs", cal.inputs_path, Kind::kInputFile},
                                {"--labels", cal.labels_path, Kind::kInputFile},
                                {"--calibration", cal.calibration_path, Kind::kInputFile},
                                {"--weights", cal.weights_path, Kind::kInputFile},
                                {"-o", cal.out_dir, Kind::kReplacedDir,
                                 concat(cimsim::cli::program_file_names(), cimsim::calibration_file_names())},
                                {"-o (its staging directory)", staging + ".cimsim-calibrate", Kind::kReplacedDir}});
      cimsim::calibrate(cal, std::cerr);
      return kExitOk;
    }
    if (*arch) {
      std::cout << cimsim::describe(cimsim::load_arch_spec(arch_path));
      return kExitOk;
    }
  } catch (const cimsim::InputError& e) {
    std::cerr << e.what() << "\n";
    return kExitBadInput;
  } catch (const std::bad_alloc&) {
    std::cerr << "cimsim: out of memory\n";
    return kExitInternal;
  } catch (const std::exception& e) {
    std::cerr << "cimsim: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
  return kExitUsage;
}
