// Backend tests: tile counts, packing, FC weight order, capacity errors, message matching,
// functional equivalence of compiled streams with a naive reference, determinism.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "compiler/backend/backend.h"
#include "compiler/backend/program_check.h"
#include "isa_exec.h"
#include "platform/spec/program_io.h"
#include "qmodel_util.h"

namespace cimsim {
namespace {

using backend::BackendOptions;
using backend::compile_qmodel;
using testing::ConvSpec;
using testing::ModelBuilder;
using ::testing::HasSubstr;

ArchSpec isaac_like() {
  ArchSpec a = testing::test_arch(4, 4);
  a.crossbar.rows = 128;
  a.crossbar.cols = 128;
  a.crossbar.cell_bits = 2;
  a.crossbar.encoding = WeightEncoding::kOffset;
  a.core.pes = 1;
  a.pe.crossbars = 8;
  a.pe.adcs = 8;
  a.core.buffer_bytes = 1 << 20;
  return a;
}

// Compiles, runs the functional executor on `batch` random images and compares every model
// output with the naive reference.
void expect_equivalent(const q::QModel& m, const ArchSpec& arch, int batch = 2, uint32_t seed = 7) {
  backend::CompiledModel cm = compile_qmodel(m, arch, {});
  std::mt19937 rng(seed);
  std::vector<uint8_t> global;
  std::vector<std::vector<std::vector<int32_t>>> ref(static_cast<size_t>(batch));
  for (int n = 0; n < batch; ++n) {
    std::vector<std::vector<int32_t>> ins;
    for (size_t i = 0; i < m.inputs.size(); ++i) {
      ins.push_back(testing::random_codes(m.tensors[static_cast<size_t>(m.inputs[i])], rng));
      testing::put_input(global, cm.program.inputs[i], n, ins.back());
    }
    ref[static_cast<size_t>(n)] = testing::reference_codes(m, ins);
  }
  testing::ExecResult r = testing::execute(cm.program, arch.core.buffer_bytes, global, batch);
  ASSERT_TRUE(r.ok) << r.error;
  for (int n = 0; n < batch; ++n) {
    for (size_t o = 0; o < m.outputs.size(); ++o) {
      const auto got = testing::get_output(r.global, cm.program.outputs[o], n);
      const auto& want = ref[static_cast<size_t>(n)][static_cast<size_t>(m.outputs[o])];
      ASSERT_EQ(got, want) << "image " << n << " output " << o;
    }
  }
}

TEST(BackendMapping, TileCountsK300M70) {
  // 128x128 crossbars, 2-bit cells, offset encoding, 8-bit weights: 4 cells per weight,
  // 32 weight columns. K=300 -> ceil(300/128) = 3 row tiles; M=70 -> 32+32+6 = 3 col tiles.
  ArchSpec a = isaac_like();
  ModelBuilder b;
  int x = b.input({300});
  int y = b.fc(x, 70, true);
  b.output(y);
  backend::TensorMap tm = backend::resolve_tensors(b.m);
  backend::ConvMap cm = backend::map_conv(b.m, 0, tm, a);
  EXPECT_EQ(cm.row_tiles_max, 3);
  ASSERT_EQ(cm.col_tiles.size(), 3u);
  EXPECT_EQ(cm.col_tiles[0].cols, 32);
  EXPECT_EQ(cm.col_tiles[1].cols, 32);
  EXPECT_EQ(cm.col_tiles[2].cols, 6);
  EXPECT_EQ(cm.crossbars, 9);
  EXPECT_EQ(cm.col_tiles_per_core, 2);  // floor(8 crossbars / 3 row tiles)
  // Tile (col tile 1, row tile 2): rows 256..299, output channels 32..63.
  TileDesc t = backend::make_tile(b.m, 0, cm, 1, 2, a);
  EXPECT_EQ(t.rows, 44);
  EXPECT_EQ(t.cols, 32);
  for (int r = 0; r < t.rows; r += 7) {
    for (int c = 0; c < t.cols; c += 5) {
      EXPECT_EQ(t.weights[static_cast<size_t>(r * 32 + c)],
                b.m.layers[0].conv.weights[static_cast<size_t>((32 + c) * 300 + 256 + r)]);
    }
  }
  backend::CompiledModel out = compile_qmodel(b.m, a, {});
  EXPECT_EQ(out.layers[0].cores.size(), 2u);  // ceil(3 col tiles / 2 per core)
  EXPECT_EQ(out.crossbars_used, 9);
}

TEST(BackendMapping, DifferentialEncodingHalvesColumns) {
  ArchSpec a = isaac_like();
  a.crossbar.encoding = WeightEncoding::kDifferential;  // 2 * ceil(7/2) = 8 cells -> 16 cols
  ModelBuilder b;
  int y = b.fc(b.input({100}), 40, true);
  b.output(y);
  backend::ConvMap cm = backend::map_conv(b.m, 0, backend::resolve_tensors(b.m), a);
  EXPECT_EQ(cm.col_tiles.size(), 3u);  // 16 + 16 + 8
  EXPECT_EQ(cm.row_tiles_max, 1);
}

TEST(BackendMapping, DepthwisePacksGroupsBlockDiagonally) {
  ArchSpec a = isaac_like();
  ModelBuilder b;
  int x = b.input({32, 6, 6});
  ConvSpec s;
  s.M = 32;
  s.kh = s.kw = 3;
  s.pt = s.pl = s.pb = s.pr = 1;
  s.group = 32;
  int y = b.conv(x, s);
  b.output(y);
  backend::ConvMap cm = backend::map_conv(b.m, 0, backend::resolve_tensors(b.m), a);
  // P = min(32 groups, 32 cols / 1, floor(128 rows / 9)) = 14 -> blocks of 14, 14, 4.
  EXPECT_EQ(cm.P, 14);
  ASSERT_EQ(cm.blocks.size(), 3u);
  EXPECT_EQ(cm.blocks[2].groups, 4);
  EXPECT_EQ(cm.crossbars, 3);
  TileDesc t = backend::make_tile(b.m, 0, cm, 1, 0, a);  // block 1: channels 14..27
  EXPECT_EQ(t.rows, 9 * 14);
  EXPECT_EQ(t.cols, 14);
  for (int r = 0; r < t.rows; ++r) {
    const int tap = r / 14, ch = r % 14;
    for (int c = 0; c < t.cols; ++c) {
      const int8_t want = c == ch ? b.m.layers[0].conv.weights[static_cast<size_t>((14 + c) * 9 + tap)] : 0;
      ASSERT_EQ(t.weights[static_cast<size_t>(r * t.cols + c)], want) << r << "," << c;
    }
  }
  // 288 real weights x 4 cells over 3 crossbars of 128x128 cells.
  EXPECT_NEAR(double(cm.used_cells) / (3.0 * 128 * 128), 288.0 * 4 / (3 * 128 * 128), 1e-12);
  const std::string json = backend::compile_json_text(b.m, a, compile_qmodel(b.m, a, {}));
  EXPECT_THAT(json, HasSubstr("\"groups_per_block\": 14"));
  expect_equivalent(b.m, a);
}

TEST(BackendMapping, FcAfterFlattenUsesChwWeightOrder) {
  ArchSpec a = isaac_like();
  ModelBuilder b;
  int x = b.input({2, 3, 3});
  int f = b.reshape(x, {18});
  int y = b.fc(f, 4, false);
  b.output(y);
  backend::ConvMap cm = backend::map_conv(b.m, 1, backend::resolve_tensors(b.m), a);
  EXPECT_EQ(cm.win.kh, 3);
  EXPECT_EQ(cm.win.kw, 3);
  EXPECT_EQ(cm.win.C, 2);
  TileDesc t = backend::make_tile(b.m, 1, cm, 0, 0, a);
  ASSERT_EQ(t.rows, 18);
  const auto& w = b.m.layers[1].conv.weights;
  for (int ky = 0; ky < 3; ++ky)
    for (int kx = 0; kx < 3; ++kx)
      for (int c = 0; c < 2; ++c)
        for (int m = 0; m < 4; ++m) {
          const int r = (ky * 3 + kx) * 2 + c;  // im2col: channels fastest
          EXPECT_EQ(t.weights[static_cast<size_t>(r * 4 + m)], w[static_cast<size_t>(m * 18 + c * 9 + ky * 3 + kx)]);
        }
  expect_equivalent(b.m, a);
}

TEST(BackendErrors, BufferCapacityFallsBackToSpilling) {
  ArchSpec a = isaac_like();
  a.core.buffer_bytes = 4096;
  ModelBuilder b;
  int x = b.input({64, 8, 40});  // ring of (3-1)+1+1 = 4 slots x 42 x 64 bytes > 4 KB
  ConvSpec s;
  s.M = 8;
  s.kh = s.kw = 3;
  s.pt = s.pl = s.pb = s.pr = 1;
  b.output(b.conv(x, s));
  // Even the minimal ring (3 x 42 x 64 = 8064 bytes) does not fit: the input is read from
  // global memory in strips (docs/schedule.md, "Spilling"); the error for what does not fit
  // even then is in spill_test.cpp.
  const backend::CompiledModel cm = compile_qmodel(b.m, a, {});
  ASSERT_EQ(cm.layers[0].strip_pixels.size(), 1u);
  EXPECT_GT(cm.layers[0].strip_pixels[0], 0);
  EXPECT_LE(cm.cores[static_cast<size_t>(cm.layers[0].cores[0])].peak_bytes, 4096);
  expect_equivalent(b.m, a);
}

TEST(BackendErrors, DoesNotFit) {
  ArchSpec a = isaac_like();
  a.chip.mesh_rows = 1;
  a.chip.mesh_cols = 2;
  a.chip.cores = 2;
  // Spatial 1x1 convs (more than one output pixel) are never time-multiplexed.
  ModelBuilder b;
  int x = b.input({300, 1, 2});
  int y = b.conv(x, ConvSpec{70});  // 2 cores
  b.output(b.conv(y, ConvSpec{10}));  // +1 core
  try {
    compile_qmodel(b.m, a, {});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("model needs 3 cores (10 crossbars), chip has 2 cores (16 crossbars)"));
    EXPECT_THAT(e.what(), HasSubstr("largest layers: L0"));
  }
}

// The same two layers as FCs fit by time-multiplexing the larger: its 9 tiles share one
// core's 8 crossbars (2 passes), weights in global memory, wload before each use.
TEST(BackendReload, FcLayerReloadsWhenCoresRunOut) {
  ArchSpec a = isaac_like();
  a.chip.mesh_rows = 1;
  a.chip.mesh_cols = 2;
  a.chip.cores = 2;
  ModelBuilder b;
  int x = b.input({300});
  int y = b.fc(x, 70, true);  // 3 row tiles x 3 col tiles
  b.output(b.fc(y, 10, true));
  backend::CompiledModel cm = compile_qmodel(b.m, a, {});
  const backend::LayerPlan& l0 = cm.layers[0];
  EXPECT_TRUE(l0.reload);
  EXPECT_FALSE(cm.layers[1].reload);
  ASSERT_EQ(l0.cores.size(), 1u);
  EXPECT_EQ(l0.reload_passes, 2);
  EXPECT_EQ(l0.reload_bytes_per_image, 300 * 70);
  EXPECT_EQ(cm.reload_bytes_per_image, 300 * 70);
  const CoreProgram& cp = cm.program.cores[static_cast<size_t>(l0.cores[0])];
  ASSERT_EQ(cp.tiles.size(), 9u);
  int64_t next = cm.weight_region_addr;
  for (size_t t = 0; t < cp.tiles.size(); ++t) {
    EXPECT_EQ(cp.tiles[t].crossbar, static_cast<int>(t % 8));
    EXPECT_EQ(cp.tiles[t].weight_global_addr, next);  // back to back in the weight region
    next += int64_t{cp.tiles[t].rows} * cp.tiles[t].cols;
  }
  EXPECT_LE(next, a.memory.capacity_bytes);
  int wloads = 0;
  for (const Instruction& in : cp.code) wloads += in.op == Op::kWload;
  EXPECT_EQ(wloads, 9);  // once per tile per image (inside the batch loop)
  const CoreProgram& other = cm.program.cores[static_cast<size_t>(cm.layers[1].cores[0])];
  for (const TileDesc& t : other.tiles) EXPECT_EQ(t.weight_global_addr, -1);
  EXPECT_TRUE(backend::check_program(cm.program, 3, a.core.buffer_bytes, a.memory.capacity_bytes).ok());
  expect_equivalent(b.m, a, 3);
  const std::string json = backend::compile_json_text(b.m, a, cm);
  EXPECT_THAT(json, HasSubstr("\"reload_passes\": 2"));
  EXPECT_THAT(json, HasSubstr("\"reload_bytes_per_image\": 21000"));
  EXPECT_THAT(backend::cim_ir_yaml(b.m, a, cm), HasSubstr("reloadable: true, weight_global_addr: "));
  // Throughput mode does not time-multiplex.
  BackendOptions tp;
  tp.mode = "throughput";
  EXPECT_THROW(compile_qmodel(b.m, a, tp), InputError);
}

// A CNN whose FC layers need 18 cores on a 6- or 4-core chip: the largest FC (then the next)
// is time-multiplexed; the compiled streams equal the integer reference for several images.
TEST(BackendReload, ConvThenReloadedFcsMatchReference) {
  auto model = [] {
    ModelBuilder b(3);
    ConvSpec s;
    s.M = 16;
    s.kh = s.kw = 3;
    s.pt = s.pl = s.pb = s.pr = 1;
    int x = b.conv(b.input({8, 4, 4}), s);           // K = 72: 3 x 2 tiles, 1 core
    int f = b.reshape(x, {256});
    int h = b.fc(f, 100, true);                      // 8 x 13 = 104 tiles (13 cores)
    int g = b.fc(h, 40, true);                       // 4 x 5 = 20 tiles (3 cores)
    b.output(b.fc(g, 10, false));                    // 2 x 2 = 4 tiles (1 core)
    return b.m;
  };
  const q::QModel m = model();
  ArchSpec six = testing::test_arch(2, 3);
  backend::CompiledModel cm = compile_qmodel(m, six, {});
  ASSERT_EQ(cm.layers.size(), 4u);
  EXPECT_FALSE(cm.layers[0].reload);
  EXPECT_TRUE(cm.layers[1].reload);
  EXPECT_FALSE(cm.layers[2].reload);
  EXPECT_EQ(cm.layers[1].cores.size(), 1u);
  EXPECT_EQ(cm.layers[1].reload_passes, 13);  // 104 tiles / 8 crossbars
  EXPECT_EQ(cm.reload_bytes_per_image, 256 * 100);
  expect_equivalent(m, six, 3);
  // 9 cores: the 4 left over all go to the reloaded layer (4 cores, 26 tiles: 4 passes).
  ArchSpec nine = testing::test_arch(3, 3);
  cm = compile_qmodel(m, nine, {});
  EXPECT_EQ(cm.layers[1].cores.size(), 4u);
  EXPECT_EQ(cm.layers[1].reload_passes, 4);
  expect_equivalent(m, nine, 2);
  // 4 cores: both large FCs are reloaded.
  ArchSpec four = testing::test_arch(2, 2);
  cm = compile_qmodel(m, four, {});
  EXPECT_TRUE(cm.layers[1].reload);
  EXPECT_TRUE(cm.layers[2].reload);
  EXPECT_EQ(cm.reload_bytes_per_image, 256 * 100 + 100 * 40);
  expect_equivalent(m, four, 2);
  // 3 cores: the conv, the last FC and two reloaded layers need 4: still an error.
  ArchSpec three = testing::test_arch(1, 3);
  try {
    compile_qmodel(m, three, {});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("chip has 3 cores"));
    EXPECT_THAT(e.what(), HasSubstr("(with FC layers packed densely and all 3 time-multiplexed on "
                                    "one core each, the other layers still need 1 cores)"));
  }
}

// Dense packing before reloading: 6 row tiles x 4 column tiles on 8-crossbar cores take 4
// cores as whole column tiles (6 of 8 crossbars used) but 3 as K-parts of 2 row tiles x 4
// column tiles; with the second FC that fits a 4-core chip without any reload.
TEST(BackendReload, DensePackingBeforeReloads) {
  ArchSpec a = isaac_like();
  a.chip.mesh_rows = 2;
  a.chip.mesh_cols = 2;
  a.chip.cores = 4;
  ModelBuilder b(5);
  int y = b.fc(b.input({768}), 128, true);
  b.output(b.fc(y, 10, false));
  backend::CompiledModel cm = compile_qmodel(b.m, a, {});
  const backend::LayerPlan& l0 = cm.layers[0];
  EXPECT_FALSE(l0.reload);
  EXPECT_EQ(l0.kparts, 3);
  EXPECT_EQ(l0.conv.rows_per_part, 2);
  EXPECT_EQ(l0.slices, 1);
  EXPECT_EQ(cm.program.cores[static_cast<size_t>(l0.cores[0])].tiles.size(), 8u);
  EXPECT_EQ(cm.reload_bytes_per_image, 0);
  expect_equivalent(b.m, a, 2);
  // With room to spare the layer keeps whole column tiles.
  a.chip.mesh_cols = 3;
  a.chip.cores = 6;
  EXPECT_EQ(compile_qmodel(b.m, a, {}).layers[0].kparts, 1);
}

// The checker tracks residency: an mvm whose crossbar holds another tile is a problem.
TEST(BackendReload, CheckerFindsMvmOnAnUnloadedTile) {
  Program p;
  p.cores.resize(1);
  TileDesc t;
  t.rows = 1;
  t.cols = 1;
  t.weights = {1};
  TileDesc r = t;
  r.weight_global_addr = 0;
  p.cores[0].tiles = {t, r};
  Instruction mvm;
  mvm.op = Op::kMvm;
  mvm.imm[0] = 1;
  p.cores[0].code = {mvm};
  backend::CheckResult res = backend::check_program(p, 1, 1024, 1024);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.problems[0], "core 0 instruction 0: mvm t1 but its crossbar holds t0");
  Instruction wl;
  wl.op = Op::kWload;
  wl.imm[0] = 1;
  p.cores[0].code = {wl, mvm};
  EXPECT_TRUE(backend::check_program(p, 1, 1024, 1024).ok());
  p.cores[0].tiles[1].weight_global_addr = 1024;  // [1024, 1025) outside 1024 bytes
  res = backend::check_program(p, 1, 1024, 1024);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.problems[0], "core 0: wload touches global bytes [1024, 1025) outside 0..1024");
}

TEST(BackendMapping, KSplitAcrossCores) {
  ArchSpec a = isaac_like();  // 8 crossbars per core x 128 rows = 1024 rows per core
  ModelBuilder b;
  int y = b.fc(b.input({1100}), 40, true);  // 9 row tiles -> 2 parts of <= 5; 2 col tiles
  b.output(y);
  backend::CompiledModel cm = compile_qmodel(b.m, a, {});
  const backend::LayerPlan& lp = cm.layers[0];
  EXPECT_EQ(lp.kparts, 2);
  EXPECT_EQ(lp.conv.rows_per_part, 5);
  EXPECT_EQ(lp.conv.col_tiles_per_core, 1);  // floor(8 / 5)
  EXPECT_EQ(lp.slices, 2);
  ASSERT_EQ(lp.cores.size(), 4u);
  // Part 0 holds row tiles 0..4, part 1 row tiles 5..8 (the last one 1100 - 8*128 = 76 rows).
  EXPECT_EQ(cm.program.cores[static_cast<size_t>(lp.cores[0])].tiles.size(), 5u);
  ASSERT_EQ(cm.program.cores[static_cast<size_t>(lp.cores[1])].tiles.size(), 4u);
  EXPECT_EQ(cm.program.cores[static_cast<size_t>(lp.cores[1])].tiles.back().rows, 76);
  EXPECT_EQ(cm.crossbars_used, 18);
  expect_equivalent(b.m, a);
  // A conv whose K splits and whose producer and consumer are spatial.
  ArchSpec t = testing::test_arch(4, 4);  // 8 crossbars x 32 rows = 256 rows per core
  ModelBuilder c;
  ConvSpec s;
  s.M = 12;
  s.kh = s.kw = 3;
  s.pt = s.pl = s.pb = s.pr = 1;
  int x = c.conv(c.input({40, 5, 6}), s);  // K = 360 -> 12 row tiles -> 2 parts
  c.output(c.conv(x, ConvSpec{}));
  expect_equivalent(c.m, t);
}

TEST(BackendErrors, KSplitOfPackedGroupsNotSupported) {
  ArchSpec a = testing::test_arch(4, 4);
  a.pe.crossbars = 1;
  a.core.pes = 1;  // one 32-row crossbar per core
  ModelBuilder b;
  ConvSpec s;
  s.M = 4;
  s.kh = s.kw = 3;
  s.group = 2;  // Cg = 4: 36 rows per group -> 2 row tiles, 2 blocks
  b.output(b.conv(b.input({8, 4, 4}), s));
  try {
    compile_qmodel(b.m, a, {});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("K=36 needs 2 crossbars per column tile, a core has 1"));
  }
}

TEST(BackendErrors, UnknownMode) {
  ModelBuilder b;
  b.output(b.fc(b.input({10}), 4, true));
  BackendOptions o;
  o.mode = "fast";
  EXPECT_THROW(compile_qmodel(b.m, isaac_like(), o), InputError);
}

// A residual network touching every layer kind, on the tiny arch (32x32 crossbars, 8 weight
// columns: convs split over several cores).
q::QModel residual_model() {
  ModelBuilder b(3, "residual");
  int x = b.input({3, 9, 10}, false);
  ConvSpec c1;
  c1.M = 16;
  c1.kh = c1.kw = 3;
  c1.pt = c1.pl = c1.pb = c1.pr = 1;
  int a = b.conv(x, c1);                       // 16x9x10, 27 rows, 2 col tiles
  ConvSpec c2 = c1;
  c2.relu = false;
  int r = b.conv(a, c2);                       // 144 rows -> 5 row tiles: 1 col tile per core
  int s = b.add(r, a, true);                   // residual
  int p = b.maxpool(s, 3, 2, 1);               // 16x5x5
  ConvSpec dw;
  dw.M = 16;
  dw.kh = dw.kw = 3;
  dw.pt = dw.pl = dw.pb = dw.pr = 1;
  dw.group = 16;
  dw.sh = dw.sw = 2;
  int d = b.conv(p, dw);                       // depthwise, 16x3x3
  ConvSpec c3;
  c3.M = 8;
  c3.dh = c3.dw = 2;
  c3.kh = c3.kw = 2;
  c3.pt = c3.pl = 1;
  int e = b.conv(p, c3);                       // dilated, 8x4x4
  int ap = b.avgpool(e, 2, 1, 0, false);       // 8x3x3
  int cat = b.concat({d, ap});                 // 24x3x3 (second input through a LUT)
  int l = b.lut(cat);
  int g = b.global_avgpool(cat);               // 24x1x1
  int fl = b.reshape(l, {24 * 9});
  int fc = b.fc(fl, 10, false);
  int fc2 = b.fc(b.reshape(g, {24}), 6, false);
  b.output(fc);
  b.output(fc2);
  b.output(p);
  return b.m;
}

TEST(BackendSchedule, MessagesMatchOnMultiLayerModel) {
  const q::QModel m = residual_model();
  ArchSpec a = testing::test_arch(6, 6);
  backend::CompiledModel cm = compile_qmodel(m, a, {});
  for (int batch : {1, 3}) {
    backend::CheckResult r = backend::check_program(cm.program, batch, a.core.buffer_bytes, a.memory.capacity_bytes);
    EXPECT_TRUE(r.ok()) << (r.problems.empty() ? "" : r.problems.front());
    EXPECT_GT(r.messages, 0);
  }
  // Remove one recv: its message is left over (or a length/deadlock problem appears).
  Program broken = cm.program;
  bool removed = false;
  for (CoreProgram& c : broken.cores) {
    for (size_t i = 0; i < c.code.size() && !removed; ++i) {
      if (c.code[i].op == Op::kRecv) {
        c.code[i].op = Op::kFill;  // same operands shape: D and a length
        c.code[i].imm[1] = 0;
        c.code[i].imm[2] = 0;
        removed = true;
      }
    }
  }
  ASSERT_TRUE(removed);
  EXPECT_FALSE(backend::check_program(broken, 1, a.core.buffer_bytes, 0).ok());
}

TEST(BackendSchedule, CheckerFindsCycleOfWaits) {
  Program p;
  p.cores.resize(2);
  for (int c = 0; c < 2; ++c) {
    Instruction r;
    r.op = Op::kRecv;
    r.imm = {4, 1 - c, 9, 0, 0, 0, 0, 0};
    Instruction s;
    s.op = Op::kSend;
    s.imm = {4, 1 - c, 9, 0, 0, 0, 0, 0};
    Instruction h;
    h.op = Op::kHalt;
    p.cores[static_cast<size_t>(c)].code = {r, s, h};
  }
  backend::CheckResult r = backend::check_program(p, 1, 64, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.problems.front(), HasSubstr("cycle of waits"));
}

TEST(BackendEquivalence, ResidualModelMatchesReference) {
  expect_equivalent(residual_model(), testing::test_arch(6, 6), 3);
}

TEST(BackendThroughput, ReplicatesTheSlowestLayersWithinBudget) {
  const q::QModel m = residual_model();
  ArchSpec a = testing::test_arch(8, 8);  // 64 cores, 512 crossbars
  BackendOptions o;
  o.mode = "throughput";
  backend::CompiledModel lat = compile_qmodel(m, a, {});
  backend::CompiledModel thr = compile_qmodel(m, a, o);
  // The first two convs (9x10 outputs) are the slowest; they get copies, the 1x1 FCs never
  // (one output row).
  EXPECT_GT(thr.layers[0].replicas, 1);
  EXPECT_GT(thr.layers[1].replicas, 1);
  EXPECT_EQ(thr.layers.back().replicas, 1);
  EXPECT_LE(thr.layers[0].replicas, 9);
  EXPECT_LE(thr.crossbars_used, thr.crossbars_available);
  EXPECT_GT(thr.crossbars_used, lat.crossbars_used);
  int64_t cores = 0;
  for (const auto& lp : thr.layers) {
    cores += static_cast<int64_t>(lp.cores.size());
    EXPECT_EQ(static_cast<int64_t>(lp.cores.size()), lp.slices * lp.replicas);
  }
  EXPECT_LE(cores, 64);
  // Pixels per replica of the slowest matrix layer shrink.
  double worst_lat = 0, worst_thr = 0;
  for (size_t i = 0; i < thr.layers.size(); ++i) {
    if (thr.layers[i].kind != q::LayerKind::kConv) continue;
    const double px = double(thr.layers[i].win.OH * thr.layers[i].win.OW);
    worst_lat = std::max(worst_lat, px / double(lat.layers[i].replicas));
    worst_thr = std::max(worst_thr, px / double(thr.layers[i].replicas));
  }
  EXPECT_LT(worst_thr, worst_lat);
  const std::string json = backend::compile_json_text(m, a, thr);
  EXPECT_THAT(json, HasSubstr("\"mode\": \"throughput\""));
  backend::CheckResult r = backend::check_program(thr.program, 3, a.core.buffer_bytes, a.memory.capacity_bytes);
  EXPECT_TRUE(r.ok()) << (r.problems.empty() ? "" : r.problems.front());
}

// Runs a throughput-mode program on two images (expect_equivalent compiles in latency mode).
void expect_program_matches_reference(const q::QModel& m, const ArchSpec& a, const backend::CompiledModel& thr) {
  std::mt19937 rng(3);
  std::vector<uint8_t> global;
  std::vector<std::vector<std::vector<int32_t>>> ref;
  for (int n = 0; n < 2; ++n) {
    std::vector<std::vector<int32_t>> ins = {testing::random_codes(m.tensors[static_cast<size_t>(m.inputs[0])], rng)};
    testing::put_input(global, thr.program.inputs[0], n, ins[0]);
    ref.push_back(testing::reference_codes(m, ins));
  }
  testing::ExecResult r = testing::execute(thr.program, a.core.buffer_bytes, global, 2);
  ASSERT_TRUE(r.ok) << r.error;
  for (int n = 0; n < 2; ++n) {
    for (size_t k = 0; k < m.outputs.size(); ++k) {
      EXPECT_EQ(testing::get_output(r.global, thr.program.outputs[k], n),
                ref[static_cast<size_t>(n)][static_cast<size_t>(m.outputs[k])]);
    }
  }
}

TEST(BackendThroughput, ReplicatedStreamsMatchReference) {
  ArchSpec a = testing::test_arch(8, 8);
  BackendOptions o;
  o.mode = "throughput";
  const q::QModel m = residual_model();
  backend::CompiledModel thr = compile_qmodel(m, a, o);
  ASSERT_GT(thr.layers[1].replicas, 1);
  expect_program_matches_reference(m, a, thr);
}

// Explicit counts replace the rule: the named layers get exactly theirs, all others 1; the
// program still computes the reference; and every bad count is an InputError naming it.
TEST(BackendThroughput, ExplicitReplicasAreUsedAndChecked) {
  ArchSpec a = testing::test_arch(8, 8);
  const q::QModel m = residual_model();
  const std::string c1 = m.layers[0].name, c2 = m.layers[1].name;
  BackendOptions o;
  o.mode = "throughput";
  o.replicas = {{c1, 3}, {c2, 2}};
  const backend::CompiledModel thr = compile_qmodel(m, a, o);
  ASSERT_EQ(thr.layers[0].layer, 0);
  EXPECT_EQ(thr.layers[0].replicas, 3);
  EXPECT_EQ(thr.layers[1].replicas, 2);
  int64_t xbars = 0;
  for (size_t i = 2; i < thr.layers.size(); ++i) EXPECT_EQ(thr.layers[i].replicas, 1) << i;
  for (const auto& lp : thr.layers) {
    EXPECT_EQ(static_cast<int64_t>(lp.cores.size()), lp.per_replica() * lp.replicas);
    xbars += lp.conv.crossbars * lp.replicas;
  }
  EXPECT_EQ(thr.crossbars_used, xbars);
  EXPECT_THAT(backend::compile_json_text(m, a, thr), HasSubstr("\"replication\": 3"));
  expect_program_matches_reference(m, a, thr);

  auto error_of = [&](std::map<std::string, int64_t> reps, const std::string& mode = "throughput",
                      const ArchSpec* chip = nullptr) {
    BackendOptions bad;
    bad.mode = mode;
    bad.replicas = std::move(reps);
    try {
      compile_qmodel(m, chip ? *chip : a, bad);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(error_of({{c1 + "x", 2}}), HasSubstr("replicas for layer '" + c1 + "x': no such layer (did you mean '" + c1 + "'?)"));
  const std::string pool = m.layers[3].name;
  ASSERT_EQ(m.layers[3].kind, q::LayerKind::kMaxPool);
  EXPECT_THAT(error_of({{pool, 2}}), HasSubstr("'" + pool + "': not a matrix layer"));
  EXPECT_THAT(error_of({{c1, 0}}), HasSubstr("'" + c1 + "': 0 is not in [1, 9]"));
  EXPECT_THAT(error_of({{c1, 10}}), HasSubstr("'" + c1 + "': 10 is not in [1, 9]"));
  EXPECT_THAT(error_of({{c1, 2}}, "latency"), HasSubstr("throughput-mode mapping"));
  // 16 cores hold one copy of every layer, not 9 copies of the first two.
  const ArchSpec small = testing::test_arch(4, 4);
  EXPECT_THAT(error_of({{c1, 9}, {c2, 9}}, "throughput", &small),
              HasSubstr("the replicas " + c1 + "=9 (+"));
  EXPECT_THAT(error_of({{c1, 9}, {c2, 9}}, "throughput", &small), HasSubstr("the chip has 16 and"));
}

TEST(BackendEquivalence, ConvVariants) {
  ArchSpec a = testing::test_arch(4, 4);
  struct Case {
    ConvSpec s;
    std::vector<int64_t> in;
  };
  std::vector<Case> cases;
  ConvSpec s;
  s.M = 5;
  cases.push_back({s, {4, 5, 6}});                       // 1x1: direct mvm from the ring
  s.kh = 3; s.kw = 1; s.sh = 2; s.pt = 2; s.pb = 1;
  cases.push_back({s, {3, 7, 5}});                       // tall kernel, asymmetric pads
  s = ConvSpec{};
  s.M = 12; s.kh = s.kw = 3; s.sw = 2; s.dh = 2; s.pl = 1; s.pr = 2; s.relu = false;
  cases.push_back({s, {5, 8, 9}});                       // dilated rows, wrap of the ring
  s = ConvSpec{};
  s.M = 6; s.kh = 1; s.kw = 3; s.dw = 2; s.group = 2;
  cases.push_back({s, {4, 3, 8}});                       // grouped, dilated columns
  s = ConvSpec{};
  s.M = 20; s.kh = s.kw = 5; s.pt = s.pl = s.pb = s.pr = 2;
  cases.push_back({s, {2, 6, 6}});                       // K=50: 2 row tiles, 3 col tiles
  s = ConvSpec{};
  s.M = 4; s.sh = s.sw = 2;
  cases.push_back({s, {4, 7, 7}});                       // 1x1 stride 2: odd rows never sent
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    ModelBuilder b(static_cast<uint32_t>(10 + i));
    int x = b.input(cases[i].in, i % 2 == 0);
    int y = b.conv(x, cases[i].s);
    int z = b.conv(y, ConvSpec{});  // consumer of a possibly split producer
    b.output(y);
    b.output(z);
    expect_equivalent(b.m, a);
  }
}

TEST(BackendEquivalence, SplitDepthwiseReadsOnlyItsChannels) {
  ArchSpec a = testing::test_arch(4, 4);  // 32x32 crossbars, 8 weight columns, 8 per core
  ModelBuilder b;
  ConvSpec s;
  s.M = 36;
  s.kh = s.kw = 3;
  s.pt = s.pl = s.pb = s.pr = 1;
  int x = b.conv(b.input({8, 5, 6}), s);  // K=72: 3 row tiles -> 2 col tiles per core: 3 cores
  ConvSpec dw = s;
  dw.group = 36;                          // P = min(36, 8, floor(32/9)) = 3 -> 12 blocks
  b.output(b.conv(x, dw));
  backend::CompiledModel cm = compile_qmodel(b.m, a, {});
  const backend::LayerPlan& prod = cm.layers[0];
  const backend::LayerPlan& lp = cm.layers[1];
  ASSERT_EQ(prod.cores.size(), 3u);  // slices [0,16) [16,32) [32,36)
  EXPECT_EQ(prod.m1[0], 16);
  ASSERT_EQ(lp.cores.size(), 2u);    // 6 blocks of 3 channels each
  EXPECT_EQ(lp.in_c0[1], 18);
  EXPECT_EQ(lp.in_c1[1], 36);
  // Core 1's ring holds 18 channels: (3-1)+1+1 = 4 slots x (6+2) pixels x 18 bytes.
  const backend::CoreInfo& ci = cm.cores[static_cast<size_t>(lp.cores[1])];
  EXPECT_EQ(ci.buffers.front().name, "ring");
  EXPECT_EQ(ci.buffers.front().bytes, 4 * 8 * 18);
  // Producer core 0 (channels 0..15) never talks to consumer core 1 (channels 18..35).
  for (const backend::MessageEdge& e : cm.edges) {
    EXPECT_FALSE(e.from_core == prod.cores[0] && e.to_core == lp.cores[1]);
  }
  expect_equivalent(b.m, a);
}

TEST(BackendEquivalence, PerPixelAccumulatorsWhenRowDoesNotFit) {
  ArchSpec a = testing::test_arch(4, 4);
  a.core.buffer_bytes = 3000;  // ring 4 x 34 x 4 = 544; per-row acc would be 32*8*4 = 1024 ...
  ModelBuilder b;
  ConvSpec s;
  s.M = 8;
  s.kh = s.kw = 3;
  s.pt = s.pl = s.pb = s.pr = 1;
  b.output(b.conv(b.input({4, 4, 64}), s));
  backend::CompiledModel cm = compile_qmodel(b.m, a, {});
  ASSERT_EQ(cm.layers[0].per_pixel_requant.size(), 1u);
  EXPECT_TRUE(cm.layers[0].per_pixel_requant[0]);
  EXPECT_LE(cm.cores[static_cast<size_t>(cm.layers[0].cores[0])].peak_bytes, 3000);
  EXPECT_EQ(cm.layers[0].ring_slots[0], 4);
  expect_equivalent(b.m, a);
  // Tighter: the minimal ring (3 slots x 66 x 4 = 792 bytes) and a single output row.
  a.core.buffer_bytes = 1500;
  backend::CompiledModel tight = compile_qmodel(b.m, a, {});
  EXPECT_EQ(tight.layers[0].ring_slots[0], 3);
  EXPECT_LE(tight.cores[static_cast<size_t>(tight.layers[0].cores[0])].peak_bytes, 1500);
  expect_equivalent(b.m, a);
}

TEST(BackendPlacement, SnakeWalkKeepsLayersAdjacent) {
  ArchSpec a = testing::test_arch(3, 3);
  ModelBuilder b;
  int x = b.input({8});
  for (int i = 0; i < 9; ++i) x = b.fc(x, 8, true);
  b.output(x);
  backend::CompiledModel cm = compile_qmodel(b.m, a, {});
  EXPECT_EQ(cm.snake, (std::vector<int>{0, 1, 2, 5, 4, 3, 6, 7, 8}));
  for (const backend::MessageEdge& e : cm.edges) {
    if (e.from_core >= 0 && e.to_core >= 0) {
      EXPECT_EQ(e.hops, 1);
    }
  }
  // 8 messages of 8 bytes over one hop; input load 8 B from core 0 (0 hops); store from
  // core 8 at (2,2) to the memory node 0: 4 hops x 8 bytes.
  EXPECT_EQ(cm.hop_bytes_per_image, 8 * 8 + 4 * 8);
}

TEST(BackendDeterminism, SameInputsSameBytes) {
  const q::QModel m = residual_model();
  ArchSpec a = testing::test_arch(6, 6);
  auto once = [&] {
    backend::CompiledModel cm = compile_qmodel(m, a, {});
    std::vector<uint8_t> w;
    std::vector<uint8_t> p = encode_program(cm.program, &w);
    std::string all(p.begin(), p.end());
    all.append(w.begin(), w.end());
    all += backend::cim_ir_yaml(m, a, cm) + backend::schedule_yaml(m, cm) +
           backend::compile_json_text(m, a, cm);
    return all;
  };
  EXPECT_EQ(once(), once());
}

}  // namespace
}  // namespace cimsim
