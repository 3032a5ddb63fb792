// A sweep specification (SPEC.yaml, docs/sweep.md) and its expansion into points.
//
// Contract:
//  - load_sweep_spec(path, output_override) reads and validates every key of the spec:
//    unknown keys (with a did-you-mean), wrong types and bad values throw InputError
//    "SPEC:LINE:COL: what was expected" (yaml-cpp marks, 1-based). Relative paths in the spec
//    are relative to the spec file's directory; output_override (the CLI's -o), when not
//    empty, replaces the spec's `output` and is relative to the working directory.
//  - expand_sweep(spec) gives every point, in a fixed order: the cartesian product of the
//    dimensions (each `axes` entry is one dimension, each `zip` group one dimension whose
//    lists advance together), in file order, the last dimension varying fastest. Each point's
//    architecture is the base arch with the point's arch overrides applied by
//    apply_arch_overrides (arch_edit.h): an invalid combination throws InputError naming the
//    point, its values and the override's origin, before anything runs.
//  - SweepPoint::key is a hex digest of everything that determines the point's results
//    (the derived arch file, model bytes, input bytes or generator, calibration bytes, mode,
//    seed): a stored result whose key differs is stale.
//  - Nothing here writes files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "platform/spec/arch.h"
#include "platform/spec/arch_edit.h"
#include "platform/spec/npy.h"

namespace cimsim::sweep {

// One swept quantity: an arch override path ("crossbar.rows", "costs.adc.energy_pj") or a
// knob of the point runner ("mode", "model", "seed").
struct SweepAxis {
  std::string name;
  std::vector<std::string> values;   // YAML scalar text as written
  std::vector<std::string> origins;  // "SPEC:LINE:COL" of each value
};

struct SweepSpec {
  std::string spec_path;    // as given
  std::string arch_path;    // resolved
  ArchSpec base_arch;
  std::string model_path;   // resolved; empty when `model` is an axis
  std::string input_path;   // resolved; empty when the input is generated
  std::vector<int64_t> input_shape;  // generated input: shape (N, C, H, W ...)
  uint64_t input_seed = 1;
  std::string calibration_path;  // resolved; empty: none
  std::string mode = "latency";
  std::optional<uint64_t> seed;  // empty: the arch's nonideality.seed
  std::string output_dir;        // resolved
  bool keep_programs = true;     // false: a point's program/ is removed once it has been simulated
  std::vector<SweepAxis> axes;   // every axis, dimension by dimension
  // Dimensions of the product: each is a list of indexes into `axes` of equal length.
  std::vector<std::vector<size_t>> dims;
};

struct SweepPoint {
  size_t index = 0;
  std::vector<std::pair<std::string, std::string>> values;  // axis name -> value, axes order
  std::string model_path;  // resolved
  std::string model_label; // as written in the spec (for tables)
  std::string mode;
  std::optional<uint64_t> seed;
  std::vector<ArchOverride> overrides;
  ArchSpec arch;
  std::string arch_yaml;   // arch_to_yaml(arch, header)
  std::string key;
};

// "a = 1, b = 32" (axes order), or "no axes": how messages and tables name a point.
std::string point_values_text(const SweepPoint& p);

// The knobs that are not arch overrides.
const std::vector<std::string>& sweep_knob_names();

SweepSpec load_sweep_spec(const std::string& path, const std::string& output_override = "");
std::vector<SweepPoint> expand_sweep(const SweepSpec& spec);
size_t sweep_size(const SweepSpec& spec);
// Point `index` alone, exactly as expand_sweep(spec)[index] (what a point process needs);
// InputError when index is out of range.
SweepPoint expand_point(const SweepSpec& spec, size_t index);

// The input batch of every point: read from input_path, or generated (uniform in [-1, 1),
// splitmix64 from input_seed: the same bytes on every machine).
NpyArray sweep_input(const SweepSpec& spec);
// Where the points read their input: spec.input_path, or OUT/input.npy for a generated one.
std::string sweep_input_path(const SweepSpec& spec);

}  // namespace cimsim::sweep
