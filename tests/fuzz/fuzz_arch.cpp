// libFuzzer target: parse_arch_spec on arbitrary text, then everything a valid spec feeds.
// Oracle: only InputError may escape parse_arch_spec; a spec it accepts must derive, describe
// and fingerprint without throwing, and must compare equal to itself field by field.
#include <cstdint>
#include <cmath>
#include <cstdlib>
#include <string>

#include "platform/spec/arch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  cimsim::ArchSpec spec;
  try {
    spec = cimsim::parse_arch_spec(text, "fuzz.yaml");
  } catch (const cimsim::InputError&) {
    return 0;
  }
  cimsim::ArchDerived d = cimsim::derive(spec);
  if (!(d.crossbars_per_chip > 0) || !(d.cycle_ns > 0)) std::abort();
  // An accepted spec must not yield silently meaningless figures.
  for (double v : {d.cycle_ns, d.mvm_latency_ns, d.peak_macs_per_s, d.peak_power_mw, d.area_um2}) {
    if (!std::isfinite(v) || v < 0) std::abort();
  }
  if (cimsim::describe(spec).empty()) std::abort();
  if (cimsim::arch_fingerprint(spec) != cimsim::arch_fingerprint(spec)) std::abort();
  if (!cimsim::arch_differences(spec, spec).empty()) std::abort();
  return 0;
}
