// Buffer cost versus capacity: the one rule that turns costs.buffer (per
// core.buffer_bytes_per_cycle access), given for a buffer of core.buffer_cost_reference_bytes,
// into the figure of a buffer of core.buffer_bytes (docs/config.md, "Buffer capacity scaling").
//
// Contract:
//  - puma_edram_capacity_rule(): PUMA's eDRAM at two capacities (constants.py edram_*, as
//    listed in /work/shared/reference/component-costs.md: 64 KB 17.2 pJ per 256 b, 0.086 mm2;
//    128 KB 25.35 pJ, 0.121 mm2). A two-point fit: energy per access ~ bytes^energy_exponent,
//    area ~ bytes^area_exponent, both exponents computed from the four figures
//    (log(E1/E0) / log(C1/C0)). Leakage follows area (more cells leak more; PUMA gives one
//    leakage figure only). Accepted capacities are min_bytes..max_bytes (4 KB..1 MB): well
//    beyond the two fitted points, so anything but 64..128 KB is an extrapolation.
//  - buffer_cost_ratio(rule, reference_bytes, bytes): energy (bytes / reference)^a, area and
//    leakage (bytes / reference)^b, exactly 1 when the two are equal. Throws InputError (no
//    location: the loader adds it; the message starts with "core.buffer_cost_reference_bytes"
//    or "core.buffer_bytes") when either is outside min_bytes..max_bytes.
//  - apply_buffer_cost_scaling(spec): under core.buffer_cost_scaling puma_edram, keeps the
//    loaded costs.buffer in spec.costs.given and scales spec.costs.components["buffer"]
//    (scale_component_cost(), shared with the converters); a no-op under none. The loader
//    calls it once, after every other check, so every consumer of ArchSpec sees the scaled
//    figure. buffer_bytes_per_cycle (the access width) and the access latency are not scaled.
#pragma once

#include <cstdint>
#include <string>

#include "platform/spec/arch.h"

namespace cimsim {

struct CapacityCostPoint {
  int64_t bytes;
  double energy_pj;  // per access of the rule's access width
  double area_um2;
};

struct BufferCapacityRule {
  std::string rule;  // the core.buffer_cost_scaling value that selects it
  CapacityCostPoint small, large;  // the two published points
  int64_t min_bytes, max_bytes;    // the capacities accepted (extrapolated outside small..large)
  double energy_exponent() const;  // log(large.energy / small.energy) / log(large.bytes / small.bytes)
  double area_exponent() const;    // likewise with area
};

const BufferCapacityRule& puma_edram_capacity_rule();
const BufferCapacityRule* capacity_rule(BufferCostScaling rule);  // nullptr for kNone

struct BufferCostRatio {
  double energy = 1.0;   // applied to energy_pj
  double area = 1.0;     // applied to area_um2
  double leakage = 1.0;  // applied to leakage_mw (= area)
};

BufferCostRatio buffer_cost_ratio(const BufferCapacityRule& rule, int64_t reference_bytes, int64_t bytes);

void apply_buffer_cost_scaling(ArchSpec& spec);

}  // namespace cimsim
