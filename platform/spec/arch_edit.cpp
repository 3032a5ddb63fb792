// arch_to_yaml / apply_arch_overrides: both walk the key registry (arch_keys.h), so a key added
// there is written and overridable without further code.
#include "platform/spec/arch_edit.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <cctype>
#include <sstream>

#include "platform/spec/arch_keys.h"

namespace cimsim {
namespace {

using arch_keys::KeyDef;

// A YAML-safe scalar: quoted when the plain form would not read back as the same string.
std::string yaml_string(const std::string& s) {
  YAML::Emitter e;
  e << YAML::DoubleQuoted << s;
  return e.c_str();
}

std::string yaml_value(const KeyDef& def, const arch_keys::Value& v) {
  if (def.type == arch_keys::KeyType::kString) return yaml_string(v.s);
  return arch_keys::format_value(def, v);
}

// Drops the loader's "NAME:LINE:COL: " prefix: the line and column point into generated text
// the user never saw.
// (No <regex>: GCC 12's sanitizer builds warn inside it, and -Werror makes that fatal.)
std::string without_location(const std::string& message, const std::string& name) {
  if (message.rfind(name + ":", 0) != 0) return message;
  size_t at = name.size() + 1;
  for (int field = 0; field < 2; ++field) {  // LINE: and COL:
    size_t digits = at;
    while (digits < message.size() && std::isdigit(static_cast<unsigned char>(message[digits]))) ++digits;
    if (digits == at || digits >= message.size() || message[digits] != ':') return message;
    at = digits + 1;
  }
  return at < message.size() && message[at] == ' ' ? message.substr(at + 1) : message;
}

YAML::Node scalar_node(const ArchOverride& o) {
  YAML::Node v;
  try {
    v = YAML::Load(o.value_yaml);
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("{}: {} = {}: not a YAML scalar ({})", o.origin, o.path,
                                 o.value_yaml, e.msg));
  }
  if (!v.IsScalar())
    throw InputError(fmt::format("{}: {} = {}: expected a single value, not a list or mapping",
                                 o.origin, o.path, o.value_yaml));
  return v;
}

void check_path(const ArchOverride& o) {
  const auto& paths = arch_override_paths();
  if (std::find(paths.begin(), paths.end(), o.path) != paths.end()) return;
  const std::string hint = arch_keys::closest(o.path, paths);
  throw InputError(fmt::format("{}: unknown architecture key '{}'{}; keys are section.key as in "
                               "docs/config.md, or costs.COMPONENT.FIELD",
                               o.origin, o.path,
                               hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
}

void set_in(YAML::Node& root, const ArchOverride& o) {
  std::vector<std::string> parts;
  std::stringstream ss(o.path);
  for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
  YAML::Node node = root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) node.reset(node[parts[i]]);
  node[parts.back()] = scalar_node(o);
}

std::string emit(const YAML::Node& root) {
  YAML::Emitter e;
  e << root;
  return std::string(e.c_str()) + "\n";
}

}  // namespace

namespace {

// The architecture file of `spec`, with the raw YAML scalar text of `raw` (path -> text)
// written in place of the spec's value for those paths: one emission and one parse per
// derived architecture, which is what makes a design search affordable.
std::string emit_arch(const ArchSpec& spec, const std::string& header,
                      const std::map<std::string, std::string>& raw) {
  std::string out;
  std::stringstream hs(header);
  for (std::string line; std::getline(hs, line);) out += "# " + line + "\n";
  std::string section;
  for (const auto& def : arch_keys::arch_keys()) {
    if (def.section != section) {
      section = def.section;
      out += "\n" + section + ":\n";
    }
    const auto it = raw.find(def.path());
    out += fmt::format("  {}: {}", def.key, it != raw.end() ? it->second : yaml_value(def, def.get(spec)));
    if (!def.unit.empty()) out += "  # " + def.unit;
    out += "\n";
  }
  out += "\ncosts:\n";
  for (const auto& entry : spec.costs.components) {
    // Not a structured binding: C++17 lambdas cannot capture those (clang refuses).
    const std::string& name = entry.first;
    // The figure as given, not the one the loader derived from it (adc/dac.cost_scaling,
    // core.buffer_cost_scaling):
    // loading the text back derives it again.
    const auto given = spec.costs.given.find(name);
    const ComponentCost& c = given != spec.costs.given.end() ? given->second : entry.second;
    auto field = [&](const std::string& f, const std::string& value) {
      const auto it = raw.find("costs." + name + "." + f);
      return fmt::format("    {}: {}\n", f, it != raw.end() ? it->second : value);
    };
    out += "  " + name + ":\n" + field("energy_pj", fmt::format("{}", c.energy_pj)) +
           field("leakage_mw", fmt::format("{}", c.leakage_mw)) + field("area_um2", fmt::format("{}", c.area_um2)) +
           field("source", yaml_string(c.source));
  }
  return out;
}

// Overrides as raw text, when every value is one line (a multi-line scalar cannot be pasted
// after "key: "); false otherwise, and the caller edits a YAML tree instead.
bool as_raw(const std::vector<ArchOverride>& overrides, std::map<std::string, std::string>* raw) {
  for (const auto& o : overrides) {
    if (o.value_yaml.find_first_of("\r\n") != std::string::npos) return false;
    (*raw)[o.path] = o.value_yaml;
  }
  return true;
}

}  // namespace

std::string arch_to_yaml(const ArchSpec& spec, const std::string& header) { return emit_arch(spec, header, {}); }

const std::vector<std::string>& arch_override_paths() {
  static const std::vector<std::string> paths = [] {
    std::vector<std::string> p;
    for (const auto& def : arch_keys::arch_keys()) p.push_back(def.path());
    for (const auto& c : arch_keys::cost_components())
      for (const auto& f : arch_keys::cost_fields()) p.push_back("costs." + c.name + "." + f);
    return p;
  }();
  return paths;
}

ArchSpec apply_arch_overrides(const ArchSpec& base, const std::vector<ArchOverride>& overrides,
                              const std::string& name) {
  for (const auto& o : overrides) check_path(o);
  for (const auto& o : overrides) scalar_node(o);  // each value is one YAML scalar
  std::map<std::string, std::string> raw;
  const bool fast = as_raw(overrides, &raw);
  std::string base_text;
  // The text of the base with some overrides applied: pasted scalars, or a YAML tree edit.
  auto text_with = [&](const std::vector<ArchOverride>& os) {
    std::map<std::string, std::string> r;
    if (fast && as_raw(os, &r)) return emit_arch(base, "", r);
    if (base_text.empty()) base_text = arch_to_yaml(base);
    YAML::Node root = YAML::Load(base_text);
    for (const auto& o : os) set_in(root, o);
    return emit(root);
  };
  try {
    ArchSpec out = parse_arch_spec(text_with(overrides), name);
    out.source_path = name;
    return out;
  } catch (const InputError& e) {
    const std::string why = without_location(e.what(), name);
    // Blame the override that alone gives the same error (a bad type or range); overrides are
    // only valid together in general (chip.cores with chip.mesh_rows), so none may be alone.
    for (const auto& o : overrides) {
      try {
        parse_arch_spec(text_with({o}), name);
      } catch (const InputError& alone) {
        if (without_location(alone.what(), name) != why) continue;
        // The loader's message starts with the key itself when it is about its value.
        const std::string own = o.path + ": ";
        throw InputError(fmt::format("{}: {} = {}: {}", o.origin, o.path, o.value_yaml,
                                     why.rfind(own, 0) == 0 ? why.substr(own.size()) : why));
      }
    }
    std::string list;
    for (const auto& o : overrides) list += (list.empty() ? "" : ", ") + o.path + " = " + o.value_yaml;
    throw InputError(fmt::format("{}: the overrides {} give an invalid architecture: {}", name,
                                 list, why));
  }
}

}  // namespace cimsim
