// Compiler, emission half: per core the buffer map and the instruction stream (rows fetched
// into rings, im2col copies, mvm, requant, vector layers, sends and stores) — docs/schedule.md.
#include <algorithm>
#include <climits>
#include <stdexcept>

#include "compiler/backend/compiler_impl.h"
#include "compiler/backend/vector_buffers.h"

namespace cimsim::backend::detail {

// Consumer cores of a physical tensor, in plan then slice order.
std::vector<std::pair<int, int>> Compiler::consumers(int t) const {
  std::vector<std::pair<int, int>> out;
  for (size_t pi = 0; pi < cm_.layers.size(); ++pi) {
    const LayerPlan& lp = cm_.layers[pi];
    if (std::find(lp.inputs.begin(), lp.inputs.end(), t) == lp.inputs.end()) continue;
    for (size_t k = 0; k < lp.cores.size(); ++k) out.push_back({static_cast<int>(pi), static_cast<int>(k)});
  }
  return out;
}

void Compiler::add_edge(int from, int to, int tensor, int64_t bytes) {
  auto& e = edges_[{from, to, tensor}];
  e.messages_per_image += 1;
  e.bytes_per_image += bytes;
}

// Input channels [lo, hi) of tensor t that core k of lp reads.
std::pair<int64_t, int64_t> Compiler::in_range(const LayerPlan& lp, int64_t k, int t) const {
  if (lp.kind == q::LayerKind::kConv && !lp.in_c0.empty()) {
    return {lp.in_c0[static_cast<size_t>(k)], lp.in_c1[static_cast<size_t>(k)]};
  }
  return {0, shape(t).C};
}

int64_t Compiler::recv_tmp_bytes(const LayerPlan& lp, int64_t k) const {
  int64_t b = 0;
  for (int t : lp.inputs) {
    const auto [lo, hi] = in_range(lp, k, t);
    const int pp = plan_of_tensor_[static_cast<size_t>(t)];
    std::vector<std::pair<int64_t, int64_t>> slices;
    if (pp >= 0) {
      const LayerPlan& prod = cm_.layers[static_cast<size_t>(pp)];
      for (size_t j = 0; j < prod.cores.size(); ++j) slices.emplace_back(prod.m0[j], prod.m1[j]);
    }
    b = std::max(b, backend::recv_tmp_bytes(lo, hi, shape(t), pp < 0, slices));
  }
  return b;
}

// Row y of tensor t, channels [lo, hi) of the core's window -> dst (W*(hi-lo) bytes, [x][c]).
void Compiler::fetch_row(Ctx& c, int t, int64_t y, int64_t dst) {
  const LayerPlan& me = cm_.layers[static_cast<size_t>(c.pi)];
  const auto [lo, hi] = in_range(me, c.k, t);
  const int64_t cr = hi - lo;
  const PhysShape& s = shape(t);
  const int pp = plan_of_tensor_[static_cast<size_t>(t)];
  if (pp < 0) {
    const TensorIO& io = global_of_tensor_.at(t);
    const Addr g = Emitter::at(c.global_reg.at(t), io.global_addr + y * s.row_bytes());
    if (cr == s.C) {
      c.e->load(Emitter::at(0, dst), g, s.row_bytes());
    } else {
      c.e->load(Emitter::at(0, c.recv_tmp), g, s.row_bytes());
      c.e->copy(Emitter::at(0, dst), Emitter::at(0, c.recv_tmp + lo), cr, s.W, s.C, cr, 1, 0, 0);
    }
    add_edge(-1, c.core, t, s.row_bytes());
    return;
  }
  const LayerPlan& prod = cm_.layers[static_cast<size_t>(pp)];
  // Row y comes from replica y % replicas, one message per slice that overlaps the window.
  for (int64_t sl = 0; sl < prod.slices; ++sl) {
    const size_t j = static_cast<size_t>(prod.core_index(y % prod.replicas, sl, 0));
    const int64_t m0 = prod.m0[j], m1 = prod.m1[j], ms = m1 - m0;
    const int64_t a = std::max(m0, lo), b = std::min(m1, hi);
    if (a >= b) continue;
    const int64_t len = s.W * ms;
    if (slice_direct(m0, m1, lo, hi, s.W)) {
      c.e->recv(Emitter::at(0, dst + m0 - lo), len, prod.cores[j], tag_of(t, y));
    } else {
      c.e->recv(Emitter::at(0, c.recv_tmp), len, prod.cores[j], tag_of(t, y));
      c.e->copy(Emitter::at(0, dst + a - lo), Emitter::at(0, c.recv_tmp + a - m0), b - a, s.W, ms,
                cr, 1, 0, 0);
    }
  }
}

// Row y of input t is in global memory: one token per producer slice of the replica that
// computes the row (every slice: a strip holds all channels).
void Compiler::recv_tokens(Ctx& c, int t, int64_t y, int64_t token) {
  const int pp = plan_of_tensor_[static_cast<size_t>(t)];
  if (pp < 0) return;  // model inputs are in memory before the run
  const LayerPlan& prod = cm_.layers[static_cast<size_t>(pp)];
  for (int64_t sl = 0; sl < prod.slices; ++sl) {
    const int from = prod.cores[static_cast<size_t>(prod.core_index(y % prod.replicas, sl, 0))];
    c.e->recv(Emitter::at(0, token), 1, from, tag_of(t, y));
  }
}

// After output row oy is in `buf` (OW * Ms bytes): send to consumers, store if an output.
// A spilled tensor is stored first, then each consumer that reads it from global memory
// gets a 1-byte token (read from `buf`) instead of the row. Per-pixel stores happened already.
void Compiler::emit_outputs(Ctx& c, int64_t oy, int64_t buf) {
  const LayerPlan& lp = cm_.layers[static_cast<size_t>(c.pi)];
  const PhysShape& s = shape(lp.out);
  const int64_t m0 = lp.m0[static_cast<size_t>(c.k)], ms = lp.m1[static_cast<size_t>(c.k)] - m0;
  const int64_t len = s.W * ms;
  const bool spilled = spilled_.count(lp.out) > 0;
  const bool px = c.k < static_cast<int64_t>(lp.store_per_pixel.size()) && lp.store_per_pixel[static_cast<size_t>(c.k)];
  auto store_row = [&] {
    const TensorIO& io = global_of_tensor_.at(lp.out);
    const int rg = c.global_reg.at(lp.out);
    const int64_t g = io.global_addr + oy * s.row_bytes() + m0;
    if (ms == s.C || s.W == 1) {
      c.e->store(Emitter::at(rg, g), Emitter::at(0, buf), len);
    } else {
      c.e->add(kRGlob, rg, 0);
      c.e->li(kROut, 0);
      c.e->li(kRCnt, 0);
      c.e->li(kRLim, s.W);
      const size_t top = c.e->pc();
      c.e->store(Emitter::at(kRGlob, g), Emitter::at(kROut, buf), ms);
      c.e->addi(kRGlob, kRGlob, s.C);
      c.e->addi(kROut, kROut, ms);
      c.e->addi(kRCnt, kRCnt, 1);
      c.e->blt(kRCnt, kRLim, top);
    }
    add_edge(c.core, -1, lp.out, len);
    if (!is_output_.count(lp.out)) cm_.layers[static_cast<size_t>(c.pi)].spill_bytes_per_image += len;
  };
  if (spilled && !px) store_row();
  for (const auto& [cpi, ck] : consumers(lp.out)) {
    const LayerPlan& cl = cm_.layers[static_cast<size_t>(cpi)];
    if (!needs_row(cl, ck, oy)) continue;
    const int to = cl.cores[static_cast<size_t>(ck)];
    if (reads_global(cl, ck)) {
      c.e->send(Emitter::at(0, buf), 1, to, tag_of(lp.out, oy));
      add_edge(c.core, to, lp.out, 1);
      continue;
    }
    const auto [lo, hi] = in_range(cl, ck, lp.out);
    if (std::max(m0, lo) >= std::min(m0 + ms, hi)) continue;  // it reads none of our channels
    if (px) throw std::logic_error("backend: a consumer of per-pixel stores reads rows");
    c.e->send(Emitter::at(0, buf), len, to, tag_of(lp.out, oy));
    add_edge(c.core, to, lp.out, len);
  }
  if (!spilled && is_output_.count(lp.out)) store_row();
}

void Compiler::check_capacity(const Ctx& c, const Alloc& a) const {
  const LayerPlan& lp = cm_.layers[static_cast<size_t>(c.pi)];
  check_vector_core(a, arch_.core.buffer_bytes,
                    fmt::format("{}: layer {}: core {}", m_.name, m_.layers[static_cast<size_t>(lp.layer)].name, c.core));
}

void Compiler::emit_core(int pi, int k) {
  LayerPlan& lp = cm_.layers[static_cast<size_t>(pi)];
  Ctx c;
  c.pi = pi;
  c.k = k;
  c.core = lp.cores[static_cast<size_t>(k)];
  CoreProgram& cp = cm_.program.cores[static_cast<size_t>(c.core)];
  Emitter e(&cp.code);
  e.set_layer(lp.layer);
  e.set_message_limit(arch_.noc.rx_channel_bytes);
  c.e = &e;
  c.cp = &cp;
  CoreInfo& info = cm_.cores[static_cast<size_t>(c.core)];
  info.plan = pi;

  int next_reg = kRFirstGlobal;
  auto want_global = [&](int t) {
    if (c.global_reg.count(t)) return;
    if (next_reg > kRLastGlobal) fail(lp.layer, "a core touches more than 4 global tensors");
    c.global_reg[t] = next_reg++;
  };
  for (int t : lp.inputs) {
    if (plan_of_tensor_[static_cast<size_t>(t)] < 0 || reads_global(lp, k)) want_global(t);
  }
  if (is_output_.count(lp.out) || spilled_.count(lp.out)) want_global(lp.out);

  Alloc a;
  Body body;
  switch (lp.kind) {
    case q::LayerKind::kConv: body = plan_conv(c, a); break;
    case q::LayerKind::kMaxPool:
    case q::LayerKind::kAvgPool: body = lp.global_pool ? plan_global_pool(c, a) : plan_pool(c, a); break;
    default: body = plan_rowwise(c, a); break;
  }
  check_capacity(c, a);
  info.buffers = a.regions;
  info.peak_bytes = a.top;

  // Prologue, batch loop, epilogue (docs/schedule.md).
  e.li(kRImage, 0);
  for (const auto& [t, r] : c.global_reg) e.li(r, 0);
  for (const auto& pre : body.prologue) pre();
  e.blt(kRImage, kBatchRegister, e.pc() + 2);
  const size_t skip = e.jmp(0);
  const size_t top = e.pc();
  body.image();
  for (const auto& [t, r] : c.global_reg) e.addi(r, r, global_of_tensor_.at(t).bytes_per_image);
  e.addi(kRImage, kRImage, 1);
  e.blt(kRImage, kBatchRegister, top);
  e.patch_target(skip, e.pc());
  e.halt();
}

// --- conv ----------------------------------------------------------------------------
Compiler::Body Compiler::plan_conv(Ctx& c, Alloc& a) {
  LayerPlan& lp = cm_.layers[static_cast<size_t>(c.pi)];
  const ConvMap& cv = lp.conv;
  const Window& w = cv.win;
  const auto& cts = lp.core_col_tiles[static_cast<size_t>(c.k)];
  const int64_t m0 = lp.m0[static_cast<size_t>(c.k)], ms = lp.m1[static_cast<size_t>(c.k)] - m0;
  const int64_t R = arch_.crossbar.rows;
  const int64_t part = lp.part_of(c.k);
  const int64_t rt0 = part * cv.rows_per_part;  // this core's row tiles [rt0, rt1)

  // Tiles: column-tile major, row tiles within. PE/crossbar by index.
  struct TileRef { int ct; int64_t rt; int tile; };
  std::vector<TileRef> tiles;
  std::vector<int> blocks;  // distinct blocks of this core, in order
  // Reloadable core (mapping.md, "Reloads"): more tiles than crossbars; tile i lives in
  // crossbar i mod X and its weights in global memory.
  const int64_t X = d_.crossbars_per_core;
  int64_t ntiles = 0;
  for (int ct : cts) {
    const ColTile& t = cv.col_tiles[static_cast<size_t>(ct)];
    ntiles += std::min(cv.blocks[static_cast<size_t>(t.block)].row_tiles, rt0 + cv.rows_per_part) - rt0;
  }
  const bool reload = lp.reload && ntiles > X;
  if (reload && (w.OH != 1 || w.OW != 1)) fail(lp.layer, "reloads need a single output pixel");
  for (int ct : cts) {
    const ColTile& t = cv.col_tiles[static_cast<size_t>(ct)];
    if (blocks.empty() || blocks.back() != t.block) blocks.push_back(t.block);
    const int64_t rt1 = std::min(cv.blocks[static_cast<size_t>(t.block)].row_tiles, rt0 + cv.rows_per_part);
    for (int64_t rt = rt0; rt < rt1; ++rt) {
      TileDesc td = make_tile(m_, lp.layer, cv, ct, rt, arch_);
      const int idx = static_cast<int>(c.cp->tiles.size());
      const int slot = static_cast<int>(idx % X);
      td.pe = slot / arch_.pe.crossbars;
      td.crossbar = slot % arch_.pe.crossbars;
      if (reload) {
        const int64_t bytes = int64_t{td.rows} * td.cols;
        td.weight_global_addr = next_weight_addr_;
        next_weight_addr_ += bytes;
        lp.reload_bytes_per_image += bytes;
      }
      c.cp->tiles.push_back(std::move(td));
      tiles.push_back({ct, rt, idx});
    }
  }
  if (lp.reload) lp.reload_passes = std::max(lp.reload_passes, (ntiles + X - 1) / X);
  // Requant parameters of this core's channel slice.
  const q::Layer& l = m_.layers[static_cast<size_t>(lp.layer)];
  const q::QTensor& out = m_.tensors[static_cast<size_t>(lp.out)];
  RequantDesc rq;
  rq.kind = RequantDesc::Kind::kPerChannel;
  rq.qmin = out.qmin();
  rq.qmax = out.qmax();
  rq.channels = static_cast<int32_t>(ms);
  for (int64_t mo = m0; mo < m0 + ms; ++mo) {
    rq.bias.push_back(l.conv.bias[static_cast<size_t>(mo)]);
    rq.multiplier.push_back(l.conv.requant[static_cast<size_t>(mo)].multiplier);
    rq.shift.push_back(l.conv.requant[static_cast<size_t>(mo)].shift);
  }
  if (part == 0) c.cp->requant.push_back(rq);

  // Buffer choice made by plan_buffers() (ring, fallbacks, strips, per-pixel stores).
  const ConvChoice ch = choice_.at({c.pi, c.k});
  a = conv_alloc(lp, c.k, ch);
  auto region = [&a](const char* name) -> int64_t {
    for (const BufferRegion& r : a.regions) {
      if (r.name == name) return r.offset;
    }
    return 0;
  };
  const int64_t lo = lp.in_c0[static_cast<size_t>(c.k)];
  const int64_t Cr = lp.in_c1[static_cast<size_t>(c.k)] - lo;  // channels kept in the ring
  const bool strips = ch.strip > 0;
  const int64_t S = ch.S;
  const bool per_pixel = ch.per_pixel;
  const int64_t nout = ch.nout;
  const bool store_px = part == 0 && nout == 0;
  const bool strip_acc = strips && lp.kparts == 1;  // accumulators per strip buffer
  // Direct mode: the im2col vector is already contiguous in the ring or strip, so mvm reads
  // it there and no copy is needed.
  std::vector<bool> direct(cv.blocks.size(), false);
  std::map<int, int64_t> staging_off;
  int64_t staging = 0;
  for (int b : blocks) {
    const ConvBlock& bl = cv.blocks[static_cast<size_t>(b)];
    direct[static_cast<size_t>(b)] = conv_direct(lp, c.k, bl, ch);
    if (!direct[static_cast<size_t>(b)]) {
      staging_off[b] = staging;
      staging += bl.K;
    }
  }
  const int64_t RW = w.padded_w() * Cr;
  const int64_t ring = region(strips ? "strip" : "ring");
  const int64_t stage = region("staging");
  const int64_t acc = region("acc");
  const int64_t obuf = part == 0 ? region("out") : 0;
  c.recv_tmp = strips ? -1 : region("recv_tmp");
  c.token = strips ? region("token") : -1;
  const int64_t psum = part == 0 && lp.kparts > 1 ? region("partial_sums") : 0;
  const bool pads = w.pt || w.pl || w.pb || w.pr;
  // Strip geometry (strip mode): slots of Wp input columns x all C channels, kh per buffer.
  const int64_t P = ch.strip;
  const int64_t Wp = strips ? (P - 1) * w.sw + (w.kw - 1) * w.dw + 1 : 0;
  const int64_t slotB = Wp * w.C, bufB = w.kh * slotB;
  const int in_t = lp.inputs[0];
  const PhysShape in_s = shape(in_t);
  const PhysShape out_s = shape(lp.out);

  Body body;
  if (pads && !strips) body.prologue.push_back([=, &c] { c.e->fill(Emitter::at(0, ring), S * RW, 0); });
  body.image = [=, &c, &lp] {
    Emitter& e = *c.e;
    const int r_in = strips ? c.global_reg.at(in_t) : 0;
    const int64_t in_base = strips ? global_of_tensor_.at(in_t).global_addr : 0;
    const int r_out = store_px ? c.global_reg.at(lp.out) : 0;
    const int64_t out_base = store_px ? global_of_tensor_.at(lp.out).global_addr : 0;
    // The first pass's weights are fetched before the input arrives.
    if (reload) {
      for (int64_t i = 0; i < std::min<int64_t>(X, static_cast<int64_t>(tiles.size())); ++i) {
        e.wload(tiles[static_cast<size_t>(i)].tile);
      }
    }
    // One pixel's mvms and per-pixel tail, its im2col vector gathered from `src` (ring or
    // strip slot of ky = 0 for this pixel, at register rs) whose kernel rows are `row_step`
    // bytes apart (ring: contiguous runs of slots, split where they wrap).
    auto pixel = [&](int rs, int ra, bool loop, const std::function<void()>& im2col,
                     const std::function<Addr(const ConvBlock&, int64_t)>& direct_src, int64_t ob,
                     int64_t acc_base) {
      im2col();
      for (const TileRef& t : tiles) {
        const ColTile& ct = cv.col_tiles[static_cast<size_t>(t.ct)];
        const ConvBlock& bl = cv.blocks[static_cast<size_t>(ct.block)];
        Addr src = direct[static_cast<size_t>(ct.block)]
                       ? direct_src(bl, t.rt)
                       : Emitter::at(0, stage + staging_off.at(ct.block) + t.rt * R);
        if (reload && t.tile >= X) e.wload(t.tile);
        e.mvm(t.tile, Emitter::at(ra, acc_base + (ct.m0 - m0) * 4), src, t.rt > rt0);
      }
      (void)rs;
      if (per_pixel && part == 0) {
        if (store_px) {
          e.requant(Emitter::at(0, obuf), Emitter::at(0, acc), ms, 0);
          e.store(Emitter::at(kRStore, out_base + m0), Emitter::at(0, obuf), ms);
          e.addi(kRStore, kRStore, out_s.C);
        } else {
          e.requant(Emitter::at(loop ? kROut : 0, ob), Emitter::at(0, acc), ms, 0);
        }
      }
      if (strips) e.addi(kRAcc, kRAcc, ms * 4);
    };
    int64_t pnext = 0;
    const int64_t pend = w.H + w.pt + w.pb;
    for (int64_t oy = 0; oy < w.OH; ++oy) {
      if (!computes_row(lp, c.k, oy)) continue;
      const int64_t pmax = std::min(oy * w.sh + (w.kh - 1) * w.dh, pend - 1);
      for (; pnext <= pmax; ++pnext) {
        const int64_t y = pnext - w.pt;
        if (!needs_row(lp, c.k, y)) continue;
        if (strips) {
          if (y >= 0 && y < w.H) recv_tokens(c, in_t, y, c.token);
          continue;
        }
        const int64_t slot = ring + (pnext % S) * RW + w.pl * Cr;
        if (y < 0 || y >= w.H) {
          e.fill(Emitter::at(0, slot), w.W * Cr, 0);
        } else {
          fetch_row(c, in_t, y, slot);
        }
      }
      const int64_t ob = nout > 0 ? obuf + (oy % nout) * w.OW * ms : obuf;
      if (store_px) {
        e.add(kRStore, r_out, 0);
        if (oy > 0) e.addi(kRStore, kRStore, oy * out_s.row_bytes());
        add_edge(c.core, -1, lp.out, w.OW * ms);
        if (!is_output_.count(lp.out)) lp.spill_bytes_per_image += w.OW * ms;
      }
      if (!strips) {
        const bool loop = w.OW > 1;
        const int rs = loop ? kRSrc : 0, ra = loop && !per_pixel ? kRAcc : 0;
        if (loop) {
          e.li(kRSrc, 0);
          if (!per_pixel) e.li(kRAcc, 0);
          if (per_pixel && !store_px) e.li(kROut, 0);
          e.li(kRCnt, 0);
          e.li(kRLim, w.OW);
        }
        const size_t top = e.pc();
        // im2col copies: runs of ky whose ring slots do not wrap.
        const int64_t s0 = (oy * w.sh) % S;
        auto im2col = [&] {
          for (int b : blocks) {
            const ConvBlock& bl = cv.blocks[static_cast<size_t>(b)];
            if (direct[static_cast<size_t>(b)]) continue;
            const int64_t dst0 = stage + staging_off.at(b);
            const bool merged = w.dw == 1 && bl.cin == Cr;
            const int64_t seg = merged ? w.kw * Cr : bl.cin, n_in = merged ? 1 : w.kw;
            const int64_t s_in = merged ? 0 : w.dw * Cr, d_in = merged ? 0 : bl.cin;
            int64_t ky = 0;
            while (ky < w.kh) {
              const int64_t slot = (s0 + ky * w.dh) % S;
              int64_t kend = ky + 1;
              while (kend < w.kh && slot + (kend - ky) * w.dh < S) ++kend;
              e.copy(Emitter::at(0, dst0 + ky * w.kw * bl.cin),
                     Emitter::at(rs, ring + slot * RW + bl.c0 - lo), seg, n_in, s_in, d_in, kend - ky,
                     w.dh * RW, w.kw * bl.cin);
              ky = kend;
            }
          }
        };
        pixel(rs, ra, loop, im2col,
              [&](const ConvBlock& bl, int64_t rt) { return Emitter::at(rs, ring + s0 * RW + bl.c0 - lo + rt * R); },
              ob, acc);
        if (loop) {
          e.addi(kRSrc, kRSrc, w.sw * Cr);
          if (!per_pixel) e.addi(kRAcc, kRAcc, ms * 4);
          if (per_pixel && !store_px) e.addi(kROut, kROut, ms);
          e.addi(kRCnt, kRCnt, 1);
          e.blt(kRCnt, kRLim, top);
        }
      } else {
        // Strip mode (docs/schedule.md, "Spilling"): per strip of P pixels, load the kh input
        // row segments it reads into a strip buffer (zeros for padding), then the pixel loop.
        if (!strip_acc) e.li(kRAcc, 0);
        if (strip_acc && !store_px) e.li(kROut, 0);
        const int ra = kRAcc;
        int64_t loaded = 0;
        const int64_t nstrips = (w.OW + P - 1) / P;
        auto npx_of = [&](int64_t i) { return std::min(P, w.OW - i * P); };
        // Strip i's kh input row segments -> its strip buffer (i mod buffers). `runtime`: at
        // r6 (the strip's first input column, advanced by one strip), else at compile-time
        // addresses with the padding filled.
        auto load_strip = [&](int64_t i, bool runtime) {
          const int64_t sb = ring + (i % ch.strip_bufs) * bufB;
          const int64_t x0 = i * P * w.sw - w.pl, x1 = x0 + (npx_of(i) - 1) * w.sw + (w.kw - 1) * w.dw + 1;
          for (int64_t ky = 0; ky < w.kh; ++ky) {
            const int64_t y = oy * w.sh + ky * w.dh - w.pt;
            const int64_t slot = sb + ky * slotB;
            const int64_t xa = std::clamp<int64_t>(x0, 0, w.W), xb = std::clamp<int64_t>(x1, 0, w.W);
            if (y < 0 || y >= w.H || xb <= xa) {
              e.fill(Emitter::at(0, slot), (x1 - x0) * w.C, 0);
              continue;
            }
            if (runtime) {
              e.load(Emitter::at(0, slot), Emitter::at(kRGlob, in_base + y * in_s.row_bytes()), (x1 - x0) * w.C);
              loaded += (x1 - x0) * w.C;
              continue;
            }
            if (xa > x0) e.fill(Emitter::at(0, slot), (xa - x0) * w.C, 0);
            if (x1 > xb) e.fill(Emitter::at(0, slot + (xb - x0) * w.C), (x1 - xb) * w.C, 0);
            e.load(Emitter::at(0, slot + (xa - x0) * w.C),
                   Emitter::at(r_in, in_base + y * in_s.row_bytes() + xa * w.C), (xb - xa) * w.C);
            loaded += (xb - xa) * w.C;
          }
          if (runtime) e.addi(kRGlob, kRGlob, P * w.sw * w.C);
        };
        // Strip i's pixel loop, then (accumulators per strip) its requant into the output row
        // at r5, or into its output pixels and stores at r9.
        auto compute_strip = [&](int64_t i) {
          const int64_t q = i % ch.strip_bufs, npx = npx_of(i);
          const int64_t sb = ring + q * bufB;
          const int64_t acc_q = strip_acc ? acc + q * P * ms * 4 : acc;
          if (strip_acc) e.li(kRAcc, 0);
          const bool loop = npx > 1;
          const int rs = loop ? kRSrc : 0;
          if (loop) {
            e.li(kRSrc, 0);
            e.li(kRCnt, 0);
            e.li(kRLim, npx);
          }
          const size_t top = e.pc();
          auto im2col = [&] {
            for (int b : blocks) {
              const ConvBlock& bl = cv.blocks[static_cast<size_t>(b)];
              if (direct[static_cast<size_t>(b)]) continue;
              const bool merged = w.dw == 1 && bl.cin == w.C;
              if (merged) {
                // One copy per kernel row and row tile: the copy feeding tile rt waits (WAR)
                // only for the previous pixel's mvm of rt, so pixels overlap in the crossbars.
                const int64_t seg = w.kw * w.C;
                for (int64_t ky = 0; ky < w.kh; ++ky) {
                  int64_t at = ky * seg;
                  while (at < (ky + 1) * seg) {
                    const int64_t end = std::min((ky + 1) * seg, (at / R + 1) * R);
                    e.copy(Emitter::at(0, stage + staging_off.at(b) + at),
                           Emitter::at(rs, sb + ky * slotB + at - ky * seg), end - at, 1, 0, 0, 1, 0, 0);
                    at = end;
                  }
                }
                continue;
              }
              const int64_t seg = bl.cin, n_in = w.kw;
              const int64_t s_in = w.dw * w.C, d_in = bl.cin;
              e.copy(Emitter::at(0, stage + staging_off.at(b)), Emitter::at(rs, sb + bl.c0), seg, n_in, s_in,
                     d_in, w.kh, slotB, w.kw * bl.cin);
            }
          };
          pixel(rs, ra, loop, im2col,
                [&](const ConvBlock& bl, int64_t rt) { return Emitter::at(rs, sb + bl.c0 + rt * R); }, ob,
                acc_q);
          if (loop) {
            e.addi(kRSrc, kRSrc, w.sw * w.C);
            e.addi(kRCnt, kRCnt, 1);
            e.blt(kRCnt, kRLim, top);
          }
          if (!strip_acc) return;
          if (!store_px) {
            e.requant(Emitter::at(kROut, ob), Emitter::at(0, acc_q), npx * ms, 0);
            e.addi(kROut, kROut, npx * ms);
            return;
          }
          const int64_t out_q = obuf + q * P * ms;
          e.requant(Emitter::at(0, out_q), Emitter::at(0, acc_q), npx * ms, 0);
          if (ms == out_s.C) {
            e.store(Emitter::at(kRStore, out_base + m0), Emitter::at(0, out_q), npx * ms);
            e.addi(kRStore, kRStore, npx * out_s.C);
            return;
          }
          e.li(kRSrc, 0);
          e.li(kRCnt, 0);
          e.li(kRLim, npx);
          const size_t stop = e.pc();
          e.store(Emitter::at(kRStore, out_base + m0), Emitter::at(kRSrc, out_q), ms);
          e.addi(kRStore, kRStore, out_s.C);
          e.addi(kRSrc, kRSrc, ms);
          e.addi(kRCnt, kRCnt, 1);
          e.blt(kRCnt, kRLim, stop);
        };
        auto interior = [&](int64_t i) {
          const int64_t x0 = i * P * w.sw - w.pl;
          return i < nstrips && npx_of(i) == P && x0 >= 0 && x0 + (P - 1) * w.sw + (w.kw - 1) * w.dw + 1 <= w.W;
        };
        // With two buffers, strip i + 1 is loaded before strip i computes (the in-order
        // dispatch reaches those loads while strip i's mvms queue, so their latency hides);
        // with one, the load must wait for the previous strip's reads anyway. Runs of uniform
        // strips (interior, full width) become a loop whose loads address through r6.
        const int64_t nb = ch.strip_bufs;
        const int64_t ahead = nb > 1 ? 1 : 0;  // strips loaded ahead of the computing one
        auto run_end = [&](int64_t from) {  // first strip >= from that is not interior
          while (interior(from)) ++from;
          return from;
        };
        if (ahead) load_strip(0, false);
        int64_t i = 0;
        while (i < nstrips) {
          // In the loop body: per buffer, load strip k + ahead (runtime), compute strip k.
          const int64_t j = run_end(i + ahead);
          const int64_t iters = npx_of(i) == P && (ahead || interior(i)) ? (j - i - ahead) / nb : 0;
          if (iters >= 2) {
            e.add(kRGlob, r_in, 0);
            e.addi(kRGlob, kRGlob, ((i + ahead) * P * w.sw - w.pl) * w.C);
            e.li(kRStrip, 0);
            e.li(kRStripLim, iters);
            const size_t top = e.pc();
            const int64_t before = loaded;
            for (int64_t q = 0; q < nb; ++q) {
              load_strip(i + q + ahead, true);
              compute_strip(i + q);
            }
            loaded = before + (loaded - before) * iters;
            e.addi(kRStrip, kRStrip, 1);
            e.blt(kRStrip, kRStripLim, top);
            i += iters * nb;
            continue;
          }
          if (i + ahead < nstrips) load_strip(i + ahead, false);
          compute_strip(i);
          ++i;
        }
        add_edge(-1, c.core, in_t, loaded);
        lp.spill_bytes_per_image += loaded;
      }
      if (part > 0) {  // K-part: partial sums of the row go to the part-0 core
        const int to = lp.cores[static_cast<size_t>(lp.core_index(lp.replica_of(c.k), lp.slice_of(c.k), 0))];
        e.send(Emitter::at(0, acc), w.OW * ms * 4, to, tag_of(lp.out, oy));
        add_edge(c.core, to, lp.out, w.OW * ms * 4);
        continue;
      }
      for (int64_t q = 1; q < lp.kparts; ++q) {
        const int from = lp.cores[static_cast<size_t>(lp.core_index(lp.replica_of(c.k), lp.slice_of(c.k), q))];
        e.recv(Emitter::at(0, psum), w.OW * ms * 4, from, tag_of(lp.out, oy));
        e.add32(Emitter::at(0, acc), Emitter::at(0, acc), Emitter::at(0, psum), w.OW * ms);
      }
      if (!per_pixel && !strip_acc) e.requant(Emitter::at(0, ob), Emitter::at(0, acc), w.OW * ms, 0);
      emit_outputs(c, oy, ob);
    }
  };
  return body;
}

// --- window pools --------------------------------------------------------------------
Compiler::Body Compiler::plan_pool(Ctx& c, Alloc& a) {
  LayerPlan& lp = cm_.layers[static_cast<size_t>(c.pi)];
  const q::Layer& l = m_.layers[static_cast<size_t>(lp.layer)];
  const Window& w = lp.win;
  const bool is_max = lp.kind == q::LayerKind::kMaxPool;
  const q::QTensor& in = m_.tensors[static_cast<size_t>(lp.inputs[0])];
  const q::QTensor& out = m_.tensors[static_cast<size_t>(lp.out)];
  const int64_t RW = w.slot_bytes(), C = w.C;
  const PoolRegions pr = pool_regions(w, is_max, recv_tmp_bytes(lp, c.k), arch_.core.buffer_bytes, &a);
  const int64_t S = pr.slots;
  lp.ring_slots.assign(1, S);
  const int64_t ring = pr.ring, acc = pr.acc, obuf = pr.out, gather = pr.gather;
  c.recv_tmp = pr.recv_tmp;

  // Average pools: one requant table per window count.
  std::map<int64_t, int> qid_of_count;
  auto qid = [&, C](int64_t count) {
    auto it = qid_of_count.find(count);
    if (it != qid_of_count.end()) return it->second;
    RequantDesc rq;
    rq.qmin = out.qmin();
    rq.qmax = out.qmax();
    rq.channels = static_cast<int32_t>(C);
    rq.bias.assign(static_cast<size_t>(C), 0);
    const auto& qm = l.pool.avg_multiplier[static_cast<size_t>(count)];
    rq.multiplier.assign(static_cast<size_t>(C), qm.multiplier);
    rq.shift.assign(static_cast<size_t>(C), qm.shift);
    const int id = static_cast<int>(c.cp->requant.size());
    c.cp->requant.push_back(rq);
    qid_of_count[count] = id;
    return id;
  };
  auto count_1d = [](int64_t o, int64_t s, int64_t p, int64_t k, int64_t d, int64_t lo,
                     int64_t hi_excl) {
    int64_t cnt = 0;
    for (int64_t t = 0; t < k; ++t) {
      const int64_t pos = o * s - p + t * d;
      if (pos >= lo && pos < hi_excl) ++cnt;
    }
    return cnt;
  };
  // Precompute counts and request qids now (tables are part of the core, not the loop).
  std::vector<std::vector<int>> qids(static_cast<size_t>(w.OH), std::vector<int>(static_cast<size_t>(w.OW), 0));
  if (!is_max) {
    const bool incl = l.pool.count_include_pad;
    for (int64_t oy = 0; oy < w.OH; ++oy) {
      for (int64_t ox = 0; ox < w.OW; ++ox) {
        const int64_t cy = incl ? count_1d(oy, w.sh, w.pt, w.kh, w.dh, -w.pt, w.H + w.pb)
                                : count_1d(oy, w.sh, w.pt, w.kh, w.dh, 0, w.H);
        const int64_t cx = incl ? count_1d(ox, w.sw, w.pl, w.kw, w.dw, -w.pl, w.W + w.pr)
                                : count_1d(ox, w.sw, w.pl, w.kw, w.dw, 0, w.W);
        qids[static_cast<size_t>(oy)][static_cast<size_t>(ox)] = qid(cy * cx);
      }
    }
  }
  const bool uns = in.is_unsigned;
  const int qmin_byte = in.qmin();
  Body body;
  const int in_t = lp.inputs[0];
  body.image = [=, &c, &lp] {
    Emitter& e = *c.e;
    int64_t pnext = w.pt;  // pools never read padding rows
    for (int64_t oy = 0; oy < w.OH; ++oy) {
      const int64_t pmax = std::min(oy * w.sh + (w.kh - 1) * w.dh, w.pt + w.H - 1);
      for (; pnext <= pmax; ++pnext) {
        const int64_t y = pnext - w.pt;
        if (needs_row(lp, c.k, y)) fetch_row(c, in_t, y, ring + (pnext % S) * RW + w.pl * C);
      }
      const int64_t ob = obuf + (oy % 2) * w.OW * C;
      if (is_max) {
        e.fill(Emitter::at(0, ob), w.OW * C, qmin_byte);
      } else {
        e.fill(Emitter::at(0, acc), w.OW * C * 4, 0);
      }
      for (int64_t ky = 0; ky < w.kh; ++ky) {
        const int64_t py = oy * w.sh + ky * w.dh;
        if (py < w.pt || py >= w.pt + w.H) continue;
        const int64_t slot = ring + (py % S) * RW;
        for (int64_t kx = 0; kx < w.kw; ++kx) {
          int64_t lo = 0, hi = 0;
          w.valid_ox(kx, &lo, &hi);
          const int64_t n = hi - lo;
          if (n <= 0) continue;
          int64_t src = slot + (lo * w.sw + kx * w.dw) * C;
          if (w.sw > 1 && n > 1) {
            e.copy(Emitter::at(0, gather), Emitter::at(0, src), C, n, w.sw * C, C, 1, 0, 0);
            src = gather;
          }
          if (is_max) {
            e.max(Emitter::at(0, ob + lo * C), Emitter::at(0, ob + lo * C), Emitter::at(0, src),
                  n * C, uns);
          } else {
            e.sum32(Emitter::at(0, acc + lo * C * 4), Emitter::at(0, src), n * C, uns);
          }
        }
      }
      if (!is_max) {
        int64_t ox = 0;
        while (ox < w.OW) {
          int64_t end = ox + 1;
          const auto& row = qids[static_cast<size_t>(oy)];
          while (end < w.OW && row[static_cast<size_t>(end)] == row[static_cast<size_t>(ox)]) ++end;
          e.requant(Emitter::at(0, ob + ox * C), Emitter::at(0, acc + ox * C * 4), (end - ox) * C,
                    row[static_cast<size_t>(ox)]);
          ox = end;
        }
      }
      emit_outputs(c, oy, ob);
    }
  };
  return body;
}

Compiler::Body Compiler::plan_global_pool(Ctx& c, Alloc& a) {
  const LayerPlan& lp = cm_.layers[static_cast<size_t>(c.pi)];
  const q::Layer& l = m_.layers[static_cast<size_t>(lp.layer)];
  const Window& w = lp.win;
  const q::QTensor& in = m_.tensors[static_cast<size_t>(lp.inputs[0])];
  const q::QTensor& out = m_.tensors[static_cast<size_t>(lp.out)];
  const int64_t C = w.C;
  const GlobalPoolRegions gr = global_pool_regions(w, recv_tmp_bytes(lp, c.k), &a);
  const int64_t row = gr.row, acc = gr.acc, obuf = gr.out;
  c.recv_tmp = gr.recv_tmp;
  RequantDesc rq;
  rq.qmin = out.qmin();
  rq.qmax = out.qmax();
  rq.channels = static_cast<int32_t>(C);
  rq.bias.assign(static_cast<size_t>(C), 0);
  const auto& qm = l.pool.avg_multiplier[static_cast<size_t>(w.H * w.W)];
  rq.multiplier.assign(static_cast<size_t>(C), qm.multiplier);
  rq.shift.assign(static_cast<size_t>(C), qm.shift);
  c.cp->requant.push_back(rq);
  const bool uns = in.is_unsigned;
  const int in_t = lp.inputs[0];
  Body body;
  body.image = [=, &c] {
    Emitter& e = *c.e;
    e.fill(Emitter::at(0, acc), C * 4, 0);
    for (int64_t y = 0; y < w.H; ++y) {
      fetch_row(c, in_t, y, row);
      if (w.W == 1) {
        e.sum32(Emitter::at(0, acc), Emitter::at(0, row), C, uns);
        continue;
      }
      e.li(kRSrc, 0);
      e.li(kRCnt, 0);
      e.li(kRLim, w.W);
      const size_t top = e.pc();
      e.sum32(Emitter::at(0, acc), Emitter::at(kRSrc, row), C, uns);
      e.addi(kRSrc, kRSrc, C);
      e.addi(kRCnt, kRCnt, 1);
      e.blt(kRCnt, kRLim, top);
    }
    e.requant(Emitter::at(0, obuf), Emitter::at(0, acc), C, 0);
    emit_outputs(c, 0, obuf);
  };
  return body;
}

// --- row-wise vector layers: Add, Concat, Lut --------------------------------------
Compiler::Body Compiler::plan_rowwise(Ctx& c, Alloc& a) {
  const LayerPlan& lp = cm_.layers[static_cast<size_t>(c.pi)];
  const q::Layer& l = m_.layers[static_cast<size_t>(lp.layer)];
  const PhysShape os = shape(lp.out);
  const q::QTensor& out = m_.tensors[static_cast<size_t>(lp.out)];
  std::vector<std::pair<std::string, int64_t>> rows;
  for (int t : lp.inputs) rows.emplace_back(fmt::format("in_t{}", t), shape(t).row_bytes());
  const RowwiseRegions rr = rowwise_regions(rows, os.row_bytes(), recv_tmp_bytes(lp, c.k), &a);
  std::map<int, int64_t> buf;
  for (size_t i = 0; i < lp.inputs.size(); ++i) buf[lp.inputs[i]] = rr.in[i];
  const int64_t obuf = rr.out;
  c.recv_tmp = rr.recv_tmp;
  int64_t lutbuf = 0;
  std::vector<int> lids(l.inputs.size(), -1);
  if (lp.kind == q::LayerKind::kAdd) {
    RequantDesc rq;
    rq.kind = RequantDesc::Kind::kAdd;
    rq.qmin = out.qmin();
    rq.qmax = out.qmax();
    rq.mult_a = l.add.mult_a;
    rq.mult_b = l.add.mult_b;
    rq.add_shift = l.add.add_shift;
    rq.a_unsigned = m_.tensors[static_cast<size_t>(l.inputs[0])].is_unsigned;
    rq.b_unsigned = m_.tensors[static_cast<size_t>(l.inputs[1])].is_unsigned;
    c.cp->requant.push_back(rq);
  } else if (lp.kind == q::LayerKind::kLut) {
    const q::QTensor& in = m_.tensors[static_cast<size_t>(l.inputs[0])];
    if (l.lut.size() != (size_t{1} << in.bits)) fail(lp.layer, "LUT size must be 2^input bits");
    c.cp->luts.push_back({in.is_unsigned, l.lut});
  } else {
    int64_t maxrow = 0;
    for (size_t i = 0; i < l.inputs.size(); ++i) {
      const q::QTensor& in = m_.tensors[static_cast<size_t>(l.inputs[i])];
      const auto& t = l.lut_per_input[i];
      if (t.size() != (size_t{1} << in.bits)) fail(lp.layer, "LUT size must be 2^input bits");
      if (is_identity_lut(t, in.qmin())) continue;
      lids[i] = static_cast<int>(c.cp->luts.size());
      c.cp->luts.push_back({in.is_unsigned, t});
      maxrow = std::max(maxrow, shape(phys(l.inputs[i])).row_bytes());
    }
    lutbuf = a.add("lut_tmp", maxrow);
  }
  std::vector<int> in_phys;
  for (int t : l.inputs) in_phys.push_back(phys(t));
  Body body;
  body.image = [=, &c, &lp] {
    Emitter& e = *c.e;
    for (int64_t y = 0; y < os.H; ++y) {
      for (int t : lp.inputs) fetch_row(c, t, y, buf.at(t));
      const int64_t ob = obuf + (y % 2) * os.row_bytes();
      if (lp.kind == q::LayerKind::kAdd) {
        e.addq(Emitter::at(0, ob), Emitter::at(0, buf.at(in_phys[0])),
               Emitter::at(0, buf.at(in_phys[1])), os.row_bytes(), 0);
      } else if (lp.kind == q::LayerKind::kLut) {
        e.lut(Emitter::at(0, ob), Emitter::at(0, buf.at(in_phys[0])), os.row_bytes(), 0);
      } else {
        int64_t coff = 0;
        for (size_t i = 0; i < in_phys.size(); ++i) {
          const int64_t ci = shape(in_phys[i]).C;
          int64_t src = buf.at(in_phys[i]);
          if (lids[i] >= 0) {
            e.lut(Emitter::at(0, lutbuf), Emitter::at(0, src), os.W * ci, lids[i]);
            src = lutbuf;
          }
          if (ci == os.C) {
            e.copy(Emitter::at(0, ob), Emitter::at(0, src), os.W * ci, 1, 0, 0, 1, 0, 0);
          } else {
            e.copy(Emitter::at(0, ob + coff), Emitter::at(0, src), ci, os.W, ci, os.C, 1, 0, 0);
          }
          coff += ci;
        }
      }
      emit_outputs(c, y, ob);
    }
  };
  return body;
}

}  // namespace cimsim::backend::detail
