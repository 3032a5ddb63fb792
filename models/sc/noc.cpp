#include "models/sc/noc.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "models/sc/noc_protocol.h"

namespace cimsim {

Noc::Noc(sc_core::sc_module_name name, const TimingParams& timing, std::vector<Mailbox*> mailboxes,
         Observer* observer)
    : sc_core::sc_module(name),
      target("target"),
      memory_socket("memory_socket"),
      t_(timing),
      mailboxes_(std::move(mailboxes)),
      observer_(observer) {
  target.register_b_transport(this, &Noc::b_transport);
  int nodes = std::max<int>(t_.mesh_rows * t_.mesh_cols, static_cast<int>(mailboxes_.size()));
  link_free_.assign(static_cast<size_t>(nodes + 1) * 5, 0);
}

int Noc::hop_count(int src, int dst, int mesh_cols) {
  return std::abs(src % mesh_cols - dst % mesh_cols) + std::abs(src / mesh_cols - dst / mesh_cols);
}

uint64_t Noc::route(int src, int dst, uint64_t inject_cycle, uint64_t flits, uint16_t layer,
                    uint64_t* hops) {
  const uint64_t busy = t_.link_busy_cycles(flits);
  const int cols = t_.mesh_cols;
  int row = src / cols, col = src % cols;
  const int drow = dst / cols, dcol = dst % cols;
  uint64_t head = inject_cycle;
  uint64_t n = 0;
  // X first, then Y; the last "link" is the destination router's ejection port.
  for (;;) {
    int dir;
    if (col != dcol) {
      dir = col < dcol ? kEast : kWest;
    } else if (row != drow) {
      dir = row < drow ? kSouth : kNorth;
    } else {
      dir = kLocal;
    }
    int node = row * cols + col;
    uint64_t& free = link_free_[static_cast<size_t>(node) * 5 + dir];
    uint64_t enter = std::max(head, free);
    free = enter + busy;
    if (observer_) {
      SimEvent e;
      e.core = node;
      e.unit = Unit::kLink;
      e.unit_index = dir;
      e.layer = layer;
      e.action = "packet";
      e.start_ps = t_.to_ps(enter);
      e.duration_ps = t_.to_ps(enter + busy) - e.start_ps;
      observer_->on_event(e);
    }
    if (dir == kLocal) {
      head = enter + busy;  // the tail is in
      break;
    }
    head = enter + static_cast<uint64_t>(t_.hop_latency);
    ++n;
    switch (dir) {
      case kEast: ++col; break;
      case kWest: --col; break;
      case kSouth: ++row; break;
      default: --row; break;
    }
  }
  flit_hops_ += flits * n;
  if (hops) *hops = n;
  last_done_ = std::max(last_done_, head);
  return head;
}

void Noc::b_transport(int id, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  (void)id;
  NocExtension* ext = nullptr;
  trans.get_extension(ext);
  if (!ext) {
    trans.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
    return;
  }
  const int64_t len = trans.get_data_length();
  ext->flits = t_.flits(len);
  switch (ext->kind) {
    case NocExtension::Kind::kMessage: {
      if (ext->dst < 0 || static_cast<size_t>(ext->dst) >= mailboxes_.size()) {
        trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return;
      }
      ext->done_cycle = route(ext->src, ext->dst, ext->start_cycle, ext->flits, ext->layer, &ext->hops);
      Message m;
      m.src = ext->src;
      m.tag = ext->tag;
      m.arrival_cycle = ext->done_cycle;
      m.bytes.assign(trans.get_data_ptr(), trans.get_data_ptr() + len);
      mailboxes_[static_cast<size_t>(ext->dst)]->put(std::move(m));
      trans.set_response_status(tlm::TLM_OK_RESPONSE);
      break;
    }
    case NocExtension::Kind::kLoad: {
      // Memory first (the request is not modelled as a packet), then the data packet back.
      uint64_t requester_start = ext->start_cycle;
      sc_core::sc_time d = sc_core::SC_ZERO_TIME;
      memory_socket->b_transport(trans, d);
      if (trans.is_response_error()) return;
      uint64_t ready = ext->done_cycle;
      ext->start_cycle = requester_start;
      ext->done_cycle = route(t_.memory_node, ext->src, ready, ext->flits, ext->layer, &ext->hops);
      break;
    }
    case NocExtension::Kind::kStore: {
      uint64_t hops = 0;
      uint64_t at_memory = route(ext->src, t_.memory_node, ext->start_cycle, ext->flits, ext->layer, &hops);
      uint64_t inject = ext->start_cycle;
      ext->start_cycle = at_memory;
      sc_core::sc_time d = sc_core::SC_ZERO_TIME;
      memory_socket->b_transport(trans, d);
      ext->start_cycle = inject;
      ext->hops = hops;
      if (trans.is_response_error()) return;
      last_done_ = std::max(last_done_, ext->done_cycle);
      break;
    }
  }
  sc_core::sc_time done(static_cast<double>(t_.to_ps(ext->done_cycle)), sc_core::SC_PS);
  sc_core::sc_time now = sc_core::sc_time_stamp();
  delay = done > now ? done - now : sc_core::SC_ZERO_TIME;
}

}  // namespace cimsim
