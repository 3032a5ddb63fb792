// frontend/trained_weights.h: the cimsim-weights file and --weights (docs/training.md).
#include "compiler/frontend/trained_weights.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <unistd.h>
#include <string>

#include "platform/spec/arch.h"

namespace cimsim::frontend {
namespace {

// x -> Conv(W [2,1,1,1], B [2]) -> y, plus a Relu (no constants), as simplify() leaves it.
ir::Graph conv_graph() {
  ir::Graph g;
  g.source = "model.onnx";
  auto value = [&g](const std::string& name, std::vector<int64_t> shape, std::vector<float> data, bool constant) {
    ir::Value v;
    v.name = name;
    v.shape = shape;
    v.shape_known = true;
    if (constant) v.data = ir::FloatTensor{shape, std::move(data)};
    return g.add_value(std::move(v));
  };
  const int x = value("x", {1, 1, 2, 2}, {}, false);
  const int w = value("conv.weight", {2, 1, 1, 1}, {0.5f, -0.25f}, true);
  const int b = value("conv.bias", {2}, {0.1f, 0.2f}, true);
  const int y = value("y", {1, 2, 2, 2}, {}, false);
  const int z = value("z", {1, 2, 2, 2}, {}, false);
  ir::Node conv;
  conv.kind = ir::OpKind::kConv;
  conv.name = "conv";
  conv.op_type = "Conv";
  conv.inputs = {x, w, b};
  conv.outputs = {y};
  ir::Node relu;
  relu.kind = ir::OpKind::kRelu;
  relu.name = "relu";
  relu.op_type = "Relu";
  relu.inputs = {y};
  relu.outputs = {z};
  g.nodes = {conv, relu};
  g.inputs = {x};
  g.outputs = {z};
  g.simplified = true;
  return g;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("cimsim_tw_" + std::to_string(::getpid()) + "_" + name)).string();
}

std::string error_of(ir::Graph& g, const std::string& path) {
  try {
    apply_trained_weights(g, path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(TrainedWeights, TrainableConstantsAreConvWeightAndBias) {
  const ir::Graph g = conv_graph();
  const std::vector<int> ids = trainable_constants(g);
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(g.values[ids[0]].name, "conv.weight");
  EXPECT_EQ(g.values[ids[1]].name, "conv.bias");
}

TEST(TrainedWeights, RoundTripReplacesTheConstantsBitForBit) {
  ir::Graph g = conv_graph();
  const float odd = std::nextafter(1.0f, 2.0f);
  const std::string path = temp_path("ok.weights");
  write_weights_file(path, {{"conv.weight", {{2, 1, 1, 1}, {odd, -3.0f}}}, {"conv.bias", {{2}, {1e-30f, -0.0f}}}});
  const std::vector<NamedTensor> back = read_weights_file(path);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].tensor.shape, (std::vector<int64_t>{2, 1, 1, 1}));
  apply_trained_weights(g, path);
  EXPECT_EQ(g.values[1].data->data, (std::vector<float>{odd, -3.0f}));
  EXPECT_EQ(g.values[2].data->data[0], 1e-30f);
  EXPECT_TRUE(std::signbit(g.values[2].data->data[1]));
  std::remove(path.c_str());
}

TEST(TrainedWeights, MismatchesNameTheFileAndTensorAndLeaveTheGraphUntouched) {
  const std::string path = temp_path("bad.weights");
  const ir::FloatTensor w{{2, 1, 1, 1}, {1, 2}}, b{{2}, {3, 4}};
  struct Case {
    std::vector<NamedTensor> tensors;
    std::string expect;
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<Case> cases = {
      {{{"conv.weight", w}}, "tensor 'conv.bias' of model.onnx is missing"},
      {{{"conv.weight", w}, {"conv.bias", b}, {"extra", b}}, "tensor 'extra' is not a trainable weight"},
      {{{"conv.weight", {{2}, {1, 2}}}, {"conv.bias", b}}, "tensor 'conv.weight' has shape [2], the model's is [2, 1, 1, 1]"},
      {{{"conv.weight", w}, {"conv.bias", {{2}, {3, nan}}}}, "tensor 'conv.bias' element 1 is not finite"},
  };
  for (const Case& c : cases) {
    ir::Graph g = conv_graph();
    write_weights_file(path, c.tensors);
    const std::string msg = error_of(g, path);
    EXPECT_NE(msg.find(path + ": "), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.expect), std::string::npos) << msg;
    EXPECT_EQ(g.values[1].data->data, (std::vector<float>{0.5f, -0.25f}));
  }
  std::remove(path.c_str());
}

TEST(TrainedWeights, MalformedFilesAreInputErrors) {
  const std::string path = temp_path("malformed.weights");
  const std::vector<std::pair<std::string, std::string>> files = {
      {"", "not a cimsim weights file"},
      {"cimsim-weights 2\n{}\n", "not a cimsim weights file"},
      {"cimsim-weights 1\n{not json\n", "not valid JSON"},
      {"cimsim-weights 1\n{\"tensors\": 3}\n", "expected {\"tensors\""},
      {"cimsim-weights 1\n{\"tensors\": [{\"name\": \"a\", \"shape\": [-1]}]}\n", "non-negative"},
      {"cimsim-weights 1\n{\"tensors\": [{\"name\": \"a\", \"shape\": [4294967296, 4294967296, 4294967296]}]}\n",
       "shape is too large"},
      {"cimsim-weights 1\n{\"tensors\": [{\"name\": \"a\", \"shape\": [2]}]}\nabc", "8 bytes of float32 data, the file holds 3"},
      {"cimsim-weights 1\n{\"tensors\": [{\"name\": \"a\", \"shape\": [1]}, {\"name\": \"a\", \"shape\": [1]}]}\n12345678",
       "appears twice"},
  };
  for (const auto& [text, expect] : files) {
    std::ofstream(path, std::ios::binary) << text;
    ir::Graph g = conv_graph();
    const std::string msg = error_of(g, path);
    EXPECT_NE(msg.find(path + ": "), std::string::npos) << msg;
    EXPECT_NE(msg.find(expect), std::string::npos) << msg;
  }
  std::remove(path.c_str());
  ir::Graph g = conv_graph();
  EXPECT_NE(error_of(g, path).find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace cimsim::frontend
