// The SimEvent builder the timeline tests (JSON and Perfetto) share, so that both writers are
// fed events built the same way.
#pragma once

#include <cstdint>

#include "traces/observer.h"

namespace cimsim {

inline SimEvent ev(int core, Unit unit, int index, uint16_t layer, uint64_t start_ps, uint64_t dur_ps,
                   const char* action = "op", double pj = 1.0, uint32_t pc = 0) {
  SimEvent e;
  e.core = core;
  e.unit = unit;
  e.unit_index = index;
  e.layer = layer;
  e.action = action;
  e.start_ps = start_ps;
  e.duration_ps = dur_ps;
  e.energy_pj = pj;
  e.pc = pc;
  return e;
}

}  // namespace cimsim
