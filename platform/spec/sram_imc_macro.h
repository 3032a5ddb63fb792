// SRAM in-memory-computing macro cost model (analog AIMC and digital DIMC), after ZigZag-IMC.
//
// Contract: evaluate() turns the parameters of one SRAM IMC macro (rows summed per column,
// weight columns, operand precisions, bits per cycle, ADC bits, supply, node) into the area,
// critical-path delay and per-cycle energy of each of its components, with the analytic
// equations of ZigZag-IMC (KULeuven-MICAS/zigzag-imc, zigzag/classes/hardware/architecture/
// imc_unit.py, AimcArrayUnit.py, DimcArrayUnit.py; 28 nm, calibrated by its authors on 3 AIMC
// and 4 DIMC chips). The equations and their sources are in sram_imc_macro.cpp, one comment
// per constant, and in docs/config.md ("SRAM IMC macros"). The model is pure arithmetic:
// deterministic, no I/O; bad parameters throw InputError.
//
// apply_macro_costs() is the one bridge into cimsim's cost model: for an ArchSpec whose
// crossbar.technology is sram_aimc or sram_dimc it fills the same cost components every
// other arch uses (crossbar, dac, snh, adc, shift_add: energy per action, area per instance)
// and the latencies (crossbar.read_ns, adc.conversion_ns), except those the YAML gave
// explicitly. Compile, simulate and report then work unchanged.
#pragma once

#include <map>
#include <set>
#include <string>

#include "platform/spec/arch.h"

namespace cimsim::sram_imc {

enum class ImcKind { kAnalog, kDigital };

// One macro, in ZigZag-IMC's terms: D2 = rows summed into one column (bitline dimension),
// D1 = weight columns (wordline dimension), each weight on `weight_bits` 1-bit cells side
// by side; `banks` identical macros (ZigZag's D3).
struct MacroParams {
  ImcKind kind = ImcKind::kAnalog;
  int rows = 128;                // D2
  int weight_cols = 16;          // D1
  int weight_bits = 8;           // 1-bit cells per weight (physical columns per weight column)
  int input_bits = 8;            // activation precision
  int input_bits_per_cycle = 1;  // DAC bits (AIMC) / input bits per adder-tree pass (DIMC)
  int adc_bits = 8;              // AIMC only
  int group_depth = 1;           // cells sharing one compute entry (stored weights; area only)
  int banks = 1;                 // macros
  double vdd_v = 0.9;
  double tech_node_nm = 28.0;
  double cell_area_um2_per_bit = 0.254;  // 6T cell array incl. periphery, at 28 nm
  // Data activity (ZigZag-IMC validation scripts; 1 and 0 give its peak model).
  double input_toggle_rate = 1.0;
  double weight_sparsity = 0.0;
};

// Figures of `banks` macros. Components: "cells", "mults", "dacs", "adcs" (AIMC),
// "adders" (DIMC adder trees), "adders_pv" (place-value adders), "accumulators".
struct MacroCost {
  std::map<std::string, double> area_um2;
  std::map<std::string, double> delay_ns;             // critical path, in order
  std::map<std::string, double> energy_pj_per_cycle;  // every component active once
  double total_area_um2 = 0;
  double tclk_ns = 0;             // sum of delay_ns
  double energy_pj_per_cycle_total = 0;
  double macs_per_cycle = 0;      // rows * weight_cols * banks / (input_bits / bits_per_cycle)
  double energy_fj_per_mac() const { return 1e3 * energy_pj_per_cycle_total / macs_per_cycle; }
  double tops() const { return 2 * macs_per_cycle / tclk_ns / 1e3; }
  double tops_per_w() const { return 2 * macs_per_cycle / energy_pj_per_cycle_total; }
};

MacroCost evaluate(const MacroParams& p);

// The macro one crossbar of `spec` is (banks = 1). Requires an SRAM technology.
MacroParams macro_params(const ArchSpec& spec);

// Fills spec.costs.components[crossbar|dac|snh|adc|shift_add] and crossbar.read_ns /
// adc.conversion_ns from evaluate(macro_params(spec)), skipping the components in
// `given_costs` and the latencies flagged as given. No-op for crossbar.technology = reram.
// Per-instance meaning (docs/config.md): crossbar = cell array + multipliers of one
// crossbar, per input step; dac = one row drive; adc = one physical column's converter (AIMC
// ADC, DIMC adder-tree share), per conversion; shift_add = one physical column's share of
// the place-value adders and accumulator, per partial sum; snh = 0 (none in an SRAM macro).
void apply_macro_costs(ArchSpec& spec, const std::set<std::string>& given_costs,
                       bool read_ns_given, bool conversion_ns_given);

}  // namespace cimsim::sram_imc
