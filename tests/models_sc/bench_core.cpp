// bench_core: simulated instructions per second of the core interpreter on synthetic
// programs (not a test; prints numbers). Workloads:
//   scalar: one core, addi/blt loop (pure dispatch path)
//   mixed:  one core, per iteration copy + mvm + requant + addi + blt (values computed)
//   pipe:   6 cores, each iteration core i sends 64 B to core i+1 and receives from i-1
#include <chrono>
#include <cstdio>
#include <random>

#include "sc_test_util.h"

using namespace cimsim;
using namespace cimsim::test;

namespace {

void report(const char* name, Program p, int batch) {
  ArchSpec arch = small_arch();
  arch.crossbar.rows = 128;
  arch.crossbar.cols = 128;
  arch.core.buffer_bytes = 65536;
  Sim sim(arch, p);
  sim.chip->set_batch(batch);
  auto t0 = std::chrono::steady_clock::now();
  ChipStats s = sim.run();
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%-7s %12llu instructions  %8.3f s  %6.2f M instructions/s  end %llu cycles%s%s\n", name,
              static_cast<unsigned long long>(s.instructions_executed), wall,
              static_cast<double>(s.instructions_executed) / wall / 1e6,
              static_cast<unsigned long long>(s.end_ps / 1000), sim.chip->finished() ? "" : "  NOT FINISHED ",
              sim.chip->error().c_str());
}

}  // namespace

extern "C" int sc_main(int, char**) {
  ArchSpec arch = small_arch();
  {
    Program p = program_for(arch);
    p.cores[0].code = {addi(1, 1, 1), blt(1, 15, 0), halt()};
    report("scalar", p, 5000000);
  }
  {
    Program p = program_for(arch);
    TileDesc t;
    t.rows = 72;
    t.cols = 16;
    std::mt19937 g(1);
    for (int i = 0; i < t.rows * t.cols; ++i) t.weights.push_back(static_cast<int8_t>(static_cast<int>(g() % 255) - 127));
    p.cores[0].tiles = {t};
    RequantDesc q;
    q.channels = 16;
    q.bias.assign(16, 3);
    q.multiplier.assign(16, 1 << 30);
    q.shift.assign(16, 36);
    p.cores[0].requant = {q};
    p.cores[0].code = {copy(A(4096), A(0), 24, 3, 192, 24, 1, 0, 0), mvm(0, A(8192), A(4096), 0),
                       requant(A(9000), A(8192), 16, 0), addi(1, 1, 1), blt(1, 15, 0), halt()};
    report("mixed", p, 2000000);
  }
  {
    Program p = program_for(arch);
    for (int c = 0; c < 6; ++c) {
      int next = (c + 1) % 6, prev = (c + 5) % 6;
      p.cores[static_cast<size_t>(c)].code = {send(A(0), 64, next, 1), recv(A(128), 64, prev, 1),
                                              addi(1, 1, 1), blt(1, 15, 0), halt()};
    }
    report("pipe", p, 200000);
  }
  return 0;
}
