#include "platform/vp/simulate.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "models/sc/chip.h"
#include "platform/spec/program_io.h"
#include "platform/vp/progress.h"
#include "platform/vp/tensor_io.h"
#include "traces/file_write.h"
#include "traces/report.h"
#include "traces/trace_observer.h"

namespace cimsim {
namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string join_path(const std::string& dir, const std::string& name) {
  return (std::filesystem::path(dir) / name).string();
}

// The arch the program runs on: DIR/arch.yaml, or an override describing the same machine.
ArchSpec load_arch(const SimulateOptions& opt, const Program& program) {
  const std::string own_path = join_path(opt.program_dir, "arch.yaml");
  if (opt.arch_path.empty()) {
    ArchSpec arch = load_arch_spec(own_path);
    if (arch_fingerprint(arch) != program.arch_fingerprint)
      throw InputError(fmt::format("{}: does not match the arch program.bin was compiled for "
                                   "(fingerprint {:016x}, program has {:016x}): recompile",
                                   own_path, arch_fingerprint(arch), program.arch_fingerprint));
    return arch;
  }
  ArchSpec arch = load_arch_spec(opt.arch_path);
  if (arch_fingerprint(arch) == program.arch_fingerprint) return arch;
  std::string message = fmt::format("{}: describes another machine than the one {} was compiled for",
                                    opt.arch_path, opt.program_dir);
  if (std::filesystem::exists(own_path)) {
    std::vector<std::string> diffs = arch_differences(load_arch_spec(own_path), arch);
    if (!diffs.empty()) {
      message += " (program's arch.yaml vs --arch):";
      for (const auto& d : diffs) message += "\n  " + d;
    }
  }
  message += "\nrecompile for this arch, or simulate with the program's own arch.yaml";
  throw InputError(message);
}

void check_tensor_io(const TensorIO& io, const std::string& where) {
  if (io.bits < 1 || io.bits > 8)
    throw InputError(fmt::format("{}: tensor '{}' has {}-bit codes; the simulator stores one byte per code "
                                 "(1..8 bits)", where, io.name, io.bits));
  if (io.bytes_per_image < elements_per_image(io))
    throw InputError(fmt::format("{}: tensor '{}' has {} elements per image but bytes_per_image {}",
                                 where, io.name, elements_per_image(io), io.bytes_per_image));
}

// Checks the input is [N, ...inputs[0].shape] and stores it; returns N. `name` (the .npy
// file) prefixes messages.
int load_inputs(const NpyArray& x, const std::string& name, const Program& program, GlobalMemory& memory) {
  const TensorIO& io = program.inputs[0];
  std::vector<int64_t> expected = io.shape;
  expected.insert(expected.begin(), -1);
  bool ok = x.shape.size() == expected.size() && !x.shape.empty() && x.shape[0] >= 1;
  for (size_t i = 1; ok && i < expected.size(); ++i) ok = x.shape[i] == expected[i];
  if (!ok) {
    std::string want = "[N";
    for (int64_t d : io.shape) want += ", " + std::to_string(d);
    want += "]";
    throw InputError(fmt::format("{}: input '{}' should have shape {} (N >= 1 images), got {}",
                                 name, io.name, want, shape_text(x.shape)));
  }
  if (x.shape[0] > (int64_t{1} << 30))
    throw InputError(fmt::format("{}: batch of {} images is too large", name, x.shape[0]));
  const int batch = static_cast<int>(x.shape[0]);
  const int64_t per_image = elements_per_image(io);
  const int64_t last_end = io.global_addr + static_cast<int64_t>(batch) * io.bytes_per_image;
  if (io.global_addr < 0 || last_end > memory.capacity())
    throw InputError(fmt::format("{}: {} images of {} bytes at global address {} exceed global memory "
                                 "({} bytes)", name, batch, io.bytes_per_image,
                                 io.global_addr, memory.capacity()));
  for (int n = 0; n < batch; ++n) {
    std::vector<uint8_t> codes = quantize_image(io, x.data.data() + n * per_image);
    memory.write(static_cast<uint64_t>(io.global_addr + n * io.bytes_per_image), codes.data(), codes.size());
  }
  return batch;
}

std::vector<NpyArray> read_outputs(const Program& program, GlobalMemory& memory, int batch) {
  std::vector<NpyArray> outputs;
  for (const TensorIO& io : program.outputs) {
    NpyArray a;
    a.shape = io.shape;
    a.shape.insert(a.shape.begin(), batch);
    const int64_t per_image = elements_per_image(io);
    a.data.reserve(static_cast<size_t>(per_image * batch));
    std::vector<uint8_t> codes(static_cast<size_t>(per_image));
    for (int n = 0; n < batch; ++n) {
      memory.read(static_cast<uint64_t>(io.global_addr + n * io.bytes_per_image), codes.data(), codes.size());
      std::vector<float> values = dequantize_image(io, codes.data());
      a.data.insert(a.data.end(), values.begin(), values.end());
    }
    outputs.push_back(std::move(a));
  }
  return outputs;
}

// OUT.npy for the first output, OUT_<k>.npy for output k >= 1.
std::string output_path_for(const std::string& path, size_t k) {
  if (k == 0) return path;
  std::filesystem::path p(path);
  return (p.parent_path() / (p.stem().string() + "_" + std::to_string(k) + p.extension().string())).string();
}

RunStats to_run_stats(const ChipStats& s, int batch) {
  RunStats r;
  r.end_ps = s.end_ps;
  r.batch = batch;
  r.instructions_executed = s.instructions_executed;
  r.core_instructions = s.core_instructions;
  r.core_busy_ps = s.core_busy_ps;
  r.core_finish_ps = s.core_finish_ps;
  r.crossbar_busy_ps = s.crossbar_busy_ps;
  r.energy = s.energy;
  r.layer_times = s.layer_times;
  r.mvms = s.mvms;
  r.adc_conversions = s.adc_conversions;
  r.adc_saturations = s.adc_saturations;
  r.flit_hops = s.flit_hops;
  r.memory_bytes = s.memory_bytes;
  r.macs = s.macs;
  r.credit_wait_ps = s.credit_stall_ps;
  r.memory_queue_wait_ps = s.memory_queue_stall_ps;
  r.rx_peak_channel_bytes = s.rx_peak_channel_bytes;
  r.rtl_cycles = s.rtl_cycles;
  return r;
}

std::string deadlock_message(const std::string& dir, const std::vector<BlockedCore>& blocked) {
  std::string m = fmt::format("{}: deadlock: {} core(s) can never finish", dir, blocked.size());
  for (const auto& b : blocked)
    m += fmt::format("\n  core {} at pc {} '{}': {}", b.core, b.pc, b.instruction, b.waiting_for);
  return m;
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

void check_program_io(const Program& program, const std::string& program_file) {
  if (program.inputs.size() != 1)
    throw InputError(fmt::format("{}: the program has {} inputs; simulate feeds exactly one", program_file,
                                 program.inputs.size()));
  for (const auto& io : program.inputs) check_tensor_io(io, program_file);
  for (const auto& io : program.outputs) check_tensor_io(io, program_file);
}

// Run-time errors of a finished sc_start, as simulate() reports them.
void throw_run_errors(const Chip& chip, const std::string& where) {
  if (chip.error().empty()) return;
  if (starts_with(chip.error(), "internal")) throw std::runtime_error(chip.error());
  throw ProgramFault(fmt::format("{}: program fault: {}", where, chip.error()));
}

}  // namespace

InMemoryRun simulate_in_memory(const Program& program, const ArchSpec& arch, const NpyArray& input,
                               const std::string& input_name, uint64_t seed) {
  if (arch_fingerprint(arch) != program.arch_fingerprint)
    throw InputError(fmt::format("{}: program compiled for another arch (fingerprint {:016x}, arch has {:016x})",
                                 program.model_name, program.arch_fingerprint, arch_fingerprint(arch)));
  check_program_io(program, program.model_name);
  reset_systemc_context();
  auto chip = std::make_unique<Chip>("chip", arch, program, seed, nullptr);
  const int batch = load_inputs(input, input_name, program, chip->memory());
  chip->set_batch(batch);
  sc_core::sc_start();
  throw_run_errors(*chip, program.model_name);
  if (!chip->finished()) throw DeadlockError(deadlock_message(program.model_name, chip->blocked()));
  InMemoryRun r;
  r.outputs = read_outputs(program, chip->memory(), batch);
  const ChipStats stats = chip->stats();
  r.adc_conversions = stats.adc_conversions;
  r.adc_saturations = stats.adc_saturations;
  return r;
}

SimulateResult simulate(const SimulateOptions& opt, std::ostream& out, std::ostream& err) {
  const auto wall_start = std::chrono::steady_clock::now();
  Program program = read_program_dir(opt.program_dir);
  const std::string program_file = join_path(opt.program_dir, "program.bin");
  if (program.version != kProgramVersion)
    throw InputError(fmt::format("{}: program version {}, this simulator runs version {}",
                                 program_file, program.version, kProgramVersion));
  ArchSpec arch = load_arch(opt, program);
  check_program_io(program, program_file);
  if (opt.max_time_ns < 0)
    throw InputError(fmt::format("--max-time: expected a time >= 0 ns, got {}", opt.max_time_ns));

  if (opt.trace_dir.empty() && (!opt.trace_format.empty() || opt.trace_selection.any()))
    throw InputError("--trace-format, --trace-cores, --trace-units, --trace-window and --trace-layer "
                     "need --trace-dir");
  std::unique_ptr<TraceObserver> tracer;
  if (!opt.trace_dir.empty()) {
    TraceOptions topt;
    topt.layer_names = program.layers;
    topt.num_cores = arch.chip.cores;
    topt.num_nodes = arch.chip.mesh_rows * arch.chip.mesh_cols;
    topt.energy_window_ns = opt.energy_window_ns;
    topt.format = parse_trace_format(opt.trace_format.empty() ? "perfetto" : opt.trace_format);
    topt.selection = parse_trace_selection(opt.trace_selection, arch.chip.cores, program.layers);
    tracer = std::make_unique<TraceObserver>(opt.trace_dir, std::move(topt));
  }

  // Each simulate() gets a fresh SystemC kernel, so one process can run several.
  reset_systemc_context();
  const uint64_t seed = opt.seed ? *opt.seed : arch.nonideality.seed;
  auto chip = std::make_unique<Chip>("chip", arch, program, seed, tracer.get());
  const int batch = load_inputs(read_npy(opt.input_path), opt.input_path, program, chip->memory());
  chip->set_batch(batch);

  {
    ProgressBar progress(chip->progress_instructions(), err,
                         !opt.quiet && &err == &std::cerr && isatty(STDERR_FILENO) != 0);
    if (opt.max_time_ns > 0)
      sc_core::sc_start(sc_core::sc_time(opt.max_time_ns, sc_core::SC_NS));
    else
      sc_core::sc_start();
  }

  throw_run_errors(*chip, opt.program_dir);
  const bool stopped_by_limit = !chip->finished() && opt.max_time_ns > 0 && sc_core::sc_pending_activity();
  if (!chip->finished() && !stopped_by_limit) throw DeadlockError(deadlock_message(opt.program_dir, chip->blocked()));

  SimulateResult result;
  result.finished = !stopped_by_limit;
  ChipStats stats = chip->stats();
  if (stopped_by_limit) stats.end_ps = static_cast<uint64_t>(opt.max_time_ns * 1000.0);
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  result.report = build_report(to_run_stats(stats, batch), arch, derive(arch), program, wall_s);

  if (tracer) tracer->write(tracer->finished() ? tracer->end_ps() : stats.end_ps);
  if (stopped_by_limit) {
    result.report["incomplete"] = true;
    err << fmt::format("stopped at --max-time {} ns; results incomplete (no output or report written)\n",
                       opt.max_time_ns);
    return result;
  }

  result.outputs = read_outputs(program, chip->memory(), batch);
  if (!opt.output_path.empty())
    for (size_t k = 0; k < result.outputs.size(); ++k) {
      std::vector<uint8_t> bytes = encode_npy(result.outputs[k]);
      write_file_atomically(output_path_for(opt.output_path, k), std::string(bytes.begin(), bytes.end()));
    }
  if (!opt.report_path.empty()) write_file_atomically(opt.report_path, result.report.dump(2) + "\n");
  print_summary(result.report, out);
  if (opt.print_layers) print_layer_table(result.report, out);
  return result;
}

}  // namespace cimsim
