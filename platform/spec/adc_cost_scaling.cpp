// The SAR resolution table and the ratio rule that scales costs.adc by adc.bits.
#include "platform/spec/adc_cost_scaling.h"

#include <fmt/format.h>

namespace cimsim {
namespace {

const AdcCostPoint* find(int bits) {
  for (const AdcCostPoint& p : saberi_sar_table())
    if (p.bits == bits) return &p;
  return nullptr;
}

}  // namespace

const std::vector<AdcCostPoint>& saberi_sar_table() {
  // HWC isaac.py, ISAAC's ADC scaled by resolution (Saberi et al. SAR-DAC scaling), 32 nm,
  // as listed in component-costs.md 2a: "4 b 0.79 / 361, 5 b 0.99 / 477, 6 b 1.20 / 627,
  // 7 b 1.42 / 845, 8 b 1.67 / 1200, 9 b 1.97 / 1828, 10 b 2.38 / 3002" (pJ, um2).
  static const std::vector<AdcCostPoint> table = {
      {4, 0.79, 361.0},  {5, 0.99, 477.0},  {6, 1.20, 627.0},   {7, 1.42, 845.0},
      {8, 1.67, 1200.0}, {9, 1.97, 1828.0}, {10, 2.38, 3002.0},
  };
  return table;
}

AdcCostRatio adc_cost_ratio(AdcCostScaling rule, int reference_bits, int bits) {
  if (rule == AdcCostScaling::kNone) return {};
  const AdcCostPoint* ref = find(reference_bits);
  const AdcCostPoint* at = find(bits);
  const auto& t = saberi_sar_table();
  if (!ref)
    throw InputError(fmt::format(
        "adc.cost_reference_bits = {}: adc.cost_scaling = saberi_sar needs the resolution "
        "costs.adc is given at, one of the table's {}..{} bits",
        reference_bits, t.front().bits, t.back().bits));
  if (!at)
    throw InputError(fmt::format(
        "adc.bits = {} is outside the saberi_sar table ({}..{} bits) that adc.cost_scaling "
        "scales costs.adc by; expected adc.bits in {}..{} or adc.cost_scaling: none",
        bits, t.front().bits, t.back().bits, t.front().bits, t.back().bits));
  return {at->energy_pj / ref->energy_pj, at->area_um2 / ref->area_um2};
}

void apply_adc_cost_scaling(ArchSpec& spec) {
  if (spec.adc.cost_scaling == AdcCostScaling::kNone) return;
  const AdcCostRatio r =
      adc_cost_ratio(spec.adc.cost_scaling, spec.adc.cost_reference_bits, spec.adc.bits);
  ComponentCost& c = spec.costs.components.at("adc");
  spec.costs.given["adc"] = c;
  c.energy_pj *= r.energy;
  // The table has no static power; at its one sample rate, power follows energy per conversion.
  c.leakage_mw *= r.energy;
  c.area_um2 *= r.area;
}

}  // namespace cimsim
