// YAML -> ArchSpec: walks the document against the key registry (arch_keys.h), then runs
// the cross-field checks. Every problem becomes an InputError "FILE:LINE:COL: message".
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "platform/spec/arch.h"
#include "platform/spec/arch_keys.h"
#include "platform/spec/buffer_cost_scaling.h"
#include "platform/spec/converter_cost_scaling.h"
#include "platform/spec/slicing.h"
#include "platform/spec/sram_imc_macro.h"

namespace cimsim {
namespace {

using arch_keys::KeyDef;
using arch_keys::KeyType;
using arch_keys::Value;

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

std::string describe_node(const YAML::Node& n) {
  if (n.IsNull()) return "nothing";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  return "'" + n.Scalar() + "'";
}

class Loader {
 public:
  explicit Loader(std::string name) : name_(std::move(name)) {}

  ArchSpec run(const std::string& text) {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      fail(e.mark, "YAML syntax error: " + e.msg);
    }
    if (!root.IsDefined() || root.IsNull())
      throw InputError(name_ + ": empty file; expected the sections " +
                       join(arch_keys::section_names(), ", "));
    if (!root.IsMap())
      fail(root.Mark(), "expected a mapping of sections (" +
                            join(arch_keys::section_names(), ", ") + "), got " +
                            describe_node(root));

    ArchSpec spec;
    apply_defaults(spec);
    std::set<std::string> seen_sections;
    for (auto it = root.begin(); it != root.end(); ++it) {
      const std::string section = key_text(it->first);
      if (!seen_sections.insert(section).second)
        fail(it->first.Mark(), "duplicate section '" + section + "'");
      if (section == "costs") {
        marks_["costs"] = it->first.Mark();
        load_costs(it->second, spec);
        continue;
      }
      const auto& sections = arch_keys::section_names();
      if (std::find(sections.begin(), sections.end(), section) == sections.end()) {
        std::string hint = arch_keys::closest(section, sections);
        fail(it->first.Mark(),
             "unknown section '" + section + "'" +
                 (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                 "; sections are " + join(sections, ", "));
      }
      marks_[section] = it->first.Mark();
      load_section(section, it->second, spec);
    }
    check_required();
    check_cross_fields(spec);
    try {
      sram_imc::apply_macro_costs(spec, costs_given_, marks_.count("crossbar.read_ns") > 0,
                                  marks_.count("adc.conversion_ns") > 0);
    } catch (const InputError& e) {
      fail(mark_of({"crossbar.technology", "crossbar"}), e.what());
    }
    apply_converter_scaling(spec);
    apply_buffer_scaling(spec);
    spec.source_path = name_;
    return spec;
  }

 private:
  [[noreturn]] void fail(const YAML::Mark& m, const std::string& msg) const {
    int line = m.line >= 0 ? m.line + 1 : 1;
    int col = m.column >= 0 ? m.column + 1 : 1;
    throw InputError(fmt::format("{}:{}:{}: {}", name_, line, col, msg));
  }

  // The mark of the first of `paths` that appeared in the file, else 1:1.
  YAML::Mark mark_of(std::initializer_list<const char*> paths) const {
    for (const char* p : paths) {
      auto it = marks_.find(p);
      if (it != marks_.end()) return it->second;
    }
    YAML::Mark m;
    m.line = 0;
    m.column = 0;
    return m;
  }
  YAML::Mark mark_of(const std::vector<std::string>& paths) const {
    for (const std::string& p : paths) {
      auto it = marks_.find(p);
      if (it != marks_.end()) return it->second;
    }
    return mark_of({});
  }

  std::string key_text(const YAML::Node& k) const {
    if (!k.IsScalar()) fail(k.Mark(), "expected a key name, got " + describe_node(k));
    return k.Scalar();
  }

  static void apply_defaults(ArchSpec& spec) {
    // Parsed once: every load (and `cimsim synthesize` loads one architecture per candidate)
    // would otherwise parse each registry default's YAML again.
    static const std::vector<std::pair<const KeyDef*, Value>> defaults = [] {
      std::vector<std::pair<const KeyDef*, Value>> out;
      for (const auto& def : arch_keys::arch_keys()) {
        if (def.required()) continue;
        Value v;
        std::string err;
        bool ok = parse_scalar(def, YAML::Load(def.default_yaml), v, err);
        if (!ok) throw std::logic_error("bad registry default for " + def.path() + ": " + err);
        out.emplace_back(&def, v);
      }
      return out;
    }();
    for (const auto& [def, v] : defaults) def->set(spec, v);
    for (const auto& c : arch_keys::cost_components()) spec.costs.components[c.name] = c.isaac;
  }

  // Parses one scalar per its declared type; on failure fills `err` with what was expected.
  static bool parse_scalar(const KeyDef& def, const YAML::Node& n, Value& v, std::string& err) {
    const char* expected = "";
    switch (def.type) {
      case KeyType::kInt: expected = "an integer"; break;
      case KeyType::kFloat: expected = "a number"; break;
      case KeyType::kBool: expected = "true or false"; break;
      case KeyType::kEnum: expected = "one of "; break;
      case KeyType::kString: expected = "a string"; break;
    }
    std::string what = std::string("expected ") + expected +
                       (def.type == KeyType::kEnum ? join(def.choices, "|") : "") + ", got " +
                       describe_node(n);
    if (!n.IsScalar()) {
      err = what;
      return false;
    }
    const std::string& s = n.Scalar();
    switch (def.type) {
      case KeyType::kInt: {
        const char* b = s.data();
        const char* e = s.data() + s.size();
        if (b != e && *b == '+') ++b;
        auto r = std::from_chars(b, e, v.i);
        if (r.ec == std::errc::result_out_of_range) {
          err = "integer '" + s + "' is too large";
          return false;
        }
        if (r.ec != std::errc() || r.ptr != e || b == e) {
          err = what;
          return false;
        }
        return true;
      }
      case KeyType::kFloat: {
        bool plain = !s.empty() && s.find_first_not_of("0123456789+-.eE") == std::string::npos;
        char* end = nullptr;
        double x = plain ? std::strtod(s.c_str(), &end) : 0.0;
        if (!plain || end != s.c_str() + s.size() || !std::isfinite(x)) {
          err = what;
          return false;
        }
        v.f = x;
        return true;
      }
      case KeyType::kBool:
        if (s == "true" || s == "True" || s == "TRUE") {
          v.b = true;
          return true;
        }
        if (s == "false" || s == "False" || s == "FALSE") {
          v.b = false;
          return true;
        }
        err = what;
        return false;
      case KeyType::kEnum:
        for (size_t i = 0; i < def.choices.size(); ++i) {
          if (def.choices[i] == s) {
            v.i = static_cast<int64_t>(i);
            return true;
          }
        }
        {
          std::string hint = arch_keys::closest(s, def.choices);
          err = what + (hint.empty() ? "" : " (did you mean '" + hint + "'?)");
        }
        return false;
      case KeyType::kString:
        v.s = s;
        return true;
    }
    return false;
  }

  static bool in_range(const KeyDef& def, const Value& v) {
    if (def.type != KeyType::kInt && def.type != KeyType::kFloat) return true;
    double x = def.type == KeyType::kInt ? static_cast<double>(v.i) : v.f;
    bool above_min = def.min_exclusive ? x > def.min : x >= def.min;
    return above_min && x <= def.max;
  }

  static YAML::Mark value_mark(const YAML::Node& value, const YAML::Node& key) {
    YAML::Mark m = value.Mark();
    return m.line >= 0 ? m : key.Mark();
  }

  void load_section(const std::string& section, const YAML::Node& body, ArchSpec& spec) {
    std::vector<const KeyDef*> defs;
    std::vector<std::string> names;
    for (const auto& def : arch_keys::arch_keys()) {
      if (def.section != section) continue;
      defs.push_back(&def);
      names.push_back(def.key);
    }
    if (body.IsNull()) return;  // "section:" with nothing under it: all defaults
    if (!body.IsMap())
      fail(value_mark(body, body), "section '" + section +
                                       "' must be a mapping of keys, got " + describe_node(body));
    std::set<std::string> seen;
    for (auto it = body.begin(); it != body.end(); ++it) {
      const std::string key = key_text(it->first);
      const KeyDef* def = nullptr;
      for (const KeyDef* d : defs)
        if (d->key == key) def = d;
      if (!def) fail(it->first.Mark(), unknown_key_message(section, key, names));
      if (!seen.insert(key).second)
        fail(it->first.Mark(), "duplicate key '" + def->path() + "'");
      const YAML::Mark vm = value_mark(it->second, it->first);
      Value v;
      std::string err;
      if (!parse_scalar(*def, it->second, v, err)) fail(vm, def->path() + ": " + err);
      if (!in_range(*def, v))
        fail(vm, fmt::format("{} = {} is out of range; expected {}", def->path(),
                             arch_keys::format_value(*def, v), arch_keys::format_range(*def)));
      def->set(spec, v);
      marks_[def->path()] = vm;
    }
  }

  static std::string unknown_key_message(const std::string& section, const std::string& key,
                                         const std::vector<std::string>& names) {
    std::string hint = arch_keys::closest(key, names);
    if (!hint.empty())
      return fmt::format("unknown key '{}' in section '{}' (did you mean '{}'?)", key, section,
                         hint);
    for (const auto& def : arch_keys::arch_keys())
      if (def.key == key)
        return fmt::format("unknown key '{}' in section '{}' (it belongs in '{}')", key, section,
                           def.section);
    return fmt::format("unknown key '{}' in section '{}'; its keys are {}", key, section,
                       join(names, ", "));
  }

  void load_costs(const YAML::Node& body, ArchSpec& spec) {
    if (body.IsNull()) return;
    if (!body.IsMap())
      fail(value_mark(body, body),
           "section 'costs' must be a mapping of component names, got " + describe_node(body));
    std::vector<std::string> components;
    for (const auto& c : arch_keys::cost_components()) components.push_back(c.name);
    std::set<std::string> seen;
    for (auto it = body.begin(); it != body.end(); ++it) {
      const std::string comp = key_text(it->first);
      if (std::find(components.begin(), components.end(), comp) == components.end()) {
        std::string hint = arch_keys::closest(comp, components);
        fail(it->first.Mark(), "unknown cost component '" + comp + "'" +
                                   (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                                   "; components are " + join(components, ", "));
      }
      if (!seen.insert(comp).second)
        fail(it->first.Mark(), "duplicate cost component '" + comp + "'");
      costs_given_.insert(comp);
      load_cost_entry(comp, it->second, it->first.Mark(), spec.costs.components[comp]);
    }
  }

  void load_cost_entry(const std::string& comp, const YAML::Node& body,
                       const YAML::Mark& comp_mark, ComponentCost& cost) {
    const std::string path = "costs." + comp;
    if (!body.IsMap())
      fail(value_mark(body, body), path + " must be a mapping of energy_pj, leakage_mw, "
                                          "area_um2, source; got " + describe_node(body));
    KeyDef num{"costs", "", KeyType::kFloat, "", "0", 0, 1e12, false, {}, "", false, {}, {}};
    std::set<std::string> seen;
    bool figures_set = false;
    bool source_set = false;
    for (auto it = body.begin(); it != body.end(); ++it) {
      const std::string field = key_text(it->first);
      const auto& fields = arch_keys::cost_fields();
      if (std::find(fields.begin(), fields.end(), field) == fields.end()) {
        std::string hint = arch_keys::closest(field, fields);
        fail(it->first.Mark(), "unknown field '" + field + "' in " + path +
                                   (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                                   "; fields are " + join(fields, ", "));
      }
      if (!seen.insert(field).second)
        fail(it->first.Mark(), "duplicate field '" + field + "' in " + path);
      const YAML::Mark vm = value_mark(it->second, it->first);
      if (field == "source") {
        if (!it->second.IsScalar() || it->second.Scalar().empty())
          fail(vm, path + ".source: expected a non-empty string naming where the figures "
                          "come from, got " + describe_node(it->second));
        cost.source = it->second.Scalar();
        source_set = true;
        continue;
      }
      num.key = comp + "." + field;
      num.unit = field == "energy_pj" ? "pJ" : field == "leakage_mw" ? "mW" : "um2";
      Value v;
      std::string err;
      if (!parse_scalar(num, it->second, v, err)) fail(vm, path + "." + field + ": " + err);
      if (!in_range(num, v))
        fail(vm, fmt::format("{}.{} = {} is out of range; expected {}", path, field, v.f,
                             arch_keys::format_range(num)));
      (field == "energy_pj" ? cost.energy_pj
                            : field == "leakage_mw" ? cost.leakage_mw : cost.area_um2) = v.f;
      figures_set = true;
    }
    // A figure without its source would silently inherit the ISAAC source string.
    if (figures_set && !source_set)
      fail(comp_mark, path + ": missing required key 'source' (say where the figures come "
                             "from)");
  }

  void check_required() const {
    for (const auto& def : arch_keys::arch_keys()) {
      if (!def.required() || marks_.count(def.path())) continue;
      auto sec = marks_.find(def.section);
      YAML::Mark m = sec != marks_.end() ? sec->second : mark_of({});
      fail(m, fmt::format("missing required key '{}' ({}, {})", def.path(), def.meaning,
                          arch_keys::format_range(def)));
    }
  }

  void check_cross_fields(const ArchSpec& s) const {
    const int64_t mesh_nodes = int64_t{s.chip.mesh_rows} * s.chip.mesh_cols;
    if (mesh_nodes < s.chip.cores)
      fail(mark_of({"chip.mesh_rows", "chip.mesh_cols", "chip.cores", "chip"}),
           fmt::format("chip.mesh_rows * chip.mesh_cols = {} * {} = {} is less than "
                       "chip.cores = {}; the mesh needs a node per core",
                       s.chip.mesh_rows, s.chip.mesh_cols, mesh_nodes, s.chip.cores));
    // Rows longer than the channel become several messages, one instruction each: a tiny
    // channel would multiply a program's size by hundreds.
    if (s.noc.rx_channel_bytes > 0 && s.noc.rx_channel_bytes < kMinRxChannelBytes)
      fail(mark_of({"noc.rx_channel_bytes", "noc"}),
           fmt::format("noc.rx_channel_bytes = {} is too small to carry rows; expected 0 "
                       "(unbounded) or at least {} bytes",
                       s.noc.rx_channel_bytes, kMinRxChannelBytes));
    if (s.memory.attach_core >= s.chip.cores)
      fail(mark_of({"memory.attach_core", "chip.cores", "memory"}),
           fmt::format("memory.attach_core = {} must be a core index below chip.cores = {}",
                       s.memory.attach_core, s.chip.cores));
    const int cpw = slicing::cells_per_weight(s.quantization.weight_bits, s.crossbar.cell_bits,
                                              s.crossbar.encoding);
    if (s.crossbar.cols < cpw)
      fail(mark_of({"crossbar.cols", "crossbar"}),
           fmt::format("crossbar.cols = {} is less than the {} physical columns one {}-bit "
                       "weight needs with {}-bit cells; expected cols >= {}",
                       s.crossbar.cols, cpw, s.quantization.weight_bits, s.crossbar.cell_bits,
                       cpw));
    if (s.dac.bits > s.quantization.activation_bits)
      fail(mark_of({"dac.bits", "quantization.activation_bits", "dac"}),
           fmt::format("dac.bits = {} exceeds quantization.activation_bits = {}; expected "
                       "dac.bits <= activation_bits",
                       s.dac.bits, s.quantization.activation_bits));
    if (!(s.crossbar.g_max_us > s.crossbar.g_min_us))
      fail(mark_of({"crossbar.g_max_us", "crossbar.g_min_us", "crossbar"}),
           fmt::format("crossbar.g_max_us = {} uS must exceed crossbar.g_min_us = {} uS",
                       s.crossbar.g_max_us, s.crossbar.g_min_us));
    if (s.crossbar.technology != CrossbarTechnology::kReram && s.crossbar.cell_bits != 1)
      fail(mark_of({"crossbar.cell_bits", "crossbar.technology", "crossbar"}),
           fmt::format("crossbar.cell_bits = {} with an SRAM technology; a 6T SRAM cell stores "
                       "one bit, expected cell_bits: 1",
                       s.crossbar.cell_bits));
    if (s.crossbar.technology == CrossbarTechnology::kSramDigital && !s.adc.lossless)
      fail(mark_of({"adc.lossless", "crossbar.technology", "adc"}),
           "crossbar.technology = sram_dimc sums each column with a digital adder tree, which "
           "is exact; expected adc.lossless: true");
    if (s.quantization.bfp_block > s.crossbar.rows)
      fail(mark_of({"quantization.bfp_block", "quantization"}),
           fmt::format("quantization.bfp_block = {} exceeds crossbar.rows = {}; a block's "
                       "partial sum is one crossbar activation, expected bfp_block <= rows",
                       s.quantization.bfp_block, s.crossbar.rows));
    const auto& ni = s.nonideality;
    if (ni.stuck_on_fraction + ni.stuck_off_fraction > 1.0)
      fail(mark_of({"nonideality.stuck_off_fraction", "nonideality.stuck_on_fraction"}),
           fmt::format("nonideality.stuck_on_fraction + stuck_off_fraction = {} exceeds 1",
                       ni.stuck_on_fraction + ni.stuck_off_fraction));
    if (ni.conductance_levels == 1)
      fail(mark_of({"nonideality.conductance_levels"}),
           "nonideality.conductance_levels = 1; expected 0 (ideal 2^cell_bits levels) or >= 2");
  }

  // costs.adc at adc.bits and costs.dac at dac.bits (converter_cost_scaling.h); last, so it
  // scales the figures every other step has settled, and every consumer of the spec sees the
  // scaled ones.
  void apply_converter_scaling(ArchSpec& s) const {
    for (const ConverterScaling& c : converter_scalings(s)) {
      const std::string& v = c.converter;
      if (!c.table) {
        if (c.reference_bits != 0)
          fail(mark_of({v + ".cost_reference_bits"}),
               fmt::format("{0}.cost_reference_bits = {1} has no effect with {0}.cost_scaling = "
                           "none; expected 0, or {0}.cost_scaling: {2} to scale costs.{0} "
                           "from {1} bits to {0}.bits",
                           v, c.reference_bits, c.scaled->rule));
        continue;
      }
      // The macro model already sized the converter for its bits: scaling it again would
      // count the resolution twice.
      if (s.crossbar.technology != CrossbarTechnology::kReram && !costs_given_.count(v))
        fail(mark_of({v + ".cost_scaling"}),
             fmt::format("{0}.cost_scaling = {1} with an SRAM crossbar.technology: the macro "
                         "model already computes costs.{0} for {0}.bits; expected "
                         "{0}.cost_scaling: none, or an explicit costs.{0} to scale",
                         v, c.table->rule));
      try {
        apply_converter_cost_scaling(s, c);
      } catch (const InputError& e) {
        const bool reference = std::string(e.what()).rfind(v + ".cost_reference_bits", 0) == 0;
        fail(reference ? mark_of({v + ".cost_reference_bits", v + ".cost_scaling", v})
                       : mark_of({v + ".bits", v}),
             e.what());
      }
    }
  }

  // costs.buffer at core.buffer_bytes (buffer_cost_scaling.h); last, like the converters.
  void apply_buffer_scaling(ArchSpec& s) const {
    if (s.core.buffer_cost_scaling == BufferCostScaling::kNone) {
      if (s.core.buffer_cost_reference_bytes != 0)
        fail(mark_of({"core.buffer_cost_reference_bytes"}),
             fmt::format("core.buffer_cost_reference_bytes = {0} has no effect with "
                         "core.buffer_cost_scaling = none; expected 0, or "
                         "core.buffer_cost_scaling: {1} to scale costs.buffer from {0} bytes to "
                         "core.buffer_bytes",
                         s.core.buffer_cost_reference_bytes, puma_edram_capacity_rule().rule));
      return;
    }
    try {
      apply_buffer_cost_scaling(s);
    } catch (const InputError& e) {
      const bool reference =
          std::string(e.what()).rfind("core.buffer_cost_reference_bytes", 0) == 0;
      fail(reference ? mark_of({"core.buffer_cost_reference_bytes", "core.buffer_cost_scaling", "core"})
                     : mark_of({"core.buffer_bytes", "core"}),
           e.what());
    }
  }

  std::string name_;
  std::map<std::string, YAML::Mark> marks_;  // "section" and "section.key" -> where given
  std::set<std::string> costs_given_;        // cost components the file sets explicitly
};

}  // namespace

ArchSpec parse_arch_spec(const std::string& yaml_text, const std::string& name) {
  Loader loader(name);
  try {
    return loader.run(yaml_text);
  } catch (const YAML::Exception& e) {
    // Anything yaml-cpp raises while we walk the tree is still a problem with the input.
    int line = e.mark.line >= 0 ? e.mark.line + 1 : 1;
    int col = e.mark.column >= 0 ? e.mark.column + 1 : 1;
    throw InputError(fmt::format("{}:{}:{}: YAML error: {}", name, line, col, e.msg));
  }
}

ArchSpec load_arch_spec(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw InputError(path + ": cannot open (it is a directory; expected an arch YAML file)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw InputError(path + ": cannot read");
  return parse_arch_spec(text.str(), path);
}

}  // namespace cimsim
