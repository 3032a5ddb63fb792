// The shift-and-add unit of a PE's digital back end, as data and as a C++ reference model.
//
// Contract: an MVM's ADC output reaches the unit as a stream of samples, weight column by
// weight column (ProgrammedTile::digitize builds it). Column c's samples are its cell slices
// s = 0 .. cells-1 in order, each with its DAC steps k = 0 .. T-1; the first sample of a
// column carries the column's bias (the encoding's correction, plus the previous output for
// an accumulating mvm) and the last one closes the column. The unit computes
//   out[c] = saturate_int32(bias[c] + sum_i (negate_i ? -1 : 1) * (code_i << shift_i))
// in 64-bit two's complement, where shift = k * dac.bits + (slice significance) and negate is
// set for a flipped or negative (differential) column. Every column's significance is a
// power of two (platform/spec/slicing.h), so shift + negate say everything a weight would.
// The RTL of models/rtl/cimsim_shift_add.sv implements exactly this (docs/cosim.md).
#pragma once

#include <cstdint>
#include <vector>

namespace cimsim::kernels {

struct ShiftAddSample {
  uint32_t code = 0;    // decoded ADC value, cell-level units (an integer: see digitize)
  uint8_t shift = 0;    // 0 .. 31
  bool negate = false;
  bool first = false;   // first sample of a column: the accumulator starts from the bias
  bool last = false;    // last sample of a column: the result is complete
};

// One MVM's work for the unit.
struct ShiftAddJob {
  int cols = 0;                        // weight columns (results)
  int samples_per_column = 0;          // cells_per_weight * input_steps
  std::vector<ShiftAddSample> samples; // cols * samples_per_column, column by column
  std::vector<int64_t> bias;           // per column
};

// The reference model: writes job.cols results to out.
void shift_add_reference(const ShiftAddJob& job, int32_t* out);

}  // namespace cimsim::kernels
