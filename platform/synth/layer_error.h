// Where the estimator's latency goes wrong: its per-layer start/end times against the
// simulator's (report.json "layers"), for estimator_error.md and pareto.json.
//
// Contract (docs/synthesis.md, "Output directory"):
//  - compare_layer_times() pairs every LayerEstimate with the report entry of the same name
//    (the estimator's names are the program's layer names; a layer the report lacks or that
//    ran no unit instruction has no simulated times). Pure function, no I/O.
//  - The latency error "enters" at the first layer, in the estimator's (topological) order,
//    whose end differs from the simulated end by more than kEnterFraction of the simulated
//    end AND more than kEnterNs: both, so neither a few-ns offset of an early layer nor a
//    small share of a long one counts. Later layers inherit the error through their inputs,
//    so the first such layer is where it is introduced. None: enters < 0.
//  - A layer's added error is its end error minus that of its gating input (the one whose
//    simulated end is latest; a model input counts 0): what the layer itself contributes, as
//    opposed to what it inherits. The layer with the largest |added error| is `largest_added`.
//  - The outputs are deterministic text/JSON (fixed formats, no times or paths).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "platform/synth/estimator.h"

namespace cimsim::synth {

constexpr double kEnterFraction = 0.05;
constexpr double kEnterNs = 100.0;

struct LayerTimeRow {
  std::string name;
  double est_start_ns = 0, est_end_ns = 0;  // LayerEstimate::first_input_ns, end_ns
  std::optional<double> sim_start_ns, sim_end_ns;  // empty: not simulated
  // est - sim of the start and end times; 0 without simulated times.
  double start_error_ns() const { return sim_start_ns ? est_start_ns - *sim_start_ns : 0.0; }
  double end_error_ns() const { return sim_end_ns ? est_end_ns - *sim_end_ns : 0.0; }
  double added_error_ns = 0;  // end error minus the gating input's end error
};

struct LayerTimeComparison {
  std::vector<LayerTimeRow> rows;  // the estimator's layer order
  int enters = -1;                 // index into rows, or -1
  int largest_added = -1;          // index into rows, or -1 (no simulated times)
};

// `net` is the NetShape `est` was computed from (its layers' inputs give the gating input).
LayerTimeComparison compare_layer_times(const NetShape& net, const Estimate& est,
                                        const nlohmann::json& report_layers);

// The markdown section for estimator_error.md: a table of estimated vs simulated start and end
// per layer with the end difference, and the line naming where the error enters.
std::string layer_times_markdown(const LayerTimeComparison& c);

// For pareto.json: {"layers": [{name, est_start_ns, est_end_ns, sim_start_ns, sim_end_ns}],
// "latency_error_enters": name or null, with the thresholds}.
nlohmann::json layer_times_json(const LayerTimeComparison& c);

}  // namespace cimsim::synth
