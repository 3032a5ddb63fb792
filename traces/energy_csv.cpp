#include "traces/energy_csv.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "platform/spec/arch.h"

namespace cimsim {
namespace {
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

EnergyCsvAccumulator::EnergyCsvAccumulator(double window_ns)
    : fixed_window_ns_(window_ns > 0 ? window_ns : 0),
      resolution_ps_(window_ns > 0 ? window_ns * 1000.0 : 1000.0) {}

void EnergyCsvAccumulator::coarsen() {
  std::vector<std::array<double, kUnits>> merged((pj_.size() + 9) / 10, std::array<double, kUnits>{});
  for (size_t w = 0; w < pj_.size(); ++w)
    for (size_t u = 0; u < kUnits; ++u) merged[w / 10][u] += pj_[w][u];
  pj_.swap(merged);
  resolution_ps_ *= 10.0;
}

void EnergyCsvAccumulator::add(const SimEvent& e) {
  if (e.unit == Unit::kWait) return;  // waits spend no energy: no "wait" column of zeros
  const uint64_t end_ps = e.start_ps + e.duration_ps;
  last_ps_ = std::max(last_ps_, end_ps);
  const size_t u = std::min(kUnits - 1, static_cast<size_t>(e.unit));
  used_[u] = true;
  const double start = static_cast<double>(e.start_ps);
  const double end = static_cast<double>(end_ps);
  if (fixed_window_ns_ > 0) {
    // csv() rejects a run of more than kMaxWindows windows; keep the table within that.
    if (end / resolution_ps_ > kMaxWindows) return;
  } else {
    while (end / resolution_ps_ > static_cast<double>(kMaxFineWindows)) coarsen();
  }
  const double window_ps = resolution_ps_;
  auto window_of = [&](double ps) { return static_cast<size_t>(std::floor(ps / window_ps)); };
  size_t first = window_of(start);
  size_t last = e.duration_ps == 0 ? first : std::max(first, window_of(end - 1e-9 * window_ps));
  if (pj_.size() <= last) pj_.resize(last + 1, std::array<double, kUnits>{});
  if (first == last) {
    pj_[first][u] += e.energy_pj;
    return;
  }
  // Shares of the span per window; the last takes the remainder so the sum is exact.
  double assigned = 0;
  for (size_t w = first; w < last; ++w) {
    double lo = std::max(start, w * window_ps), hi = std::min(end, (w + 1) * window_ps);
    double share = e.energy_pj * (hi - lo) / (end - start);
    pj_[w][u] += share;
    assigned += share;
  }
  pj_[last][u] += e.energy_pj - assigned;
}

std::string EnergyCsvAccumulator::csv(uint64_t end_ps) const {
  const uint64_t last_ps = std::max(end_ps, last_ps_);
  const double window_ns = fixed_window_ns_ > 0 ? fixed_window_ns_ : auto_energy_window_ns(last_ps);
  const double window_ps = window_ns * 1000.0;
  double count = std::max(1.0, std::ceil(static_cast<double>(last_ps) / window_ps));
  if (count > kMaxWindows)
    throw InputError(fmt::format("energy window of {} ns gives {:.0f} windows over {} ns (at most {:.0f}): "
                                 "choose a larger window", window_ns, count, last_ps / 1000.0, kMaxWindows));
  const size_t windows = static_cast<size_t>(count);
  // Accumulation windows per output window: 1 for an explicit window; for the automatic one
  // the whole number auto window / resolution (both are multiples of a power of ten ns).
  const size_t group = fixed_window_ns_ > 0 ? 1 : static_cast<size_t>(std::llround(window_ps / resolution_ps_));
  std::string out = "time_start_ns,time_end_ns,component,energy_pj\n";
  const double last_ns = static_cast<double>(last_ps) / 1000.0;
  for (size_t w = 0; w < windows; ++w) {
    std::array<double, kUnits> sum{};
    for (size_t f = w * group; f < (w + 1) * group && f < pj_.size(); ++f)
      for (size_t u = 0; u < kUnits; ++u) sum[u] += pj_[f][u];
    // The last output window also takes anything past it (an event ending exactly at the end).
    if (w + 1 == windows)
      for (size_t f = (w + 1) * group; f < pj_.size(); ++f)
        for (size_t u = 0; u < kUnits; ++u) sum[u] += pj_[f][u];
    double t0 = w * window_ns, t1 = std::min((w + 1) * window_ns, std::max(last_ns, t0));
    for (size_t u = 0; u < kUnits; ++u)
      if (used_[u]) out += fmt::format("{},{},{},{}\n", t0, t1, unit_name(static_cast<Unit>(u)), sum[u]);
  }
  return out;
}

std::string build_energy_csv(const std::vector<SimEvent>& events, uint64_t end_ps, double window_ns) {
  EnergyCsvAccumulator acc(window_ns);
  for (const auto& e : events) acc.add(e);
  return acc.csv(end_ps);
}

}  // namespace cimsim
