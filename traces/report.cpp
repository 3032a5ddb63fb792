#include "traces/report.h"

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include <fmt/format.h>

namespace cimsim {
namespace {

// Structural instance counts, used for a component whose area is zero (so its instance count
// cannot be read back from derive()'s area breakdown).
double structural_instances(const ArchSpec& spec, const std::string& name) {
  const double cores = spec.chip.cores;
  const double pes = cores * spec.core.pes;
  const double crossbars = pes * spec.pe.crossbars;
  if (name == "crossbar") return crossbars;
  if (name == "dac") return crossbars * spec.crossbar.rows;
  if (name == "snh") return crossbars * spec.crossbar.cols;
  if (name == "adc") return pes * spec.pe.adcs;
  if (name == "shift_add") return pes * spec.pe.shift_adds;
  if (name == "pe_input_reg" || name == "pe_output_reg") return pes;
  if (name == "memory") return 1;
  if (name == "crossbar_write") return 0;  // an action of the crossbars, not a circuit of its own
  return cores;  // buffer, bus, router, vector_unit, scalar_unit, core_output_reg
}

std::vector<std::string> unique_layer_names(const Program& program, size_t ledger_layers) {
  size_t n = std::max(ledger_layers, program.layers.size());
  std::vector<std::string> names;
  std::map<std::string, int> seen;
  for (size_t i = 0; i < n; ++i) {
    std::string name = i < program.layers.size() && !program.layers[i].empty()
                           ? program.layers[i]
                           : fmt::format("layer {}", i);
    // "leakage" is reserved for the leakage entry of by_layer.
    int count = seen[name]++;
    if (count > 0 || name == "leakage") name = fmt::format("{}#{}", name, count + 1);
    names.push_back(name);
  }
  return names;
}

double fraction(uint64_t part_ps, uint64_t whole_ps) {
  return whole_ps == 0 ? 0.0 : static_cast<double>(part_ps) / static_cast<double>(whole_ps);
}

}  // namespace

std::map<std::string, double> component_instances(const ArchSpec& spec,
                                                  const ArchDerived& derived) {
  std::map<std::string, double> out;
  for (const auto& [name, cost] : spec.costs.components) {
    auto area = derived.area_um2_by_component.find(name);
    if (cost.area_um2 > 0 && area != derived.area_um2_by_component.end() && area->second > 0)
      out[name] = area->second / cost.area_um2;
    else
      out[name] = structural_instances(spec, name);
  }
  return out;
}

nlohmann::json build_report(const RunStats& stats, const ArchSpec& spec, const ArchDerived& derived,
                            const Program& program, double wall_s) {
  using nlohmann::json;
  json r;
  const double latency_ns = static_cast<double>(stats.end_ps) / 1000.0;
  r["latency_ns"] = latency_ns;
  r["cycles"] = derived.cycle_ns > 0
                    ? static_cast<uint64_t>(std::ceil(latency_ns / derived.cycle_ns - 1e-9))
                    : 0;
  r["batch"] = stats.batch;
  r["throughput_inferences_per_s"] = latency_ns > 0 ? stats.batch / (latency_ns * 1e-9) : 0.0;

  // Energy: dynamic from the ledger, leakage from the cost table, both per component.
  std::map<std::string, double> by_component;
  double dynamic_pj = 0;
  std::vector<double> by_layer_pj(stats.energy.layers(), 0.0);
  for (size_t c = 0; c < kComponentNames.size(); ++c) {
    double sum = 0;
    for (size_t l = 0; l < stats.energy.layers(); ++l) {
      double pj = stats.energy.get(static_cast<Component>(c), static_cast<uint16_t>(l));
      sum += pj;
      by_layer_pj[l] += pj;
    }
    by_component[kComponentNames[c]] += sum;
    dynamic_pj += sum;
  }
  double leakage_pj = 0;
  for (const auto& [name, instances] : component_instances(spec, derived)) {
    double pj = instances * spec.costs.components.at(name).leakage_mw * latency_ns;
    by_component[name] += pj;
    leakage_pj += pj;
  }
  json energy;
  energy["total"] = dynamic_pj + leakage_pj;
  energy["dynamic"] = dynamic_pj;
  energy["leakage"] = leakage_pj;
  energy["by_component"] = by_component;
  json by_layer = json::object();
  const size_t num_layers = std::max(by_layer_pj.size(), stats.layer_times.size());
  std::vector<std::string> layer_names = unique_layer_names(program, num_layers);
  for (size_t l = 0; l < by_layer_pj.size(); ++l) by_layer[layer_names[l]] = by_layer_pj[l];
  by_layer["leakage"] = leakage_pj;
  energy["by_layer"] = by_layer;
  r["energy_pj"] = energy;

  // Per-layer timing, in program order, under the names by_layer uses (docs/report.md).
  json layers = json::array();
  for (size_t l = 0; l < num_layers; ++l) {
    const LayerTime t = l < stats.layer_times.size() ? stats.layer_times[l] : LayerTime{};
    json e;
    e["name"] = layer_names[l];
    const bool ran = t.unit_instructions > 0;
    e["start_ns"] = ran ? json(static_cast<double>(t.start_ps) / 1000.0) : json(nullptr);
    e["end_ns"] = ran ? json(static_cast<double>(t.end_ps) / 1000.0) : json(nullptr);
    e["busy_ns"] = static_cast<double>(t.busy_ps) / 1000.0;
    e["instructions"] = t.instructions;
    e["energy_pj"] = l < by_layer_pj.size() ? by_layer_pj[l] : 0.0;
    layers.push_back(std::move(e));
  }
  r["layers"] = std::move(layers);

  // Area: derive()'s breakdown; anything its total holds beyond the breakdown is "other".
  std::map<std::string, double> area = derived.area_um2_by_component;
  double area_sum = 0;
  for (const auto& kv : area) area_sum += kv.second;
  if (std::abs(derived.area_um2 - area_sum) > 1e-9 * std::max(1.0, std::abs(derived.area_um2)))
    area["other"] = derived.area_um2 - area_sum;
  r["area_um2"] = {{"total", derived.area_um2}, {"by_component", area}};

  r["instructions_executed"] = stats.instructions_executed;

  json cores = json::array();
  for (uint64_t busy : stats.core_busy_ps) cores.push_back(fraction(busy, stats.end_ps));
  double xbar_sum = 0, xbar_max = 0;
  size_t xbar_count = 0;
  json per_core = json::array();
  for (const auto& core : stats.crossbar_busy_ps) {
    double core_sum = 0;
    for (uint64_t busy : core) {
      double f = fraction(busy, stats.end_ps);
      core_sum += f;
      xbar_max = std::max(xbar_max, f);
    }
    xbar_sum += core_sum;
    xbar_count += core.size();
    per_core.push_back(core.empty() ? 0.0 : core_sum / static_cast<double>(core.size()));
  }
  r["utilization"] = {
      {"cores", cores},
      {"crossbars",
       {{"mean", xbar_count ? xbar_sum / static_cast<double>(xbar_count) : 0.0},
        {"max", xbar_max},
        {"per_core", per_core}}}};

  r["sim"] = {{"wall_s", wall_s},
              {"instructions_per_s",
               wall_s > 0 ? static_cast<double>(stats.instructions_executed) / wall_s : 0.0},
              {"peak_rss_mb", peak_rss_mb()},
              {"rtl_cycles", stats.rtl_cycles}};

  r["counts"] = {{"mvms", stats.mvms},
                 {"macs", stats.macs},
                 {"adc_conversions", stats.adc_conversions},
                 {"adc_saturations", stats.adc_saturations},
                 {"flit_hops", stats.flit_hops},
                 {"memory_bytes", stats.memory_bytes},
                 {"rx_peak_channel_bytes", stats.rx_peak_channel_bytes}};
  r["backpressure"] = {{"credit_wait_ns", static_cast<double>(stats.credit_wait_ps) / 1000.0},
                       {"memory_queue_wait_ns", static_cast<double>(stats.memory_queue_wait_ps) / 1000.0}};
  return r;
}

namespace {

// 1234.5 ns -> "1.23 us": engineering prefixes keep the table readable across six decades.
std::string with_prefix(double v, const char* unit) {
  static const std::pair<double, const char*> kPrefixes[] = {
      {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}, {1, ""}, {1e-3, "m"}, {1e-6, "u"},
      {1e-9, "n"}, {1e-12, "p"}, {1e-15, "f"}};
  if (v == 0 || !std::isfinite(v)) return fmt::format("{:.4g} {}", v, unit);
  for (const auto& [scale, prefix] : kPrefixes)
    if (std::abs(v) >= scale) return fmt::format("{:.4g} {}{}", v / scale, prefix, unit);
  return fmt::format("{:.4g} {}", v, unit);
}

}  // namespace

void print_summary(const nlohmann::json& r, std::ostream& out) {
  const double latency_ns = r.at("latency_ns").get<double>();
  const int batch = r.at("batch").get<int>();
  const double total_pj = r.at("energy_pj").at("total").get<double>();
  const auto& counts = r.at("counts");
  const double ops = 2.0 * counts.at("macs").get<double>();
  auto row = [&](const std::string& k, const std::string& v) {
    out << fmt::format("  {:<24} {}\n", k, v);
  };
  out << "cimsim simulation summary\n";
  row("latency (batch)", with_prefix(latency_ns * 1e-9, "s"));
  row("batch", std::to_string(batch));
  row("throughput", fmt::format("{:.4g} inferences/s", r.at("throughput_inferences_per_s").get<double>()));
  row("energy / inference", with_prefix(batch > 0 ? total_pj * 1e-12 / batch : 0.0, "J"));
  row("average power", with_prefix(latency_ns > 0 ? total_pj / latency_ns * 1e-3 : 0.0, "W"));
  row("TOPS/W", total_pj > 0 ? fmt::format("{:.4g}", ops / total_pj) : std::string("n/a"));
  row("area", fmt::format("{:.4g} mm2", r.at("area_um2").at("total").get<double>() * 1e-6));
  row("instructions", std::to_string(r.at("instructions_executed").get<uint64_t>()));
  if (r.contains("backpressure")) {
    // Summed over requests, so it can exceed the latency: it says how much the bounds bite.
    const auto& bp = r.at("backpressure");
    row("back-pressure waits", fmt::format("{} credits (peak channel {} B), {} memory queue",
                                           with_prefix(bp.at("credit_wait_ns").get<double>() * 1e-9, "s"),
                                           counts.value("rx_peak_channel_bytes", uint64_t{0}),
                                           with_prefix(bp.at("memory_queue_wait_ns").get<double>() * 1e-9, "s")));
  }
  row("simulator speed", fmt::format("{:.4g} instructions/s in {:.3g} s wall",
                                     r.at("sim").at("instructions_per_s").get<double>(),
                                     r.at("sim").at("wall_s").get<double>()));
  if (const uint64_t rtl = r.at("sim").value("rtl_cycles", uint64_t{0}); rtl > 0)
    row("rtl co-simulation", fmt::format("{} RTL clock cycles (docs/cosim.md)", rtl));
  std::vector<std::pair<double, std::string>> consumers;
  for (const auto& [name, pj] : r.at("energy_pj").at("by_component").items())
    consumers.emplace_back(pj.get<double>(), name);
  std::sort(consumers.begin(), consumers.end(),
            [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
  out << "  top energy consumers\n";
  for (size_t i = 0; i < consumers.size() && i < 5; ++i) {
    if (consumers[i].first <= 0) break;
    out << fmt::format("    {:<22} {:>12} {:6.2f} %\n", consumers[i].second,
                       with_prefix(consumers[i].first * 1e-12, "J"),
                       total_pj > 0 ? 100.0 * consumers[i].first / total_pj : 0.0);
  }
}

void print_layer_table(const nlohmann::json& r, std::ostream& out) {
  if (!r.contains("layers")) return;
  const double total_pj = r.at("energy_pj").at("total").get<double>();
  auto time = [](const nlohmann::json& ns) {
    return ns.is_null() ? std::string("-") : with_prefix(ns.get<double>() * 1e-9, "s");
  };
  size_t width = 22;  // as wide as the longest name: ONNX node names run to 40 characters
  for (const auto& l : r.at("layers")) width = std::max(width, l.at("name").get<std::string>().size());
  out << "  per layer (start: first input in; end: last work done; busy: summed over its instructions)\n";
  out << fmt::format("    {:<{}} {:>11} {:>11} {:>11} {:>11} {:>12} {:>12} {:>7}\n", "layer", width, "start",
                     "end", "span", "busy", "instructions", "energy", "share");
  for (const auto& l : r.at("layers")) {
    const auto& start = l.at("start_ns");
    const auto& end = l.at("end_ns");
    const double pj = l.at("energy_pj").get<double>();
    out << fmt::format("    {:<{}} {:>11} {:>11} {:>11} {:>11} {:>12} {:>12} {:>5.1f} %\n",
                       l.at("name").get<std::string>(), width, time(start), time(end),
                       start.is_null() ? std::string("-")
                                       : with_prefix((end.get<double>() - start.get<double>()) * 1e-9, "s"),
                       with_prefix(l.at("busy_ns").get<double>() * 1e-9, "s"),
                       l.at("instructions").get<uint64_t>(), with_prefix(pj * 1e-12, "J"),
                       total_pj > 0 ? 100.0 * pj / total_pj : 0.0);
  }
}

double peak_rss_mb() {
  struct rusage usage {};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports kilobytes
}

}  // namespace cimsim
