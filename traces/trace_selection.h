// What a trace records: the --trace-cores/--trace-units/--trace-window/--trace-layer selection.
//
// Contract (docs/traces.md "Selection"): TraceSelection::selects(e) is true when the event
// passes every given filter; an empty filter passes everything:
//  - cores: events with core >= 0 (core units, and links, whose core is the source router)
//    must be on a listed core; global-memory events (core -1) are not filtered by core.
//  - units: the event's Unit must be listed (names: scalar, vector, xbar, adc, nic, link,
//    wait, memory; "crossbar" is accepted for xbar).
//  - window [start, end) in ns: the event's [start, end) span must overlap it (a zero-length
//    event must start inside it). Events are kept whole, not clipped.
//  - layers: the event's layer (Program::layers index) must have one of the listed names.
// parse_trace_selection() checks the text against the chip and program and throws
// InputError naming the flag and the bad item (with the closest layer name for a typo).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "traces/observer.h"

namespace cimsim {

struct TraceSelectionText {
  std::string cores;                // "0,2-3"; empty: all
  std::vector<std::string> units;   // each item may be a comma list; empty: all
  std::string window;               // "START_NS:END_NS" (either side may be empty); empty: all
  std::vector<std::string> layers;  // layer names, each item may be a comma list; empty: all
  bool any() const { return !cores.empty() || !units.empty() || !window.empty() || !layers.empty(); }
};

struct TraceSelection {
  std::vector<bool> cores;   // empty: every core
  uint32_t unit_mask = ~0u;  // bit (1 << Unit)
  uint64_t window_start_ps = 0;
  uint64_t window_end_ps = std::numeric_limits<uint64_t>::max();
  std::vector<bool> layers;  // empty: every layer

  bool selects(const SimEvent& e) const {
    if (!(unit_mask >> static_cast<unsigned>(e.unit) & 1u)) return false;
    if (!cores.empty() && e.core >= 0 &&
        (static_cast<size_t>(e.core) >= cores.size() || !cores[static_cast<size_t>(e.core)]))
      return false;
    if (!layers.empty() && (e.layer >= layers.size() || !layers[e.layer])) return false;
    const uint64_t end = e.start_ps + e.duration_ps;
    if (e.duration_ps == 0) return e.start_ps >= window_start_ps && e.start_ps < window_end_ps;
    return e.start_ps < window_end_ps && end > window_start_ps;
  }
};

// The unit names --trace-units accepts, in Unit order.
const std::vector<std::string>& trace_unit_names();

TraceSelection parse_trace_selection(const TraceSelectionText& text, int num_cores,
                                     const std::vector<std::string>& layer_names);

}  // namespace cimsim
