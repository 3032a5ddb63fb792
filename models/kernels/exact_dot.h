// Exact integer column dot products for the crossbar's exact path.
//
// Contract: exact_dot_columns(w, u, rows_pad, n, out) sets
//   out[c] = sum_r int32(u[r]) * int32(w[c * rows_pad + r])   for c in 0..n-1, r in 0..rows_pad-1
// with unsigned 8-bit inputs u and signed 8-bit weights w (column-major), in int32 without
// saturation (|w| <= 127 and rows_pad <= 65536 keep every sum inside int32). rows_pad must
// be a multiple of kExactRowBlock; pad rows with zero weights (or zero inputs). The result
// is the same integer on every machine: an AVX-512 VNNI, AVX-512BW or AVX2 version is picked
// at run time when the CPU has it, else a portable loop.
#pragma once

#include <cstdint>

namespace cimsim::kernels {

constexpr int kExactRowBlock = 64;

void exact_dot_columns(const int8_t* w, const uint8_t* u, int rows_pad, int n, int32_t* out);

// The implementation exact_dot_columns uses here: "avx512vnni", "avx512bw", "avx2" or "portable".
const char* exact_dot_isa();

// Test hook: run one named implementation (false when this CPU lacks it or the name is unknown).
bool exact_dot_columns_with(const char* isa, const int8_t* w, const uint8_t* u, int rows_pad, int n,
                            int32_t* out);

}  // namespace cimsim::kernels
