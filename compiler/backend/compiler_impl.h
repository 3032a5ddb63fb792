// Internal to the backend: the Compiler behind compile_qmodel(), split over two files:
// placement.cpp plans layers (mapping, replication, snake placement, global memory) and
// streams.cpp emits each core's buffer map and instruction stream (docs/mapping.md,
// docs/schedule.md). Not an API: only backend sources include it.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "compiler/backend/backend.h"
#include "compiler/backend/emitter.h"

namespace cimsim::backend::detail {

constexpr int64_t kAlign = kBufferAlign;  // one buffer word: regions never share a word
constexpr int64_t kGlobalAlign = 64;
constexpr int64_t kMaxBatch = 4096;
// Registers (docs/schedule.md): r1 source offset, r2 accumulator offset, r3/r4 loop counter
// and bound, r5 output offset, r6 global offset, r7/r8 strip loop counter and bound, r9
// global offset of per-pixel output stores, r10..r13 image offsets of global tensors, r14
// image counter, r15 batch size.
constexpr int kRSrc = 1, kRAcc = 2, kRCnt = 3, kRLim = 4, kROut = 5, kRGlob = 6;
constexpr int kRStrip = 7, kRStripLim = 8, kRStore = 9;
constexpr int kRFirstGlobal = 10, kRLastGlobal = 13, kRImage = 14;

inline int64_t align_up(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

using Alloc = BufferAlloc;

inline int64_t tag_of(int tensor, int64_t row) { return int64_t{tensor} * 65536 + row; }

inline bool is_identity_lut(const std::vector<int32_t>& t, int32_t qmin_in) {
  for (size_t k = 0; k < t.size(); ++k) {
    if (t[k] != qmin_in + static_cast<int32_t>(k)) return false;
  }
  return true;
}

inline int hops_between(const ArchSpec& a, int x, int y) {
  const int mc = a.chip.mesh_cols;
  return std::abs(x / mc - y / mc) + std::abs(x % mc - y % mc);
}


// How a conv core uses its local buffer (docs/schedule.md, "Local buffer" and "Spilling").

class Compiler {
 public:
  Compiler(const q::QModel& m, const ArchSpec& arch, bool throughput, double replication = 1.0,
           std::map<std::string, int64_t> replicas = {})
      : m_(m), arch_(arch), d_(derive(arch)), throughput_(throughput), replication_(replication),
        replicas_(std::move(replicas)) {}

  // Plans, places and emits; the result has passed validate() and check_program().
  CompiledModel run();

 private:
  // Per-core emission state.
  struct Ctx {
    int pi = 0, k = 0, core = 0;
    Emitter* e = nullptr;
    CoreProgram* cp = nullptr;
    std::map<int, int> global_reg;  // physical tensor -> image-offset register
    int64_t recv_tmp = -1;
    int64_t token = -1;  // 1-byte destination of spill tokens (strip mode)
  };
  // A core's stream pieces: instructions before the batch loop, and one image's body.
  struct Body {
    std::vector<std::function<void()>> prologue;
    std::function<void()> image;
  };

  [[noreturn]] void fail(int li, const std::string& what) const {
    throw InputError(fmt::format("{}: layer {}: {}", m_.name, m_.layers[static_cast<size_t>(li)].name, what));
  }
  const PhysShape& shape(int t) const { return cm_.tensors.shape[static_cast<size_t>(t)]; }
  int phys(int t) const { return cm_.tensors.phys[static_cast<size_t>(t)]; }
  // Does core k of layer lp need row y of its input (replica k / per_replica computes the
  // output rows oy with oy % replicas == replica)?
  static bool needs_row(const LayerPlan& lp, int k, int64_t y) {
    return !lp.ring || lp.win.row_needed(y, lp.replicas, lp.replica_of(k));
  }
  static bool computes_row(const LayerPlan& lp, int k, int64_t oy) {
    return oy % lp.replicas == lp.replica_of(k);
  }
  // Whether a producer slice [m0, m1) lands in place (no temp): it is exactly the window, or
  // the row is one pixel wide and the slice lies inside the window.
  static bool slice_direct(int64_t m0, int64_t m1, int64_t lo, int64_t hi, int64_t W) {
    return slice_in_place(m0, m1, lo, hi, W);
  }

  // placement.cpp
  void plan_layers();
  // Latency mode, chip too small: mark FC layers reloadable (largest first) until the
  // resident layers fit, then share the free cores among them (fewest passes first).
  void choose_reloads();
  // Throughput mode: add whole copies of the slowest matrix layer (output pixels per
  // replica) while crossbars and cores remain; a layer never gets more replicas than rows.
  void replicate();
  void place();
  void layout_global_memory();
  bool is_model_io(int t) const {
    return is_output_.count(t) > 0 || plan_of_tensor_[static_cast<size_t>(t)] < 0;
  }
  void finish_edges();
  // streams.cpp
  // Consumer cores of a physical tensor, in plan then slice order.
  std::vector<std::pair<int, int>> consumers(int t) const;
  void add_edge(int from, int to, int tensor, int64_t bytes);
  // Input channels [lo, hi) of tensor t that core k of lp reads.
  std::pair<int64_t, int64_t> in_range(const LayerPlan& lp, int64_t k, int t) const;
  int64_t recv_tmp_bytes(const LayerPlan& lp, int64_t k) const;
  // Row y of tensor t, channels [lo, hi) of the core's window -> dst (W*(hi-lo) bytes, [x][c]).
  void fetch_row(Ctx& c, int t, int64_t y, int64_t dst);
  // After output row oy is in `buf` (OW * Ms bytes): send to consumers, store if an output.
  void emit_outputs(Ctx& c, int64_t oy, int64_t buf);
  void check_capacity(const Ctx& c, const Alloc& a) const;
  // Spilling: per conv core the buffer choice (ring, fallbacks, strips, per-pixel stores),
  // in layer order, before global memory is laid out; marks the spilled tensors.
  void plan_buffers();
  // What core k's buffer plan depends on (conv_buffers.h, the one rule for the regions).
  ConvCoreBuffers core_buffers(const LayerPlan& lp, int64_t k) const;
  Alloc conv_alloc(const LayerPlan& lp, int64_t k, const ConvChoice& ch) const {
    return backend::conv_alloc(core_buffers(lp, k), ch);
  }
  // Whether block b's im2col vector is contiguous in the ring/strip (mvm reads it in place).
  bool conv_direct(const LayerPlan& lp, int64_t k, const ConvBlock& b, const ConvChoice& ch) const {
    return conv_block_direct(core_buffers(lp, k), {b.K, b.cin}, ch);
  }
  // Does core k of layer lp read input tensor t from global memory (strips)?
  static bool reads_global(const LayerPlan& lp, int64_t k) {
    return k < static_cast<int64_t>(lp.strip_pixels.size()) && lp.strip_pixels[static_cast<size_t>(k)] > 0;
  }
  // Row y of input t is in global memory: receive its tokens (one per producer slice).
  void recv_tokens(Ctx& c, int t, int64_t y, int64_t token);
  void emit_core(int pi, int k);
  // --- conv ----------------------------------------------------------------------------
  Body plan_conv(Ctx& c, Alloc& a);
  // --- window pools --------------------------------------------------------------------
  Body plan_pool(Ctx& c, Alloc& a);
  Body plan_global_pool(Ctx& c, Alloc& a);
  // --- row-wise vector layers: Add, Concat, Lut --------------------------------------
  Body plan_rowwise(Ctx& c, Alloc& a);

  const q::QModel& m_;
  const ArchSpec& arch_;
  const ArchDerived d_;
  const bool throughput_;
  const double replication_;  // BackendOptions::replication
  const std::map<std::string, int64_t> replicas_;  // BackendOptions::replicas
  CompiledModel cm_;
  std::vector<int> plan_of_tensor_;
  std::map<int, TensorIO> global_of_tensor_;
  std::map<int, bool> is_output_;
  std::map<std::pair<int, int64_t>, ConvChoice> choice_;  // (plan, core index) -> choice
  std::map<int, bool> spilled_;        // physical tensor -> kept in global memory
  std::map<int, bool> stored_per_pixel_;  // physical tensor -> its producer stores pixels
  std::map<std::tuple<int, int, int>, MessageEdge> edges_;
  int64_t next_weight_addr_ = 0;  // next free byte of the reloadable-weight region
  std::string fit_note_;          // why dense packing and reloads did not make the model fit
};

}  // namespace cimsim::backend::detail
