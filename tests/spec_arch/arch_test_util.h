// Helpers shared by the arch tests: a minimal valid spec as text, and line-level edits of it.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "platform/spec/arch.h"

namespace cimsim::arch_test {

// Line numbers in the error tests below refer to this text (1-based):
//  1 chip:  2 cores  3 mesh_rows  4 mesh_cols  5 crossbar:  6 rows  7 cols  8 cell_bits
//  9 adc:  10 bits
inline const char* kMinimal =
    "chip:\n"
    "  cores: 4\n"
    "  mesh_rows: 2\n"
    "  mesh_cols: 2\n"
    "crossbar:\n"
    "  rows: 32\n"
    "  cols: 32\n"
    "  cell_bits: 2\n"
    "adc:\n"
    "  bits: 8\n";

// kMinimal with the first occurrence of `from` replaced by `to`.
inline std::string minimal_with(const std::string& from, const std::string& to) {
  std::string s = kMinimal;
  size_t at = s.find(from);
  if (at == std::string::npos) return "REPLACEMENT TARGET NOT FOUND: " + from;
  return s.replace(at, from.size(), to);
}

inline std::string source_path(const std::string& rel) {
  return std::string(CIMSIM_SOURCE_DIR) + "/" + rel;
}

// Expects parse_arch_spec(text, "t.yaml") to throw InputError starting with `prefix` and
// containing `detail`.
inline void expect_error(const std::string& text, const std::string& prefix, const std::string& detail) {
  try {
    parse_arch_spec(text, "t.yaml");
    ADD_FAILURE() << "no error; expected " << prefix << "... " << detail;
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.substr(0, prefix.size()), prefix) << msg;
    EXPECT_NE(msg.find(detail), std::string::npos) << "missing '" << detail << "' in: " << msg;
  }
}

}  // namespace cimsim::arch_test
