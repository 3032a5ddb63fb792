// Layer geometry, group packing and weight tiles (docs/mapping.md).
#include "compiler/backend/mapping.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "platform/spec/slicing.h"

namespace cimsim::backend {
namespace {

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

PhysShape phys_of(const q::QTensor& t) {
  PhysShape s;
  if (t.shape.size() == 3) {
    s.C = t.shape[0];
    s.H = t.shape[1];
    s.W = t.shape[2];
  } else {
    s.C = t.numel();
  }
  return s;
}

[[noreturn]] void fail(const q::QModel& m, int li, const std::string& what) {
  throw InputError(fmt::format("{}: layer {}: {}", m.name, m.layers[li].name, what));
}

}  // namespace

TensorMap resolve_tensors(const q::QModel& m) {
  TensorMap tm;
  const size_t n = m.tensors.size();
  tm.phys.resize(n);
  tm.shape.resize(n);
  tm.producer.assign(n, -1);
  for (size_t i = 0; i < n; ++i) {
    tm.phys[i] = static_cast<int>(i);
    tm.shape[i] = phys_of(m.tensors[i]);
  }
  for (size_t li = 0; li < m.layers.size(); ++li) {
    const q::Layer& l = m.layers[li];
    if (l.output < 0 || static_cast<size_t>(l.output) >= n) {
      fail(m, static_cast<int>(li), "output tensor id out of range");
    }
    for (int in : l.inputs) {
      if (in < 0 || static_cast<size_t>(in) >= n) {
        fail(m, static_cast<int>(li), "input tensor id out of range");
      }
    }
    if (l.kind == q::LayerKind::kReshape) {
      if (l.inputs.size() != 1) fail(m, static_cast<int>(li), "reshape needs one input");
      const int src = tm.phys[l.inputs[0]];
      if (m.tensors[src].numel() != m.tensors[l.output].numel()) {
        fail(m, static_cast<int>(li), "reshape changes the element count");
      }
      tm.phys[l.output] = src;
      tm.shape[l.output] = tm.shape[src];
    } else {
      tm.producer[l.output] = static_cast<int>(li);
    }
  }
  return tm;
}

bool Window::row_needed(int64_t y, int64_t replicas, int64_t replica) const {
  const int64_t py = y + pt;
  for (int64_t ky = 0; ky < kh; ++ky) {
    const int64_t t = py - ky * dh;
    if (t >= 0 && t % sh == 0 && t / sh < OH && (t / sh) % replicas == replica) return true;
  }
  return false;
}

void Window::valid_ox(int64_t kx, int64_t* lo, int64_t* hi) const {
  *lo = std::max<int64_t>(0, ceil_div(pl - kx * dw, sw));
  *hi = std::min<int64_t>(OW, floor_div(W - 1 + pl - kx * dw, sw) + 1);
  if (*hi < *lo) *hi = *lo;
}

void Window::valid_oy(int64_t ky, int64_t* lo, int64_t* hi) const {
  *lo = std::max<int64_t>(0, ceil_div(pt - ky * dh, sh));
  *hi = std::min<int64_t>(OH, floor_div(H - 1 + pt - ky * dh, sh) + 1);
  if (*hi < *lo) *hi = *lo;
}

namespace {

// Conv and pool parameters name their window fields alike; one copy serves both.
template <class Params>
void copy_window_params(const Params& p, Window* w) {
  w->kh = p.kernel_h;
  w->kw = p.kernel_w;
  w->sh = p.stride_h;
  w->sw = p.stride_w;
  w->dh = p.dilation_h;
  w->dw = p.dilation_w;
  w->pt = p.pad_top;
  w->pl = p.pad_left;
  w->pb = p.pad_bottom;
  w->pr = p.pad_right;
}

void set_window_input(const q::QModel& m, int li, const PhysShape& in, Window* w) {
  w->C = in.C;
  w->H = in.H;
  w->W = in.W;
  if (w->kh < 1 || w->kw < 1 || w->sh < 1 || w->sw < 1 || w->dh < 1 || w->dw < 1 || w->pt < 0 ||
      w->pl < 0 || w->pb < 0 || w->pr < 0) {
    fail(m, li, "kernel, stride and dilation must be >= 1 and pads >= 0");
  }
}

}  // namespace

ConvMap conv_geometry(const q::QModel& m, int li, const TensorMap& tm) {
  const q::Layer& l = m.layers[li];
  const q::ConvParams& p = l.conv;
  if (l.inputs.size() != 1) fail(m, li, "a conv layer needs exactly one input");
  const int in_id = l.inputs[0];
  const PhysShape in = tm.shape[in_id];
  const PhysShape out = tm.shape[l.output];
  ConvMap cm;
  Window& w = cm.win;
  cm.M = p.out_channels;
  cm.input_unsigned = m.tensors[in_id].is_unsigned;
  if (p.is_fc) {
    // Flatten in CHW order == conv weights [N][C][H][W] with a whole-plane kernel.
    if (p.in_channels != in.bytes()) {
      fail(m, li, fmt::format("FC expects {} features, input has {}", p.in_channels, in.bytes()));
    }
    if (p.group != 1) fail(m, li, "grouped FC is not supported");
    w.kh = in.H;
    w.kw = in.W;
    cm.G = 1;
  } else {
    if (p.in_channels != in.C) {
      fail(m, li, fmt::format("conv expects {} input channels, input has {}", p.in_channels, in.C));
    }
    copy_window_params(p, &w);
    cm.G = p.group;
  }
  set_window_input(m, li, in, &w);
  w.OH = (w.H + w.pt + w.pb - (w.kh - 1) * w.dh - 1) / w.sh + 1;
  w.OW = (w.W + w.pl + w.pr - (w.kw - 1) * w.dw - 1) / w.sw + 1;
  if (w.OH != out.H || w.OW != out.W || cm.M != out.C) {
    fail(m, li, fmt::format("output shape {}x{}x{} does not match the window ({}x{}x{})", out.C,
                            out.H, out.W, cm.M, w.OH, w.OW));
  }
  if (cm.G < 1 || w.C % cm.G != 0 || cm.M % cm.G != 0) {
    fail(m, li, fmt::format("group {} does not divide C={} and M={}", cm.G, w.C, cm.M));
  }
  cm.Cg = w.C / cm.G;
  cm.Mg = cm.M / cm.G;
  const int64_t kk = w.kh * w.kw;
  const size_t expect_w = static_cast<size_t>(cm.M * cm.Cg * kk);
  if (p.weights.size() != expect_w || p.bias.size() != static_cast<size_t>(cm.M) ||
      p.requant.size() != static_cast<size_t>(cm.M)) {
    fail(m, li, fmt::format("expected {} weights and {} bias/requant entries", expect_w, cm.M));
  }

  return cm;
}

ConvMap map_conv(const q::QModel& m, int li, const TensorMap& tm, const ArchSpec& arch) {
  ConvMap cm = conv_geometry(m, li, tm);
  const q::ConvParams& p = m.layers[li].conv;
  const int in_id = m.layers[li].inputs[0];
  const int64_t kk = cm.win.kh * cm.win.kw;
  // Accumulators must fit int32 (qmodel.h): bound |bias| + sum |w| * max|x| per channel.
  const q::QTensor& tin = m.tensors[in_id];
  const int64_t xmax = std::max<int64_t>(std::abs(int64_t{tin.qmin()}), tin.qmax());
  for (int64_t mo = 0; mo < cm.M; ++mo) {
    int64_t s = 0;
    for (int64_t k = 0; k < cm.Cg * kk; ++k) s += std::abs(int64_t{p.weights[mo * cm.Cg * kk + k]});
    if (s * xmax + std::abs(int64_t{p.bias[mo]}) > INT32_MAX) {
      fail(m, li, fmt::format("output channel {} can overflow the int32 accumulator", mo));
    }
  }

  const ArchDerived d = derive(arch);
  tile_conv(&cm, arch, d, fmt::format("{}: layer {}", m.name, m.layers[li].name));
  return cm;
}

void tile_conv(ConvMap* cmp, const ArchSpec& arch, const ArchDerived& d, const std::string& where) {
  ConvMap& cm = *cmp;
  const Window& w = cm.win;
  const int64_t kk = w.kh * w.kw;
  const int64_t R = arch.crossbar.rows;
  const int64_t Wc = d.weight_cols_per_crossbar;
  if (Wc < 1) throw InputError(where + ": a crossbar holds no weight column with these weight bits");
  // Pack as many groups per block as fit one crossbar (block-diagonal); at least one.
  cm.P = 1;
  if (cm.G > 1) {
    cm.P = std::min<int64_t>({cm.G, Wc / cm.Mg, R / (kk * cm.Cg)});
    cm.P = std::max<int64_t>(cm.P, 1);
  }
  for (int64_t g0 = 0; g0 < cm.G; g0 += cm.P) {
    ConvBlock b;
    b.g0 = g0;
    b.groups = std::min(cm.P, cm.G - g0);
    b.c0 = g0 * cm.Cg;
    b.cin = b.groups * cm.Cg;
    b.m0 = g0 * cm.Mg;
    b.mout = b.groups * cm.Mg;
    b.K = kk * b.cin;
    b.row_tiles = (b.K + R - 1) / R;
    b.col_tiles = (b.mout + Wc - 1) / Wc;
    for (int64_t j = 0; j < b.col_tiles; ++j) {
      ColTile ct;
      ct.block = static_cast<int>(cm.blocks.size());
      ct.j = j;
      ct.m0 = b.m0 + j * Wc;
      ct.cols = std::min(Wc, b.mout - j * Wc);
      cm.col_tiles.push_back(ct);
      cm.used_cells += b.K * ct.cols * d.cells_per_weight;
    }
    cm.row_tiles_max = std::max(cm.row_tiles_max, b.row_tiles);
    cm.crossbars += b.row_tiles * b.col_tiles;
    cm.blocks.push_back(b);
  }
  cm.nonzero_weights = cm.M * cm.Cg * kk;
  // Cells of block-diagonal zeros are programmed too; utilization counts only real weights.
  cm.used_cells = cm.nonzero_weights * d.cells_per_weight;
  cm.rows_per_part = cm.row_tiles_max;
  if (cm.row_tiles_max > d.crossbars_per_core) {
    if (cm.blocks.size() > 1) {
      throw InputError(fmt::format("{}: K={} needs {} crossbars per column tile, a core has {} (K-splitting "
                                   "of packed groups across cores is not supported yet)",
                                   where, cm.blocks[0].K, cm.row_tiles_max, d.crossbars_per_core));
    }
    cm.kparts = (cm.row_tiles_max + d.crossbars_per_core - 1) / d.crossbars_per_core;
    cm.rows_per_part = (cm.row_tiles_max + cm.kparts - 1) / cm.kparts;
  }
  cm.col_tiles_per_core = d.crossbars_per_core / cm.rows_per_part;
}

TileDesc make_tile(const q::QModel& m, int li, const ConvMap& cm, int ct, int64_t rt,
                   const ArchSpec& arch) {
  const q::ConvParams& p = m.layers[li].conv;
  const ColTile& c = cm.col_tiles[ct];
  const ConvBlock& b = cm.blocks[c.block];
  const int64_t R = arch.crossbar.rows;
  const int64_t kw = cm.win.kw;
  TileDesc t;
  t.rows = static_cast<int32_t>(std::min(R, b.K - rt * R));
  t.cols = static_cast<int32_t>(c.cols);
  t.input_unsigned = cm.input_unsigned;
  t.layer = li;
  t.weights.assign(static_cast<size_t>(t.rows) * t.cols, 0);
  for (int64_t r = 0; r < t.rows; ++r) {
    const int64_t k = rt * R + r;  // im2col row within the block: (ky, kx, c)
    const int64_t cl = k % b.cin;
    const int64_t tap = k / b.cin;
    const int64_t ky = tap / kw, kx = tap % kw;
    const int64_t gl = cl / cm.Cg, cin_g = cl % cm.Cg;
    for (int64_t col = 0; col < t.cols; ++col) {
      const int64_t ml = (c.m0 - b.m0) + col;
      if (ml / cm.Mg != gl) continue;  // off the block diagonal
      const int64_t mo = b.m0 + ml;
      const size_t idx = static_cast<size_t>(((mo * cm.Cg + cin_g) * cm.win.kh + ky) * kw + kx);
      t.weights[static_cast<size_t>(r * t.cols + col)] = p.weights[idx];
    }
  }
  return t;
}

Window pool_window(const q::QModel& m, int li, const TensorMap& tm) {
  const q::Layer& l = m.layers[li];
  const q::PoolParams& p = l.pool;
  if (l.inputs.size() != 1) fail(m, li, "a pool layer needs exactly one input");
  const PhysShape in = tm.shape[l.inputs[0]];
  const PhysShape out = tm.shape[l.output];
  Window w;
  copy_window_params(p, &w);
  set_window_input(m, li, in, &w);
  w.OH = out.H;
  w.OW = out.W;
  if (out.C != in.C) fail(m, li, "pooling changes the channel count");
  // Output sizes come from the graph (ceil_mode may add a row); every output needs a tap.
  for (int64_t oy = 0; oy < w.OH; ++oy) {
    if (oy * w.sh - w.pt > w.H - 1) fail(m, li, "an output row has no input row in its window");
  }
  for (int64_t ox = 0; ox < w.OW; ++ox) {
    if (ox * w.sw - w.pl > w.W - 1) fail(m, li, "an output column has no input in its window");
  }
  return w;
}

}  // namespace cimsim::backend
