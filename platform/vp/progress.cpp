#include "platform/vp/progress.h"

#include <chrono>

#include <fmt/format.h>

namespace cimsim {

ProgressBar::ProgressBar(const std::atomic<uint64_t>& instructions, std::ostream& err, bool enabled,
                         double delay_s)
    : instructions_(instructions), err_(err), delay_s_(delay_s) {
  if (enabled) thread_ = std::thread([this] { run(); });
}

ProgressBar::~ProgressBar() { stop(); }

void ProgressBar::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ProgressBar::run() {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  std::unique_lock<std::mutex> lock(mutex_);
  if (wake_.wait_for(lock, std::chrono::duration<double>(delay_s_), [this] { return stopping_; }))
    return;
  do {
    double elapsed = std::chrono::duration<double>(clock::now() - start).count();
    double done = static_cast<double>(instructions_.load(std::memory_order_relaxed));
    err_ << fmt::format("\r  simulating: {:.4g} M instructions, {:.3g} M/s, {:.0f} s   ", done * 1e-6,
                        elapsed > 0 ? done * 1e-6 / elapsed : 0.0, elapsed)
         << std::flush;
    drew_ = true;
  } while (!wake_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stopping_; }));
  if (drew_) err_ << "\r" << std::string(72, ' ') << "\r" << std::flush;
}

}  // namespace cimsim
