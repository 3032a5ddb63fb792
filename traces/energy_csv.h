// energy.csv: dynamic energy per unit kind per time window.
//
// Contract (docs/traces.md): header "time_start_ns,time_end_ns,component,energy_pj"; one row per
// window per component that spent any energy during the run (zeros included, so plots have
// no holes). `component` is the unit kind that reported the events (scalar, vector, crossbar,
// adc, nic, link, memory). An event's energy is split over the windows its [start, end) span
// covers in proportion to the overlap; a zero-length event counts in the window holding its
// start. The column sums equal the sum of the events' energy_pj (to rounding).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "traces/observer.h"

namespace cimsim {

// Default window: about 200 windows over [0, end), rounded up to 1, 2 or 5 x 10^k ns.
double auto_energy_window_ns(uint64_t end_ps);

// Streaming accumulation: add() spreads each event's energy over fixed-size windows as it
// arrives, so the state is one row of per-unit sums per window, never the events. With an
// explicit window that is at most 1,000,000 rows; with the automatic window (which depends on
// the run's end, unknown while running) the sums are kept at a power-of-ten resolution of
// at most kMaxFineWindows rows, coarsened tenfold when the run outgrows it; every automatic
// window is a whole multiple of that resolution, so csv() regroups them exactly.
class EnergyCsvAccumulator {
 public:
  static constexpr size_t kMaxFineWindows = 20000;
  explicit EnergyCsvAccumulator(double window_ns);  // <= 0: auto_energy_window_ns at the end
  void add(const SimEvent& e);
  // Throws InputError when the window gives more than 1,000,000 windows over [0, end).
  std::string csv(uint64_t end_ps) const;
  size_t bytes_held() const { return pj_.capacity() * sizeof(pj_[0]); }

 private:
  static constexpr size_t kUnits = 7;  // Unit::kScalar .. Unit::kMemory
  void coarsen();
  double fixed_window_ns_;
  double resolution_ps_;  // the accumulation window
  std::vector<std::array<double, kUnits>> pj_;
  std::array<bool, kUnits> used_{};
  uint64_t last_ps_ = 0;
};

// window_ns <= 0 picks auto_energy_window_ns. Throws InputError when the window would give
// more than 1,000,000 windows.
std::string build_energy_csv(const std::vector<SimEvent>& events, uint64_t end_ps, double window_ns);

}  // namespace cimsim
