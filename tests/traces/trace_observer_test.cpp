#include "traces/trace_observer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "platform/spec/arch.h"

namespace cimsim {
namespace {

TEST(TraceObserver, CollectsEventsAndWritesThreeFiles) {
  TraceObserver obs;
  SimEvent e;
  e.core = 0;
  e.unit = Unit::kVector;
  e.action = "copy";
  e.start_ps = 0;
  e.duration_ps = 5000;
  e.energy_pj = 3.0;
  obs.on_event(e);
  obs.on_finish(9000);
  ASSERT_EQ(obs.events().size(), 1u);
  EXPECT_TRUE(obs.finished());
  EXPECT_EQ(obs.end_ps(), 9000u);
  auto dir = std::filesystem::temp_directory_path() /
             ("cimsim_traces_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_obs");
  std::filesystem::remove_all(dir);
  write_traces((dir / "sub").string(), obs.events(), obs.end_ps(), TraceOptions{{"l0"}, 1, 0});
  for (const char* name : {"timeline.json", "energy.csv", "waves.vcd"})
    EXPECT_TRUE(std::filesystem::exists(dir / "sub" / name)) << name;
  std::ifstream f(dir / "sub" / "timeline.json");
  auto trace = nlohmann::json::parse(f);
  EXPECT_TRUE(trace.contains("traceEvents"));
  int leftovers = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "sub"))
    if (entry.path().string().find(".tmp.") != std::string::npos) ++leftovers;
  EXPECT_EQ(leftovers, 0);
  std::filesystem::remove_all(dir);
}

TEST(TraceObserver, UncreatableDirectoryIsAnInputError) {
  auto file = std::filesystem::temp_directory_path() / "cimsim_traces_plain_file";
  std::ofstream(file) << "x";
  try {
    write_traces((file / "t").string(), {}, 0, TraceOptions{});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos);
  }
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace cimsim
