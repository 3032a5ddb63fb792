#include "models/sc/buffer_port.h"

#include <algorithm>

namespace cimsim {

std::pair<uint64_t, std::size_t> BufferPort::find(uint64_t want, uint64_t cycles) const {
  uint64_t t = want;
  // Intervals are disjoint and sorted, so their ends are sorted too: skip those ending by t
  // with a binary search (an ISAAC core keeps one pending write per crossbar, ~100 entries).
  std::size_t i = static_cast<std::size_t>(
      std::partition_point(busy_.begin() + static_cast<std::ptrdiff_t>(head_), busy_.end(),
                           [t](const std::pair<uint64_t, uint64_t>& iv) { return iv.second <= t; }) -
      busy_.begin());
  for (; i < busy_.size(); ++i) {
    const auto& iv = busy_[i];
    if (iv.first >= t + cycles) break;  // the gap before it fits the whole transfer
    t = iv.second;
  }
  return {t, i};
}

uint64_t BufferPort::reserve(uint64_t want, uint64_t cycles, uint64_t floor) {
  if (cycles == 0) return want;
  while (head_ < busy_.size() && busy_[head_].second <= floor) ++head_;
  // Dead entries are dropped in bulk so the search below stays over live ones only.
  if (head_ >= 64 && 2 * head_ >= busy_.size()) {
    busy_.erase(busy_.begin(), busy_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  const auto [t, i] = find(want, cycles);
  // Every interval before i ends at or before t; every one from i on begins at or after t + cycles.
  const uint64_t e = t + cycles;
  const bool join_prev = i > head_ && busy_[i - 1].second == t;
  const bool join_next = i < busy_.size() && busy_[i].first == e;
  if (join_prev && join_next) {
    busy_[i - 1].second = busy_[i].second;
    busy_.erase(busy_.begin() + static_cast<std::ptrdiff_t>(i));
  } else if (join_prev) {
    busy_[i - 1].second = e;
  } else if (join_next) {
    busy_[i].first = t;
  } else {
    busy_.insert(busy_.begin() + static_cast<std::ptrdiff_t>(i), {t, e});
  }
  return t;
}

}  // namespace cimsim
