// describe() (cimsim --print-arch) and config_reference_markdown() (docs/config.md), both
// generated from the key registry.
#include <fmt/format.h>

#include "platform/spec/arch.h"
#include "platform/spec/arch_keys.h"
#include "platform/spec/buffer_cost_scaling.h"
#include "platform/spec/converter_cost_scaling.h"

namespace cimsim {
namespace {

std::string escape_cell(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else out += c;
  }
  return out;
}

}  // namespace

std::string describe(const ArchSpec& spec) {
  std::string out = fmt::format("Architecture {}{}\n",
                                spec.chip.name.empty() ? "(unnamed)" : spec.chip.name,
                                spec.source_path.empty() ? "" : " from " + spec.source_path);
  std::string section;
  for (const auto& def : arch_keys::arch_keys()) {
    if (def.section != section) {
      section = def.section;
      out += fmt::format("  {}:\n", section);
    }
    out += fmt::format("    {:<26} {}{}\n", def.key, arch_keys::format_value(def, def.get(spec)),
                       def.unit.empty() ? "" : " " + def.unit);
  }
  const ArchDerived d = derive(spec);
  out += "  derived:\n";
  out += fmt::format("    {:<26} {:.6g} ns\n", "cycle", d.cycle_ns);
  out += fmt::format("    {:<26} {} per core, {} per chip\n", "crossbars", d.crossbars_per_core,
                     d.crossbars_per_chip);
  out += fmt::format("    {:<26} {}\n", "cells per weight", d.cells_per_weight);
  out += fmt::format("    {:<26} {}\n", "weight cols per crossbar", d.weight_cols_per_crossbar);
  out += fmt::format("    {:<26} {}\n", "input steps", d.input_steps);
  out += fmt::format("    {:<26} {}\n", "ADC conversions per MVM", d.adc_conversions_per_mvm);
  out += fmt::format("    {:<26} {:.6g} ns\n", "MVM latency", d.mvm_latency_ns);
  out += fmt::format("    {:<26} {:.4g} TMAC/s ({}-bit weights x {}-bit activations)\n",
                     "peak throughput", d.peak_macs_per_s * 1e-12, spec.quantization.weight_bits,
                     spec.quantization.activation_bits);
  out += fmt::format("    {:<26} {:.4g} W\n", "peak power", d.peak_power_mw * 1e-3);
  out += fmt::format("    {:<26} {:.4g} mm2\n", "area", d.area_um2 * 1e-6);
  out += "  cost by component (peak power, area):\n";
  for (const auto& comp : arch_keys::cost_components()) {
    auto p = d.peak_power_mw_by_component.find(comp.name);
    auto a = d.area_um2_by_component.find(comp.name);
    if (p == d.peak_power_mw_by_component.end()) continue;
    out += fmt::format("    {:<26} {:>12.6g} mW {:>12.6g} mm2  ({})\n", comp.name, p->second,
                       a->second * 1e-6, spec.costs.at(comp.name).source);
  }
  for (const ConverterScaling& v : converter_scalings(spec)) {
    const auto given = spec.costs.given.find(v.converter);
    if (given == spec.costs.given.end() || !v.table) continue;
    const ComponentCost& c = spec.costs.at(v.converter);
    out += fmt::format(
        "  {0} cost at {1} bits: {2:.6g} pJ per {3}, {4:.6g} um2, {5:.6g} mW leakage "
        "({0}.cost_scaling {6} from {7:.6g} pJ, {8:.6g} um2, {9:.6g} mW given at {10} bits)\n",
        v.converter, v.bits, c.energy_pj, v.action, c.area_um2, c.leakage_mw, v.table->rule,
        given->second.energy_pj, given->second.area_um2, given->second.leakage_mw,
        v.reference_bits);
  }
  if (const BufferCapacityRule* rule = capacity_rule(spec.core.buffer_cost_scaling)) {
    const ComponentCost& c = spec.costs.at("buffer");
    const ComponentCost& given = spec.costs.given.at("buffer");
    out += fmt::format(
        "  buffer cost at {0} B: {1:.6g} pJ per {2}-B access, {3:.6g} um2, {4:.6g} mW leakage "
        "(core.buffer_cost_scaling {5} from {6:.6g} pJ, {7:.6g} um2, {8:.6g} mW given at {9} B)\n",
        spec.core.buffer_bytes, c.energy_pj, spec.core.buffer_bytes_per_cycle, c.area_um2,
        c.leakage_mw, rule->rule, given.energy_pj, given.area_um2, given.leakage_mw,
        spec.core.buffer_cost_reference_bytes);
  }
  return out;
}

std::string config_reference_markdown() {
  std::string out;
  std::string section;
  for (const auto& def : arch_keys::arch_keys()) {
    if (def.section != section) {
      section = def.section;
      out += fmt::format("\n### `{}`\n\n", section);
      out += "| Key | Type | Unit | Default | Range | Meaning |\n";
      out += "|---|---|---|---|---|---|\n";
    }
    std::string type = arch_keys::type_name(def.type);
    std::string range = "";
    if (def.type == arch_keys::KeyType::kInt || def.type == arch_keys::KeyType::kFloat) {
      range = arch_keys::format_range(def);
      if (!def.unit.empty()) range.resize(range.size() - def.unit.size() - 1);
    } else if (def.type == arch_keys::KeyType::kEnum) {
      for (size_t i = 0; i < def.choices.size(); ++i)
        range += (i ? ", " : "") + std::string("`") + def.choices[i] + "`";
    }
    std::string meaning = def.meaning;
    if (!def.affects_compilation) meaning += " (not fingerprinted)";
    out += fmt::format("| `{}` | {} | {} | {} | {} | {} |\n", def.key, type, def.unit,
                       def.required() ? "**required**" : "`" + std::string(def.default_yaml) + "`",
                       range, escape_cell(meaning));
  }
  out += "\n### `costs`\n\n";
  out += "Each entry: `energy_pj` (float, pJ per action, >= 0), `leakage_mw` (float, mW per "
         "instance, >= 0), `area_um2` (float, um2 per instance, >= 0), `source` (string; "
         "required when any figure is given). Omitted components keep the ISAAC-CE default.\n\n";
  out += "| Component | Energy is per | Instances per chip | Peak actions/s per instance | "
         "Default energy_pj | Default leakage_mw | Default area_um2 |\n";
  out += "|---|---|---|---|---|---|---|\n";
  for (const auto& c : arch_keys::cost_components()) {
    out += fmt::format("| `{}` | {} | {} | {} | {} | {} | {} |\n", c.name, c.action, c.instances,
                       c.peak_rate, c.isaac.energy_pj, c.isaac.leakage_mw, c.isaac.area_um2);
  }
  return out;
}

}  // namespace cimsim
