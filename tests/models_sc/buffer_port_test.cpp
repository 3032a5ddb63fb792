// BufferPort: the reservation calendar of a core's buffer port (docs/timing.md "Buffer port").
// Every expected start is worked out by hand from the rule "earliest start >= want where the
// port is free for the whole transfer; earlier reservations never move".
#include <gtest/gtest.h>

#include "models/sc/buffer_port.h"

namespace cimsim {
namespace {

using Intervals = std::vector<std::pair<uint64_t, uint64_t>>;

TEST(BufferPort, FreePortStartsAtTheWantedCycle) {
  BufferPort p;
  EXPECT_EQ(p.reserve(5, 3, 0), 5u);
  EXPECT_EQ(p.reservations(), (Intervals{{5, 8}}));
}

TEST(BufferPort, BusyPortDelaysToItsEnd) {
  BufferPort p;
  p.reserve(0, 7, 0);
  EXPECT_EQ(p.reserve(1, 2, 0), 7u);  // busy 0..7
  EXPECT_EQ(p.reservations(), (Intervals{{0, 9}}));  // touching blocks merge
}

TEST(BufferPort, GapIsUsedOnlyIfTheWholeTransferFits) {
  BufferPort p;
  p.reserve(0, 2, 0);
  p.reserve(10, 1, 0);                // busy 0..2 and 10..11
  EXPECT_EQ(p.reserve(1, 8, 0), 2u);  // 2..10 fits exactly
  BufferPort q;
  q.reserve(0, 2, 0);
  q.reserve(10, 1, 0);
  EXPECT_EQ(q.reserve(1, 9, 0), 11u);  // 2..11 would overlap 10..11
  EXPECT_EQ(q.reservations(), (Intervals{{0, 2}, {10, 20}}));
}

TEST(BufferPort, ZeroCyclesReserveNothing) {
  BufferPort p;
  p.reserve(0, 4, 0);
  EXPECT_EQ(p.reserve(2, 0, 0), 2u);
  EXPECT_EQ(p.reservations(), (Intervals{{0, 4}}));
}

TEST(BufferPort, FloorForgetsOnlyWhatEndsBeforeIt) {
  BufferPort p;
  p.reserve(0, 2, 0);
  p.reserve(5, 2, 0);
  p.reserve(20, 2, 0);
  EXPECT_EQ(p.reserve(10, 1, 6), 10u);  // 0..2 ends before 6 and is forgotten; 5..7 is kept
  EXPECT_EQ(p.reservations(), (Intervals{{5, 7}, {10, 11}, {20, 22}}));
  EXPECT_EQ(p.reserve(6, 2, 6), 7u);  // 5..7 still blocks 6; 7..9 fits before 10
}

TEST(BufferPort, ManyReservationsStayOrderedAcrossCompaction) {
  // 200 back-to-back 3-cycle blocks with a rising floor, then one that must go after all.
  BufferPort p;
  for (uint64_t k = 0; k < 200; ++k) EXPECT_EQ(p.reserve(4 * k, 3, 4 * k), 4 * k);
  EXPECT_EQ(p.reserve(796, 4, 795), 799u);  // 796..799 is still booked; 799 is free
  EXPECT_EQ(p.reservations(), (Intervals{{796, 803}}));
}

}  // namespace
}  // namespace cimsim
