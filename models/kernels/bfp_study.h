// Error of block floating point through the crossbar against float, on random matrices.
//
// Contract: bfp_random_error() draws a fixed-seed Gaussian weight matrix (out_ch x K) and
// `vectors` Gaussian input vectors, runs them through BfpMatrix on `base` with the given
// block size and mantissa widths (weight_bits = activation_bits = mantissa_bits), and returns
// the relative error ||y - y_float|| / ||y_float|| and the cosine similarity over all outputs,
// y_float computed in double. Same arguments, same numbers. bfp_error_table() runs a grid of
// mantissa widths x block sizes and formats it as a Markdown table (`cimsim bfp-error`).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "platform/spec/arch.h"

namespace cimsim::kernels {

struct BfpError {
  double relative_error = 0;  // ||y - y_float||_2 / ||y_float||_2
  double cosine = 0;          // <y, y_float> / (||y|| ||y_float||)
  double reference_relative_error = 0;  // the same for BfpMatrix::reference (no crossbar)
};

BfpError bfp_random_error(const ArchSpec& base, int block, int mantissa_bits, int64_t out_ch,
                          int64_t K, int vectors, uint64_t seed);

std::string bfp_error_table(const ArchSpec& base, const std::vector<int>& mantissa_bits,
                            const std::vector<int>& blocks, int64_t out_ch, int64_t K,
                            int vectors, uint64_t seed);

}  // namespace cimsim::kernels
