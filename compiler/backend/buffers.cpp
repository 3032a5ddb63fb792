// Compiler, buffer planning: how each conv core uses its local buffer (ring of input rows with
// its fallbacks, or input strips loaded from global memory, per-pixel output stores) and
// which tensors are therefore kept in global memory (docs/schedule.md, "Spilling").

#include "compiler/backend/compiler_impl.h"

namespace cimsim::backend::detail {

ConvCoreBuffers Compiler::core_buffers(const LayerPlan& lp, int64_t k) const {
  ConvCoreBuffers c = conv_core_buffers(lp.conv, lp.core_col_tiles[static_cast<size_t>(k)], lp.part_of(k));
  c.kparts = lp.kparts;  // a reloadable layer keeps one part whatever tile_conv said
  c.recv_tmp = recv_tmp_bytes(lp, k);
  c.tokens = plan_of_tensor_[static_cast<size_t>(lp.inputs[0])] >= 0;
  return c;
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
      const ConvChoice ch =
          choose_conv(core_buffers(lp, static_cast<int64_t>(k)), arch_.core.buffer_bytes, forced,
                      fmt::format("{}: layer {}: core {}", m_.name, m_.layers[static_cast<size_t>(lp.layer)].name,
                                  lp.cores[k]));
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
