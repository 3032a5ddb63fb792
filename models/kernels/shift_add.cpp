#include "models/kernels/shift_add.h"

#include <algorithm>
#include <limits>

namespace cimsim::kernels {

void shift_add_reference(const ShiftAddJob& job, int32_t* out) {
  const ShiftAddSample* s = job.samples.data();
  for (int c = 0; c < job.cols; ++c) {
    // Unsigned arithmetic wraps like the RTL's 64-bit adder (no sum of real inputs gets near it).
    uint64_t acc = 0;
    for (int i = 0; i < job.samples_per_column; ++i, ++s) {
      const uint64_t term = uint64_t{s->code} << s->shift;
      if (s->first) acc = static_cast<uint64_t>(job.bias[static_cast<size_t>(c)]);
      acc = s->negate ? acc - term : acc + term;
    }
    out[c] = static_cast<int32_t>(std::clamp<int64_t>(static_cast<int64_t>(acc),
                                                      std::numeric_limits<int32_t>::min(),
                                                      std::numeric_limits<int32_t>::max()));
  }
}

}  // namespace cimsim::kernels
