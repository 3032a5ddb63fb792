// A progress line on the terminal for long simulations.
//
// Contract: ProgressBar starts a thread that, after `delay_s` of wall time, redraws one line
// ("\r  simulating: 12.3 M instructions, 4.5 M/s, 6 s") on `err` every 0.25 s by reading
// the atomic counter only (the SystemC kernel is never touched from this thread). stop()
// (and the destructor) joins the thread and clears the line if it drew anything. Output is
// only produced when `enabled`; otherwise no thread is started.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <ostream>
#include <thread>

namespace cimsim {

class ProgressBar {
 public:
  ProgressBar(const std::atomic<uint64_t>& instructions, std::ostream& err, bool enabled,
              double delay_s = 2.0);
  ~ProgressBar();
  void stop();

 private:
  void run();

  const std::atomic<uint64_t>& instructions_;
  std::ostream& err_;
  double delay_s_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool drew_ = false;
  std::thread thread_;
};

}  // namespace cimsim
