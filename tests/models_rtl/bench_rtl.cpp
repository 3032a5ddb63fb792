// Not a test: wall time per RTL clock cycle of the Verilated shift-and-add driven by its
// wrapper from one SC_THREAD, against the C++ reference (docs/cosim.md quotes it).
// Usage: bench_rtl [jobs (default 2000)]; each job is 32 columns x 32 samples.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#include <systemc>

#include "models/kernels/shift_add.h"
#include "models/sc/chip.h"
#include "models/sc/shift_add_unit.h"

namespace {

struct Bench : sc_core::sc_module {
  std::unique_ptr<cimsim::ShiftAddUnit> unit;
  const std::vector<cimsim::kernels::ShiftAddJob>* jobs = nullptr;
  int64_t checksum = 0;
  SC_HAS_PROCESS(Bench);
  explicit Bench(sc_core::sc_module_name n) : sc_core::sc_module(n) {
    unit = cimsim::make_rtl_shift_add("unit", "bench");
    SC_THREAD(run);
  }
  void run() {
    std::vector<int32_t> out(32);
    for (const auto& j : *jobs) {
      unit->run(j, out.data());
      checksum += out[0];
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (!cimsim::rtl_available()) {
    std::puts("bench_rtl: cimsim built without Verilator");
    return 0;
  }
  const int n = argc > 1 ? std::atoi(argv[1]) : 2000;
  std::mt19937_64 rng(1);
  std::vector<cimsim::kernels::ShiftAddJob> jobs(static_cast<size_t>(n));
  for (auto& j : jobs) {
    j.cols = 32;
    j.samples_per_column = 32;
    j.bias.assign(32, 0);
    for (int c = 0; c < 32; ++c)
      for (int i = 0; i < 32; ++i)
        j.samples.push_back({static_cast<uint32_t>(rng() % 256), static_cast<uint8_t>(i % 8), false, i == 0, i == 31});
  }
  cimsim::reset_systemc_context();
  Bench b("bench");
  b.jobs = &jobs;
  const auto t0 = std::chrono::steady_clock::now();
  sc_core::sc_start();
  const double rtl_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto t1 = std::chrono::steady_clock::now();
  std::vector<int32_t> out(32);
  int64_t sum = 0;
  for (const auto& j : jobs) {
    cimsim::kernels::shift_add_reference(j, out.data());
    sum += out[0];
  }
  const double ref_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  const double cycles = static_cast<double>(b.unit->cycles_simulated());
  std::printf("rtl: %.0f cycles in %.3f s = %.1f ns/cycle; C++ reference: %.1f ns/sample%s\n", cycles,
              rtl_s, rtl_s / cycles * 1e9, ref_s / (n * 1024.0) * 1e9, sum == b.checksum ? "" : " (MISMATCH)");
  return sum == b.checksum ? 0 : 1;
}
