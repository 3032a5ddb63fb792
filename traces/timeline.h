// timeline.json: the run as a Chrome trace-event file that ui.perfetto.dev opens.
//
// Contract (docs/traces.md): one process per core (pid = core index, "core N"; global memory
// is pid = num_cores, "global memory"); one thread per unit ("scalar", "vector", "nic",
// "xbar K", "adc K", "link E|W|N|S|local", "memory port") plus a "layers" thread per core with
// one slice per contiguous stretch of one layer's activity. Every event is an "X" slice with
// ts/dur in microseconds rounded to whole nanoseconds; args carry layer, pc and energy_pj.
// Slices on one thread never overlap partially (they are disjoint or nested): a slice that
// would overlap goes to an extra lane thread "NAME (2)", "NAME (3)", ...
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "traces/observer.h"

namespace cimsim {

// Builds the whole file in memory (written once at the end of a run).
std::string build_timeline_json(const std::vector<SimEvent>& events,
                                const std::vector<std::string>& layer_names, int num_cores);

// Track layout shared with timeline.pftrace: kind is a Unit value or kLayersTrackKind; the
// name is "layers", "scalar", "xbar K", "link E", "memory port", "nic wait: credits", ...
constexpr int kLayersTrackKind = -1;
std::string timeline_track_name(int kind, int index);
// The unit index a track is keyed by (0 for units that have one instance per core).
int timeline_track_index(const SimEvent& e);

// Interval partitioning shared with the tests: given [start, end) spans, returns a lane per
// span such that spans in one lane are disjoint or nested.
std::vector<int> assign_nesting_lanes(const std::vector<std::pair<uint64_t, uint64_t>>& spans);

}  // namespace cimsim
