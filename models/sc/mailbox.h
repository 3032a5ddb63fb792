// A core's receive side of the NIC: its receive buffer, with end-to-end credit flow control
// per sending core (docs/timing.md, "Back-pressure").
//
// Contract
//  - Messages delivered by the NoC wait here until the matching recv (same source core and
//    tag) takes them; messages with the same (src, tag) are taken in delivery order.
//  - Space: each sending core has a channel of `channel_bytes` (0 = unbounded). The NoC admits
//    a message into the network only when reserve() succeeds; the bytes stay reserved from
//    admission until the recv that takes them has drained them into the local buffer, plus
//    the credit's trip back to the sender (release() gives that cycle). A message larger
//    than its channel can never be admitted (fits_ever() is false).
//  - Cycles passed in must not decrease between calls that pass the current time (the NoC
//    and the cores call at their SystemC time); release cycles may lie in the future.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include <systemc>

namespace cimsim {

struct Message {
  int src = 0;
  int tag = 0;
  uint64_t arrival_cycle = 0;  // tail at this NIC
  std::vector<uint8_t> bytes;
};

class Mailbox {
 public:
  static constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();

  explicit Mailbox(int64_t channel_bytes = 0) : channel_bytes_(channel_bytes) {}

  void put(Message m) {
    messages_.push_back(std::move(m));
    delivered_.notify(sc_core::SC_ZERO_TIME);
  }
  // Index of the first message from (src, tag), or -1.
  int find(int src, int tag) const {
    for (size_t i = 0; i < messages_.size(); ++i)
      if (messages_[i].src == src && messages_[i].tag == tag) return static_cast<int>(i);
    return -1;
  }
  Message take(int index) {
    Message m = std::move(messages_[static_cast<size_t>(index)]);
    messages_.erase(messages_.begin() + index);
    return m;
  }
  bool empty() const { return messages_.empty(); }
  size_t size() const { return messages_.size(); }
  const sc_core::sc_event& delivered() const { return delivered_; }

  // --- credits -----------------------------------------------------------------------------
  int64_t channel_bytes() const { return channel_bytes_; }
  bool fits_ever(int64_t len) const { return channel_bytes_ <= 0 || len <= channel_bytes_; }
  // First cycle >= now at which `len` bytes from `src` fit, counting the releases known so
  // far; kNever when they do not fit even after all of them.
  uint64_t fit_cycle(int src, int64_t len, uint64_t now) {
    if (channel_bytes_ <= 0) return now;
    Channel& ch = channels_[src];
    settle(ch, now);
    int64_t used = ch.used;
    if (used + len <= channel_bytes_) return now;
    for (const auto& [cycle, bytes] : ch.releases) {  // sorted by cycle
      used -= bytes;
      if (used + len <= channel_bytes_) return cycle;
    }
    return kNever;
  }
  // Reserves `len` bytes of src's channel at `now` (the caller checked fit_cycle() <= now).
  void reserve(int src, int64_t len, uint64_t now) {
    Channel& ch = channels_[src];
    settle(ch, now);
    ch.used += len;
    ch.peak = std::max(ch.peak, ch.used);
    peak_ = std::max(peak_, ch.peak);
  }
  // The sender sees `len` bytes of src's channel free again from `cycle` on.
  void release(int src, int64_t len, uint64_t cycle) {
    Channel& ch = channels_[src];
    auto at = std::upper_bound(ch.releases.begin(), ch.releases.end(), std::make_pair(cycle, int64_t{0}),
                               [](const auto& a, const auto& b) { return a.first < b.first; });
    ch.releases.insert(at, {cycle, len});
    if (on_release_ && channel_bytes_ > 0) on_release_(cycle);  // unbounded: nobody waits
  }
  int64_t used(int src) const {
    auto it = channels_.find(src);
    return it == channels_.end() ? 0 : it->second.used;
  }
  // Largest reservation any one channel held (bytes): how much receive buffer the run needed.
  int64_t peak_channel_bytes() const { return peak_; }
  // Called on every release with its cycle, so the NoC can retry a waiting admission then.
  void set_on_release(std::function<void(uint64_t)> f) { on_release_ = std::move(f); }

 private:
  struct Channel {
    int64_t used = 0;
    int64_t peak = 0;
    std::vector<std::pair<uint64_t, int64_t>> releases;  // (cycle, bytes), by cycle, not yet applied
  };
  static void settle(Channel& ch, uint64_t now) {
    size_t k = 0;
    while (k < ch.releases.size() && ch.releases[k].first <= now) ch.used -= ch.releases[k++].second;
    ch.releases.erase(ch.releases.begin(), ch.releases.begin() + static_cast<std::ptrdiff_t>(k));
  }

  int64_t channel_bytes_;
  std::vector<Message> messages_;
  std::map<int, Channel> channels_;
  int64_t peak_ = 0;
  sc_core::sc_event delivered_;
  std::function<void(uint64_t)> on_release_;
};

}  // namespace cimsim
