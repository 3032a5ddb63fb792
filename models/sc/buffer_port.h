// The local buffer's port as a reserved resource (docs/timing.md "Buffer port").
//
// Contract: the port moves buffer_bytes_per_cycle bytes per cycle and serves one transfer at
// a time. reserve(want, cycles, floor) books `cycles` consecutive cycles starting at the
// earliest cycle >= want at which the port is free for that long, given every reservation
// made before (first come, first served in the order the core's scoreboard schedules its
// instructions, i.e. program order), and returns that start. A reservation is never moved;
// a later request may take a gap before an earlier one if it fits whole. `floor` promises
// that no later request wants a cycle before it, so reservations ending at or before it are
// forgotten; the calendar therefore holds only the few transfers still ahead of dispatch.
// A core with several ports (core.buffer_ports) keeps one BufferPort each.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace cimsim {

class BufferPort {
 public:
  uint64_t reserve(uint64_t want, uint64_t cycles, uint64_t floor);
  // The start reserve() would return, without booking anything.
  uint64_t earliest(uint64_t want, uint64_t cycles) const { return find(want, cycles).first; }

  // Reserved intervals [begin, end) still remembered, in order (for tests).
  std::vector<std::pair<uint64_t, uint64_t>> reservations() const {
    return {busy_.begin() + static_cast<std::ptrdiff_t>(head_), busy_.end()};
  }

 private:
  // (start, index of the first interval after the transfer) for a transfer wanting `want`.
  std::pair<uint64_t, std::size_t> find(uint64_t want, uint64_t cycles) const;

  // Sorted, disjoint, non-touching busy intervals [begin, end); entries before head_ are dead.
  std::vector<std::pair<uint64_t, uint64_t>> busy_;
  std::size_t head_ = 0;
};

}  // namespace cimsim
