// costs.adc by ADC resolution and costs.dac by DAC resolution (adc/dac.cost_scaling,
// converter_cost_scaling.h): the scaled figures are the published table's ratios times the
// given figure, every consumer sees them (derive(), describe()), a written spec loads back to
// the same figures, ISAAC at 8 ADC bits and 1 DAC bit is unchanged, and bad values are
// InputErrors at the key's position.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

#include "platform/spec/arch.h"
#include "platform/spec/arch_edit.h"
#include "tests/spec_arch/arch_test_util.h"

namespace cimsim {
namespace {

using arch_test::minimal_with;
using arch_test::source_path;

// HWC's ISAAC ADC by resolution, pJ per conversion and um2, copied from
// /work/shared/reference/component-costs.md 2a (not from the code under test).
struct Published {
  double pj, um2;
};
const std::map<int, Published> kHwc = {{4, {0.79, 361}},   {5, {0.99, 477}},   {6, {1.20, 627}},
                                       {7, {1.42, 845}},   {8, {1.67, 1200}},  {9, {1.97, 1828}},
                                       {10, {2.38, 3002}}};

// kMinimal at `bits` with a costs.adc given at `reference` bits.
std::string scaled_spec(int bits, int reference, const std::string& rule = "saberi_sar") {
  return minimal_with("  bits: 8\n", "  bits: " + std::to_string(bits) + "\n  cost_scaling: " + rule +
                                         "\n  cost_reference_bits: " + std::to_string(reference) + "\n") +
         "costs:\n"
         "  adc:\n"
         "    energy_pj: 2.5\n"
         "    leakage_mw: 0.25\n"
         "    area_um2: 1000\n"
         "    source: test figure\n";
}

using arch_test::expect_error;

TEST(AdcCostScaling, ScaledFiguresAreTableRatiosTimesTheGivenFigure) {
  for (int reference : {6, 8}) {
    for (int bits : {4, 6, 8, 10}) {
      SCOPED_TRACE("reference " + std::to_string(reference) + ", bits " + std::to_string(bits));
      const ArchSpec s = parse_arch_spec(scaled_spec(bits, reference), "t.yaml");
      const double re = kHwc.at(bits).pj / kHwc.at(reference).pj;
      const double ra = kHwc.at(bits).um2 / kHwc.at(reference).um2;
      const ComponentCost& c = s.costs.at("adc");
      EXPECT_DOUBLE_EQ(c.energy_pj, 2.5 * re);
      EXPECT_DOUBLE_EQ(c.leakage_mw, 0.25 * re);
      EXPECT_DOUBLE_EQ(c.area_um2, 1000 * ra);
      EXPECT_EQ(c.source, "test figure");
      // The given figure is kept, for printing and writing back.
      ASSERT_EQ(s.costs.given.count("adc"), 1u);
      EXPECT_EQ(s.costs.given.at("adc").energy_pj, 2.5);
      EXPECT_EQ(s.costs.given.at("adc").area_um2, 1000);
      // Only the ADC changes.
      const ArchSpec plain = parse_arch_spec(minimal_with("  bits: 8\n", "  bits: " + std::to_string(bits) + "\n"),
                                             "t.yaml");
      for (const auto& [name, cost] : plain.costs.components) {
        if (name != "adc") {
          EXPECT_EQ(s.costs.at(name).energy_pj, cost.energy_pj) << name;
        }
      }
    }
  }
  // At the reference itself the ratios are exactly 1.
  const ArchSpec same = parse_arch_spec(scaled_spec(8, 8), "t.yaml");
  EXPECT_EQ(same.costs.at("adc").energy_pj, 2.5);
  EXPECT_EQ(same.costs.at("adc").area_um2, 1000);
}

TEST(AdcCostScaling, WithoutScalingTheFigureIsAsGivenAtAnyBits) {
  const ArchSpec isaac8 = parse_arch_spec(arch_test::kMinimal, "t.yaml");
  const ArchSpec s = parse_arch_spec(minimal_with("  bits: 8\n", "  bits: 4\n"), "t.yaml");
  EXPECT_EQ(s.adc.cost_scaling, AdcCostScaling::kNone);
  EXPECT_EQ(s.adc.cost_reference_bits, 0);
  EXPECT_TRUE(s.costs.given.empty());
  EXPECT_EQ(s.costs.at("adc").energy_pj, isaac8.costs.at("adc").energy_pj);
  EXPECT_EQ(s.costs.at("adc").area_um2, isaac8.costs.at("adc").area_um2);
  EXPECT_EQ(derive(s).peak_power_mw_by_component.at("adc"), derive(isaac8).peak_power_mw_by_component.at("adc"));
}

TEST(AdcCostScaling, IsaacAtEightBitsKeepsItsFigures) {
  const ArchSpec s = load_arch_spec(source_path("configs/isaac.yaml"));
  EXPECT_EQ(s.adc.cost_scaling, AdcCostScaling::kSaberiSar);
  EXPECT_EQ(s.adc.cost_reference_bits, 8);
  EXPECT_EQ(s.costs.at("adc").energy_pj, 1.5625);
  EXPECT_EQ(s.costs.at("adc").area_um2, 1200);
  EXPECT_EQ(s.costs.at("adc").leakage_mw, 0);
}

// derive(): at 6 bits the ADC's peak power and area are the 8-bit ones x the ratios, every
// other component is unchanged, so the totals move by exactly the ADC's share.
TEST(AdcCostScaling, DerivedPeakPowerAndAreaMoveByTheAdcShare) {
  const ArchSpec a8 = load_arch_spec(source_path("configs/isaac.yaml"));
  const ArchSpec a6 = apply_arch_overrides(a8, {{"adc.bits", "6", "test"}}, "t");
  const ArchDerived d8 = derive(a8), d6 = derive(a6);
  const double re = kHwc.at(6).pj / kHwc.at(8).pj, ra = kHwc.at(6).um2 / kHwc.at(8).um2;
  EXPECT_NEAR(d6.peak_power_mw_by_component.at("adc"), d8.peak_power_mw_by_component.at("adc") * re, 1e-6);
  EXPECT_NEAR(d6.area_um2_by_component.at("adc"), d8.area_um2_by_component.at("adc") * ra, 1e-3);
  EXPECT_NEAR(d6.peak_power_mw - d8.peak_power_mw, d8.peak_power_mw_by_component.at("adc") * (re - 1), 1e-6);
  EXPECT_NEAR(d6.area_um2 - d8.area_um2, d8.area_um2_by_component.at("adc") * (ra - 1), 1e-3);
  // ISAAC's 32256 ADCs at 2 mW: 64.5 W of ADC peak power is 1.2/1.67 as much at 6 bits.
  EXPECT_LT(d6.peak_power_mw, d8.peak_power_mw);
  EXPECT_EQ(d6.mvm_latency_ns, d8.mvm_latency_ns);  // conversion_ns is not scaled
}

TEST(AdcCostScaling, WrittenSpecLoadsBackToTheSameFigures) {
  const ArchSpec a = parse_arch_spec(scaled_spec(5, 8), "t.yaml");
  const std::string text = arch_to_yaml(a);
  EXPECT_NE(text.find("energy_pj: 2.5\n"), std::string::npos) << "the given figure, not the scaled one";
  const ArchSpec b = parse_arch_spec(text, "back.yaml");
  EXPECT_TRUE(arch_differences(a, b).empty());
  EXPECT_EQ(b.costs.at("adc").energy_pj, a.costs.at("adc").energy_pj);
  EXPECT_EQ(arch_fingerprint(a), arch_fingerprint(b));
  // An override of the given figure is scaled like the file's.
  const ArchSpec c = apply_arch_overrides(a, {{"costs.adc.energy_pj", "5", "test"}}, "t");
  EXPECT_DOUBLE_EQ(c.costs.at("adc").energy_pj, 5 * kHwc.at(5).pj / kHwc.at(8).pj);
}

TEST(AdcCostScaling, DescribePrintsTheScaledAndTheGivenFigure) {
  const std::string d = describe(parse_arch_spec(scaled_spec(6, 8), "t.yaml"));
  EXPECT_NE(d.find("cost_scaling"), std::string::npos) << d;
  EXPECT_NE(d.find("adc cost at 6 bits"), std::string::npos) << d;
  EXPECT_NE(d.find("from 2.5 pJ, 1000 um2, 0.25 mW given at 8 bits"), std::string::npos) << d;
}

// Lines of scaled_spec(): 10 bits, 11 cost_scaling, 12 cost_reference_bits; values at
// columns 9, 17 and 24.
TEST(AdcCostScaling, BadValuesAreErrorsAtTheirKey) {
  expect_error(scaled_spec(8, 3), "t.yaml:12:24: ", "adc.cost_reference_bits = 3");
  expect_error(scaled_spec(8, 11), "t.yaml:12:24: ", "4..10");
  expect_error(scaled_spec(8, 0), "t.yaml:12:24: ", "needs the resolution");
  expect_error(scaled_spec(12, 8), "t.yaml:10:9: ", "adc.bits = 12 is outside the saberi_sar table");
  expect_error(scaled_spec(3, 8), "t.yaml:10:9: ", "expected adc.bits in 4..10");
  expect_error(scaled_spec(8, 8, "linear"), "t.yaml:11:17: ", "expected one of none|saberi_sar");
  expect_error(scaled_spec(8, 8, "saberi-sar"), "t.yaml:11:17: ", "did you mean 'saberi_sar'");
  expect_error(scaled_spec(8, 8, "none"), "t.yaml:12:24: ", "has no effect with adc.cost_scaling = none");
  expect_error(minimal_with("  bits: 8\n", "  bits: 8\n  cost_reference_bits: 17\n"), "t.yaml:11:24: ",
               "out of range");
  // An SRAM macro's ADC cost is already computed for adc.bits (lines shift by one: 12 is
  // cost_scaling); with an explicit costs.adc there is a given figure to scale.
  std::string sram = arch_test::kMinimal;
  sram.replace(sram.find("crossbar:\n"), 10, "crossbar:\n  technology: sram_aimc\n");
  sram.replace(sram.find("cell_bits: 2"), 12, "cell_bits: 1");
  sram += "  cost_scaling: saberi_sar\n  cost_reference_bits: 8\n";
  expect_error(sram, "t.yaml:12:17: ", "the macro model already computes costs.adc");
  const ArchSpec given = parse_arch_spec(
      sram + "costs:\n  adc:\n    energy_pj: 2\n    area_um2: 100\n    source: test\n", "t.yaml");
  EXPECT_EQ(given.costs.at("adc").energy_pj, 2);  // at the reference, 8 bits
}

// MNSIM's ISAAC-scaled DAC table, uW and um2, copied from
// /work/shared/reference/component-costs.md 2c (1 b from the 1-b DAC row; not from the code
// under test). 3 and 5 bits are the geometric means of their neighbours (the rule this
// cimsim documents, docs/config.md "Converter resolution scaling").
const std::map<int, Published> kMnsim = {{1, {3.9, 0.166}}, {2, {7.8, 0.33}}, {4, {31.2, 1.33}}, {6, {124.8, 5.31}}};
Published mnsim_at(int bits) {
  if (kMnsim.count(bits)) return kMnsim.at(bits);
  const Published lo = kMnsim.at(bits - 1), hi = kMnsim.at(bits + 1);
  return {std::sqrt(lo.pj * hi.pj), std::sqrt(lo.um2 * hi.um2)};
}

// kMinimal plus a dac section at `bits` with a costs.dac given at `reference` bits. Lines:
// 11 dac, 12 bits (value at column 9), 13 cost_scaling (17), 14 cost_reference_bits (24).
std::string dac_spec(int bits, int reference, const std::string& rule = "mnsim") {
  return std::string(arch_test::kMinimal) + "dac:\n  bits: " + std::to_string(bits) + "\n  cost_scaling: " + rule +
         "\n  cost_reference_bits: " + std::to_string(reference) + "\n" +
         "costs:\n"
         "  dac:\n"
         "    energy_pj: 0.5\n"
         "    leakage_mw: 0.002\n"
         "    area_um2: 0.2\n"
         "    source: test figure\n";
}

TEST(DacCostScaling, ScaledFiguresAreTableRatiosTimesTheGivenFigure) {
  for (int reference : {1, 2}) {
    for (int bits : {1, 2, 3, 4, 5, 6}) {
      SCOPED_TRACE("reference " + std::to_string(reference) + ", bits " + std::to_string(bits));
      const ArchSpec s = parse_arch_spec(dac_spec(bits, reference), "t.yaml");
      const double re = mnsim_at(bits).pj / mnsim_at(reference).pj;
      const double ra = mnsim_at(bits).um2 / mnsim_at(reference).um2;
      const ComponentCost& c = s.costs.at("dac");
      EXPECT_NEAR(c.energy_pj, 0.5 * re, 1e-12 * c.energy_pj);
      EXPECT_NEAR(c.leakage_mw, 0.002 * re, 1e-12 * c.leakage_mw);
      EXPECT_NEAR(c.area_um2, 0.2 * ra, 1e-12 * c.area_um2);
      EXPECT_EQ(c.source, "test figure");
      ASSERT_EQ(s.costs.given.count("dac"), 1u);
      EXPECT_EQ(s.costs.given.at("dac").energy_pj, 0.5);
      EXPECT_EQ(s.costs.given.count("adc"), 0u);
      // Only the DAC changes.
      const ArchSpec plain = parse_arch_spec(arch_test::kMinimal, "t.yaml");
      for (const auto& [name, cost] : plain.costs.components) {
        if (name != "dac") {
          EXPECT_EQ(s.costs.at(name).energy_pj, cost.energy_pj) << name;
          EXPECT_EQ(s.costs.at(name).area_um2, cost.area_um2) << name;
        }
      }
    }
  }
  // The table's power doubles per bit: 2 bits at twice the 1-bit energy per drive.
  EXPECT_DOUBLE_EQ(parse_arch_spec(dac_spec(2, 1), "t.yaml").costs.at("dac").energy_pj, 1.0);
  const ArchSpec same = parse_arch_spec(dac_spec(1, 1), "t.yaml");
  EXPECT_EQ(same.costs.at("dac").energy_pj, 0.5);
  EXPECT_EQ(same.costs.at("dac").area_um2, 0.2);
}

TEST(DacCostScaling, WithoutScalingTheFigureIsAsGivenAtAnyBits) {
  const ArchSpec d1 = parse_arch_spec(arch_test::kMinimal, "t.yaml");
  const ArchSpec d2 = parse_arch_spec(std::string(arch_test::kMinimal) + "dac:\n  bits: 2\n", "t.yaml");
  EXPECT_EQ(d2.dac.cost_scaling, DacCostScaling::kNone);
  EXPECT_EQ(d2.dac.cost_reference_bits, 0);
  EXPECT_TRUE(d2.costs.given.empty());
  EXPECT_EQ(d2.costs.at("dac").energy_pj, d1.costs.at("dac").energy_pj);
  EXPECT_EQ(d2.costs.at("dac").area_um2, d1.costs.at("dac").area_um2);
}

// ISAAC (and ideal.yaml, which takes the built-in costs) at 1 bit: the given figures exactly.
TEST(DacCostScaling, IsaacAtOneBitKeepsItsFigures) {
  for (const char* file : {"configs/isaac.yaml", "configs/ideal.yaml"}) {
    SCOPED_TRACE(file);
    const ArchSpec s = load_arch_spec(source_path(file));
    EXPECT_EQ(s.dac.cost_scaling, DacCostScaling::kMnsim);
    EXPECT_EQ(s.dac.cost_reference_bits, 1);
    EXPECT_EQ(s.costs.at("dac").energy_pj, 0.390625);
    EXPECT_EQ(s.costs.at("dac").area_um2, 0.166015625);
    EXPECT_EQ(s.costs.at("dac").leakage_mw, 0);
  }
  // At 2 bits ISAAC's 1024 DACs per PE cost twice the power and 0.33 / 0.166 the area; the
  // totals move by exactly the DAC's share.
  const ArchSpec a1 = load_arch_spec(source_path("configs/isaac.yaml"));
  const ArchSpec a2 = apply_arch_overrides(a1, {{"dac.bits", "2", "test"}}, "t");
  const ArchDerived d1 = derive(a1), d2 = derive(a2);
  const double ra = kMnsim.at(2).um2 / kMnsim.at(1).um2;
  EXPECT_NEAR(d2.peak_power_mw_by_component.at("dac"), 2 * d1.peak_power_mw_by_component.at("dac"), 1e-9);
  EXPECT_NEAR(d2.area_um2_by_component.at("dac"), ra * d1.area_um2_by_component.at("dac"), 1e-6);
  EXPECT_NEAR(d2.area_um2 - d1.area_um2, d1.area_um2_by_component.at("dac") * (ra - 1), 1e-3);
}

TEST(DacCostScaling, WrittenSpecLoadsBackToTheSameFigures) {
  const ArchSpec a = parse_arch_spec(dac_spec(3, 1), "t.yaml");
  const std::string text = arch_to_yaml(a);
  const ArchSpec b = parse_arch_spec(text, "back.yaml");
  EXPECT_TRUE(arch_differences(a, b).empty());
  EXPECT_EQ(b.costs.at("dac").energy_pj, a.costs.at("dac").energy_pj);
  EXPECT_EQ(b.costs.given.at("dac").energy_pj, 0.5);
  EXPECT_EQ(arch_fingerprint(a), arch_fingerprint(b));
  // The scaling keys are cost-only: the compiled program does not depend on them.
  const ArchSpec flat = apply_arch_overrides(a, {{"dac.cost_scaling", "none", "t"}, {"dac.cost_reference_bits", "0", "t"}}, "t");
  EXPECT_EQ(arch_fingerprint(flat), arch_fingerprint(a));
  EXPECT_EQ(flat.costs.at("dac").energy_pj, 0.5);
}

TEST(DacCostScaling, DescribePrintsTheScaledAndTheGivenFigure) {
  const std::string d = describe(parse_arch_spec(dac_spec(2, 1), "t.yaml"));
  EXPECT_NE(d.find("dac cost at 2 bits: 1 pJ per row drive"), std::string::npos) << d;
  EXPECT_NE(d.find("(dac.cost_scaling mnsim from 0.5 pJ, 0.2 um2, 0.002 mW given at 1 bits)"), std::string::npos)
      << d;
  EXPECT_EQ(d.find("adc cost at"), std::string::npos) << d;
}

TEST(DacCostScaling, BadValuesAreErrorsAtTheirKey) {
  // 7 bits lies past the last trusted point (6); 8 bits' published power is doubtful.
  expect_error(dac_spec(7, 1), "t.yaml:12:9: ", "dac.bits = 7 is outside the mnsim table (1..6 bits)");
  expect_error(dac_spec(8, 1), "t.yaml:12:9: ", "expected dac.bits in 1..6 or dac.cost_scaling: none");
  expect_error(dac_spec(2, 7), "t.yaml:14:24: ", "dac.cost_reference_bits = 7");
  expect_error(dac_spec(2, 0), "t.yaml:14:24: ", "needs the resolution costs.dac is given at");
  expect_error(dac_spec(1, 1, "none"), "t.yaml:14:24: ", "has no effect with dac.cost_scaling = none");
  expect_error(dac_spec(1, 1, "saberi_sar"), "t.yaml:13:17: ", "expected one of none|mnsim");
  expect_error(dac_spec(1, 9), "t.yaml:14:24: ", "out of range");
  // An SRAM macro's DAC cost is already computed for dac.bits (lines shift by one).
  std::string sram = arch_test::kMinimal;
  sram.replace(sram.find("crossbar:\n"), 10, "crossbar:\n  technology: sram_aimc\n");
  sram.replace(sram.find("cell_bits: 2"), 12, "cell_bits: 1");
  sram += "dac:\n  bits: 1\n  cost_scaling: mnsim\n  cost_reference_bits: 1\n";
  expect_error(sram, "t.yaml:14:17: ", "the macro model already computes costs.dac");
}

// Both converters scaled in one spec: each by its own table, independently.
TEST(ConverterCostScaling, AdcAndDacScaleIndependently) {
  std::string text = dac_spec(2, 1);
  text.replace(text.find("  bits: 8\n"), 10, "  bits: 6\n  cost_scaling: saberi_sar\n  cost_reference_bits: 8\n");
  const ArchSpec s = parse_arch_spec(text, "t.yaml");
  const ArchSpec plain = parse_arch_spec(arch_test::kMinimal, "t.yaml");
  EXPECT_NEAR(s.costs.at("adc").energy_pj, plain.costs.at("adc").energy_pj * kHwc.at(6).pj / kHwc.at(8).pj, 1e-12);
  EXPECT_DOUBLE_EQ(s.costs.at("dac").energy_pj, 1.0);
  EXPECT_EQ(s.costs.given.size(), 2u);
  const std::string d = describe(s);
  EXPECT_NE(d.find("adc cost at 6 bits"), std::string::npos) << d;
  EXPECT_NE(d.find("dac cost at 2 bits"), std::string::npos) << d;
}

}  // namespace
}  // namespace cimsim
