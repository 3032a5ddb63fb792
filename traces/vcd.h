// waves.vcd: busy signals and instruction counters in Value Change Dump format.
//
// Contract (docs/traces.md): generated after the run from the observer's event stream (not by
// sc_trace, which would need a signal per unit inside the models), in the layout sc_trace
// writes: timescale 1 ps, scope "SystemC" with one sub-scope per core ("core_N") and one for
// global memory. Per core: a 1-bit "<unit>_busy" wire per unit that reported events (busy
// while at least one of its events spans the time) and a 32-bit "instructions" wire counting
// completed instructions (events of the scalar, vector, crossbar and nic units, counted at
// their end).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "traces/observer.h"

namespace cimsim {

std::string build_vcd(const std::vector<SimEvent>& events, uint64_t end_ps, int num_cores);

}  // namespace cimsim
