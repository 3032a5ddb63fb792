// Compiler, planning half: layers -> LayerPlans (mapping, K-split, replication), snake
// placement, global-memory layout, message-edge totals; and compile_qmodel() itself.
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <set>
#include <stdexcept>

#include "compiler/backend/compiler_impl.h"
#include "compiler/backend/program_check.h"
#include "compiler/backend/vector_buffers.h"
#include "platform/spec/arch_keys.h"

namespace cimsim::backend {
namespace detail {

CompiledModel Compiler::run() {
  cm_.mode = throughput_ ? "throughput" : "latency";
  cm_.tensors = resolve_tensors(m_);
  plan_layers();
  if (throughput_) {
    replicate();
  } else {
    choose_reloads();
  }
  place();
  plan_buffers();
  layout_global_memory();
  cm_.program.cores.resize(static_cast<size_t>(arch_.chip.cores));
  cm_.cores.resize(static_cast<size_t>(arch_.chip.cores));
  for (int c = 0; c < arch_.chip.cores; ++c) cm_.cores[static_cast<size_t>(c)].core = c;
  for (size_t pi = 0; pi < cm_.layers.size(); ++pi) {
    for (size_t k = 0; k < cm_.layers[pi].cores.size(); ++k) {
      emit_core(static_cast<int>(pi), static_cast<int>(k));
    }
  }
  finish_edges();
  for (const LayerPlan& lp : cm_.layers) {
    cm_.reload_bytes_per_image += lp.reload_bytes_per_image;
    cm_.spill_bytes_per_image += lp.spill_bytes_per_image;
  }
  cm_.program.arch_fingerprint = arch_fingerprint(arch_);
  cm_.program.model_name = m_.name;
  for (const q::Layer& l : m_.layers) cm_.program.layers.push_back(l.name);
  validate(cm_.program, m_.name);
  // Two images (when they fit the global-memory regions) exercise the batch loop.
  const int32_t images = static_cast<int32_t>(std::min<int64_t>(2, cm_.max_batch));
  auto check_with = [&](int64_t rx) {
    return check_program(cm_.program, images, arch_.core.buffer_bytes, arch_.memory.capacity_bytes, rx);
  };
  CheckResult chk = check_with(arch_.noc.rx_channel_bytes);
  if (!chk.ok() && arch_.noc.rx_channel_bytes > 0 && check_with(0).ok()) {
    // Sound with unbounded receive buffers: the arch's channels are what is too small. Find
    // the smallest channel this program is sound with (a channel holding everything ever
    // sent on it never blocks, so doubling ends), to say how much would do.
    int64_t bad = arch_.noc.rx_channel_bytes, good = 2 * bad;
    while (!check_with(good).ok()) {
      bad = good;
      good *= 2;
    }
    while (good - bad > 1) {
      const int64_t mid = bad + (good - bad) / 2;
      (check_with(mid).ok() ? good : bad) = mid;
    }
    throw InputError(arch_.source_path + ": noc.rx_channel_bytes = " +
                     std::to_string(arch_.noc.rx_channel_bytes) +
                     " is too small for this model's schedule: " + chk.problems.front() +
                     " (this program is deadlock-free from " + std::to_string(good) +
                     " bytes per channel on; raise noc.rx_channel_bytes, or 0 for unbounded "
                     "receive buffers)");
  }
  if (!chk.ok()) {
    throw std::logic_error("backend produced an unsound program: " + chk.problems.front());
  }
  return std::move(cm_);
}

void Compiler::plan_layers() {
  plan_of_tensor_.assign(m_.tensors.size(), -1);
  for (size_t li = 0; li < m_.layers.size(); ++li) {
    const q::Layer& l = m_.layers[li];
    if (l.kind == q::LayerKind::kReshape) continue;
    LayerPlan lp;
    lp.layer = static_cast<int>(li);
    lp.kind = l.kind;
    lp.out = l.output;
    for (int in : l.inputs) {
      const int p = phys(in);
      if (std::find(lp.inputs.begin(), lp.inputs.end(), p) == lp.inputs.end()) {
        lp.inputs.push_back(p);
      }
      if (m_.tensors[static_cast<size_t>(p)].numel() > 0 && shape(p).H > 65535) {
        fail(lp.layer, "tensors taller than 65535 rows are not supported");
      }
      const PhysShape& ps = shape(p);
      const q::QTensor& lt = m_.tensors[static_cast<size_t>(in)];
      // A flattened {C,H,W} tensor is only meaningful to an FC (CHW order is the
      // consumer's business); elsewhere HWC codes would be read in the wrong order.
      if (p != in && lt.shape.size() != 3 && (ps.H > 1 || ps.W > 1) &&
          !(l.kind == q::LayerKind::kConv && l.conv.is_fc)) {
        fail(lp.layer, "a flattened tensor feeds a non-FC layer (not supported in v1)");
      }
    }
    int64_t ncores = 1;
    switch (l.kind) {
      case q::LayerKind::kConv:
        lp.conv = map_conv(m_, lp.layer, cm_.tensors, arch_);
        lp.win = lp.conv.win;
        lp.ring = true;
        ncores = (static_cast<int64_t>(lp.conv.col_tiles.size()) + lp.conv.col_tiles_per_core - 1) /
                 lp.conv.col_tiles_per_core;
        break;
      case q::LayerKind::kMaxPool:
      case q::LayerKind::kAvgPool: {
        lp.win = pool_window(m_, lp.layer, cm_.tensors);
        const Window& w = lp.win;
        lp.global_pool = is_global_pool(w, l.kind == q::LayerKind::kAvgPool);
        lp.ring = !lp.global_pool;
        if (l.kind == q::LayerKind::kAvgPool) {
          const int64_t maxcount = w.kh * w.kw;
          if (static_cast<int64_t>(l.pool.avg_multiplier.size()) <= maxcount) {
            fail(lp.layer, fmt::format("avg_multiplier needs {} entries", maxcount + 1));
          }
        }
        break;
      }
      case q::LayerKind::kAdd: {
        if (l.inputs.size() != 2) fail(lp.layer, "Add needs two inputs");
        const PhysShape &a = shape(phys(l.inputs[0])), &b = shape(phys(l.inputs[1])),
                        &o = shape(l.output);
        if (a.C != b.C || a.H != b.H || a.W != b.W || a.C != o.C || a.H != o.H || a.W != o.W) {
          fail(lp.layer, "Add inputs and output must have the same shape");
        }
        break;
      }
      case q::LayerKind::kConcat: {
        if (l.inputs.empty() || l.lut_per_input.size() != l.inputs.size()) {
          fail(lp.layer, "Concat needs one LUT per input");
        }
        int64_t ctot = 0;
        for (int in : l.inputs) {
          const PhysShape& s = shape(phys(in));
          if (s.H != shape(l.output).H || s.W != shape(l.output).W) {
            fail(lp.layer, "Concat inputs must share H and W");
          }
          ctot += s.C;
        }
        if (ctot != shape(l.output).C) fail(lp.layer, "Concat channel counts do not add up");
        break;
      }
      case q::LayerKind::kLut: {
        if (l.inputs.size() != 1) fail(lp.layer, "Lut needs one input");
        const PhysShape &a = shape(phys(l.inputs[0])), &o = shape(l.output);
        if (a.bytes() != o.bytes() || a.C != o.C) fail(lp.layer, "Lut changes the shape");
        break;
      }
      case q::LayerKind::kReshape:
        break;
    }
    lp.slices = ncores;
    lp.kparts = lp.kind == q::LayerKind::kConv ? lp.conv.kparts : 1;
    lp.cores.assign(static_cast<size_t>(ncores), -1);
    plan_of_tensor_[static_cast<size_t>(l.output)] = static_cast<int>(cm_.layers.size());
    cm_.layers.push_back(std::move(lp));
  }
  for (int in : m_.inputs) {
    if (phys(in) != in) throw InputError(m_.name + ": a model input is a reshape output");
  }
}

// Latency mode, chip too small (docs/mapping.md, "Dense packing and reloads"): layers are
// packed densely first; then FC layers (one output pixel, a
// single block) become reloadable, largest first, until the other layers fit with at least
// one core left per reloadable layer. A reloadable layer keeps kparts = 1 (a core holds every
// row tile of its column tiles, more tiles than crossbars); its cores are the ones the
// resident layers leave, handed out one at a time to the layer with the most passes.
void Compiler::choose_reloads() {
  const int64_t X = d_.crossbars_per_core;
  int64_t cores = 0, xbars = 0;
  for (const LayerPlan& lp : cm_.layers) {
    cores += lp.per_replica();
    xbars += lp.conv.crossbars;
  }
  auto fits_now = [&] { return cores <= arch_.chip.cores && xbars <= d_.crossbars_per_chip; };
  if (fits_now()) return;
  // First pack cores densely: a single-block FC layer may cut its row tiles into more K-parts
  // when that fills the cores better (e.g. 72 row tiles on 96 crossbars: 1 column tile per
  // core -> 3 parts of 24 row tiles, 4 column tiles each: 96 cores instead of 128). Layers
  // are packed in order of cores saved until the model fits.
  struct Pack { size_t i; int64_t kparts, rows_per_part, ctpc, slices, saved; };
  std::vector<Pack> packs;
  for (size_t i = 0; i < cm_.layers.size(); ++i) {
    const LayerPlan& lp = cm_.layers[i];
    // Only one-pixel layers (FCs): their partial sums are a few bytes, while a spatial conv's
    // per-row partial sums may not fit the buffer (K-split layers have no per-pixel fallback).
    if (lp.kind != q::LayerKind::kConv || lp.conv.blocks.size() != 1 || lp.win.OH * lp.win.OW != 1) continue;
    const int64_t rt = lp.conv.row_tiles_max, ct = static_cast<int64_t>(lp.conv.col_tiles.size());
    Pack best{i, lp.conv.kparts, lp.conv.rows_per_part, lp.conv.col_tiles_per_core, lp.slices, 0};
    for (int64_t kp = lp.conv.kparts + 1; kp <= rt; ++kp) {
      const int64_t rpp = (rt + kp - 1) / kp;
      const int64_t ctpc = X / rpp;
      const int64_t slices = (ct + ctpc - 1) / ctpc;
      const int64_t saved = lp.per_replica() - kp * slices;
      if (saved > best.saved) best = {i, kp, rpp, ctpc, slices, saved};
      if (slices == 1) break;
    }
    if (best.saved > 0) packs.push_back(best);
  }
  std::stable_sort(packs.begin(), packs.end(), [](const Pack& a, const Pack& b) { return a.saved > b.saved; });
  for (const Pack& pk : packs) {
    LayerPlan& lp = cm_.layers[pk.i];
    lp.conv.kparts = pk.kparts;
    lp.conv.rows_per_part = pk.rows_per_part;
    lp.conv.col_tiles_per_core = pk.ctpc;
    lp.kparts = pk.kparts;
    lp.slices = pk.slices;
    cores -= pk.saved;
    if (fits_now()) return;
  }
  std::vector<size_t> cand;
  for (size_t i = 0; i < cm_.layers.size(); ++i) {
    const LayerPlan& lp = cm_.layers[i];
    if (lp.kind == q::LayerKind::kConv && lp.win.OH * lp.win.OW == 1 && lp.conv.blocks.size() == 1) {
      cand.push_back(i);
    }
  }
  std::stable_sort(cand.begin(), cand.end(), [&](size_t a, size_t b) {
    return cm_.layers[a].conv.crossbars > cm_.layers[b].conv.crossbars;
  });
  std::vector<size_t> chosen;
  bool fits = false;
  for (size_t i : cand) {
    const LayerPlan& lp = cm_.layers[i];
    cores -= lp.per_replica();
    xbars -= lp.conv.crossbars;
    chosen.push_back(i);
    const int64_t n = static_cast<int64_t>(chosen.size());
    if (cores + n <= arch_.chip.cores && xbars + n * X <= d_.crossbars_per_chip) {
      fits = true;
      break;
    }
  }
  if (!fits) {  // place() reports what the model needs
    if (!chosen.empty()) {
      fit_note_ = fmt::format(
          " (with FC layers packed densely and all {} time-multiplexed on one core each, the "
          "other layers still need {} cores)",
          chosen.size(), cores);
    }
    return;
  }
  // Per-core tiles with n cores: the busiest core holds ceil(CT / n) column tiles.
  auto passes = [&](size_t i, int64_t n) {
    const ConvMap& cv = cm_.layers[i].conv;
    const int64_t ct = static_cast<int64_t>(cv.col_tiles.size());
    const int64_t tiles = (ct + n - 1) / n * cv.row_tiles_max;
    return (tiles + X - 1) / X;
  };
  std::map<size_t, int64_t> ncores;
  for (size_t i : chosen) ncores[i] = 1;
  int64_t free_cores = arch_.chip.cores - cores - static_cast<int64_t>(chosen.size());
  int64_t free_xbars = d_.crossbars_per_chip - xbars - static_cast<int64_t>(chosen.size()) * X;
  while (free_cores > 0 && free_xbars >= X) {
    size_t best = SIZE_MAX;
    int64_t best_p = 0;
    for (size_t i : chosen) {
      const int64_t n = ncores[i];
      if (n >= static_cast<int64_t>(cm_.layers[i].conv.col_tiles.size())) continue;
      const int64_t pp = passes(i, n);
      if (pp > best_p) {
        best_p = pp;
        best = i;
      }
    }
    if (best == SIZE_MAX || best_p <= 1) break;  // every reloadable layer has what it can use
    ++ncores[best];
    --free_cores;
    free_xbars -= X;
  }
  for (size_t i : chosen) {
    LayerPlan& lp = cm_.layers[i];
    lp.reload = true;
    lp.conv.kparts = 1;
    lp.conv.rows_per_part = lp.conv.row_tiles_max;
    lp.kparts = 1;
    lp.slices = ncores[i];
    lp.reload_passes = passes(i, ncores[i]);
  }
}

// Throughput mode: add whole copies of the slowest matrix layer (output pixels per
// replica) while crossbars and cores remain; a layer never gets more replicas than rows.
// Explicit counts (BackendOptions::replicas) replace that rule.
void Compiler::replicate() {
  std::vector<ReplicaCandidate> cands;
  int64_t cores = 0, xbars = 0;
  for (const LayerPlan& lp : cm_.layers) {
    ReplicaCandidate c;
    c.name = m_.layers[static_cast<size_t>(lp.layer)].name;
    c.matrix = lp.kind == q::LayerKind::kConv;
    c.pixels = lp.win.OH * lp.win.OW;
    c.rows = lp.win.OH;
    c.cores_per_replica = lp.per_replica();
    c.crossbars = lp.conv.crossbars;
    cores += c.cores_per_replica;
    xbars += c.crossbars;
    cands.push_back(c);
  }
  const std::vector<int64_t> r =
      !replicas_.empty()
          ? explicit_replicas(cands, replicas_, arch_.chip.cores, d_.crossbars_per_chip, m_.name)
          : choose_replicas(cands, replication_limit(cores, arch_.chip.cores, replication_),
                            replication_limit(xbars, d_.crossbars_per_chip, replication_));
  for (size_t i = 0; i < cm_.layers.size(); ++i) cm_.layers[i].replicas = r[i];
}

void Compiler::place() {
  for (LayerPlan& lp : cm_.layers) lp.cores.assign(static_cast<size_t>(lp.per_replica() * lp.replicas), -1);
  int64_t need_cores = 0, need_xbars = 0;
  for (const LayerPlan& lp : cm_.layers) {
    need_cores += static_cast<int64_t>(lp.cores.size());
    // A reloadable layer's cores use all their crossbars.
    need_xbars += lp.reload ? static_cast<int64_t>(lp.cores.size()) * d_.crossbars_per_core
                            : lp.conv.crossbars * lp.replicas;
  }
  cm_.crossbars_used = need_xbars;
  cm_.crossbars_available = d_.crossbars_per_chip;
  if (need_cores > arch_.chip.cores || need_xbars > d_.crossbars_per_chip) {
    std::vector<size_t> order(cm_.layers.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return cm_.layers[a].cores.size() > cm_.layers[b].cores.size();
    });
    std::string largest;
    for (size_t i = 0; i < std::min<size_t>(3, order.size()); ++i) {
      const LayerPlan& lp = cm_.layers[order[i]];
      largest += fmt::format("{}{} ({} cores, {} crossbars)", i ? ", " : "",
                             m_.layers[static_cast<size_t>(lp.layer)].name, lp.cores.size(),
                             lp.conv.crossbars);
    }
    throw InputError(fmt::format(
        "{}: model needs {} cores ({} crossbars), chip has {} cores ({} crossbars); largest "
        "layers: {}{}",
        m_.name, need_cores, need_xbars, arch_.chip.cores, d_.crossbars_per_chip, largest,
        fit_note_));
  }
  // Snake (boustrophedon) walk: consecutive layers land on neighbouring mesh nodes.
  for (int r = 0; r < arch_.chip.mesh_rows; ++r) {
    for (int c = 0; c < arch_.chip.mesh_cols; ++c) {
      const int col = r % 2 == 0 ? c : arch_.chip.mesh_cols - 1 - c;
      const int id = r * arch_.chip.mesh_cols + col;
      if (id < arch_.chip.cores) cm_.snake.push_back(id);
    }
  }
  size_t next = 0;
  for (LayerPlan& lp : cm_.layers) {
    const int64_t n = static_cast<int64_t>(lp.cores.size());
    lp.m0.assign(static_cast<size_t>(n), 0);
    lp.m1.assign(static_cast<size_t>(n), shape(lp.out).C);
    if (lp.kind == q::LayerKind::kConv) {
      // Balanced: every slice gets floor or ceil of the column tiles, in channel order;
      // replicas repeat the slices.
      // (slice_col_tiles, conv_buffers.h: the estimator slices the same way). Other parts
      // and replicas repeat their slice's tiles; a core of a grouped conv reads only its
      // groups' input channels.
      const std::vector<std::vector<int>> slices =
          slice_col_tiles(static_cast<int64_t>(lp.conv.col_tiles.size()), lp.slices);
      lp.core_col_tiles.assign(static_cast<size_t>(n), {});
      lp.in_c0.assign(static_cast<size_t>(n), 0);
      lp.in_c1.assign(static_cast<size_t>(n), 0);
      for (int64_t k = 0; k < n; ++k) {
        const auto& tiles = slices[static_cast<size_t>(lp.slice_of(k))];
        const SliceRange r = slice_range(lp.conv, tiles);
        lp.core_col_tiles[static_cast<size_t>(k)] = tiles;
        lp.m0[static_cast<size_t>(k)] = r.m0;
        lp.m1[static_cast<size_t>(k)] = r.m1;
        lp.in_c0[static_cast<size_t>(k)] = r.c0;
        lp.in_c1[static_cast<size_t>(k)] = r.c1;
      }
    }
    for (int64_t k = 0; k < n; ++k) lp.cores[static_cast<size_t>(k)] = cm_.snake[next++];
  }
}

void Compiler::layout_global_memory() {
  int64_t per_image = 0;
  std::set<int> out_phys;
  for (int in : m_.inputs) per_image += align_up(m_.tensors[static_cast<size_t>(in)].numel(), kGlobalAlign);
  for (int o : m_.outputs) {
    const int p = phys(o);
    if (plan_of_tensor_[static_cast<size_t>(p)] < 0) {
      throw InputError(fmt::format("{}: model output {} is not computed by any layer", m_.name,
                                   m_.tensors[static_cast<size_t>(o)].name));
    }
    is_output_[p] = true;
    if (!out_phys.insert(p).second) {
      throw InputError(fmt::format("{}: model output {} is listed twice", m_.name,
                                   m_.tensors[static_cast<size_t>(o)].name));
    }
    const PhysShape& s = shape(p);
    if (p != o && m_.tensors[static_cast<size_t>(o)].shape.size() != 3 && (s.H > 1 || s.W > 1)) {
      throw InputError(fmt::format(
          "{}: model output {} is a flattened {}x{}x{} tensor (HWC on chip; not supported in v1)",
          m_.name, m_.tensors[static_cast<size_t>(o)].name, s.C, s.H, s.W));
    }
    per_image += align_up(m_.tensors[static_cast<size_t>(o)].numel(), kGlobalAlign);
  }
  // Reloadable layers' weights (K x M bytes each) are stored after the I/O regions.
  int64_t weight_bytes = 0;
  for (const LayerPlan& lp : cm_.layers) {
    if (lp.reload) weight_bytes += lp.conv.blocks[0].K * lp.conv.M;
  }
  weight_bytes = align_up(weight_bytes, kGlobalAlign);
  // Spilled tensors that are not model inputs/outputs get a region of their own per image.
  int64_t spill_per_image = 0;
  for (const auto& [t, on] : spilled_) {
    if (on && !is_model_io(t)) spill_per_image += align_up(shape(t).bytes(), kGlobalAlign);
  }
  per_image += spill_per_image;
  const int64_t io_capacity = arch_.memory.capacity_bytes - weight_bytes;
  if (per_image > io_capacity) {
    std::string why;
    if (weight_bytes) why += fmt::format("; {} bytes hold reloadable weights", weight_bytes);
    if (spill_per_image) why += fmt::format("; {} bytes per image are spilled activations", spill_per_image);
    throw InputError(fmt::format("{}: one image needs {} bytes of global memory, capacity is {}{}",
                                 m_.name, per_image, arch_.memory.capacity_bytes, why));
  }
  cm_.max_batch = per_image > 0 ? std::min(kMaxBatch, io_capacity / per_image) : kMaxBatch;
  int64_t addr = 0;
  // A per-image region of `bytes_per_image` for tensor t at the next free address.
  auto region = [&](int t, int64_t bytes_per_image) {
    const q::QTensor& qt = m_.tensors[static_cast<size_t>(t)];
    TensorIO io;
    io.name = qt.name;
    io.shape = qt.shape;
    io.scale = qt.scale;
    io.is_unsigned = qt.is_unsigned;
    io.bits = qt.bits;
    io.global_addr = addr;
    io.bytes_per_image = bytes_per_image;
    addr += align_up(io.bytes_per_image, kGlobalAlign) * cm_.max_batch;
    return io;
  };
  auto make = [&](int t, bool is_output, size_t idx) {
    TensorIO io = region(t, m_.tensors[static_cast<size_t>(t)].numel());
    if (is_output && idx < m_.output_host_softmax.size()) io.host_softmax = m_.output_host_softmax[idx];
    global_of_tensor_[phys(t)] = io;
    return io;
  };
  for (size_t i = 0; i < m_.inputs.size(); ++i) cm_.program.inputs.push_back(make(m_.inputs[i], false, i));
  for (size_t i = 0; i < m_.outputs.size(); ++i) {
    is_output_[phys(m_.outputs[i])] = true;
    cm_.program.outputs.push_back(make(m_.outputs[i], true, i));
  }
  // Spill regions (docs/schedule.md, "Spilling"), in tensor order.
  cm_.spill_region_addr = addr;
  for (const auto& [t, on] : spilled_) {
    if (!on) continue;
    SpillRegion sr;
    sr.tensor = t;
    if (is_model_io(t)) {
      sr.own_region = false;
      sr.addr = global_of_tensor_.at(t).global_addr;
      sr.bytes_per_image = global_of_tensor_.at(t).bytes_per_image;
    } else {
      const TensorIO io = region(t, shape(t).bytes());
      global_of_tensor_[t] = io;
      sr.addr = io.global_addr;
      sr.bytes_per_image = io.bytes_per_image;
    }
    cm_.spills.push_back(sr);
  }
  cm_.spill_region_bytes = addr - cm_.spill_region_addr;
  cm_.weight_region_addr = align_up(addr, kGlobalAlign);
  cm_.weight_region_bytes = weight_bytes;
  next_weight_addr_ = cm_.weight_region_addr;
}

void Compiler::finish_edges() {
  int64_t hb = 0;
  for (const auto& [key, e0] : edges_) {
    MessageEdge e = e0;
    e.from_core = std::get<0>(key);
    e.to_core = std::get<1>(key);
    e.tensor = std::get<2>(key);
    const int a = e.from_core < 0 ? arch_.memory.attach_core : e.from_core;
    const int b = e.to_core < 0 ? arch_.memory.attach_core : e.to_core;
    e.hops = hops_between(arch_, a, b);
    hb += e.hops * e.bytes_per_image;
    cm_.edges.push_back(e);
  }
  cm_.hop_bytes_per_image = hb;
}

}  // namespace detail

CompiledModel compile_qmodel(const q::QModel& m, const ArchSpec& arch, const BackendOptions& opt) {
  if (opt.mode != "latency" && opt.mode != "throughput") {
    throw InputError(fmt::format("{}: unknown mode '{}' (expected latency or throughput)", m.name, opt.mode));
  }
  if (static_cast<int64_t>(arch.chip.mesh_rows) * arch.chip.mesh_cols < arch.chip.cores) {
    throw InputError(arch.source_path + ": chip.cores exceeds mesh_rows * mesh_cols");
  }
  if (!(opt.replication >= 0.0 && opt.replication <= 1.0)) {
    throw InputError(fmt::format("{}: replication share {} is not in [0, 1]", m.name, opt.replication));
  }
  if (!opt.replicas.empty() && opt.mode != "throughput") {
    throw InputError(fmt::format("{}: explicit replica counts ({} layers) are a throughput-mode mapping; "
                                 "expected mode throughput, got {}",
                                 m.name, opt.replicas.size(), opt.mode));
  }
  return detail::Compiler(m, arch, opt.mode == "throughput", opt.replication, opt.replicas).run();
}

int64_t replication_limit(int64_t one_copy, int64_t chip, double replication) {
  if (chip <= one_copy) return chip;
  return one_copy + static_cast<int64_t>(std::floor(replication * double(chip - one_copy) + 1e-9));
}

std::vector<int64_t> choose_replicas(const std::vector<ReplicaCandidate>& layers, int64_t cores_limit,
                                     int64_t crossbars_limit) {
  std::vector<int64_t> reps(layers.size(), 1);
  int64_t cores = 0, xbars = 0;
  for (const ReplicaCandidate& c : layers) {
    cores += c.cores_per_replica;
    xbars += c.crossbars;
  }
  while (true) {
    int best = -1;
    double best_work = 0;
    for (size_t i = 0; i < layers.size(); ++i) {
      if (!layers[i].matrix) continue;
      const double work = double(layers[i].pixels) / double(reps[i]);
      if (work > best_work) {
        best_work = work;
        best = static_cast<int>(i);
      }
    }
    if (best < 0) return reps;
    const ReplicaCandidate& c = layers[static_cast<size_t>(best)];
    int64_t& r = reps[static_cast<size_t>(best)];
    if (r + 1 > c.rows || cores + c.cores_per_replica > cores_limit || xbars + c.crossbars > crossbars_limit) {
      return reps;  // the bottleneck cannot grow: replicating others would not help
    }
    ++r;
    cores += c.cores_per_replica;
    xbars += c.crossbars;
  }
}

std::vector<int64_t> explicit_replicas(const std::vector<ReplicaCandidate>& layers,
                                       const std::map<std::string, int64_t>& counts, int64_t chip_cores,
                                       int64_t chip_crossbars, const std::string& where) {
  std::vector<int64_t> reps(layers.size(), 1);
  std::vector<std::string> matrix_names;
  for (const ReplicaCandidate& c : layers)
    if (c.matrix) matrix_names.push_back(c.name);
  int64_t cores = 0, xbars = 0, one_cores = 0, one_xbars = 0;
  std::string grown;  // "conv1=4 (+6 cores, +18 crossbars)", for the does-not-fit message
  for (const auto& entry : counts) {
    const std::string& name = entry.first;  // not a structured binding: the lambda captures it
    const int64_t count = entry.second;
    const auto it =
        std::find_if(layers.begin(), layers.end(), [&](const ReplicaCandidate& c) { return c.name == name; });
    if (it == layers.end()) {
      std::string list;
      for (const std::string& n : matrix_names) list += (list.empty() ? "" : ", ") + n;
      const std::string hint = arch_keys::closest(name, matrix_names);
      throw InputError(fmt::format("{}: replicas for layer '{}': no such layer{}", where, name,
                                   hint.empty() ? " (matrix layers: " + list + ")"
                                                : " (did you mean '" + hint + "'?)"));
    }
    if (!it->matrix)
      throw InputError(fmt::format("{}: replicas for layer '{}': not a matrix layer (conv/FC); only matrix "
                                   "layers are replicated",
                                   where, name));
    if (count < 1 || count > it->rows)
      throw InputError(fmt::format("{}: replicas for layer '{}': {} is not in [1, {}] (a replica computes whole "
                                   "output rows; the layer has {})",
                                   where, name, count, it->rows, it->rows));
    reps[static_cast<size_t>(it - layers.begin())] = count;
    if (count > 1)
      grown += fmt::format("{}{}={} (+{} cores, +{} crossbars)", grown.empty() ? "" : ", ", name, count,
                           (count - 1) * it->cores_per_replica, (count - 1) * it->crossbars);
  }
  for (size_t i = 0; i < layers.size(); ++i) {
    one_cores += layers[i].cores_per_replica;
    one_xbars += layers[i].crossbars;
    cores += reps[i] * layers[i].cores_per_replica;
    xbars += reps[i] * layers[i].crossbars;
  }
  if (cores > chip_cores || xbars > chip_crossbars)
    throw InputError(fmt::format("{}: the replicas {} need {} cores and {} crossbars (one copy of every layer: "
                                 "{} and {}), the chip has {} and {}",
                                 where, grown.empty() ? "(none above 1)" : grown, cores, xbars, one_cores, one_xbars,
                                 chip_cores, chip_crossbars));
  return reps;
}

}  // namespace cimsim::backend
