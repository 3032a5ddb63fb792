// (mu + lambda) evolution: binary tournaments, uniform crossover, per-gene mutation.
#include "platform/synth/search.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <map>
#include <random>

#include <fmt/format.h>

namespace cimsim::synth {
namespace {

// Uniform-enough index in [0, n) from the engine; modulo keeps it identical across standard
// libraries (std::uniform_int_distribution is implementation-defined).
int draw(std::mt19937_64& rng, size_t n) { return static_cast<int>(rng() % n); }
bool coin(std::mt19937_64& rng, uint64_t one_in) { return rng() % one_in == 0; }

}  // namespace

int64_t efficiency_step(double tops_per_w) {
  return tops_per_w > 0 ? static_cast<int64_t>(std::floor(std::log(tops_per_w) / std::log1p(kEfficiencyStep)))
                        : INT64_MIN;
}

bool better(const Point& a, const Point& b) {
  if (a.feasible() != b.feasible()) return a.feasible();
  if (a.feasible()) {
    const int64_t ta = efficiency_step(a.est.tops_per_w()), tb = efficiency_step(b.est.tops_per_w());
    if (ta != tb) return ta > tb;
    if (a.est.latency_ns != b.est.latency_ns) return a.est.latency_ns < b.est.latency_ns;
  } else if (a.violation != b.violation) {
    return a.violation < b.violation;
  }
  return a.genome < b.genome;
}

SearchResult evolve(const SearchSpace& space, const SearchOptions& opt, const Evaluator& eval,
                    std::ostream& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  std::mt19937_64 rng(opt.seed);
  const size_t n = space.knobs.size();
  SearchResult res;
  auto evaluate = [&](const std::vector<int>& g) {
    res.evaluated.push_back(eval(g));
    ++res.evaluations;
    return res.evaluated.size() - 1;
  };

  // Initial population: random points (the first is the lowest choice of every knob).
  std::vector<size_t> pop;
  for (int i = 0; i < opt.population; ++i) {
    std::vector<int> g(n);
    for (size_t k = 0; k < n; ++k) g[k] = i == 0 ? 0 : draw(rng, space.knobs[k].choices.size());
    pop.push_back(evaluate(g));
  }
  auto at = [&](size_t i) -> const Point& { return res.evaluated[i]; };
  auto rank = [&](std::vector<size_t>& v) {
    std::stable_sort(v.begin(), v.end(), [&](size_t a, size_t b) { return better(at(a), at(b)); });
  };
  rank(pop);
  auto tournament = [&]() -> const Point& {
    const Point& a = at(pop[static_cast<size_t>(draw(rng, pop.size()))]);
    const Point& b = at(pop[static_cast<size_t>(draw(rng, pop.size()))]);
    return better(a, b) ? a : b;
  };
  for (int gen = 1; gen <= opt.generations; ++gen) {
    std::vector<size_t> next = pop;
    for (int c = 0; c < opt.children; ++c) {
      const std::vector<int> pa = tournament().genome, pb = tournament().genome;
      std::vector<int> g(n);
      for (size_t k = 0; k < n; ++k) g[k] = coin(rng, 2) ? pa[k] : pb[k];
      // Mutation: each gene with probability 1/n, and at least one gene always changes (to
      // another choice), so a child is never a copy of a parent by construction alone.
      const size_t forced = static_cast<size_t>(draw(rng, n));
      for (size_t k = 0; k < n; ++k) {
        const size_t m = space.knobs[k].choices.size();
        if (m < 2) continue;
        if (k == forced || coin(rng, n)) {
          const int shift = 1 + draw(rng, m - 1);
          g[k] = static_cast<int>((static_cast<size_t>(g[k]) + static_cast<size_t>(shift)) % m);
        }
      }
      next.push_back(evaluate(g));
    }
    rank(next);
    // Survivors: the best mu distinct genomes (duplicates would collapse the population).
    pop.clear();
    std::map<std::vector<int>, bool> seen;
    for (size_t i : next) {
      if (pop.size() == static_cast<size_t>(opt.population)) break;
      if (seen.emplace(at(i).genome, true).second) pop.push_back(i);
    }
    for (size_t i : next) {
      if (pop.size() == static_cast<size_t>(opt.population)) break;
      if (std::find(pop.begin(), pop.end(), i) == pop.end()) pop.push_back(i);
    }
    rank(pop);
    int64_t feasible = 0;
    for (const Point& p : res.evaluated) feasible += p.feasible() ? 1 : 0;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const Point& best = at(pop.front());
    progress << fmt::format(
        "synthesize: generation {}/{}: best {} | feasible {}/{} | {:.0f} points/s\n", gen,
        opt.generations,
        best.feasible() ? fmt::format("{:.3f} TOPS/W at {:.2f} W peak, {:.3f} ms", best.est.tops_per_w(),
                                      best.est.peak_power_w, best.est.latency_ns * 1e-6)
                        : std::string("none feasible yet"),
        feasible, res.evaluations, wall > 0 ? double(res.evaluations) / wall : 0.0);
  }
  return res;
}

}  // namespace cimsim::synth
