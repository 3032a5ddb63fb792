#include "traces/trace_selection.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "platform/spec/arch.h"
#include "platform/spec/arch_keys.h"

namespace cimsim {
namespace {

std::vector<std::string> split_list(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    size_t at = 0;
    while (at <= item.size()) {
      size_t comma = item.find(',', at);
      if (comma == std::string::npos) comma = item.size();
      std::string word = item.substr(at, comma - at);
      word.erase(0, word.find_first_not_of(" \t"));
      word.erase(word.find_last_not_of(" \t") + 1);
      out.push_back(word);
      at = comma + 1;
    }
  }
  return out;
}

bool parse_int(const std::string& s, long& v) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 9) return false;
  v = std::strtol(s.c_str(), nullptr, 10);
  return true;
}

// "" -> fallback; otherwise a finite number >= 0 of ns, converted to ps.
uint64_t parse_time_ps(const std::string& s, uint64_t fallback, const std::string& whole) {
  if (s.empty()) return fallback;
  char* end = nullptr;
  double ns = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(ns) || ns < 0 || ns > 1e15)
    throw InputError(fmt::format("--trace-window '{}': '{}' is not a time in ns >= 0 "
                                 "(expected START_NS:END_NS)", whole, s));
  return static_cast<uint64_t>(std::llround(ns * 1000.0));
}

}  // namespace

const std::vector<std::string>& trace_unit_names() {
  static const std::vector<std::string> kNames = {"scalar", "vector", "xbar", "adc",
                                                  "nic",    "link",   "memory", "wait"};
  return kNames;
}

TraceSelection parse_trace_selection(const TraceSelectionText& text, int num_cores,
                                     const std::vector<std::string>& layer_names) {
  TraceSelection sel;
  if (!text.cores.empty()) {
    sel.cores.assign(static_cast<size_t>(std::max(num_cores, 0)), false);
    for (const std::string& item : split_list({text.cores})) {
      size_t dash = item.find('-');
      long lo = 0, hi = 0;
      bool ok = dash == std::string::npos ? parse_int(item, lo) && parse_int(item, hi)
                                          : parse_int(item.substr(0, dash), lo) &&
                                                parse_int(item.substr(dash + 1), hi);
      if (!ok || lo > hi)
        throw InputError(fmt::format("--trace-cores '{}': '{}' is not a core or a range A-B "
                                     "(expected e.g. 0,2-3)", text.cores, item));
      if (hi >= num_cores)
        throw InputError(fmt::format("--trace-cores '{}': core {} is out of range (the chip has "
                                     "cores 0-{})", text.cores, hi, num_cores - 1));
      for (long c = lo; c <= hi; ++c) sel.cores[static_cast<size_t>(c)] = true;
    }
  }
  if (!text.units.empty()) {
    sel.unit_mask = 0;
    const auto& names = trace_unit_names();
    for (std::string word : split_list(text.units)) {
      if (word == "crossbar") word = "xbar";
      auto it = std::find(names.begin(), names.end(), word);
      if (it == names.end()) {
        std::string hint = arch_keys::closest(word, names);
        throw InputError(fmt::format("--trace-units: unknown unit '{}'{} (expected some of {})", word,
                                     hint.empty() ? "" : " (did you mean '" + hint + "'?)",
                                     fmt::join(names, ", ")));
      }
      sel.unit_mask |= 1u << (it - names.begin());
    }
  }
  if (!text.window.empty()) {
    size_t colon = text.window.find(':');
    if (colon == std::string::npos || text.window.find(':', colon + 1) != std::string::npos)
      throw InputError(fmt::format("--trace-window '{}': expected START_NS:END_NS", text.window));
    sel.window_start_ps = parse_time_ps(text.window.substr(0, colon), 0, text.window);
    sel.window_end_ps = parse_time_ps(text.window.substr(colon + 1), sel.window_end_ps, text.window);
    if (sel.window_end_ps <= sel.window_start_ps)
      throw InputError(fmt::format("--trace-window '{}': END must be greater than START", text.window));
  }
  if (!text.layers.empty()) {
    sel.layers.assign(layer_names.size(), false);
    for (const std::string& word : split_list(text.layers)) {
      bool found = false;
      for (size_t i = 0; i < layer_names.size(); ++i)
        if (layer_names[i] == word) sel.layers[i] = found = true;
      if (found) continue;
      std::string hint = arch_keys::closest(word, layer_names);
      std::string message = fmt::format("--trace-layer: the program has no layer '{}'", word);
      if (!hint.empty()) {
        message += fmt::format(" (did you mean '{}'?)", hint);
      } else {
        std::vector<std::string> some(layer_names.begin(),
                                      layer_names.begin() + std::min<size_t>(layer_names.size(), 8));
        message += fmt::format(" (layers: {}{})", fmt::join(some, ", "), layer_names.size() > 8 ? ", ..." : "");
      }
      throw InputError(message);
    }
  }
  return sel;
}

}  // namespace cimsim
