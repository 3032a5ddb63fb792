// Test helpers for the crossbar kernel: arch/tile builders and an independent,
// straightforward per-step reference of the crossbar MVM (no bit tricks, no shared code
// with the kernel besides platform/spec/slicing.h, the single slicing definition).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "platform/spec/arch.h"
#include "platform/spec/isa.h"

namespace cimsim::kernel_test {

struct ArchParams {
  int rows = 128, cols = 128;
  int cell_bits = 2, dac_bits = 1, adc_bits = 8;
  AdcRangePolicy range = AdcRangePolicy::kLsbAligned;
  bool lossless = false;
  WeightEncoding encoding = WeightEncoding::kOffset;
  bool flip = false;
  int weight_bits = 8, activation_bits = 8;
};

ArchSpec make_arch(const ArchParams& p);

// Random tile of `rows` x `cols` weights uniform in +-(2^(Bw-1)-1).
TileDesc random_tile(const ArchSpec& arch, int rows, int cols, bool input_unsigned,
                     std::mt19937_64& rng);

// Random input codes for `rows` rows in the activation range (as the uint8 bytes mvm takes).
std::vector<uint8_t> random_inputs(const ArchSpec& arch, int rows, bool input_unsigned,
                                   std::mt19937_64& rng);

// sum_r W[r][c] * x[r] in int64.
std::vector<int64_t> naive_dot(const TileDesc& tile, const std::vector<uint8_t>& in);

// Per-step, per-physical-column model written straight from the documented math, with an
// ideal-cell crossbar, ADC offset/gain from arch.nonideality and the given ADC policy.
// Counts saturations (top clips) in *saturations.
std::vector<int64_t> reference_mvm(const ArchSpec& arch, const TileDesc& tile,
                                   const std::vector<uint8_t>& in, int64_t* saturations);

}  // namespace cimsim::kernel_test
