// costs.buffer by buffer capacity (core.buffer_cost_scaling, buffer_cost_scaling.h): the scaled
// figures are PUMA's eDRAM power law (fitted here, in the test, to its four published figures)
// times the given figure, every consumer sees them (derive(), describe()), a written spec loads
// back to the same figures, ISAAC at 64 KB is unchanged, and bad values are InputErrors at the
// key's position.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "platform/spec/arch.h"
#include "platform/spec/arch_edit.h"
#include "tests/spec_arch/arch_test_util.h"

namespace cimsim {
namespace {

using arch_test::kMinimal;
using arch_test::source_path;

// PUMA's eDRAM, copied from /work/shared/reference/component-costs.md ("eDRAM 64 KB" row),
// not from the code under test: 64 KB 17.2 pJ per 256 b, 0.086 mm2; 128 KB 25.35 pJ, 0.121 mm2.
double energy_ratio(double bytes, double reference) {
  return std::pow(bytes / reference, std::log2(25.35 / 17.2));
}
double area_ratio(double bytes, double reference) {
  return std::pow(bytes / reference, std::log2(0.121 / 0.086));
}

// kMinimal with a core section at `bytes` and a costs.buffer given at `reference` bytes.
// Lines: 12 buffer_bytes (value at column 17), 13 buffer_cost_scaling (24),
// 14 buffer_cost_reference_bytes (32).
std::string scaled_spec(long bytes, long reference, const std::string& rule = "puma_edram") {
  return std::string(kMinimal) + "core:\n  buffer_bytes: " + std::to_string(bytes) +
         "\n  buffer_cost_scaling: " + rule + "\n  buffer_cost_reference_bytes: " +
         std::to_string(reference) +
         "\n"
         "costs:\n"
         "  buffer:\n"
         "    energy_pj: 16\n"
         "    leakage_mw: 0.5\n"
         "    area_um2: 80000\n"
         "    source: test figure\n";
}

using arch_test::expect_error;

TEST(BufferCostScaling, ScaledFiguresArePowerLawRatiosTimesTheGivenFigure) {
  for (long reference : {32768L, 65536L}) {
    for (long bytes : {4096L, 32768L, 65536L, 131072L, 1048576L}) {
      SCOPED_TRACE("reference " + std::to_string(reference) + ", bytes " + std::to_string(bytes));
      const ArchSpec s = parse_arch_spec(scaled_spec(bytes, reference), "t.yaml");
      const ComponentCost& c = s.costs.at("buffer");
      EXPECT_NEAR(c.energy_pj, 16 * energy_ratio(bytes, reference), 1e-12);
      EXPECT_NEAR(c.area_um2, 80000 * area_ratio(bytes, reference), 1e-7);
      EXPECT_NEAR(c.leakage_mw, 0.5 * area_ratio(bytes, reference), 1e-12);  // leakage follows area
      EXPECT_EQ(c.source, "test figure");
      EXPECT_EQ(s.costs.given.at("buffer").energy_pj, 16);
    }
  }
  // The two published points themselves: 64 KB -> 128 KB is exactly PUMA's ratios.
  const ArchSpec s = parse_arch_spec(scaled_spec(131072, 65536), "t.yaml");
  EXPECT_NEAR(s.costs.at("buffer").energy_pj, 16 * 25.35 / 17.2, 1e-12);
  EXPECT_NEAR(s.costs.at("buffer").area_um2, 80000 * 0.121 / 0.086, 1e-7);
}

TEST(BufferCostScaling, AtTheReferenceAndWithoutKeysTheFigureIsAsGiven) {
  const ArchSpec at = parse_arch_spec(scaled_spec(65536, 65536), "t.yaml");
  EXPECT_EQ(at.costs.at("buffer").energy_pj, 16);
  EXPECT_EQ(at.costs.at("buffer").area_um2, 80000);
  EXPECT_EQ(at.costs.at("buffer").leakage_mw, 0.5);
  std::string plain = scaled_spec(16384, 65536);
  plain.replace(plain.find("  buffer_cost_scaling: puma_edram\n  buffer_cost_reference_bytes: 65536\n"),
                std::string("  buffer_cost_scaling: puma_edram\n  buffer_cost_reference_bytes: 65536\n").size(), "");
  const ArchSpec p = parse_arch_spec(plain, "t.yaml");
  EXPECT_EQ(p.core.buffer_bytes, 16384);
  EXPECT_EQ(p.costs.at("buffer").energy_pj, 16);
  EXPECT_EQ(p.costs.at("buffer").area_um2, 80000);
  EXPECT_EQ(p.costs.given.count("buffer"), 0u);
}

TEST(BufferCostScaling, IsaacAt64KbKeepsItsFigures) {
  const ArchSpec s = load_arch_spec(source_path("configs/isaac.yaml"));
  EXPECT_EQ(s.core.buffer_cost_scaling, BufferCostScaling::kPumaEdram);
  EXPECT_EQ(s.core.buffer_cost_reference_bytes, 65536);
  EXPECT_EQ(s.costs.at("buffer").energy_pj, 16.171875);
  EXPECT_EQ(s.costs.at("buffer").area_um2, 83000);
  EXPECT_EQ(s.costs.at("buffer").leakage_mw, 0);
}

// derive(): at 32 KB the buffer's peak power and area are the 64 KB ones x the ratios, every
// other component is unchanged, so the totals move by exactly the buffer's share.
TEST(BufferCostScaling, DerivedPeakPowerAndAreaMoveByTheBufferShare) {
  const ArchSpec a64 = load_arch_spec(source_path("configs/isaac.yaml"));
  const ArchSpec a32 = apply_arch_overrides(a64, {{"core.buffer_bytes", "32768", "test"}}, "t");
  const ArchDerived d64 = derive(a64), d32 = derive(a32);
  const double re = energy_ratio(32768, 65536), ra = area_ratio(32768, 65536);
  const double p64 = d64.peak_power_mw_by_component.at("buffer");
  const double area64 = d64.area_um2_by_component.at("buffer");
  ASSERT_GT(p64, 0);
  EXPECT_NEAR(d32.peak_power_mw_by_component.at("buffer"), p64 * re, 1e-6);
  EXPECT_NEAR(d32.area_um2_by_component.at("buffer"), area64 * ra, 1e-3);
  EXPECT_NEAR(d32.peak_power_mw - d64.peak_power_mw, p64 * (re - 1), 1e-6);
  EXPECT_NEAR(d32.area_um2 - d64.area_um2, area64 * (ra - 1), 1e-3);
  for (const auto& [name, um2] : d64.area_um2_by_component)
    if (name != "buffer") {
      EXPECT_EQ(d32.area_um2_by_component.at(name), um2) << name;
    }
}

TEST(BufferCostScaling, WrittenSpecLoadsBackToTheSameFigures) {
  const ArchSpec a = parse_arch_spec(scaled_spec(32768, 65536), "t.yaml");
  const std::string text = arch_to_yaml(a);
  EXPECT_NE(text.find("energy_pj: 16\n"), std::string::npos) << "the given figure, not the scaled one";
  const ArchSpec b = parse_arch_spec(text, "back.yaml");
  EXPECT_TRUE(arch_differences(a, b).empty());
  EXPECT_EQ(b.costs.at("buffer").energy_pj, a.costs.at("buffer").energy_pj);
  EXPECT_EQ(arch_fingerprint(a), arch_fingerprint(b));
  // An override of the given figure is scaled like the file's.
  const ArchSpec c = apply_arch_overrides(a, {{"costs.buffer.energy_pj", "8", "test"}}, "t");
  EXPECT_NEAR(c.costs.at("buffer").energy_pj, 8 * energy_ratio(32768, 65536), 1e-12);
}

TEST(BufferCostScaling, DescribePrintsTheScaledAndTheGivenFigure) {
  const std::string d = describe(parse_arch_spec(scaled_spec(32768, 65536), "t.yaml"));
  EXPECT_NE(d.find("buffer cost at 32768 B"), std::string::npos) << d;
  EXPECT_NE(d.find("from 16 pJ, 80000 um2, 0.5 mW given at 65536 B"), std::string::npos) << d;
}

TEST(BufferCostScaling, BadValuesAreErrorsAtTheirKey) {
  expect_error(scaled_spec(2048, 65536), "t.yaml:12:17: ", "core.buffer_bytes = 2048 is outside the 4096..1048576");
  expect_error(scaled_spec(2097152, 65536), "t.yaml:12:17: ", "expected core.buffer_bytes in 4096..1048576");
  expect_error(scaled_spec(65536, 0), "t.yaml:14:32: ", "core.buffer_cost_reference_bytes = 0");
  expect_error(scaled_spec(65536, 1000), "t.yaml:14:32: ", "needs the capacity costs.buffer is given at");
  expect_error(scaled_spec(65536, 65536, "cacti"), "t.yaml:13:24: ", "expected one of none|puma_edram");
  expect_error(scaled_spec(65536, 65536, "none"), "t.yaml:14:32: ",
               "has no effect with core.buffer_cost_scaling = none");
}

}  // namespace
}  // namespace cimsim
