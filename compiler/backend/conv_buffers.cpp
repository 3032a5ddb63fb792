// A conv core's buffer regions and the spilling choice (docs/schedule.md, "Spilling").
#include "compiler/backend/conv_buffers.h"

#include <algorithm>
#include <climits>

#include <fmt/format.h>

namespace cimsim::backend {
namespace {

// Input columns a strip of `px` output pixels reads.
int64_t strip_cols(const Window& w, int64_t px) { return (px - 1) * w.sw + (w.kw - 1) * w.dw + 1; }

}  // namespace

std::vector<std::vector<int>> slice_col_tiles(int64_t col_tiles, int64_t slices) {
  std::vector<std::vector<int>> out(static_cast<size_t>(slices));
  int64_t t = 0;
  for (int64_t sl = 0; sl < slices; ++sl) {
    const int64_t cnt = col_tiles / slices + (sl < col_tiles % slices ? 1 : 0);
    for (int64_t i = 0; i < cnt; ++i) out[static_cast<size_t>(sl)].push_back(static_cast<int>(t++));
  }
  return out;
}

SliceRange slice_range(const ConvMap& cv, const std::vector<int>& tiles) {
  SliceRange r;
  const ColTile &first = cv.col_tiles[static_cast<size_t>(tiles.front())],
                &last = cv.col_tiles[static_cast<size_t>(tiles.back())];
  r.m0 = first.m0;
  r.m1 = last.m0 + last.cols;
  r.c0 = INT64_MAX;
  for (int ct : tiles) {
    const ConvBlock& b = cv.blocks[static_cast<size_t>(cv.col_tiles[static_cast<size_t>(ct)].block)];
    r.c0 = std::min(r.c0, b.c0);
    r.c1 = std::max(r.c1, b.c0 + b.cin);
  }
  return r;
}

ConvCoreBuffers conv_core_buffers(const ConvMap& cv, const std::vector<int>& tiles, int64_t part) {
  ConvCoreBuffers c;
  c.win = cv.win;
  const SliceRange r = slice_range(cv, tiles);
  c.ms = r.m1 - r.m0;
  c.cr = r.c1 - r.c0;
  c.kparts = cv.kparts;
  c.part0 = part == 0;
  int last = -1;
  for (int ct : tiles) {
    const int b = cv.col_tiles[static_cast<size_t>(ct)].block;
    if (b == last) continue;
    last = b;
    c.blocks.push_back({cv.blocks[static_cast<size_t>(b)].K, cv.blocks[static_cast<size_t>(b)].cin});
  }
  return c;
}

int64_t recv_tmp_bytes(int64_t lo, int64_t hi, const PhysShape& s, bool model_input,
                       const std::vector<std::pair<int64_t, int64_t>>& producer_slices) {
  if (model_input) return lo != 0 || hi != s.C ? s.row_bytes() : 0;
  int64_t b = 0;
  for (const auto& [m0, m1] : producer_slices) {
    if (std::max(m0, lo) >= std::min(m1, hi) || slice_in_place(m0, m1, lo, hi, s.W)) continue;
    b = std::max(b, s.W * (m1 - m0));
  }
  return b;
}

bool conv_block_direct(const ConvCoreBuffers& c, const ConvCoreBuffers::Block& b, const ConvChoice& ch) {
  const Window& w = c.win;
  if (ch.strip > 0) {
    // A strip holds every channel. One-row kernels read the strip in place; so does a strip
    // of one pixel with dense columns (its kh slots of kw*C bytes are the im2col vector).
    return b.cin == w.C && ((w.kh == 1 && (w.kw == 1 || w.dw == 1)) || (ch.strip == 1 && w.dw == 1));
  }
  return w.kh == 1 && b.cin == c.cr && (w.kw == 1 || w.dw == 1);
}

BufferAlloc conv_alloc(const ConvCoreBuffers& c, const ConvChoice& ch) {
  const Window& w = c.win;
  const int64_t ms = c.ms;
  int64_t staging = 0;
  for (const ConvCoreBuffers::Block& b : c.blocks)
    if (!conv_block_direct(c, b, ch)) staging += b.K;
  BufferAlloc a;
  if (ch.strip > 0) {
    a.add("strip", ch.strip_bufs * w.kh * strip_cols(w, ch.strip) * w.C);
  } else {
    a.add("ring", ch.S * w.padded_w() * c.cr);
  }
  a.add("staging", staging);
  // Strip mode keeps the accumulators of each strip buffer's pixels (K-split cores: of the
  // row, whose partial sums travel per row).
  const bool strip_acc = ch.strip > 0 && c.kparts == 1;
  a.add("acc", (strip_acc ? ch.strip_bufs * ch.strip : ch.per_pixel ? 1 : w.OW) * ms * 4);
  const int64_t px_out = strip_acc ? ch.strip_bufs * ch.strip * ms : ms;  // per-pixel stores
  if (c.part0) a.add("out", ch.nout == 0 ? px_out : ch.nout * w.OW * ms);
  if (ch.strip == 0) a.add("recv_tmp", c.recv_tmp);
  if (ch.strip > 0 && c.tokens) a.add("token", 1);
  if (c.part0 && c.kparts > 1) a.add("partial_sums", w.OW * ms * 4);
  return a;
}

// Cheapest choice that fits, in this order: the ring with its fallbacks (per-pixel
// accumulators, minimal ring, single output row), then input strips from global memory
// (accumulators per strip; wide strips first; two strip buffers and two output rows when
// that leaves strips of at least 16 pixels), then output pixels stored to global memory
// (ring, then strips).
ConvChoice choose_conv(const ConvCoreBuffers& c, int64_t cap, bool forced, const std::string& where) {
  const Window& w = c.win;
  const bool ksplit = c.kparts > 1;  // partial sums travel per row: no per-pixel fallbacks
  auto fits = [&](const ConvChoice& ch) { return conv_alloc(c, ch).top <= cap; };
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
  const BufferAlloc a = conv_alloc(c, least);
  std::string parts;
  for (const BufferRegion& r : a.regions) parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", r.name, r.bytes);
  throw InputError(fmt::format(
      "{} needs {} bytes of local buffer even when spilling its input and output to global memory ({}), "
      "a core has {}",
      where, a.top, parts, cap));
}

}  // namespace cimsim::backend
