// The merged table of a sweep: OUT/results.csv and OUT/results.json, one row per point.
//
// Contract:
//  - merge_sweep() reads every point's stored row (sweep_point.h) and writes both files
//    atomically. Points are in index order; a point without a current row (never run, still
//    running, or stale: its key differs) has status "pending". Columns (docs/sweep.md):
//    index, one column per axis (spec order), model and mode (unless they are axes), status, then the metrics
//    latency_ns, cycles, batch, throughput_inferences_per_s, energy_pj, area_um2,
//    peak_power_mw, average_power_mw, instructions_executed, and error.
//  - The files depend only on the rows, never on wall time, host or executor: a sweep run
//    locally and one run by Slurm give byte-identical tables.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "platform/sweep/sweep_spec.h"

namespace cimsim::sweep {

struct MergeSummary {
  size_t total = 0, ok = 0, failed = 0, pending = 0;
  std::vector<std::string> failures;  // "point I (values): error", index order
};

MergeSummary merge_sweep(const SweepSpec& spec, const std::vector<SweepPoint>& points);

// The CSV metric columns, in order (also the keys of a row's "metrics").
const std::vector<std::string>& metric_columns();

}  // namespace cimsim::sweep
