#include "traces/timeline.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cimsim {
namespace {

constexpr int kLayersTrack = -1;  // a pseudo unit kind sorting before every real unit

uint64_t ps_to_ns(uint64_t ps) { return (ps + 500) / 1000; }

// Microseconds with exactly three decimals: whole nanoseconds, no binary rounding.
std::string us_text(uint64_t ns) { return fmt::format("{}.{:03}", ns / 1000, ns % 1000); }

std::string json_string(const std::string& s) { return nlohmann::json(s).dump(); }

// JSON has no inf/nan: a broken energy figure shows as null rather than breaking the file.
std::string json_number(double v) { return std::isfinite(v) ? fmt::format("{}", v) : "null"; }

const char* link_direction(int index) {
  static const char* kNames[] = {"E", "W", "N", "S", "local"};
  return index >= 0 && index < 5 ? kNames[index] : "?";
}

std::string track_name(int kind, int index) {
  if (kind == kLayersTrack) return "layers";
  switch (static_cast<Unit>(kind)) {
    case Unit::kCrossbar: return fmt::format("xbar {}", index);
    case Unit::kAdc: return fmt::format("adc {}", index);
    case Unit::kLink: return fmt::format("link {}", link_direction(index));
    case Unit::kMemory: return "memory port";
    default: return unit_name(static_cast<Unit>(kind));
  }
}

// A slice ready to print: times in ns, lane chosen later.
struct Slice {
  int pid;
  int kind;
  int index;
  uint64_t start_ns, end_ns;
  std::string name;
  std::string args;  // JSON object text
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
  auto layer_name = [&](uint16_t layer) {
    return layer < layer_names.size() && !layer_names[layer].empty() ? layer_names[layer]
                                                                     : fmt::format("layer {}", layer);
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
    s.index = (e.unit == Unit::kScalar || e.unit == Unit::kVector || e.unit == Unit::kNic ||
               e.unit == Unit::kMemory)
                  ? 0
                  : e.unit_index;
    s.start_ns = ps_to_ns(e.start_ps);
    s.end_ns = ps_to_ns(e.start_ps + e.duration_ps);
    s.name = e.action ? e.action : "";
    s.args = fmt::format("{{\"layer\":{},\"pc\":{},\"energy_pj\":{}}}", json_string(layer_name(e.layer)),
                         e.pc, json_number(e.energy_pj));
    slices.push_back(std::move(s));
  }

  // Layer stretches per core: consecutive (by start time) events of one layer on that core.
  std::map<int, std::vector<const SimEvent*>> per_core;
  for (const auto& e : events)
    if (e.core >= 0 && e.unit != Unit::kLink) per_core[e.core].push_back(&e);
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
      s.name = layer_name(list[i]->layer);
      s.args = fmt::format("{{\"events\":{},\"energy_pj\":{}}}", j - i, json_number(energy));
      slices.push_back(std::move(s));
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
  out.reserve(slices.size() * 120 + 4096);
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
    std::string name = track_name(kind, index);
    if (lane > 0) name += fmt::format(" ({})", lane + 1);
    emit(fmt::format("{{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":{},\"tid\":{},\"args\":{{\"name\":{}}}}}",
                     pid, tid, json_string(name)));
    emit(fmt::format("{{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":{},\"tid\":{},\"args\":{{\"sort_index\":{}}}}}",
                     pid, tid, tid % 100000));
  }
  // Within a thread, enclosing slices before the slices they enclose.
  std::vector<size_t> order(slices.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (slices[a].start_ns != slices[b].start_ns) return slices[a].start_ns < slices[b].start_ns;
    return slices[a].end_ns > slices[b].end_ns;
  });
  for (size_t i : order) {
    const Slice& s = slices[i];
    int tid = tids.at({s.pid, s.kind, s.index, lane_of[i]});
    emit(fmt::format("{{\"ph\":\"X\",\"name\":{},\"pid\":{},\"tid\":{},\"ts\":{},\"dur\":{},\"args\":{}}}",
                     json_string(s.name), s.pid, tid, us_text(s.start_ns),
                     us_text(s.end_ns - s.start_ns), s.args));
  }
  out += "\n]}\n";
  return out;
}

}  // namespace cimsim
