#include "traces/vcd.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <queue>
#include <sstream>

#include <fmt/format.h>

#include "platform/spec/arch.h"

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

bool by_time(const VcdWriter::Change& a, const VcdWriter::Change& b) { return a.ps < b.ps; }

// Reads one sorted run back in small pieces.
struct RunReader {
  std::FILE* file;
  uint64_t next, left;  // position (in changes) and changes left in the run
  std::vector<VcdWriter::Change> buf;
  size_t at = 0;
  bool fill(const std::string& path) {
    buf.resize(std::min<uint64_t>(left, VcdWriter::kMergeBuffer));
    at = 0;
    if (buf.empty()) return false;
    if (std::fseek(file, static_cast<long>(next * sizeof(VcdWriter::Change)), SEEK_SET) != 0 ||
        std::fread(buf.data(), sizeof(VcdWriter::Change), buf.size(), file) != buf.size())
      throw InputError(path + ": cannot read back the waves.vcd spill file");
    next += buf.size();
    left -= buf.size();
    return true;
  }
};

}  // namespace

VcdWriter::VcdWriter(int num_cores, std::string spill_path, size_t run_changes, const std::vector<bool>& cores)
    : spill_path_(std::move(spill_path)), run_changes_(std::max<size_t>(run_changes, 1)) {
  for (int c = 0; c < num_cores; ++c)  // the instruction counters, also of idle cores
    if (cores.empty() || (static_cast<size_t>(c) < cores.size() && cores[static_cast<size_t>(c)])) signal_of(c, -1, 0);
  buffer_.reserve(spill_path_.empty() ? 0 : run_changes_);
}

VcdWriter::~VcdWriter() {
  if (spill_) {
    std::fclose(spill_);
    std::remove(spill_path_.c_str());
  }
}

uint32_t VcdWriter::signal_of(int core, int unit, int index) {
  auto key = std::make_tuple(core, unit, index);
  auto it = signal_ids_.find(key);
  if (it != signal_ids_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(widths_.size());
  widths_.push_back(unit < 0 ? 32 : 1);
  signal_ids_.emplace(key, id);
  return id;
}

void VcdWriter::add(const SimEvent& e) {
  if (!error_.empty()) return;
  int index = (e.unit == Unit::kScalar || e.unit == Unit::kVector || e.unit == Unit::kNic ||
               e.unit == Unit::kMemory) ? 0 : e.unit_index;
  const uint32_t busy = signal_of(e.core, static_cast<int>(e.unit), index);
  if (e.duration_ps > 0) {
    buffer_.push_back({e.start_ps, busy, +1});
    buffer_.push_back({e.start_ps + e.duration_ps, busy, -1});
  }
  if (is_instruction(e.unit) && e.core >= 0)
    buffer_.push_back({e.start_ps + e.duration_ps, signal_of(e.core, -1, 0), +1});
  if (!spill_path_.empty() && buffer_.size() >= run_changes_) {
    try {
      spill();
    } catch (const InputError& err) {
      error_ = err.what();
      buffer_.clear();
    }
  }
}

void VcdWriter::spill() {
  if (buffer_.empty()) return;
  if (!spill_) {
    spill_ = std::fopen(spill_path_.c_str(), "w+b");
    if (!spill_) throw InputError(spill_path_ + ": cannot write: " + std::strerror(errno));
  }
  std::stable_sort(buffer_.begin(), buffer_.end(), by_time);
  if (std::fseek(spill_, 0, SEEK_END) != 0 ||
      std::fwrite(buffer_.data(), sizeof(Change), buffer_.size(), spill_) != buffer_.size())
    throw InputError(spill_path_ + ": cannot write: " + std::strerror(errno));
  runs_.emplace_back(spilled_, buffer_.size());
  spilled_ += buffer_.size();
  buffer_.clear();
}

size_t VcdWriter::bytes_held() const {
  return buffer_.capacity() * sizeof(Change) + widths_.capacity() * sizeof(int) +
         signal_ids_.size() * 64 + runs_.capacity() * sizeof(runs_[0]);
}

void VcdWriter::write(std::ostream& out, uint64_t end_ps) {
  if (!error_.empty()) throw InputError(error_);
  // Identifiers in (core, unit, index) order, the order of the $var lines.
  std::vector<std::string> ids(widths_.size());
  {
    size_t n = 0;
    for (const auto& kv : signal_ids_) ids[kv.second] = vcd_id(n++);
  }
  out << "$date\n     cimsim run\n$end\n\n";
  out << "$version\n cimsim (generated from the simulation event stream)\n$end\n\n";
  out << "$timescale\n     1 ps\n$end\n\n";
  out << "$scope module SystemC $end\n";
  int open_core = -2;
  for (const auto& [key, id] : signal_ids_) {
    auto [core, unit, index] = key;
    if (core != open_core) {
      if (open_core != -2) out << "$upscope $end\n";
      out << (core < 0 ? std::string("$scope module memory $end\n") : fmt::format("$scope module core_{} $end\n", core));
      open_core = core;
    }
    std::string name = unit < 0 ? "instructions" : signal_name(static_cast<Unit>(unit), index);
    if (widths_[id] == 1)
      out << fmt::format("$var wire    1  {}  {}       $end\n", ids[id], name);
    else
      out << fmt::format("$var wire   {}  {}  {} [{}:0]       $end\n", widths_[id], ids[id], name, widths_[id] - 1);
  }
  if (open_core != -2) out << "$upscope $end\n";
  out << "$upscope $end\n$enddefinitions  $end\n\n";
  out << "$comment\nAll initial values are dumped below at time 0 sec = 0 timescale units.\n$end\n\n";
  out << "$dumpvars\n";
  for (const auto& kv : signal_ids_) out << (widths_[kv.second] == 1 ? "0" : "b0 ") << ids[kv.second] << "\n";
  out << "$end\n";

  // Changes in time order: the in-memory buffer alone, or a merge of the sorted runs (ties in
  // arrival order: by run, then position).
  std::vector<int64_t> level(widths_.size(), 0), shown(widths_.size(), 0);
  std::vector<uint32_t> touched;
  uint64_t t = 0, last = 0;
  bool any = false;
  auto flush_time = [&]() {
    std::string block;
    for (uint32_t s : touched) {
      int64_t value = widths_[s] == 1 ? (level[s] > 0 ? 1 : 0) : level[s];
      if (value == shown[s]) continue;
      shown[s] = value;
      block += widths_[s] == 1 ? fmt::format("{}{}\n", value, ids[s])
                               : fmt::format("b{} {}\n", binary(static_cast<uint64_t>(value)), ids[s]);
    }
    if (!block.empty()) out << fmt::format("\n#{}\n", t) << block;
    touched.clear();
  };
  auto apply = [&](const Change& c) {
    if (any && c.ps != t) flush_time();
    t = c.ps;
    last = c.ps;
    any = true;
    level[c.signal] += c.delta;
    touched.push_back(c.signal);
  };
  if (runs_.empty()) {
    std::stable_sort(buffer_.begin(), buffer_.end(), by_time);
    for (const Change& c : buffer_) apply(c);
  } else {
    spill();
    std::fflush(spill_);
    std::vector<RunReader> readers;
    readers.reserve(runs_.size());
    for (const auto& [first, count] : runs_) {
      readers.push_back(RunReader{spill_, first, count, {}, 0});
      readers.back().fill(spill_path_);
    }
    using Head = std::pair<uint64_t, size_t>;  // (time, run)
    std::priority_queue<Head, std::vector<Head>, std::greater<Head>> heads;
    for (size_t r = 0; r < readers.size(); ++r) heads.push({readers[r].buf[0].ps, r});
    while (!heads.empty()) {
      size_t r = heads.top().second;
      heads.pop();
      RunReader& rd = readers[r];
      // Take the run's changes at this time together (keeps ties in arrival order).
      const uint64_t at = rd.buf[rd.at].ps;
      while (true) {
        if (rd.at == rd.buf.size() && !rd.fill(spill_path_)) break;
        if (rd.buf[rd.at].ps != at) break;
        apply(rd.buf[rd.at++]);
      }
      if (rd.at < rd.buf.size()) heads.push({rd.buf[rd.at].ps, r});
    }
  }
  if (any) flush_time();
  buffer_.clear();
  buffer_.shrink_to_fit();
  if (end_ps > last) out << fmt::format("\n#{}\n", end_ps);
}

std::string build_vcd(const std::vector<SimEvent>& events, uint64_t end_ps, int num_cores) {
  VcdWriter w(num_cores, "");
  for (const auto& e : events) w.add(e);
  std::ostringstream out;
  w.write(out, end_ps);
  return out.str();
}

}  // namespace cimsim
