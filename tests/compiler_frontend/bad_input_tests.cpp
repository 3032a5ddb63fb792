// Bad models: each must raise InputError naming the file and the node/tensor at fault.
#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <filesystem>
#include <fstream>

#include "compiler/frontend/onnx_loader.h"
#include "compiler/frontend/passes.h"
#include "platform/spec/arch.h"
#include "tests/compiler_frontend/test_util.h"

namespace cimsim {
namespace {

namespace fs = std::filesystem;
using testutil::ModelBuilder;
using ::testing::HasSubstr;

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::path(CIMSIM_BINARY_DIR) / "frontend_bad_inputs" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string save(ModelBuilder& b, const fs::path& path) {
  std::ofstream out(path, std::ios::binary);
  b.model().SerializeToOstream(&out);
  return path.string();
}

// Message of the InputError thrown by load + simplify, or "" when nothing is thrown.
std::string load_error(const std::string& path) {
  try {
    ir::Graph g = frontend::load_onnx(path);
    frontend::simplify(g);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

ModelBuilder relu_model() {
  ModelBuilder b;
  b.input("x", {1, 4});
  b.node("Relu", {"x"}, {"y"}, "r");
  b.output("y");
  return b;
}

TEST(FrontendBadInput, UnsupportedOperatorNamesNodeAndListsSupported) {
  ModelBuilder b = relu_model();
  b.node("Erf", {"y"}, {"z"}, "my_erf");
  fs::path p = temp_dir("unsupported") / "m.onnx";
  std::string msg = load_error(save(b, p));
  EXPECT_THAT(msg, HasSubstr(p.string() + ": node 'my_erf' (Erf): unsupported operator; supported: "));
  EXPECT_THAT(msg, HasSubstr("Conv"));
}

TEST(FrontendBadInput, TruncatedFile) {
  ModelBuilder b = relu_model();
  b.init("big", {64}, std::vector<float>(64, 1.0f));
  std::string bytes = b.model().SerializeAsString();
  fs::path p = temp_dir("truncated") / "m.onnx";
  std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() - 37));
  EXPECT_EQ(load_error(p.string()), p.string() + ": not a valid ONNX model (truncated or malformed protobuf)");
}

TEST(FrontendBadInput, MissingFile) {
  EXPECT_THAT(load_error("/nonexistent/dir/m.onnx"), HasSubstr("/nonexistent/dir/m.onnx: cannot open"));
}

void add_external(ModelBuilder& b, const std::string& location) {
  auto* t = b.graph().add_initializer();
  t->set_name("w_ext");
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_dims(4);
  t->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* kv = t->add_external_data();
  kv->set_key("location");
  kv->set_value(location);
  b.node("Add", {"y", "w_ext"}, {"z"});
  b.graph().mutable_output(0)->set_name("z");
}

TEST(FrontendBadInput, ExternalDataOutsideFolder) {
  fs::path d = temp_dir("external_up");
  std::ofstream(d.parent_path() / "w.bin", std::ios::binary).write(std::string(16, '\0').data(), 16);
  ModelBuilder b = relu_model();
  add_external(b, "../w.bin");
  std::string msg = load_error(save(b, d / "m.onnx"));
  EXPECT_THAT(msg, HasSubstr("tensor 'w_ext': external data location '../w.bin' leaves the model's folder"));
}

TEST(FrontendBadInput, ExternalDataAbsolutePath) {
  fs::path d = temp_dir("external_abs");
  ModelBuilder b = relu_model();
  add_external(b, "/etc/passwd");
  std::string msg = load_error(save(b, d / "m.onnx"));
  EXPECT_THAT(msg, HasSubstr("tensor 'w_ext': external data location '/etc/passwd' is an absolute path"));
}

TEST(FrontendBadInput, ExternalDataInsideFolderLoads) {
  fs::path d = temp_dir("external_ok");
  std::vector<float> w = {1.0f, -2.0f, 3.0f, 0.5f};
  std::ofstream(d / "w.bin", std::ios::binary)
      .write(reinterpret_cast<const char*>(w.data()), static_cast<std::streamsize>(w.size() * 4));
  ModelBuilder b = relu_model();
  add_external(b, "w.bin");
  ir::Graph g = frontend::load_onnx(save(b, d / "m.onnx"));
  EXPECT_EQ(g.values[g.find_value("w_ext")].data->data, w);
  // Shorter than the shape needs: a size error naming the tensor.
  std::ofstream(d / "w.bin", std::ios::binary).write(reinterpret_cast<const char*>(w.data()), 12);
  EXPECT_THAT(load_error((d / "m.onnx").string()), HasSubstr("tensor 'w_ext': shape [4] needs 4 elements"));
}

TEST(FrontendBadInput, InitializerSizeMismatch) {
  ModelBuilder b = relu_model();
  b.init("w", {2, 3}, {1, 2, 3, 4, 5});
  b.node("Add", {"y", "w"}, {"z"});
  fs::path p = temp_dir("size") / "m.onnx";
  EXPECT_THAT(load_error(save(b, p)),
              HasSubstr(p.string() + ": tensor 'w': shape [2, 3] needs 6 elements of float32 but the data holds 5"));
}

TEST(FrontendBadInput, Cycle) {
  ModelBuilder b;
  b.input("x", {1, 4});
  b.node("Add", {"x", "b"}, {"a"}, "first");
  b.node("Relu", {"a"}, {"b"}, "second");
  b.output("b");
  fs::path p = temp_dir("cycle") / "m.onnx";
  EXPECT_THAT(load_error(save(b, p)), HasSubstr("the graph has a cycle through this node"));
}

TEST(FrontendBadInput, UnknownInputName) {
  ModelBuilder b = relu_model();
  b.node("Add", {"y", "nowhere"}, {"z"}, "adder");
  fs::path p = temp_dir("unknown") / "m.onnx";
  EXPECT_THAT(load_error(save(b, p)),
              HasSubstr("node 'adder' (Add): input 'nowhere' is not a graph input, an initializer or any node's output"));
}

TEST(FrontendBadInput, UnsupportedDtype) {
  ModelBuilder b = relu_model();
  auto* t = b.graph().add_initializer();
  t->set_name("s");
  t->set_data_type(onnx::TensorProto::STRING);
  t->add_string_data("hello");
  fs::path p = temp_dir("dtype") / "m.onnx";
  EXPECT_THAT(load_error(save(b, p)), HasSubstr("tensor 's': unsupported data type STRING"));
}

TEST(FrontendBadInput, ShapeErrorsNameTheNode) {
  ModelBuilder b;
  b.input("x", {1, 3, 8, 8});
  b.init("w", {4, 2, 3, 3}, std::vector<float>(72, 0.0f));
  b.node("Conv", {"x", "w"}, {"y"}, "bad_conv");
  b.output("y");
  fs::path p = temp_dir("shape") / "m.onnx";
  EXPECT_THAT(load_error(save(b, p)), HasSubstr("node 'bad_conv' (Conv): input channels 3, weight [4, 2, 3, 3]"));
}

TEST(FrontendBadInput, NonConstantReshapeTarget) {
  ModelBuilder b;
  b.input("x", {1, 4});
  b.input("s", {2}, onnx::TensorProto::INT64);
  b.node("Reshape", {"x", "s"}, {"y"}, "rs");
  b.output("y");
  fs::path p = temp_dir("reshape") / "m.onnx";
  EXPECT_THAT(load_error(save(b, p)), HasSubstr("node 'rs' (Reshape): shape input 's' must be constant"));
}

// Many folds of a small stored constant: each product passes the element caps, but together
// they are 17 x 512^3 = 2.28e9 multiply-adds (about 10 s of the reference kernel) from a
// 1 MB model; the work budget rejects them before any is computed past it.
TEST(FrontendBadInput, ConstantFoldingWorkIsBounded) {
  ModelBuilder b;
  b.input("x", {1, 512});
  b.init("a", {512, 512}, std::vector<float>(512 * 512, 0.5f));
  std::string prev = "x";
  for (int i = 0; i < 17; ++i) {
    const std::string c = "c" + std::to_string(i), y = "y" + std::to_string(i);
    b.node("MatMul", {"a", "a"}, {c}, "fold" + std::to_string(i));
    b.node("Add", {prev, c}, {y}, "add" + std::to_string(i));
    prev = y;
  }
  b.output(prev);
  fs::path p = temp_dir("fold_work") / "m.onnx";
  const std::string msg = load_error(save(b, p));
  EXPECT_THAT(msg, HasSubstr(p.string() + ": node 'fold16' (MatMul): constant folding would take"));
  EXPECT_THAT(msg, HasSubstr("multiply-adds in all, more than 2147483648"));
}

}  // namespace
}  // namespace cimsim
