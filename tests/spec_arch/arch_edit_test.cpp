// arch_to_yaml round trip and apply_arch_overrides: values, errors naming the override.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "platform/spec/arch.h"
#include "platform/spec/arch_edit.h"
#include "tests/spec_arch/arch_test_util.h"

namespace cimsim {
namespace {

using ::testing::HasSubstr;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ArchEdit, YamlRoundTripKeepsEveryBundledConfig) {
  for (const char* name : {"configs/isaac.yaml", "configs/tiny.yaml", "configs/ideal.yaml"}) {
    ArchSpec a = load_arch_spec(arch_test::source_path(name));
    ArchSpec b = parse_arch_spec(arch_to_yaml(a, std::string("from ") + name), "round-trip");
    EXPECT_EQ(arch_fingerprint(a), arch_fingerprint(b)) << name;
    EXPECT_TRUE(arch_differences(a, b).empty()) << name;
    ASSERT_EQ(a.costs.components.size(), b.costs.components.size());
    for (const auto& [comp, c] : a.costs.components) {
      const auto& d = b.costs.components.at(comp);
      EXPECT_EQ(c.energy_pj, d.energy_pj) << comp;
      EXPECT_EQ(c.leakage_mw, d.leakage_mw) << comp;
      EXPECT_EQ(c.area_um2, d.area_um2) << comp;
      EXPECT_EQ(c.source, d.source) << comp;
    }
  }
}

TEST(ArchEdit, OverridesChangeOnlyTheirKeys) {
  ArchSpec base = load_arch_spec(arch_test::source_path("configs/tiny.yaml"));
  ArchSpec a = apply_arch_overrides(
      base, {{"adc.bits", "6", "t:1"}, {"costs.adc.energy_pj", "0.5", "t:2"}}, "edited");
  EXPECT_EQ(a.adc.bits, 6);
  EXPECT_EQ(a.costs.at("adc").energy_pj, 0.5);
  EXPECT_EQ(a.source_path, "edited");
  std::vector<std::string> diff = arch_differences(base, a);
  ASSERT_EQ(diff.size(), 2u);
  EXPECT_THAT(diff[0], HasSubstr("adc.bits: 8 vs 6"));
  EXPECT_THAT(diff[1], HasSubstr("costs.adc.energy_pj"));
}

// One-line values are pasted into the emitted file (one parse per derived architecture);
// multi-line scalars go through a YAML tree edit. Both give the same architecture.
TEST(ArchEdit, PastedAndTreeEditedOverridesAgree) {
  ArchSpec base = load_arch_spec(arch_test::source_path("configs/tiny.yaml"));
  ArchSpec a = apply_arch_overrides(
      base, {{"chip.name", "\"my chip: v2\"", "t:1"}, {"crossbar.rows", "64  # a comment", "t:2"},
             {"costs.adc.source", "'measured'", "t:3"}, {"crossbar.rows", "16", "t:4"}},
      "edited");
  EXPECT_EQ(a.chip.name, "my chip: v2");
  EXPECT_EQ(a.crossbar.rows, 16);  // the last override of a path wins
  EXPECT_EQ(a.costs.at("adc").source, "measured");
  ArchSpec b = apply_arch_overrides(base, {{"chip.name", "\"my chip:\n  v2\"", "t:1"}}, "edited");
  EXPECT_EQ(b.chip.name, "my chip: v2");  // a folded double-quoted scalar
  EXPECT_THAT(error_of([&] { apply_arch_overrides(base, {{"crossbar.rows", "", "t:9"}}, "x"); }),
              HasSubstr("t:9: crossbar.rows = : expected a single value"));
}

TEST(ArchEdit, OverridesValidOnlyTogetherAreAccepted) {
  ArchSpec base = load_arch_spec(arch_test::source_path("configs/tiny.yaml"));
  ArchSpec a = apply_arch_overrides(
      base, {{"chip.cores", "16", "t:1"}, {"chip.mesh_rows", "4", "t:2"}, {"chip.mesh_cols", "4", "t:3"}},
      "edited");
  EXPECT_EQ(a.chip.cores, 16);
}

TEST(ArchEdit, UnknownKeyNamesOriginAndSuggests) {
  ArchSpec base = load_arch_spec(arch_test::source_path("configs/tiny.yaml"));
  std::string e = error_of([&] { apply_arch_overrides(base, {{"adc.bitz", "6", "sweep.yaml:4:3"}}, "x"); });
  EXPECT_THAT(e, HasSubstr("sweep.yaml:4:3: unknown architecture key 'adc.bitz'"));
  EXPECT_THAT(e, HasSubstr("did you mean 'adc.bits'"));
}

TEST(ArchEdit, BadValueIsBlamedOnItsOverride) {
  ArchSpec base = load_arch_spec(arch_test::source_path("configs/tiny.yaml"));
  std::string e = error_of([&] {
    apply_arch_overrides(base, {{"crossbar.rows", "64", "s:1:1"}, {"adc.bits", "many", "s:2:1"}}, "x");
  });
  EXPECT_THAT(e, HasSubstr("s:2:1: adc.bits = many: expected an integer"));
  e = error_of([&] { apply_arch_overrides(base, {{"adc.bits", "[1, 2]", "s:3:1"}}, "x"); });
  EXPECT_THAT(e, HasSubstr("s:3:1: adc.bits = [1, 2]: expected a single value"));
}

TEST(ArchEdit, CrossFieldFailureListsTheOverrides) {
  ArchSpec base = load_arch_spec(arch_test::source_path("configs/tiny.yaml"));
  std::string e = error_of([&] {
    apply_arch_overrides(base, {{"chip.cores", "16", "s:1:1"}, {"chip.mesh_rows", "4", "s:2:1"}}, "pt3");
  });
  EXPECT_THAT(e, HasSubstr("pt3: the overrides chip.cores = 16, chip.mesh_rows = 4 give an invalid architecture"));
}

}  // namespace
}  // namespace cimsim
