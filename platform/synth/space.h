// The design space `cimsim synthesize` searches: a list of knobs, each an architecture
// override path (arch_edit.h) with its ordered choices (docs/synthesis.md, "Search space").
//
// Contract:
//  - default_space() is the built-in space; load_space(path) reads `PATH: [v1, v2, ...]`
//    lines from a YAML mapping. A key that is neither an override path nor a compile knob
//    (compile_knob_paths()) throws InputError
//    "FILE:LINE:COL: unknown search key 'K' (did you mean 'K2'?)"; an empty or non-scalar
//    list, a duplicate choice, or a choice the loader rejects on the base (checked with
//    apply_arch_overrides, origin FILE:LINE:COL of the value) throws InputError too; so does
//    an adc.bits knob of several choices on a base whose costs.adc does not follow adc.bits
//    or whose ADC is lossless.
//  - chip.cores is special: unless the space also lists chip.mesh_rows or chip.mesh_cols,
//    a candidate's mesh is the smallest, then squarest, rows x cols >= cores
//    (mesh_for_cores()), so one knob sizes the chip.
//  - to_overrides(space, genome) gives the overrides of one point (genome[i] indexes the
//    choices of knob i), in knob order.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "platform/spec/arch.h"
#include "platform/spec/arch_edit.h"
#include "platform/synth/estimator.h"

namespace cimsim::synth {

struct Knob {
  std::string path;                  // "crossbar.rows"
  std::vector<std::string> choices;  // YAML scalars, in the order the file lists them
  std::string origin;                // "FILE:LINE:COL" of the key, or "default space"
  std::vector<std::string> choice_origins;  // per choice, when read from a file
};

struct SearchSpace {
  std::vector<Knob> knobs;
  double points() const;  // product of the choice counts
};

SearchSpace default_space();
// default_space() without the adc.bits knob when the base's costs.adc does not follow
// adc.bits (no adc.cost_scaling), and without dac.bits when costs.dac does not follow
// dac.bits (no dac.cost_scaling): searching it would make every resolution cost the same;
// nor adc.bits when the base's ADC is lossless (it never clips, so the estimator's clipping
// constraint, which is what makes fewer bits a trade, does not hold); nor core.buffer_bytes
// when costs.buffer does not follow it (no core.buffer_cost_scaling).
SearchSpace default_space(const ArchSpec& base);
// True when loading `base` at <converter>.bits +- 1 changes costs.<converter>
// (<converter>.cost_scaling, or an SRAM macro's model); converter "adc" or "dac".
bool cost_follows_bits(const ArchSpec& base, const std::string& converter);
// True when the base prices core.buffer_bytes: costs.buffer differs at half or twice its
// capacity (core.buffer_cost_scaling). default_space(base) drops the core.buffer_bytes knob
// otherwise.
bool cost_follows_buffer_bytes(const ArchSpec& base);
// `net`: the model, needed only for compile.replicas.* keys (their layers are checked
// against its matrix layers); without it such a key is an InputError.
SearchSpace load_space(const std::string& path, const ArchSpec& base, const NetShape* net = nullptr);
// Checks every choice of every knob alone against `base` (InputError naming its origin).
void check_space(const SearchSpace& space, const ArchSpec& base);

std::pair<int, int> mesh_for_cores(int cores);
// Architecture overrides of a point (compile knobs left out).
std::vector<ArchOverride> to_overrides(const SearchSpace& space, const std::vector<int>& genome);

// Knobs that are not architecture keys but compile options (docs/synthesis.md):
//   compile.replication: a share in [0, 1]; 0 compiles in latency mode (no replicas), s > 0
//   in throughput mode with BackendOptions::replication = s (the compiler's own rule picks
//   the replicas of each layer within that share of the free cores and crossbars).
//   compile.replicas.LAYER: replica counts (integers >= 1, at most the layer's output rows)
//   of one matrix layer; compile.replicas.*: one such knob per matrix layer not listed by
//   name, each with the choices that do not exceed its rows (none left: no knob, 1 replica).
//   Any of them compiles in throughput mode with BackendOptions::replicas (layers without a
//   knob: 1); listing them together with compile.replication is an InputError.
const std::vector<std::string>& compile_knob_paths();
bool is_replicas_knob(const std::string& path);  // "compile.replicas.LAYER"
struct CompileChoice {
  std::string mode = "latency";
  double replication = 1.0;
  std::map<std::string, int64_t> replicas;  // from compile.replicas.* knobs
};
CompileChoice compile_choice_of(const SearchSpace& space, const std::vector<int>& genome);

}  // namespace cimsim::synth
