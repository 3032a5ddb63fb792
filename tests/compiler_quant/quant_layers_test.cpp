// Per layer kind: the quantizer's parameters against values derived here from the float graph,
// run_integer_codes against straightforward loops over codes written here with qmath, and
// run_integer against run_float within a quantization-error bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "compiler/quant/quantizer.h"
#include "compiler/reference/float_interpreter.h"
#include "compiler/reference/integer_interpreter.h"
#include "test_graph.h"

namespace cimsim {
namespace {

using testq::f1;
using testq::GraphBuilder;
using testq::i1;
using testq::ints;
using testq::randn;

QuantSpec spec8() { return QuantSpec{}; }

float max_abs(const std::vector<float>& v) {
  float m = 0;
  for (float x : v) m = std::max(m, std::fabs(x));
  return m;
}

std::vector<int32_t> quantize_all(const std::vector<float>& x, const q::QTensor& t) {
  std::vector<int32_t> c;
  for (float v : x) c.push_back(qmath::quantize_value(v, t.scale, t.qmin(), t.qmax()));
  return c;
}

const q::Layer& only_layer(const q::QModel& m, q::LayerKind k) {
  const q::Layer* found = nullptr;
  for (const q::Layer& L : m.layers)
    if (L.kind == k) {
      EXPECT_EQ(found, nullptr) << "more than one " << q::layer_kind_name(k) << " layer";
      found = &L;
    }
  EXPECT_NE(found, nullptr);
  return *found;
}

// Conv straight from the formula of qmodel.h, int64 accumulation, shapes {C,H,W}.
std::vector<int32_t> ref_conv(const q::ConvParams& p, const q::QTensor& in, const q::QTensor& out,
                              const std::vector<int32_t>& x) {
  const int64_t H = in.shape.size() == 3 ? in.shape[1] : 1, W = in.shape.size() == 3 ? in.shape[2] : 1;
  const int64_t OH = out.shape.size() == 3 ? out.shape[1] : 1, OW = out.shape.size() == 3 ? out.shape[2] : 1;
  const int64_t Cg = p.in_channels / p.group, Mg = p.out_channels / p.group;
  std::vector<int32_t> y;
  for (int64_t m = 0; m < p.out_channels; ++m)
    for (int64_t oy = 0; oy < OH; ++oy)
      for (int64_t ox = 0; ox < OW; ++ox) {
        int64_t acc = p.bias[m];
        const int64_t g = m / Mg;
        for (int64_t c = 0; c < Cg; ++c)
          for (int64_t ky = 0; ky < p.kernel_h; ++ky)
            for (int64_t kx = 0; kx < p.kernel_w; ++kx) {
              const int64_t iy = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
              const int64_t ix = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              acc += int64_t{p.weights[((m * Cg + c) * p.kernel_h + ky) * p.kernel_w + kx]} *
                     x[((g * Cg + c) * H + iy) * W + ix];
            }
        y.push_back(qmath::requantize(acc, p.requant[m], out.qmin(), out.qmax()));
      }
  return y;
}

// Checks weight codes/scales, bias and multipliers of a conv layer against the float weights
// (per-channel symmetric, scale = max|w|/127).
void expect_conv_params(const q::QModel& m, const q::Layer& L, const std::vector<float>& w,
                        const std::vector<float>& bias) {
  const q::ConvParams& p = L.conv;
  const int64_t M = p.out_channels, K = static_cast<int64_t>(w.size()) / M;
  const double s_in = m.tensors[L.inputs[0]].scale, s_out = m.tensors[L.output].scale;
  ASSERT_EQ(static_cast<int64_t>(p.weights.size()), M * K);
  for (int64_t o = 0; o < M; ++o) {
    float mx = 0;
    for (int64_t k = 0; k < K; ++k) mx = std::max(mx, std::fabs(w[o * K + k]));
    EXPECT_FLOAT_EQ(p.weight_scale[o], mx / 127.0f);
    for (int64_t k = 0; k < K; ++k)
      ASSERT_EQ(p.weights[o * K + k], std::lround(w[o * K + k] / (mx / 127.0f))) << o << "," << k;
    EXPECT_EQ(p.bias[o], std::lround(bias[o] / (s_in * p.weight_scale[o])));
    const double real = s_in * p.weight_scale[o] / s_out;
    EXPECT_NEAR(std::ldexp(static_cast<double>(p.requant[o].multiplier), -p.requant[o].shift), real,
                std::ldexp(0.5, -p.requant[o].shift));
  }
}

TEST(QuantLayers, ConvWithFusedReluIsUnsignedAndExact) {
  GraphBuilder b;
  const int x = b.input("x", {1, 4, 9, 9});
  const std::vector<float> w = randn(6 * 2 * 3 * 3, 1, 0.3f), bias = randn(6, 2, 0.5f);
  const int W = b.constant("w", {6, 2, 3, 3}, w), B = b.constant("b", {6}, bias);
  const int c = b.node("Conv", "conv1", {x, W, B},
                       {{"kernel_shape", ints({3, 3})}, {"strides", ints({2, 2})}, {"pads", ints({1, 0, 1, 1})},
                        {"group", i1(2)}});
  const int r = b.node("Relu", "relu1", {c});
  ir::Graph g = b.finish({r});
  const std::vector<float> xs = randn(4 * 9 * 9 * 2, 3);
  const q::QModel m = quant::quantize(g, spec8(), {ir::FloatTensor{{2, 4, 9, 9}, xs}});
  ASSERT_EQ(m.layers.size(), 1u);
  const q::Layer& L = m.layers[0];
  EXPECT_EQ(L.kind, q::LayerKind::kConv);
  EXPECT_EQ(L.fused, std::vector<std::string>{"relu1"});
  const q::QTensor& in = m.tensors[m.inputs[0]];
  const q::QTensor& out = m.tensors[L.output];
  EXPECT_FALSE(in.is_unsigned);
  EXPECT_TRUE(out.is_unsigned);
  EXPECT_EQ(out.qmin(), 0);
  EXPECT_EQ(out.qmax(), 255);
  EXPECT_FLOAT_EQ(in.scale, max_abs(xs) / 127.0f);
  EXPECT_EQ(L.conv.group, 2);
  EXPECT_EQ(L.conv.pad_top, 1);
  EXPECT_EQ(L.conv.pad_left, 0);
  expect_conv_params(m, L, w, bias);
  // Float max of the ReLU output over both calibration images sets the output scale.
  const std::vector<ir::FloatTensor> f = reference::run_float(g, {ir::FloatTensor{{2, 4, 9, 9}, xs}});
  EXPECT_FLOAT_EQ(out.scale, max_abs(f[0].data) / 255.0f);

  const std::vector<float> x0(xs.begin(), xs.begin() + 4 * 81);
  const std::vector<int32_t> xc = quantize_all(x0, in);
  const auto codes = reference::run_integer_codes(m, xc);
  EXPECT_EQ(codes[L.output], ref_conv(L.conv, in, out, xc));
  for (int32_t v : codes[L.output]) ASSERT_GE(v, 0);
}

TEST(QuantLayers, FusedClipZeroToSixPutsSixAtTheTopCode) {
  GraphBuilder b;
  const int x = b.input("x", {1, 2, 4, 4});
  const int c = b.node("Conv", "conv", {x, b.constant("w", {3, 2, 1, 1}, {4, -3, 2, 5, -6, 1})}, {{"kernel_shape", ints({1, 1})}});
  const int r6 = b.node("Clip", "relu6", {c}, {{"min", f1(0.0f)}, {"max", f1(6.0f)}});
  const int c2 = b.node("Conv", "conv2", {r6, b.constant("w2", {3, 3, 1, 1}, randn(9, 81))}, {{"kernel_shape", ints({1, 1})}});
  const int cl = b.node("Clip", "clip_pm1", {c2}, {{"min", f1(-1.0f)}, {"max", f1(1.0f)}});
  ir::Graph g = b.finish({cl});
  const ir::FloatTensor t{{1, 2, 4, 4}, randn(32, 80)};
  const q::QModel m = quant::quantize(g, spec8(), {t});
  ASSERT_EQ(m.layers.size(), 3u);
  EXPECT_EQ(m.layers[0].fused, std::vector<std::string>{"relu6"});
  const q::QTensor& o = m.tensors[m.layers[0].output];
  EXPECT_TRUE(o.is_unsigned);
  EXPECT_FLOAT_EQ(o.scale, 6.0f / 255.0f);
  // Clip(-1, 1) cannot be expressed by a code range: it stays a table.
  EXPECT_TRUE(m.layers[1].fused.empty());
  EXPECT_EQ(m.layers[2].kind, q::LayerKind::kLut);
  const auto codes = reference::run_integer_codes(m, quantize_all(t.data, m.tensors[m.inputs[0]]));
  const std::vector<float> f = reference::run_float(g, {t})[0].data;
  int saturated = 0;
  for (int32_t v : codes[m.layers[0].output]) saturated += v == 255;
  EXPECT_GT(saturated, 0);  // weights up to 6 on unit-variance inputs exceed 6 somewhere
  EXPECT_LT(testq::rel_l2(reference::run_integer(m, {t})[0].data, f), 0.03);
}

TEST(QuantLayers, ReluIsNotFusedWhenTheConvOutputHasOtherReaders) {
  GraphBuilder b;
  const int x = b.input("x", {1, 2, 3, 3});
  const int c = b.node("Conv", "conv", {x, b.constant("w", {2, 2, 1, 1}, {1, 2, 3, 4})}, {{"kernel_shape", ints({1, 1})}});
  const int r = b.node("Relu", "relu", {c});
  const int a = b.node("Add", "add", {c, r});
  ir::Graph g = b.finish({a});
  const q::QModel m = quant::quantize(g, spec8(), {});
  ASSERT_EQ(m.layers.size(), 3u);
  EXPECT_TRUE(m.layers[0].fused.empty());
  EXPECT_FALSE(m.tensors[m.layers[0].output].is_unsigned);
  EXPECT_EQ(m.layers[1].kind, q::LayerKind::kLut);
  EXPECT_TRUE(m.tensors[m.layers[1].output].is_unsigned);
  EXPECT_EQ(m.layers[2].kind, q::LayerKind::kAdd);
}

TEST(QuantLayers, ConstantMinusTensorPerChannelNegatesTheWeights) {
  GraphBuilder b;
  const int x = b.input("x", {1, 2, 2, 2});
  const int s = b.node("Sub", "rsub", {b.constant("c", {1, 2, 1, 1}, {1.0f, -2.0f}), x});
  ir::Graph g = b.finish({s});
  const ir::FloatTensor t{{1, 2, 2, 2}, randn(8, 90)};
  const q::QModel m = quant::quantize(g, spec8(), {t});
  ASSERT_EQ(m.layers.size(), 1u);
  EXPECT_EQ(m.layers[0].conv.group, 2);
  EXPECT_EQ(m.layers[0].conv.weights, (std::vector<int8_t>{-127, -127}));
  EXPECT_LT(testq::rel_l2(reference::run_integer(m, {t})[0].data, reference::run_float(g, {t})[0].data), 0.02);
}

TEST(QuantLayers, DilatedConvWithoutActivationIsSigned) {
  GraphBuilder b;
  const int x = b.input("x", {1, 3, 10, 10});
  const std::vector<float> w = randn(5 * 3 * 3 * 3, 4, 0.2f);
  const int W = b.constant("w", {5, 3, 3, 3}, w);
  const int c = b.node("Conv", "convd", {x, W},
                       {{"kernel_shape", ints({3, 3})}, {"dilations", ints({2, 2})}, {"pads", ints({2, 2, 2, 2})}});
  ir::Graph g = b.finish({c});
  const std::vector<float> xs = randn(300, 5);
  const q::QModel m = quant::quantize(g, spec8(), {ir::FloatTensor{{1, 3, 10, 10}, xs}});
  const q::Layer& L = only_layer(m, q::LayerKind::kConv);
  EXPECT_FALSE(m.tensors[L.output].is_unsigned);
  expect_conv_params(m, L, w, std::vector<float>(5, 0.0f));
  const q::QTensor& in = m.tensors[m.inputs[0]];
  const std::vector<int32_t> xc = quantize_all(xs, in);
  EXPECT_EQ(reference::run_integer_codes(m, xc)[L.output], ref_conv(L.conv, in, m.tensors[L.output], xc));
  const double err = testq::rel_l2(reference::run_integer(m, {ir::FloatTensor{{1, 3, 10, 10}, xs}})[0].data,
                                   reference::run_float(g, {ir::FloatTensor{{1, 3, 10, 10}, xs}})[0].data);
  EXPECT_LT(err, 0.02);
}

TEST(QuantLayers, PerTensorWeightsShareOneScale) {
  GraphBuilder b;
  const int x = b.input("x", {1, 2, 4, 4});
  std::vector<float> w = randn(3 * 2, 6);
  w[0] = 5.0f;
  const int W = b.constant("w", {3, 2, 1, 1}, w);
  const int c = b.node("Conv", "conv", {x, W}, {{"kernel_shape", ints({1, 1})}});
  ir::Graph g = b.finish({c});
  QuantSpec s;
  s.weight_granularity = QuantGranularity::kPerTensor;
  s.weight_bits = 4;
  const q::QModel m = quant::quantize(g, s, {});
  const q::ConvParams& p = m.layers[0].conv;
  for (float sc : p.weight_scale) EXPECT_FLOAT_EQ(sc, 5.0f / 7.0f);
  for (size_t i = 0; i < w.size(); ++i) EXPECT_EQ(p.weights[i], std::lround(w[i] / (5.0f / 7.0f)));
  EXPECT_EQ(p.weights[0], 7);
}

TEST(QuantLayers, GemmAndMatMulBecomeFcLayers) {
  GraphBuilder b;
  const int x = b.input("x", {1, 12});
  const std::vector<float> B1 = randn(7 * 12, 8, 0.4f), C1 = randn(7, 9), B2 = randn(7 * 5, 10, 0.3f);
  const int g1 = b.node("Gemm", "fc1",
                        {x, b.constant("B1", {7, 12}, B1), b.constant("C1", {7}, C1)},
                        {{"transB", i1(1)}, {"alpha", f1(0.5f)}, {"beta", f1(2.0f)}});
  const int r = b.node("Relu", "relu", {g1});
  const int g2 = b.node("MatMul", "fc2", {r, b.constant("B2", {7, 5}, B2)});
  ir::Graph g = b.finish({g2});
  const std::vector<float> xs = randn(12 * 4, 11);
  const ir::FloatTensor batch{{4, 12}, xs};
  const q::QModel m = quant::quantize(g, spec8(), {batch});
  ASSERT_EQ(m.layers.size(), 2u);
  const q::Layer& L1 = m.layers[0];
  const q::Layer& L2 = m.layers[1];
  EXPECT_TRUE(L1.conv.is_fc);
  EXPECT_TRUE(L2.conv.is_fc);
  EXPECT_EQ(L1.conv.in_channels, 12);
  EXPECT_EQ(L1.conv.out_channels, 7);
  EXPECT_EQ(m.tensors[L1.output].shape, std::vector<int64_t>{7});
  EXPECT_TRUE(m.tensors[L1.output].is_unsigned);
  std::vector<float> w1(7 * 12), b1(7), w2(5 * 7);
  for (int o = 0; o < 7; ++o) {
    for (int k = 0; k < 12; ++k) w1[o * 12 + k] = 0.5f * B1[o * 12 + k];
    b1[o] = 2.0f * C1[o];
  }
  for (int o = 0; o < 5; ++o)
    for (int k = 0; k < 7; ++k) w2[o * 7 + k] = B2[k * 5 + o];
  expect_conv_params(m, L1, w1, b1);
  expect_conv_params(m, L2, w2, std::vector<float>(5, 0.0f));
  const q::QTensor& in = m.tensors[m.inputs[0]];
  const std::vector<int32_t> xc = quantize_all(std::vector<float>(xs.begin(), xs.begin() + 12), in);
  const auto codes = reference::run_integer_codes(m, xc);
  EXPECT_EQ(codes[L1.output], ref_conv(L1.conv, in, m.tensors[L1.output], xc));
  EXPECT_EQ(codes[L2.output], ref_conv(L2.conv, m.tensors[L1.output], m.tensors[L2.output], codes[L1.output]));
  const double err = testq::rel_l2(reference::run_integer(m, {batch})[0].data, reference::run_float(g, {batch})[0].data);
  EXPECT_LT(err, 0.03);
}

TEST(QuantLayers, ResidualAddAndSubUseAddRequantize) {
  for (const char* op : {"Add", "Sub"}) {
    GraphBuilder b;
    const int x = b.input("x", {1, 3, 5, 5});
    const int c1 = b.node("Conv", "c1", {x, b.constant("w1", {3, 3, 1, 1}, randn(9, 12))}, {{"kernel_shape", ints({1, 1})}});
    const int c2 = b.node("Conv", "c2", {x, b.constant("w2", {3, 3, 1, 1}, randn(9, 13, 3.0f))}, {{"kernel_shape", ints({1, 1})}});
    const int a = b.node(op, "add", {c1, c2});
    const int r = b.node("Relu", "relu", {a});
    ir::Graph g = b.finish({r});
    const std::vector<float> xs = randn(75, 14);
    const q::QModel m = quant::quantize(g, spec8(), {ir::FloatTensor{{1, 3, 5, 5}, xs}});
    const q::Layer& L = only_layer(m, q::LayerKind::kAdd);
    EXPECT_EQ(L.fused, std::vector<std::string>{"relu"});
    const q::QTensor &ta = m.tensors[L.inputs[0]], &tb = m.tensors[L.inputs[1]], &to = m.tensors[L.output];
    EXPECT_TRUE(to.is_unsigned);
    EXPECT_NE(ta.scale, tb.scale);
    const bool sub = std::string(op) == "Sub";
    EXPECT_EQ(sub, L.add.mult_b < 0);
    EXPECT_NEAR(std::ldexp(static_cast<double>(L.add.mult_a), -L.add.add_shift), ta.scale / to.scale, 1e-6);
    EXPECT_NEAR(std::ldexp(static_cast<double>(std::abs(L.add.mult_b)), -L.add.add_shift), tb.scale / to.scale, 1e-6);
    const auto codes = reference::run_integer_codes(m, quantize_all(xs, m.tensors[m.inputs[0]]));
    for (size_t i = 0; i < 75; ++i) {
      const int64_t acc = int64_t{codes[L.inputs[0]][i]} * L.add.mult_a + int64_t{codes[L.inputs[1]][i]} * L.add.mult_b;
      const int64_t want = std::clamp<int64_t>((acc + (int64_t{1} << (L.add.add_shift - 1))) >> L.add.add_shift, 0, 255);
      ASSERT_EQ(codes[L.output][i], want);
    }
    const double err = testq::rel_l2(reference::run_integer(m, {ir::FloatTensor{{1, 3, 5, 5}, xs}})[0].data,
                                     reference::run_float(g, {ir::FloatTensor{{1, 3, 5, 5}, xs}})[0].data);
    EXPECT_LT(err, 0.05) << op;
  }
}

TEST(QuantLayers, PoolsFollowTheirDefinitions) {
  for (int include_pad = 0; include_pad < 2; ++include_pad) {
    GraphBuilder b;
    const int x = b.input("x", {1, 2, 7, 7});
    const int r = b.node("Relu", "relu", {x});
    const int mp = b.node("MaxPool", "mp", {r}, {{"kernel_shape", ints({3, 3})}, {"strides", ints({2, 2})}, {"pads", ints({1, 1, 1, 1})}});
    const int ap = b.node("AveragePool", "ap", {mp},
                          {{"kernel_shape", ints({3, 3})}, {"pads", ints({1, 1, 1, 1})}, {"count_include_pad", i1(include_pad)}});
    const int gp = b.node("GlobalAveragePool", "gap", {ap});
    ir::Graph g = b.finish({gp});
    const std::vector<float> xs = randn(98, 20 + include_pad);
    const ir::FloatTensor t{{1, 2, 7, 7}, xs};
    // Shifts up to 62 so the multipliers are exactly qmath::quantize_multiplier's.
    QuantSpec s62;
    s62.requant_shift_max = 62;
    const q::QModel m = quant::quantize(g, s62, {t});
    const q::Layer& M = only_layer(m, q::LayerKind::kMaxPool);
    const q::QTensor &mi = m.tensors[M.inputs[0]], &mo = m.tensors[M.output];
    EXPECT_EQ(mi.scale, mo.scale);
    EXPECT_TRUE(mo.is_unsigned);
    EXPECT_EQ(mo.shape, (std::vector<int64_t>{2, 4, 4}));
    for (const q::QTensor& qt : m.tensors) {
      // relu -> pools stay unsigned
      if (qt.name != "x") {
        EXPECT_TRUE(qt.is_unsigned) << qt.name;
      }
    }
    const auto codes = reference::run_integer_codes(m, quantize_all(xs, m.tensors[m.inputs[0]]));
    const std::vector<int32_t>& rin = codes[M.inputs[0]];
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t oy = 0; oy < 4; ++oy)
        for (int64_t ox = 0; ox < 4; ++ox) {
          int32_t best = -1;
          for (int64_t iy = oy * 2 - 1; iy <= oy * 2 + 1; ++iy)
            for (int64_t ix = ox * 2 - 1; ix <= ox * 2 + 1; ++ix)
              if (iy >= 0 && iy < 7 && ix >= 0 && ix < 7) best = std::max(best, rin[(c * 7 + iy) * 7 + ix]);
          ASSERT_EQ(codes[M.output][(c * 4 + oy) * 4 + ox], best);
        }
    std::vector<const q::Layer*> avg;
    for (const q::Layer& L : m.layers)
      if (L.kind == q::LayerKind::kAvgPool) avg.push_back(&L);
    ASSERT_EQ(avg.size(), 2u);
    for (const q::Layer* L : avg) {
      const q::QTensor &ai = m.tensors[L->inputs[0]], &ao = m.tensors[L->output];
      const bool global = L->name == "gap";
      const int64_t H = ai.shape[1], k = global ? H : 3, pad = global ? 0 : 1, OH = ao.shape[1];
      ASSERT_EQ(static_cast<int64_t>(L->pool.avg_multiplier.size()), k * k + 1);
      for (int64_t cnt = 1; cnt <= k * k; ++cnt)
        EXPECT_EQ(L->pool.avg_multiplier[cnt].multiplier,
                  qmath::quantize_multiplier(static_cast<double>(ai.scale) / (static_cast<double>(ao.scale) * cnt)).multiplier);
      const std::vector<int32_t>& a = codes[L->inputs[0]];
      for (int64_t c = 0; c < 2; ++c)
        for (int64_t oy = 0; oy < OH; ++oy)
          for (int64_t ox = 0; ox < OH; ++ox) {
            int64_t sum = 0, cnt = 0;
            for (int64_t iy = oy - pad; iy < oy - pad + k; ++iy)
              for (int64_t ix = ox - pad; ix < ox - pad + k; ++ix) {
                if (iy >= 0 && iy < H && ix >= 0 && ix < H) {
                  sum += a[(c * H + iy) * H + ix];
                  ++cnt;
                } else if (include_pad) {
                  ++cnt;
                }
              }
            const int32_t want = qmath::requantize(
                sum, qmath::quantize_multiplier(static_cast<double>(ai.scale) / (static_cast<double>(ao.scale) * cnt)),
                ao.qmin(), ao.qmax());
            ASSERT_EQ(codes[L->output][(c * OH + oy) * OH + ox], want);
          }
    }
    const double err = testq::rel_l2(reference::run_integer(m, {t})[0].data, reference::run_float(g, {t})[0].data);
    EXPECT_LT(err, 0.03);
  }
}

TEST(QuantLayers, ConcatRescalesEachInputToTheOutputScale) {
  GraphBuilder b;
  const int x = b.input("x", {1, 2, 3, 3});
  const int c1 = b.node("Conv", "c1", {x, b.constant("w1", {2, 2, 1, 1}, randn(4, 30))}, {{"kernel_shape", ints({1, 1})}});
  const int c2 = b.node("Conv", "c2", {x, b.constant("w2", {3, 2, 1, 1}, randn(6, 31, 4.0f))}, {{"kernel_shape", ints({1, 1})}});
  const int cat = b.node("Concat", "cat", {c1, c2}, {{"axis", i1(1)}});
  ir::Graph g = b.finish({cat});
  const std::vector<float> xs = randn(18, 32);
  const q::QModel m = quant::quantize(g, spec8(), {ir::FloatTensor{{1, 2, 3, 3}, xs}});
  const q::Layer& L = only_layer(m, q::LayerKind::kConcat);
  const q::QTensor& o = m.tensors[L.output];
  EXPECT_EQ(o.shape, (std::vector<int64_t>{5, 3, 3}));
  ASSERT_EQ(L.lut_per_input.size(), 2u);
  const auto codes = reference::run_integer_codes(m, quantize_all(xs, m.tensors[m.inputs[0]]));
  std::vector<int32_t> want;
  for (int k = 0; k < 2; ++k) {
    const q::QTensor& in = m.tensors[L.inputs[k]];
    ASSERT_EQ(L.lut_per_input[k].size(), 256u);
    for (int32_t c = -128; c < 128; ++c)
      ASSERT_EQ(L.lut_per_input[k][c + 128], qmath::quantize_value(c * in.scale, o.scale, -128, 127));
    for (int32_t v : codes[L.inputs[k]]) want.push_back(L.lut_per_input[k][v + 128]);
  }
  EXPECT_EQ(codes[L.output], want);
}

TEST(QuantLayers, ElementwiseFunctionsBecomeLookupTables) {
  struct Case {
    std::string op;
    std::map<std::string, ir::Attribute> attrs;
    float constant;  // NaN: unary op
    double (*f)(double);
    bool is_unsigned;
  };
  const std::vector<Case> cases = {
      {"Sigmoid", {}, NAN, [](double v) { return 1 / (1 + std::exp(-v)); }, true},
      {"Tanh", {}, NAN, [](double v) { return std::tanh(v); }, false},
      {"LeakyRelu", {{"alpha", f1(0.1f)}}, NAN, [](double v) { return v >= 0 ? v : static_cast<double>(0.1f) * v; }, false},
      {"Relu", {}, NAN, [](double v) { return std::max(v, 0.0); }, true},
      {"Mul", {}, -0.5f, [](double v) { return -0.5 * v; }, false},
      {"Add", {}, 1.0f, [](double v) { return v + 1.0; }, false},
      {"Sub", {}, -9.0f, [](double v) { return v + 9.0; }, true},
      {"Div", {}, 2.0f, [](double v) { return v / 2.0; }, false},
  };
  for (const Case& c : cases) {
    GraphBuilder b;
    const int x = b.input("x", {1, 3, 4, 4});
    std::vector<int> ins = {x};
    if (!std::isnan(c.constant)) ins.push_back(b.constant("k", {}, {c.constant}));
    const int y = b.node(c.op, "f", ins, c.attrs);
    ir::Graph g = b.finish({y});
    const std::vector<float> xs = randn(48, 40);
    const ir::FloatTensor t{{1, 3, 4, 4}, xs};
    const q::QModel m = quant::quantize(g, spec8(), {t});
    const q::Layer& L = only_layer(m, q::LayerKind::kLut);
    const q::QTensor &in = m.tensors[L.inputs[0]], &o = m.tensors[L.output];
    EXPECT_EQ(o.is_unsigned, c.is_unsigned) << c.op;
    const std::vector<ir::FloatTensor> f = reference::run_float(g, {t});
    EXPECT_FLOAT_EQ(o.scale, max_abs(f[0].data) / o.qmax()) << c.op;
    ASSERT_EQ(L.lut.size(), 256u);
    for (int32_t i = 0; i < 256; ++i)
      ASSERT_EQ(L.lut[i], qmath::quantize_value(static_cast<float>(c.f(qmath::dequantize_value(in.qmin() + i, in.scale))),
                                                o.scale, o.qmin(), o.qmax()))
          << c.op << " code " << in.qmin() + i;
    const auto codes = reference::run_integer_codes(m, quantize_all(xs, in));
    for (size_t i = 0; i < 48; ++i) ASSERT_EQ(codes[L.output][i], L.lut[codes[L.inputs[0]][i] - in.qmin()]);
    EXPECT_LT(testq::rel_l2(reference::run_integer(m, {t})[0].data, f[0].data), 0.03) << c.op;
  }
}

TEST(QuantLayers, PerChannelMulAndUnfoldedBatchNormAreDepthwiseConvs) {
  GraphBuilder b;
  const int x = b.input("x", {1, 3, 4, 4});
  const int mul = b.node("Mul", "scale", {x, b.constant("s", {3, 1, 1}, {0.5f, -2.0f, 3.0f})});
  const int bn = b.node("BatchNormalization", "bn",
                        {mul, b.constant("g", {3}, {1.0f, 2.0f, 0.5f}), b.constant("beta", {3}, {0.1f, -0.2f, 0.3f}),
                         b.constant("mean", {3}, {0.0f, 1.0f, -1.0f}), b.constant("var", {3}, {1.0f, 4.0f, 0.25f})},
                        {{"epsilon", f1(0.0f)}});
  ir::Graph g = b.finish({bn});
  const std::vector<float> xs = randn(48, 50);
  const ir::FloatTensor t{{1, 3, 4, 4}, xs};
  const q::QModel m = quant::quantize(g, spec8(), {t});
  ASSERT_EQ(m.layers.size(), 2u);
  for (const q::Layer& L : m.layers) {
    EXPECT_EQ(L.kind, q::LayerKind::kConv);
    EXPECT_EQ(L.conv.group, 3);
    EXPECT_EQ(L.conv.kernel_h, 1);
  }
  expect_conv_params(m, m.layers[0], {0.5f, -2.0f, 3.0f}, {0, 0, 0});
  // BN: a = gamma / sqrt(var), b = beta - a * mean.
  expect_conv_params(m, m.layers[1], {1.0f, 1.0f, 1.0f}, {0.1f, -0.2f - 1.0f, 0.3f + 1.0f});
  const auto codes = reference::run_integer_codes(m, quantize_all(xs, m.tensors[m.inputs[0]]));
  for (const q::Layer& L : m.layers)
    EXPECT_EQ(codes[L.output], ref_conv(L.conv, m.tensors[L.inputs[0]], m.tensors[L.output], codes[L.inputs[0]]));
  EXPECT_LT(testq::rel_l2(reference::run_integer(m, {t})[0].data, reference::run_float(g, {t})[0].data), 0.03);
}

TEST(QuantLayers, ReshapesKeepCodesAndFinalSoftmaxRunsOnTheHost) {
  GraphBuilder b;
  const int x = b.input("x", {1, 4, 2, 2});
  const int fl = b.node("Flatten", "flat", {x}, {{"axis", i1(1)}});
  const int fc = b.node("Gemm", "fc", {fl, b.constant("w", {16, 5}, randn(80, 60)), b.constant("c", {5}, randn(5, 61))});
  const int sm = b.node("Softmax", "prob", {fc}, {{"axis", i1(-1)}});
  ir::Graph g = b.finish({sm});
  const std::vector<float> xs = randn(32, 62);
  const ir::FloatTensor t{{2, 4, 2, 2}, xs};
  const q::QModel m = quant::quantize(g, spec8(), {t});
  ASSERT_EQ(m.layers.size(), 2u);
  EXPECT_EQ(m.layers[0].kind, q::LayerKind::kReshape);
  EXPECT_EQ(m.tensors[m.layers[0].output].shape, std::vector<int64_t>{16});
  EXPECT_EQ(m.tensors[m.layers[0].output].scale, m.tensors[m.inputs[0]].scale);
  ASSERT_EQ(m.output_host_softmax, std::vector<bool>{true});
  EXPECT_EQ(m.outputs[0], m.layers[1].output);
  const std::vector<ir::FloatTensor> qi = reference::run_integer(m, {t});
  const std::vector<ir::FloatTensor> fo = reference::run_float(g, {t});
  ASSERT_EQ(qi[0].shape, (std::vector<int64_t>{2, 5}));
  for (int n = 0; n < 2; ++n) {
    double s = 0;
    for (int k = 0; k < 5; ++k) s += qi[0].data[n * 5 + k];
    EXPECT_NEAR(s, 1.0, 1e-5);
  }
  EXPECT_LT(testq::rel_l2(qi[0].data, fo[0].data), 0.05);
}

TEST(QuantLayers, QdqScalesAndWeightCodesAreKept) {
  GraphBuilder b;
  const int x = b.input("x", {1, 2, 3, 3});
  std::vector<float> codes = {1, -2, 3, 127, -127, 5};  // [3][2]
  std::vector<float> w(6);
  const float ws[3] = {0.01f, 0.02f, 0.03f};
  for (int i = 0; i < 6; ++i) w[i] = codes[i] * ws[i / 2];
  const int W = b.constant("w", {3, 2, 1, 1}, w);
  b.g.values[W].quant = ir::QuantParams{{0.01f, 0.02f, 0.03f}, {0, 0, 0}, 0, false, 8};
  b.g.values[x].quant = ir::QuantParams{{0.05f}, {0}, 1, false, 8};
  const int c = b.node("Conv", "conv", {x, W}, {{"kernel_shape", ints({1, 1})}});
  ir::Graph g = b.finish({c});
  g.values[c].quant = ir::QuantParams{{0.1f}, {0}, 1, false, 8};
  const q::QModel m = quant::quantize(g, spec8(), {});
  EXPECT_FLOAT_EQ(m.tensors[m.inputs[0]].scale, 0.05f);
  EXPECT_FLOAT_EQ(m.tensors[m.layers[0].output].scale, 0.1f);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(m.layers[0].conv.weights[i], codes[i]);
  for (int i = 0; i < 3; ++i) EXPECT_FLOAT_EQ(m.layers[0].conv.weight_scale[i], ws[i]);
}

TEST(QuantLayers, CalibrationDataSetsTheScales) {
  GraphBuilder b;
  const int x = b.input("x", {1, 1, 4, 4});
  const int c = b.node("Conv", "conv", {x, b.constant("w", {2, 1, 1, 1}, {1.0f, -1.0f})}, {{"kernel_shape", ints({1, 1})}});
  ir::Graph g = b.finish({c});
  std::vector<float> xs = randn(16, 70);
  const q::QModel m1 = quant::quantize(g, spec8(), {ir::FloatTensor{{1, 1, 4, 4}, xs}});
  for (float& v : xs) v *= 3.0f;
  const q::QModel m3 = quant::quantize(g, spec8(), {ir::FloatTensor{{1, 1, 4, 4}, xs}});
  EXPECT_FLOAT_EQ(m3.tensors[m3.inputs[0]].scale, 3.0f * m1.tensors[m1.inputs[0]].scale);
  EXPECT_FLOAT_EQ(m3.tensors[m3.outputs[0]].scale, 3.0f * m1.tensors[m1.outputs[0]].scale);
  const q::QModel d1 = quant::quantize(g, spec8(), {});
  const q::QModel d2 = quant::quantize(g, spec8(), {});
  EXPECT_EQ(d1.tensors[d1.inputs[0]].scale, d2.tensors[d2.inputs[0]].scale);
  EXPECT_NE(d1.tensors[d1.inputs[0]].scale, m1.tensors[m1.inputs[0]].scale);
  // Default data is standard normal: 8 * 16 samples have a max |x| between 2 and 5.
  EXPECT_GT(d1.tensors[d1.inputs[0]].scale * 127, 2.0f);
  EXPECT_LT(d1.tensors[d1.inputs[0]].scale * 127, 5.0f);
}

// A small random CNN end to end. Bound: each 8-bit requantization adds uniform noise of
// variance s^2/12 with s = max/127, i.e. about 0.3-1 % of the RMS signal for Gaussian-like
// activations (max ~ 3-4 sigma); weights add about the same. Six quantized stages compound
// to a few percent at most, so 5 % flags a real error while leaving room for ReLU sparsity.
TEST(QuantLayers, RandomConvNetMatchesFloatWithinQuantizationError) {
  GraphBuilder b;
  const int x = b.input("x", {1, 3, 16, 16});
  auto conv = [&](const std::string& name, int in, int64_t cin, int64_t cout, int64_t k, int64_t s, uint64_t seed) {
    const float std = std::sqrt(2.0f / (cin * k * k));
    const int W = b.constant(name + "_w", {cout, cin, k, k}, randn(cout * cin * k * k, seed, std));
    const int B = b.constant(name + "_b", {cout}, randn(cout, seed + 1, 0.1f));
    return b.node("Conv", name, {in, W, B},
                  {{"kernel_shape", ints({k, k})}, {"strides", ints({s, s})}, {"pads", ints({k / 2, k / 2, k / 2, k / 2})}});
  };
  const int c1 = b.node("Relu", "r1", {conv("c1", x, 3, 8, 3, 1, 100)});
  const int p1 = b.node("MaxPool", "p1", {c1}, {{"kernel_shape", ints({2, 2})}, {"strides", ints({2, 2})}});
  const int c2 = b.node("Relu", "r2", {conv("c2", p1, 8, 16, 3, 1, 102)});
  const int c3 = conv("c3", c2, 16, 16, 3, 1, 104);
  const int sc = conv("sc", p1, 8, 16, 1, 1, 106);
  const int add = b.node("Relu", "r3", {b.node("Add", "add", {c3, sc})});
  const int gap = b.node("GlobalAveragePool", "gap", {add});
  const int fl = b.node("Flatten", "flat", {gap}, {{"axis", i1(1)}});
  const int fc = b.node("Gemm", "fc", {fl, b.constant("fc_w", {10, 16}, randn(160, 108, 0.3f)), b.constant("fc_b", {10}, randn(10, 109))},
                        {{"transB", i1(1)}});
  ir::Graph g = b.finish({fc});
  const ir::FloatTensor calib{{8, 3, 16, 16}, randn(8 * 768, 110)};
  const ir::FloatTensor test{{4, 3, 16, 16}, randn(4 * 768, 111)};
  const std::vector<float> fo = reference::run_float(g, {test})[0].data;
  double last_err = 0;
  for (int bits : {8, 6, 4}) {
    QuantSpec s;
    s.weight_bits = s.activation_bits = bits;
    const q::QModel m = quant::quantize(g, s, {calib});
    for (const q::QTensor& t : m.tensors) EXPECT_EQ(t.bits, bits);
    for (const q::Layer& L : m.layers) {
      if (L.kind == q::LayerKind::kConv) {
        for (int8_t w : L.conv.weights) ASSERT_LE(std::abs(w), qmath::weight_qmax(bits));
      }
    }
    const std::vector<float> qi = reference::run_integer(m, {test})[0].data;
    const double err = testq::rel_l2(qi, fo);
    std::printf("random CNN, %d-bit: relative L2 error %.4f, cosine %.5f\n", bits, err, testq::cosine(qi, fo));
    // Each bit less doubles the quantization step: the error must grow, and 8 bits stays < 5 %.
    if (bits == 8) {
      EXPECT_LT(err, 0.05);
    }
    if (bits < 8) {
      EXPECT_GT(err, last_err);
    }
    EXPECT_LT(err, 0.05 * std::exp2(8 - bits));
    last_err = err;
  }
}

}  // namespace
}  // namespace cimsim
