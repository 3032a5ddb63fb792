// ADC cost versus resolution: the one rule that turns `costs.adc`, given for an ADC of
// adc.cost_reference_bits, into the figure of an ADC of adc.bits (docs/config.md, "ADC
// resolution scaling").
//
// Contract:
//  - saberi_sar_table() is HWC's scaling of ISAAC's 1.2-1.28 GS/s SAR ADC by resolution
//    (Accelergy hwcomponents-library isaac.py, after Saberi et al.'s SAR-DAC scaling;
//    /work/shared/reference/component-costs.md 2a): pJ per conversion and um2 at 4..10 bits,
//    one sample rate throughout.
//  - adc_cost_ratio(rule, reference_bits, bits): the factors that take the figure at
//    reference_bits to the figure at bits. kSaberiSar: energy E(bits) / E(reference_bits),
//    area A(bits) / A(reference_bits) from the table, so both are exactly 1 when the two are
//    equal; kNone: 1 and 1. Throws InputError (no location: the loader adds it) when either
//    resolution is outside the table; no extrapolation.
//  - apply_adc_cost_scaling(spec): under kSaberiSar, keeps the loaded costs.adc in
//    spec.costs.given["adc"] and replaces spec.costs.components["adc"] by the scaled figure
//    (energy_pj and leakage_mw x the energy factor, area_um2 x the area factor, same
//    source). A no-op under kNone. The loader calls it once, after every other check, so
//    every consumer of ArchSpec sees the scaled figure. adc.conversion_ns is not scaled (the
//    table holds the sample rate fixed).
#pragma once

#include <vector>

#include "platform/spec/arch.h"

namespace cimsim {

struct AdcCostPoint {
  int bits;
  double energy_pj;  // per conversion
  double area_um2;   // per ADC
};

const std::vector<AdcCostPoint>& saberi_sar_table();

struct AdcCostRatio {
  double energy = 1.0;  // applied to energy_pj and leakage_mw
  double area = 1.0;    // applied to area_um2
};

AdcCostRatio adc_cost_ratio(AdcCostScaling rule, int reference_bits, int bits);

void apply_adc_cost_scaling(ArchSpec& spec);

}  // namespace cimsim
