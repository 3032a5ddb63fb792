// Crossbar MVM throughput per path: one 128x128 tile (offset encoding, 32 8-bit weight
// columns x 4 two-bit cells), 8-bit unsigned inputs, 1-bit DAC, 8-bit ADC.
// MAC/s counts logical 8-bit multiply-accumulates (rows x weight columns per MVM).
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "models/kernels/crossbar_kernel.h"
#include "models/kernels/exact_dot.h"
#include "models/kernels/tile_programming.h"

namespace {

cimsim::ArchSpec bench_arch() {
  cimsim::ArchSpec a;
  a.crossbar.rows = 128;
  a.crossbar.cols = 128;
  a.crossbar.cell_bits = 2;
  a.dac.bits = 1;
  a.adc.bits = 8;
  a.adc.range = cimsim::AdcRangePolicy::kLsbAligned;
  return a;
}

cimsim::TileDesc bench_tile() {
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<int> dist(-127, 127);
  cimsim::TileDesc t;
  t.rows = 128;
  t.cols = 32;
  t.weights.resize(128 * 32);
  for (auto& w : t.weights) w = static_cast<int8_t>(dist(rng));
  return t;
}

void run(benchmark::State& state, cimsim::ArchSpec arch, cimsim::MvmPath path) {
  const cimsim::TileDesc desc = bench_tile();
  cimsim::ProgrammedTile tile(arch, desc, 1);
  if (tile.path() != path) tile.force_path(path);
  std::mt19937_64 rng(2);
  std::vector<std::vector<uint8_t>> inputs(16, std::vector<uint8_t>(128));
  for (auto& in : inputs)
    for (auto& v : in) v = static_cast<uint8_t>(rng() & 255);
  std::vector<int32_t> out(32);
  size_t i = 0;
  for (auto _ : state) {
    tile.mvm(inputs[i++ % inputs.size()].data(), out.data(), false, nullptr);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.counters["MAC/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * 128 * 32, benchmark::Counter::kIsRate);
}

void BM_Exact(benchmark::State& state) {
  auto arch = bench_arch();
  arch.adc.lossless = true;
  run(state, arch, cimsim::MvmPath::kExact);
}

void BM_BitPlane(benchmark::State& state) { run(state, bench_arch(), cimsim::MvmPath::kBitPlane); }

void BM_AnalogNoiseFree(benchmark::State& state) {
  run(state, bench_arch(), cimsim::MvmPath::kAnalog);
}

void BM_AnalogReadNoise(benchmark::State& state) {
  auto arch = bench_arch();
  arch.nonideality.programming_noise_sigma = 0.02;
  arch.nonideality.read_noise_sigma = 0.01;
  run(state, arch, cimsim::MvmPath::kAnalog);
}

// Programming cost: 96 exact-path tiles (a full ISAAC core) per iteration on 1 or 2 threads.
void BM_ProgramTiles(benchmark::State& state) {
  auto arch = bench_arch();
  arch.crossbar.weight_flip = true;
  const std::vector<cimsim::TileDesc> tiles(96, bench_tile());
  std::vector<uint64_t> streams(tiles.size());
  for (size_t i = 0; i < streams.size(); ++i) streams[i] = i;
  for (auto _ : state) {
    auto programmed = cimsim::kernels::program_tiles(arch, tiles, streams, static_cast<int>(state.range(0)));
    benchmark::DoNotOptimize(programmed.data());
  }
  state.counters["tiles/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(tiles.size()), benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(BM_Exact)->Name(std::string("BM_Exact/") + cimsim::kernels::exact_dot_isa());
BENCHMARK(BM_BitPlane);
BENCHMARK(BM_AnalogNoiseFree);
BENCHMARK(BM_AnalogReadNoise);
BENCHMARK(BM_ProgramTiles)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_MAIN();
