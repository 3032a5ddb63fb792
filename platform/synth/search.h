// The optimizer of `cimsim synthesize`: a seeded (mu + lambda) evolutionary search over the
// choice indices of a SearchSpace (docs/synthesis.md, "Optimizer").
//
// Contract:
//  - Deterministic: the same space, options and evaluator give the same points in the same
//    order on every machine (std::mt19937_64 drawn with plain modulo, no unordered
//    containers, no floating-point reductions whose order could change).
//  - Every point is evaluated: `mu` initial points, then `lambda` children per generation,
//    each scored by the evaluator before selection; evaluations == mu + generations * lambda.
//    (PIMSYN's EA never scored its mutated children; here a child that is never evaluated
//    cannot be selected, because selection reads only evaluated scores.)
//  - Constraint handling (Deb's rules): a feasible point beats an infeasible one; two
//    feasible points compare by the objective (higher TOPS/W in 0.1 % steps, then lower latency); two
//    infeasible ones by their violation (smaller first). Ties break on the genome.
//  - After every generation one progress line goes to `progress`: generation, best TOPS/W
//    with its power and latency, feasible points among those evaluated so far, points/s.
//    Nothing time-dependent reaches the returned result.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "platform/synth/estimator.h"
#include "platform/synth/space.h"

namespace cimsim::synth {

struct Point {
  std::vector<int> genome;
  bool valid = false;       // the overrides give a loadable architecture
  Estimate est;             // valid only
  std::string why;          // not feasible: the reason
  double violation = 0;     // 0: feasible; > 0: how far from it (see search.cpp)
  bool feasible() const { return violation == 0; }
};

struct SearchOptions {
  uint64_t seed = 1;
  // 32 + 30 x 64 = 1952 evaluations: with adc.bits in the default space, 16 + 30 x 32 left
  // seed 1 on a worse ResNet-18 design even at 60 generations (docs/synthesis.md).
  int population = 32;   // mu
  int children = 64;     // lambda
  int generations = 30;
};

struct SearchResult {
  std::vector<Point> evaluated;  // every evaluation, in order
  int64_t evaluations = 0;
};

using Evaluator = std::function<Point(const std::vector<int>&)>;

// TOPS/W is compared in steps of 0.1 % (efficiency_step: floor(log(x) / log(1.001))):
// smaller differences are below what the estimator or a single simulated input resolve, and
// without the step a 0.01 % gain would buy a design twice as slow. Equal steps go to the
// lower latency. Stepping keeps the order transitive (a tolerance would not).
constexpr double kEfficiencyStep = 0.001;
int64_t efficiency_step(double tops_per_w);

// a ranks before b.
bool better(const Point& a, const Point& b);

SearchResult evolve(const SearchSpace& space, const SearchOptions& opt, const Evaluator& eval,
                    std::ostream& progress);

}  // namespace cimsim::synth
