// The local-buffer regions of a vector-layer core (pool, global pool, add/concat/lut; docs/
// schedule.md "Vector layers"): the one sizing rule the compiler's plan_pool(),
// plan_global_pool() and plan_rowwise() lay out and `cimsim synthesize`'s estimator checks
// against core.buffer_bytes. Vector layers do not spill: a core whose regions exceed the
// buffer is an InputError in the compiler (check_capacity) and infeasible in the estimator.
//
// Contract: each function appends its regions to `a`, in the order the compiler uses them,
// and returns their offsets; pure, deterministic.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "compiler/backend/conv_buffers.h"

namespace cimsim::backend {

// An average pool over the whole plane, computed as a running sum per input row.
inline bool is_global_pool(const Window& w, bool average) {
  return average && w.kh == w.H && w.kw == w.W && w.OH == 1 && w.OW == 1 && w.pt == 0 && w.pl == 0 &&
         w.pb == 0 && w.pr == 0 && w.dh == 1 && w.dw == 1;
}

// Throws InputError "WHERE needs N bytes of local buffer (regions), a core has CAP (spilling
// to global memory is implemented for convolutions only)" when `a` exceeds `buffer_bytes`.
void check_vector_core(const BufferAlloc& a, int64_t buffer_bytes, const std::string& where);

struct PoolRegions {
  int64_t slots = 0;  // ring slots: the full ring, or the minimal one when that does not fit
  int64_t ring = 0, acc = 0, out = 0, gather = 0, recv_tmp = 0;
};
// Windowed pool: ring of padded rows, int32 accumulators (average pools), two output rows, a
// gather row (horizontal stride > 1), the receive temp.
PoolRegions pool_regions(const Window& w, bool is_max, int64_t recv_tmp, int64_t buffer_bytes, BufferAlloc* a);

struct GlobalPoolRegions {
  int64_t row = 0, acc = 0, out = 0, recv_tmp = 0;
};
// Global average pool: one input row, C int32 sums, the C output bytes, the receive temp.
GlobalPoolRegions global_pool_regions(const Window& w, int64_t recv_tmp, BufferAlloc* a);

struct RowwiseRegions {
  std::vector<int64_t> in;  // per input
  int64_t out = 0, recv_tmp = 0;
};
// Add / concat / lut: one row per distinct input (named), two output rows, the receive temp
// (a concat's LUT temp row, which depends on its tables, is added by the caller after these).
RowwiseRegions rowwise_regions(const std::vector<std::pair<std::string, int64_t>>& input_rows,
                               int64_t out_row_bytes, int64_t recv_tmp, BufferAlloc* a);

}  // namespace cimsim::backend
