// ONNX's own backend node tests (libonnx-testdata) for every supported operator: load +
// simplify + run_float, compared with the reference outputs stored next to each model.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "compiler/frontend/onnx_loader.h"
#include "compiler/frontend/passes.h"
#include "compiler/reference/float_interpreter.h"
#include "platform/spec/arch.h"
#include "tests/compiler_frontend/test_util.h"

namespace cimsim {
namespace {

namespace fs = std::filesystem;

const char* kNodeDir = "/usr/share/libonnx-testdata/data/node";

// Cases consciously not supported, with the reason (reported in the summary).
const std::map<std::string, std::string>& known_skips() {
  static const std::map<std::string, std::string> skips = {
      {"test_averagepool_3d_default", "3-D pooling unsupported (CNNs here are 2-D)"},
      {"test_maxpool_3d_default", "3-D pooling unsupported (CNNs here are 2-D)"},
      {"test_batchnorm_epsilon_training_mode", "BatchNormalization training_mode=1 unsupported (inference only)"},
      {"test_batchnorm_example_training_mode", "BatchNormalization training_mode=1 unsupported (inference only)"},
      {"test_maxpool_with_argmax_2d_precomputed_pads", "MaxPool Indices output unsupported"},
      {"test_maxpool_with_argmax_2d_precomputed_strides", "MaxPool Indices output unsupported"},
      {"test_identity_opt", "optional-typed values unsupported"},
      {"test_identity_sequence", "sequence-typed values unsupported"},
      {"test_dropout_random_old", "training-mode Dropout is random; inference Dropout is Identity"},
  };
  return skips;
}

const std::vector<std::string>& op_prefixes() {
  static const std::vector<std::string> p = {
      "conv", "gemm", "matmul", "add", "sub", "mul", "div", "relu", "leakyrelu", "clip", "sigmoid", "tanh",
      "maxpool", "averagepool", "globalaveragepool", "batchnorm", "flatten", "reshape", "transpose", "squeeze",
      "unsqueeze", "concat", "softmax", "quantizelinear", "dequantizelinear", "identity", "dropout", "constant",
      "shape", "gather"};
  return p;
}

std::vector<std::string> discover() {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(kNodeDir, ec)) return out;
  for (const auto& e : fs::directory_iterator(kNodeDir, ec)) {
    std::string name = e.path().filename().string();
    for (const std::string& p : op_prefixes()) {
      std::string base = "test_" + p;
      if (name == base || name.rfind(base + "_", 0) == 0) {
        out.push_back(name);
        break;
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct Tally {
  int passed = 0;
  std::map<std::string, std::string> skipped;
};
Tally& tally() {
  static Tally t;
  return t;
}

class SummaryPrinter : public ::testing::Environment {
 public:
  void TearDown() override {
    const Tally& t = tally();
    if (t.passed == 0 && t.skipped.empty()) return;
    std::printf("[onnx node tests] passed %d, skipped %zu\n", t.passed, t.skipped.size());
    for (const auto& [name, why] : t.skipped) std::printf("  skipped %s: %s\n", name.c_str(), why.c_str());
  }
};
const auto* const kSummary = ::testing::AddGlobalTestEnvironment(new SummaryPrinter);

onnx::TensorProto read_tensor(const fs::path& p) {
  onnx::TensorProto t;
  std::ifstream in(p, std::ios::binary);
  EXPECT_TRUE(t.ParseFromIstream(&in)) << p;
  return t;
}

// The model's operator types outside the supported set (empty when all are supported).
std::string unsupported_ops(const fs::path& model_path) {
  onnx::ModelProto m;
  std::ifstream in(model_path, std::ios::binary);
  if (!m.ParseFromIstream(&in)) return "unparsable model";
  std::set<std::string> bad;
  for (const auto& n : m.graph().node())
    if (!ir::op_from_name(n.op_type()) || !n.domain().empty()) bad.insert(n.op_type());
  std::string s;
  for (const auto& b : bad) s += (s.empty() ? "" : ", ") + b;
  return s;
}

class OnnxNodeTest : public ::testing::TestWithParam<std::string> {};

TEST_P(OnnxNodeTest, MatchesReference) {
  const std::string name = GetParam();
  const fs::path dir = fs::path(kNodeDir) / name;
  if (!fs::exists(dir)) GTEST_SKIP() << "libonnx-testdata not installed (" << kNodeDir << ")";
  auto skip = known_skips().find(name);
  if (skip != known_skips().end()) {
    tally().skipped[name] = skip->second;
    GTEST_SKIP() << skip->second;
  }
  std::string bad = unsupported_ops(dir / "model.onnx");
  if (!bad.empty()) {
    tally().skipped[name] = "uses operator(s) outside the supported set: " + bad;
    GTEST_SKIP() << "uses " << bad;
  }
  ir::Graph g = frontend::load_onnx((dir / "model.onnx").string());
  const fs::path data = dir / "test_data_set_0";
  // The node tests feed shape/axes/bounds/scales as runtime inputs; the frontend needs them
  // at compile time (as every exported CNN has them), so they are bound as constants here.
  std::vector<int> runtime_inputs;
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    int v = g.inputs[i];
    fs::path p = data / ("input_" + std::to_string(i) + ".pb");
    ASSERT_TRUE(fs::exists(p)) << p;
    bool parameter = false;
    for (const ir::Node& n : g.nodes)
      for (size_t k = 1; k < n.inputs.size(); ++k)
        if (n.inputs[k] == v &&
            (n.kind == ir::OpKind::kReshape || n.kind == ir::OpKind::kSqueeze || n.kind == ir::OpKind::kUnsqueeze ||
             n.kind == ir::OpKind::kClip || n.kind == ir::OpKind::kQuantizeLinear ||
             n.kind == ir::OpKind::kDequantizeLinear))
          parameter = true;
    if (parameter) {
      ir::Value c = frontend::value_from_tensor(read_tensor(p), data.string(), p.string());
      c.name = g.values[v].name;
      g.values[v] = c;
    } else {
      runtime_inputs.push_back(static_cast<int>(i));
    }
  }
  std::vector<ir::FloatTensor> inputs;
  std::vector<int> kept;
  for (int i : runtime_inputs) {
    fs::path p = data / ("input_" + std::to_string(i) + ".pb");
    inputs.push_back(*frontend::value_from_tensor(read_tensor(p), data.string(), p.string()).data);
    kept.push_back(g.inputs[i]);
  }
  g.inputs = kept;
  frontend::simplify(g);
  // Models whose initializers are also listed as inputs take fewer runtime inputs than
  // files; the extra files hold the initializers' values and are ignored.
  std::vector<ir::FloatTensor> outs = reference::run_float(g, inputs);
  ASSERT_EQ(outs.size(), g.outputs.size());
  for (size_t i = 0; i < outs.size(); ++i) {
    fs::path p = data / ("output_" + std::to_string(i) + ".pb");
    ASSERT_TRUE(fs::exists(p)) << p;
    ir::Value expect = frontend::value_from_tensor(read_tensor(p), data.string(), p.string());
    EXPECT_EQ(outs[i].shape, expect.shape) << "output " << i;
    size_t where = 0;
    EXPECT_TRUE(testutil::all_close(outs[i].data, expect.data->data, 1e-4, 1e-5, &where))
        << "output " << i << " first mismatch at " << where << ": got "
        << (where < outs[i].data.size() ? outs[i].data[where] : NAN) << " expected "
        << (where < expect.data->data.size() ? expect.data->data[where] : NAN);
  }
  if (!HasFailure()) ++tally().passed;
}

std::vector<std::string> cases() {
  std::vector<std::string> c = discover();
  if (c.empty()) c.push_back("absent");
  return c;
}

INSTANTIATE_TEST_SUITE_P(Backend, OnnxNodeTest, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

// Guards the discovery itself: with the package installed, every supported op has cases.
TEST(OnnxNodeDiscovery, EveryOpHasCases) {
  std::vector<std::string> found = discover();
  if (found.empty()) GTEST_SKIP() << "libonnx-testdata not installed (" << kNodeDir << ")";
  for (const std::string& p : op_prefixes()) {
    bool any = std::any_of(found.begin(), found.end(),
                           [&](const std::string& n) { return n == "test_" + p || n.rfind("test_" + p + "_", 0) == 0; });
    EXPECT_TRUE(any) << p;
  }
}

}  // namespace
}  // namespace cimsim
