// SRAM IMC macro cost model (platform/spec/sram_imc_macro.h): ZigZag-IMC's equations checked
// against the figures component-costs.md quotes from its code, the 7-chip validation set
// (model vs published within a stated tolerance, and pinned so a model change fails), and the
// arch loader's use of it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "platform/spec/arch.h"
#include "platform/spec/sram_imc_macro.h"
#include "platform/spec/sram_imc_validation.h"
#include "tests/spec_arch/arch_test_util.h"

namespace cimsim {
namespace {

using sram_imc::ImcKind;
using sram_imc::MacroParams;

// One analog macro with 1 weight column of 1 bit, so per-ADC figures are readable.
sram_imc::MacroCost one_adc(int adc_bits, int rows) {
  MacroParams p;
  p.kind = ImcKind::kAnalog;
  p.rows = rows;
  p.weight_cols = 1;
  p.weight_bits = 1;
  p.input_bits = 8;
  p.input_bits_per_cycle = 1;
  p.adc_bits = adc_bits;
  return sram_imc::evaluate(p);
}

// component-costs.md table 2b, "ZigZag-IMC (imc_array.py, calibrated on 3 AIMC chips), 28 nm,
// 0.9 V": 4/6/8/10 b = 0.32 / 0.49 / 0.70 / 1.66 pJ and 183 / 618 / 2085 / 7036 um2; delay
// B * (0.00653 * rows + 0.640) ns = 11.8 ns for 8 b, 128 rows.
TEST(SramImcMacro, AdcMatchesZigZagFigures) {
  const std::map<int, std::pair<double, double>> published = {
      {4, {0.32, 183}}, {6, {0.49, 618}}, {8, {0.70, 2085}}, {10, {1.66, 7036}}};
  for (const auto& [bits, fig] : published) {
    const auto c = one_adc(bits, 128);
    EXPECT_NEAR(c.energy_pj_per_cycle.at("adcs"), fig.first, 0.006) << bits << " b";
    EXPECT_NEAR(c.area_um2.at("adcs"), fig.second, 0.005 * fig.second) << bits << " b";
  }
  EXPECT_NEAR(one_adc(8, 128).delay_ns.at("adcs"), 11.8, 0.05);
  // A 1-b ADC is a sense amplifier: no area (AimcArrayUnit.get_adc_cost).
  EXPECT_EQ(one_adc(1, 128).area_um2.at("adcs"), 0.0);
}

// DAC: 50 fF * bits * VDD^2 = 0.081 pJ at 2 b and 0.9 V; 0 for 1 b (component-costs.md 2c).
TEST(SramImcMacro, DacEnergy) {
  MacroParams p;
  p.rows = 1;
  p.weight_cols = 1;
  p.input_bits_per_cycle = 2;
  EXPECT_NEAR(sram_imc::evaluate(p).energy_pj_per_cycle.at("dacs"), 0.081, 1e-9);
  p.input_bits_per_cycle = 1;
  EXPECT_EQ(sram_imc::evaluate(p).energy_pj_per_cycle.at("dacs"), 0.0);
}

TEST(SramImcMacro, ScalesWithBanksAndVdd) {
  MacroParams p;
  p.kind = ImcKind::kDigital;
  const auto one = sram_imc::evaluate(p);
  p.banks = 4;
  const auto four = sram_imc::evaluate(p);
  EXPECT_NEAR(four.total_area_um2, 4 * one.total_area_um2, 1e-9 * four.total_area_um2);
  EXPECT_NEAR(four.energy_fj_per_mac(), one.energy_fj_per_mac(), 1e-9);
  EXPECT_EQ(four.tclk_ns, one.tclk_ns);
  p.banks = 1;
  p.vdd_v = 0.45;  // all DIMC energy is C * VDD^2
  EXPECT_NEAR(sram_imc::evaluate(p).energy_pj_per_cycle_total,
              one.energy_pj_per_cycle_total / 4, 1e-12);
}

// Degenerate macros still give positive latencies (the arch keys require read_ns,
// conversion_ns > 0).
TEST(SramImcMacro, SmallestMacrosHavePositiveTimes) {
  for (const char* tech : {"sram_aimc", "sram_dimc"}) {
    const std::string text = std::string("chip: {cores: 1}\ncrossbar: {technology: ") + tech +
                             ", rows: 1, cols: 8, cell_bits: 1}\nadc: {bits: 1, lossless: " +
                             (std::string(tech) == "sram_dimc" ? "true" : "false") +
                             "}\nquantization: {weight_bits: 8, activation_bits: 8}\n";
    const ArchSpec s = parse_arch_spec(text, "one_row.yaml");
    EXPECT_GT(s.crossbar.read_ns, 0.0) << tech;
    EXPECT_GT(s.adc.conversion_ns, 0.0) << tech;
  }
}

TEST(SramImcMacro, BadParametersAreInputErrors) {
  MacroParams p;
  p.input_bits_per_cycle = 9;  // more than the 8 input bits
  EXPECT_THROW(sram_imc::evaluate(p), InputError);
  p = MacroParams{};
  p.rows = 0;
  EXPECT_THROW(sram_imc::evaluate(p), InputError);
}

// The tolerance of the published comparison. ZigZag-IMC's own validation (per-chip scripts
// that add each chip's particular structure: column muxes, ADC sharing, Booth encoding,
// pipeline registers) lands within 0.51..1.31x on area and clock and 0.89..15.97x on
// energy (model_validation.png). cimsim uses the generic model only (one structure for all
// chips, the way a user configures it), so: within 2.5x of published for every figure,
// except the five figures where the generic structure is known to differ from the chip
// (docs/validation.md explains each), which must stay within 16x, the order of ZigZag's
// own worst (DIMC4 energy, 15.97x).
double allowed_factor(const std::string& chip, const std::string& figure) {
  static const std::map<std::string, double> outliers = {
      {"AIMC2 area", 16}, {"AIMC2 energy", 16}, {"DIMC2 area", 16},
      {"DIMC3 area", 16}, {"DIMC4 energy", 16}};
  auto it = outliers.find(chip + " " + figure);
  return it == outliers.end() ? 2.5 : it->second;
}

TEST(SramImcValidation, ModelWithinToleranceOfPublished) {
  std::printf("%s", sram_imc::validation_table_markdown().c_str());
  ASSERT_EQ(sram_imc::published_macros().size(), 7u);
  for (const auto& m : sram_imc::published_macros()) {
    const auto f = sram_imc::modelled_figures(m);
    const std::pair<const char*, double> ratios[] = {
        {"area", f.area_mm2 / m.area_mm2},
        {"clock", f.tclk_ns / m.tclk_ns},
        {"energy", f.energy_fj_per_mac / m.energy_fj_per_mac}};
    for (const auto& [figure, r] : ratios) {
      const double t = allowed_factor(m.label, figure);
      EXPECT_TRUE(r <= t && r >= 1 / t) << m.label << " " << figure << " model/published = " << r
                                        << ", allowed 1/" << t << " .. " << t;
    }
  }
}

// Pinned: the model's figures for the 7 chips. Any change to an equation, a constant or the
// mapping onto cimsim's cost components changes one of these; update them (and the table in
// docs/validation.md, `cimsim imc-validate`) only on purpose.
TEST(SramImcValidation, FiguresArePinned) {
  struct Pin {
    const char* label;
    double area_mm2, tclk_ns, fj_per_mac;
  };
  const Pin pins[] = {
      {"AIMC1", 1.225601706, 44.88764, 1.9110575},
      {"AIMC2", 0.05100291509, 6.56172, 929.09538},
      {"AIMC3", 2.572703613, 5.82188, 123.30048},
      {"DIMC1", 1.247562086, 3.31732, 82.144125},
      {"DIMC2", 0.005375492, 3.2026, 89.586},
      {"DIMC3", 0.9274120448, 3.9674, 70.29028125},
      {"DIMC4", 0.2170989696, 3.85268, 72.2570625},
  };
  const auto& chips = sram_imc::published_macros();
  for (size_t i = 0; i < chips.size(); ++i) {
    ASSERT_EQ(chips[i].label, pins[i].label);
    const auto f = sram_imc::modelled_figures(chips[i]);
    EXPECT_NEAR(f.area_mm2, pins[i].area_mm2, 1e-8 * pins[i].area_mm2) << pins[i].label;
    EXPECT_NEAR(f.tclk_ns, pins[i].tclk_ns, 1e-8 * pins[i].tclk_ns) << pins[i].label;
    EXPECT_NEAR(f.energy_fj_per_mac, pins[i].fj_per_mac, 1e-8 * pins[i].fj_per_mac)
        << pins[i].label << "; now {\"" << pins[i].label << "\", " << f.area_mm2 << ", "
        << f.tclk_ns << ", " << f.energy_fj_per_mac << "}";
  }
}

// docs/validation.md shows `cimsim imc-validate`'s table; it must be the current output.
TEST(SramImcValidation, DocsTableIsCurrent) {
  std::ifstream in(arch_test::source_path("docs/validation.md"));
  ASSERT_TRUE(in) << "docs/validation.md missing";
  std::stringstream buf;
  buf << in.rdbuf();
  EXPECT_NE(buf.str().find(sram_imc::validation_table_markdown()), std::string::npos)
      << "docs/validation.md's SRAM IMC table is stale; paste the output of "
         "`build/bin/cimsim imc-validate`";
}

// The cost components cimsim charges (crossbar, dac, snh, adc, shift_add per action and per
// instance) add up to ZigZag's macro totals: nothing lost or double-counted in the mapping.
TEST(SramImcValidation, ArchComponentsConserveMacroTotals) {
  for (const auto& m : sram_imc::published_macros()) {
    MacroParams p;
    p.kind = m.kind;
    p.rows = m.rows;
    p.weight_cols = m.weight_cols;
    p.weight_bits = m.weight_bits;
    p.input_bits = m.input_bits;
    p.input_bits_per_cycle = m.input_bits_per_cycle;
    p.adc_bits = m.adc_bits;
    p.group_depth = m.group_depth;
    p.banks = m.banks;
    p.vdd_v = m.vdd_v;
    p.tech_node_nm = m.tech_node_nm;
    p.input_toggle_rate = m.input_toggle_rate;
    p.weight_sparsity = m.weight_sparsity;
    const auto direct = sram_imc::evaluate(p);
    const auto via_arch = sram_imc::modelled_figures(m);
    EXPECT_NEAR(via_arch.area_mm2, direct.total_area_um2 * 1e-6, 1e-9 * via_arch.area_mm2)
        << m.label;
    EXPECT_NEAR(via_arch.tclk_ns, direct.tclk_ns, 1e-9 * direct.tclk_ns) << m.label;
    EXPECT_NEAR(via_arch.energy_fj_per_mac, direct.energy_fj_per_mac(),
                1e-9 * direct.energy_fj_per_mac()) << m.label;
  }
}

const char* kSram =
    "chip: {cores: 1}\n"
    "pe: {crossbars: 2, adcs: 128, shift_adds: 128}\n"
    "crossbar: {technology: sram_aimc, rows: 64, cols: 64, cell_bits: 1}\n"
    "adc: {bits: 6}\n";

TEST(SramImcArch, TechnologyFillsMacroCosts) {
  const ArchSpec s = parse_arch_spec(kSram, "sram.yaml");
  EXPECT_EQ(s.crossbar.technology, CrossbarTechnology::kSramAnalog);
  const auto m = sram_imc::evaluate(sram_imc::macro_params(s));
  EXPECT_NEAR(s.costs.at("adc").energy_pj, m.energy_pj_per_cycle.at("adcs") / 64, 1e-12);
  EXPECT_NEAR(s.costs.at("adc").area_um2, m.area_um2.at("adcs") / 64, 1e-9);
  EXPECT_EQ(s.costs.at("snh").energy_pj, 0.0);
  EXPECT_NE(s.costs.at("crossbar").source.find("ZigZag-IMC"), std::string::npos);
  EXPECT_DOUBLE_EQ(s.crossbar.read_ns, m.tclk_ns);
  EXPECT_DOUBLE_EQ(s.adc.conversion_ns, m.delay_ns.at("adcs"));
  // Components outside the macro keep their defaults.
  const ArchSpec reram = parse_arch_spec(arch_test::kMinimal, "reram.yaml");
  EXPECT_EQ(s.costs.at("buffer").energy_pj, reram.costs.at("buffer").energy_pj);
  EXPECT_EQ(reram.costs.at("adc").energy_pj, 1.5625);  // ReRAM: the ISAAC default
}

TEST(SramImcArch, ExplicitFiguresWin) {
  const std::string text = std::string(kSram) +
                           "costs: {adc: {energy_pj: 3.5, area_um2: 10, source: measured}}\n"
                           "dac: {bits: 1}\n";
  std::string with_read = text;
  with_read.replace(with_read.find("cell_bits: 1}"), 13, "cell_bits: 1, read_ns: 50}");
  const ArchSpec s = parse_arch_spec(with_read, "sram.yaml");
  EXPECT_EQ(s.costs.at("adc").energy_pj, 3.5);
  EXPECT_EQ(s.costs.at("adc").source, "measured");
  EXPECT_EQ(s.crossbar.read_ns, 50.0);
  EXPECT_NE(s.costs.at("shift_add").source.find("ZigZag-IMC"), std::string::npos);
}

TEST(SramImcArch, Errors) {
  std::string two_bit = kSram;
  two_bit.replace(two_bit.find("cell_bits: 1"), 12, "cell_bits: 2");
  try {
    parse_arch_spec(two_bit, "sram.yaml");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("sram.yaml:3:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("expected cell_bits: 1"), std::string::npos);
  }
  std::string dimc = kSram;
  dimc.replace(dimc.find("sram_aimc"), 9, "sram_dimc");
  try {
    parse_arch_spec(dimc, "sram.yaml");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("expected adc.lossless: true"), std::string::npos)
        << e.what();
  }
  std::string typo = kSram;
  typo.replace(typo.find("sram_aimc"), 9, "sram_amic");
  EXPECT_THROW(parse_arch_spec(typo, "sram.yaml"), InputError);
}

}  // namespace
}  // namespace cimsim
