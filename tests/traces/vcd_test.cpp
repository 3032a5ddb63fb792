#include "traces/vcd.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "platform/spec/arch.h"

namespace cimsim {
namespace {

SimEvent ev(int core, Unit unit, int index, uint64_t start_ps, uint64_t dur_ps) {
  SimEvent e;
  e.core = core;
  e.unit = unit;
  e.unit_index = index;
  e.start_ps = start_ps;
  e.duration_ps = dur_ps;
  return e;
}

struct Parsed {
  std::map<std::string, std::string> name_of;  // id -> "scope.name"
  std::map<std::string, int> width_of;
  std::map<std::string, std::vector<std::pair<uint64_t, std::string>>> changes;  // id -> (t, value)
  std::string timescale;
};

// A small independent VCD reader: declarations, then #time blocks of value changes.
Parsed parse(const std::string& vcd) {
  Parsed p;
  std::istringstream in(vcd);
  std::string tok, scope;
  std::vector<std::string> scopes;
  bool defs_done = false, in_dumpvars = false;
  uint64_t now = 0;
  int64_t last_time = -1;
  while (in >> tok) {
    if (!defs_done) {
      if (tok == "$timescale") {
        std::string a, b;
        in >> a >> b;
        p.timescale = a + " " + b;
      } else if (tok == "$scope") {
        std::string kind, name, end;
        in >> kind >> name >> end;
        EXPECT_EQ(end, "$end");
        scopes.push_back(name);
      } else if (tok == "$upscope") {
        in >> tok;
        EXPECT_FALSE(scopes.empty());
        scopes.pop_back();
      } else if (tok == "$var") {
        std::string type, id, name;
        int width;
        in >> type >> width >> id >> name;
        std::string rest;
        while (in >> rest && rest != "$end") {}
        EXPECT_EQ(type, "wire");
        EXPECT_EQ(p.name_of.count(id), 0u) << "duplicate id " << id;
        p.name_of[id] = scopes.back() + "." + name;
        p.width_of[id] = width;
      } else if (tok == "$enddefinitions") {
        in >> tok;
        EXPECT_TRUE(scopes.empty());
        defs_done = true;
      }
      continue;
    }
    if (tok == "$dumpvars") { in_dumpvars = true; continue; }
    if (tok == "$end") { in_dumpvars = false; continue; }
    if (tok == "$comment") { while (in >> tok && tok != "$end") {} continue; }
    if (tok[0] == '#') {
      now = std::stoull(tok.substr(1));
      EXPECT_GT(static_cast<int64_t>(now), last_time) << "times must increase";
      last_time = static_cast<int64_t>(now);
      continue;
    }
    std::string value, id;
    if (tok[0] == 'b') {
      value = tok.substr(1);
      in >> id;
    } else {
      value = tok.substr(0, 1);
      id = tok.substr(1);
    }
    EXPECT_TRUE(p.name_of.count(id)) << "undeclared id " << id;
    p.changes[id].emplace_back(in_dumpvars ? 0 : now, value);
  }
  EXPECT_TRUE(defs_done);
  return p;
}

std::string id_of(const Parsed& p, const std::string& name) {
  for (const auto& [id, n] : p.name_of)
    if (n == name) return id;
  ADD_FAILURE() << "no signal " << name;
  return "";
}

TEST(Vcd, HeaderAndBusyWaveform) {
  std::vector<SimEvent> events = {
      ev(0, Unit::kVector, 0, 1000, 2000),   // busy 1000..3000
      ev(0, Unit::kVector, 0, 3000, 1000),   // back to back: stays busy until 4000
      ev(0, Unit::kCrossbar, 5, 500, 10000),
      ev(1, Unit::kNic, 0, 0, 100),
      ev(0, Unit::kAdc, 2, 600, 100),        // not an instruction
  };
  Parsed p = parse(build_vcd(events, 20000, 2));
  EXPECT_EQ(p.timescale, "1 ps");
  std::string vec = id_of(p, "core_0.vector_busy");
  std::vector<std::pair<uint64_t, std::string>> want = {{0, "0"}, {1000, "1"}, {4000, "0"}};
  EXPECT_EQ(p.changes[vec], want);
  std::string xbar = id_of(p, "core_0.xbar5_busy");
  EXPECT_EQ(p.width_of[xbar], 1);
  std::string count0 = id_of(p, "core_0.instructions");
  EXPECT_EQ(p.width_of[count0], 32);
  // instruction ends at 3000, 4000, 10500 -> counter 1, 2, 3.
  std::vector<std::pair<uint64_t, std::string>> counts = {{0, "0"}, {3000, "1"}, {4000, "10"}, {10500, "11"}};
  EXPECT_EQ(p.changes[count0], counts);
  EXPECT_EQ(p.changes[id_of(p, "core_1.instructions")].back().second, "1");
}

TEST(Vcd, EmptyRunStillWellFormed) {
  Parsed p = parse(build_vcd({}, 0, 3));
  EXPECT_EQ(p.name_of.size(), 3u);  // one instruction counter per core
}

TEST(Vcd, SpilledSortedRunsGiveTheSameFileAsInMemory) {
  // Out-of-order events through runs of 7 changes (many runs, ties across runs) must produce
  // byte for byte the file of the in-memory sort.
  std::mt19937_64 rng(9);
  std::vector<SimEvent> events;
  for (int i = 0; i < 3000; ++i)
    events.push_back(ev(static_cast<int>(rng() % 3), static_cast<Unit>(rng() % 8), static_cast<int>(rng() % 2),
                        (rng() % 500) * 100, (rng() % 4) * 100));
  for (auto& e : events)
    if (e.unit == Unit::kMemory) e.core = -1;
  const std::string in_memory = build_vcd(events, 60'000, 3);
  const std::string spill = (std::filesystem::temp_directory_path() /
                             ("cimsim_vcd_spill_" + std::to_string(::getpid()))).string();
  std::ostringstream out;
  {
    VcdWriter w(3, spill, 7);
    for (const auto& e : events) w.add(e);
    EXPECT_GT(w.runs(), 100u);
    EXPECT_TRUE(std::filesystem::exists(spill));
    EXPECT_LE(w.bytes_held(), 64u * 1024u);
    w.write(out, 60'000);
  }
  EXPECT_FALSE(std::filesystem::exists(spill));  // removed with the writer
  EXPECT_EQ(out.str(), in_memory);
}

TEST(Vcd, ASpillFailureIsReportedByWriteNotInsideTheRun) {
  VcdWriter w(1, "/nonexistent-cimsim-dir/waves.runs", 4);
  for (int i = 0; i < 10; ++i) EXPECT_NO_THROW(w.add(ev(0, Unit::kVector, 0, i * 100, 50)));
  std::ostringstream out;
  try {
    w.write(out, 2000);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-cimsim-dir/waves.runs: cannot write"), std::string::npos);
  }
}

}  // namespace
}  // namespace cimsim
