// The 7 SRAM IMC chips ZigZag-IMC validates its macro model against, and our model's
// figures for each, computed through cimsim's own cost components.
//
// Contract: published_macros() lists each chip's macro parameters and its published area,
// clock period and energy per MAC, with the sources (ZigZag-IMC imc_model_validation/README.md
// parameter table, model_validation.png reported values, *_validation*.py paper parameters;
// /work/shared/reference/component-costs.md row 17). modelled_figures() configures an
// ArchSpec for the chip (one core per macro, one crossbar per core, one converter and one
// shift-add per physical column), loads it through the normal loader, so the costs are the
// ones compile/simulate/report use, and derives area (sum of crossbar, dac, snh, adc,
// shift_add areas), one input step's time, and energy per MAC of a full MVM. The figures
// are pure functions of the model: same code, same numbers. Used by `cimsim imc-validate`
// and tests/spec_arch/sram_imc_test.cpp.
#pragma once

#include <string>
#include <vector>

#include "platform/spec/arch.h"
#include "platform/spec/sram_imc_macro.h"

namespace cimsim::sram_imc {

struct PublishedMacro {
  std::string label;   // ZigZag's name (AIMC1 ... DIMC4)
  std::string paper;   // the chip's paper
  ImcKind kind;
  int input_bits, weight_bits, input_bits_per_cycle;  // Bi / Bw / Bcycle
  int rows, weight_cols;                              // macro size D2 x D1
  int group_depth, banks;
  int adc_bits;        // AIMC only
  double vdd_v, tech_node_nm;
  double input_toggle_rate, weight_sparsity;  // activity ZigZag assumed for the chip
  // published
  double area_mm2, tclk_ns, energy_fj_per_mac;
  // ZigZag-IMC's own per-chip estimate / published (model_validation.png percentages)
  double zigzag_area_ratio, zigzag_tclk_ratio, zigzag_energy_ratio;
};

struct MacroFigures {
  double area_mm2 = 0, tclk_ns = 0, energy_fj_per_mac = 0;
};

const std::vector<PublishedMacro>& published_macros();
// The arch YAML that describes the chip's macros (banks cores of one crossbar each).
std::string arch_yaml_for(const PublishedMacro& m);
MacroFigures modelled_figures(const PublishedMacro& m);
// Markdown table: per chip and figure, model, published, model/published.
std::string validation_table_markdown();

}  // namespace cimsim::sram_imc
