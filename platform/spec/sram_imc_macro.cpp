// ZigZag-IMC's SRAM IMC macro model, re-implemented from its published equations.
//
// Source of every equation and constant: github.com/KULeuven-MICAS/zigzag-imc (read at
// commit df34a6f), files
//   IMC  = zigzag/classes/hardware/architecture/imc_unit.py      (LogicUnit gate costs)
//   AIMC = zigzag/classes/hardware/architecture/AimcArrayUnit.py (ADC, DAC, analog array)
//   DIMC = zigzag/classes/hardware/architecture/DimcArrayUnit.py (digital array)
//   VAL  = imc_model_validation/aimc_validation/22-28nm/aimc{1,3}_validation_subfunc.py
//          (linear node scaling from 28 nm for the 22 nm chips)
// ZigZag gets the cell-array area from CACTI; cimsim has no CACTI, so the cell array is
// cell_area_um2_per_bit per stored bit (default from ZigZag's own CACTI runs, see
// arch_keys.cpp). Deviations from ZigZag, each for a reason:
//  * log2 of a non-power-of-two input count is rounded up (ZigZag asserts powers of two);
//  * AIMC with one weight bit: ZigZag leaves the accumulator's input precision undefined;
//    here it is the ADC resolution (no place-value adder in front).
#include "platform/spec/sram_imc_macro.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "platform/spec/slicing.h"

namespace cimsim::sram_imc {
namespace {

// ZigZag tech_param for 28 nm (zigzag/inputs/examples/hardware/Aimc.py and the AIMC/DIMC
// __main__ examples, identical), 0.9 V gate figures.
constexpr double kNd2CapFf = 0.7;            // NAND2 input cap, fF (IMC "nd2_cap": 0.7/1e3 pF)
constexpr double kXor2CapFf = 0.7 * 1.5;     // IMC "xor2_cap"
constexpr double kDffCapFf = 0.7 * 3;        // IMC "dff_cap"
constexpr double kNd2AreaUm2 = 0.614;        // IMC "nd2_area": 0.614/1e6 mm^2
constexpr double kXor2AreaUm2 = 0.614 * 2.4; // IMC "xor2_area"
constexpr double kDffAreaUm2 = 0.614 * 6;    // IMC "dff_area"
constexpr double kNd2DelayNs = 0.0478;       // IMC "nd2_dly"
constexpr double kXor2DelayNs = 0.0478 * 2.4;  // IMC "xor2_dly"
constexpr double kCalibrationNodeNm = 28.0;  // node of the figures above (IMC, VAL)

// Ceiling of log2 for n >= 1 (ZigZag: math.log2 on powers of two).
int ceil_log2(int n) {
  int d = 0;
  while ((1 << d) < n) ++d;
  return d;
}

struct Gates {
  double vdd2;  // V^2
  // IMC LogicUnit: a 1-b full adder is 3 NAND2 + 2 XOR2; a 1-b multiplier one NOR (costed as
  // a NAND2) at half activity "considering weight stays constant"; wordline and bitline cap
  // of a cell are NAND2 cap / 2. Energies in pJ (fF * V^2 * 1e-3).
  double adder_pj() const { return (3 * kNd2CapFf + 2 * kXor2CapFf) * vdd2 * 1e-3; }
  double mult_pj() const { return 0.5 * kNd2CapFf * vdd2 * 1e-3; }
  double reg_pj() const { return kDffCapFf * vdd2 * 1e-3; }
  double bitline_pj() const { return kNd2CapFf / 2 * vdd2 * 1e-3; }
  static double adder_um2() { return 3 * kNd2AreaUm2 + 2 * kXor2AreaUm2; }
  static double mult_um2() { return kNd2AreaUm2; }
  static double reg_um2() { return kDffAreaUm2; }
  static double in2sum_ns() { return 2 * kXor2DelayNs; }
  static double in2cout_ns() { return kXor2DelayNs + 2 * kNd2DelayNs; }
  static double cin2cout_ns() { return 2 * kNd2DelayNs; }
  static double mult_ns() { return kNd2DelayNs; }
};

// Full adders of one place-value adder tree combining `n` inputs of `in_bits` bits with
// shifted place values (AIMC/DIMC: in_bits*(n-1) + n*(log2 n - 0.5)); 0 for n = 1.
double pv_adders(int n, int in_bits) {
  if (n <= 1) return 0;
  return in_bits * (n - 1.0) + n * (ceil_log2(n) - 0.5);
}

void check(const MacroParams& p) {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw InputError("SRAM IMC macro: " + what);
  };
  need(p.rows >= 1 && p.weight_cols >= 1 && p.banks >= 1 && p.group_depth >= 1,
       fmt::format("rows, weight columns, banks and group depth must be >= 1 (got {}, {}, {}, {})",
                   p.rows, p.weight_cols, p.banks, p.group_depth));
  need(p.weight_bits >= 1 && p.input_bits >= 1, "operand precisions must be >= 1 bit");
  need(p.input_bits_per_cycle >= 1 && p.input_bits_per_cycle <= p.input_bits,
       fmt::format("input bits per cycle = {} must be in [1, input bits = {}]",
                   p.input_bits_per_cycle, p.input_bits));
  need(p.kind == ImcKind::kDigital || (p.adc_bits >= 1 && p.adc_bits <= 16),
       fmt::format("ADC bits = {} must be in [1, 16]", p.adc_bits));
  need(p.vdd_v > 0 && p.tech_node_nm > 0 && p.cell_area_um2_per_bit > 0,
       "vdd, node and cell area must be positive");
  need(p.input_toggle_rate >= 0 && p.input_toggle_rate <= 1 && p.weight_sparsity >= 0 &&
           p.weight_sparsity < 1,
       "input toggle rate must be in [0, 1] and weight sparsity in [0, 1)");
}

}  // namespace

MacroCost evaluate(const MacroParams& p) {
  check(p);
  const Gates g{p.vdd_v * p.vdd_v};
  const double d1 = p.weight_cols, d2 = p.rows, banks = p.banks;
  const int w = p.weight_bits;
  const int bpc = p.input_bits_per_cycle;
  const bool accumulate = bpc < p.input_bits;  // AIMC/DIMC: no accumulator when one pass
  // VAL: logic, bitline and cell area and logic/bitline energy scale linearly from 28 nm;
  // ADC and DAC energy are taken as node-independent.
  const double node = p.tech_node_nm / kCalibrationNodeNm;
  // Activity (VAL and dimc_validation_subfunc.py): products switch with toggling inputs on
  // non-zero weight bits; AIMC bitlines and ADCs with non-zero weight bits.
  const double density = 1.0 - p.weight_sparsity;
  const double product_activity = p.input_toggle_rate * density;
  MacroCost c;
  // Cell array: rows * group_depth * weight_cols * weight_bits 1-bit cells (IMC
  // get_single_cell_array_cost_from_cacti's array size), per-bit area instead of CACTI.
  c.area_um2["cells"] = p.cell_area_um2_per_bit * d2 * p.group_depth * d1 * w * banks;

  if (p.kind == ImcKind::kAnalog) {
    const int b = p.adc_bits;
    // AIMC get_adc_cost: area = 10^(k1*B + k2) * 2^B um^2 (k1 = -0.0369, k2 = 1.206; 0 for
    // a 1-b sense amplifier), delay = B * (k3*D2 + k4) ns (k3 = 0.00653, k4 = 0.640),
    // energy = (k5*B + k6*4^B) * VDD^2 fJ (k5 = 100 fF, k6 = 0.001 fF).
    const double adc_um2 = b == 1 ? 0.0 : std::pow(10.0, -0.0369 * b + 1.206) * std::pow(2.0, b);
    const double adc_ns = b * (0.00653 * d2 + 0.640);
    const double adc_pj = (100.0 * b + 0.001 * std::pow(4.0, b)) * g.vdd2 * 1e-3;
    // AIMC get_dac_cost: area and delay neglected; energy = k0 * bits * VDD^2, k0 = 50 fF,
    // 0 for a 1-b driver.
    const double dac_pj = bpc == 1 ? 0.0 : 50e-3 * bpc * g.vdd2;
    const double pv = pv_adders(w, b);  // one place-value tree per weight column
    // AIMC get_area: accumulator width w + B_adc + B_in; get_peak_energy: B_in + w + log2 D2.
    const double acc_bits_area = w + b + p.input_bits;
    const double acc_bits_energy = p.input_bits + w + ceil_log2(p.rows);

    c.area_um2["mults"] = Gates::mult_um2() * w * d1 * d2 * banks;
    c.area_um2["adcs"] = adc_um2 * w * d1 * banks;  // one ADC per physical column
    c.area_um2["dacs"] = 0.0;
    c.area_um2["adders_pv"] = Gates::adder_um2() * pv * d1 * banks;
    c.area_um2["accumulators"] =
        accumulate ? (Gates::adder_um2() + Gates::reg_um2()) * acc_bits_area * d1 * banks : 0.0;

    // AIMC get_delay: dacs -> mults -> adcs -> adders_pv -> accumulators (RCA worst paths).
    const int pv_out = w > 1 ? w + b : b;
    c.delay_ns["dacs"] = 0.0;
    c.delay_ns["mults"] = Gates::mult_ns();
    c.delay_ns["adcs"] = adc_ns;
    c.delay_ns["adders_pv"] = w > 1 ? (ceil_log2(w) - 1) * Gates::in2sum_ns() +
                                          Gates::in2cout_ns() +
                                          (pv_out - 1) * Gates::cin2cout_ns()
                                    : 0.0;
    const double acc_out = w + b + p.input_bits;
    c.delay_ns["accumulators"] =
        accumulate ? Gates::in2cout_ns() + (acc_out - pv_out) * Gates::cin2cout_ns() : 0.0;

    // AIMC get_peak_energy_single_cycle (full utilisation, no weight update).
    c.energy_pj_per_cycle["dacs"] = dac_pj * d2 * banks;
    c.energy_pj_per_cycle["cells"] = g.bitline_pj() * w * d1 * d2 * banks * node * density;
    c.energy_pj_per_cycle["adcs"] = adc_pj * w * d1 * banks * density;
    c.energy_pj_per_cycle["mults"] =
        g.mult_pj() * w * d1 * d2 * banks * node * product_activity;
    c.energy_pj_per_cycle["adders_pv"] = pv * g.adder_pj() * d1 * banks * node;
    c.energy_pj_per_cycle["accumulators"] =
        accumulate ? (g.adder_pj() + g.reg_pj()) * acc_bits_energy * d1 * banks * node : 0.0;
  } else {
    // DIMC: bpc * w one-bit multipliers per row and weight column; one adder tree of D2
    // w-bit inputs per input bit and weight column; place-value adders combine the bpc trees;
    // an accumulator combines the cycles.
    const int depth = ceil_log2(p.rows);
    // DIMC nb_of_1b_adder_in_single_adder_tree
    const double tree = d2 * (w + 1.0) - (w + depth + 1.0);
    const int tree_out = w + depth;
    const double pv = pv_adders(bpc, tree_out);
    const double acc_bits = p.input_bits + w + depth;  // DIMC accumulator_output_pres

    c.area_um2["mults"] = Gates::mult_um2() * bpc * w * d1 * d2 * banks;
    c.area_um2["adders"] = Gates::adder_um2() * tree * bpc * d1 * banks;
    c.area_um2["adders_pv"] = Gates::adder_um2() * pv * d1 * banks;
    c.area_um2["accumulators"] =
        accumulate ? (Gates::adder_um2() + Gates::reg_um2()) * acc_bits * d1 * banks : 0.0;

    // DIMC get_delay: mults -> adders -> adders_pv -> accumulators.
    c.delay_ns["mults"] = Gates::mult_ns();
    // A one-row "tree" has no adder (the formula would go negative).
    c.delay_ns["adders"] = p.rows == 1 ? 0.0
                                       : (depth - 1) * Gates::in2sum_ns() + Gates::in2cout_ns() +
                                             (tree_out - 2) * Gates::cin2cout_ns();
    int acc_in = tree_out;
    if (bpc > 1) {
      const int pv_out = bpc + tree_out;
      acc_in = pv_out;
      c.delay_ns["adders_pv"] = (ceil_log2(bpc) - 1) * Gates::in2sum_ns() +
                                Gates::in2cout_ns() +
                                (pv_out - tree_out - 1) * Gates::cin2cout_ns();
    } else {
      c.delay_ns["adders_pv"] = 0.0;
    }
    const int acc_out = static_cast<int>(acc_bits);
    c.delay_ns["accumulators"] =
        acc_out == acc_in ? 0.0 : Gates::in2cout_ns() + (acc_out - acc_in) * Gates::cin2cout_ns();

    // DIMC get_peak_energy_single_cycle.
    c.energy_pj_per_cycle["mults"] =
        g.mult_pj() * bpc * w * d1 * d2 * banks * node * product_activity;
    c.energy_pj_per_cycle["adders"] =
        g.adder_pj() * tree * bpc * d1 * banks * node * product_activity;
    c.energy_pj_per_cycle["adders_pv"] = g.adder_pj() * pv * d1 * banks * node;
    c.energy_pj_per_cycle["accumulators"] =
        accumulate ? (g.adder_pj() + g.reg_pj()) * acc_bits * d1 * banks * node : 0.0;
  }
  for (auto& [name, a] : c.area_um2) {
    a *= node;
    c.total_area_um2 += a;
  }
  for (const auto& [name, d] : c.delay_ns) c.tclk_ns += d;
  for (const auto& [name, e] : c.energy_pj_per_cycle) c.energy_pj_per_cycle_total += e;
  c.macs_per_cycle = d1 * d2 * banks / (double(p.input_bits) / bpc);
  return c;
}

MacroParams macro_params(const ArchSpec& s) {
  if (s.crossbar.technology == CrossbarTechnology::kReram)
    throw std::logic_error("sram_imc::macro_params on a ReRAM arch");
  MacroParams p;
  p.kind = s.crossbar.technology == CrossbarTechnology::kSramAnalog ? ImcKind::kAnalog
                                                                     : ImcKind::kDigital;
  const int cpw = slicing::cells_per_weight(s.quantization.weight_bits, s.crossbar.cell_bits,
                                            s.crossbar.encoding);
  p.rows = s.crossbar.rows;
  p.weight_cols = s.crossbar.cols / cpw;
  p.weight_bits = cpw;  // 1-bit cells: one physical column per weight bit (differential: both)
  p.input_bits = s.quantization.activation_bits;
  p.input_bits_per_cycle = s.dac.bits;
  p.adc_bits = s.adc.bits;
  p.group_depth = s.sram.group_depth;
  p.banks = 1;
  p.vdd_v = s.sram.vdd_v;
  p.tech_node_nm = s.sram.tech_node_nm;
  p.cell_area_um2_per_bit = s.sram.cell_area_um2_per_bit;
  p.input_toggle_rate = s.sram.input_toggle_rate;
  p.weight_sparsity = s.sram.weight_sparsity;
  return p;
}

void apply_macro_costs(ArchSpec& s, const std::set<std::string>& given_costs,
                       bool read_ns_given, bool conversion_ns_given) {
  if (s.crossbar.technology == CrossbarTechnology::kReram) return;
  const MacroParams p = macro_params(s);
  const MacroCost m = evaluate(p);
  const bool analog = p.kind == ImcKind::kAnalog;
  const double phys = double(p.weight_cols) * p.weight_bits;
  auto at = [](const std::map<std::string, double>& t, const char* k) {
    auto it = t.find(k);
    return it == t.end() ? 0.0 : it->second;
  };
  const std::string origin = fmt::format(
      "ZigZag-IMC {} model (KULeuven-MICAS/zigzag-imc {}ArrayUnit.py, 28 nm calibration) for "
      "{}x{} cells, {}-b weights, {}/{} input bits/cycle{}, {} V, {} nm",
      analog ? "AIMC" : "DIMC", analog ? "Aimc" : "Dimc", p.rows, s.crossbar.cols,
      s.quantization.weight_bits, p.input_bits_per_cycle, p.input_bits,
      analog ? fmt::format(", {}-b ADC", p.adc_bits) : "", p.vdd_v, p.tech_node_nm);
  auto set = [&](const char* comp, double energy_pj, double area_um2, const std::string& what) {
    if (given_costs.count(comp)) return;
    s.costs.components[comp] = ComponentCost{energy_pj, 0.0, area_um2, origin + ": " + what};
  };
  set("crossbar",
      at(m.energy_pj_per_cycle, "cells") + at(m.energy_pj_per_cycle, "mults"),
      at(m.area_um2, "cells") + at(m.area_um2, "mults"),
      analog ? "bitline charge + 1-b multipliers of every cell, per input step"
             : "1-b multipliers of every cell, per input step");
  set("dac", at(m.energy_pj_per_cycle, "dacs") / p.rows, 0.0,
      analog ? "50 fF * bits * VDD^2 per row drive (0 for 1 b), area neglected"
             : "digital input drivers, folded into the multipliers");
  set("snh", 0.0, 0.0, "no sample-and-hold in an SRAM IMC macro");
  if (analog)
    set("adc", at(m.energy_pj_per_cycle, "adcs") / phys, at(m.area_um2, "adcs") / phys,
        "one ADC per physical column, per conversion");
  else
    set("adc",
        (at(m.energy_pj_per_cycle, "adders") + at(m.energy_pj_per_cycle, "adders_pv")) / phys,
        (at(m.area_um2, "adders") + at(m.area_um2, "adders_pv")) / phys,
        "adder tree + place-value adders, one physical column's share per conversion");
  const double sa_energy = at(m.energy_pj_per_cycle, "accumulators") +
                           (analog ? at(m.energy_pj_per_cycle, "adders_pv") : 0.0);
  const double sa_area =
      at(m.area_um2, "accumulators") + (analog ? at(m.area_um2, "adders_pv") : 0.0);
  set("shift_add", sa_energy / phys, sa_area / phys,
      analog ? "place-value adders + accumulator, one physical column's share per partial sum"
             : "accumulator, one physical column's share per partial sum");
  // One input step is the macro's clock period; a converter (ADC or adder tree) finishes
  // within it, so with one per column the step takes tclk.
  if (!read_ns_given) s.crossbar.read_ns = m.tclk_ns;
  // The key requires > 0; a DIMC tree of one or two rows has (almost) no delay of its own.
  if (!conversion_ns_given)
    s.adc.conversion_ns =
        std::max(1e-3, analog ? at(m.delay_ns, "adcs") : at(m.delay_ns, "adders"));
}

}  // namespace cimsim::sram_imc
