// Compiler, buffer planning: how each conv core uses its local buffer (ring of input rows with
// its fallbacks, or input strips loaded from global memory, per-pixel output stores) and
// which tensors are therefore kept in global memory (docs/schedule.md, "Spilling").
#include <algorithm>

#include "compiler/backend/compiler_impl.h"

namespace cimsim::backend::detail {

namespace {

// Input columns a strip of `px` output pixels reads.
int64_t strip_cols(const Window& w, int64_t px) { return (px - 1) * w.sw + (w.kw - 1) * w.dw + 1; }

std::vector<int> core_blocks(const LayerPlan& lp, int64_t k) {
  std::vector<int> blocks;
  for (int ct : lp.core_col_tiles[static_cast<size_t>(k)]) {
    const int b = lp.conv.col_tiles[static_cast<size_t>(ct)].block;
    if (blocks.empty() || blocks.back() != b) blocks.push_back(b);
  }
  return blocks;
}

}  // namespace

bool Compiler::conv_direct(const LayerPlan& lp, int64_t k, const ConvBlock& b, const ConvChoice& ch) {
  const Window& w = lp.conv.win;
  if (ch.strip > 0) {
    // A strip holds every channel. One-row kernels read the strip in place; so does a strip
    // of one pixel with dense columns (its kh slots of kw*C bytes are the im2col vector).
    return b.cin == w.C && ((w.kh == 1 && (w.kw == 1 || w.dw == 1)) || (ch.strip == 1 && w.dw == 1));
  }
  const int64_t Cr = lp.in_c1[static_cast<size_t>(k)] - lp.in_c0[static_cast<size_t>(k)];
  return w.kh == 1 && b.cin == Cr && (w.kw == 1 || w.dw == 1);
}

Alloc Compiler::conv_alloc(const LayerPlan& lp, int64_t k, const ConvChoice& ch) const {
  const Window& w = lp.conv.win;
  const int64_t ms = lp.m1[static_cast<size_t>(k)] - lp.m0[static_cast<size_t>(k)];
  const int64_t part = lp.part_of(k);
  const int64_t Cr = lp.in_c1[static_cast<size_t>(k)] - lp.in_c0[static_cast<size_t>(k)];
  int64_t staging = 0;
  for (int b : core_blocks(lp, k)) {
    const ConvBlock& bl = lp.conv.blocks[static_cast<size_t>(b)];
    if (!conv_direct(lp, k, bl, ch)) staging += bl.K;
  }
  Alloc a;
  if (ch.strip > 0) {
    a.add("strip", ch.strip_bufs * w.kh * strip_cols(w, ch.strip) * w.C);
  } else {
    a.add("ring", ch.S * w.padded_w() * Cr);
  }
  a.add("staging", staging);
  // Strip mode keeps the accumulators of each strip buffer's pixels (K-split cores: of the
  // row, whose partial sums travel per row).
  const bool strip_acc = ch.strip > 0 && lp.kparts == 1;
  a.add("acc", (strip_acc ? ch.strip_bufs * ch.strip : ch.per_pixel ? 1 : w.OW) * ms * 4);
  const int64_t px_out = strip_acc ? ch.strip_bufs * ch.strip * ms : ms;  // per-pixel stores
  if (part == 0) a.add("out", ch.nout == 0 ? px_out : ch.nout * w.OW * ms);
  if (ch.strip == 0) a.add("recv_tmp", recv_tmp_bytes(lp, k));
  if (ch.strip > 0 && plan_of_tensor_[static_cast<size_t>(lp.inputs[0])] >= 0) a.add("token", 1);
  if (part == 0 && lp.kparts > 1) a.add("partial_sums", w.OW * ms * 4);
  return a;
}

// Cheapest choice that fits, in this order: the ring with its fallbacks (per-pixel
// accumulators, minimal ring, single output row), then input strips from global memory
// (accumulators per strip; wide strips first; two strip buffers and two output rows when
// that leaves strips of at least 16 pixels), then output pixels stored to global memory
// (ring, then strips). `forced`: the producer stores pixels, the input must come from
// global memory.
ConvChoice Compiler::choose_conv(const LayerPlan& lp, int64_t k, bool forced) const {
  const Window& w = lp.conv.win;
  const int64_t cap = arch_.core.buffer_bytes;
  const bool ksplit = lp.kparts > 1;  // partial sums travel per row: no per-pixel fallbacks
  auto fits = [&](const ConvChoice& ch) { return conv_alloc(lp, k, ch).top <= cap; };
  const int64_t smin = (w.kh - 1) * w.dh + 1;
  if (!forced) {
    ConvChoice ch{w.ring_slots(), false, 2, 0, 0};
    if (fits(ch)) return ch;
    ch.per_pixel = !ksplit;
    if (fits(ch)) return ch;
    ch.S = smin;
    if (fits(ch)) return ch;
    ch.nout = 1;
    if (fits(ch)) return ch;
  }
  // Widest strip that fits (0: none).
  auto widest = [&](ConvChoice ch) {
    for (int64_t p = w.OW; p >= 1; --p) {
      ch.strip = p;
      if (fits(ch)) return ch;
    }
    ch.strip = 0;
    return ch;
  };
  const int64_t good = std::min<int64_t>(w.OW, 16);
  const std::vector<ConvChoice> tries = {{0, false, 2, 0, 2}, {0, false, 1, 0, 2}, {0, false, 1, 0, 1}};
  ConvChoice best;
  for (const ConvChoice& t : tries) {
    const ConvChoice ch = widest(t);
    if (ch.strip >= good) return ch;
    if (ch.strip > best.strip) best = ch;
  }
  if (best.strip > 0) return best;
  if (!ksplit) {  // the output row does not fit either: store each pixel
    if (!forced) {
      for (int64_t S : {w.ring_slots(), smin}) {
        const ConvChoice ch{S, true, 0, 0, 0};
        if (fits(ch)) return ch;
      }
    }
    const ConvChoice two = widest({0, false, 0, 0, 2});
    if (two.strip >= good) return two;
    const ConvChoice one = widest({0, false, 0, 0, 1});
    if (one.strip > 0) return one.strip >= two.strip ? one : two;
    if (two.strip > 0) return two;
  }
  const ConvChoice least{0, false, ksplit ? 1 : 0, 1, 1};
  const Alloc a = conv_alloc(lp, k, least);
  std::string parts;
  for (const BufferRegion& r : a.regions) parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", r.name, r.bytes);
  throw InputError(fmt::format(
      "{}: layer {}: core {} needs {} bytes of local buffer even when spilling its input and "
      "output to global memory ({}), a core has {}",
      m_.name, m_.layers[static_cast<size_t>(lp.layer)].name, lp.cores[static_cast<size_t>(k)],
      a.top, parts, cap));
}

void Compiler::plan_buffers() {
  for (size_t pi = 0; pi < cm_.layers.size(); ++pi) {
    LayerPlan& lp = cm_.layers[pi];
    if (lp.kind != q::LayerKind::kConv) {
      for (int t : lp.inputs) {
        if (!stored_per_pixel_.count(t)) continue;
        const int pp = plan_of_tensor_[static_cast<size_t>(t)];
        fail(lp.layer, fmt::format(
                           "its input rows (from layer {}) do not fit a core and are stored to "
                           "global memory pixel by pixel; only convolutions read their input "
                           "from global memory",
                           m_.layers[static_cast<size_t>(cm_.layers[static_cast<size_t>(pp)].layer)].name));
      }
      continue;
    }
    const size_t n = lp.cores.size();
    lp.per_pixel_requant.assign(n, false);
    lp.ring_slots.assign(n, 0);
    lp.strip_pixels.assign(n, 0);
    lp.strip_buffers.assign(n, 0);
    lp.store_per_pixel.assign(n, false);
    const int in_t = lp.inputs[0];
    const bool forced = stored_per_pixel_.count(in_t) > 0;
    for (size_t k = 0; k < n; ++k) {
      const ConvChoice ch = choose_conv(lp, static_cast<int64_t>(k), forced);
      choice_[{static_cast<int>(pi), static_cast<int64_t>(k)}] = ch;
      lp.per_pixel_requant[k] = ch.per_pixel;
      lp.ring_slots[k] = ch.S;
      lp.strip_pixels[k] = ch.strip;
      lp.strip_buffers[k] = ch.strip_bufs;
      lp.store_per_pixel[k] = ch.nout == 0 && lp.part_of(static_cast<int64_t>(k)) == 0;
      if (ch.strip > 0 && plan_of_tensor_[static_cast<size_t>(in_t)] >= 0) spilled_[in_t] = true;
      if (lp.store_per_pixel[k]) {
        stored_per_pixel_[lp.out] = true;
        spilled_[lp.out] = true;
      }
    }
  }
}

}  // namespace cimsim::backend::detail
