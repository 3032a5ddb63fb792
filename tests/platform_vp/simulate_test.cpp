// End-to-end runs of hand-built programs through simulate(): files in, files out.
#include "platform/vp/simulate.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "platform/spec/npy.h"
#include "platform/spec/program_io.h"
#include "tests/traces/pftrace_reader.h"

namespace cimsim {
namespace {

namespace fs = std::filesystem;

const std::string kTinyArch = std::string(CIMSIM_SOURCE_DIR) + "/configs/tiny.yaml";

Instruction ins(Op op) {
  Instruction i;
  i.op = op;
  return i;
}
Instruction li(uint8_t rd, int32_t v) {
  Instruction i = ins(Op::kLi);
  i.rd = rd;
  i.imm[0] = v;
  return i;
}
Instruction addi(uint8_t rd, uint8_t rs, int32_t v) {
  Instruction i = ins(Op::kAddi);
  i.rd = rd;
  i.rs = rs;
  i.imm[0] = v;
  return i;
}
Instruction blt(uint8_t rs, uint8_t rt, int32_t target) {
  Instruction i = ins(Op::kBlt);
  i.rs = rs;
  i.rt = rt;
  i.imm[0] = target;
  return i;
}
Instruction load(Addr local, Addr global, int32_t len) {
  Instruction i = ins(Op::kLoad);
  i.addr[0] = local;
  i.addr[2] = global;
  i.imm[0] = len;
  return i;
}
Instruction store(Addr global, Addr local, int32_t len) {
  Instruction i = ins(Op::kStore);
  i.addr[2] = global;
  i.addr[1] = local;
  i.imm[0] = len;
  return i;
}
Instruction lut(Addr d, Addr s, int32_t len, int32_t lid) {
  Instruction i = ins(Op::kLut);
  i.addr[0] = d;
  i.addr[1] = s;
  i.imm[0] = len;
  i.imm[1] = lid;
  return i;
}
Instruction recv(Addr d, int32_t len, int32_t core, int32_t tag) {
  Instruction i = ins(Op::kRecv);
  i.addr[0] = d;
  i.imm[0] = len;
  i.imm[1] = core;
  i.imm[2] = tag;
  return i;
}
Instruction mvm(int32_t tile, Addr d, Addr s) {
  Instruction i = ins(Op::kMvm);
  i.imm[0] = tile;
  i.addr[0] = d;
  i.addr[1] = s;
  return i;
}
Instruction requant(Addr d, Addr s, int32_t len, int32_t qid) {
  Instruction i = ins(Op::kRequant);
  i.addr[0] = d;
  i.addr[1] = s;
  i.imm[0] = len;
  i.imm[1] = qid;
  return i;
}
Addr at(uint8_t base, int32_t imm) { return Addr{base, imm}; }

TensorIO tensor(const std::string& name, std::vector<int64_t> shape, float scale, bool is_unsigned,
                int64_t addr) {
  TensorIO t;
  t.name = name;
  t.shape = std::move(shape);
  t.scale = scale;
  t.is_unsigned = is_unsigned;
  t.global_addr = addr;
  t.bytes_per_image = 1;
  for (int64_t d : t.shape) t.bytes_per_image *= d;
  return t;
}

class Simulate : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / (std::string("cimsim_vp_") + info->name() + "_" +
                                        std::to_string(static_cast<long>(::getpid())));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "prog");
    fs::copy_file(kTinyArch, dir_ / "prog" / "arch.yaml");
    arch_ = load_arch_spec(kTinyArch);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Program empty_program() {
    Program p;
    p.arch_fingerprint = arch_fingerprint(arch_);
    p.model_name = "hand";
    p.layers = {"first", "second"};
    p.cores.resize(static_cast<size_t>(arch_.chip.cores));
    for (auto& c : p.cores) c.code = {ins(Op::kHalt)};
    return p;
  }
  void write(const Program& p) { write_program_files(p, (dir_ / "prog").string()); }
  std::string put_input(const NpyArray& x) {
    std::string path = (dir_ / "x.npy").string();
    write_npy(path, x);
    return path;
  }
  SimulateOptions options(const std::string& input) {
    SimulateOptions o;
    o.program_dir = (dir_ / "prog").string();
    o.input_path = input;
    o.quiet = true;
    return o;
  }

  fs::path dir_;
  ArchSpec arch_;
};

// Batch of two 2x2x3 images: load, LUT (255 - code), store; loops on r15 = batch.
Program lut_program(Program p) {
  p.inputs = {tensor("x", {2, 2, 3}, 0.5f, true, 0)};
  p.outputs = {tensor("y", {2, 2, 3}, 0.25f, true, 4096)};
  CoreProgram& c = p.cores[0];
  LutDesc table;
  table.in_unsigned = true;
  for (int i = 0; i < 256; ++i) table.table.push_back(255 - i);
  c.luts = {table};
  c.code = {li(2, 0),
            li(3, 0),
            load(at(0, 0), at(3, 0), 12),
            lut(at(0, 64), at(0, 0), 12, 0),
            store(at(3, 4096), at(0, 64), 12),
            addi(3, 3, 12),
            addi(2, 2, 1),
            blt(2, 15, 2),
            ins(Op::kHalt)};
  for (auto& in : c.code)
    if (in.op == Op::kLut) in.layer = 1;
  return p;
}

NpyArray lut_input() {
  NpyArray x;
  x.shape = {2, 2, 2, 3};
  for (int i = 0; i < 24; ++i) x.data.push_back(static_cast<float>(i) * 3.7f - 10.0f);
  return x;
}

TEST_F(Simulate, LutProgramMatchesHandComputedOutput) {
  write(lut_program(empty_program()));
  NpyArray x = lut_input();
  SimulateOptions o = options(put_input(x));
  o.output_path = (dir_ / "y.npy").string();
  o.report_path = (dir_ / "report.json").string();
  o.trace_dir = (dir_ / "traces").string();
  std::ostringstream out, err;
  SimulateResult r = simulate(o, out, err);
  ASSERT_TRUE(r.finished);
  NpyArray y = read_npy(o.output_path);
  ASSERT_EQ(y.shape, (std::vector<int64_t>{2, 2, 2, 3}));
  // Element-wise (HWC layout does not matter for an element-wise op once converted back).
  for (size_t i = 0; i < x.data.size(); ++i) {
    double q = std::round(x.data[i] / 0.5);  // no .5 ties in this data set
    q = std::min(255.0, std::max(0.0, q));
    EXPECT_FLOAT_EQ(y.data[i], static_cast<float>((255 - q) * 0.25)) << i;
  }
  // The report on disk is the returned one, with its breakdowns adding up.
  std::ifstream rf(o.report_path);
  nlohmann::json report = nlohmann::json::parse(rf);
  EXPECT_EQ(report["batch"], 2);
  EXPECT_GT(report["latency_ns"].get<double>(), 0.0);
  EXPECT_EQ(report["instructions_executed"].get<uint64_t>(), 2u + 2 * 6 + 1 + 4 - 1);  // 4 halts, 3 idle
  double total = report["energy_pj"]["total"].get<double>(), layers = 0;
  for (const auto& kv : report["energy_pj"]["by_layer"].items()) layers += kv.value().get<double>();
  EXPECT_NEAR(layers, total, 1e-9 * total);
  EXPECT_GT(report["energy_pj"]["by_layer"]["second"].get<double>(), 0.0);  // the LUT's layer
  EXPECT_NE(out.str().find("latency"), std::string::npos);

  // Traces: timeline.pftrace (the default) decodes cleanly; energy.csv adds up to the ledger's
  // dynamic energy.
  EXPECT_FALSE(fs::exists(dir_ / "traces" / "timeline.json"));
  pftest::Trace timeline = pftest::decode(pftest::read_file_bytes((dir_ / "traces" / "timeline.pftrace").string()));
  for (const auto& e : timeline.errors) ADD_FAILURE() << e;
  EXPECT_GT(timeline.slices.size(), 0u);
  bool saw_lut_layer = false;
  for (const auto& s : timeline.slices) saw_lut_layer |= s.name == "lut" && s.args.count("layer") && s.args.at("layer") == "second";
  EXPECT_TRUE(saw_lut_layer);
  std::ifstream cf(dir_ / "traces" / "energy.csv");
  std::string line;
  std::getline(cf, line);
  double csv_pj = 0;
  while (std::getline(cf, line)) csv_pj += std::stod(line.substr(line.rfind(',') + 1));
  double dynamic = report["energy_pj"]["dynamic"].get<double>();
  EXPECT_NEAR(csv_pj, dynamic, 1e-9 * dynamic);
  EXPECT_TRUE(fs::exists(dir_ / "traces" / "waves.vcd"));
}

// One 4x2 tile: y = requant(W^T x + bias) with multiplier 0.5 (2^30 * 2^-31), round half up.
Program mvm_program(Program p, float out_scale) {
  p.inputs = {tensor("x", {4}, 1.0f, true, 0)};
  p.outputs = {tensor("y", {2}, out_scale, false, 256)};
  CoreProgram& c = p.cores[0];
  TileDesc tile;
  tile.rows = 4;
  tile.cols = 2;
  tile.weights = {1, -2, 3, 4, -5, 6, 7, -8};  // [r][c]
  c.tiles = {tile};
  RequantDesc q;
  q.qmin = -128;
  q.qmax = 127;
  q.channels = 2;
  q.bias = {10, -3};
  q.multiplier = {1 << 30, 1 << 30};
  q.shift = {31, 31};
  c.requant = {q};
  c.code = {load(at(0, 0), at(0, 0), 4), mvm(0, at(0, 64), at(0, 0)), requant(at(0, 128), at(0, 64), 2, 0),
            store(at(0, 256), at(0, 128), 2), ins(Op::kHalt)};
  return p;
}

TEST_F(Simulate, MvmAndRequantOnOneCore) {
  Program p = mvm_program(empty_program(), 0.125f);
  write(p);
  NpyArray x;
  x.shape = {1, 4};
  x.data = {3, 0, 200, 17};
  SimulateOptions o = options(put_input(x));
  o.output_path = (dir_ / "y.npy").string();
  std::ostringstream out, err;
  SimulateResult r = simulate(o, out, err);
  ASSERT_TRUE(r.finished);
  // Column 0: 3*1 + 0*3 + 200*(-5) + 17*7 + 10 = -868 -> -434 -> clamp -128.
  // Column 1: 3*(-2) + 0*4 + 200*6 + 17*(-8) - 3 = 1055 -> floor(527.5 + 0.5) = 528 -> 127.
  NpyArray y = read_npy(o.output_path);
  ASSERT_EQ(y.shape, (std::vector<int64_t>{1, 2}));
  EXPECT_FLOAT_EQ(y.data[0], -128 * 0.125f);
  EXPECT_FLOAT_EQ(y.data[1], 127 * 0.125f);
  EXPECT_EQ(r.report["counts"]["mvms"].get<uint64_t>(), 1u);
  EXPECT_EQ(r.report["counts"]["macs"].get<uint64_t>(), 8u);
}

TEST_F(Simulate, MvmUnclampedValues) {
  Program p = mvm_program(empty_program(), 1.0f);
  write(p);
  NpyArray x;
  x.shape = {1, 4};
  x.data = {3, 5, 2, 1};
  std::ostringstream out, err;
  SimulateResult r = simulate(options(put_input(x)), out, err);
  ASSERT_TRUE(r.finished);
  // Column 0: 3 + 15 - 10 + 7 + 10 = 25 -> floor(12.5 + 0.5) = 13.
  // Column 1: -6 + 20 + 12 - 8 - 3 = 15 -> floor(7.5 + 0.5) = 8.
  ASSERT_EQ(r.outputs.size(), 1u);
  EXPECT_EQ(r.outputs[0].data, (std::vector<float>{13.0f, 8.0f}));
}

// The in-memory run (cimsim calibrate's evaluator) is the file-based run without files.
TEST_F(Simulate, InMemoryRunEqualsFileRunAndChecksTheArch) {
  Program p = mvm_program(empty_program(), 1.0f);
  write(p);
  NpyArray x;
  x.shape = {2, 4};
  x.data = {3, 5, 2, 1, 200, 0, 17, 9};
  std::ostringstream out, err;
  SimulateResult files = simulate(options(put_input(x)), out, err);
  ASSERT_TRUE(files.finished);
  InMemoryRun mem = simulate_in_memory(p, arch_, x, "x.npy", arch_.nonideality.seed);
  ASSERT_EQ(mem.outputs.size(), 1u);
  EXPECT_EQ(mem.outputs[0].shape, files.outputs[0].shape);
  EXPECT_EQ(mem.outputs[0].data, files.outputs[0].data);
  EXPECT_EQ(mem.adc_conversions, files.report["counts"]["adc_conversions"].get<uint64_t>());
  ArchSpec other = arch_;
  other.crossbar.rows = 64;
  EXPECT_THROW(simulate_in_memory(p, other, x, "x.npy", 1), InputError);
  NpyArray wrong;
  wrong.shape = {1, 5};
  wrong.data.assign(5, 1.0f);
  try {
    simulate_in_memory(p, arch_, wrong, "w.npy", 1);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("w.npy: input"), std::string::npos) << e.what();
  }
}

TEST_F(Simulate, DeadlockListsBlockedCores) {
  Program p = empty_program();
  p.inputs = {tensor("x", {4}, 1.0f, true, 0)};
  p.outputs = {tensor("y", {4}, 1.0f, true, 256)};
  p.cores[0].code = {recv(at(0, 0), 16, 1, 7), ins(Op::kHalt)};
  p.cores[2].code = {recv(at(0, 0), 8, 3, 5), ins(Op::kHalt)};
  write(p);
  NpyArray x;
  x.shape = {1, 4};
  x.data = {1, 2, 3, 4};
  std::ostringstream out, err;
  try {
    simulate(options(put_input(x)), out, err);
    FAIL() << "expected DeadlockError";
  } catch (const DeadlockError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("deadlock"), std::string::npos) << m;
    EXPECT_NE(m.find("core 0 at pc 0"), std::string::npos) << m;
    EXPECT_NE(m.find("core 2 at pc 0"), std::string::npos) << m;
    EXPECT_NE(m.find("recv"), std::string::npos) << m;
    EXPECT_EQ(m.find("core 1 at"), std::string::npos) << m;  // core 1 halted
  }
}

TEST_F(Simulate, WrongInputShapeIsAnInputError) {
  write(lut_program(empty_program()));
  NpyArray x;
  x.shape = {1, 3, 2, 2};
  x.data.assign(12, 1.0f);
  std::string path = put_input(x);
  std::ostringstream out, err;
  try {
    simulate(options(path), out, err);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    std::string m = e.what();
    EXPECT_EQ(m.rfind(path, 0), 0u) << m;
    EXPECT_NE(m.find("[N, 2, 2, 3]"), std::string::npos) << m;
    EXPECT_NE(m.find("[1, 3, 2, 2]"), std::string::npos) << m;
  }
}

TEST_F(Simulate, ArchOverrideMismatchNamesTheKey) {
  write(lut_program(empty_program()));
  std::ifstream in(kTinyArch);
  std::stringstream text;
  text << in.rdbuf();
  std::string yaml = text.str();
  auto pos = yaml.find("rows: 32");
  ASSERT_NE(pos, std::string::npos);
  yaml.replace(pos, 8, "rows: 64");
  std::string other = (dir_ / "other.yaml").string();
  std::ofstream(other) << yaml;
  SimulateOptions o = options(put_input(lut_input()));
  o.arch_path = other;
  std::ostringstream out, err;
  try {
    simulate(o, out, err);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    std::string m = e.what();
    EXPECT_EQ(m.rfind(other, 0), 0u) << m;
    EXPECT_NE(m.find("crossbar.rows"), std::string::npos) << m;
  }
}

TEST_F(Simulate, ArchOverrideWithSameMachineRuns) {
  write(lut_program(empty_program()));
  SimulateOptions o = options(put_input(lut_input()));
  o.arch_path = kTinyArch;
  std::ostringstream out, err;
  EXPECT_TRUE(simulate(o, out, err).finished);
}

TEST_F(Simulate, ProgramFaultNamesTheProblem) {
  Program p = empty_program();
  p.inputs = {tensor("x", {4}, 1.0f, true, 0)};
  p.outputs = {tensor("y", {4}, 1.0f, true, 256)};
  p.cores[1].code = {load(at(0, 0), at(0, 1 << 30), 16), ins(Op::kHalt)};  // beyond 64 MiB
  write(p);
  NpyArray x;
  x.shape = {1, 4};
  x.data = {1, 2, 3, 4};
  std::ostringstream out, err;
  EXPECT_THROW(simulate(options(put_input(x)), out, err), ProgramFault);
}

TEST_F(Simulate, MaxTimeStopsWithoutWritingOutputs) {
  Program p = lut_program(empty_program());
  // Core 1 spins for a long time: 20000 iterations of a two-instruction loop.
  p.cores[1].code = {li(1, 0), li(2, 20000), addi(1, 1, 1), blt(1, 2, 2), ins(Op::kHalt)};
  write(p);
  SimulateOptions o = options(put_input(lut_input()));
  o.output_path = (dir_ / "y.npy").string();
  o.report_path = (dir_ / "r.json").string();
  o.max_time_ns = 1000;
  std::ostringstream out, err;
  SimulateResult r = simulate(o, out, err);
  EXPECT_FALSE(r.finished);
  EXPECT_NE(err.str().find("stopped at --max-time 1000 ns; results incomplete"), std::string::npos) << err.str();
  EXPECT_FALSE(fs::exists(o.output_path));
  EXPECT_FALSE(fs::exists(o.report_path));
  EXPECT_TRUE(r.report["incomplete"].get<bool>());
  // Without the limit the same program finishes.
  o.max_time_ns = 0;
  EXPECT_TRUE(simulate(o, out, err).finished);
  EXPECT_TRUE(fs::exists(o.output_path));
}


// The input is stored channels-last: a 1-D output that copies the stored bytes shows the order.
TEST_F(Simulate, InputIsStoredChannelsLast) {
  Program p = lut_program(empty_program());
  p.outputs = {tensor("y", {12}, 0.25f, true, 4096)};
  write(p);
  NpyArray x = lut_input();
  SimulateResult r = [&] {
    std::ostringstream out, err;
    return simulate(options(put_input(x)), out, err);
  }();
  ASSERT_TRUE(r.finished);
  ASSERT_EQ(r.outputs[0].shape, (std::vector<int64_t>{2, 12}));
  const int C = 2, H = 2, W = 3;
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < C; ++c)
      for (int h = 0; h < H; ++h)
        for (int w = 0; w < W; ++w) {
          float v = x.data[static_cast<size_t>(n * 12 + (c * H + h) * W + w)];
          double q = std::min(255.0, std::max(0.0, std::round(v / 0.5)));
          EXPECT_FLOAT_EQ(r.outputs[0].data[static_cast<size_t>(n * 12 + (h * W + w) * C + c)],
                          static_cast<float>((255 - q) * 0.25));
        }
}

TEST_F(Simulate, StaleProgramArchIsRejected) {
  Program p = lut_program(empty_program());
  p.arch_fingerprint ^= 1;
  write(p);
  std::ostringstream out, err;
  try {
    simulate(options(put_input(lut_input())), out, err);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("arch.yaml: does not match"), std::string::npos) << m;
  }
}

TEST_F(Simulate, TimelineOfAnMvmRunNestsAndNamesCrossbars) {
  write(mvm_program(empty_program(), 1.0f));
  NpyArray x;
  x.shape = {1, 4};
  x.data = {3, 5, 2, 1};
  SimulateOptions o = options(put_input(x));
  o.trace_dir = (dir_ / "t").string();
  o.trace_format = "json";
  std::ostringstream out, err;
  ASSERT_TRUE(simulate(o, out, err).finished);
  std::ifstream f(dir_ / "t" / "timeline.json");
  nlohmann::json trace = nlohmann::json::parse(f);
  std::map<std::pair<int, int>, std::string> names;
  std::map<std::pair<int, int>, std::vector<std::pair<double, double>>> spans;
  for (const auto& e : trace["traceEvents"]) {
    std::pair<int, int> key{e["pid"].get<int>(), e["tid"].get<int>()};
    if (e["ph"] == "M" && e["name"] == "thread_name") names[key] = e["args"]["name"].get<std::string>();
    if (e["ph"] == "X")
      spans[key].emplace_back(e["ts"].get<double>(), e["ts"].get<double>() + e["dur"].get<double>());
  }
  bool saw_mvm_on_xbar = false;
  for (const auto& e : trace["traceEvents"])
    if (e["ph"] == "X" && e["name"] == "mvm")
      saw_mvm_on_xbar = names[{e["pid"].get<int>(), e["tid"].get<int>()}] == "xbar 0";
  EXPECT_TRUE(saw_mvm_on_xbar);
  for (const auto& [key, list] : spans)
    for (size_t i = 0; i < list.size(); ++i)
      for (size_t j = i + 1; j < list.size(); ++j) {
        auto a = list[i], b = list[j];
        const double eps = 1e-7;
        bool ok = a.second <= b.first + eps || b.second <= a.first + eps ||
                  (b.first <= a.first + eps && a.second <= b.second + eps) ||
                  (a.first <= b.first + eps && b.second <= a.second + eps);
        EXPECT_TRUE(ok) << names[key];
      }
}

TEST_F(Simulate, PerfettoTimelineOfAnMvmRunNestsAndNamesCrossbars) {
  write(mvm_program(empty_program(), 1.0f));
  NpyArray x;
  x.shape = {1, 4};
  x.data = {3, 5, 2, 1};
  SimulateOptions o = options(put_input(x));
  o.trace_dir = (dir_ / "t").string();
  std::ostringstream out, err;
  ASSERT_TRUE(simulate(o, out, err).finished);
  // The decoder checks per-track time order, BEGIN/END pairing (nesting) and interning.
  pftest::Trace t = pftest::decode(pftest::read_file_bytes((dir_ / "t" / "timeline.pftrace").string()));
  for (const auto& e : t.errors) ADD_FAILURE() << e;
  bool saw_mvm_on_xbar = false;
  for (const auto& s : t.slices)
    if (s.name == "mvm") saw_mvm_on_xbar = t.track_of(s).name == "xbar 0";
  EXPECT_TRUE(saw_mvm_on_xbar);
}

TEST_F(Simulate, TraceOptionsAreCheckedBeforeSimulating) {
  write(lut_program(empty_program()));
  const std::string input = put_input(lut_input());
  auto message = [&](SimulateOptions o) {
    std::ostringstream out, err;
    try {
      simulate(o, out, err);
    } catch (const InputError& e) {
      EXPECT_TRUE(out.str().empty());  // no summary: nothing ran
      return std::string(e.what());
    }
    return std::string("no error");
  };
  SimulateOptions o = options(input);
  o.trace_selection.cores = "0";
  EXPECT_NE(message(o).find("need --trace-dir"), std::string::npos);
  o.trace_dir = (dir_ / "t").string();
  o.trace_selection.cores = "9";
  EXPECT_NE(message(o).find("--trace-cores '9': core 9 is out of range"), std::string::npos);
  o.trace_selection = {};
  o.trace_selection.layers = {"secnd"};
  EXPECT_NE(message(o).find("no layer 'secnd' (did you mean 'second'?)"), std::string::npos);
  o.trace_selection = {};
  o.trace_format = "xml";
  EXPECT_NE(message(o).find("--trace-format: unknown format 'xml'"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "t"));
}

}  // namespace
}  // namespace cimsim
