// Driver tests: a tiny ONNX model built here goes through the whole compiler; the program
// directory is checked for content, determinism and atomicity, and the compiled streams are
// executed and compared with the integer reference interpreter.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "compiler/backend/backend.h"
#include "compiler/backend/driver.h"
#include "compiler/backend/program_check.h"
#include "compiler/frontend/onnx_loader.h"
#include "compiler/frontend/passes.h"
#include "compiler/quant/quantizer.h"
#include "compiler/reference/integer_interpreter.h"
#include "isa_exec.h"
#include "platform/spec/npy.h"
#include "platform/spec/program_io.h"
#include "qmodel_util.h"

namespace cimsim {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

void add_init(onnx::GraphProto* g, const std::string& name, const std::vector<int64_t>& dims,
              std::mt19937& rng, float scale) {
  onnx::TensorProto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  int64_t n = 1;
  for (int64_t d : dims) {
    t->add_dims(d);
    n *= d;
  }
  std::normal_distribution<float> nd(0.0f, scale);
  for (int64_t i = 0; i < n; ++i) t->add_float_data(nd(rng));
}

void set_io(onnx::ValueInfoProto* v, const std::string& name, const std::vector<int64_t>& dims) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
}

onnx::NodeProto* node(onnx::GraphProto* g, const std::string& op, const std::string& name,
                      std::vector<std::string> in, std::vector<std::string> out) {
  onnx::NodeProto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (auto& s : in) n->add_input(s);
  for (auto& s : out) n->add_output(s);
  return n;
}

void ints_attr(onnx::NodeProto* n, const std::string& name, std::vector<int64_t> v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

// x[1,3,8,8] -> Conv3x3(8, pad 1) -> Relu -> MaxPool2x2/2 -> Flatten -> Gemm(10) -> y[1,10]
std::string write_tiny_onnx(const fs::path& dir) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(13);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name("tiny_cnn");
  std::mt19937 rng(5);
  add_init(g, "w1", {8, 3, 3, 3}, rng, 0.3f);
  add_init(g, "b1", {8}, rng, 0.1f);
  add_init(g, "w2", {10, 128}, rng, 0.1f);
  add_init(g, "b2", {10}, rng, 0.1f);
  set_io(g->add_input(), "x", {1, 3, 8, 8});
  set_io(g->add_output(), "y", {1, 10});
  auto* conv = node(g, "Conv", "conv1", {"x", "w1", "b1"}, {"c1"});
  ints_attr(conv, "pads", {1, 1, 1, 1});
  ints_attr(conv, "kernel_shape", {3, 3});
  node(g, "Relu", "relu1", {"c1"}, {"r1"});
  auto* pool = node(g, "MaxPool", "pool1", {"r1"}, {"p1"});
  ints_attr(pool, "kernel_shape", {2, 2});
  ints_attr(pool, "strides", {2, 2});
  node(g, "Flatten", "flat", {"p1"}, {"f1"});
  auto* gemm = node(g, "Gemm", "fc", {"f1", "w2", "b2"}, {"y"});
  auto* tb = gemm->add_attribute();
  tb->set_name("transB");
  tb->set_type(onnx::AttributeProto::INT);
  tb->set_i(1);
  fs::create_directories(dir);
  const std::string path = (dir / "tiny.onnx").string();
  std::ofstream f(path, std::ios::binary);
  m.SerializeToOstream(&f);
  return path;
}

// x[1,3,8,8] -> Conv3x3(8) -> Relu -> MaxPool -> Flatten -> Gemm(64) -> Relu -> Gemm(10): on
// tiny.yaml (4 cores of 8 crossbars, 8 weight columns each) the first Gemm's 4 x 8 tiles
// need 4 cores and the model 7, so that Gemm is time-multiplexed on the one core left.
std::string write_fc_onnx(const fs::path& dir) {
  const std::string path = write_tiny_onnx(dir);
  onnx::ModelProto m;
  {
    std::ifstream f(path, std::ios::binary);
    m.ParseFromIstream(&f);
  }
  onnx::GraphProto* g = m.mutable_graph();
  std::mt19937 rng(9);
  for (auto& init : *g->mutable_initializer()) {
    if (init.name() != "w2" && init.name() != "b2") continue;
    const bool w = init.name() == "w2";
    init.clear_dims();
    init.clear_float_data();
    init.add_dims(64);
    if (w) init.add_dims(128);
    std::uniform_real_distribution<float> u(-0.1f, 0.1f);
    for (int i = 0; i < (w ? 64 * 128 : 64); ++i) init.add_float_data(u(rng));
  }
  add_init(g, "w3", {10, 64}, rng, 0.2f);
  add_init(g, "b3", {10}, rng, 0.1f);
  for (auto& n : *g->mutable_node()) {
    if (n.name() == "fc") n.set_output(0, "h");
  }
  node(g, "Relu", "relu2", {"h"}, {"h2"});
  auto* gemm = node(g, "Gemm", "fc2", {"h2", "w3", "b3"}, {"y"});
  auto* tb = gemm->add_attribute();
  tb->set_name("transB");
  tb->set_type(onnx::AttributeProto::INT);
  tb->set_i(1);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  m.SerializeToOstream(&f);
  return path;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class DriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(CIMSIM_BINARY_DIR) / "backend_driver_test" /
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
    fs::create_directories(root_);
    model_ = write_tiny_onnx(root_);
    arch_ = std::string(CIMSIM_SOURCE_DIR) + "/configs/tiny.yaml";
  }
  CompileOptions opts(const std::string& out) {
    CompileOptions o;
    o.model_path = model_;
    o.arch_path = arch_;
    o.out_dir = (root_ / out).string();
    return o;
  }
  fs::path root_;
  std::string model_, arch_;
};

TEST_F(DriverTest, WritesProgramDirectory) {
  std::ostringstream log;
  compile(opts("out"), log);
  const fs::path d = root_ / "out";
  for (const char* f : {"cim-ir.yaml", "schedule.yaml", "program.bin", "weights.bin", "arch.yaml",
                        "compile.json", "cores/core_000.s"}) {
    EXPECT_TRUE(fs::exists(d / f)) << f;
  }
  EXPECT_EQ(slurp(d / "arch.yaml"), slurp(arch_));
  EXPECT_FALSE(fs::exists(root_ / "out.cimsim-tmp"));
  const nlohmann::json j = nlohmann::json::parse(slurp(d / "compile.json"));
  EXPECT_FALSE(j.contains("wall_s")) << "a wall time makes the program directory irreproducible";
  EXPECT_EQ(j["crossbars_available"], 32);
  // conv1: K=27 -> 1 tile; FC on 8x4x4: K=128 = 4 row tiles x 2 col tiles (8 cols each).
  EXPECT_EQ(j["crossbars_used"], 1 + 8);
  EXPECT_THAT(log.str(), HasSubstr("compiled"));
  const Program p = read_program_dir(d.string());
  const ArchSpec a = load_arch_spec(arch_);
  const backend::CheckResult r = backend::check_program(p, 2, a.core.buffer_bytes, a.memory.capacity_bytes);
  EXPECT_TRUE(r.ok()) << (r.problems.empty() ? "" : r.problems.front());
  EXPECT_THAT(slurp(d / "cim-ir.yaml"), HasSubstr("alias_of"));
}

TEST_F(DriverTest, ByteIdenticalAcrossRuns) {
  std::ostringstream log;
  compile(opts("a"), log);
  compile(opts("b"), log);
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(root_ / "a")) {
    if (e.is_regular_file()) files.push_back(fs::relative(e.path(), root_ / "a").string());
  }
  std::sort(files.begin(), files.end());
  EXPECT_GE(files.size(), 9u);
  for (const std::string& f : files) {
    EXPECT_TRUE(slurp(root_ / "a" / f) == slurp(root_ / "b" / f)) << f;
  }
  EXPECT_THAT(log.str(), HasSubstr(" s)")) << "the wall time is reported on the log";
}

TEST_F(DriverTest, ErrorLeavesNothingAndKeepsExistingDirectory) {
  std::ostringstream log;
  compile(opts("out"), log);
  const std::string before = slurp(root_ / "out" / "program.bin");
  // 1 core cannot hold the three layers.
  std::string yaml = slurp(arch_);
  const std::string from = "cores: 4", from2 = "mesh_rows: 2";
  yaml.replace(yaml.find(from), from.size(), "cores: 2");
  yaml.replace(yaml.find(from2), from2.size(), "mesh_rows: 1");
  const fs::path small = root_ / "small.yaml";
  std::ofstream(small) << yaml;
  CompileOptions o = opts("out");
  o.arch_path = small.string();
  try {
    compile(o, log);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("model needs 3 cores"));
  }
  EXPECT_EQ(slurp(root_ / "out" / "program.bin"), before);
  EXPECT_FALSE(fs::exists(root_ / "out.cimsim-tmp"));
  o.out_dir = (root_ / "fresh").string();
  EXPECT_THROW(compile(o, log), InputError);
  EXPECT_FALSE(fs::exists(root_ / "fresh"));
}

// CompileOptions::tuned_adc: the tuned per-tile ADC settings reach program.bin, cores/*.s and
// cim-ir.yaml (only tiles with a non-zero value list them); nothing else changes; a program of
// another shape is refused before anything is written.
TEST_F(DriverTest, TunedAdcSettingsReachEveryProgramFile) {
  std::ostringstream log;
  compile(opts("plain"), log);
  Program tuned = read_program_dir((root_ / "plain").string());
  ASSERT_FALSE(tuned.cores.empty());
  int set = 0;
  size_t first = tuned.cores.size();  // the first core with tiles
  for (size_t c = 0; c < tuned.cores.size(); ++c)
    for (TileDesc& t : tuned.cores[c].tiles) {
      first = std::min(first, c);
      t.adc_full_scale = 40.5f;
      t.adc_offset_lsb = set++ % 2 ? -0.25f : 0.0f;
    }
  ASSERT_GT(set, 1);
  CompileOptions o = opts("tuned");
  o.tuned_adc = &tuned;
  compile(o, log);
  const fs::path d = root_ / "tuned";
  EXPECT_EQ(read_program_dir(d.string()), tuned);
  const std::string ir = slurp(d / "cim-ir.yaml"), plain_ir = slurp(root_ / "plain" / "cim-ir.yaml");
  auto count = [&ir](const std::string& what) {
    size_t n = 0;
    for (size_t at = ir.find(what); at != std::string::npos; at = ir.find(what, at + 1)) ++n;
    return n;
  };
  const size_t fs_n = count(", adc_full_scale: 40.5"), off_n = count(", adc_offset_lsb: -0.25}");
  EXPECT_EQ(fs_n, static_cast<size_t>(set)) << ir;
  EXPECT_EQ(off_n, static_cast<size_t>(set / 2)) << ir;
  EXPECT_THAT(plain_ir, ::testing::Not(HasSubstr("adc_")));
  char core_file[32];
  std::snprintf(core_file, sizeof core_file, "cores/core_%03zu.s", first);
  EXPECT_THAT(slurp(d / core_file), HasSubstr("fullscale=40.5 offset=0"));
  for (const char* f : {"schedule.yaml", "compile.json", "arch.yaml"})
    EXPECT_EQ(slurp(d / f), slurp(root_ / "plain" / f)) << f;
  Program other = tuned;
  other.cores[first].tiles[0].rows += 1;
  o.out_dir = (root_ / "other").string();
  o.tuned_adc = &other;
  EXPECT_THROW(compile(o, log), std::logic_error);
  EXPECT_FALSE(fs::exists(root_ / "other"));
}

TEST_F(DriverTest, CalibrationFileChangesScales) {
  NpyArray cal;
  cal.shape = {2, 3, 8, 8};
  for (int i = 0; i < 2 * 3 * 64; ++i) cal.data.push_back(0.01f * float(i % 17));  // small range
  const std::string path = (root_ / "cal.npy").string();
  write_npy(path, cal);
  std::ostringstream log;
  compile(opts("default"), log);
  CompileOptions o = opts("calibrated");
  o.calibration_path = path;
  compile(o, log);
  EXPECT_NE(slurp(root_ / "default" / "cim-ir.yaml"), slurp(root_ / "calibrated" / "cim-ir.yaml"));
  cal.shape = {2, 5};
  cal.data.resize(10);
  write_npy(path, cal);
  o.out_dir = (root_ / "bad").string();
  EXPECT_THROW(compile(o, log), InputError);
  EXPECT_FALSE(fs::exists(root_ / "bad"));
}

TEST_F(DriverTest, CompiledStreamsMatchIntegerReference) {
  const ArchSpec a = load_arch_spec(arch_);
  ir::Graph g = frontend::load_onnx(model_);
  frontend::simplify(g);
  const q::QModel qm = quant::quantize(g, a.quantization, {});
  const backend::CompiledModel cm = backend::compile_qmodel(qm, a, {});
  std::mt19937 rng(11);
  const int batch = 2;
  std::vector<uint8_t> global;
  std::vector<std::vector<int32_t>> inputs;
  for (int n = 0; n < batch; ++n) {
    inputs.push_back(testing::random_codes(qm.tensors[static_cast<size_t>(qm.inputs[0])], rng));
    testing::put_input(global, cm.program.inputs[0], n, inputs.back());
  }
  const testing::ExecResult r = testing::execute(cm.program, a.core.buffer_bytes, global, batch);
  ASSERT_TRUE(r.ok) << r.error;
  for (int n = 0; n < batch; ++n) {
    const auto ref = reference::run_integer_codes(qm, inputs[static_cast<size_t>(n)]);
    const auto& want = ref[static_cast<size_t>(qm.outputs[0])];
    ASSERT_FALSE(want.empty());
    EXPECT_EQ(testing::get_output(r.global, cm.program.outputs[0], n), want) << "image " << n;
  }
}

TEST_F(DriverTest, ReloadedFcFromOnnxMatchesIntegerReference) {
  model_ = write_fc_onnx(root_);
  CompileOptions o = opts("prog");
  std::ostringstream log;
  compile(o, log);
  const fs::path d = root_ / "prog";
  const auto j = nlohmann::json::parse(slurp(d / "compile.json"));
  EXPECT_EQ(j["reload_bytes_per_image"], 128 * 64);
  bool found = false;
  for (const auto& L : j["layers"]) {
    if (L["name"] == "fc") {
      found = true;
      EXPECT_EQ(L["reload_passes"], 4);  // 32 tiles on one core of 8 crossbars
      EXPECT_EQ(L["cores"].size(), 1u);
    }
  }
  EXPECT_TRUE(found);
  EXPECT_THAT(slurp(d / "cim-ir.yaml"), ::testing::HasSubstr("reload: {passes: 4, bytes_per_image: 8192}"));
  // What the simulator would load: program.bin + weights.bin.
  const Program p = read_program_dir(d.string());
  int reloadable = 0;
  for (const CoreProgram& c : p.cores)
    for (const TileDesc& t : c.tiles) reloadable += t.weight_global_addr >= 0;
  EXPECT_EQ(reloadable, 32);
  const ArchSpec a = load_arch_spec(arch_);
  EXPECT_TRUE(backend::check_program(p, 2, a.core.buffer_bytes, a.memory.capacity_bytes).ok());
  ir::Graph g = frontend::load_onnx(model_);
  frontend::simplify(g);
  const q::QModel qm = quant::quantize(g, a.quantization, {});
  std::mt19937 rng(12);
  const int batch = 2;
  std::vector<uint8_t> global;
  std::vector<std::vector<int32_t>> inputs;
  for (int n = 0; n < batch; ++n) {
    inputs.push_back(testing::random_codes(qm.tensors[static_cast<size_t>(qm.inputs[0])], rng));
    testing::put_input(global, p.inputs[0], n, inputs.back());
  }
  const testing::ExecResult r = testing::execute(p, a.core.buffer_bytes, global, batch);
  ASSERT_TRUE(r.ok) << r.error;
  for (int n = 0; n < batch; ++n) {
    const auto ref = reference::run_integer_codes(qm, inputs[static_cast<size_t>(n)]);
    EXPECT_EQ(testing::get_output(r.global, p.outputs[0], n), ref[static_cast<size_t>(qm.outputs[0])])
        << "image " << n;
  }
}

}  // namespace
}  // namespace cimsim
