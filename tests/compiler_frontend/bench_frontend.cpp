// Float reference speed: SGEMM GFLOP/s and whole-network run_float latency.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>

#include "compiler/frontend/onnx_loader.h"
#include "compiler/frontend/passes.h"
#include "compiler/reference/float_interpreter.h"
#include "compiler/reference/float_kernels.h"
#include "platform/spec/npy.h"

namespace {

void BM_Sgemm(benchmark::State& state) {
  const int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  cimsim::reference::set_float_threads(static_cast<int>(state.range(3)));
  std::vector<float> a(M * K, 0.5f), b(K * N, 0.25f), c(M * N);
  for (auto _ : state) {
    cimsim::reference::sgemm(M, N, K, a.data(), K, b.data(), N, c.data(), N, false);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * M * N * K, benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
  cimsim::reference::set_float_threads(2);
}
// ResNet-18 layer2 3x3 conv as a GEMM (M=128, N=28*28, K=128*9), and a Gemm-like row.
BENCHMARK(BM_Sgemm)->Args({128, 784, 1152, 1})->Args({128, 784, 1152, 2})->Args({1, 1000, 512, 1})
    ->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Network(benchmark::State& state, const std::string& name) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(CIMSIM_BINARY_DIR) / "test_models";
  if (!fs::exists(dir / (name + ".onnx"))) {
    state.SkipWithError((name + ".onnx not in " + dir.string() + "; run frontend_model_tests first").c_str());
    return;
  }
  cimsim::ir::Graph g = cimsim::frontend::load_onnx((dir / (name + ".onnx")).string());
  cimsim::frontend::simplify(g);
  cimsim::NpyArray x = cimsim::read_npy((dir / (name + "_input.npy")).string());
  std::vector<cimsim::ir::FloatTensor> in{{x.shape, x.data}};
  for (auto _ : state) benchmark::DoNotOptimize(cimsim::reference::run_float(g, in));
}
BENCHMARK_CAPTURE(BM_Network, resnet18, std::string("resnet18"))->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Network, mobilenet_v2, std::string("mobilenet_v2"))->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
