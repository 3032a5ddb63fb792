#include "platform/synth/layer_error.h"

#include <cmath>
#include <map>

#include <fmt/format.h>

namespace cimsim::synth {

using nlohmann::json;

LayerTimeComparison compare_layer_times(const NetShape& net, const Estimate& est, const json& report_layers) {
  std::map<std::string, const json*> sim;
  if (report_layers.is_array())
    for (const json& l : report_layers) sim[l.at("name").get<std::string>()] = &l;
  LayerTimeComparison c;
  for (const LayerEstimate& le : est.layers) {
    LayerTimeRow row;
    row.name = le.name;
    row.est_start_ns = le.first_input_ns;
    row.est_end_ns = le.end_ns;
    const auto it = sim.find(le.name);
    if (it != sim.end() && it->second->at("start_ns").is_number() && it->second->at("end_ns").is_number()) {
      row.sim_start_ns = it->second->at("start_ns").get<double>();
      row.sim_end_ns = it->second->at("end_ns").get<double>();
      const double err = std::abs(row.end_error_ns());
      if (c.enters < 0 && err > kEnterFraction * *row.sim_end_ns && err > kEnterNs)
        c.enters = static_cast<int>(c.rows.size());
    }
    c.rows.push_back(std::move(row));
  }
  for (size_t i = 0; i < c.rows.size(); ++i) {
    LayerTimeRow& row = c.rows[i];
    if (!row.sim_end_ns) continue;
    const LayerTimeRow* gate = nullptr;
    if (i < net.layers.size())
      for (int src : net.layers[i].inputs) {
        if (src < 0 || static_cast<size_t>(src) >= c.rows.size() || !c.rows[static_cast<size_t>(src)].sim_end_ns)
          continue;
        const LayerTimeRow& in = c.rows[static_cast<size_t>(src)];
        if (!gate || *in.sim_end_ns > *gate->sim_end_ns) gate = &in;
      }
    row.added_error_ns = row.end_error_ns() - (gate ? gate->end_error_ns() : 0.0);
    if (c.largest_added < 0 ||
        std::abs(row.added_error_ns) > std::abs(c.rows[static_cast<size_t>(c.largest_added)].added_error_ns))
      c.largest_added = static_cast<int>(i);
  }
  return c;
}

std::string layer_times_markdown(const LayerTimeComparison& c) {
  std::string md =
      "\n## Per layer, best design (latency: estimated vs simulated start and end)\n\n"
      "Start: the layer's first input row ready (estimator, `first_input_ns`) / its first input bytes\n"
      "arrived at one of its cores (simulator). End: its last output row ready at its consumers\n"
      "(estimator) / its last instruction done (simulator). Simulated figures: report.json `layers`\n"
      "(docs/report.md). Error = estimate - simulated; added = end error minus that of the layer's\n"
      "gating input (its input that ends last in the simulation): the part this layer contributes.\n\n"
      "| layer | est. start us | sim. start us | start error us | est. end us | sim. end us | end error us | "
      "end error % | added us |\n|---|---|---|---|---|---|---|---|---|\n";
  for (const LayerTimeRow& r : c.rows) {
    if (!r.sim_end_ns) {
      md += fmt::format("| {} | {:.3f} | - | - | {:.3f} | - | - | - | - |\n", r.name, r.est_start_ns * 1e-3,
                        r.est_end_ns * 1e-3);
      continue;
    }
    md += fmt::format("| {} | {:.3f} | {:.3f} | {:+.3f} | {:.3f} | {:.3f} | {:+.3f} | {} | {:+.3f} |\n", r.name,
                      r.est_start_ns * 1e-3, *r.sim_start_ns * 1e-3, r.start_error_ns() * 1e-3, r.est_end_ns * 1e-3,
                      *r.sim_end_ns * 1e-3, r.end_error_ns() * 1e-3,
                      *r.sim_end_ns > 0 ? fmt::format("{:+.1f}", 100.0 * r.end_error_ns() / *r.sim_end_ns)
                                        : std::string("-"),
                      r.added_error_ns * 1e-3);
  }
  md += "\n";
  if (c.enters >= 0) {
    const LayerTimeRow& r = c.rows[static_cast<size_t>(c.enters)];
    md += fmt::format(
        "Latency error enters at layer {} (the first whose end is off by more than {:.0f} % and {:.0f} ns): "
        "estimated end {:.3f} us, simulated {:.3f} us ({:+.1f} %).\n",
        r.name, 100 * kEnterFraction, kEnterNs, r.est_end_ns * 1e-3, *r.sim_end_ns * 1e-3,
        100.0 * r.end_error_ns() / *r.sim_end_ns);
  } else {
    md += fmt::format("Every layer's end is within {:.0f} % or {:.0f} ns of the simulation.\n",
                      100 * kEnterFraction, kEnterNs);
  }
  if (c.largest_added >= 0) {
    const LayerTimeRow& r = c.rows[static_cast<size_t>(c.largest_added)];
    md += fmt::format("Largest added error: layer {}, {:+.3f} us of its end error {:+.3f} us.\n", r.name,
                      r.added_error_ns * 1e-3, r.end_error_ns() * 1e-3);
  }
  return md;
}

json layer_times_json(const LayerTimeComparison& c) {
  json layers = json::array();
  for (const LayerTimeRow& r : c.rows) {
    json l;
    l["name"] = r.name;
    l["est_start_ns"] = r.est_start_ns;
    l["est_end_ns"] = r.est_end_ns;
    l["sim_start_ns"] = r.sim_start_ns ? json(*r.sim_start_ns) : json(nullptr);
    l["sim_end_ns"] = r.sim_end_ns ? json(*r.sim_end_ns) : json(nullptr);
    l["added_error_ns"] = r.added_error_ns;
    layers.push_back(std::move(l));
  }
  json out;
  out["layers"] = std::move(layers);
  out["latency_error_enters"] = c.enters >= 0 ? json(c.rows[static_cast<size_t>(c.enters)].name) : json(nullptr);
  out["largest_added_error"] =
      c.largest_added >= 0 ? json(c.rows[static_cast<size_t>(c.largest_added)].name) : json(nullptr);
  out["enter_threshold"] = {{"fraction", kEnterFraction}, {"ns", kEnterNs}};
  return out;
}

}  // namespace cimsim::synth
