// `cimsim compile`: ONNX model + arch spec -> program directory (DESIGN.md "Program directory").
//
// Contract
//  - compile() loads the arch and the model, simplifies the graph, replaces its trainable
//    constants by those of `weights_path` when given (frontend/trained_weights.h), dumps it to
//    `log` when dump_ir, reads the calibration .npy (one tensor with a leading batch
//    dimension, for a single-input model; none: the quantizer's documented default),
//    quantizes with the arch's
//    `quantization` section, maps/places/emits (backend.h) and writes
//      cim-ir.yaml, schedule.yaml, cores/core_NNN.s, program.bin, weights.bin, arch.yaml
//      (byte copy of the arch file), compile.json.
//  - Files are written into a temporary sibling directory that is renamed to out_dir at the
//    very end: on any error nothing is left behind and an existing out_dir is untouched; it is
//    replaced only on success.
//  - Reproducible: the same model, arch file contents and options give byte-identical files
//    wherever and whenever they are compiled (no times, no paths in any file); the compile's
//    wall time is printed on `log` only.
//  - Bad input throws cimsim::InputError (the CLI prints it and exits 1).
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>

namespace cimsim {

struct Program;  // platform/spec/isa.h

struct CompileOptions {
  std::string model_path, arch_path, out_dir, calibration_path;
  std::string weights_path;  // trained weights (cimsim-weights file); empty: the model's own
  std::string mode = "latency";
  double replication = 1.0;  // throughput mode: BackendOptions::replication
  std::map<std::string, int64_t> replicas;  // throughput mode: BackendOptions::replicas
  bool dump_ir = false;
  // Tuned per-tile ADC settings (`cimsim calibrate`): when set, every tile's adc_full_scale
  // and adc_offset_lsb are taken from this program before any file is written, so that
  // program.bin, cores/*.s and cim-ir.yaml all show them. It must be a program this compile
  // produces (same cores and tiles, same placement and weights), else std::logic_error.
  const Program* tuned_adc = nullptr;
};

// `--replicas conv1=2,layer1.0.conv1=4` (docs/cli.md): sets o->replicas and, as explicit
// counts are a throughput-mode mapping, o->mode = "throughput". Throws InputError naming the
// item for a missing '=', an empty name, a count that is not an integer >= 1, a layer named
// twice; and when `mode_given` was latency or `replication_given` (the share would be unused).
void set_replicas_option(CompileOptions* o, const std::string& text, bool mode_given, bool replication_given);
// The --replicas text of a map (the inverse of the parsing above), e.g. "conv1=2,fc=1".
std::string replicas_option_text(const std::map<std::string, int64_t>& replicas);

void compile(const CompileOptions& opt, std::ostream& log);

}  // namespace cimsim
