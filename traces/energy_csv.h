// energy.csv: dynamic energy per unit kind per time window.
//
// Contract (docs/traces.md): header "time_start_ns,time_end_ns,component,energy_pj"; one row per
// window per component that spent any energy during the run (zeros included, so plots have
// no holes). `component` is the unit kind that reported the events (scalar, vector, crossbar,
// adc, nic, link, memory). An event's energy is split over the windows its [start, end) span
// covers in proportion to the overlap; a zero-length event counts in the window holding its
// start. The column sums equal the sum of the events' energy_pj (to rounding).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "traces/observer.h"

namespace cimsim {

// Default window: about 200 windows over [0, end), rounded up to 1, 2 or 5 x 10^k ns.
double auto_energy_window_ns(uint64_t end_ps);

// window_ns <= 0 picks auto_energy_window_ns. Throws InputError when the window would give
// more than 1,000,000 windows.
std::string build_energy_csv(const std::vector<SimEvent>& events, uint64_t end_ps, double window_ns);

}  // namespace cimsim
