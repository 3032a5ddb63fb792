// A core's receive side of the NIC: messages delivered by the NoC wait here until the
// matching recv (same source core and tag) takes them. Unbounded (no back-pressure on the
// sender); messages with the same (src, tag) are taken in delivery order.
#pragma once

#include <cstdint>
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

 private:
  std::vector<Message> messages_;
  sc_core::sc_event delivered_;
};

}  // namespace cimsim
