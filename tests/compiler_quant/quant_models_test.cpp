// Whole models (label `models`): LeNet-5 and ResNet-18 exported by tests/data/gen_models.py
// with torch, quantized with the default calibration and compared with the float reference.
// Skips cleanly when the generator or python3 torch is missing.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "compiler/frontend/onnx_loader.h"
#include "compiler/frontend/passes.h"
#include "compiler/quant/quantizer.h"
#include "compiler/reference/float_interpreter.h"
#include "compiler/reference/integer_interpreter.h"
#include "compiler/reference/reference.h"
#include "platform/spec/npy.h"
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
  std::string py;
  for (const char* cand : {"/usr/bin/python3", "python3"}) {
    const std::string probe = std::string(cand) + " -c 'import torch, torchvision, onnx' >/dev/null 2>&1";
    if (std::system(probe.c_str()) == 0) {
      py = cand;
      break;
    }
  }
  if (py.empty()) return "";
  // Generated in a private folder and moved in file by file (rename is atomic), so test
  // processes running in parallel never see half-written models.
  const std::string cmd = "mkdir -p '" + dir + "' && t=$(mktemp -d '" + dir + "/gen.XXXXXX') && " + py + " '" + gen +
                          "' \"$t\" --models lenet5,resnet18,mobilenet_v2,squeezenet1_1 >/dev/null 2>&1 && mv -f \"$t\"/* '" +
                          dir + "/' && rmdir \"$t\"";
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
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<float> qi = reference::run_integer(m, {x})[0].data;
  const double int_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::vector<float> fo = reference::run_float(g, {x})[0].data;
  const double cos = testq::cosine(qi, fo), err = testq::rel_l2(qi, fo);
  std::printf("%s: cosine(run_integer, run_float) = %.5f, relative L2 = %.4f, %zu layers, run_integer %.3f s/image\n",
              name.c_str(), cos, err, m.layers.size(), int_s / 2);
  ::testing::Test::RecordProperty("cosine", std::to_string(cos));
  EXPECT_GE(cos, min_cosine);
}

TEST(QuantModels, LeNet5) { check_model("lenet5", 0.98); }

// A QDQ model written by gen_qdq.py: annotated scales and int8 weight codes are used as they are.
std::string qdq_model(const std::string& variant) {
  if (std::system("/usr/bin/python3 -c 'import onnx, numpy' >/dev/null 2>&1") != 0) return "";
  const std::string path = ::testing::TempDir() + "/quant_qdq" + variant + ".onnx";
  const std::string cmd = "/usr/bin/python3 '" + std::string(CIMSIM_SOURCE_DIR) + "/tests/compiler_quant/gen_qdq.py' '" +
                          path + "' " + variant + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0 ? path : "";
}

TEST(QuantModels, QdqModelKeepsScalesAndWeightCodes) {
  const std::string path = qdq_model("");
  if (path.empty()) GTEST_SKIP() << "python3 with onnx/numpy unavailable";
  ir::Graph g = frontend::load_onnx(path);
  frontend::simplify(g);
  const q::QModel m = quant::quantize(g, QuantSpec{}, {});
  EXPECT_FLOAT_EQ(m.tensors[m.inputs[0]].scale, 0.02f);
  const q::Layer& conv = m.layers.at(0);
  ASSERT_EQ(conv.kind, q::LayerKind::kConv);
  EXPECT_EQ(conv.fused, std::vector<std::string>{"relu"});
  const q::QTensor& r = m.tensors[conv.output];
  EXPECT_FLOAT_EQ(r.scale, 0.05f);
  EXPECT_TRUE(r.is_unsigned);
  for (int mm = 0; mm < 4; ++mm) {
    EXPECT_FLOAT_EQ(conv.conv.weight_scale[mm], 0.01f * (mm + 1));
    EXPECT_EQ(conv.conv.bias[mm], std::lround(0.1 * mm / (0.02 * 0.01 * (mm + 1))));
    for (int c = 0; c < 3; ++c)
      for (int k = 0; k < 9; ++k) {
        const int want = std::max(((mm * 7 + c * 5 + (k / 3) * 3 + k % 3) % 255) - 127, -127);
        ASSERT_EQ(conv.conv.weights[(mm * 3 + c) * 9 + k], want);
      }
  }
  // Inputs inside the annotated ranges (sigma 0.2 vs input step 0.02: ~3 % rounding noise per
  // element, averaged down by the pool), so the float graph — which skips the QDQ rounding and
  // clipping — is comparable.
  const ir::FloatTensor x{{2, 3, 8, 8}, testq::randn(384, 77, 0.2f)};
  const double err = testq::rel_l2(reference::run_integer(m, {x})[0].data, reference::run_float(g, {x})[0].data);
  std::printf("QDQ model: relative L2 %.4f\n", err);
  EXPECT_LT(err, 0.03);
}

TEST(QuantModels, QdqModelWithZeroPointIsRejected) {
  const std::string path = qdq_model("zp");
  if (path.empty()) GTEST_SKIP() << "python3 with onnx/numpy unavailable";
  ir::Graph g = frontend::load_onnx(path);
  frontend::simplify(g);
  try {
    quant::quantize(g, QuantSpec{}, {});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("zero point 3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("symmetric"), std::string::npos) << e.what();
  }
}

// `cimsim reference` end to end on LeNet-5: float output equals torch's within float error,
// integer output equals run_integer on the same quantized model exactly.
TEST(QuantModels, RunReferenceWritesFloatAndIntegerOutputs) {
  const std::string path = model_path("lenet5");
  if (path.empty()) GTEST_SKIP() << "tests/data/gen_models.py or python3 torch unavailable";
  const std::string dir = path.substr(0, path.rfind('/'));
  const std::string in = dir + "/lenet5_input.npy", arch = std::string(CIMSIM_SOURCE_DIR) + "/configs/isaac.yaml";
  const std::string out_f = ::testing::TempDir() + "/quant_ref_float.npy", out_q = ::testing::TempDir() + "/quant_ref_int.npy";
  run_reference(path, in, out_f, "", "");
  const NpyArray torch_out = read_npy(dir + "/lenet5_output.npy");
  const NpyArray f = read_npy(out_f);
  EXPECT_EQ(f.shape, torch_out.shape);
  EXPECT_LT(testq::rel_l2(f.data, torch_out.data), 1e-4);
  if (!exists(arch)) GTEST_SKIP() << "configs/isaac.yaml missing";
  run_reference(path, in, out_q, arch, "");
  ir::Graph g = frontend::load_onnx(path);
  frontend::simplify(g);
  const q::QModel m = quant::quantize(g, load_arch_spec(arch).quantization, {});
  const NpyArray x = read_npy(in);
  const std::vector<ir::FloatTensor> want = reference::run_integer(m, {ir::FloatTensor{x.shape, x.data}});
  const NpyArray q = read_npy(out_q);
  EXPECT_EQ(q.shape, torch_out.shape);
  EXPECT_EQ(q.data, want[0].data);
  EXPECT_GT(testq::cosine(q.data, torch_out.data), 0.98);
  EXPECT_THROW(run_reference(path, dir + "/missing.npy", out_f, "", ""), InputError);
}
TEST(QuantModels, ResNet18) { check_model("resnet18", 0.98); }
// Fused ReLU6 (Clip 0..6), depthwise convolutions, residual adds without ReLU.
TEST(QuantModels, MobileNetV2) { check_model("mobilenet_v2", 0.95); }
// Channel concatenation of differently scaled branches.
TEST(QuantModels, SqueezeNet11) { check_model("squeezenet1_1", 0.98); }

}  // namespace
}  // namespace cimsim
