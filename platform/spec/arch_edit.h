// Programmatic edits of an architecture: write a spec back as YAML, apply "section.key = value"
// overrides. Used by every command that derives architectures from a base file (sweep,
// synthesize, calibrate), so that a derived architecture is validated exactly like a file.
//
// Contract:
//  - arch_to_yaml(spec) is a complete architecture file (every registry key, every cost
//    component with its source; a component the loader derived, e.g. costs.adc under
//    adc.cost_scaling, costs.dac under dac.cost_scaling or costs.buffer under
//    core.buffer_cost_scaling, as it was given):
//    parse_arch_spec(arch_to_yaml(s)) gives a spec with the same values as s (hence the
//    same arch_fingerprint). `header` lines become leading comments.
//  - An override path is a registry key "section.key" or a cost field
//    "costs.COMPONENT.FIELD" (FIELD one of energy_pj, leakage_mw, area_um2, source);
//    arch_override_paths() lists them all. The value is YAML scalar text ("128", "true",
//    "differential").
//  - apply_arch_overrides(base, overrides, name) applies them all, then validates the result
//    with the loader (types, ranges, cross-field checks). An unknown path or an invalid value
//    throws InputError "ORIGIN: PATH = VALUE: what was expected" naming the override's origin
//    (e.g. "sweep.yaml:12:7"); a combination that only fails the cross-field checks throws
//    InputError "NAME: the overrides A = x, B = y give an invalid architecture: ...".
#pragma once

#include <string>
#include <vector>

#include "platform/spec/arch.h"

namespace cimsim {

struct ArchOverride {
  std::string path;        // "crossbar.rows", "costs.adc.energy_pj"
  std::string value_yaml;  // YAML scalar text
  std::string origin;      // where the override was written, for messages ("FILE:LINE:COL")
};

std::string arch_to_yaml(const ArchSpec& spec, const std::string& header = "");

const std::vector<std::string>& arch_override_paths();

ArchSpec apply_arch_overrides(const ArchSpec& base, const std::vector<ArchOverride>& overrides,
                              const std::string& name);

}  // namespace cimsim
