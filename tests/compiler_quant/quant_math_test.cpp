// Multiplier/shift accuracy, add parameters, host softmax and the default calibration data.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "compiler/quant/calibration.h"
#include "compiler/quant/quantizer.h"
#include "compiler/reference/integer_interpreter.h"
#include "test_graph.h"

namespace cimsim {
namespace {

TEST(QuantMath, RequantMultiplierIsWithinHalfAnLsbOfItsShift) {
  std::mt19937_64 gen(7);
  std::uniform_real_distribution<double> e(-20.0, 4.0);
  for (int shift_max : {62, 31, 16}) {
    for (int i = 0; i < 2000; ++i) {
      const double m = std::exp2(e(gen));
      const qmath::QuantizedMultiplier q = quant::requant_multiplier(m, shift_max);
      ASSERT_LE(q.shift, shift_max);
      ASSERT_GE(q.shift, 0);
      ASSERT_LT(q.multiplier, int64_t{1} << 31);
      const double got = std::ldexp(static_cast<double>(q.multiplier), -q.shift);
      // Round-to-nearest at the chosen shift: error at most half a unit of 2^-shift.
      ASSERT_LE(std::fabs(got - m), std::ldexp(0.5, -q.shift) * (1 + 1e-12)) << m;
      if (m * std::exp2(shift_max) >= std::exp2(30)) {
        // Normalized form: the multiplier carries 31 significant bits, relative error <= 2^-31.
        ASSERT_GE(q.multiplier, int64_t{1} << 30);
        ASSERT_LE(std::fabs(got - m) / m, std::exp2(-31) * (1 + 1e-9));
      }
    }
  }
}

TEST(QuantMath, RequantizeMatchesRealScalingWithinOneCode) {
  std::mt19937_64 gen(11);
  std::uniform_int_distribution<int32_t> acc(-2000000, 2000000);
  std::uniform_real_distribution<double> e(-16.0, -4.0);
  for (int i = 0; i < 5000; ++i) {
    const double m = std::exp2(e(gen));
    const int32_t a = acc(gen);
    const int32_t got = qmath::requantize(a, quant::requant_multiplier(m, 31), -128, 127);
    const double want = std::clamp(a * m, -128.0, 127.0);
    ASSERT_LE(std::fabs(got - want), 0.5 + 1e-6) << a << " * " << m;
  }
}

TEST(QuantMath, AddParamsChooseLargestShiftBelowTheMultiplierLimit) {
  struct Case {
    double sa, sb, so;
  };
  for (const Case& c : {Case{0.02, 0.03, 0.04}, Case{1.0, 0.001, 0.5}, Case{0.1, 0.1, 0.1}, Case{3e-3, 5e-2, 7e-4}}) {
    for (int cap : {62, 31}) {
      const q::AddParams p = quant::add_params(c.sa, c.sb, c.so, false, cap);
      const double ra = c.sa / c.so, rb = c.sb / c.so;
      EXPECT_LT(p.mult_a, 1 << 30);
      EXPECT_LT(p.mult_b, 1 << 30);
      EXPECT_LE(p.add_shift, cap);
      // One more bit of shift would overflow the 2^30 limit (or the cap is reached).
      if (p.add_shift < cap) {
        EXPECT_GE(std::max(std::round(std::ldexp(ra, p.add_shift + 1)), std::round(std::ldexp(rb, p.add_shift + 1))),
                  std::exp2(30));
      }
      EXPECT_LE(std::fabs(std::ldexp(static_cast<double>(p.mult_a), -p.add_shift) - ra), std::ldexp(0.5, -p.add_shift));
      EXPECT_LE(std::fabs(std::ldexp(static_cast<double>(p.mult_b), -p.add_shift) - rb), std::ldexp(0.5, -p.add_shift));
      const q::AddParams s = quant::add_params(c.sa, c.sb, c.so, true, cap);
      EXPECT_EQ(s.mult_b, -p.mult_b);
      EXPECT_EQ(s.mult_a, p.mult_a);
    }
  }
}

TEST(QuantMath, HostSoftmaxSumsToOneAndKeepsOrder) {
  std::vector<float> v = {1.0f, 2.0f, 3.0f, -1.0f};
  reference::host_softmax(v, {4});
  double sum = 0;
  for (float x : v) sum += x;
  EXPECT_NEAR(sum, 1.0, 1e-6);
  EXPECT_NEAR(v[2] / v[1], std::exp(1.0), 1e-4);
  EXPECT_GT(v[1], v[0]);
  // {C,H,W}: per pixel over the 2 channels.
  std::vector<float> w = {0.0f, 1.0f, 5.0f, std::log(3.0f), 0.0f, 5.0f};  // C=2, H=1, W=3
  reference::host_softmax(w, {2, 1, 3});
  EXPECT_NEAR(w[0], 0.25, 1e-6);
  EXPECT_NEAR(w[3], 0.75, 1e-6);
  EXPECT_NEAR(w[1], std::exp(1.0) / (std::exp(1.0) + 1.0), 1e-6);
  EXPECT_NEAR(w[1] + w[4], 1.0, 1e-6);
  EXPECT_NEAR(w[2], 0.5, 1e-6);
  EXPECT_NEAR(w[5], 0.5, 1e-6);
}

TEST(QuantCalibration, DefaultIsTheDocumentedSeededBoxMuller) {
  testq::GraphBuilder b;
  const int x = b.input("x", {1, 3, 4, 5});
  const int r = b.node("Relu", "relu", {x});
  ir::Graph g = b.finish({r});
  const std::vector<ir::FloatTensor> c1 = quant::default_calibration(g);
  const std::vector<ir::FloatTensor> c2 = quant::default_calibration(g);
  ASSERT_EQ(c1.size(), 1u);
  EXPECT_EQ(c1[0].shape, (std::vector<int64_t>{8, 3, 4, 5}));
  EXPECT_EQ(c1[0].data, c2[0].data);
  // Re-derive the first pair from docs/quantization.md: u = ((r >> 11) + 1) * 2^-53.
  std::mt19937_64 gen(20240607);
  const double u1 = (static_cast<double>(gen() >> 11) + 1.0) * std::exp2(-53);
  const double u2 = (static_cast<double>(gen() >> 11) + 1.0) * std::exp2(-53);
  const double rad = std::sqrt(-2.0 * std::log(u1));
  EXPECT_EQ(c1[0].data[0], static_cast<float>(rad * std::cos(2 * M_PI * u2)));
  EXPECT_EQ(c1[0].data[1], static_cast<float>(rad * std::sin(2 * M_PI * u2)));
  double mean = 0, var = 0;
  for (float v : c1[0].data) mean += v;
  mean /= c1[0].data.size();
  for (float v : c1[0].data) var += (v - mean) * (v - mean);
  var /= c1[0].data.size();
  EXPECT_NEAR(mean, 0.0, 0.15);
  EXPECT_NEAR(var, 1.0, 0.2);
}

}  // namespace
}  // namespace cimsim
