// The exact path's SIMD dot products against a plain int64 sum, for every implementation
// this CPU can run; and the exact path with narrow signed activations and on-demand levels.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "models/kernels/crossbar_kernel.h"
#include "models/kernels/exact_dot.h"
#include "platform/spec/slicing.h"
#include "tests/models_kernels/kernel_reference.h"

namespace cimsim::kernel_test {
namespace {

const char* const kIsas[] = {"avx512vnni", "avx512bw", "avx2", "portable"};

std::vector<int64_t> reference(const std::vector<int8_t>& w, const std::vector<uint8_t>& u,
                               int rows_pad, int n) {
  std::vector<int64_t> out(n, 0);
  for (int c = 0; c < n; ++c)
    for (int r = 0; r < rows_pad; ++r) out[c] += int64_t{u[r]} * w[static_cast<size_t>(c) * rows_pad + r];
  return out;
}

void expect_all_isas(const std::vector<int8_t>& w, const std::vector<uint8_t>& u, int rows_pad, int n,
                     const std::string& what) {
  const std::vector<int64_t> want = reference(w, u, rows_pad, n);
  int ran = 0;
  for (const char* isa : kIsas) {
    std::vector<int32_t> got(n, -1);
    if (!kernels::exact_dot_columns_with(isa, w.data(), u.data(), rows_pad, n, got.data())) continue;
    ++ran;
    for (int c = 0; c < n; ++c) ASSERT_EQ(got[c], want[c]) << isa << " " << what << " column " << c;
  }
  EXPECT_GE(ran, 1);
}

TEST(ExactDot, EveryImplementationEqualsTheInt64Sum) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> wd(-127, 127), ud(0, 255);
  for (int rows_pad : {64, 128, 192, 512})
    for (int n : {1, 3, 4, 5, 8, 31, 32}) {
      std::vector<int8_t> w(static_cast<size_t>(rows_pad) * n);
      std::vector<uint8_t> u(rows_pad);
      for (auto& v : w) v = static_cast<int8_t>(wd(rng));
      for (auto& v : u) v = static_cast<uint8_t>(ud(rng));
      expect_all_isas(w, u, rows_pad, n, "rows " + std::to_string(rows_pad) + " n " + std::to_string(n));
    }
}

// Largest products everywhere: 65536 rows of 255 x +-127 is within 1 % of int32's range, and
// 8-bit multiply-adds that saturate at int16 would show here.
TEST(ExactDot, ExtremeCodesDoNotSaturate) {
  const int rows_pad = 65536, n = 5;
  std::vector<int8_t> w(static_cast<size_t>(rows_pad) * n);
  for (int c = 0; c < n; ++c)
    for (int r = 0; r < rows_pad; ++r)
      w[static_cast<size_t>(c) * rows_pad + r] = static_cast<int8_t>(c == 0 ? 127 : c == 1 ? -127 : (r % 2 ? 127 : -127));
  std::vector<uint8_t> u(rows_pad, 255);
  expect_all_isas(w, u, rows_pad, n, "extremes");
  std::vector<int32_t> got(n);
  kernels::exact_dot_columns(w.data(), u.data(), rows_pad, n, got.data());
  EXPECT_EQ(got[0], 255 * 127 * 65536);
  EXPECT_EQ(got[1], -255 * 127 * 65536);
}

// Signed activations narrower than 8 bits: the exact path's unsigned-byte trick must still
// give sum_r W[r][c] * x[r].
TEST(ExactDot, NarrowSignedActivationsOnTheExactPath) {
  std::mt19937_64 rng(11);
  for (int bits : {2, 5, 8}) {
    ArchParams p;
    p.activation_bits = bits;
    p.lossless = true;
    const ArchSpec arch = make_arch(p);
    for (int rows : {1, 37, 128}) {
      const TileDesc desc = random_tile(arch, rows, 9, false, rng);
      ProgrammedTile tile(arch, desc, 1);
      ASSERT_EQ(tile.path(), MvmPath::kExact);
      for (int i = 0; i < 5; ++i) {
        const auto in = random_inputs(arch, rows, false, rng);
        std::vector<int32_t> out(9, 0);
        tile.mvm(in.data(), out.data(), false, nullptr);
        const auto want = naive_dot(desc, in);
        for (int c = 0; c < 9; ++c) ASSERT_EQ(out[c], want[c]) << bits << " bits, rows " << rows;
      }
    }
  }
}

// Accumulating saturates like clamp(int64(out) + y) at both ends of int32, for unsigned and
// signed inputs (the exact path forms y in int32 and adds with overflow detection).
TEST(ExactDot, AccumulateSaturatesLikeInt64Clamp) {
  std::mt19937_64 rng(13);
  ArchParams p;
  p.lossless = true;
  const ArchSpec arch = make_arch(p);
  const int32_t lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max();
  for (bool uns : {true, false}) {
    const TileDesc desc = random_tile(arch, 128, 12, uns, rng);
    ProgrammedTile tile(arch, desc, 1);
    ASSERT_EQ(tile.path(), MvmPath::kExact);
    for (int i = 0; i < 20; ++i) {
      const auto in = random_inputs(arch, 128, uns, rng);
      const auto y = naive_dot(desc, in);
      std::vector<int32_t> out(12);
      for (int c = 0; c < 12; ++c) {
        const int pick = (i + c) % 4;
        out[c] = pick == 0 ? hi - 5 : pick == 1 ? lo + 5 : pick == 2 ? static_cast<int32_t>(rng()) : 0;
      }
      std::vector<int64_t> want(12);
      for (int c = 0; c < 12; ++c) want[c] = std::clamp<int64_t>(int64_t{out[c]} + y[c], lo, hi);
      tile.mvm(in.data(), out.data(), true, nullptr);
      for (int c = 0; c < 12; ++c) ASSERT_EQ(out[c], want[c]) << (uns ? "unsigned" : "signed") << " column " << c;
    }
  }
}

// Exact tiles build their cell levels only when asked: the levels must be the slicing of
// the weights (no flip here), the same as at programming time.
TEST(ExactDot, CellLevelsOfExactTilesFollowTheSlicing) {
  std::mt19937_64 rng(3);
  ArchParams p;
  p.lossless = true;
  const ArchSpec arch = make_arch(p);
  const TileDesc desc = random_tile(arch, 50, 8, true, rng);
  ProgrammedTile tile(arch, desc, 1);
  ASSERT_EQ(tile.path(), MvmPath::kExact);
  const int cells = slicing::cells_per_weight(8, p.cell_bits, p.encoding);
  for (int r = 0; r < 50; ++r)
    for (int c = 0; c < 8; ++c)
      for (int s = 0; s < cells; ++s)
        ASSERT_EQ(tile.cell_level(r, c * cells + s),
                  slicing::cell_level(desc.weights[static_cast<size_t>(r) * 8 + c], s, 8, p.cell_bits,
                                      p.encoding));
}

}  // namespace
}  // namespace cimsim::kernel_test
