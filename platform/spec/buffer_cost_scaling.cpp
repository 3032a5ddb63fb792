// PUMA's two eDRAM capacities and the power-law rule that scales costs.buffer by
// core.buffer_bytes.
#include "platform/spec/buffer_cost_scaling.h"

#include <cmath>

#include <fmt/format.h>

#include "platform/spec/converter_cost_scaling.h"

namespace cimsim {

double BufferCapacityRule::energy_exponent() const {
  return std::log(large.energy_pj / small.energy_pj) / std::log(double(large.bytes) / double(small.bytes));
}

double BufferCapacityRule::area_exponent() const {
  return std::log(large.area_um2 / small.area_um2) / std::log(double(large.bytes) / double(small.bytes));
}

const BufferCapacityRule& puma_edram_capacity_rule() {
  // component-costs.md, "eDRAM 64 KB": "PUMA: 17.2 pJ per 256 b (2 cycles), 0.46 mW leakage,
  // 0.086 mm2; 128 KB: 25.35 pJ, 0.121 mm2" (32 nm). 4 KB..1 MB: 1/16 to 16x ISAAC's 64 KB.
  static const BufferCapacityRule rule = {
      "puma_edram", {65536, 17.2, 86000.0}, {131072, 25.35, 121000.0}, 4096, 1048576};
  return rule;
}

const BufferCapacityRule* capacity_rule(BufferCostScaling rule) {
  return rule == BufferCostScaling::kPumaEdram ? &puma_edram_capacity_rule() : nullptr;
}

BufferCostRatio buffer_cost_ratio(const BufferCapacityRule& r, int64_t reference_bytes, int64_t bytes) {
  if (reference_bytes < r.min_bytes || reference_bytes > r.max_bytes)
    throw InputError(fmt::format(
        "core.buffer_cost_reference_bytes = {}: core.buffer_cost_scaling = {} needs the capacity "
        "costs.buffer is given at, {}..{} bytes",
        reference_bytes, r.rule, r.min_bytes, r.max_bytes));
  if (bytes < r.min_bytes || bytes > r.max_bytes)
    throw InputError(fmt::format(
        "core.buffer_bytes = {} is outside the {}..{} bytes that core.buffer_cost_scaling = {} "
        "prices (a two-point fit at {} and {} bytes, extrapolated no further); expected "
        "core.buffer_bytes in {}..{} or core.buffer_cost_scaling: none",
        bytes, r.min_bytes, r.max_bytes, r.rule, r.small.bytes, r.large.bytes, r.min_bytes,
        r.max_bytes));
  const double x = double(bytes) / double(reference_bytes);
  const double area = std::pow(x, r.area_exponent());
  return {std::pow(x, r.energy_exponent()), area, area};
}

void apply_buffer_cost_scaling(ArchSpec& spec) {
  const BufferCapacityRule* rule = capacity_rule(spec.core.buffer_cost_scaling);
  if (!rule) return;
  const BufferCostRatio r =
      buffer_cost_ratio(*rule, spec.core.buffer_cost_reference_bytes, spec.core.buffer_bytes);
  scale_component_cost(spec, "buffer", r.energy, r.leakage, r.area);
}

}  // namespace cimsim
