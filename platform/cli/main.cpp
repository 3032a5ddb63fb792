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

#include "compiler/backend/driver.h"
#include "compiler/export/torch_export.h"
#include "compiler/reference/reference.h"
#include "platform/spec/arch.h"
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
  bool dump_ir = false, print_arch = false;
};

struct SimulateArgs {
  std::string program_dir, arch, input, output, report, trace_dir;
  uint64_t seed = 0;
  bool seed_given = false;
  double max_time_ns = 0, energy_window_ns = 0;
  bool quiet = false;
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
      ->check(CLI::IsMember({"latency", "throughput"}));
  cmd->add_flag("--dump-ir", a.dump_ir, "print the simplified graph IR");
  cmd->add_flag("--print-arch", a.print_arch, "print the architecture and its derived figures");
}

void add_simulate_options(CLI::App* cmd, SimulateArgs& a) {
  cmd->add_option("--input", a.input, "input tensor .npy (float32, N,C,H,W)")->required();
  cmd->add_option("--trace-dir", a.trace_dir,
                  "write timeline.json, energy.csv and waves.vcd into this directory");
  cmd->add_option("--seed", a.seed, "seed for device non-idealities (default: the arch's)")
      ->each([&a](const std::string&) { a.seed_given = true; });
  cmd->add_option("--max-time", a.max_time_ns,
                  "stop simulated time at this many ns (the run then reports itself incomplete)");
  cmd->add_option("--energy-window", a.energy_window_ns, "energy.csv window in ns (default: auto)");
  cmd->add_flag("-q,--quiet", a.quiet, "no progress bar");
}

cimsim::SimulateOptions to_sim_options(const SimulateArgs& a) {
  cimsim::SimulateOptions o;
  o.program_dir = a.program_dir;
  o.arch_path = a.arch;
  o.input_path = a.input;
  o.output_path = a.output;
  o.report_path = a.report;
  o.trace_dir = a.trace_dir;
  if (a.seed_given) o.seed = a.seed;
  o.max_time_ns = a.max_time_ns;
  o.quiet = a.quiet;
  o.energy_window_ns = a.energy_window_ns;
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
  o.dump_ir = a.dump_ir;
  return o;
}

void print_arch_if(bool wanted, const std::string& path) {
  if (wanted) std::cout << cimsim::describe(cimsim::load_arch_spec(path));
}

int run_simulation(const SimulateArgs& a) {
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
int run_compile_and_simulate(CompileArgs compile_args, SimulateArgs sim_args) {
  namespace fs = std::filesystem;
  const std::string out = compile_args.out;
  const std::string staging = out + ".cimsim-run";
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
    code = run_simulation(sim_args);
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
  fs::remove_all(out, ec);
  fs::rename(staging, out, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove_all(staging, ec);
    throw cimsim::InputError(out + ": cannot create the output directory (" + why + ")");
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

  std::string arch_path;
  CLI::App* arch = app.add_subcommand("arch", "check an architecture YAML and print its derived figures");
  arch->add_option("arch", arch_path, "architecture YAML")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }

  try {
    if (*compile) {
      print_arch_if(compile_args.print_arch, compile_args.arch);
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
