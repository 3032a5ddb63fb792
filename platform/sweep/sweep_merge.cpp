// Merging the points' rows into one table (sweep_merge.h).
#include "platform/sweep/sweep_merge.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "platform/sweep/sweep_point.h"

namespace cimsim::sweep {
namespace {

// RFC 4180: quote fields holding a comma, quote or line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string csv_value(const nlohmann::json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

}  // namespace

const std::vector<std::string>& metric_columns() {
  static const std::vector<std::string> cols = {
      "latency_ns", "cycles",        "batch",          "throughput_inferences_per_s", "energy_pj",
      "area_um2",   "peak_power_mw", "average_power_mw", "instructions_executed"};
  return cols;
}

MergeSummary merge_sweep(const SweepSpec& spec, const std::vector<SweepPoint>& points) {
  MergeSummary summary;
  summary.total = points.size();
  std::vector<std::string> header = {"index"};
  for (const auto& axis : spec.axes) header.push_back(axis.name);
  // model and mode get their own column unless they are axes (then they already have one).
  auto is_axis = [&spec](const std::string& n) {
    for (const auto& a : spec.axes)
      if (a.name == n) return true;
    return false;
  };
  const bool model_column = !is_axis("model"), mode_column = !is_axis("mode");
  if (model_column) header.push_back("model");
  if (mode_column) header.push_back("mode");
  header.push_back("status");
  for (const auto& c : metric_columns()) header.push_back(c);
  header.push_back("error");

  std::string csv;
  auto add_line = [&csv](const std::vector<std::string>& fields) {
    for (size_t i = 0; i < fields.size(); ++i) csv += (i ? "," : "") + csv_field(fields[i]);
    csv += "\n";
  };
  add_line(header);

  nlohmann::json rows = nlohmann::json::array();
  for (const auto& p : points) {
    nlohmann::json row;
    if (point_complete(spec, p)) {
      row = *read_point_row(spec, p);
      ++summary.ok;
    } else if (auto stored = read_point_row(spec, p); stored && stored->value("status", "") == "failed") {
      row = *stored;
      ++summary.failed;
      summary.failures.push_back(fmt::format("point {} ({}): {}", p.index, point_values_text(p),
                                             row.value("error", "")));
    } else {
      row = failed_row(p, "");
      row["status"] = "pending";
      row.erase("error");
      ++summary.pending;
    }
    std::vector<std::string> fields = {std::to_string(p.index)};
    for (const auto& [k, v] : p.values) fields.push_back(v);
    if (model_column) fields.push_back(p.model_label);
    if (mode_column) fields.push_back(p.mode);
    fields.push_back(row.value("status", ""));
    const nlohmann::json m = row.value("metrics", nlohmann::json::object());
    for (const auto& c : metric_columns()) fields.push_back(m.contains(c) ? csv_value(m[c]) : "");
    fields.push_back(row.value("error", ""));
    add_line(fields);
    row.erase("key");
    rows.push_back(row);
  }
  nlohmann::json doc;
  nlohmann::json axes = nlohmann::json::array();
  for (const auto& a : spec.axes) axes.push_back(a.name);
  doc["axes"] = axes;
  doc["points"] = rows;
  doc["summary"] = {{"total", summary.total}, {"ok", summary.ok}, {"failed", summary.failed},
                    {"pending", summary.pending}};
  write_file_atomically(spec.output_dir + "/results.csv", csv);
  write_file_atomically(spec.output_dir + "/results.json", doc.dump(2) + "\n");
  return summary;
}

}  // namespace cimsim::sweep
