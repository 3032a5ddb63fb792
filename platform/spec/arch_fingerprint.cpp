// arch_fingerprint() and arch_differences(): both walk the key registry, so a key added
// there is fingerprinted and compared without further code.
#include <fmt/format.h>

#include "platform/spec/arch.h"
#include "platform/spec/arch_keys.h"

namespace cimsim {

uint64_t arch_fingerprint(const ArchSpec& spec) {
  // The version line lets a future change of the canonical form invalidate old programs.
  std::string text = "cimsim-arch-v1\n";
  for (const auto& def : arch_keys::arch_keys()) {
    if (!def.affects_compilation) continue;
    text += def.path() + "=" + arch_keys::format_value(def, def.get(spec)) + "\n";
  }
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64 offset basis
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;  // FNV-1a 64 prime
  }
  return h;
}

std::vector<std::string> arch_differences(const ArchSpec& a, const ArchSpec& b) {
  std::vector<std::string> out;
  for (const auto& def : arch_keys::arch_keys()) {
    std::string va = arch_keys::format_value(def, def.get(a));
    std::string vb = arch_keys::format_value(def, def.get(b));
    if (va != vb) out.push_back(fmt::format("{}: {} vs {}", def.path(), va, vb));
  }
  static const ComponentCost kNone;
  for (const auto& comp : arch_keys::cost_components()) {
    auto ia = a.costs.components.find(comp.name);
    auto ib = b.costs.components.find(comp.name);
    const ComponentCost& ca = ia != a.costs.components.end() ? ia->second : kNone;
    const ComponentCost& cb = ib != b.costs.components.end() ? ib->second : kNone;
    const std::string p = "costs." + comp.name;
    if (ca.energy_pj != cb.energy_pj)
      out.push_back(fmt::format("{}.energy_pj: {} vs {}", p, ca.energy_pj, cb.energy_pj));
    if (ca.leakage_mw != cb.leakage_mw)
      out.push_back(fmt::format("{}.leakage_mw: {} vs {}", p, ca.leakage_mw, cb.leakage_mw));
    if (ca.area_um2 != cb.area_um2)
      out.push_back(fmt::format("{}.area_um2: {} vs {}", p, ca.area_um2, cb.area_um2));
    if (ca.source != cb.source)
      out.push_back(fmt::format("{}.source: \"{}\" vs \"{}\"", p, ca.source, cb.source));
  }
  return out;
}

}  // namespace cimsim
