// Whole networks exported by torch (tests/data/gen_models.py): run_float against torch's own
// output. Skips cleanly when python3 with torch/torchvision/onnx is not available.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "compiler/frontend/onnx_loader.h"
#include "compiler/frontend/passes.h"
#include "compiler/reference/float_interpreter.h"
#include "platform/spec/npy.h"
#include "tests/compiler_frontend/test_util.h"

namespace cimsim {
namespace {

namespace fs = std::filesystem;

const fs::path kModelDir = fs::path(CIMSIM_BINARY_DIR) / "test_models";

// A python3 that can import torch, torchvision and onnx, or "".
std::string python() {
  for (const char* py : {"/usr/bin/python3", "python3"}) {
    std::string cmd = std::string(py) + " -c 'import torch, torchvision, onnx' >/dev/null 2>&1";
    if (std::system(cmd.c_str()) == 0) return py;
  }
  return "";
}

// Generates NAME into kModelDir unless present. Files are produced in a private folder and
// renamed into place (output last), so concurrent test processes never read partial files.
// The heavier networks are generated only with CIMSIM_GEN_ALL_MODELS=1 (else used if present).
bool ensure_model(const std::string& name, std::string* why) {
  if (fs::exists(kModelDir / (name + "_output.npy"))) return true;
  const bool small = name == "lenet5" || name == "resnet18" || name == "resnet18_bn";
  const char* all = std::getenv("CIMSIM_GEN_ALL_MODELS");
  if (!small && !(all && std::string(all) == "1")) {
    *why = name + " not generated (set CIMSIM_GEN_ALL_MODELS=1 or run tests/data/gen_models.py " +
           kModelDir.string() + " --models " + name + ")";
    return false;
  }
  std::string py = python();
  if (py.empty()) {
    *why = "python3 with torch, torchvision and onnx not available";
    return false;
  }
  fs::path tmp = kModelDir / ("tmp_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  std::string cmd = py + " " + CIMSIM_SOURCE_DIR + "/tests/data/gen_models.py " + tmp.string() + " --models " +
                    name + " >" + (tmp / "log.txt").string() + " 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    *why = "gen_models.py failed; see " + (tmp / "log.txt").string();
    return false;
  }
  for (const char* suffix : {".onnx", "_input.npy", "_output.npy"})
    fs::rename(tmp / (name + suffix), kModelDir / (name + suffix));
  fs::remove_all(tmp);
  return true;
}

struct Result {
  ir::Graph graph;
  ir::FloatTensor output;
  NpyArray expected;
  double seconds = 0.0;
};

Result run_model(const std::string& name) {
  Result r;
  r.graph = frontend::load_onnx((kModelDir / (name + ".onnx")).string());
  frontend::simplify(r.graph);
  NpyArray x = read_npy((kModelDir / (name + "_input.npy")).string());
  r.expected = read_npy((kModelDir / (name + "_output.npy")).string());
  ir::FloatTensor in{x.shape, x.data};
  reference::run_float(r.graph, {in});  // warm-up (page faults of the weights)
  auto t0 = std::chrono::steady_clock::now();
  r.output = reference::run_float(r.graph, {in}).at(0);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

class TorchModel : public ::testing::TestWithParam<std::string> {};

TEST_P(TorchModel, MatchesTorch) {
  const std::string name = GetParam();
  std::string why;
  if (!ensure_model(name, &why)) GTEST_SKIP() << why;
  Result r = run_model(name);
  EXPECT_EQ(r.output.shape, r.expected.shape);
  double err = testutil::rel_l2(r.output.data, r.expected.data);
  EXPECT_LT(err, 1e-4) << name;
  std::printf("[timing] %s run_float batch 1: %.3f s (relative L2 error vs torch %.2e)\n", name.c_str(),
              r.seconds, err);
  for (const ir::Node& n : r.graph.nodes) {
    EXPECT_NE(n.kind, ir::OpKind::kBatchNormalization) << "BatchNormalization after a Conv should be folded";
    EXPECT_NE(n.kind, ir::OpKind::kIdentity);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, TorchModel, ::testing::Values("lenet5", "resnet18", "resnet18_bn", "mobilenet_v2",
                                                            "squeezenet1_1", "alexnet", "vgg16"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(TorchModelBatch, LeNetBatchOfThreeEqualsThreeSingleRuns) {
  std::string why;
  if (!ensure_model("lenet5", &why)) GTEST_SKIP() << why;
  ir::Graph g = frontend::load_onnx((kModelDir / "lenet5.onnx").string());
  frontend::simplify(g);
  const size_t per = 28 * 28;
  ir::FloatTensor batch{{3, 1, 28, 28}, testutil::rand_vec(3 * per, 7)};
  ir::FloatTensor out = reference::run_float(g, {batch}).at(0);
  ASSERT_EQ(out.shape, (std::vector<int64_t>{3, 10}));
  for (size_t s = 0; s < 3; ++s) {
    ir::FloatTensor one{{1, 1, 28, 28}, std::vector<float>(batch.data.begin() + s * per, batch.data.begin() + (s + 1) * per)};
    ir::FloatTensor y = reference::run_float(g, {one}).at(0);
    for (size_t i = 0; i < 10; ++i) EXPECT_FLOAT_EQ(out.data[s * 10 + i], y.data[i]);
  }
}

}  // namespace
}  // namespace cimsim
