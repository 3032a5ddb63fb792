// A time-multiplexed model compiled by the backend and run on the SystemC chip (the real
// simulator, not the test executor): its outputs equal the integer reference, and the report
// shows the reload traffic (memory bytes = inputs + outputs + reloaded weights).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "compiler/backend/backend.h"
#include "platform/spec/arch.h"
#include "platform/spec/npy.h"
#include "platform/spec/program_io.h"
#include "platform/vp/simulate.h"
#include "qmodel_util.h"

namespace cimsim {
namespace {

namespace fs = std::filesystem;
using testing::ConvSpec;
using testing::ModelBuilder;

TEST(BackendReloadSim, ChipRunsReloadedFcsBitExact) {
  ModelBuilder b(3);
  ConvSpec s;
  s.M = 16;
  s.kh = s.kw = 3;
  s.pt = s.pl = s.pb = s.pr = 1;
  int x = b.conv(b.input({8, 4, 4}), s);
  int h = b.fc(b.reshape(x, {256}), 100, true);  // 104 tiles: reloaded on 6 cores
  int g = b.fc(h, 40, true);
  b.output(b.fc(g, 10, false));
  // tiny.yaml (exact ADC) on a 2 x 3 mesh, written next to the program as DIR/arch.yaml.
  const fs::path dir = fs::path(CIMSIM_BINARY_DIR) / "backend_reload_sim";
  const ArchSpec a = testing::write_tiny_arch(dir.string(), {{"cores: 4 ", "cores: 6 "}, {"mesh_cols: 2", "mesh_cols: 3"}});
  ASSERT_EQ(a.chip.cores, 6);
  const backend::CompiledModel cm = backend::compile_qmodel(b.m, a, {});
  ASSERT_TRUE(cm.layers[1].reload);
  write_program_files(cm.program, dir.string());
  // Input values that are exact codes * scale, so the simulator quantizes them to `codes`.
  const q::QTensor& in = b.m.tensors[static_cast<size_t>(b.m.inputs[0])];
  std::mt19937 rng(21);
  const int batch = 2;
  ASSERT_EQ(in.shape, (std::vector<int64_t>{8, 4, 4}));
  const std::vector<std::vector<int32_t>> codes =
      testing::write_code_inputs(in, batch, rng, (dir / "x.npy").string());
  SimulateOptions o;
  o.program_dir = dir.string();
  o.input_path = (dir / "x.npy").string();
  o.quiet = true;
  std::ostringstream out, err;
  const SimulateResult r = simulate(o, out, err);
  ASSERT_TRUE(r.finished) << err.str();
  ASSERT_EQ(r.outputs.size(), 1u);
  const q::QTensor& yt = b.m.tensors[static_cast<size_t>(b.m.outputs[0])];
  for (int n = 0; n < batch; ++n) {
    const auto ref = testing::reference_codes(b.m, {codes[static_cast<size_t>(n)]});
    const auto& want = ref[static_cast<size_t>(b.m.outputs[0])];
    ASSERT_EQ(want.size(), 10u);
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(r.outputs[0].data[static_cast<size_t>(n) * 10 + i], static_cast<float>(want[i]) * yt.scale)
          << "image " << n << " element " << i;
    }
  }
  EXPECT_GT(r.report["latency_ns"].get<double>(), 0.0);
}

}  // namespace
}  // namespace cimsim
