// One sweep point: compile + simulate with the library functions every command uses
// (compile(), simulate(): one functional model, one cost model), and its stored result.
//
// Contract:
//  - run_point(spec, point) writes OUT/points/NNNN/ (NNNN = index, 4+ digits) atomically: it
//    builds OUT/points/.NNNN.tmp-PID and renames it over NNNN at the end, so NNNN is always
//    either absent, a previous complete result, or the new one. It holds arch.yaml (the
//    derived architecture, arch_to_yaml), program/ (the compile output; removed after the
//    simulation when the spec says keep_programs: false), output.npy,
//    report.json (docs/report.md), log.txt (compile and simulation messages) and row.json
//    (the point's row: index, key, values, status, metrics, error; PointRow below).
//  - A point that fails (bad combination for the model, mapping does not fit, ...) still
//    gets NNNN/ with arch.yaml, log.txt and a row with status "failed" and the error; the
//    return value says which. Messages name paths relative to OUT, so rows do not depend on
//    where OUT is or which executor ran the point.
//  - ensure_sweep_input() writes OUT/input.npy for a generated input (atomically; rewritten
//    when its bytes differ from what the spec generates).
//  - read_point_row() returns the stored row of a point if it exists, parses and has the
//    point's key; point_complete() is true when that row is "ok" and report.json parses.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "platform/sweep/sweep_spec.h"

namespace cimsim::sweep {

enum class PointOutcome { kOk, kFailed, kInternalError };

std::string point_dir(const SweepSpec& spec, size_t index);
std::string point_name(size_t index);  // "0007"

void ensure_sweep_input(const SweepSpec& spec);
PointOutcome run_point(const SweepSpec& spec, const SweepPoint& point);

// The row of a point that has no stored result, or whose process died before writing one.
nlohmann::json failed_row(const SweepPoint& point, const std::string& error);
// Writes OUT/points/NNNN/row.json (creating NNNN/ when missing) atomically.
void write_point_row(const SweepSpec& spec, const SweepPoint& point, const nlohmann::json& row);

std::optional<nlohmann::json> read_point_row(const SweepSpec& spec, const SweepPoint& point);
bool point_complete(const SweepSpec& spec, const SweepPoint& point);

// Atomic small-file write (temporary + rename); throws InputError naming the path.
void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace cimsim::sweep
