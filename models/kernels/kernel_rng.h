// Deterministic random draws for crossbar non-idealities, identical on every machine.
//
// Contract: a stream is std::mt19937_64 (its output sequence is fixed by the C++ standard)
// seeded with one 64-bit value. uniform() = (next() >> 11) * 2^-53, in [0, 1).
// normal() is Box-Muller on two fresh uniforms u1 = ((next() >> 11) + 1) * 2^-53 in (0, 1]
// and u2 = (next() >> 11) * 2^-53: z0 = sqrt(-2 ln u1) cos(2 pi u2) is returned and
// z1 = sqrt(-2 ln u1) sin(2 pi u2) is kept for the next normal() call of the same stream.
// libstdc++'s std::normal_distribution is not used because its algorithm is
// implementation-defined; results here depend only on the libm's log/sqrt/sin/cos.
#pragma once

#include <cstdint>
#include <random>

namespace cimsim::kernels {

class KernelRng {
 public:
  explicit KernelRng(uint64_t seed) : engine_(seed) {}

  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  double normal();

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

// Derives an independent stream seed (splitmix64 finalizer) so that, e.g., read noise does
// not shift when programming draws change.
uint64_t derive_seed(uint64_t seed, uint64_t salt);

}  // namespace cimsim::kernels
