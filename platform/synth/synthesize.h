// `cimsim synthesize`: power-budgeted design search with cycle-level validation
// (docs/synthesis.md).
//
// Contract:
//  - Loads MODEL.onnx and the base architecture, reads the search space (--space, else
//    default_space()), runs evolve() with the estimator as evaluator under
//    peak power <= power_w (derive()), then compiles and simulates the `top` best feasible
//    designs, skipping any that a validated one whose estimate the simulation confirmed
//    (latency and energy within 10 %) matches or beats on estimated TOPS/W, latency and peak
//    power together (library calls: compile(), simulate()) on one seeded random input (or
//    `input_path`), and ranks them by simulated TOPS/W (rank == "simulated") or estimated.
//  - Writes out_dir atomically (staged in OUT.cimsim-synth, renamed at the end; an existing
//    OUT is replaced only on success): arch.yaml (the best design, arch_to_yaml with a header
//    of its derived and measured figures and the exact `cimsim compile` command, run in OUT,
//    that reproduces program/: mode, --replication or --replicas), program/ (its compiled
//    program, compiled with those options), input.npy (the
//    validation input), pareto.csv and pareto.json (the Pareto front of every feasible point
//    evaluated, plus the simulated ones, with estimator vs simulated figures),
//    estimator_error.md (per simulated design and metric: estimate, simulated, ratio; per
//    layer energy for the best).
//  - Deterministic: the same inputs and options give byte-identical files (no times, no
//    paths); progress and timing go to `log` only.
//  - A design that fails to compile or simulate (the estimator does not model every compiler
//    check) is logged, listed in estimator_error.md and replaced by the next one (at most
//    2 x top such failures); none validated -> InputError.
//  - Bad input throws InputError and leaves nothing behind: power_w not a finite positive
//    number, a space file error, a model the backend rejects, or no design in the space
//    meeting the budget (the message gives the lowest peak power seen).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace cimsim::synth {

struct SynthesizeOptions {
  std::string model_path, base_arch_path, out_dir, space_path, input_path, calibration_path;
  std::string power_w_text;  // as typed: parsed and checked here (NaN, negative -> InputError)
  uint64_t seed = 1;
  int population = 32, children = 64, generations = 30;  // as SearchOptions
  int top = 5;
  std::string rank = "simulated";  // or "estimated"
};

void synthesize(const SynthesizeOptions& opt, std::ostream& log);

}  // namespace cimsim::synth
