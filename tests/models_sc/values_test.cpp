// Values computed by the vector unit and the crossbars against naive C++ written here.
#include <gtest/gtest.h>

#include <random>

#include "sc_test_util.h"

namespace cimsim::test {
namespace {

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 g(seed);
  std::vector<uint8_t> v(n);
  for (auto& x : v) x = static_cast<uint8_t>(g());
  return v;
}

// Runs core 0's `code` with the buffer prepared by `init`; returns the chip for inspection.
struct OneCore {
  Program p = program_for(small_arch());
  std::unique_ptr<Sim> sim;
  CoreProgram& core() { return p.cores[0]; }
  template <typename Init>
  void run(Init init) {
    sim = std::make_unique<Sim>(small_arch(), p);
    init(*sim->chip);
    sim->run();
    ASSERT_TRUE(sim->chip->error().empty()) << sim->chip->error();
    ASSERT_TRUE(sim->chip->finished());
  }
  Chip& chip() { return *sim->chip; }
};

int64_t naive_round_shift(int64_t x, int s) { return s == 0 ? x : (x + (int64_t{1} << (s - 1))) >> s; }
int32_t naive_clamp(int64_t v, int32_t lo, int32_t hi) {
  return static_cast<int32_t>(v < lo ? lo : v > hi ? hi : v);
}

TEST(Values, RequantPerChannel) {
  OneCore t;
  RequantDesc q;
  q.channels = 3;
  q.qmin = -128;
  q.qmax = 127;
  q.bias = {100, -2000, 7};
  q.multiplier = {1 << 30, 1300000000, 2000000000};
  q.shift = {36, 38, 33};
  t.core().requant = {q};
  t.core().code = {requant(A(1000), A(0), 24, 0), halt()};
  std::mt19937 g(3);
  std::vector<int32_t> acc(24);
  for (auto& a : acc) a = static_cast<int32_t>(g() % 200001) - 100000;
  t.run([&](Chip& c) { put_i32(c, 0, 0, acc); });
  auto out = get_bytes(t.chip(), 0, 1000, 24);
  for (int i = 0; i < 24; ++i) {
    int ch = i % 3;
    int64_t x = static_cast<int64_t>(acc[i]) + q.bias[ch];
    int32_t want = naive_clamp(naive_round_shift(x * q.multiplier[ch], q.shift[ch]), -128, 127);
    EXPECT_EQ(static_cast<int8_t>(out[i]), want) << i;
  }
}

TEST(Values, AddqMixedSignedness) {
  OneCore t;
  RequantDesc q;
  q.kind = RequantDesc::Kind::kAdd;
  q.qmin = 0;
  q.qmax = 255;
  q.mult_a = 1500000000;
  q.mult_b = 1100000000;
  q.add_shift = 31;
  q.a_unsigned = true;
  q.b_unsigned = false;
  t.core().requant = {q};
  t.core().code = {binop(Op::kAddq, A(1000), A(0), A(100), 64, 0), halt()};
  auto a = random_bytes(64, 1), b = random_bytes(64, 2);
  t.run([&](Chip& c) { put_bytes(c, 0, 0, a); put_bytes(c, 0, 100, b); });
  auto out = get_bytes(t.chip(), 0, 1000, 64);
  for (int i = 0; i < 64; ++i) {
    int64_t x = int64_t{a[i]} * q.mult_a + int64_t{static_cast<int8_t>(b[i])} * q.mult_b;
    EXPECT_EQ(out[i], naive_clamp(naive_round_shift(x, 31), 0, 255)) << i;
  }
}

TEST(Values, MaxSignedAndUnsigned) {
  OneCore t;
  t.core().code = {binop(Op::kMax, A(1000), A(0), A(100), 50, 1),
                   binop(Op::kMax, A(1100), A(0), A(100), 50, 0), halt()};
  auto a = random_bytes(50, 3), b = random_bytes(50, 4);
  t.run([&](Chip& c) { put_bytes(c, 0, 0, a); put_bytes(c, 0, 100, b); });
  auto u = get_bytes(t.chip(), 0, 1000, 50), s = get_bytes(t.chip(), 0, 1100, 50);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(u[i], std::max(a[i], b[i]));
    EXPECT_EQ(static_cast<int8_t>(s[i]), std::max(static_cast<int8_t>(a[i]), static_cast<int8_t>(b[i])));
  }
}

TEST(Values, Sum32AndAdd32) {
  OneCore t;
  // D (int32[20] at 1000) += signed codes at 0; then E = D + F (int32 at 2000 and 3000).
  t.core().code = {unop(Op::kSum32, A(1000), A(0), 20, 0),
                   binop(Op::kAdd32, A(2000), A(1000), A(3000), 20, 0), halt()};
  auto s = random_bytes(20, 5);
  std::vector<int32_t> d(20), f(20);
  for (int i = 0; i < 20; ++i) {
    d[i] = 1000 * i - 7000;
    f[i] = -33 * i * i;
  }
  t.run([&](Chip& c) { put_bytes(c, 0, 0, s); put_i32(c, 0, 1000, d); put_i32(c, 0, 3000, f); });
  auto d2 = get_i32(t.chip(), 0, 1000, 20), e = get_i32(t.chip(), 0, 2000, 20);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(d2[i], d[i] + static_cast<int8_t>(s[i]));
    EXPECT_EQ(e[i], d[i] + static_cast<int8_t>(s[i]) + f[i]);
  }
}

TEST(Values, LutUnsignedAndSigned) {
  OneCore t;
  LutDesc lu, ls;
  lu.in_unsigned = true;
  ls.in_unsigned = false;
  for (int i = 0; i < 256; ++i) {
    lu.table.push_back((i * 7) & 255);
    ls.table.push_back(i / 2);
  }
  t.core().luts = {lu, ls};
  t.core().code = {unop(Op::kLut, A(1000), A(0), 40, 0), unop(Op::kLut, A(1100), A(0), 40, 1), halt()};
  auto in = random_bytes(40, 6);
  t.run([&](Chip& c) { put_bytes(c, 0, 0, in); });
  auto u = get_bytes(t.chip(), 0, 1000, 40), s = get_bytes(t.chip(), 0, 1100, 40);
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(u[i], (in[i] * 7) & 255);
    EXPECT_EQ(s[i], (static_cast<int8_t>(in[i]) + 128) / 2);
  }
}

TEST(Values, CopyTwoLevelStridesAndFill) {
  OneCore t;
  // 3 outer x 4 inner segments of 5 bytes; source strides 6 (inner) 40 (outer),
  // destination strides 5 (inner, packed) and 20 (outer); then fill 7 bytes with 0xAB.
  t.core().code = {copy(A(1000), A(0), 5, 4, 6, 5, 3, 40, 20), fill(A(2000), 7, 0xAB), halt()};
  auto src = random_bytes(200, 7);
  t.run([&](Chip& c) { put_bytes(c, 0, 0, src); });
  auto out = get_bytes(t.chip(), 0, 1000, 60);
  for (int o = 0; o < 3; ++o)
    for (int i = 0; i < 4; ++i)
      for (int k = 0; k < 5; ++k)
        EXPECT_EQ(out[static_cast<size_t>(o * 20 + i * 5 + k)], src[static_cast<size_t>(o * 40 + i * 6 + k)]);
  EXPECT_EQ(get_bytes(t.chip(), 0, 2000, 8),
            (std::vector<uint8_t>{0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB, 0}));
}

TileDesc random_tile(int rows, int cols, bool input_unsigned, uint32_t seed) {
  TileDesc t;
  t.rows = rows;
  t.cols = cols;
  t.input_unsigned = input_unsigned;
  std::mt19937 g(seed);
  for (int i = 0; i < rows * cols; ++i) t.weights.push_back(static_cast<int8_t>(static_cast<int>(g() % 255) - 127));
  return t;
}

TEST(Values, MvmEqualsDotProductOnLosslessAdc) {
  OneCore t;
  TileDesc tu = random_tile(32, 16, true, 11), ts = random_tile(20, 5, false, 12);
  ts.pe = 1;
  t.core().tiles = {tu, ts};
  // tile 0 overwrites, then accumulates the same input again; tile 1 takes signed inputs.
  t.core().code = {mvm(0, A(1000), A(0), 0), mvm(0, A(1100), A(0), 0), mvm(0, A(1100), A(0), 1),
                   mvm(1, A(1200), A(64), 0), halt()};
  auto x = random_bytes(32, 13), xs = random_bytes(20, 14);
  t.run([&](Chip& c) { put_bytes(c, 0, 0, x); put_bytes(c, 0, 64, xs); });
  auto y = get_i32(t.chip(), 0, 1000, 16), y2 = get_i32(t.chip(), 0, 1100, 16);
  auto ys = get_i32(t.chip(), 0, 1200, 5);
  for (int c = 0; c < 16; ++c) {
    int64_t want = 0;
    for (int r = 0; r < 32; ++r) want += int64_t{x[r]} * tu.weights[static_cast<size_t>(r * 16 + c)];
    EXPECT_EQ(y[c], want) << c;
    EXPECT_EQ(y2[c], 2 * want) << c;
  }
  for (int c = 0; c < 5; ++c) {
    int64_t want = 0;
    for (int r = 0; r < 20; ++r)
      want += int64_t{static_cast<int8_t>(xs[r])} * ts.weights[static_cast<size_t>(r * 5 + c)];
    EXPECT_EQ(ys[c], want) << c;
  }
}

// One core, one conv layer: input 4x4x2 (HWC) at 0, 3x3 kernel, stride 1, no padding ->
// 2x2x4. Per output pixel: copy (im2col, 3 segments of 6 bytes), mvm (18 rows x 4 cols),
// requant (4 channels). Timing: copy n = 18 -> 2 + max(3, ceil(36/16) = 3) = 5; mvm
// 2 + 138 + 1 = 141 (analog: 10 + 8 * max(10, 16) ns); requant n = 4 -> 2 + max(1, 2) = 4.
// The in-order vector unit makes each pixel copy -> mvm -> requant wait for the previous
// requant, so the layer takes 4 * (5 + 141 + 4) = 600 cycles.
TEST(Values, OneLayerConvMatchesNaiveIntegerConv) {
  constexpr int H = 4, W = 4, C = 2, K = 4, R = 3, OH = 2, OW = 2;
  OneCore t;
  TileDesc tile = random_tile(R * R * C, K, true, 21);
  t.core().tiles = {tile};
  RequantDesc q;
  q.channels = K;
  q.qmin = 0;
  q.qmax = 255;
  q.bias = {50, -300, 0, 1000};
  q.multiplier = {1 << 30, 1 << 30, 1500000000, 1200000000};
  q.shift = {36, 35, 37, 36};
  t.core().requant = {q};
  std::vector<Instruction> code;
  for (int oy = 0; oy < OH; ++oy)
    for (int ox = 0; ox < OW; ++ox) {
      int p = oy * OW + ox;
      int col = 256 + 32 * p, acc = 512 + 16 * p, out = 1024 + K * p;
      code.push_back(copy(A(col), A((oy * W + ox) * C), R * C, R, W * C, R * C, 1, 0, 0));
      code.push_back(mvm(0, A(acc), A(col), 0));
      code.push_back(requant(A(out), A(acc), K, 0));
    }
  code.push_back(halt());
  t.core().code = code;
  auto x = random_bytes(H * W * C, 22);
  t.run([&](Chip& c) { put_bytes(c, 0, 0, x); });
  auto y = get_bytes(t.chip(), 0, 1024, OH * OW * K);
  for (int oy = 0; oy < OH; ++oy)
    for (int ox = 0; ox < OW; ++ox)
      for (int k = 0; k < K; ++k) {
        int64_t acc = 0;
        for (int ky = 0; ky < R; ++ky)
          for (int kx = 0; kx < R; ++kx)
            for (int c = 0; c < C; ++c) {
              int row = (ky * R + kx) * C + c;
              acc += int64_t{x[static_cast<size_t>(((oy + ky) * W + ox + kx) * C + c)]} *
                     tile.weights[static_cast<size_t>(row * K + k)];
            }
        int32_t want = naive_clamp(naive_round_shift((acc + q.bias[k]) * q.multiplier[k], q.shift[k]), 0, 255);
        EXPECT_EQ(y[static_cast<size_t>((oy * OW + ox) * K + k)], want) << oy << ox << k;
      }
  EXPECT_EQ(cycles(t.chip().stats().core_finish_ps[0]), 600u);
}

}  // namespace
}  // namespace cimsim::test
