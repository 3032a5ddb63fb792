// Mapping of a quantized network onto crossbars: layer geometry and weight tiles.
//
// Contract (docs/mapping.md):
//  - Reshape layers are aliases: resolve_tensors() maps every QTensor to the physical tensor
//    that holds its codes; {F} tensors are 1x1 planes of F channels.
//  - A kConv layer (FC included) becomes a ConvMap: an FC on a {C,H,W} input is a conv whose
//    kernel is the whole plane (its [N][C*H*W] weights are conv weights [N][C][H][W]).
//  - The K x M weight matrix uses im2col row order (ky, kx, c), channels fastest. Groups are
//    packed P per block, block-diagonally; each block is split into row tiles of
//    crossbar.rows and column tiles of weight_cols_per_crossbar. One tile = one crossbar.
//  - A core holds whole column tiles (all row tiles of them), or, when the row tiles exceed
//    its crossbars, one K-part of them (single-block layers only; else InputError).
//  - Everything here is deterministic and independent of placement.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/quant/qmodel.h"
#include "platform/spec/arch.h"
#include "platform/spec/isa.h"

namespace cimsim::backend {

// Physical view of a tensor: {C,H,W} channels-last, or {F} as C=F, H=W=1.
struct PhysShape {
  int64_t C = 1, H = 1, W = 1;
  int64_t row_bytes() const { return W * C; }
  int64_t bytes() const { return C * H * W; }
};

// For every QTensor id: the id of the tensor that physically holds its codes (itself unless
// it is a reshape output) and the physical shape of that tensor.
struct TensorMap {
  std::vector<int> phys;          // tensor id -> physical tensor id
  std::vector<PhysShape> shape;   // indexed by tensor id (of the physical tensor)
  std::vector<int> producer;      // physical tensor id -> layer index, -1 for model inputs
};
TensorMap resolve_tensors(const q::QModel& m);

// A window operator's geometry (conv or pool) over the physical input plane.
struct Window {
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pt = 0, pl = 0, pb = 0, pr = 0;
  int64_t H = 1, W = 1, C = 1, OH = 1, OW = 1;
  // Ring of padded input rows (docs/schedule.md): slots and bytes per slot.
  int64_t ring_slots() const { return (kh - 1) * dh + 1 + sh; }
  int64_t padded_w() const { return W + pl + pr; }
  int64_t slot_bytes() const { return padded_w() * C; }
  // Does some output row oy with oy % replicas == replica read input row y (unpadded index;
  // y may be a padding row, y < 0 or y >= H)?
  bool row_needed(int64_t y, int64_t replicas = 1, int64_t replica = 0) const;
  // First/last+1 output column whose tap kx falls inside the input (not the padding).
  void valid_ox(int64_t kx, int64_t* lo, int64_t* hi) const;
  void valid_oy(int64_t ky, int64_t* lo, int64_t* hi) const;
};

struct ConvBlock {
  int64_t g0 = 0, groups = 0;  // groups packed in this block
  int64_t c0 = 0, cin = 0;     // input channel slice
  int64_t m0 = 0, mout = 0;    // output channel slice
  int64_t K = 0;               // kh*kw*cin rows
  int64_t row_tiles = 0, col_tiles = 0;
};

struct ColTile {
  int block = 0;
  int64_t j = 0;        // column tile index within the block
  int64_t m0 = 0;       // first output channel (global)
  int64_t cols = 0;
};

struct ConvMap {
  Window win;
  int64_t M = 0, G = 1, Cg = 0, Mg = 0, P = 1;  // P groups per block
  std::vector<ConvBlock> blocks;
  std::vector<ColTile> col_tiles;  // all column tiles in output-channel order
  int64_t row_tiles_max = 0;
  int64_t col_tiles_per_core = 0;  // column tiles a core holds (its part of their row tiles)
  // K-splitting: when a column tile's row tiles exceed a core's crossbars, they are split in
  // kparts contiguous parts of rows_per_part row tiles, one core each; part cores send int32
  // partial sums to the part-0 core, which adds them before requantizing.
  int64_t kparts = 1, rows_per_part = 0;
  int64_t crossbars = 0;           // tiles in total
  int64_t used_cells = 0, nonzero_weights = 0;  // for utilization reports
  bool input_unsigned = true;
};

// Builds the map of layer `li` (a kConv): conv_geometry(), the accumulator-range check over
// its weights, then tile_conv(). Throws InputError naming the layer when it cannot be mapped
// (K-splitting of packed groups needed, inconsistent shapes, accumulator overflow).
ConvMap map_conv(const q::QModel& m, int li, const TensorMap& tm, const ArchSpec& arch);

// The arch-independent half of map_conv: window, M, G, Cg, Mg, input_unsigned, shape checks
// (InputError naming the layer). Reads no weights, so it is cheap for any layer size.
ConvMap conv_geometry(const q::QModel& m, int li, const TensorMap& tm);

// The arch-dependent half: group packing, blocks, column tiles, K-split and
// col_tiles_per_core of a ConvMap whose geometry is set (by conv_geometry). Reads no weights
// and costs O(column tiles), so `cimsim synthesize` calls it for every candidate
// architecture; `where` starts error messages ("MODEL: layer NAME").
void tile_conv(ConvMap* cm, const ArchSpec& arch, const ArchDerived& d, const std::string& where);

// The weights of row tile `rt` of column tile `ct`, tile-local order [r][c].
TileDesc make_tile(const q::QModel& m, int li, const ConvMap& cm, int ct, int64_t rt,
                   const ArchSpec& arch);

// Pool window of a kMaxPool/kAvgPool layer over its physical input.
Window pool_window(const q::QModel& m, int li, const TensorMap& tm);

}  // namespace cimsim::backend
