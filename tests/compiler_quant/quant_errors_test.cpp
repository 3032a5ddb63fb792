// What the quantized path rejects: each error is an InputError naming the file and the node.
#include <gtest/gtest.h>

#include "compiler/quant/quantizer.h"
#include "compiler/reference/float_interpreter.h"
#include "compiler/reference/integer_interpreter.h"
#include "test_graph.h"

namespace cimsim {
namespace {

using testq::GraphBuilder;
using testq::i1;
using testq::ints;
using testq::randn;

std::string quantize_error(const ir::Graph& g, QuantSpec spec = {}) {
  try {
    quant::quantize(g, spec, {});
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(QuantErrors, BroadcastAddOfTwoTensorsNamesTheNode) {
  GraphBuilder b("net.onnx");
  const int x = b.input("x", {1, 4, 3, 3});
  const int gap = b.node("GlobalAveragePool", "gap", {x});
  const int add = b.node("Add", "bcast_add", {x, gap});
  const std::string e = quantize_error(b.finish({add}));
  EXPECT_NE(e.find("net.onnx: "), std::string::npos) << e;
  EXPECT_NE(e.find("bcast_add"), std::string::npos) << e;
  EXPECT_NE(e.find("not supported in the quantized path"), std::string::npos) << e;
}

TEST(QuantErrors, NonZeroZeroPointIsRejected) {
  GraphBuilder b("qdq.onnx");
  const int x = b.input("x", {1, 2, 3, 3});
  const int r = b.node("Relu", "relu", {x});
  ir::Graph g = b.finish({r});
  g.values[r].quant = ir::QuantParams{{0.1f}, {3}, 1, true, 8};
  const std::string e = quantize_error(g);
  EXPECT_NE(e.find("zero point 3"), std::string::npos) << e;
  EXPECT_NE(e.find("symmetric"), std::string::npos) << e;
  EXPECT_NE(e.find("relu"), std::string::npos) << e;
}

TEST(QuantErrors, AccumulatorOverflowNamesTheLayer) {
  // 140000 inputs x 127 x 128 > 2^31: the int32 accumulator could overflow.
  GraphBuilder b("big.onnx");
  const int64_t K = 140000;
  const int x = b.input("x", {1, K});
  const int fc = b.node("MatMul", "huge_fc", {x, b.constant("w", {K, 1}, std::vector<float>(K, 0.5f))});
  const std::string e = quantize_error(b.finish({fc}));
  EXPECT_NE(e.find("huge_fc"), std::string::npos) << e;
  EXPECT_NE(e.find("accumulator"), std::string::npos) << e;
}

TEST(QuantErrors, BiasThatDoesNotFitInt32IsRejected) {
  GraphBuilder b;
  const int x = b.input("x", {1, 1, 2, 2});
  const int c = b.node("Conv", "tiny_w_big_b",
                       {x, b.constant("w", {1, 1, 1, 1}, {1e-6f}), b.constant("b", {1}, {1e6f})},
                       {{"kernel_shape", ints({1, 1})}});
  const std::string e = quantize_error(b.finish({c}));
  EXPECT_NE(e.find("tiny_w_big_b"), std::string::npos) << e;
  EXPECT_NE(e.find("int32"), std::string::npos) << e;
}

TEST(QuantErrors, SoftmaxThatIsNotFinalIsRejected) {
  GraphBuilder b;
  const int x = b.input("x", {1, 10});
  const int s = b.node("Softmax", "mid_softmax", {x}, {{"axis", i1(1)}});
  const int r = b.node("Relu", "relu", {s});
  const std::string e = quantize_error(b.finish({r}));
  EXPECT_NE(e.find("mid_softmax"), std::string::npos) << e;
}

TEST(QuantErrors, SoftmaxOverSpatialAxesIsRejectedChannelSoftmaxIsAccepted) {
  {
    GraphBuilder b;
    const int x = b.input("x", {1, 3, 2, 2});
    const int s = b.node("Softmax", "spatial_softmax", {x}, {{"axis", i1(-1)}});
    const std::string e = quantize_error(b.finish({s}));
    EXPECT_NE(e.find("spatial_softmax"), std::string::npos) << e;
  }
  {
    GraphBuilder b;
    const int x = b.input("x", {1, 3, 2, 2});
    const int s = b.node("Softmax", "channel_softmax", {x}, {{"axis", i1(1)}});
    ir::Graph g = b.finish({s});
    const q::QModel m = quant::quantize(g, QuantSpec{}, {});
    EXPECT_EQ(m.output_host_softmax, std::vector<bool>{true});
    const ir::FloatTensor t{{1, 3, 2, 2}, randn(12, 5)};
    const std::vector<float> qi = reference::run_integer(m, {t})[0].data;
    const std::vector<float> fo = reference::run_float(g, {t})[0].data;
    EXPECT_LT(testq::rel_l2(qi, fo), 0.02);
  }
}

TEST(QuantErrors, TransposeThatMovesDataIsRejectedButSize1MovesAreFine) {
  {
    GraphBuilder b;
    const int x = b.input("x", {1, 2, 3, 4});
    const int t = b.node("Transpose", "tr", {x}, {{"perm", ints({0, 2, 3, 1})}});
    const std::string e = quantize_error(b.finish({t}));
    EXPECT_NE(e.find("tr"), std::string::npos) << e;
    EXPECT_NE(e.find("Transpose"), std::string::npos) << e;
  }
  {
    GraphBuilder b;
    const int x = b.input("x", {1, 5, 1, 1});
    const int t = b.node("Transpose", "tr", {x}, {{"perm", ints({0, 2, 3, 1})}});
    EXPECT_EQ(quantize_error(b.finish({t})), "");
  }
}

TEST(QuantErrors, MulOfTwoActivationsIsRejected) {
  GraphBuilder b;
  const int x = b.input("x", {1, 2, 3, 3});
  const int m = b.node("Mul", "square", {x, x});
  const std::string e = quantize_error(b.finish({m}));
  EXPECT_NE(e.find("square"), std::string::npos) << e;
}

TEST(QuantErrors, RunIntegerRejectsWrongInputSize) {
  GraphBuilder b;
  const int x = b.input("x", {1, 2, 3, 3});
  const int r = b.node("Relu", "relu", {x});
  const q::QModel m = quant::quantize(b.finish({r}), QuantSpec{}, {});
  EXPECT_THROW(reference::run_integer(m, {ir::FloatTensor{{1, 17}, std::vector<float>(17)}}), InputError);
  EXPECT_THROW(reference::run_integer(m, {}), InputError);
  EXPECT_THROW(reference::run_integer_codes(m, std::vector<int32_t>(17)), InputError);
  std::vector<int32_t> codes(18, 0);
  codes[5] = 300;  // outside the signed 8-bit input range
  EXPECT_THROW(reference::run_integer_codes(m, codes), InputError);
}

}  // namespace
}  // namespace cimsim
