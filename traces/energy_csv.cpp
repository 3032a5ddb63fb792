#include "traces/energy_csv.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "platform/spec/arch.h"

namespace cimsim {
namespace {
constexpr size_t kUnits = 7;  // Unit::kScalar .. Unit::kMemory
constexpr double kMaxWindows = 1e6;
}  // namespace

double auto_energy_window_ns(uint64_t end_ps) {
  double raw = static_cast<double>(end_ps) / 1000.0 / 200.0;
  if (raw <= 1.0) return 1.0;
  double decade = std::pow(10.0, std::floor(std::log10(raw)));
  for (double step : {1.0, 2.0, 5.0, 10.0})
    if (step * decade >= raw) return step * decade;
  return 10.0 * decade;
}

std::string build_energy_csv(const std::vector<SimEvent>& events, uint64_t end_ps, double window_ns) {
  uint64_t last_ps = end_ps;
  for (const auto& e : events) last_ps = std::max(last_ps, e.start_ps + e.duration_ps);
  if (!(window_ns > 0)) window_ns = auto_energy_window_ns(last_ps);
  const double window_ps = window_ns * 1000.0;
  double count = std::max(1.0, std::ceil(static_cast<double>(last_ps) / window_ps));
  if (count > kMaxWindows)
    throw InputError(fmt::format("energy window of {} ns gives {:.0f} windows over {} ns (at most {:.0f}): "
                                 "choose a larger window", window_ns, count, last_ps / 1000.0, kMaxWindows));
  const size_t windows = static_cast<size_t>(count);
  std::vector<std::array<double, kUnits>> pj(windows, std::array<double, kUnits>{});
  std::array<bool, kUnits> used{};
  auto window_of = [&](double ps) {
    return std::min(windows - 1, static_cast<size_t>(std::floor(ps / window_ps)));
  };
  for (const auto& e : events) {
    if (e.unit == Unit::kWait) continue;  // waits spend no energy: no "wait" column of zeros
    size_t u = std::min(kUnits - 1, static_cast<size_t>(e.unit));
    used[u] = true;
    const double start = static_cast<double>(e.start_ps);
    const double end = static_cast<double>(e.start_ps + e.duration_ps);
    if (e.duration_ps == 0) {
      pj[window_of(start)][u] += e.energy_pj;
      continue;
    }
    size_t first = window_of(start), last = window_of(end - 1e-9 * window_ps);
    last = std::max(first, last);
    if (first == last) {
      pj[first][u] += e.energy_pj;
      continue;
    }
    // Shares of the span per window; the last takes the remainder so the sum is exact.
    double assigned = 0;
    for (size_t w = first; w < last; ++w) {
      double lo = std::max(start, w * window_ps), hi = std::min(end, (w + 1) * window_ps);
      double share = e.energy_pj * (hi - lo) / (end - start);
      pj[w][u] += share;
      assigned += share;
    }
    pj[last][u] += e.energy_pj - assigned;
  }
  std::string out = "time_start_ns,time_end_ns,component,energy_pj\n";
  const double last_ns = static_cast<double>(last_ps) / 1000.0;
  for (size_t w = 0; w < windows; ++w) {
    double t0 = w * window_ns, t1 = std::min((w + 1) * window_ns, std::max(last_ns, t0));
    for (size_t u = 0; u < kUnits; ++u)
      if (used[u])
        out += fmt::format("{},{},{},{}\n", t0, t1, unit_name(static_cast<Unit>(u)), pj[w][u]);
  }
  return out;
}

}  // namespace cimsim
