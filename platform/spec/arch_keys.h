// The one registry of architecture keys (internal to cimsim_arch).
//
// Contract: kArchKeys() lists every scalar key of configs/*.yaml exactly once, in document
// order, with its type, unit, default (YAML text; nullptr = required), inclusive range and
// meaning, plus accessors into ArchSpec. The loader, the documentation generator, describe(),
// the fingerprint and arch_differences() all walk this table, so adding a key here is the
// only step needed to make it loadable, documented, printed and fingerprinted.
// kCostComponents() lists the fixed `costs` component names with the action each energy is
// per, the instance count and the peak action rate (as text for docs) and the ISAAC-CE 32 nm
// defaults.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "platform/spec/arch.h"

namespace cimsim::arch_keys {

enum class KeyType { kInt, kFloat, kBool, kEnum, kString };

// A key's value in neutral form: ints in `i` (enums as their index into `choices`), floats
// in `f`, bools in `b`, strings in `s`.
struct Value {
  int64_t i = 0;
  double f = 0.0;
  bool b = false;
  std::string s;
};

struct KeyDef {
  std::string section;
  std::string key;
  KeyType type;
  std::string unit;                  // "" when dimensionless
  const char* default_yaml;          // nullptr: the key is required
  double min = 0;                    // inclusive range, for int and float keys
  double max = 0;
  bool min_exclusive = false;        // (min, max] instead of [min, max]
  std::vector<std::string> choices;  // enum values, in the C++ enum's order
  std::string meaning;
  bool affects_compilation = true;   // false: left out of arch_fingerprint()
  std::function<void(ArchSpec&, const Value&)> set;
  std::function<Value(const ArchSpec&)> get;

  std::string path() const { return section + "." + key; }
  bool required() const { return default_yaml == nullptr; }
};

const std::vector<KeyDef>& arch_keys();
// Section names in document order (every section of arch_keys(), then "costs").
const std::vector<std::string>& section_names();

struct CostComponentDef {
  std::string name;
  std::string action;     // what one energy_pj is charged for
  std::string instances;  // instance count per chip, as a formula over keys
  std::string peak_rate;  // peak actions per second per instance, as a formula
  ComponentCost isaac;    // ISAAC-CE 32 nm default
};

const std::vector<CostComponentDef>& cost_components();
// The fields of one `costs` entry.
const std::vector<std::string>& cost_fields();

// Canonical text of a value (shortest round-trip for floats, enum names, true/false).
std::string format_value(const KeyDef& def, const Value& v);
// "[min, max]" or "(min, max]" with the unit, for messages and docs.
std::string format_range(const KeyDef& def);
std::string type_name(KeyType t);

// Levenshtein distance, for "did you mean" suggestions.
int edit_distance(const std::string& a, const std::string& b);
// The closest candidate to `word`, or "" when none is close enough to be a plausible typo.
std::string closest(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace cimsim::arch_keys
