#include "traces/vcd.h"

#include <algorithm>
#include <map>
#include <tuple>

#include <fmt/format.h>

namespace cimsim {
namespace {

// VCD identifiers: printable ASCII 33..126, shortest first.
std::string vcd_id(size_t n) {
  std::string id;
  do {
    id += static_cast<char>(33 + n % 94);
    n /= 94;
  } while (n > 0);
  return id;
}

std::string signal_name(Unit unit, int index) {
  static const char* kLinks[] = {"E", "W", "N", "S", "local"};
  switch (unit) {
    case Unit::kCrossbar: return fmt::format("xbar{}_busy", index);
    case Unit::kAdc: return fmt::format("adc{}_busy", index);
    case Unit::kLink: return fmt::format("link_{}_busy", index >= 0 && index < 5 ? kLinks[index] : "x");
    case Unit::kMemory: return "port_busy";
    case Unit::kWait: return index == 0 ? "credit_wait" : "memory_queue_wait";
    default: return fmt::format("{}_busy", unit_name(unit));
  }
}

bool is_instruction(Unit u) {
  return u == Unit::kScalar || u == Unit::kVector || u == Unit::kCrossbar || u == Unit::kNic;
}

std::string binary(uint64_t v) {
  if (v == 0) return "0";
  std::string s;
  for (; v; v >>= 1) s += static_cast<char>('0' + (v & 1));
  std::reverse(s.begin(), s.end());
  return s;
}

struct Signal {
  std::string id;
  int width = 1;
  int64_t level = 0;  // busy: number of spanning events; counter: value
  int64_t shown = 0;
};

}  // namespace

std::string build_vcd(const std::vector<SimEvent>& events, uint64_t end_ps, int num_cores) {
  // (core, unit, index) for busy wires; (core, -1, 0) for the instruction counter.
  std::map<std::tuple<int, int, int>, Signal> signals;
  for (int c = 0; c < num_cores; ++c) signals[{c, -1, 0}].width = 32;
  auto busy_key = [](const SimEvent& e) {
    int index = (e.unit == Unit::kScalar || e.unit == Unit::kVector || e.unit == Unit::kNic ||
                 e.unit == Unit::kMemory) ? 0 : e.unit_index;
    return std::make_tuple(static_cast<int>(e.core), static_cast<int>(e.unit), index);
  };
  for (const auto& e : events) {
    signals[busy_key(e)];
    if (is_instruction(e.unit) && e.core >= 0) signals[{e.core, -1, 0}].width = 32;
  }
  size_t n = 0;
  for (auto& kv : signals) kv.second.id = vcd_id(n++);

  struct Change {
    uint64_t ps;
    Signal* signal;
    int delta;
  };
  std::vector<Change> changes;
  changes.reserve(events.size() * 3);
  for (const auto& e : events) {
    Signal* busy = &signals[busy_key(e)];
    if (e.duration_ps > 0) {
      changes.push_back({e.start_ps, busy, +1});
      changes.push_back({e.start_ps + e.duration_ps, busy, -1});
    }
    if (is_instruction(e.unit) && e.core >= 0)
      changes.push_back({e.start_ps + e.duration_ps, &signals[{e.core, -1, 0}], +1});
  }
  std::stable_sort(changes.begin(), changes.end(),
                   [](const Change& a, const Change& b) { return a.ps < b.ps; });

  std::string out;
  out += "$date\n     cimsim run\n$end\n\n";
  out += "$version\n cimsim (generated from the simulation event stream)\n$end\n\n";
  out += "$timescale\n     1 ps\n$end\n\n";
  out += "$scope module SystemC $end\n";
  int open_core = -2;
  for (auto& [key, s] : signals) {
    auto [core, unit, index] = key;
    if (core != open_core) {
      if (open_core != -2) out += "$upscope $end\n";
      out += core < 0 ? std::string("$scope module memory $end\n")
                      : fmt::format("$scope module core_{} $end\n", core);
      open_core = core;
    }
    std::string name = unit < 0 ? "instructions" : signal_name(static_cast<Unit>(unit), index);
    if (s.width == 1)
      out += fmt::format("$var wire    1  {}  {}       $end\n", s.id, name);
    else
      out += fmt::format("$var wire   {}  {}  {} [{}:0]       $end\n", s.width, s.id, name, s.width - 1);
  }
  if (open_core != -2) out += "$upscope $end\n";
  out += "$upscope $end\n$enddefinitions  $end\n\n";
  out += "$comment\nAll initial values are dumped below at time 0 sec = 0 timescale units.\n$end\n\n";
  out += "$dumpvars\n";
  for (auto& kv : signals)
    out += kv.second.width == 1 ? "0" + kv.second.id + "\n" : "b0 " + kv.second.id + "\n";
  out += "$end\n";

  size_t i = 0;
  while (i < changes.size()) {
    uint64_t t = changes[i].ps;
    std::vector<Signal*> touched;
    for (; i < changes.size() && changes[i].ps == t; ++i) {
      changes[i].signal->level += changes[i].delta;
      touched.push_back(changes[i].signal);
    }
    std::string block;
    for (Signal* s : touched) {
      int64_t value = s->width == 1 ? (s->level > 0 ? 1 : 0) : s->level;
      if (value == s->shown) continue;
      s->shown = value;
      block += s->width == 1 ? fmt::format("{}{}\n", value, s->id)
                             : fmt::format("b{} {}\n", binary(static_cast<uint64_t>(value)), s->id);
    }
    if (!block.empty()) out += fmt::format("\n#{}\n", t) + block;
  }
  uint64_t last = changes.empty() ? 0 : changes.back().ps;
  if (end_ps > last) out += fmt::format("\n#{}\n", end_ps);
  return out;
}

}  // namespace cimsim
