// The converters' resolution tables and the ratio rule that scales costs.adc by adc.bits and
// costs.dac by dac.bits.
#include "platform/spec/converter_cost_scaling.h"

#include <cmath>

#include <fmt/format.h>

namespace cimsim {
namespace {

// The table's figure at `bits`: a point, or the geometric interpolation of the two points
// around it; false outside the table.
bool figure_at(const ConverterCostTable& t, int bits, ConverterCostPoint* out) {
  const auto& p = t.points;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i].bits == bits) {
      *out = p[i];
      return true;
    }
    if (i + 1 < p.size() && p[i].bits < bits && bits < p[i + 1].bits) {
      const double f = double(bits - p[i].bits) / double(p[i + 1].bits - p[i].bits);
      *out = {bits, p[i].energy * std::pow(p[i + 1].energy / p[i].energy, f),
              p[i].area_um2 * std::pow(p[i + 1].area_um2 / p[i].area_um2, f)};
      return true;
    }
  }
  return false;
}

}  // namespace

const ConverterCostTable& saberi_sar_table() {
  // HWC isaac.py, ISAAC's ADC scaled by resolution (Saberi et al. SAR-DAC scaling), 32 nm,
  // as listed in component-costs.md 2a: "4 b 0.79 / 361, 5 b 0.99 / 477, 6 b 1.20 / 627,
  // 7 b 1.42 / 845, 8 b 1.67 / 1200, 9 b 1.97 / 1828, 10 b 2.38 / 3002" (pJ, um2).
  static const ConverterCostTable table = {
      "adc", "saberi_sar", "pJ per conversion",
      {{4, 0.79, 361.0}, {5, 0.99, 477.0}, {6, 1.20, 627.0}, {7, 1.42, 845.0},
       {8, 1.67, 1200.0}, {9, 1.97, 1828.0}, {10, 2.38, 3002.0}}};
  return table;
}

const ConverterCostTable& mnsim_dac_table() {
  // component-costs.md 2c: 1-b DAC (ISAAC via HWC / MN / PUMA) "3.9 uW, 0.166 um2"; MNSIM
  // DAC.py, ISAAC-scaled: "2 b 7.8 uW / 0.33 um2; 4 b 31.2 uW / 1.33 um2; 6 b 124.8 uW /
  // 5.31 um2". The 8-bit row is left out (its power is doubtful, see the header).
  static const ConverterCostTable table = {
      "dac", "mnsim", "uW at one drive rate",
      {{1, 3.9, 0.166}, {2, 7.8, 0.33}, {4, 31.2, 1.33}, {6, 124.8, 5.31}}};
  return table;
}

const ConverterCostTable* cost_table(AdcCostScaling rule) {
  return rule == AdcCostScaling::kSaberiSar ? &saberi_sar_table() : nullptr;
}

const ConverterCostTable* cost_table(DacCostScaling rule) {
  return rule == DacCostScaling::kMnsim ? &mnsim_dac_table() : nullptr;
}

ConverterCostRatio converter_cost_ratio(const ConverterCostTable& t, int reference_bits, int bits) {
  ConverterCostPoint ref{}, at{};
  const int lo = t.points.front().bits, hi = t.points.back().bits;
  if (!figure_at(t, reference_bits, &ref))
    throw InputError(fmt::format(
        "{0}.cost_reference_bits = {1}: {0}.cost_scaling = {2} needs the resolution costs.{0} "
        "is given at, one of the table's {3}..{4} bits",
        t.converter, reference_bits, t.rule, lo, hi));
  if (!figure_at(t, bits, &at))
    throw InputError(fmt::format(
        "{0}.bits = {1} is outside the {2} table ({3}..{4} bits) that {0}.cost_scaling "
        "scales costs.{0} by; expected {0}.bits in {3}..{4} or {0}.cost_scaling: none",
        t.converter, bits, t.rule, lo, hi));
  return {at.energy / ref.energy, at.area_um2 / ref.area_um2};
}

std::vector<ConverterScaling> converter_scalings(const ArchSpec& spec) {
  return {
      {"adc", "conversion", cost_table(spec.adc.cost_scaling), &saberi_sar_table(),
       spec.adc.cost_reference_bits, spec.adc.bits},
      {"dac", "row drive", cost_table(spec.dac.cost_scaling), &mnsim_dac_table(),
       spec.dac.cost_reference_bits, spec.dac.bits},
  };
}

void apply_converter_cost_scaling(ArchSpec& spec, const ConverterScaling& s) {
  if (!s.table) return;
  const ConverterCostRatio r = converter_cost_ratio(*s.table, s.reference_bits, s.bits);
  // Neither table has a static power; at its one action rate, power follows energy per action.
  scale_component_cost(spec, s.converter, r.energy, r.energy, r.area);
}

void scale_component_cost(ArchSpec& spec, const std::string& component, double energy_factor,
                          double leakage_factor, double area_factor) {
  ComponentCost& c = spec.costs.components.at(component);
  spec.costs.given[component] = c;
  c.energy_pj *= energy_factor;
  c.leakage_mw *= leakage_factor;
  c.area_um2 *= area_factor;
}

}  // namespace cimsim
