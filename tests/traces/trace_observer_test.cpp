#include "traces/trace_observer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "platform/spec/arch.h"
#include "tests/traces/pftrace_reader.h"

namespace cimsim {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir(const std::string& tag) {
  auto dir = fs::temp_directory_path() /
             ("cimsim_traces_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
              std::to_string(::getpid()) + "_" + tag);
  fs::remove_all(dir);
  return dir;
}

SimEvent copy_event() {
  SimEvent e;
  e.core = 0;
  e.unit = Unit::kVector;
  e.action = "copy";
  e.start_ps = 0;
  e.duration_ps = 5000;
  e.energy_pj = 3.0;
  return e;
}

int leftovers(const fs::path& dir) {
  int n = 0;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().string().find(".tmp.") != std::string::npos) ++n;
  return n;
}

TEST(TraceObserver, StreamsAndWritesThreeFilesPerfettoByDefault) {
  auto dir = temp_dir("obs");
  TraceOptions options;
  options.layer_names = {"l0"};
  {
    TraceObserver obs((dir / "sub").string(), options);
    obs.on_event(copy_event());
    obs.on_finish(9000);
    EXPECT_TRUE(obs.finished());
    EXPECT_EQ(obs.end_ps(), 9000u);
    EXPECT_EQ(obs.events_selected(), 1u);
    obs.write(obs.end_ps());
  }
  for (const char* name : {"timeline.pftrace", "energy.csv", "waves.vcd"})
    EXPECT_TRUE(fs::exists(dir / "sub" / name)) << name;
  EXPECT_FALSE(fs::exists(dir / "sub" / "timeline.json"));
  pftest::Trace t = pftest::decode(pftest::read_file_bytes((dir / "sub" / "timeline.pftrace").string()));
  EXPECT_TRUE(t.errors.empty());
  EXPECT_EQ(t.slices.size(), 2u);  // the copy and its layer stretch
  EXPECT_EQ(leftovers(dir / "sub"), 0);
  fs::remove_all(dir);
}

TEST(TraceObserver, JsonFormatWritesTimelineJson) {
  auto dir = temp_dir("json");
  TraceOptions options;
  options.layer_names = {"l0"};
  options.format = TraceFormat::kJson;
  write_traces(dir.string(), {copy_event()}, 9000, options);
  std::ifstream f(dir / "timeline.json");
  auto trace = nlohmann::json::parse(f);
  EXPECT_TRUE(trace.contains("traceEvents"));
  EXPECT_FALSE(fs::exists(dir / "timeline.pftrace"));
  EXPECT_EQ(leftovers(dir), 0);
  fs::remove_all(dir);
}

TEST(TraceObserver, AFailedRunLeavesNoFilesAndNoNewDirectory) {
  auto dir = temp_dir("failed");
  {
    TraceObserver obs((dir / "new").string(), TraceOptions{});
    obs.on_event(copy_event());
    EXPECT_TRUE(fs::is_directory(dir / "new"));
  }  // destroyed without write(): the run failed
  EXPECT_FALSE(fs::exists(dir / "new"));
  fs::create_directories(dir / "old");
  { TraceObserver obs((dir / "old").string(), TraceOptions{}); }
  EXPECT_TRUE(fs::is_directory(dir / "old"));  // an existing directory stays
  EXPECT_TRUE(fs::is_empty(dir / "old"));
  fs::remove_all(dir);
}

TEST(TraceObserver, SelectionAppliesToEveryFile) {
  auto dir = temp_dir("sel");
  TraceOptions options;
  options.num_cores = 2;
  options.layer_names = {"a", "b"};
  options.selection = parse_trace_selection({"1", {}, "", {}}, 2, options.layer_names);
  TraceObserver obs(dir.string(), options);
  SimEvent e0 = copy_event(), e1 = copy_event();
  e1.core = 1;
  e1.energy_pj = 5.0;
  obs.on_event(e0);
  obs.on_event(e1);
  obs.write(9000);
  EXPECT_EQ(obs.events_seen(), 2u);
  EXPECT_EQ(obs.events_selected(), 1u);
  pftest::Trace t = pftest::decode(pftest::read_file_bytes((dir / "timeline.pftrace").string()));
  for (const auto& s : t.slices) EXPECT_EQ(t.track_of(s).pid, 1);
  std::ifstream csv(dir / "energy.csv");
  std::string line;
  std::getline(csv, line);
  double pj = 0;
  while (std::getline(csv, line)) pj += std::stod(line.substr(line.rfind(',') + 1));
  EXPECT_DOUBLE_EQ(pj, 5.0);
  std::ifstream vcd(dir / "waves.vcd");
  std::string text((std::istreambuf_iterator<char>(vcd)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find("vector_busy"), text.rfind("vector_busy"));  // core 1's only
  EXPECT_NE(text.find("$scope module core_1"), std::string::npos);
  fs::remove_all(dir);
}

TEST(TraceObserver, MemoryHeldDoesNotGrowWithTheTrace) {
  // 1e6 events through the whole observer (perfetto + energy.csv + waves.vcd spilling to disk).
  auto dir = temp_dir("bounded");
  TraceOptions options;
  options.num_cores = 4;
  options.layer_names = {"a", "b"};
  TraceObserver obs(dir.string(), options);
  size_t at_100k = 0, peak = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    SimEvent e = copy_event();
    e.core = i % 4;
    e.unit = static_cast<Unit>(i % 3);
    e.layer = static_cast<uint16_t>((i / 5000) % 2);
    e.start_ps = uint64_t(i) * 1000;
    e.duration_ps = 800 + (i % 3) * 300;
    obs.on_event(e);
    if (i % 10000 == 0) peak = std::max(peak, obs.bytes_held());
    if (i == 100'000) at_100k = obs.bytes_held();
  }
  obs.write(uint64_t(1'000'000) * 1000);
  EXPECT_GT(at_100k, 0u);
  // What may still change after 10% of the run: the pending perfetto chunk and the energy
  // table, which refills up to its fixed bound before each tenfold coarsening.
  EXPECT_LE(peak, at_100k + 2 * PerfettoTimelineWriter::kChunkBytes +
                      EnergyCsvAccumulator::kMaxFineWindows * 7 * sizeof(double));
  EXPECT_LT(peak, 16u * 1024u * 1024u);
  EXPECT_EQ(leftovers(dir), 0);
  pftest::Trace t = pftest::decode(pftest::read_file_bytes((dir / "timeline.pftrace").string()));
  EXPECT_TRUE(t.errors.empty());
  EXPECT_EQ(t.slices.size(), 1'000'000u + 200u * 4u);  // + a stretch per 5000-event block per core
  fs::remove_all(dir);
}

TEST(TraceObserver, UncreatableDirectoryIsAnInputError) {
  auto file = fs::temp_directory_path() / ("cimsim_traces_plain_file_" + std::to_string(::getpid()));
  std::ofstream(file) << "x";
  try {
    write_traces((file / "t").string(), {}, 0, TraceOptions{});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos);
  }
  fs::remove(file);
}

TEST(TraceFormat, Parses) {
  EXPECT_EQ(parse_trace_format("perfetto"), TraceFormat::kPerfetto);
  EXPECT_EQ(parse_trace_format("json"), TraceFormat::kJson);
  EXPECT_THROW(parse_trace_format("ctf"), InputError);
}

}  // namespace
}  // namespace cimsim
