// SystemC time <-> chip cycles, for the modules that schedule on SystemC's kernel.
//
// Contract: current_cycle() is the current SystemC time in chip cycles, rounded to the
// nearest (SystemC time is always set from whole cycles by to_ps); delay_until(cycle) is the
// sc_time from now to that cycle, zero if it is not in the future.
#pragma once

#include <cmath>
#include <cstdint>

#include <systemc>

#include "models/sc/timing_params.h"

namespace cimsim {

inline uint64_t current_cycle(const TimingParams& t) {
  const double ps = sc_core::sc_time_stamp().to_seconds() * 1e12;
  return static_cast<uint64_t>(std::llround(ps / t.cycle_ps));
}

inline sc_core::sc_time delay_until(const TimingParams& t, uint64_t cycle) {
  const uint64_t now_ps = t.to_ps(current_cycle(t)), at_ps = t.to_ps(cycle);
  return sc_core::sc_time(static_cast<double>(at_ps > now_ps ? at_ps - now_ps : 0), sc_core::SC_PS);
}

}  // namespace cimsim
