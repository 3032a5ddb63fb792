// A conv core's local-buffer plan (docs/schedule.md, "Spilling"): which regions it needs
// (ring of input rows or input strips from global memory, staging, accumulators, output
// rows) and the cheapest choice that fits the buffer. One rule, applied by the compiler's
// plan_buffers() to every conv core and called by `cimsim synthesize`'s estimator to model
// spilling without compiling.
//
// Contract:
//  - ConvCoreBuffers is everything the choice depends on; conv_core_buffers() derives its
//    geometry from a ConvMap and the column tiles of one core (slice_col_tiles()), the caller
//    adds recv_tmp (recv_tmp_bytes()) and whether the input comes from a layer (tokens).
//  - conv_alloc() sizes the regions of a choice (the only place that does); choose_conv()
//    returns the first choice that fits `buffer_bytes`, in the documented order, or throws
//    InputError "WHERE needs N bytes of local buffer even when spilling ... a core has CAP".
//  - Pure functions: no I/O, deterministic.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "compiler/backend/mapping.h"

namespace cimsim::backend {

constexpr int64_t kBufferAlign = 32;  // one buffer word: regions never share a word

struct BufferRegion {
  std::string name;
  int64_t offset = 0, bytes = 0;
};

// Regions laid out one after another, each aligned to a buffer word.
struct BufferAlloc {
  int64_t top = 0;
  std::vector<BufferRegion> regions;
  int64_t add(const std::string& name, int64_t bytes) {
    if (bytes <= 0) return 0;
    top = (top + kBufferAlign - 1) / kBufferAlign * kBufferAlign;
    regions.push_back({name, top, bytes});
    top += bytes;
    return regions.back().offset;
  }
};

struct ConvChoice {
  int64_t S = 0;           // ring slots (ring mode)
  bool per_pixel = false;  // ring mode: accumulators of one pixel, requant inside the pixel
                           // loop (strip mode: per strip buffer, or per row when K-split)
  int64_t nout = 2;        // output row buffers; 0 = each pixel is stored to global memory
  int64_t strip = 0;       // > 0: input from global memory in strips of this many pixels
  int64_t strip_bufs = 0;  // strip buffers (2: the next strip loads while this one computes)
};

struct ConvCoreBuffers {
  Window win;
  int64_t ms = 0;       // output channels of the core
  int64_t cr = 0;       // input channels it reads (its groups'), kept in the ring
  int64_t kparts = 1;   // K-split parts of its slice
  bool part0 = true;    // part 0 requantizes, sends and keeps the output rows
  struct Block {
    int64_t K = 0, cin = 0;
  };
  std::vector<Block> blocks;  // the distinct blocks of its column tiles, in order
  int64_t recv_tmp = 0;       // ring mode: temp row for producer slices not landing in place
  bool tokens = false;        // the input is a layer's output (strip mode: 1-byte tokens)
};

// Balanced slices: slice s of `slices` gets floor or ceil of the column tiles, in order.
std::vector<std::vector<int>> slice_col_tiles(int64_t col_tiles, int64_t slices);
// Output channels [m0, m1) and input channels [c0, c1) of a core holding `tiles`.
struct SliceRange {
  int64_t m0 = 0, m1 = 0, c0 = 0, c1 = 0;
};
SliceRange slice_range(const ConvMap& cv, const std::vector<int>& tiles);
// Geometry of a core of part `part` holding `tiles` (recv_tmp and tokens left to the caller).
ConvCoreBuffers conv_core_buffers(const ConvMap& cv, const std::vector<int>& tiles, int64_t part);
// Whether a producer slice [m0, m1) lands in place in a consumer's window [lo, hi) (no
// temp): it is exactly the window, or the row is one pixel wide and the slice lies inside.
inline bool slice_in_place(int64_t m0, int64_t m1, int64_t lo, int64_t hi, int64_t W) {
  return (m0 == lo && m1 == hi) || (W == 1 && m0 >= lo && m1 <= hi);
}
// The temp row a ring-mode core reading channels [lo, hi) of a C x W tensor needs: producer
// slices [m0, m1) that overlap it and do not land in place (the whole window, or inside it
// when W == 1) arrive in a temp; a model input is loaded whole unless the core reads all.
int64_t recv_tmp_bytes(int64_t lo, int64_t hi, const PhysShape& s, bool model_input,
                       const std::vector<std::pair<int64_t, int64_t>>& producer_slices);

// Whether block b's im2col vector is contiguous in the ring/strip (mvm reads it in place).
bool conv_block_direct(const ConvCoreBuffers& c, const ConvCoreBuffers::Block& b, const ConvChoice& ch);
BufferAlloc conv_alloc(const ConvCoreBuffers& c, const ConvChoice& ch);
// Cheapest choice that fits `buffer_bytes`; `forced`: the producer stores pixels, the input
// must come from global memory. `where` names the core in the error ("MODEL: layer L: core K").
ConvChoice choose_conv(const ConvCoreBuffers& c, int64_t buffer_bytes, bool forced, const std::string& where);

}  // namespace cimsim::backend
