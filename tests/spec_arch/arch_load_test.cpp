// Loading and validation: bundled configs load; each kind of bad input is rejected with the
// exact "name:LINE:COL: " prefix (positions counted by hand from the text) and a message
// that says what was expected.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "platform/spec/arch.h"
#include "tests/spec_arch/arch_test_util.h"

namespace cimsim {
namespace {

using arch_test::kMinimal;
using arch_test::minimal_with;
using arch_test::source_path;

using arch_test::expect_error;

TEST(ArchLoad, BundledConfigsLoad) {
  for (const char* name : {"isaac", "ideal", "tiny"}) {
    SCOPED_TRACE(name);
    ArchSpec s = load_arch_spec(source_path(std::string("configs/") + name + ".yaml"));
    EXPECT_EQ(s.source_path, source_path(std::string("configs/") + name + ".yaml"));
    EXPECT_EQ(s.costs.components.size(), 15u);
  }
}

TEST(ArchLoad, IsaacValues) {
  ArchSpec s = load_arch_spec(source_path("configs/isaac.yaml"));
  EXPECT_EQ(s.chip.cores, 168);
  EXPECT_EQ(s.chip.mesh_rows, 14);
  EXPECT_EQ(s.chip.mesh_cols, 12);
  EXPECT_DOUBLE_EQ(s.chip.clock_mhz, 1280.0);
  EXPECT_EQ(s.core.pes, 12);
  EXPECT_EQ(s.core.buffer_bytes, 65536);
  EXPECT_EQ(s.core.buffer_bytes_per_cycle, 32);
  EXPECT_EQ(s.pe.crossbars, 8);
  EXPECT_EQ(s.pe.adcs, 8);
  EXPECT_EQ(s.pe.shift_adds, 4);
  EXPECT_EQ(s.crossbar.rows, 128);
  EXPECT_EQ(s.crossbar.cols, 128);
  EXPECT_EQ(s.crossbar.cell_bits, 2);
  EXPECT_EQ(s.crossbar.encoding, WeightEncoding::kOffset);
  EXPECT_TRUE(s.crossbar.weight_flip);
  EXPECT_EQ(s.dac.bits, 1);
  EXPECT_EQ(s.adc.bits, 8);
  EXPECT_EQ(s.adc.range, AdcRangePolicy::kLsbAligned);
  EXPECT_FALSE(s.adc.lossless);
  EXPECT_DOUBLE_EQ(s.adc.conversion_ns, 0.78125);
  EXPECT_EQ(s.noc.flit_bytes, 4);
  EXPECT_EQ(s.quantization.weight_granularity, QuantGranularity::kPerChannel);
  EXPECT_FALSE(s.nonideality.any());
  EXPECT_DOUBLE_EQ(s.costs.at("adc").energy_pj, 2.0 / 1.28);  // 2 mW / 1.28 GS/s
  EXPECT_DOUBLE_EQ(s.costs.at("memory").energy_pj, 10400.0 / 6.4);  // 10.4 W / 6.4 GB/s
  EXPECT_NE(s.costs.at("adc").source.find("ISAAC"), std::string::npos);
}

TEST(ArchLoad, IdealIsIsaacWithLosslessAdc) {
  ArchSpec isaac = load_arch_spec(source_path("configs/isaac.yaml"));
  ArchSpec ideal = load_arch_spec(source_path("configs/ideal.yaml"));
  EXPECT_TRUE(ideal.adc.lossless);
  EXPECT_FALSE(ideal.nonideality.any());
  // ideal.yaml takes the built-in cost defaults; they must equal isaac.yaml's costs section.
  for (const auto& [name, c] : isaac.costs.components) {
    SCOPED_TRACE(name);
    EXPECT_DOUBLE_EQ(ideal.costs.at(name).energy_pj, c.energy_pj);
    EXPECT_DOUBLE_EQ(ideal.costs.at(name).leakage_mw, c.leakage_mw);
    EXPECT_DOUBLE_EQ(ideal.costs.at(name).area_um2, c.area_um2);
    EXPECT_EQ(ideal.costs.at(name).source, c.source);
  }
}

TEST(ArchLoad, TinyValues) {
  ArchSpec s = load_arch_spec(source_path("configs/tiny.yaml"));
  EXPECT_EQ(s.chip.cores, 4);
  EXPECT_EQ(s.core.pes, 2);
  EXPECT_EQ(s.pe.crossbars, 4);
  EXPECT_EQ(s.pe.adcs, 4);
  EXPECT_EQ(s.crossbar.rows, 32);
  EXPECT_EQ(s.crossbar.cols, 32);
  EXPECT_EQ(s.core.buffer_bytes, 16384);
  EXPECT_TRUE(s.crossbar.weight_flip);
  EXPECT_EQ(s.adc.bits, 8);
}

TEST(ArchLoad, DefaultsFillOmittedKeys) {
  ArchSpec s = parse_arch_spec(kMinimal, "t.yaml");
  EXPECT_EQ(s.source_path, "t.yaml");
  EXPECT_EQ(s.core.pes, 1);
  EXPECT_EQ(s.dac.bits, 1);
  EXPECT_DOUBLE_EQ(s.adc.conversion_ns, 0.78125);
  EXPECT_EQ(s.crossbar.encoding, WeightEncoding::kOffset);
  EXPECT_EQ(s.quantization.weight_bits, 8);
  EXPECT_EQ(s.nonideality.seed, 1u);
  EXPECT_DOUBLE_EQ(s.costs.at("crossbar").energy_pj, 30.0);
  EXPECT_THROW(s.costs.at("flux_capacitor"), std::out_of_range);
}

TEST(ArchLoad, EnumsAndBools) {
  ArchSpec s = parse_arch_spec(minimal_with("  cell_bits: 2\n",
                                            "  cell_bits: 2\n  encoding: differential\n"
                                            "  weight_flip: true\n") +
                                   "  range: worst_case\n  lossless: True\n"
                                   "quantization:\n  weight_granularity: per_tensor\n",
                               "t.yaml");
  EXPECT_EQ(s.crossbar.encoding, WeightEncoding::kDifferential);
  EXPECT_TRUE(s.crossbar.weight_flip);
  EXPECT_EQ(s.adc.range, AdcRangePolicy::kWorstCase);
  EXPECT_TRUE(s.adc.lossless);
  EXPECT_EQ(s.quantization.weight_granularity, QuantGranularity::kPerTensor);
}

TEST(ArchLoadErrors, UnknownKeySuggestsClosest) {
  expect_error(minimal_with("  rows: 32", "  row: 32"), "t.yaml:6:3: ",
               "unknown key 'row' in section 'crossbar' (did you mean 'rows'?)");
}

TEST(ArchLoadErrors, KeyInWrongSectionSaysWhere) {
  expect_error(minimal_with("  rows: 32", "  rows: 32\n  conversion_ns: 1"), "t.yaml:7:3: ",
               "it belongs in 'adc'");
}

TEST(ArchLoadErrors, UnknownSection) {
  expect_error(minimal_with("crossbar:", "crosbar:"), "t.yaml:5:1: ",
               "unknown section 'crosbar' (did you mean 'crossbar'?)");
}

TEST(ArchLoadErrors, WrongTypeInteger) {
  expect_error(minimal_with("  rows: 32", "  rows: abc"), "t.yaml:6:9: ",
               "expected an integer, got 'abc'");
  expect_error(minimal_with("  rows: 32", "  rows: 32.5"), "t.yaml:6:9: ",
               "expected an integer, got '32.5'");
  expect_error(minimal_with("  rows: 32", "  rows: [1, 2]"), "t.yaml:6:9: ",
               "expected an integer, got a list");
}

TEST(ArchLoadErrors, WrongTypeFloatAndBool) {
  expect_error(std::string(kMinimal) + "  conversion_ns: fast\n", "t.yaml:11:18: ",
               "expected a number, got 'fast'");
  expect_error(std::string(kMinimal) + "  conversion_ns: .nan\n", "t.yaml:11:18: ",
               "expected a number");
  expect_error(std::string(kMinimal) + "  lossless: maybe\n", "t.yaml:11:13: ",
               "expected true or false, got 'maybe'");
}

TEST(ArchLoadErrors, MissingRequiredKeyPointsAtSection) {
  expect_error(minimal_with("  cell_bits: 2\n", ""), "t.yaml:5:1: ",
               "missing required key 'crossbar.cell_bits'");
}

TEST(ArchLoadErrors, MissingRequiredSectionPointsAtStart) {
  expect_error(minimal_with("adc:\n  bits: 8\n", ""), "t.yaml:1:1: ",
               "missing required key 'adc.bits'");
}

TEST(ArchLoadErrors, RowsZeroOutOfRange) {
  expect_error(minimal_with("  rows: 32", "  rows: 0"), "t.yaml:6:9: ",
               "crossbar.rows = 0 is out of range; expected [1, 4096]");
}

TEST(ArchLoadErrors, CellBitsNine) {
  expect_error(minimal_with("  cell_bits: 2", "  cell_bits: 9"), "t.yaml:8:14: ",
               "crossbar.cell_bits = 9 is out of range; expected [1, 8] bits");
}

TEST(ArchLoadErrors, AdcBitsForty) {
  expect_error(minimal_with("  bits: 8", "  bits: 40"), "t.yaml:10:9: ",
               "adc.bits = 40 is out of range; expected [1, 16] bits");
}

TEST(ArchLoadErrors, NegativeEnergy) {
  // line 11 costs:, 12 adc:, 13 energy_pj, 14 source
  expect_error(std::string(kMinimal) + "costs:\n  adc:\n    energy_pj: -1\n    source: x\n",
               "t.yaml:13:16: ", "costs.adc.energy_pj = -1 is out of range; expected [0, ");
}

TEST(ArchLoadErrors, CostFigureWithoutSource) {
  expect_error(std::string(kMinimal) + "costs:\n  adc:\n    energy_pj: 1\n", "t.yaml:12:3: ",
               "costs.adc: missing required key 'source'");
}

TEST(ArchLoadErrors, UnknownCostComponent) {
  expect_error(std::string(kMinimal) + "costs:\n  adcc:\n    energy_pj: 1\n", "t.yaml:12:3: ",
               "unknown cost component 'adcc' (did you mean 'adc'?)");
}

TEST(ArchLoadErrors, UnknownCostField) {
  expect_error(std::string(kMinimal) + "costs:\n  adc:\n    energy: 1\n", "t.yaml:13:5: ",
               "unknown field 'energy' in costs.adc");
}

TEST(ArchLoadErrors, MeshSmallerThanCores) {
  expect_error(minimal_with("  mesh_cols: 2", "  mesh_cols: 1"), "t.yaml:3:14: ",
               "chip.mesh_rows * chip.mesh_cols = 2 * 1 = 2 is less than chip.cores = 4");
}

TEST(ArchLoadErrors, AttachCoreOutsideChip) {
  expect_error(std::string(kMinimal) + "memory:\n  attach_core: 4\n", "t.yaml:12:16: ",
               "memory.attach_core = 4 must be a core index below chip.cores = 4");
}

TEST(ArchLoadErrors, ReceiveChannelTooSmall) {
  expect_error(std::string(kMinimal) + "noc:\n  rx_channel_bytes: 255\n", "t.yaml:12:21: ",
               "noc.rx_channel_bytes = 255 is too small to carry rows; expected 0 (unbounded) "
               "or at least 256 bytes");
  EXPECT_NO_THROW(parse_arch_spec(std::string(kMinimal) + "noc:\n  rx_channel_bytes: 256\n", "t.yaml"));
  EXPECT_NO_THROW(parse_arch_spec(std::string(kMinimal) + "noc:\n  rx_channel_bytes: 0\n", "t.yaml"));
}

TEST(ArchLoadErrors, TooFewColumnsForOneWeight) {
  expect_error(minimal_with("  cols: 32", "  cols: 3"), "t.yaml:7:9: ",
               "expected cols >= 4");
}

TEST(ArchLoadErrors, DacWiderThanActivations) {
  // line 11 dac:, 12 bits: 4, 13 quantization:, 14 activation_bits: 2
  expect_error(std::string(kMinimal) + "dac:\n  bits: 4\nquantization:\n  activation_bits: 2\n",
               "t.yaml:12:9: ", "dac.bits = 4 exceeds quantization.activation_bits = 2");
}

TEST(ArchLoadErrors, ConductanceWindow) {
  expect_error(minimal_with("  cell_bits: 2", "  cell_bits: 2\n  g_min_us: 50\n  g_max_us: 40"),
               "t.yaml:10:13: ", "crossbar.g_max_us = 40 uS must exceed crossbar.g_min_us");
}

TEST(ArchLoadErrors, FractionOutOfRange) {
  expect_error(std::string(kMinimal) + "nonideality:\n  stuck_on_fraction: 1.5\n",
               "t.yaml:12:22: ", "expected [0, 1] fraction");
}

TEST(ArchLoadErrors, BadEnumSuggests) {
  expect_error(minimal_with("  cell_bits: 2", "  cell_bits: 2\n  encoding: offst"),
               "t.yaml:9:13: ",
               "expected one of offset|differential, got 'offst' (did you mean 'offset'?)");
}

TEST(ArchLoadErrors, DuplicateKey) {
  expect_error(minimal_with("  cols: 32", "  cols: 32\n  rows: 16"), "t.yaml:8:3: ",
               "duplicate key 'crossbar.rows'");
}

TEST(ArchLoadErrors, SyntaxError) {
  // An unclosed flow sequence: the parser reaches the end of input (line 3) without "]".
  expect_error("chip:\n  cores: [1, 2\n", "t.yaml:3:1: ", "YAML syntax error");
  // A second ": " on one line is an illegal map value; it sits at column 11.
  expect_error("chip:\n  cores: 4: 5\n", "t.yaml:2:11: ", "YAML syntax error");
}

TEST(ArchLoadErrors, SectionNotAMapping) {
  expect_error(minimal_with("adc:\n  bits: 8\n", "adc: 8\n"), "t.yaml:9:6: ",
               "section 'adc' must be a mapping of keys, got '8'");
}

TEST(ArchLoadErrors, TopLevelNotAMapping) {
  expect_error("- 1\n- 2\n", "t.yaml:1:1: ", "expected a mapping of sections");
}

TEST(ArchLoadErrors, EmptyFile) {
  expect_error("", "t.yaml: ", "empty file");
  expect_error("# only a comment\n", "t.yaml: ", "empty file");
}

TEST(ArchLoadErrors, FileNotFound) {
  try {
    load_arch_spec("/nonexistent/arch.yaml");
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/arch.yaml: cannot open");
  }
}

TEST(ArchLoadErrors, FileErrorsNameTheFile) {
  const std::string path = source_path("tests/spec_arch/fixtures/bad_rows.yaml");
  try {
    load_arch_spec(path);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ":6:9: crossbar.rows = 0", 0), 0u) << e.what();
  }
}

}  // namespace
}  // namespace cimsim

namespace cimsim {
namespace {

// Mutated versions of isaac.yaml (deleted, duplicated and replaced characters, truncation)
// must either load or throw InputError with a "t.yaml:" prefix: never crash or throw
// anything else. Deterministic (fixed LCG), a few thousand cases.
TEST(ArchLoadRobustness, MutatedIsaacNeverCrashes) {
  std::ifstream in(arch_test::source_path("configs/isaac.yaml"));
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string base = buf.str();
  ASSERT_FALSE(base.empty());
  uint64_t state = 12345;
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  const std::string alphabet = " :\n\t-[]{}#&*!|>'\"%@`0123456789.e-xyz";
  int loaded = 0;
  int rejected = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string s = base;
    const int edits = 1 + static_cast<int>(next() % 3);
    for (int k = 0; k < edits && !s.empty(); ++k) {
      size_t at = next() % s.size();
      switch (next() % 4) {
        case 0: s.erase(at, 1 + next() % 8); break;
        case 1: s.insert(at, s.substr(next() % s.size(), 1 + next() % 16)); break;
        case 2: s[at] = alphabet[next() % alphabet.size()]; break;
        default: s.resize(at); break;
      }
    }
    try {
      parse_arch_spec(s, "t.yaml");
      ++loaded;
    } catch (const InputError& e) {
      ++rejected;
      ASSERT_EQ(std::string(e.what()).rfind("t.yaml:", 0), 0u) << e.what();
    }
  }
  EXPECT_GT(rejected, 0);
  EXPECT_GT(loaded, 0);
}

}  // namespace
}  // namespace cimsim
