// derive(): values computed by hand from the configs and the formulas in docs/config.md,
// and ISAAC-CE's published chip power and area.
#include <gtest/gtest.h>

#include <cstdio>

#include "platform/spec/arch.h"
#include "tests/spec_arch/arch_test_util.h"

namespace cimsim {
namespace {

using arch_test::minimal_with;
using arch_test::source_path;

TEST(ArchDerived, Isaac) {
  ArchDerived d = derive(load_arch_spec(source_path("configs/isaac.yaml")));
  EXPECT_DOUBLE_EQ(d.cycle_ns, 0.78125);                 // 1000 / 1280
  EXPECT_EQ(d.crossbars_per_core, 96);                   // 12 IMAs x 8
  EXPECT_EQ(d.crossbars_per_chip, 16128);                // x 168 tiles
  EXPECT_EQ(d.cells_per_weight, 4);                      // 8-bit offset weight / 2-bit cells
  EXPECT_EQ(d.weight_cols_per_crossbar, 32);             // 128 / 4
  EXPECT_EQ(d.input_steps, 8);                           // 8-bit activations, 1-bit DAC
  EXPECT_EQ(d.adc_conversions_per_mvm, 1024);            // 8 steps x 128 columns
  EXPECT_DOUBLE_EQ(d.mvm_latency_ns, 900.0);             // 100 + 8 x max(100, 128 x 0.78125)
  // 16128 crossbars x 128 rows x 32 weight columns per 800 ns
  EXPECT_NEAR(d.peak_macs_per_s, 8.257536e13, 1e3);
}

TEST(ArchDerived, IsaacPublishedPowerAndArea) {
  ArchDerived d = derive(load_arch_spec(source_path("configs/isaac.yaml")));
  std::printf("ISAAC-CE peak power %.3f W (published 65.8 W), area %.3f mm2 (published 85.4)\n",
              d.peak_power_mw * 1e-3, d.area_um2 * 1e-6);
  EXPECT_NEAR(d.peak_power_mw, 65.8e3, 0.05 * 65.8e3);
  EXPECT_NEAR(d.area_um2, 85.4e6, 0.05 * 85.4e6);
  // Per component, from Table I: 168 tiles x 12 IMAs x 16 mW of ADCs; 0.0096 mm2 per IMA.
  EXPECT_NEAR(d.peak_power_mw_by_component.at("adc"), 168 * 12 * 16.0, 1e-6);
  EXPECT_NEAR(d.area_um2_by_component.at("adc"), 168 * 12 * 9600.0, 1e-3);
  EXPECT_NEAR(d.peak_power_mw_by_component.at("memory"), 10400.0, 1e-9);
  EXPECT_NEAR(d.peak_power_mw_by_component.at("router"), 168 * 10.5, 1e-6);
  EXPECT_NEAR(d.peak_power_mw_by_component.at("buffer"), 168 * 20.7, 1e-6);
  EXPECT_EQ(d.peak_power_mw_by_component.count("crossbar_write"), 0u);
  double sum = 0;
  for (const auto& [name, mw] : d.peak_power_mw_by_component) sum += mw;
  EXPECT_NEAR(sum, d.peak_power_mw, 1e-6);
}

TEST(ArchDerived, Tiny) {
  ArchDerived d = derive(load_arch_spec(source_path("configs/tiny.yaml")));
  EXPECT_EQ(d.crossbars_per_core, 8);         // 2 PEs x 4
  EXPECT_EQ(d.crossbars_per_chip, 32);        // x 4 cores
  EXPECT_EQ(d.cells_per_weight, 4);
  EXPECT_EQ(d.weight_cols_per_crossbar, 8);   // 32 / 4
  EXPECT_EQ(d.input_steps, 8);
  EXPECT_EQ(d.adc_conversions_per_mvm, 256);  // 8 x 32
  EXPECT_DOUBLE_EQ(d.mvm_latency_ns, 900.0);  // 100 + 8 x max(100, 32 x 0.78125 = 25)
  EXPECT_NEAR(d.peak_macs_per_s, 32.0 * 32 * 8 / 800e-9, 1.0);
}

TEST(ArchDerived, AdcBoundAndShared) {
  // 128 columns, one ADC shared by 4 crossbars, 2 ns per conversion, 4-bit DAC on 8-bit
  // activations: alone, a crossbar converts 128 columns in 256 ns per step (> 100 ns read);
  // together, the shared ADC serializes 4 crossbars: 1024 ns per step.
  std::string text = minimal_with("  cols: 32", "  cols: 128") +
                     "  conversion_ns: 2\npe:\n  crossbars: 4\n  adcs: 1\ndac:\n  bits: 4\n";
  ArchDerived d = derive(parse_arch_spec(text, "t.yaml"));
  EXPECT_EQ(d.input_steps, 2);
  EXPECT_EQ(d.adc_conversions_per_mvm, 2 * 128);
  EXPECT_DOUBLE_EQ(d.mvm_latency_ns, 100 + 2 * 256.0);
  // 4 cores x 1 PE x 4 crossbars, 32 rows x 32 weight columns, 2 steps of 1024 ns
  EXPECT_NEAR(d.peak_macs_per_s, 16.0 * 32 * 32 / (2 * 1024e-9), 1.0);
}

TEST(ArchDerived, TwoAdcsPerCrossbarHalveConversionTime) {
  std::string text = minimal_with("  cols: 32", "  cols: 128") +
                     "  conversion_ns: 2\npe:\n  crossbars: 2\n  adcs: 4\n";
  ArchDerived d = derive(parse_arch_spec(text, "t.yaml"));
  EXPECT_DOUBLE_EQ(d.mvm_latency_ns, 100 + 8 * (64 * 2.0));  // A = 2: 64 conversions each
}

TEST(ArchDerived, DifferentialEncodingUsesColumnPairs) {
  std::string text = minimal_with("  cell_bits: 2", "  cell_bits: 2\n  encoding: differential");
  ArchDerived d = derive(parse_arch_spec(text, "t.yaml"));
  EXPECT_EQ(d.cells_per_weight, 8);          // 2 x ceil(7 magnitude bits / 2)
  EXPECT_EQ(d.weight_cols_per_crossbar, 4);  // 32 / 8
}

TEST(ArchDerived, UnusedColumnsAreNotConverted) {
  // 30 columns hold 7 weights of 4 cells; the last 2 columns are never converted.
  ArchDerived d = derive(parse_arch_spec(minimal_with("  cols: 32", "  cols: 30"), "t.yaml"));
  EXPECT_EQ(d.weight_cols_per_crossbar, 7);
  EXPECT_EQ(d.adc_conversions_per_mvm, 8 * 28);
}

TEST(ArchDerived, DescribeShowsSectionsAndDerived) {
  std::string text = describe(load_arch_spec(source_path("configs/isaac.yaml")));
  for (const char* s : {"isaac-ce", "crossbar:", "rows", "128", "16128 per chip", "900 ns",
                        "peak power", "mm2", "HyperTransport"})
    EXPECT_NE(text.find(s), std::string::npos) << "missing '" << s << "' in\n" << text;
}

}  // namespace
}  // namespace cimsim
