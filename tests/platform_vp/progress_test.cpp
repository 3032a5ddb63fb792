#include "platform/vp/progress.h"

#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <thread>

namespace cimsim {
namespace {

TEST(ProgressBar, DrawsAfterDelayAndClearsOnStop) {
  std::atomic<uint64_t> done{2'500'000};
  std::ostringstream err;
  {
    ProgressBar bar(done, err, true, 0.0);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    bar.stop();
  }
  std::string s = err.str();
  EXPECT_NE(s.find("2.5 M instructions"), std::string::npos) << s;
  EXPECT_EQ(s.back(), '\r');  // the line is wiped at the end
}

TEST(ProgressBar, SilentWhenDisabledOrShort) {
  std::atomic<uint64_t> done{1};
  std::ostringstream err;
  { ProgressBar off(done, err, false, 0.0); }
  { ProgressBar short_run(done, err, true, 5.0); }  // stops before the delay elapses
  EXPECT_EQ(err.str(), "");
}

}  // namespace
}  // namespace cimsim
