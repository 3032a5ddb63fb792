// Buffer regions of vector-layer cores (vector_buffers.h).
#include "compiler/backend/vector_buffers.h"

#include <fmt/format.h>

namespace cimsim::backend {

void check_vector_core(const BufferAlloc& a, int64_t buffer_bytes, const std::string& where) {
  if (a.top <= buffer_bytes) return;
  std::string parts;
  for (const BufferRegion& r : a.regions) parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", r.name, r.bytes);
  throw InputError(fmt::format(
      "{} needs {} bytes of local buffer ({}), a core has {} (spilling to global memory is implemented for "
      "convolutions only)",
      where, a.top, parts, buffer_bytes));
}

PoolRegions pool_regions(const Window& w, bool is_max, int64_t recv_tmp, int64_t buffer_bytes, BufferAlloc* a) {
  const int64_t RW = w.slot_bytes(), C = w.C;
  auto add_rest = [&](BufferAlloc* b, PoolRegions* r) {
    r->acc = b->add("acc", is_max ? 0 : w.OW * C * 4);
    r->out = b->add("out", 2 * w.OW * C);
    r->gather = b->add("gather", w.sw > 1 ? w.OW * C : 0);
    r->recv_tmp = b->add("recv_tmp", recv_tmp);
  };
  PoolRegions r;
  BufferAlloc probe;
  probe.add("ring", w.ring_slots() * RW);
  add_rest(&probe, &r);
  // The minimal ring when the buffer is tight (as for convolutions).
  r.slots = probe.top > buffer_bytes ? (w.kh - 1) * w.dh + 1 : w.ring_slots();
  r.ring = a->add("ring", r.slots * RW);
  add_rest(a, &r);
  return r;
}

GlobalPoolRegions global_pool_regions(const Window& w, int64_t recv_tmp, BufferAlloc* a) {
  GlobalPoolRegions r;
  r.row = a->add("row", w.W * w.C);
  r.acc = a->add("acc", w.C * 4);
  r.out = a->add("out", w.C);
  r.recv_tmp = a->add("recv_tmp", recv_tmp);
  return r;
}

RowwiseRegions rowwise_regions(const std::vector<std::pair<std::string, int64_t>>& input_rows,
                               int64_t out_row_bytes, int64_t recv_tmp, BufferAlloc* a) {
  RowwiseRegions r;
  for (const auto& [name, bytes] : input_rows) r.in.push_back(a->add(name, bytes));
  r.out = a->add("out", 2 * out_row_bytes);
  r.recv_tmp = a->add("recv_tmp", recv_tmp);
  return r;
}

}  // namespace cimsim::backend
