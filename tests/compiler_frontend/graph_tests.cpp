// Small graphs built with the ONNX protobuf API for op/attribute combinations the ONNX node
// tests do not cover, and for the simplify() passes. Expected values come from naive loops
// written here, independently of the kernels.
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

#include "platform/spec/arch.h"

#include "compiler/frontend/onnx_loader.h"
#include "compiler/frontend/passes.h"
#include "compiler/reference/float_interpreter.h"
#include "compiler/reference/float_kernels.h"
#include "tests/compiler_frontend/test_util.h"

namespace cimsim {
namespace {

using testutil::ModelBuilder;
using testutil::rand_vec;
using Shape = std::vector<int64_t>;

ir::Graph build(ModelBuilder& b) {
  ir::Graph g = frontend::graph_from_model(b.model(), "test.onnx", "");
  frontend::simplify(g);
  return g;
}

int64_t count(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

// Direct 2-D convolution, the textbook definition.
std::vector<float> naive_conv(const std::vector<float>& x, Shape xs, const std::vector<float>& w, Shape ws,
                              const std::vector<float>* bias, int64_t group, int64_t sh, int64_t sw, int64_t pt,
                              int64_t pl, int64_t pb, int64_t pr, int64_t dh, int64_t dw, Shape* ys) {
  int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3], M = ws[0], kh = ws[2], kw = ws[3];
  int64_t OH = (H + pt + pb - ((kh - 1) * dh + 1)) / sh + 1;
  int64_t OW = (W + pl + pr - ((kw - 1) * dw + 1)) / sw + 1;
  *ys = {N, M, OH, OW};
  int64_t Cg = C / group, Mg = M / group;
  std::vector<float> y(N * M * OH * OW);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double s = bias ? (*bias)[m] : 0.0;
          int64_t g = m / Mg;
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                int64_t ih = oh * sh - pt + i * dh, iw = ow * sw - pl + j * dw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                s += static_cast<double>(x[((n * C + g * Cg + c) * H + ih) * W + iw]) *
                     w[((m * Cg + c) * kh + i) * kw + j];
              }
          y[((n * M + m) * OH + oh) * OW + ow] = static_cast<float>(s);
        }
  return y;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, double rtol = 1e-4) {
  size_t where = 0;
  ASSERT_EQ(got.size(), want.size());
  EXPECT_TRUE(testutil::all_close(got, want, rtol, 1e-5, &where))
      << "at " << where << ": got " << got[where] << " want " << want[where];
}

TEST(FrontendGraph, DepthwiseConvStridedDilatedPadded) {
  ModelBuilder b;
  Shape xs{1, 4, 9, 11}, ws{4, 1, 3, 3};
  b.input("x", xs);
  auto w = rand_vec(count(ws), 1);
  b.init("w", ws, w);
  auto& n = b.node("Conv", {"x", "w"}, {"y"});
  ModelBuilder::attr_i(n, "group", 4);
  ModelBuilder::attr_ints(n, "strides", {2, 1});
  ModelBuilder::attr_ints(n, "dilations", {2, 2});
  ModelBuilder::attr_ints(n, "pads", {1, 2, 2, 0});
  b.output("y");
  ir::Graph g = build(b);
  auto x = rand_vec(count(xs), 2);
  Shape ys;
  auto want = naive_conv(x, xs, w, ws, nullptr, 4, 2, 1, 1, 2, 2, 0, 2, 2, &ys);
  auto got = reference::run_float(g, {{xs, x}});
  EXPECT_EQ(got[0].shape, ys);
  expect_close(got[0].data, want);
}

TEST(FrontendGraph, GroupedConvWithBiasAndAsymmetricPads) {
  ModelBuilder b;
  Shape xs{2, 6, 7, 8}, ws{4, 3, 2, 3};
  b.input("x", xs);
  auto w = rand_vec(count(ws), 3), bias = rand_vec(4, 4);
  b.init("w", ws, w);
  b.init("b", {4}, bias);
  auto& n = b.node("Conv", {"x", "w", "b"}, {"y"});
  ModelBuilder::attr_i(n, "group", 2);
  ModelBuilder::attr_ints(n, "pads", {0, 1, 1, 2});
  ModelBuilder::attr_ints(n, "strides", {1, 2});
  b.output("y");
  ir::Graph g = build(b);
  auto x = rand_vec(count(xs), 5);
  Shape ys;
  auto want = naive_conv(x, xs, w, ws, &bias, 2, 1, 2, 0, 1, 1, 2, 1, 1, &ys);
  auto got = reference::run_float(g, {{xs, x}});
  EXPECT_EQ(got[0].shape, ys);
  expect_close(got[0].data, want);
}

TEST(FrontendGraph, ConvAutoPadSameLowerStride2) {
  ModelBuilder b;
  Shape xs{1, 2, 6, 7}, ws{3, 2, 4, 4};
  b.input("x", xs);
  auto w = rand_vec(count(ws), 6);
  b.init("w", ws, w);
  auto& n = b.node("Conv", {"x", "w"}, {"y"});
  ModelBuilder::attr_s(n, "auto_pad", "SAME_LOWER");
  ModelBuilder::attr_ints(n, "strides", {2, 2});
  b.output("y");
  ir::Graph g = build(b);
  // out = ceil(in / 2): H 3 -> total pad (3-1)*2+4-6 = 2 (1, 1); W 4 -> (4-1)*2+4-7 = 3,
  // SAME_LOWER puts the extra one at the beginning: (2, 1).
  auto x = rand_vec(count(xs), 7);
  Shape ys;
  auto want = naive_conv(x, xs, w, ws, nullptr, 1, 2, 2, 1, 2, 1, 1, 1, 1, &ys);
  EXPECT_EQ(ys, (Shape{1, 3, 3, 4}));
  auto got = reference::run_float(g, {{xs, x}});
  EXPECT_EQ(got[0].shape, ys);
  expect_close(got[0].data, want);
  EXPECT_EQ(g.nodes[0].attr_ints("pads"), (Shape{1, 2, 1, 1}));
  EXPECT_FALSE(g.nodes[0].has_attr("auto_pad"));
}

// Conv -> BatchNormalization: folded (one node left) with the same result as conv then BN.
TEST(FrontendGraph, BatchNormFoldsIntoConv) {
  for (bool second_reader : {false, true}) {
    ModelBuilder b;
    Shape xs{1, 3, 5, 5}, ws{4, 3, 3, 3};
    b.input("x", xs);
    auto w = rand_vec(count(ws), 8), bias = rand_vec(4, 9);
    auto gamma = rand_vec(4, 10), beta = rand_vec(4, 11), mean = rand_vec(4, 12), var = rand_vec(4, 13);
    for (float& v : var) v = v * 0.4f + 1.0f;
    b.init("w", ws, w);
    b.init("b", {4}, bias);
    b.init("g", {4}, gamma);
    b.init("be", {4}, beta);
    b.init("m", {4}, mean);
    b.init("v", {4}, var);
    b.node("Conv", {"x", "w", "b"}, {"c"});
    auto& bn = b.node("BatchNormalization", {"c", "g", "be", "m", "v"}, {"y"});
    ModelBuilder::attr_f(bn, "epsilon", 1e-3f);
    b.output("y");
    if (second_reader) {
      b.node("Relu", {"c"}, {"r"});
      b.output("r");
    }
    ir::Graph g = build(b);
    auto x = rand_vec(count(xs), 14);
    Shape ys;
    auto conv = naive_conv(x, xs, w, ws, &bias, 1, 1, 1, 0, 0, 0, 0, 1, 1, &ys);
    std::vector<float> want(conv.size());
    const int64_t S = ys[2] * ys[3];
    for (size_t i = 0; i < conv.size(); ++i) {
      size_t c = (i / S) % 4;
      want[i] = (conv[i] - mean[c]) / std::sqrt(var[c] + 1e-3f) * gamma[c] + beta[c];
    }
    auto got = reference::run_float(g, {{xs, x}});
    expect_close(got[0].data, want);
    bool has_bn = false;
    for (const auto& n : g.nodes) has_bn |= n.kind == ir::OpKind::kBatchNormalization;
    EXPECT_EQ(has_bn, second_reader) << "BN is folded only when the Conv output has no other reader";
    EXPECT_EQ(g.nodes.size(), second_reader ? 3u : 1u);
  }
}

TEST(FrontendGraph, BatchNormFoldsIntoGemmTransB) {
  ModelBuilder b;
  b.input("x", {2, 5});
  auto w = rand_vec(3 * 5, 20), cb = rand_vec(3, 21);
  auto gamma = rand_vec(3, 22), beta = rand_vec(3, 23), mean = rand_vec(3, 24), var = rand_vec(3, 25);
  for (float& v : var) v = v * 0.4f + 1.0f;
  b.init("w", {3, 5}, w);
  b.init("c", {3}, cb);
  for (auto [name, data] : {std::pair{"g", gamma}, {"be", beta}, {"m", mean}, {"v", var}}) b.init(name, {3}, data);
  auto& gm = b.node("Gemm", {"x", "w", "c"}, {"h"});
  ModelBuilder::attr_i(gm, "transB", 1);
  ModelBuilder::attr_f(gm, "alpha", 0.5f);
  ModelBuilder::attr_f(gm, "beta", 2.0f);
  b.node("BatchNormalization", {"h", "g", "be", "m", "v"}, {"y"});
  b.output("y");
  ir::Graph g = build(b);
  EXPECT_EQ(g.nodes.size(), 1u);
  auto x = rand_vec(10, 26);
  std::vector<float> want(6);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) {
      double s = 0;
      for (int k = 0; k < 5; ++k) s += x[i * 5 + k] * w[j * 5 + k];
      double h = 0.5 * s + 2.0 * cb[j];
      want[i * 3 + j] = static_cast<float>((h - mean[j]) / std::sqrt(var[j] + 1e-5) * gamma[j] + beta[j]);
    }
  expect_close(reference::run_float(g, {{{2, 5}, x}})[0].data, want);
}

TEST(FrontendGraph, SoftmaxLegacyCoercesTo2D) {
  Shape xs{2, 3, 4};
  auto x = rand_vec(24, 30);
  for (int64_t opset : {11, 13}) {
    ModelBuilder b(opset);
    b.input("x", xs);
    auto& n = b.node("Softmax", {"x"}, {"y"});
    ModelBuilder::attr_i(n, "axis", 1);
    b.output("y");
    ir::Graph g = build(b);
    auto got = reference::run_float(g, {{xs, x}})[0].data;
    std::vector<float> want(24);
    if (opset == 11) {  // over the 12 trailing elements of each batch row
      for (int i = 0; i < 2; ++i) {
        double s = 0;
        for (int j = 0; j < 12; ++j) s += std::exp(x[i * 12 + j]);
        for (int j = 0; j < 12; ++j) want[i * 12 + j] = static_cast<float>(std::exp(x[i * 12 + j]) / s);
      }
    } else {  // over axis 1 only
      for (int i = 0; i < 2; ++i)
        for (int k = 0; k < 4; ++k) {
          double s = 0;
          for (int j = 0; j < 3; ++j) s += std::exp(x[i * 12 + j * 4 + k]);
          for (int j = 0; j < 3; ++j) want[i * 12 + j * 4 + k] = static_cast<float>(std::exp(x[i * 12 + j * 4 + k]) / s);
        }
    }
    expect_close(got, want);
  }
}

TEST(FrontendGraph, ClipAttributeFormOpset6AndInputFormOpset13) {
  auto x = rand_vec(10, 31);
  for (int64_t opset : {6, 13}) {
    ModelBuilder b(opset);
    b.input("x", {10});
    if (opset == 6) {
      auto& n = b.node("Clip", {"x"}, {"y"});
      ModelBuilder::attr_f(n, "min", -0.25f);
      ModelBuilder::attr_f(n, "max", 0.5f);
    } else {
      b.init("lo", {}, {-0.25f});
      b.init("hi", {}, {0.5f});
      b.node("Clip", {"x", "lo", "hi"}, {"y"});
    }
    b.output("y");
    ir::Graph g = build(b);
    std::vector<float> want;
    for (float v : x) want.push_back(std::min(0.5f, std::max(-0.25f, v)));
    EXPECT_EQ(reference::run_float(g, {{{10}, x}})[0].data, want) << "opset " << opset;
  }
}

TEST(FrontendGraph, SqueezeUnsqueezeAttributeFormOpset11) {
  ModelBuilder b(11);
  b.input("x", {3, 1, 4});
  auto& s = b.node("Squeeze", {"x"}, {"s"});
  ModelBuilder::attr_ints(s, "axes", {-2});
  auto& u = b.node("Unsqueeze", {"s"}, {"y"});
  ModelBuilder::attr_ints(u, "axes", {0, 3});
  b.output("y");
  ir::Graph g = build(b);
  EXPECT_EQ(g.values[g.outputs[0]].shape, (Shape{1, 3, 4, 1}));
  auto x = rand_vec(12, 32);
  auto got = reference::run_float(g, {{{3, 1, 4}, x}});
  EXPECT_EQ(got[0].data, x);
  EXPECT_EQ(got[0].shape, (Shape{1, 3, 4, 1}));
}

// torch's dynamic flatten: Shape -> Gather -> Unsqueeze -> Concat -> Reshape folds to constants.
TEST(FrontendGraph, ShapeGatherChainFoldsAndBatchRuns) {
  ModelBuilder b(13);
  b.input("x", {-1, 2, 3, 3});
  b.init_i64("idx0", {}, {0});
  b.init_i64("ax0", {1}, {0});
  b.init_i64("minus1", {1}, {-1});
  b.node("Shape", {"x"}, {"shape"});
  auto& ga = b.node("Gather", {"shape", "idx0"}, {"n"});
  ModelBuilder::attr_i(ga, "axis", 0);
  b.node("Unsqueeze", {"n", "ax0"}, {"n1"});
  auto& cc = b.node("Concat", {"n1", "minus1"}, {"target"});
  ModelBuilder::attr_i(cc, "axis", 0);
  b.node("Reshape", {"x", "target"}, {"flat"});
  b.node("Relu", {"flat"}, {"y"});
  b.node("Sigmoid", {"x"}, {"unused"});  // dead branch
  b.output("y");
  ir::Graph g = build(b);
  ASSERT_EQ(g.nodes.size(), 2u) << frontend::dump_graph(g);
  EXPECT_EQ(g.nodes[0].kind, ir::OpKind::kReshape);
  EXPECT_EQ(g.values[g.outputs[0]].shape, (Shape{1, 18}));
  auto x = rand_vec(3 * 18, 33);
  auto got = reference::run_float(g, {{{3, 2, 3, 3}, x}});
  EXPECT_EQ(got[0].shape, (Shape{3, 18}));
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(got[0].data[i], std::max(0.0f, x[i]));
}

TEST(FrontendGraph, QdqPairsRecordScalesAndDisappear) {
  ModelBuilder b(13);
  Shape xs{1, 2, 4, 4}, ws{3, 2, 1, 1};
  b.input("x", xs);
  auto w = rand_vec(count(ws), 40);
  b.init("w", ws, w);
  b.init("sx", {}, {0.02f});
  auto& zx = *b.graph().add_initializer();
  zx.set_name("zx");
  zx.set_data_type(onnx::TensorProto::UINT8);
  zx.add_int32_data(0);
  b.init("sw", {}, {0.01f});
  auto& zw = *b.graph().add_initializer();
  zw.set_name("zw");
  zw.set_data_type(onnx::TensorProto::INT8);
  zw.add_int32_data(0);
  b.node("Relu", {"x"}, {"r"});
  b.node("QuantizeLinear", {"r", "sx", "zx"}, {"rq"});
  b.node("DequantizeLinear", {"rq", "sx", "zx"}, {"rd"});
  b.node("QuantizeLinear", {"w", "sw", "zw"}, {"wq"});
  b.node("DequantizeLinear", {"wq", "sw", "zw"}, {"wd"});
  b.node("Conv", {"rd", "wd"}, {"y"});
  b.output("y");
  ir::Graph g = build(b);
  ASSERT_EQ(g.nodes.size(), 2u) << frontend::dump_graph(g);
  const ir::Node& conv = g.nodes[1];
  const ir::Value& act = g.values[conv.inputs[0]];
  const ir::Value& wt = g.values[conv.inputs[1]];
  ASSERT_TRUE(act.quant.has_value());
  EXPECT_FLOAT_EQ(act.quant->scale[0], 0.02f);
  EXPECT_TRUE(act.quant->is_unsigned);
  ASSERT_TRUE(wt.quant.has_value() && wt.is_constant());
  EXPECT_FALSE(wt.quant->is_unsigned);
  for (size_t i = 0; i < w.size(); ++i)
    EXPECT_FLOAT_EQ(wt.data->data[i], std::nearbyint(w[i] / 0.01f) * 0.01f);
  EXPECT_NE(frontend::dump_graph(g).find("q=s:0.02,u8"), std::string::npos) << frontend::dump_graph(g);
}

TEST(FrontendGraph, MatMulBatchBroadcastAndVector) {
  ModelBuilder b(13);
  b.input("a", {2, 3, 4});
  auto bw = rand_vec(20, 50);
  b.init("b", {4, 5}, bw);
  b.node("MatMul", {"a", "b"}, {"y"});
  b.output("y");
  ir::Graph g = build(b);
  auto a = rand_vec(24, 51);
  std::vector<float> want(30);
  for (int t = 0; t < 6; ++t)
    for (int j = 0; j < 5; ++j) {
      double s = 0;
      for (int k = 0; k < 4; ++k) s += a[t * 4 + k] * bw[k * 5 + j];
      want[t * 5 + j] = static_cast<float>(s);
    }
  auto got = reference::run_float(g, {{{2, 3, 4}, a}});
  EXPECT_EQ(got[0].shape, (Shape{2, 3, 5}));
  expect_close(got[0].data, want);
}

TEST(FrontendGraph, AveragePoolCeilModeCountIncludePad) {
  ModelBuilder b(13);
  Shape xs{1, 1, 5, 5};
  b.input("x", xs);
  auto& n = b.node("AveragePool", {"x"}, {"y"});
  ModelBuilder::attr_ints(n, "kernel_shape", {3, 3});
  ModelBuilder::attr_ints(n, "strides", {2, 2});
  ModelBuilder::attr_ints(n, "pads", {1, 1, 1, 1});
  ModelBuilder::attr_i(n, "ceil_mode", 1);
  ModelBuilder::attr_i(n, "count_include_pad", 1);
  b.output("y");
  ir::Graph g = build(b);
  // PyTorch: out = ceil((5 + 2 - 3) / 2) + 1 = 3; divisor counts padding but not overhang.
  auto x = rand_vec(25, 60);
  auto got = reference::run_float(g, {{xs, x}});
  ASSERT_EQ(got[0].shape, (Shape{1, 1, 3, 3}));
  std::vector<float> want(9);
  for (int oh = 0; oh < 3; ++oh)
    for (int ow = 0; ow < 3; ++ow) {
      int h0 = oh * 2 - 1, w0 = ow * 2 - 1;
      int h1 = std::min(h0 + 3, 6), w1 = std::min(w0 + 3, 6);
      double s = 0;
      for (int i = std::max(h0, 0); i < std::min(h1, 5); ++i)
        for (int j = std::max(w0, 0); j < std::min(w1, 5); ++j) s += x[i * 5 + j];
      want[oh * 3 + ow] = static_cast<float>(s / ((h1 - h0) * (w1 - w0)));
    }
  expect_close(got[0].data, want);
}

TEST(FrontendGraph, IdentityDropoutRemovedAndDumpReadable) {
  ModelBuilder b(13);
  b.input("x", {1, 4});
  b.node("Identity", {"x"}, {"i"});
  b.node("Dropout", {"i"}, {"d"});
  b.node("Relu", {"d"}, {"y"}, "my_relu");
  b.output("y");
  ir::Graph g = build(b);
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].inputs[0], g.inputs[0]);
  std::string dump = frontend::dump_graph(g);
  EXPECT_NE(dump.find("my_relu: Relu(x [1, 4]) -> y [1, 4]"), std::string::npos) << dump;
}

TEST(FrontendKernels, SgemmMatchesNaiveOnRaggedSizesAndThreads) {
  for (int threads : {1, 2}) {
    reference::set_float_threads(threads);
    for (auto [M, N, K] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 1}, {7, 33, 5}, {70, 300, 259}, {13, 1000, 600}, {1, 300, 259}, {1, 4096, 1030}}) {
      auto A = rand_vec(M * K, 70), B = rand_vec(K * N, 71);
      std::vector<float> C(M * N, 3.0f), want(M * N);
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          double s = 3.0;
          for (int64_t k = 0; k < K; ++k) s += static_cast<double>(A[i * K + k]) * B[k * N + j];
          want[i * N + j] = static_cast<float>(s);
        }
      reference::sgemm(M, N, K, A.data(), K, B.data(), N, C.data(), N, true);
      expect_close(C, want, 1e-4);
    }
  }
  reference::set_float_threads(2);
}

// Batch-1 fully connected layer with torch's [N, K] weight (transB): the GEMV path.
TEST(FrontendKernels, GemmTransBSingleRowMatchesNaive) {
  for (int threads : {1, 2})
    for (auto [N, K] : {std::pair<int64_t, int64_t>{5, 3}, {1000, 37}, {2048, 1031}}) {
      reference::set_float_threads(threads);
      ir::FloatTensor a{{1, K}, rand_vec(K, 80)}, w{{N, K}, rand_vec(N * K, 81)}, c{{N}, rand_vec(N, 82)}, y;
      y.shape = {1, N};
      reference::gemm(a, w, &c, 1.5f, 0.5f, false, true, y);
      std::vector<float> want(N);
      for (int64_t j = 0; j < N; ++j) {
        double s = 0;
        for (int64_t k = 0; k < K; ++k) s += static_cast<double>(a.data[k]) * w.data[j * K + k];
        want[j] = static_cast<float>(1.5 * s + 0.5 * c.data[j]);
      }
      expect_close(y.data, want);
    }
  reference::set_float_threads(2);
}

TEST(FrontendInterpreter, RejectsWrongInputs) {
  ModelBuilder b(13);
  b.input("x", {1, 4});
  b.node("Relu", {"x"}, {"y"});
  b.output("y");
  ir::Graph g = build(b);
  EXPECT_THROW(reference::run_float(g, {}), InputError);
  EXPECT_THROW(reference::run_float(g, {{{1, 5}, std::vector<float>(5)}}), InputError);
  EXPECT_THROW(reference::run_float(g, {{{1, 4}, std::vector<float>(3)}}), InputError);
  ir::Graph raw = frontend::graph_from_model(b.model(), "t", "");
  EXPECT_THROW(reference::run_float(raw, {{{1, 4}, std::vector<float>(4)}}), std::logic_error);
}

}  // namespace
}  // namespace cimsim
