#include "traces/energy_csv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <sstream>

#include "platform/spec/arch.h"

namespace cimsim {
namespace {

struct Row {
  double t0, t1;
  std::string component;
  double pj;
};

std::vector<Row> parse(const std::string& csv) {
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "time_start_ns,time_end_ns,component,energy_pj");
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    Row r;
    std::string cell;
    std::getline(f, cell, ',');
    r.t0 = std::stod(cell);
    std::getline(f, cell, ',');
    r.t1 = std::stod(cell);
    std::getline(f, r.component, ',');
    std::getline(f, cell, ',');
    r.pj = std::stod(cell);
    rows.push_back(r);
  }
  return rows;
}

SimEvent ev(Unit unit, uint64_t start_ps, uint64_t dur_ps, double pj) {
  SimEvent e;
  e.core = 0;
  e.unit = unit;
  e.start_ps = start_ps;
  e.duration_ps = dur_ps;
  e.energy_pj = pj;
  return e;
}

TEST(EnergyCsv, SplitsProportionallyOverWindows) {
  // 30 pJ over [50 ns, 350 ns) with 100-ns windows: 5, 10, 10, 5.
  auto rows = parse(build_energy_csv({ev(Unit::kCrossbar, 50'000, 300'000, 30.0),
                                      ev(Unit::kAdc, 120'000, 0, 2.0)},
                                     400'000, 100.0));
  std::map<std::pair<double, std::string>, double> by;
  for (const auto& r : rows) by[{r.t0, r.component}] = r.pj;
  EXPECT_EQ(rows.size(), 8u);  // 4 windows x 2 components
  EXPECT_NEAR((by[{0.0, "crossbar"}]), 5.0, 1e-12);
  EXPECT_NEAR((by[{100.0, "crossbar"}]), 10.0, 1e-12);
  EXPECT_NEAR((by[{200.0, "crossbar"}]), 10.0, 1e-12);
  EXPECT_NEAR((by[{300.0, "crossbar"}]), 5.0, 1e-12);
  EXPECT_NEAR((by[{100.0, "adc"}]), 2.0, 1e-12);  // zero-length: the window of its start
  EXPECT_DOUBLE_EQ(rows.back().t1, 400.0);
}

TEST(EnergyCsv, TotalsEqualEventEnergy) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> pj(0.0, 100.0);
  std::vector<SimEvent> events;
  std::map<std::string, double> expected;
  double total = 0;
  for (int i = 0; i < 2000; ++i) {
    auto e = ev(static_cast<Unit>(rng() % 7), rng() % 5'000'000, rng() % 400'000, pj(rng));
    expected[unit_name(e.unit)] += e.energy_pj;
    total += e.energy_pj;
    events.push_back(e);
  }
  for (double window : {0.0, 7.3, 1000.0}) {
    std::map<std::string, double> got;
    double sum = 0;
    for (const auto& r : parse(build_energy_csv(events, 5'000'000, window))) {
      got[r.component] += r.pj;
      sum += r.pj;
      EXPECT_LE(r.t0, r.t1);
    }
    EXPECT_NEAR(sum, total, 1e-9 * total) << "window " << window;
    for (const auto& [name, pj_expected] : expected)
      EXPECT_NEAR(got[name], pj_expected, 1e-9 * pj_expected) << name;
  }
}

TEST(EnergyCsv, AutoWindowIsRoundAndAbout200) {
  EXPECT_DOUBLE_EQ(auto_energy_window_ns(1'000'000), 5.0);     // 1000 ns / 200
  EXPECT_DOUBLE_EQ(auto_energy_window_ns(300'000'000), 2000.0);  // 1.5 us -> 2 us
  EXPECT_DOUBLE_EQ(auto_energy_window_ns(0), 1.0);
}

TEST(EnergyCsv, AutoWindowOfALongRunRegroupsTheStreamedSumsExactly) {
  // 2 ms: the streamed sums are coarsened several times (1 ns -> 100 ns resolution) before
  // the automatic window (10 or 20 us) is known; each row must equal the direct overlap share.
  std::mt19937_64 rng(4);
  std::vector<SimEvent> events;
  for (int i = 0; i < 3000; ++i)
    events.push_back(ev(static_cast<Unit>(rng() % 3), rng() % 2'000'000'000, rng() % 30'000'000, 1.0 + rng() % 5));
  const uint64_t end_ps = 2'000'000'000;
  auto rows = parse(build_energy_csv(events, end_ps, 0));
  uint64_t last = end_ps;
  for (const auto& e : events) last = std::max(last, e.start_ps + e.duration_ps);
  const double window_ns = auto_energy_window_ns(last);
  EXPECT_GE(window_ns, 10'000.0);  // 100x the last resolution step (100 ns)
  ASSERT_EQ(rows.size(), 3u * static_cast<size_t>(std::ceil(last / 1000.0 / window_ns)));
  for (const auto& r : rows) {
    double want = 0;
    for (const auto& e : events) {
      if (unit_name(e.unit) != r.component) continue;
      double s = e.start_ps / 1000.0, t = (e.start_ps + e.duration_ps) / 1000.0;
      double lo = std::max(s, r.t0), hi = std::min(t, r.t0 + window_ns);
      if (t == s) want += (s >= r.t0 && s < r.t0 + window_ns) ? e.energy_pj : 0;
      else if (hi > lo) want += e.energy_pj * (hi - lo) / (t - s);
    }
    EXPECT_NEAR(r.pj, want, 1e-9 * (1 + want)) << r.t0 << " " << r.component;
  }
}

TEST(EnergyCsv, StreamedStateIsBoundedByTheWindowCount) {
  EnergyCsvAccumulator acc(0);
  for (uint64_t i = 0; i < 200'000; ++i) acc.add(ev(Unit::kVector, i * 50'000, 40'000, 1.0));  // 10 ms
  EXPECT_LE(acc.bytes_held(), 2 * EnergyCsvAccumulator::kMaxFineWindows * 7 * sizeof(double));
}

TEST(EnergyCsv, TooManyWindowsIsAnError) {
  EXPECT_THROW(build_energy_csv({ev(Unit::kVector, 0, 10, 1.0)}, 10'000'000'000, 0.001), InputError);
}

}  // namespace
}  // namespace cimsim
