// estimate(): the compiler's tiling + the simulator's cycle formulas, composed into a
// row-level pipeline (docs/synthesis.md, "Estimator"). Why rows: the schedule moves
// tensors row by row (docs/schedule.md), so a layer starts as soon as the input rows of its
// first output row have arrived; a per-layer sum would miss the overlap, a per-layer max the
// fill of a deep pipeline.
#include "platform/synth/estimator.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "compiler/backend/backend.h"
#include "compiler/backend/vector_buffers.h"
#include "models/sc/timing_params.h"
#include "platform/spec/slicing.h"
#include "traces/report.h"

namespace cimsim::synth {
namespace {

using backend::ConvMap;
using backend::PhysShape;
using backend::Window;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Per-action energies, pJ (the arch's `costs`, as the models charge them).
struct Costs {
  double crossbar, dac, snh, adc, shift_add, in_reg, out_reg, buffer, bus, router, vector, core_out,
      memory;
  explicit Costs(const ArchSpec& a) {
    auto e = [&](const char* n) { return a.costs.at(n).energy_pj; };
    crossbar = e("crossbar");
    dac = e("dac");
    snh = e("snh");
    adc = e("adc");
    shift_add = e("shift_add");
    in_reg = e("pe_input_reg");
    out_reg = e("pe_output_reg");
    buffer = e("buffer");
    bus = e("bus");
    router = e("router");
    vector = e("vector_unit");
    core_out = e("core_output_reg");
    memory = e("memory");
  }
};

// Everything estimate() needs about the architecture, computed once per candidate.
struct Ctx {
  const ArchSpec& a;
  ArchDerived d;
  TimingParams t;
  Costs c;
  explicit Ctx(const ArchSpec& arch) : a(arch), d(derive(arch)), t(arch), c(arch) {}

  // Energy of a vector op over `elements` moving `bytes` through the buffer port.
  double vector_pj(int64_t elements, int64_t bytes) const {
    return c.vector * double(elements) + c.buffer * double(t.buffer_cycles(bytes)) + c.bus * double(bytes);
  }
  // A row message of `bytes` over `hops` links: sender read-out, flits, receiver write-in.
  double message_pj(int64_t bytes, int hops) const {
    const double rw = double(t.buffer_cycles(bytes));
    return c.core_out * rw + c.router * double(t.flits(bytes) * uint64_t(hops + 1)) +
           2.0 * (c.buffer * rw + c.bus * double(bytes));
  }
  // A load or store of `bytes` between a core and global memory (core.cpp's charges, one hop):
  // the memory bytes, the flits, the core's buffer port and bus, a store's output register.
  double memory_access_pj(int64_t bytes, bool store) const {
    const double rw = double(t.buffer_cycles(bytes));
    return c.memory * double(bytes) + c.router * double(t.flits(bytes) * 2) + c.buffer * rw +
           c.bus * double(bytes) + (store ? c.core_out * rw : 0.0);
  }
  uint64_t message_cycles(int64_t bytes, int hops) const {
    return t.buffer_cycles(bytes) + uint64_t(hops) * uint64_t(t.hop_latency) +
           t.link_busy_cycles(t.flits(bytes)) + t.buffer_cycles(bytes);
  }
  // One mvm of a tile: cycles on its crossbar unit and energy.
  uint64_t mvm_cycles(int64_t rows, int64_t cols, bool acc) const {
    return t.buffer_cycles(rows) + t.mvm_analog_cycles(int(cols)) +
           t.buffer_cycles(4 * cols) * (acc ? 2 : 1);
  }
  double mvm_pj(int64_t rows, int64_t cols, bool acc) const {
    const double T = t.input_steps;
    const double phys = double(cols) * t.cells_per_weight;
    const int64_t out_bytes = 4 * cols;
    const double accesses =
        double(t.buffer_cycles(rows) + t.buffer_cycles(out_bytes) * (acc ? 2 : 1));
    return c.crossbar * T + c.dac * double(rows) * T + (c.snh + c.adc + c.shift_add) * phys * T +
           c.in_reg * double(rows) + c.out_reg * double(out_bytes) + c.buffer * accesses +
           c.bus * double(rows + out_bytes * (acc ? 2 : 1));
  }
};

// Timing of one row of a layer on its busiest core.
struct RowModel {
  uint64_t period = 0;   // cycles between consecutive output pixels (steady state)
  uint64_t first = 0;    // cycles from input ready to the first pixel's accumulators
  // Conv rows whose kernel rows wrap around the input ring copy in two parts, which
  // pipeline differently: (first, period) per output row oy, when they differ by row.
  std::vector<std::pair<uint64_t, uint64_t>> per_row;
  uint64_t tail = 0;     // after the last pixel: requant, K-split partial sums
  uint64_t send = 0;     // out-row message to a consumer
  int64_t pixels = 1;    // output pixels per row
};

// The last input row (unpadded, clamped to the input) output row oy needs.
int64_t last_needed_row(const Window& w, int64_t oy) {
  return std::clamp<int64_t>(oy * w.sh + (w.kh - 1) * w.dh - w.pt, 0, w.H - 1);
}

struct ConvPlan {
  ConvMap map;
  int64_t slices = 1, cores = 1;  // cores of one replica
  int64_t replicas = 1;
};

// Spilling of one layer (docs/schedule.md "Spilling"), as the compiler decides it: the
// buffer choice of every core of one replica (replicas repeat it) by backend::choose_conv.
struct SpillPlan {
  struct Core {
    int64_t ms = 0;  // output channels
    bool part0 = true;
    backend::ConvChoice ch;
  };
  std::vector<Core> cores;                              // conv layers: slice-major, then part
  std::vector<std::pair<int64_t, int64_t>> slice_out;   // output channels [m0, m1) per slice
  bool strips = false;     // a core reads its input from global memory in strips
  bool store_px = false;   // a core stores its output pixel by pixel (the tensor is in memory)
  bool spilled = false;    // the output tensor goes through global memory (rows stored)
};

// Global-memory bytes of the loads of strip core `ch` for output row oy (streams.cpp's
// load_strip: per strip, one load per kernel row inside the input, padding filled).
void strip_loads(const Window& w, const backend::ConvChoice& ch, int64_t oy, const std::function<void(int64_t)>& load) {
  const int64_t P = ch.strip;
  for (int64_t x0p = 0; x0p < w.OW; x0p += P) {
    const int64_t npx = std::min(P, w.OW - x0p);
    const int64_t x0 = x0p * w.sw - w.pl, x1 = x0 + (npx - 1) * w.sw + (w.kw - 1) * w.dw + 1;
    const int64_t xa = std::clamp<int64_t>(x0, 0, w.W), xb = std::clamp<int64_t>(x1, 0, w.W);
    for (int64_t ky = 0; ky < w.kh; ++ky) {
      const int64_t y = oy * w.sh + ky * w.dh - w.pt;
      if (y >= 0 && y < w.H && xb > xa) load((xb - xa) * w.C);
    }
  }
}

// Matrix layer: the busiest core holds ceil(col_tiles / slices) column tiles of part 0's
// rows_per_part row tiles, tile i in PE i / pe.crossbars, crossbar i % pe.crossbars (ADC
// crossbar % pe.adcs), as streams.cpp places them. Its pixel loop is replayed for a few
// pixels with the timing.md rules that bind there, on 32-byte staging blocks: an im2col
// copy (one per contiguous run of kernel rows in the ring: two when they wrap) waits (WAR)
// for the last start of the previous pixel's mvms reading the blocks it writes; an mvm
// starts when its crossbar is free, its staging blocks are written (RAW) and (acc=1, WAW)
// the previous row tile of its column tile has written the accumulators; shared ADCs are
// reserved in program order. The buffer port and dispatch bound the period from below.
// One-row kernels read the ring in place (no copy) and the crossbars pipeline the pixels.
// `per_pixel` (a buffer fallback, docs/schedule.md): the accumulators hold one pixel, whose
// requant follows its mvms on the vector unit before the next pixel's first row tiles may
// overwrite them (write-after-read).
RowModel conv_row(const Ctx& x, const ConvPlan& p, bool per_pixel, double* pj_per_pixel,
                  double* pj_per_row) {
  const ConvMap& m = p.map;
  const Window& w = m.win;
  const int64_t R = x.a.crossbar.rows;
  const int64_t ct_core = ceil_div(int64_t(m.col_tiles.size()), p.slices);
  const int64_t ms = std::min<int64_t>(m.M, ct_core * x.d.weight_cols_per_crossbar);
  const bool direct = w.kh == 1 && m.blocks.size() == 1 && (w.kw == 1 || w.dw == 1);
  RowModel r;
  r.pixels = w.OW;
  struct Tile {
    int64_t ct, rt, rows, cols, stage0;  // stage0: first staging byte it reads
    int adc;
    uint64_t analog;
  };
  struct Block {
    int64_t stage0, K, cin;
  };
  std::vector<Tile> tiles;
  std::vector<Block> blocks;
  int last_block = -1;
  for (int64_t j = 0; j < ct_core; ++j) {
    const backend::ColTile& ct = m.col_tiles[static_cast<size_t>(j)];
    const backend::ConvBlock& b = m.blocks[static_cast<size_t>(ct.block)];
    if (ct.block != last_block) {
      last_block = ct.block;
      blocks.push_back({blocks.empty() ? 0 : blocks.back().stage0 + blocks.back().K, b.K, b.cin});
    }
    for (int64_t rt = 0; rt < std::min(m.rows_per_part, b.row_tiles); ++rt) {
      const int64_t slot = int64_t(tiles.size()) % x.d.crossbars_per_core;
      const int64_t pe = slot / x.a.pe.crossbars, xb = slot % x.a.pe.crossbars;
      tiles.push_back({j, rt, std::min(R, b.K - rt * R), ct.cols, blocks.back().stage0 + rt * R,
                       int(pe * x.a.pe.adcs + xb % x.a.pe.adcs), x.t.mvm_analog_cycles(int(ct.cols))});
    }
  }
  constexpr int64_t kBlock = 32;  // the scoreboard's ready-time granularity (timing.md)
  const int64_t stage_bytes = blocks.back().stage0 + blocks.back().K;
  const int64_t nblocks = ceil_div(stage_bytes, kBlock);
  const int64_t S = w.ring_slots();
  // Kernel rows of output row oy in one contiguous run of ring slots (1..kh).
  auto split_of = [&](int64_t oy) {
    const int64_t s0 = (oy * w.sh) % S;
    for (int64_t ky = 1; ky < w.kh; ++ky)
      if (s0 + ky * w.dh >= S) return ky;
    return w.kh;
  };
  // Replays n pixels whose copies split after `split` kernel rows; returns (first, period).
  auto replay = [&](int64_t split) -> std::pair<uint64_t, uint64_t> {
    const int64_t n = std::min<int64_t>(w.OW, 8);
    std::vector<uint64_t> xb_free(tiles.size(), 0), chain(static_cast<size_t>(ct_core), 0), ends;
    std::vector<uint64_t> adc_free(static_cast<size_t>(x.d.crossbars_per_core / x.a.pe.crossbars * x.a.pe.adcs + 1), 0);
    std::vector<uint64_t> ready(static_cast<size_t>(nblocks), 0), read_start(static_cast<size_t>(nblocks), 0);
    uint64_t vec_free = 0, acc_free = 0;
    auto span = [&](int64_t b0, int64_t b1, auto&& f) {
      for (int64_t k = b0 / kBlock; k < ceil_div(b1, kBlock) && k < nblocks; ++k) f(static_cast<size_t>(k));
    };
    for (int64_t px = 0; px < n; ++px) {
      if (!direct) {
        for (const Block& bl : blocks) {
          const int64_t seg = bl.K / std::max<int64_t>(1, w.kh);  // bytes per kernel row
          const std::pair<int64_t, int64_t> parts[2] = {{0, split * seg}, {split * seg, bl.K}};
          for (const auto& [c0, c1] : parts) {
            if (c1 <= c0) continue;
            uint64_t st = vec_free;
            span(bl.stage0 + c0, bl.stage0 + c1, [&](size_t k) { st = std::max(st, read_start[k]); });
            vec_free = st + x.t.vector_cycles(c1 - c0, 2 * (c1 - c0));
            span(bl.stage0 + c0, bl.stage0 + c1, [&](size_t k) { ready[k] = vec_free; });
          }
        }
      }
      uint64_t end = 0;
      for (size_t i = 0; i < tiles.size(); ++i) {
        const Tile& t = tiles[i];
        uint64_t st = xb_free[i];
        if (!direct) span(t.stage0, t.stage0 + t.rows, [&](size_t k) { st = std::max(st, ready[k]); });
        if (t.rt > 0) st = std::max(st, chain[static_cast<size_t>(t.ct)]);
        if (per_pixel && t.rt == 0) st = std::max(st, acc_free);
        if (!direct) span(t.stage0, t.stage0 + t.rows, [&](size_t k) { read_start[k] = std::max(read_start[k], st); });
        uint64_t analog = st + x.t.buffer_cycles(t.rows);
        if (x.t.adc_shared) {
          uint64_t& a = adc_free[static_cast<size_t>(t.adc)];
          analog = std::max(analog, a);
          a = analog + t.analog;
        }
        const uint64_t e = analog + t.analog + x.t.buffer_cycles(4 * t.cols) * (t.rt > 0 ? 2 : 1);
        xb_free[i] = chain[static_cast<size_t>(t.ct)] = e;
        end = std::max(end, e);
      }
      if (per_pixel) {
        vec_free = std::max(end, vec_free) + x.t.vector_cycles(ms, 5 * ms);
        end = acc_free = vec_free;
      }
      ends.push_back(end);
    }
    return {ends.front(), n > 1 ? (ends.back() - ends.front()) / uint64_t(n - 1) : ends.front()};
  };
  const uint64_t port = uint64_t(tiles.size()) * (x.t.buffer_cycles(R) + 2 * x.t.buffer_cycles(4 * m.col_tiles[0].cols)) +
                        (direct ? 0 : x.t.buffer_cycles(2 * stage_bytes));
  const uint64_t dispatch = uint64_t(tiles.size()) + 2 * uint64_t(blocks.size()) + 3;
  std::map<int64_t, std::pair<uint64_t, uint64_t>> by_split;
  for (int64_t oy = 0; oy < w.OH; ++oy) {
    const int64_t sp = direct ? w.kh : split_of(oy);
    auto it = by_split.find(sp);
    if (it == by_split.end()) {
      auto fp = replay(sp);
      fp.second = std::max({fp.second, port, dispatch});
      it = by_split.emplace(sp, fp).first;
    }
    r.per_row.push_back(it->second);
  }
  r.first = r.per_row.front().first;
  r.period = r.per_row.front().second;
  r.tail = per_pixel ? 0 : x.t.vector_cycles(w.OW * ms, 5 * w.OW * ms);
  if (m.kparts > 1) {
    const int64_t psum = 4 * w.OW * ms;
    r.tail += x.message_cycles(psum, 1) + uint64_t(m.kparts - 1) * x.t.vector_cycles(w.OW * ms, 12 * w.OW * ms);
  }
  r.send = x.message_cycles(w.OW * ms, 1);

  // Energy: every tile does one mvm per output pixel.
  double e = 0;
  for (const backend::ConvBlock& bl : m.blocks) {
    for (int64_t j = 0; j < bl.col_tiles; ++j) {
      const int64_t c = std::min<int64_t>(x.d.weight_cols_per_crossbar, bl.mout - j * x.d.weight_cols_per_crossbar);
      for (int64_t rt = 0; rt < bl.row_tiles; ++rt) {
        const int64_t rows = std::min(R, bl.K - rt * R);
        // Part boundaries restart accumulation (acc=0 on each part's first row tile).
        e += x.mvm_pj(rows, c, rt % m.rows_per_part != 0);
      }
    }
    if (!direct) e += x.vector_pj(bl.K, 2 * bl.K);  // K-parts copy their slices of it
  }
  *pj_per_pixel = e;
  double row = x.vector_pj(w.OW * m.M, 5 * w.OW * m.M);
  if (m.kparts > 1) {
    const int64_t psum = 4 * w.OW * m.M * (m.kparts - 1);
    row += x.message_pj(psum, 1) + x.vector_pj(w.OW * m.M * (m.kparts - 1), 12 * w.OW * m.M * (m.kparts - 1));
  }
  *pj_per_row = row;
  return r;
}

// Vector layer row: cycles on its core and energy (docs/schedule.md "Vector layers").
uint64_t vector_row(const Ctx& x, const LayerShape& L, double* pj) {
  const PhysShape& o = L.out;
  const int64_t len = o.row_bytes();
  switch (L.kind) {
    case q::LayerKind::kMaxPool: {
      const int64_t taps = L.win.kh * L.win.kw;
      *pj = double(taps) * x.vector_pj(len, 3 * len);
      return uint64_t(taps) * x.t.vector_cycles(len, 3 * len);
    }
    case q::LayerKind::kAvgPool: {
      if (L.out.H == 1 && L.out.W == 1 && L.win.kh == L.win.H) {
        // Global pool: sum32 per input pixel of the row (C channels); requant at the end.
        const int64_t C = L.in.C;
        *pj = double(L.in.W) * x.vector_pj(C, 9 * C);
        return uint64_t(L.in.W) * x.t.vector_cycles(C, 9 * C);
      }
      const int64_t taps = L.win.kh * L.win.kw;
      *pj = double(taps) * x.vector_pj(len, 9 * len) + x.vector_pj(len, 5 * len);
      return uint64_t(taps) * x.t.vector_cycles(len, 9 * len) + x.t.vector_cycles(len, 5 * len);
    }
    case q::LayerKind::kAdd:
      *pj = x.vector_pj(len, 3 * len);
      return x.t.vector_cycles(len, 3 * len);
    case q::LayerKind::kConcat:
    case q::LayerKind::kLut:
      *pj = 2.0 * x.vector_pj(len, 2 * len);
      return 2 * x.t.vector_cycles(len, 2 * len);
    default:
      *pj = 0;
      return 1;
  }
}

}  // namespace

NetShape net_shape(const q::QModel& m) {
  NetShape net;
  net.model_name = m.name;
  const backend::TensorMap tm = backend::resolve_tensors(m);
  std::vector<int> shape_of_layer(m.layers.size(), -1);
  for (size_t li = 0; li < m.layers.size(); ++li) {
    const q::Layer& l = m.layers[li];
    if (l.kind == q::LayerKind::kReshape) continue;
    LayerShape s;
    s.name = l.name;
    s.kind = l.kind;
    for (int in : l.inputs) {
      const int phys = tm.phys[static_cast<size_t>(in)];
      const int producer = tm.producer[static_cast<size_t>(phys)];
      s.inputs.push_back(producer < 0 ? -1 : shape_of_layer[static_cast<size_t>(producer)]);
    }
    if (!l.inputs.empty()) s.in = tm.shape[static_cast<size_t>(tm.phys[static_cast<size_t>(l.inputs[0])])];
    s.out = tm.shape[static_cast<size_t>(l.output)];
    if (l.kind == q::LayerKind::kConv) {
      s.geometry = backend::conv_geometry(m, static_cast<int>(li), tm);
      s.win = s.geometry.win;
    } else if (l.kind == q::LayerKind::kMaxPool || l.kind == q::LayerKind::kAvgPool) {
      s.win = backend::pool_window(m, static_cast<int>(li), tm);
    } else {
      // Row-aligned vector layers: output row y needs input row y.
      s.win.H = s.in.H;
      s.win.OH = s.out.H;
    }
    shape_of_layer[li] = static_cast<int>(net.layers.size());
    net.layers.push_back(std::move(s));
  }
  for (int out : m.outputs) {
    const int producer = tm.producer[static_cast<size_t>(tm.phys[static_cast<size_t>(out)])];
    if (producer >= 0) net.layers[static_cast<size_t>(shape_of_layer[static_cast<size_t>(producer)])].model_output = true;
  }
  for (size_t c = 0; c < net.layers.size(); ++c)
    for (int i : net.layers[c].inputs)
      if (i >= 0) net.layers[static_cast<size_t>(i)].consumers.push_back(static_cast<int>(c));
  for (int in : m.inputs) net.input_bytes += tm.shape[static_cast<size_t>(in)].bytes();
  return net;
}

Estimate estimate(const NetShape& net, const ArchSpec& arch, const MappingChoice& mapping) {
  const Ctx x(arch);
  Estimate est;
  est.peak_power_w = x.d.peak_power_mw * 1e-3;
  est.area_mm2 = x.d.area_um2 * 1e-6;
  est.peak_tops = 2.0 * x.d.peak_macs_per_s * 1e-12;

  // An ADC that clips a column count makes a design inexact: the estimator scores only
  // designs whose lsb-aligned ADC counts the largest column sum (weight flip halves it).
  if (arch.adc.range == AdcRangePolicy::kLsbAligned && !arch.adc.lossless) {
    const double levels = double((1 << arch.crossbar.cell_bits) - 1) * double((1 << arch.dac.bits) - 1);
    const double count = double(arch.crossbar.rows) * levels / (arch.crossbar.weight_flip ? 2.0 : 1.0);
    if (count > std::ldexp(1.0, arch.adc.bits) - 1) {
      est.why = fmt::format("adc.bits = {} cannot count a column of {} rows x {}-bit cells x {}-bit DAC "
                            "steps (max count {:.0f}{}): outputs would clip",
                            arch.adc.bits, arch.crossbar.rows, arch.crossbar.cell_bits, arch.dac.bits,
                            count, arch.crossbar.weight_flip ? " with weight flip" : "");
      return est;
    }
  }

  // Mapping: tiles and cores per layer, as plan_layers() does.
  std::vector<ConvPlan> plans(net.layers.size());
  for (size_t i = 0; i < net.layers.size(); ++i) {
    const LayerShape& L = net.layers[i];
    if (L.kind != q::LayerKind::kConv) {
      est.cores_used += 1;
      continue;
    }
    ConvPlan& p = plans[i];
    p.map = L.geometry;
    try {
      backend::tile_conv(&p.map, arch, x.d, net.model_name + ": layer " + L.name);
    } catch (const InputError& e) {
      est.why = e.what();
      return est;
    }
    p.slices = ceil_div(int64_t(p.map.col_tiles.size()), p.map.col_tiles_per_core);
    p.cores = p.slices * p.map.kparts;
    est.cores_used += p.cores;
    est.crossbars_used += p.map.crossbars;
  }
  if (est.cores_used > arch.chip.cores || est.crossbars_used > x.d.crossbars_per_chip) {
    est.why = fmt::format("needs {} cores and {} crossbars, the chip has {} and {} (the compiler would "
                          "time-multiplex FC weights; the estimator does not model that)",
                          est.cores_used, est.crossbars_used, arch.chip.cores, x.d.crossbars_per_chip);
    return est;
  }
  if (mapping.throughput()) {
    std::vector<backend::ReplicaCandidate> cands(net.layers.size());
    for (size_t i = 0; i < net.layers.size(); ++i) {
      const LayerShape& L = net.layers[i];
      cands[i].name = L.name;
      cands[i].matrix = L.kind == q::LayerKind::kConv;
      cands[i].pixels = L.win.OH * L.win.OW;
      cands[i].rows = L.win.OH;
      cands[i].cores_per_replica = cands[i].matrix ? plans[i].cores : 1;
      cands[i].crossbars = cands[i].matrix ? plans[i].map.crossbars : 0;
    }
    std::vector<int64_t> reps;
    if (mapping.replicas.empty()) {
      reps = backend::choose_replicas(
          cands, backend::replication_limit(est.cores_used, arch.chip.cores, mapping.replication),
          backend::replication_limit(est.crossbars_used, x.d.crossbars_per_chip, mapping.replication));
    } else {
      try {
        reps = backend::explicit_replicas(cands, mapping.replicas, arch.chip.cores, x.d.crossbars_per_chip,
                                          net.model_name);
      } catch (const InputError& e) {
        est.why = e.what();
        return est;
      }
    }
    for (size_t i = 0; i < net.layers.size(); ++i) {
      if (reps[i] <= 1) continue;
      plans[i].replicas = reps[i];
      est.cores_used += (reps[i] - 1) * plans[i].cores;
      est.crossbars_used += (reps[i] - 1) * plans[i].map.crossbars;
    }
  }
  // Buffers and spilling: the compiler's choice per core (backend::choose_conv), in layer
  // order (a layer whose producer stores pixels must read from global memory).
  std::vector<SpillPlan> spills(net.layers.size());
  for (size_t i = 0; i < net.layers.size(); ++i) {
    const LayerShape& L = net.layers[i];
    SpillPlan& sp = spills[i];
    if (L.kind != q::LayerKind::kConv) {
      sp.slice_out = {{0, L.out.C}};
      for (int src : L.inputs)
        if (src >= 0 && spills[static_cast<size_t>(src)].store_px) {
          est.why = fmt::format("{}: layer {}: its input rows (from layer {}) do not fit a core and are stored to "
                                "global memory pixel by pixel; only convolutions read their input from global memory",
                                net.model_name, L.name, net.layers[static_cast<size_t>(src)].name);
          return est;
        }
      // Its buffer regions (vector_buffers.h; vector layers do not spill). A concat's LUT
      // temp row depends on its tables and is left out: such a design may still be refused
      // in validation.
      int64_t tmp = 0;
      std::vector<std::pair<std::string, int64_t>> rows;
      std::vector<int> seen;
      for (int src : L.inputs) {
        if (src >= 0 && std::find(seen.begin(), seen.end(), src) != seen.end()) continue;
        seen.push_back(src);
        const PhysShape& s = src >= 0 ? net.layers[static_cast<size_t>(src)].out : L.in;
        tmp = std::max(tmp, backend::recv_tmp_bytes(0, s.C, s, src < 0,
                                                     src < 0 ? std::vector<std::pair<int64_t, int64_t>>{}
                                                             : spills[static_cast<size_t>(src)].slice_out));
        rows.emplace_back("in", s.row_bytes());
      }
      backend::BufferAlloc a;
      const bool avg = L.kind == q::LayerKind::kAvgPool;
      if (L.kind == q::LayerKind::kMaxPool || avg) {
        if (backend::is_global_pool(L.win, avg)) {
          backend::global_pool_regions(L.win, tmp, &a);
        } else {
          backend::pool_regions(L.win, !avg, tmp, arch.core.buffer_bytes, &a);
        }
      } else {
        backend::rowwise_regions(rows, L.out.row_bytes(), tmp, &a);
      }
      try {
        backend::check_vector_core(a, arch.core.buffer_bytes, fmt::format("{}: layer {}: its core", net.model_name, L.name));
      } catch (const InputError& e) {
        est.why = e.what();
        return est;
      }
      continue;
    }
    const ConvPlan& p = plans[i];
    const int src = L.inputs[0];
    const bool forced = src >= 0 && spills[static_cast<size_t>(src)].store_px;
    const auto slices = backend::slice_col_tiles(int64_t(p.map.col_tiles.size()), p.slices);
    for (int64_t sl = 0; sl < p.slices; ++sl) {
      const backend::SliceRange r = backend::slice_range(p.map, slices[static_cast<size_t>(sl)]);
      sp.slice_out.emplace_back(r.m0, r.m1);
      const int64_t tmp = backend::recv_tmp_bytes(r.c0, r.c1, L.in, src < 0,
                                                  src < 0 ? std::vector<std::pair<int64_t, int64_t>>{}
                                                          : spills[static_cast<size_t>(src)].slice_out);
      for (int64_t part = 0; part < p.map.kparts; ++part) {
        backend::ConvCoreBuffers cb = backend::conv_core_buffers(p.map, slices[static_cast<size_t>(sl)], part);
        cb.recv_tmp = tmp;
        cb.tokens = src >= 0;
        SpillPlan::Core c;
        c.ms = cb.ms;
        c.part0 = cb.part0;
        try {
          c.ch = backend::choose_conv(cb, arch.core.buffer_bytes, forced,
                                      fmt::format("{}: layer {}: a core (slice {}, part {})", net.model_name, L.name,
                                                  sl, part));
        } catch (const InputError& e) {
          est.why = e.what();
          return est;
        }
        sp.strips = sp.strips || c.ch.strip > 0;
        sp.store_px = sp.store_px || (c.part0 && c.ch.nout == 0);
        sp.cores.push_back(c);
      }
    }
    sp.spilled = sp.store_px;
    if (sp.strips && src >= 0) spills[static_cast<size_t>(src)].spilled = true;
  }

  // Row messages: one per consumer core whose replica needs the row (docs/schedule.md); a
  // core reading the tensor from global memory gets a 1-byte token per producer slice instead.
  const auto& producer_spill = spills;
  auto messages_pj = [&](size_t li, int64_t y) {
    const LayerShape& L = net.layers[li];
    const int64_t row = L.out.row_bytes();
    const int64_t producer_slices = int64_t(producer_spill[li].slice_out.size());
    double pj = 0;
    int64_t n = 0;
    for (int c : L.consumers) {
      const LayerShape& C = net.layers[static_cast<size_t>(c)];
      if (C.kind != q::LayerKind::kConv) {
        n += 1;
        continue;
      }
      const ConvPlan& cp = plans[static_cast<size_t>(c)];
      const SpillPlan& csp = spills[static_cast<size_t>(c)];
      for (int64_t r = 0; r < cp.replicas; ++r) {
        if (cp.replicas > 1 && !C.win.row_needed(y, cp.replicas, r)) continue;
        for (const SpillPlan::Core& core : csp.cores) {
          if (core.ch.strip > 0) {
            pj += double(producer_slices) * x.message_pj(1, 1);
          } else {
            n += 1;
          }
        }
      }
    }
    if (n == 0 && pj == 0) n = 1;
    return pj + double(n) * x.message_pj(row, 1);
  };

  // Row pipeline: ready[i][y] = cycle row y of layer i's output has arrived at its consumers.
  std::vector<std::vector<uint64_t>> ready(net.layers.size());
  double dynamic_pj = 0;
  uint64_t end_cycle = 0;
  for (size_t i = 0; i < net.layers.size(); ++i) {
    const LayerShape& L = net.layers[i];
    LayerEstimate le;
    le.name = L.name;
    const int64_t OH = L.out.H;
    ready[i].assign(static_cast<size_t>(OH), 0);
    // Input row y's arrival: a producer's ready row, or a load from global memory.
    const int64_t in_row_bytes = L.in.row_bytes();
    auto input_ready = [&](int64_t y) -> uint64_t {
      uint64_t t = 0;
      for (int src : L.inputs) {
        if (src < 0) {
          t = std::max<uint64_t>(t, x.t.memory_latency + uint64_t(y + 1) * x.t.memory_transfer_cycles(in_row_bytes));
        } else {
          const auto& rr = ready[static_cast<size_t>(src)];
          t = std::max(t, rr[static_cast<size_t>(std::min<int64_t>(y, int64_t(rr.size()) - 1))]);
        }
      }
      return t;
    };
    double pj = 0;
    uint64_t free = 0;
    uint64_t first_start = UINT64_MAX;
    if (L.kind == q::LayerKind::kConv) {
      const ConvPlan& p = plans[i];
      double pj_pixel = 0, pj_row = 0;
      const backend::ConvChoice& ch0 = spills[i].cores.front().ch;
      const RowModel rm = conv_row(x, p, ch0.per_pixel, &pj_pixel, &pj_row);
      // A minimal ring (a buffer fallback) receives the next rows only into the slots the
      // current output row has finished reading.
      const bool min_ring = ch0.strip == 0 && ch0.S < L.win.ring_slots();
      // Strips (the busiest core's choice): the kh loads of a strip pass the memory port one
      // after another; with two strip buffers only the first strip of a row waits for them,
      // with one every strip does. The port also bounds the pixel period.
      // With one buffer, each strip's load waits for the previous strip's reads and its
      // pixel loop restarts (its first pixel takes `first`, not a period): extra per row.
      uint64_t strip_wait = 0, strip_period = 0, strip_restart = 0;
      int64_t nstrips = 1;
      if (ch0.strip > 0) {
        const int64_t seg = ((ch0.strip - 1) * L.win.sw + (L.win.kw - 1) * L.win.dw + 1) * L.win.C;
        const uint64_t load = x.t.memory_latency + uint64_t(L.win.kh) * x.t.memory_transfer_cycles(seg);
        nstrips = ceil_div(L.win.OW, ch0.strip);
        strip_wait = load;
        strip_period = uint64_t(L.win.kh) * x.t.memory_transfer_cycles(seg) / uint64_t(ch0.strip);
        if (ch0.strip_bufs == 1) strip_restart = load;
      }
      // A row's first pixel ends `first` after its input is ready, or one period after the
      // previous row of its replica was requantized (the next copies queue behind it on the
      // vector unit). Replica r computes the rows oy % replicas == r.
      std::vector<uint64_t> rep_free(static_cast<size_t>(p.replicas), 0);
      for (int64_t oy = 0; oy < OH; ++oy) {
        uint64_t in = input_ready(last_needed_row(L.win, oy));
        first_start = std::min(first_start, in);
        const auto [first0, period0] = rm.per_row[static_cast<size_t>(oy)];
        const uint64_t first = first0 + strip_wait, period = std::max(period0, strip_period);
        uint64_t& rf = rep_free[static_cast<size_t>(oy % p.replicas)];
        if (min_ring && oy >= p.replicas) in = std::max(in, rf - rm.tail);
        const uint64_t first_end = std::max(in + first, oy >= p.replicas ? rf + period : 0);
        const uint64_t restart =
            strip_restart > 0 ? uint64_t(nstrips - 1) * (strip_restart + first0 - std::min(first0, period)) : 0;
        const uint64_t done = first_end + uint64_t(rm.pixels - 1) * period + restart + rm.tail;
        rf = done;
        ready[i][static_cast<size_t>(oy)] = done + rm.send;
      }
      pj = pj_pixel * double(L.win.OH * L.win.OW) + pj_row * double(OH);
      for (const backend::ConvBlock& bl : p.map.blocks)
        for (int64_t j = 0; j < bl.col_tiles; ++j) {
          const int64_t c = std::min<int64_t>(x.d.weight_cols_per_crossbar, bl.mout - j * x.d.weight_cols_per_crossbar);
          est.macs += double(bl.K) * double(c) * double(L.win.OH * L.win.OW);
        }
      le.cores = p.cores * p.replicas;
      le.crossbars = p.map.crossbars * p.replicas;
      le.replicas = p.replicas;
    } else {
      double pj_row = 0;
      const uint64_t row = vector_row(x, L, &pj_row);
      const uint64_t send = x.message_cycles(L.out.row_bytes(), 1);
      const bool global = L.out.H == 1 && L.in.H > 1;
      for (int64_t oy = 0; oy < OH; ++oy) {
        uint64_t in_t = 0;
        if (global) {
          // Consumes every input row as it arrives; finishes after the last.
          uint64_t t = 0;
          for (int64_t y = 0; y < L.in.H; ++y) t = std::max(t, input_ready(y)) + row;
          in_t = t;
          free = 0;
        } else {
          in_t = input_ready(L.kind == q::LayerKind::kMaxPool || L.kind == q::LayerKind::kAvgPool
                                 ? last_needed_row(L.win, oy)
                                 : oy);
        }
        const uint64_t start = std::max(free, in_t);
        first_start = std::min(first_start, start);
        free = start + (global ? 0 : row);
        ready[i][static_cast<size_t>(oy)] = free + send;
      }
      pj = pj_row * double(global ? L.in.H : OH);
      le.cores = 1;
    }
    // Rows sent to each consumer (a producer sends every row to every consumer core), model
    // inputs loaded, model outputs stored.
    for (int64_t y = 0; y < OH; ++y) pj += messages_pj(i, y);
    // Spill traffic: strip loads; stores of a spilled tensor's rows (per slice; per pixel when
    // the slice is not contiguous in the HWC row) or of each output pixel.
    const SpillPlan& sp = spills[i];
    if (L.kind == q::LayerKind::kConv && sp.strips) {
      for (const SpillPlan::Core& core : sp.cores) {
        if (core.ch.strip == 0) continue;
        for (int64_t oy = 0; oy < OH; ++oy)
          strip_loads(L.win, core.ch, oy, [&](int64_t bytes) { pj += x.memory_access_pj(bytes, false); });
      }
    }
    if (sp.spilled && !L.model_output) {
      const int64_t W = L.out.W, C = L.out.C;
      double row_pj = 0;
      if (L.kind != q::LayerKind::kConv) {
        row_pj = x.memory_access_pj(L.out.row_bytes(), true);
      } else {
        for (const SpillPlan::Core& core : sp.cores) {
          if (!core.part0) continue;
          const int64_t ms = core.ms;
          if (core.ch.nout == 0 && core.ch.strip > 0 && ms == C) {
            for (int64_t x0 = 0; x0 < W; x0 += core.ch.strip)
              row_pj += x.memory_access_pj(std::min(core.ch.strip, W - x0) * ms, true);
          } else if (core.ch.nout != 0 && (ms == C || W == 1)) {
            row_pj += x.memory_access_pj(W * ms, true);
          } else {
            row_pj += double(W) * x.memory_access_pj(ms, true);
          }
        }
      }
      pj += row_pj * double(OH);
    }
    // Model inputs: every core loads the rows its replica's windows need.
    int64_t loaded_rows = L.in.H;
    if (L.kind == q::LayerKind::kConv) {
      const ConvPlan& p = plans[i];
      loaded_rows = 0;
      for (int64_t r = 0; r < p.replicas; ++r)
        for (int64_t y = 0; y < L.in.H; ++y) loaded_rows += L.win.row_needed(y, p.replicas, r) ? p.cores : 0;
    }
    for (int src : L.inputs)
      if (src < 0)
        pj += (x.c.memory * double(in_row_bytes) + x.message_pj(in_row_bytes, 1)) * double(loaded_rows);
    if (L.model_output) {
      pj += x.c.memory * double(L.out.bytes());
      const uint64_t stored = ready[i].back() + x.t.memory_latency + x.t.memory_transfer_cycles(L.out.row_bytes());
      end_cycle = std::max(end_cycle, stored);
    }
    end_cycle = std::max(end_cycle, ready[i].back());
    le.start_ns = double(first_start == UINT64_MAX ? 0 : first_start) * x.t.cycle_ns;
    uint64_t first_input = UINT64_MAX;
    for (int src : L.inputs)
      first_input = std::min(first_input, src < 0 ? x.t.memory_latency + x.t.memory_transfer_cycles(in_row_bytes)
                                                  : ready[static_cast<size_t>(src)].front());
    le.first_input_ns = double(first_input == UINT64_MAX ? 0 : first_input) * x.t.cycle_ns;
    le.end_ns = double(ready[i].back()) * x.t.cycle_ns;
    le.energy_pj = pj;
    dynamic_pj += pj;
    est.layers.push_back(std::move(le));
  }
  est.latency_ns = double(end_cycle) * x.t.cycle_ns;
  double leakage_pj = 0;
  for (const auto& [name, instances] : component_instances(arch, x.d))
    leakage_pj += instances * arch.costs.components.at(name).leakage_mw * est.latency_ns;
  est.energy_pj = dynamic_pj + leakage_pj;
  est.feasible = true;
  return est;
}

}  // namespace cimsim::synth
