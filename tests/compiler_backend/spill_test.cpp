// Spilling (docs/schedule.md, "Spilling"): layers whose input ring or output row does not fit
// a 2 KB core buffer read their input from global memory in strips and store output pixels
// there. The compiled streams must give the naive reference's codes bit for bit on the test
// executor and on the SystemC chip; the static checker must accept them and catch broken
// orderings; what does not fit even then is a clear error.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "compiler/backend/backend.h"
#include "compiler/backend/program_check.h"
#include "isa_exec.h"
#include "platform/spec/npy.h"
#include "platform/spec/program_io.h"
#include "platform/vp/simulate.h"
#include "qmodel_util.h"

namespace cimsim {
namespace {

namespace fs = std::filesystem;
using backend::compile_qmodel;
using testing::ConvSpec;
using testing::ModelBuilder;
using ::testing::HasSubstr;

constexpr int64_t kBuffer = 2048;

ArchSpec small_arch() {
  ArchSpec a = testing::test_arch(4, 4);
  a.core.buffer_bytes = kBuffer;
  return a;
}

struct SpillModel {
  q::QModel m;
  int c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0;
};

// x 8x10x64 -> c1 3x3/1 (16) -> c2 3x3/2 (32, 4 slices, model output) -> c3 1x1 (64: a
// 2048-byte output row) -> c4 3x3 (4, K-split in 3 parts); c1 -> c5 depthwise 3x3 (16);
// c2 -> c6 3x3 (4, K-split): c2's rows go to c3 as messages and to c6 through global memory.
SpillModel spill_model() {
  ModelBuilder b(5, "spill");
  SpillModel s;
  const int x = b.input({8, 10, 64});
  ConvSpec k3;
  k3.kh = k3.kw = 3;
  k3.pt = k3.pl = k3.pb = k3.pr = 1;
  k3.M = 16;
  s.c1 = b.conv(x, k3);
  ConvSpec k3s2 = k3;
  k3s2.M = 32;
  k3s2.sh = k3s2.sw = 2;
  s.c2 = b.conv(s.c1, k3s2);
  ConvSpec k1;
  k1.M = 64;
  s.c3 = b.conv(s.c2, k1);
  ConvSpec k3m4 = k3;
  k3m4.M = 4;
  k3m4.relu = false;
  s.c4 = b.conv(s.c3, k3m4);
  ConvSpec dw = k3;
  dw.group = 16;
  s.c5 = b.conv(s.c1, dw);
  ConvSpec k3m8 = k3;
  k3m8.M = 4;
  s.c6 = b.conv(s.c2, k3m8);
  b.output(s.c4);
  b.output(s.c6);
  b.output(s.c2);
  b.output(s.c5);
  s.m = b.m;
  return s;
}

// x 4x6x160 -> d1 3x3 (4: two strip buffers, a loop of strip pairs) -> d2 3x3 (40 in two
// slices of 24 and 16 channels: 6400-byte output rows, stored pixel by pixel from strips) ->
// d3 1x1 (8, reads d2 from global memory).
q::QModel wide_model(int* d1, int* d2, int* d3) {
  ModelBuilder b(9, "wide");
  ConvSpec k3;
  k3.kh = k3.kw = 3;
  k3.pt = k3.pl = k3.pb = k3.pr = 1;
  k3.M = 4;
  *d1 = b.conv(b.input({4, 6, 160}), k3);
  k3.M = 40;
  *d2 = b.conv(*d1, k3);
  ConvSpec k1;
  k1.M = 8;
  *d3 = b.conv(*d2, k1);
  b.output(*d3);
  return b.m;
}

const backend::LayerPlan& plan_of(const backend::CompiledModel& cm, const q::QModel& m, int tensor) {
  for (const backend::LayerPlan& lp : cm.layers) {
    if (m.layers[static_cast<size_t>(lp.layer)].output == tensor) return lp;
  }
  throw std::logic_error("no plan");
}

// Compiles, runs the test executor on `batch` random images, compares every output.
void expect_equivalent(const q::QModel& m, const ArchSpec& arch, const backend::BackendOptions& opt,
                       int batch) {
  const backend::CompiledModel cm = compile_qmodel(m, arch, opt);
  std::mt19937 rng(11);
  std::vector<uint8_t> global;
  std::vector<std::vector<std::vector<int32_t>>> ref;
  for (int n = 0; n < batch; ++n) {
    std::vector<std::vector<int32_t>> ins;
    for (size_t i = 0; i < m.inputs.size(); ++i) {
      ins.push_back(testing::random_codes(m.tensors[static_cast<size_t>(m.inputs[i])], rng));
      testing::put_input(global, cm.program.inputs[i], n, ins.back());
    }
    ref.push_back(testing::reference_codes(m, ins));
  }
  const testing::ExecResult r = testing::execute(cm.program, arch.core.buffer_bytes, global, batch);
  ASSERT_TRUE(r.ok) << r.error;
  for (int n = 0; n < batch; ++n) {
    for (size_t o = 0; o < m.outputs.size(); ++o) {
      EXPECT_EQ(testing::get_output(r.global, cm.program.outputs[o], n),
                ref[static_cast<size_t>(n)][static_cast<size_t>(m.outputs[o])])
          << "image " << n << " output " << o;
    }
  }
}

TEST(BackendSpill, PlansStripsAndPerPixelStores) {
  const SpillModel s = spill_model();
  const ArchSpec a = small_arch();
  const backend::CompiledModel cm = compile_qmodel(s.m, a, {});
  auto all = [](const std::vector<int64_t>& v) {
    return !v.empty() && std::all_of(v.begin(), v.end(), [](int64_t x) { return x > 0; });
  };
  // A minimal ring of c1 alone is 3 x 66 x 8 = 1584 bytes next to a 1024-byte output row.
  EXPECT_TRUE(all(plan_of(cm, s.m, s.c1).strip_pixels));
  EXPECT_TRUE(all(plan_of(cm, s.m, s.c2).strip_pixels));
  EXPECT_TRUE(all(plan_of(cm, s.m, s.c5).strip_pixels));
  EXPECT_TRUE(all(plan_of(cm, s.m, s.c6).strip_pixels));
  // c3's minimal ring (one 1024-byte slot for a 1x1 kernel) fits: it still gets c2's rows.
  EXPECT_EQ(plan_of(cm, s.m, s.c3).strip_pixels, std::vector<int64_t>{0});
  // c3's output row is 32 x 64 = 2048 bytes: pixels go to global memory one by one, and c4
  // must read them from there.
  const backend::LayerPlan& p3 = plan_of(cm, s.m, s.c3);
  ASSERT_EQ(p3.store_per_pixel.size(), 1u);
  EXPECT_TRUE(p3.store_per_pixel[0]);
  const backend::LayerPlan& p4 = plan_of(cm, s.m, s.c4);
  EXPECT_GT(p4.kparts, 1);
  EXPECT_TRUE(all(p4.strip_pixels));
  for (const backend::CoreInfo& ci : cm.cores) EXPECT_LE(ci.peak_bytes, kBuffer) << "core " << ci.core;
  // Spilled tensors: c1 and c3 get regions of their own (H*W*C bytes per image); c2 is a
  // model output (outputs: c4, c6, c2, c5), already in memory.
  std::map<int, backend::SpillRegion> by_tensor;
  for (const backend::SpillRegion& r : cm.spills) by_tensor[r.tensor] = r;
  ASSERT_EQ(by_tensor.size(), 3u);
  EXPECT_TRUE(by_tensor.at(s.c1).own_region);
  EXPECT_EQ(by_tensor.at(s.c1).bytes_per_image, 16 * 10 * 64);
  EXPECT_TRUE(by_tensor.at(s.c3).own_region);
  EXPECT_EQ(by_tensor.at(s.c3).bytes_per_image, 64 * 5 * 32);
  EXPECT_FALSE(by_tensor.at(s.c2).own_region);
  EXPECT_EQ(by_tensor.at(s.c2).addr, cm.program.outputs[2].global_addr);
  // max_batch counts the spill regions: per image 64-aligned input, outputs and spills.
  auto al = [](int64_t v) { return (v + 63) / 64 * 64; };
  const int64_t per_image = al(8 * 10 * 64) + al(4 * 5 * 32) + al(4 * 5 * 32) + al(32 * 5 * 32) +
                            al(16 * 10 * 64) + al(16 * 10 * 64) + al(64 * 5 * 32);
  EXPECT_EQ(cm.max_batch, std::min<int64_t>(4096, a.memory.capacity_bytes / per_image));
  // c1 stores every row of its output (10 x 64 x 16 bytes) on top of its strip loads.
  EXPECT_GT(plan_of(cm, s.m, s.c1).spill_bytes_per_image, 16 * 10 * 64);
  EXPECT_EQ(cm.spill_bytes_per_image,
            [&] {
              int64_t t = 0;
              for (const backend::LayerPlan& lp : cm.layers) t += lp.spill_bytes_per_image;
              return t;
            }());
  const std::string json = backend::compile_json_text(s.m, a, cm);
  EXPECT_THAT(json, HasSubstr("\"spill_bytes_per_image\""));
  const std::string ir = backend::cim_ir_yaml(s.m, a, cm);
  EXPECT_THAT(ir, HasSubstr("spilled: {addr: "));
}

TEST(BackendSpill, ExecutorMatchesReference) {
  const SpillModel s = spill_model();
  expect_equivalent(s.m, small_arch(), {}, 3);
}

TEST(BackendSpill, ThroughputModeMatchesReference) {
  const SpillModel s = spill_model();
  ArchSpec a = small_arch();
  a.chip.mesh_rows = 6;
  a.chip.mesh_cols = 6;
  a.chip.cores = 36;
  backend::BackendOptions opt;
  opt.mode = "throughput";
  const backend::CompiledModel cm = compile_qmodel(s.m, a, opt);
  bool replicated = false;
  for (const backend::LayerPlan& lp : cm.layers) replicated |= lp.replicas > 1;
  EXPECT_TRUE(replicated);
  expect_equivalent(s.m, a, opt, 2);
}

// Compiles `m` for tiny.yaml on a 4x4 mesh with 2 KB buffers, runs `batch` random images on
// the SystemC chip and compares every output with the naive reference, bit for bit.
void expect_chip_matches(const q::QModel& m, const std::string& name, int batch) {
  const fs::path dir = fs::path(CIMSIM_BINARY_DIR) / name;
  const ArchSpec a = testing::write_tiny_arch(dir.string(), {{"cores: 4 ", "cores: 16 "},
                                                             {"mesh_rows: 2", "mesh_rows: 4"},
                                                             {"mesh_cols: 2", "mesh_cols: 4"},
                                                             {"buffer_bytes: 16384", "buffer_bytes: 2048"}});
  ASSERT_EQ(a.core.buffer_bytes, kBuffer);
  const backend::CompiledModel cm = compile_qmodel(m, a, {});
  ASSERT_FALSE(cm.spills.empty());
  write_program_files(cm.program, dir.string());
  const q::QTensor& in = m.tensors[static_cast<size_t>(m.inputs[0])];
  std::mt19937 rng(3);
  const std::vector<std::vector<int32_t>> codes =
      testing::write_code_inputs(in, batch, rng, (dir / "x.npy").string());
  SimulateOptions o;
  o.program_dir = dir.string();
  o.input_path = (dir / "x.npy").string();
  o.quiet = true;
  std::ostringstream out, err;
  const SimulateResult r = simulate(o, out, err);
  ASSERT_TRUE(r.finished) << err.str();
  ASSERT_EQ(r.outputs.size(), m.outputs.size());
  for (int n = 0; n < batch; ++n) {
    const auto ref = testing::reference_codes(m, {codes[static_cast<size_t>(n)]});
    for (size_t oi = 0; oi < m.outputs.size(); ++oi) {
      const q::QTensor& yt = m.tensors[static_cast<size_t>(m.outputs[oi])];
      const size_t per = static_cast<size_t>(yt.numel());
      const auto& want = ref[static_cast<size_t>(m.outputs[oi])];
      ASSERT_EQ(want.size(), per);
      for (size_t i = 0; i < per; ++i) {
        ASSERT_EQ(r.outputs[oi].data[static_cast<size_t>(n) * per + i], static_cast<float>(want[i]) * yt.scale)
            << "output " << oi << " image " << n << " element " << i;
      }
    }
  }
}

TEST(BackendSpill, ChipRunsSpilledModelBitExact) {
  expect_chip_matches(spill_model().m, "backend_spill_sim", 2);
}

TEST(BackendSpill, WideStripsAndPixelStoresFromStrips) {
  int d1 = 0, d2 = 0, d3 = 0;
  const q::QModel m = wide_model(&d1, &d2, &d3);
  const ArchSpec a = small_arch();
  const backend::CompiledModel cm = compile_qmodel(m, a, {});
  const backend::LayerPlan& p1 = plan_of(cm, m, d1);
  ASSERT_EQ(p1.strip_buffers.size(), 1u);
  EXPECT_EQ(p1.strip_buffers[0], 2);
  EXPECT_GE(p1.strip_pixels[0], 16);
  const backend::LayerPlan& p2 = plan_of(cm, m, d2);
  ASSERT_EQ(p2.cores.size(), 2u);
  for (size_t k = 0; k < 2; ++k) {
    EXPECT_GT(p2.strip_pixels[k], 0);
    EXPECT_TRUE(p2.store_per_pixel[k]);
  }
  EXPECT_GT(plan_of(cm, m, d3).strip_pixels[0], 0);
  for (const backend::CoreInfo& ci : cm.cores) EXPECT_LE(ci.peak_bytes, kBuffer);
  expect_equivalent(m, a, {}, 2);
  expect_chip_matches(m, "backend_spill_wide_sim", 2);
}

// Vector layers store spilled rows too: a max pool and an add feed convolutions whose rings do
// not fit, and a conv output with two consumers goes to one through memory, to the add as rows.
TEST(BackendSpill, VectorProducersStoreSpilledRows) {
  ModelBuilder b(13, "vec");
  ConvSpec k3;
  k3.kh = k3.kw = 3;
  k3.pt = k3.pl = k3.pb = k3.pr = 1;
  k3.M = 8;
  const int x = b.input({8, 8, 64});
  const int p = b.maxpool(x, 2, 1, 0);  // 8x7x63
  const int c = b.conv(p, k3);          // minimal ring 3 x 65 x 8 + output row 504 > 2048
  const int s = b.add(c, c, true);
  b.output(b.conv(s, k3));
  const ArchSpec a = small_arch();
  const backend::CompiledModel cm = compile_qmodel(b.m, a, {});
  std::set<int> spilled;
  for (const backend::SpillRegion& r : cm.spills) spilled.insert(r.tensor);
  EXPECT_EQ(spilled, (std::set<int>{p, s}));
  expect_equivalent(b.m, a, {}, 2);
}

TEST(BackendSpill, StagingAloneTooBigIsAClearError) {
  // 3x3 over 64 channels: a one-pixel strip is 3 x 3 x 64 = 576 bytes, more than 512.
  ArchSpec a = small_arch();
  a.core.buffer_bytes = 512;
  ModelBuilder b;
  ConvSpec s;
  s.M = 8;
  s.kh = s.kw = 3;
  b.output(b.conv(b.input({64, 6, 6}), s));
  try {
    compile_qmodel(b.m, a, {});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("layer L0"));
    EXPECT_THAT(e.what(), HasSubstr("even when spilling"));
    EXPECT_THAT(e.what(), HasSubstr("strip 576"));
    EXPECT_THAT(e.what(), HasSubstr("a core has 512"));
  }
}

TEST(BackendSpill, GlobalMemoryTooSmallForSpillRegions) {
  const SpillModel s = spill_model();
  ArchSpec a = small_arch();
  a.memory.capacity_bytes = 8192;  // less than one image with its spilled tensors
  try {
    compile_qmodel(s.m, a, {});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("bytes of global memory, capacity is 8192"));
    EXPECT_THAT(e.what(), HasSubstr("spilled activations"));
  }
}

// --- static checker ----------------------------------------------------------------------

Instruction ins(Op op, std::array<int32_t, 8> imm, int64_t g = 0) {
  Instruction i;
  i.op = op;
  i.imm = imm;
  if (op == Op::kLoad || op == Op::kStore) i.addr[2].imm = static_cast<int32_t>(g);
  return i;
}

// Core 0 stores [100, 116) then sends a token; core 1 loads the bytes (after the token, or not).
Program store_then_load(bool token) {
  Program p;
  p.cores.resize(2);
  auto& c0 = p.cores[0].code;
  auto& c1 = p.cores[1].code;
  c0.push_back(ins(Op::kStore, {16, 0, 0, 0, 0, 0, 0, 0}, 100));
  if (token) c0.push_back(ins(Op::kSend, {1, 1, 7, 0, 0, 0, 0, 0}));
  c0.push_back(ins(Op::kHalt, {}));
  if (token) c1.push_back(ins(Op::kRecv, {1, 0, 7, 0, 0, 0, 0, 0}));
  c1.push_back(ins(Op::kLoad, {16, 0, 0, 0, 0, 0, 0, 0}, 100));
  c1.push_back(ins(Op::kHalt, {}));
  return p;
}

TEST(BackendSpill, CheckerOrdersLoadsAfterStores) {
  EXPECT_TRUE(backend::check_program(store_then_load(true), 1, 64, 1024).ok());
  const backend::CheckResult r = backend::check_program(store_then_load(false), 1, 64, 1024);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.problems.front(), HasSubstr("not ordered after the store of core 0"));
  // A load of bytes nobody stored (not an input either).
  Program p;
  p.cores.resize(1);
  p.cores[0].code = {ins(Op::kLoad, {8, 0, 0, 0, 0, 0, 0, 0}, 500), ins(Op::kHalt, {})};
  const backend::CheckResult g = backend::check_program(p, 1, 64, 1024);
  ASSERT_FALSE(g.ok());
  EXPECT_THAT(g.problems.front(), HasSubstr("reads bytes no store wrote"));
  // The same load inside a model input's bytes is fine.
  TensorIO io;
  io.name = "x";
  io.shape = {8};
  io.global_addr = 496;
  io.bytes_per_image = 16;
  p.inputs.push_back(io);
  EXPECT_TRUE(backend::check_program(p, 1, 64, 1024).ok());
}

TEST(BackendSpill, CheckerCatchesALoadBeforeItsToken) {
  const SpillModel s = spill_model();
  const ArchSpec a = small_arch();
  const backend::CompiledModel cm = compile_qmodel(s.m, a, {});
  ASSERT_TRUE(backend::check_program(cm.program, 2, a.core.buffer_bytes, a.memory.capacity_bytes).ok());
  // In c2's first core, move the first strip load in front of the token recvs of its rows.
  const backend::LayerPlan& p2 = plan_of(cm, s.m, s.c2);
  Program broken = cm.program;
  auto& code = broken.cores[static_cast<size_t>(p2.cores[0])].code;
  size_t first_recv = code.size(), first_load = code.size();
  for (size_t i = 0; i < code.size(); ++i) {
    if (code[i].op == Op::kRecv && first_recv == code.size()) first_recv = i;
    if (code[i].op == Op::kLoad && first_recv < code.size()) {
      first_load = i;
      break;
    }
  }
  ASSERT_LT(first_load, code.size());
  const Instruction load = code[first_load];
  code.erase(code.begin() + static_cast<std::ptrdiff_t>(first_load));
  code.insert(code.begin() + static_cast<std::ptrdiff_t>(first_recv), load);
  const backend::CheckResult r = backend::check_program(broken, 1, a.core.buffer_bytes, a.memory.capacity_bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.problems.front(), ::testing::AnyOf(HasSubstr("not ordered after the store"),
                                                   HasSubstr("reads bytes no store wrote")));
  // A token of the wrong length is a mismatch, as for row messages.
  Program wrong = cm.program;
  bool changed = false;
  for (CoreProgram& c : wrong.cores) {
    for (Instruction& i : c.code) {
      if (!changed && i.op == Op::kSend && i.imm[0] == 1) {
        i.imm[0] = 2;
        changed = true;
      }
    }
  }
  ASSERT_TRUE(changed);
  const backend::CheckResult w = backend::check_program(wrong, 1, a.core.buffer_bytes, a.memory.capacity_bytes);
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.problems.front(), HasSubstr("matches a send of 2 bytes"));
}

}  // namespace
}  // namespace cimsim
