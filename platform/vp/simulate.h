// cimsim simulate: load a program directory, run it on the SystemC chip, write the results.
//
// Contract (docs/cli.md, docs/report.md, docs/traces.md):
//  - Arch: DIR/arch.yaml, or opt.arch_path; either way its arch_fingerprint must equal the
//    program's, otherwise InputError listing arch_differences(DIR/arch.yaml, override).
//  - Input: a float .npy of shape [N, ...inputs[0].shape]; values are quantized with
//    qmath::quantize_value and stored as codes in global memory (HWC for 3-D shapes, image n
//    at global_addr + n * bytes_per_image). The batch register r15 is N.
//  - Outcomes: finished -> outputs dequantized to NCHW (host softmax where flagged) and
//    written atomically to output_path (further outputs to STEM_<k>.npy), report.json to
//    report_path, traces to trace_dir, summary table on `out`; result.finished = true.
//    Stopped by max_time_ns with work pending -> "stopped at --max-time T ns; results
//    incomplete" on `err`, no output or report file (traces are written: they show where the
//    time went), result.finished = false and result.report marked "incomplete": true.
//    Deadlock -> DeadlockError listing every blocked core. A program fault at run time
//    (chip.error()) -> ProgramFault; an error the models mark "internal" -> std::runtime_error.
//  - Traces: --trace-format and the --trace-* selection are checked against the arch and the
//    program (InputError, exit 1) before anything is simulated; they need trace_dir.
//  - Bad input of any kind throws InputError (or a subclass) whose message starts with the
//    offending file; nothing half-written is left behind.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "platform/spec/arch.h"
#include "platform/spec/isa.h"
#include "platform/spec/npy.h"
#include "traces/trace_selection.h"

namespace cimsim {

struct SimulateOptions {
  std::string program_dir;
  std::string arch_path;    // empty: DIR/arch.yaml
  std::string input_path;
  std::string output_path;  // empty: outputs are only returned
  std::string report_path;  // empty: report is only returned
  std::string trace_dir;    // empty: no observer attached, no traces
  std::string trace_format;  // "perfetto" (default when empty) or "json"
  TraceSelectionText trace_selection;  // what the traces record; empty: everything
  std::optional<uint64_t> seed;  // empty: arch nonideality.seed
  double max_time_ns = 0;        // 0: run until every core halts
  bool quiet = false;            // no progress bar
  double energy_window_ns = 0;   // energy.csv window; 0: about 200 windows
  bool print_layers = false;     // the summary also gets the per-layer table (--layers)
};

struct SimulateResult {
  nlohmann::json report;
  bool finished = false;
  std::vector<NpyArray> outputs;  // one per Program::outputs, [N, ...shape] in NCHW order
};

// The cores did not all halt and nothing was left to simulate.
class DeadlockError : public InputError {
 public:
  using InputError::InputError;
};

// The program did something the hardware rejects (out-of-range access, bad message length).
class ProgramFault : public InputError {
 public:
  using InputError::InputError;
};

SimulateResult simulate(const SimulateOptions& opt, std::ostream& out, std::ostream& err);

// The same chip run without files, observer or progress bar, for tools that evaluate many
// variants of one program (cimsim calibrate). `arch` must have the program's fingerprint
// (else InputError); `input` is checked and quantized as simulate() does (messages name
// `input_name`); `seed` seeds the non-idealities. Outputs and errors are simulate()'s: same
// program, arch, input and seed give the same outputs, bit for bit.
struct InMemoryRun {
  std::vector<NpyArray> outputs;  // one per Program::outputs, [N, ...shape] in NCHW order
  uint64_t adc_conversions = 0, adc_saturations = 0;
};
InMemoryRun simulate_in_memory(const Program& program, const ArchSpec& arch, const NpyArray& input,
                               const std::string& input_name, uint64_t seed);

}  // namespace cimsim
