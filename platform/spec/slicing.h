// How a signed weight code becomes cell levels, and an activation code becomes DAC steps.
//
// One definition shared by the compiler (column counts, placement) and the crossbar model
// (conductances, digital corrections). The math is in docs/mapping.md, "Bit slicing":
//
//  Weights (Bw bits, |w| <= 2^(Bw-1)-1), cells of c bits:
//   offset:       u = w + 2^(Bw-1) in [1, 2^Bw-1]; S = ceil(Bw / c) slices,
//                 slice s = (u >> s*c) & (2^c-1); column value sum_r x_r*u_r, then
//                 y = sum_s 2^(s*c) * col_s - 2^(Bw-1) * sum_r x_r.
//   differential: p = max(w,0), n = max(-w,0); S = ceil((Bw-1) / c) slices of each;
//                 2S physical columns (S positive, then S negative);
//                 y = sum_s 2^(s*c) * (colP_s - colN_s).
//   weight_flip:  per physical column, if sum_r g_r > rows_used*(2^c-1)/2 the column stores
//                 (2^c-1) - g and the digital side uses (2^c-1)*sum_r x_r - col instead of col.
//  Inputs (Bx bits, DAC of d bits): signed codes are offset to x + 2^(Bx-1) (unsigned) and
//  the digital side subtracts 2^(Bx-1) * sum_r w_r; then T = ceil(Bx / d) steps, step k
//  applies (x >> k*d) & (2^d-1) to every row, LSB step first.
#pragma once

#include <cstdint>

#include "platform/spec/arch.h"

namespace cimsim::slicing {

inline int weight_slices(int weight_bits, int cell_bits, WeightEncoding enc) {
  int magnitude_bits = enc == WeightEncoding::kOffset ? weight_bits : weight_bits - 1;
  return (magnitude_bits + cell_bits - 1) / cell_bits;
}

// Physical columns one logical weight column occupies.
inline int cells_per_weight(int weight_bits, int cell_bits, WeightEncoding enc) {
  int s = weight_slices(weight_bits, cell_bits, enc);
  return enc == WeightEncoding::kOffset ? s : 2 * s;
}

inline int input_steps(int activation_bits, int dac_bits) {
  return (activation_bits + dac_bits - 1) / dac_bits;
}

// Cell level of physical column `phys` (0 .. cells_per_weight-1) for weight code w,
// before any weight flip.
inline int cell_level(int w, int phys, int weight_bits, int cell_bits, WeightEncoding enc) {
  const int mask = (1 << cell_bits) - 1;
  if (enc == WeightEncoding::kOffset) {
    int u = w + (1 << (weight_bits - 1));
    return (u >> (phys * cell_bits)) & mask;
  }
  int s = weight_slices(weight_bits, cell_bits, enc);
  int mag = phys < s ? (w > 0 ? w : 0) : (w < 0 ? -w : 0);
  int slice = phys < s ? phys : phys - s;
  return (mag >> (slice * cell_bits)) & mask;
}

// Signed power-of-two weight of physical column `phys` in the digital shift-and-add.
inline int64_t column_weight(int phys, int weight_bits, int cell_bits, WeightEncoding enc) {
  if (enc == WeightEncoding::kOffset) return int64_t{1} << (phys * cell_bits);
  int s = weight_slices(weight_bits, cell_bits, enc);
  return phys < s ? (int64_t{1} << (phys * cell_bits)) : -(int64_t{1} << ((phys - s) * cell_bits));
}

}  // namespace cimsim::slicing
