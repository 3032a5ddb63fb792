#include "traces/timeline.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <iterator>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cimsim {
namespace {

constexpr int kLayersTrack = kLayersTrackKind;  // a pseudo unit kind sorting before every real unit

uint64_t ps_to_ns(uint64_t ps) { return (ps + 500) / 1000; }


std::string json_string(const std::string& s) { return nlohmann::json(s).dump(); }


const char* link_direction(int index) {
  static const char* kNames[] = {"E", "W", "N", "S", "local"};
  return index >= 0 && index < 5 ? kNames[index] : "?";
}

}  // namespace

std::string timeline_track_name(int kind, int index) {
  if (kind == kLayersTrack) return "layers";
  switch (static_cast<Unit>(kind)) {
    case Unit::kCrossbar: return fmt::format("xbar {}", index);
    case Unit::kAdc: return fmt::format("adc {}", index);
    case Unit::kLink: return fmt::format("link {}", link_direction(index));
    case Unit::kMemory: return "memory port";
    case Unit::kWait: return index == 0 ? "nic wait: credits" : "nic wait: memory queue";
    default: return unit_name(static_cast<Unit>(kind));
  }
}

int timeline_track_index(const SimEvent& e) {
  return (e.unit == Unit::kScalar || e.unit == Unit::kVector || e.unit == Unit::kNic ||
          e.unit == Unit::kMemory)
             ? 0
             : e.unit_index;
}

namespace {

// A slice ready to print: times in ns, lane chosen later. Text is produced only when printing.
struct Slice {
  int pid;
  int kind;
  int index;
  uint64_t start_ns, end_ns;
  const SimEvent* event;  // unit slices; null for a layer stretch
  uint16_t layer;         // layer stretches
  uint32_t events;        // layer stretches: events in the stretch
  double energy_pj;       // layer stretches: their energy
};

}  // namespace

std::vector<int> assign_nesting_lanes(const std::vector<std::pair<uint64_t, uint64_t>>& spans) {
  std::vector<size_t> order(spans.size());
  std::iota(order.begin(), order.end(), 0);
  // Earlier first; at equal starts the longer span first so that it can enclose the shorter.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (spans[a].first != spans[b].first) return spans[a].first < spans[b].first;
    return spans[a].second > spans[b].second;
  });
  std::vector<int> lane(spans.size(), 0);
  std::vector<std::vector<uint64_t>> open_ends;  // per lane, a stack of enclosing slices' ends
  for (size_t i : order) {
    auto [start, end] = spans[i];
    size_t k = 0;
    for (;; ++k) {
      if (k == open_ends.size()) open_ends.emplace_back();
      auto& stack = open_ends[k];
      while (!stack.empty() && stack.back() <= start) stack.pop_back();
      if (stack.empty() || stack.back() >= end) {
        stack.push_back(end);
        break;
      }
    }
    lane[i] = static_cast<int>(k);
  }
  return lane;
}

std::string build_timeline_json(const std::vector<SimEvent>& events,
                                const std::vector<std::string>& layer_names, int num_cores) {
  // JSON-quoted layer names, made once per layer (events only carry the index).
  std::map<uint16_t, std::string> quoted_layers;
  auto quoted_layer = [&](uint16_t layer) -> const std::string& {
    auto it = quoted_layers.find(layer);
    if (it != quoted_layers.end()) return it->second;
    std::string name = layer < layer_names.size() && !layer_names[layer].empty()
                           ? layer_names[layer]
                           : fmt::format("layer {}", layer);
    return quoted_layers.emplace(layer, json_string(name)).first->second;
  };
  int max_core = num_cores - 1;
  for (const auto& e : events) max_core = std::max(max_core, static_cast<int>(e.core));
  const int memory_pid = max_core + 1;

  std::vector<Slice> slices;
  slices.reserve(events.size() + events.size() / 4);
  for (const auto& e : events) {
    Slice s;
    s.pid = e.core < 0 ? memory_pid : e.core;
    s.kind = static_cast<int>(e.unit);
    s.index = timeline_track_index(e);
    s.start_ns = ps_to_ns(e.start_ps);
    s.end_ns = ps_to_ns(e.start_ps + e.duration_ps);
    s.event = &e;
    s.layer = e.layer;
    s.events = 1;
    s.energy_pj = e.energy_pj;
    slices.push_back(s);
  }

  // Layer stretches per core: consecutive (by start time) events of one layer on that core.
  std::map<int, std::vector<const SimEvent*>> per_core;
  for (const auto& e : events)
    if (e.core >= 0 && e.unit != Unit::kLink && e.unit != Unit::kWait) per_core[e.core].push_back(&e);
  for (auto& [core, list] : per_core) {
    std::stable_sort(list.begin(), list.end(),
                     [](const SimEvent* a, const SimEvent* b) { return a->start_ps < b->start_ps; });
    size_t i = 0;
    while (i < list.size()) {
      size_t j = i;
      uint64_t end_ps = 0;
      double energy = 0;
      for (; j < list.size() && list[j]->layer == list[i]->layer; ++j) {
        end_ps = std::max(end_ps, list[j]->start_ps + list[j]->duration_ps);
        energy += list[j]->energy_pj;
      }
      Slice s;
      s.pid = core;
      s.kind = kLayersTrack;
      s.index = 0;
      s.start_ns = ps_to_ns(list[i]->start_ps);
      s.end_ns = ps_to_ns(end_ps);
      s.event = nullptr;
      s.layer = list[i]->layer;
      s.events = static_cast<uint32_t>(j - i);
      s.energy_pj = energy;
      slices.push_back(s);
      i = j;
    }
  }

  // Lanes per (pid, unit kind, unit index).
  std::map<std::tuple<int, int, int>, std::vector<size_t>> tracks;
  for (size_t i = 0; i < slices.size(); ++i)
    tracks[{slices[i].pid, slices[i].kind, slices[i].index}].push_back(i);
  std::vector<int> lane_of(slices.size(), 0);
  // Threads in display order: (pid, kind, index, lane) -> tid.
  std::map<std::tuple<int, int, int, int>, int> tids;
  for (const auto& [key, members] : tracks) {
    std::vector<std::pair<uint64_t, uint64_t>> spans;
    spans.reserve(members.size());
    for (size_t m : members) spans.emplace_back(slices[m].start_ns, slices[m].end_ns);
    std::vector<int> lanes = assign_nesting_lanes(spans);
    for (size_t k = 0; k < members.size(); ++k) {
      lane_of[members[k]] = lanes[k];
      tids.emplace(std::make_tuple(std::get<0>(key), std::get<1>(key), std::get<2>(key), lanes[k]), 0);
    }
  }
  std::map<int, int> next_local;
  for (auto& [key, tid] : tids) {
    int pid = std::get<0>(key);
    tid = (pid + 1) * 100000 + next_local[pid]++;  // unique across processes
  }

  std::string out;
  out += "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
  bool first = true;
  auto emit = [&](const std::string& line) {
    if (!first) out += ",\n";
    first = false;
    out += line;
  };
  std::map<int, bool> pids;
  for (int c = 0; c <= max_core; ++c) pids[c] = true;
  for (const auto& s : slices) pids[s.pid] = true;
  for (const auto& kv : pids) {
    int pid = kv.first;
    std::string name = pid == memory_pid ? "global memory" : fmt::format("core {}", pid);
    emit(fmt::format("{{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":{},\"tid\":0,\"args\":{{\"name\":{}}}}}",
                     pid, json_string(name)));
    emit(fmt::format("{{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":{},\"tid\":0,\"args\":{{\"sort_index\":{}}}}}",
                     pid, pid));
  }
  for (const auto& [key, tid] : tids) {
    auto [pid, kind, index, lane] = key;
    std::string name = timeline_track_name(kind, index);
    if (lane > 0) name += fmt::format(" ({})", lane + 1);
    emit(fmt::format("{{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":{},\"tid\":{},\"args\":{{\"name\":{}}}}}",
                     pid, tid, json_string(name)));
    emit(fmt::format("{{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":{},\"tid\":{},\"args\":{{\"sort_index\":{}}}}}",
                     pid, tid, tid % 100000));
  }
  // Within a thread, enclosing slices before the slices they enclose. Sorting packed keys
  // keeps the sort cache-friendly for millions of slices.
  std::vector<std::tuple<uint64_t, uint64_t, size_t>> keys(slices.size());
  for (size_t i = 0; i < slices.size(); ++i) keys[i] = {slices[i].start_ns, ~slices[i].end_ns, i};
  std::sort(keys.begin(), keys.end());
  std::vector<int> tid_of(slices.size(), 0);
  for (const auto& [key, members] : tracks)
    for (size_t m : members)
      tid_of[m] = tids.at({std::get<0>(key), std::get<1>(key), std::get<2>(key), lane_of[m]});
  std::map<const char*, std::string> quoted_actions;  // actions are static strings
  fmt::memory_buffer buf;
  buf.reserve(slices.size() * 140);
  for (const auto& key : keys) {
    const size_t i = std::get<2>(key);
    const Slice& s = slices[i];
    const uint64_t dur_ns = s.end_ns - s.start_ns;
    // ts/dur: microseconds with exactly three decimals (whole ns, no binary rounding). JSON has
    // no inf/nan: a broken energy figure prints as null rather than breaking the file.
    const double energy = std::isfinite(s.energy_pj) ? s.energy_pj : 0.0;
    const char* energy_text = std::isfinite(s.energy_pj) ? "" : "null";
    if (s.event) {
      const char* action = s.event->action ? s.event->action : "";
      auto it = quoted_actions.find(action);
      if (it == quoted_actions.end()) it = quoted_actions.emplace(action, json_string(action)).first;
      fmt::format_to(fmt::appender(buf),
                     ",\n{{\"ph\":\"X\",\"name\":{},\"pid\":{},\"tid\":{},\"ts\":{}.{:03},\"dur\":{}.{:03},"
                     "\"args\":{{\"layer\":{},\"pc\":{},\"energy_pj\":",
                     it->second, s.pid, tid_of[i], s.start_ns / 1000, s.start_ns % 1000, dur_ns / 1000,
                     dur_ns % 1000, quoted_layer(s.layer), s.event->pc);
    } else {
      fmt::format_to(fmt::appender(buf),
                     ",\n{{\"ph\":\"X\",\"name\":{},\"pid\":{},\"tid\":{},\"ts\":{}.{:03},\"dur\":{}.{:03},"
                     "\"args\":{{\"events\":{},\"energy_pj\":",
                     quoted_layer(s.layer), s.pid, tid_of[i], s.start_ns / 1000, s.start_ns % 1000,
                     dur_ns / 1000, dur_ns % 1000, s.events);
    }
    if (*energy_text)
      fmt::format_to(fmt::appender(buf), "{}}}}}", energy_text);
    else
      fmt::format_to(fmt::appender(buf), "{}}}}}", energy);
  }
  out.reserve(out.size() + buf.size() + 8);
  if (first && buf.size() > 0) {
    out.append(buf.data() + 2, buf.size() - 2);  // no metadata before: drop the leading ",\n"
  } else {
    out.append(buf.data(), buf.size());
  }
  out += "\n]}\n";
  return out;
}

}  // namespace cimsim
