// Converter cost versus resolution: the one rule that turns a converter's costs entry
// (costs.adc, per conversion; costs.dac, per row drive), given for a converter of
// <converter>.cost_reference_bits, into the figure of a converter of <converter>.bits
// (docs/config.md, "Converter resolution scaling").
//
// Contract:
//  - A ConverterCostTable is one published cost-by-resolution table, named after the
//    <converter>.cost_scaling value that selects it:
//      saberi_sar_table(): HWC's scaling of ISAAC's 1.2-1.28 GS/s SAR ADC by resolution
//        (Accelergy hwcomponents-library isaac.py, after Saberi et al.'s SAR-DAC scaling;
//        /work/shared/reference/component-costs.md 2a): pJ per conversion and um2 at
//        4..10 bits, one sample rate throughout.
//      mnsim_dac_table(): MNSIM-2.0's DAC table scaled to ISAAC's 1-bit DAC
//        (component-costs.md 2c): uW and um2 at 1, 2, 4 and 6 bits. Its 8-bit power
//        ("0.4992 W", probably a missing 1e-3) is doubtful and left out, so the table ends at
//        6 bits. The table gives power at one drive rate: energy per drive follows power.
//    Only ratios of a table's figures are used, so `energy` may be energy per action or power
//    at the table's one action rate (`energy_unit` says which).
//  - converter_cost_ratio(table, reference_bits, bits): the factors that take the figure at
//    reference_bits to the figure at bits: energy E(bits) / E(reference_bits), area
//    A(bits) / A(reference_bits), so both are exactly 1 when the two are equal. A resolution
//    between two of the table's points (the DAC's 3 and 5 bits) takes the geometric
//    interpolation of its neighbours, E(b) = E(b0) (E(b1) / E(b0))^((b - b0) / (b1 - b0)),
//    likewise A (the DAC table's power doubles per bit throughout). Throws InputError (no
//    location: the loader adds it; the message starts with "<converter>.cost_reference_bits"
//    or "<converter>.bits") when either resolution is outside the table; no extrapolation.
//  - converter_scalings(spec): one entry per converter (adc, then dac) with its rule's table
//    (nullptr under cost_scaling none) and its two resolutions.
//  - apply_converter_cost_scaling(spec, scaling): when the table is set, keeps the loaded
//    costs.<converter> in spec.costs.given and replaces spec.costs.components[converter] by
//    the scaled figure (energy_pj and leakage_mw x the energy factor, area_um2 x the area
//    factor, same source); a no-op under cost_scaling none. The loader calls it once per
//    converter, after every other check, so every consumer of ArchSpec sees the scaled
//    figure. Neither adc.conversion_ns nor crossbar.read_ns is scaled (both tables hold the
//    action rate fixed).
#pragma once

#include <string>
#include <vector>

#include "platform/spec/arch.h"

namespace cimsim {

struct ConverterCostPoint {
  int bits;
  double energy;    // in the table's energy_unit; only ratios are used
  double area_um2;  // per converter
};

struct ConverterCostTable {
  std::string converter;    // "adc" or "dac": the section and the costs entry it scales
  std::string rule;         // the cost_scaling value that selects it
  std::string energy_unit;  // "pJ per conversion", "uW at one drive rate"
  std::vector<ConverterCostPoint> points;  // ascending bits
};

const ConverterCostTable& saberi_sar_table();
const ConverterCostTable& mnsim_dac_table();
const ConverterCostTable* cost_table(AdcCostScaling rule);  // nullptr for kNone
const ConverterCostTable* cost_table(DacCostScaling rule);  // nullptr for kNone

struct ConverterCostRatio {
  double energy = 1.0;  // applied to energy_pj and leakage_mw
  double area = 1.0;    // applied to area_um2
};

ConverterCostRatio converter_cost_ratio(const ConverterCostTable& table, int reference_bits, int bits);

struct ConverterScaling {
  std::string converter;            // "adc" or "dac"
  std::string action;               // what costs.<converter>'s energy is per, for messages
  const ConverterCostTable* table;  // the rule's table; nullptr under cost_scaling none
  const ConverterCostTable* scaled; // the table a scaling rule would use, for messages
  int reference_bits;
  int bits;
};

std::vector<ConverterScaling> converter_scalings(const ArchSpec& spec);

void apply_converter_cost_scaling(ArchSpec& spec, const ConverterScaling& scaling);

// The one way a scaling rule changes a cost entry (converters here, the buffer in
// buffer_cost_scaling.h): keeps the loaded spec.costs.components[component] in
// spec.costs.given (arch_to_yaml() writes that one back), then multiplies its energy_pj,
// leakage_mw and area_um2 by the three factors; the source is kept.
void scale_component_cost(ArchSpec& spec, const std::string& component, double energy_factor,
                          double leakage_factor, double area_factor);

}  // namespace cimsim
