// Whole models (label `models`): LeNet-5 and ResNet-18 exported by tests/data/gen_models.py
// with torch, quantized with the default calibration and compared with the float reference.
// Skips cleanly when the generator or python3 torch is missing.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "compiler/frontend/onnx_loader.h"
#include "compiler/frontend/passes.h"
#include "compiler/quant/quantizer.h"
#include "compiler/reference/float_interpreter.h"
#include "compiler/reference/integer_interpreter.h"
#include "test_graph.h"

namespace cimsim {
namespace {

bool exists(const std::string& p) { return std::ifstream(p).good(); }

// Returns the path of MODEL.onnx, generating the test models once; "" when impossible.
std::string model_path(const std::string& name) {
  const std::string dir = std::string(CIMSIM_BINARY_DIR) + "/quant_test_models";
  const std::string path = dir + "/" + name + ".onnx";
  if (exists(path)) return path;
  const std::string gen = std::string(CIMSIM_SOURCE_DIR) + "/tests/data/gen_models.py";
  if (!exists(gen)) return "";
  if (std::system("python3 -c 'import torch, onnx' >/dev/null 2>&1") != 0) return "";
  const std::string cmd = "mkdir -p '" + dir + "' && python3 '" + gen + "' --out '" + dir + "' >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) return "";
  return exists(path) ? path : "";
}

void check_model(const std::string& name, double min_cosine) {
  const std::string path = model_path(name);
  if (path.empty()) GTEST_SKIP() << "tests/data/gen_models.py or python3 torch unavailable";
  ir::Graph g = frontend::load_onnx(path);
  frontend::simplify(g);
  const q::QModel m = quant::quantize(g, QuantSpec{}, {});
  std::vector<int64_t> shape = g.values[g.inputs[0]].shape;
  shape[0] = 2;
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  // Test images are drawn independently of the calibration images.
  const ir::FloatTensor x{shape, testq::randn(static_cast<size_t>(n), 12345)};
  const std::vector<float> qi = reference::run_integer(m, {x})[0].data;
  const std::vector<float> fo = reference::run_float(g, {x})[0].data;
  const double cos = testq::cosine(qi, fo), err = testq::rel_l2(qi, fo);
  std::printf("%s: cosine(run_integer, run_float) = %.5f, relative L2 = %.4f, %zu layers\n", name.c_str(), cos, err,
              m.layers.size());
  RecordProperty("cosine", std::to_string(cos));
  EXPECT_GE(cos, min_cosine);
}

TEST(QuantModels, LeNet5) { check_model("lenet5", 0.98); }
TEST(QuantModels, ResNet18) { check_model("resnet18", 0.98); }

}  // namespace
}  // namespace cimsim
