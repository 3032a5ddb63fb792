// arch_fingerprint() and arch_differences().
#include <gtest/gtest.h>

#include "platform/spec/arch.h"
#include "tests/spec_arch/arch_test_util.h"

namespace cimsim {
namespace {

using arch_test::kMinimal;
using arch_test::minimal_with;
using arch_test::source_path;

TEST(ArchFingerprint, SameTextSameFingerprintAcrossKeyOrder) {
  ArchSpec a = parse_arch_spec(kMinimal, "a.yaml");
  // Same values, sections and keys in another order, another file name.
  ArchSpec b = parse_arch_spec(
      "adc:\n  bits: 8\ncrossbar:\n  cell_bits: 2\n  cols: 32\n  rows: 32\n"
      "chip:\n  mesh_cols: 2\n  mesh_rows: 2\n  cores: 4\n",
      "b.yaml");
  EXPECT_EQ(arch_fingerprint(a), arch_fingerprint(b));
  EXPECT_TRUE(arch_differences(a, b).empty());
}

TEST(ArchFingerprint, RowsChangeIt) {
  ArchSpec a = parse_arch_spec(kMinimal, "a.yaml");
  ArchSpec b = parse_arch_spec(minimal_with("  rows: 32", "  rows: 64"), "b.yaml");
  EXPECT_NE(arch_fingerprint(a), arch_fingerprint(b));
  EXPECT_EQ(arch_differences(a, b), std::vector<std::string>{"crossbar.rows: 32 vs 64"});
}

TEST(ArchFingerprint, IsaacVersusIdeal) {
  ArchSpec isaac = load_arch_spec(source_path("configs/isaac.yaml"));
  ArchSpec ideal = load_arch_spec(source_path("configs/ideal.yaml"));
  // The lossless ADC changes what the compiled program computes, so it is fingerprinted.
  EXPECT_NE(arch_fingerprint(isaac), arch_fingerprint(ideal));
  EXPECT_EQ(arch_differences(isaac, ideal),
            (std::vector<std::string>{"chip.name: \"isaac-ce\" vs \"isaac-ce-ideal\"",
                                      "adc.lossless: false vs true"}));
}

TEST(ArchFingerprint, IgnoresNameNonidealityAndCosts) {
  ArchSpec a = parse_arch_spec(kMinimal, "a.yaml");
  ArchSpec b = parse_arch_spec(
      std::string(kMinimal) +
          "nonideality:\n  read_noise_sigma: 0.05\n  seed: 7\n"
          "costs:\n  adc:\n    energy_pj: 0.5\n    source: made up for a test\n",
      "b.yaml");
  b.chip.name = "renamed";
  EXPECT_EQ(arch_fingerprint(a), arch_fingerprint(b));
  // ... but arch_differences lists every field.
  std::vector<std::string> diff = arch_differences(a, b);
  ASSERT_EQ(diff.size(), 5u);
  EXPECT_EQ(diff[0], "chip.name: \"\" vs \"renamed\"");
  EXPECT_EQ(diff[1], "nonideality.read_noise_sigma: 0 vs 0.05");
  EXPECT_EQ(diff[2], "nonideality.seed: 1 vs 7");
  EXPECT_EQ(diff[3], "costs.adc.energy_pj: 1.5625 vs 0.5");
  EXPECT_EQ(diff[4].rfind("costs.adc.source: ", 0), 0u);
}

TEST(ArchFingerprint, EveryCompilationFieldMatters) {
  ArchSpec a = parse_arch_spec(kMinimal, "a.yaml");
  const std::string extra[] = {
      "core:\n  pes: 2\n",          "pe:\n  adcs: 4\n",
      "  range: worst_case\n",        "quantization:\n  weight_granularity: per_tensor\n",
      "noc:\n  flit_bytes: 8\n",     "memory:\n  latency_ns: 50\n",
      "dac:\n  bits: 2\n",           "  conversion_ns: 1\n"};
  for (const std::string& edit : extra) {
    SCOPED_TRACE(edit);
    // Indented edits continue the adc section, the last one of kMinimal.
    ArchSpec b = parse_arch_spec(std::string(kMinimal) + edit, "b.yaml");
    EXPECT_NE(arch_fingerprint(a), arch_fingerprint(b));
    EXPECT_EQ(arch_differences(a, b).size(), 1u);
  }
}

}  // namespace
}  // namespace cimsim
