#include "models/sc/noc.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "models/sc/noc_protocol.h"
#include "models/sc/sim_time.h"

namespace cimsim {

Noc::Noc(sc_core::sc_module_name name, const TimingParams& timing, std::vector<Mailbox*> mailboxes,
         Observer* observer)
    : sc_core::sc_module(name),
      target("target"),
      memory_socket("memory_socket"),
      t_(timing),
      mailboxes_(std::move(mailboxes)),
      observer_(observer),
      peq_(this, &Noc::on_peq) {
  target.register_nb_transport_fw(this, &Noc::nb_transport_fw);
  memory_socket.register_nb_transport_bw(this, &Noc::memory_bw);
  int nodes = std::max<int>(t_.mesh_rows * t_.mesh_cols, static_cast<int>(mailboxes_.size()));
  link_free_.assign(static_cast<size_t>(nodes + 1) * 5, 0);
  for (Mailbox* m : mailboxes_) m->set_on_release([this](uint64_t cycle) { retry_at(cycle); });
  SC_METHOD(retry_waiting);
  sensitive << retry_;
  dont_initialize();
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

tlm::tlm_sync_enum Noc::nb_transport_fw(int id, tlm::tlm_generic_payload& trans,
                                         tlm::tlm_phase& phase, sc_core::sc_time& delay) {
  if (phase == tlm::BEGIN_REQ) {
    NocExtension* ext = trans.get_extension<NocExtension>();
    if (ext) ext->port = id;
    peq_.notify(trans, phase, delay);
    return tlm::TLM_ACCEPTED;
  }
  return tlm::TLM_COMPLETED;  // END_RESP: nothing is left to do
}

void Noc::on_peq(tlm::tlm_generic_payload& trans, const tlm::tlm_phase& phase) {
  NocExtension* ext = trans.get_extension<NocExtension>();
  if (phase == tlm::BEGIN_REQ && ext && ext->origin) {
    memory_queue_.push_back(&trans);  // a store's tail reached the memory node
    pump_memory();
  } else if (phase == tlm::BEGIN_REQ) {
    begin_request(trans);
  } else if (phase == tlm::BEGIN_RESP && ext) {
    tlm::tlm_phase p = tlm::BEGIN_RESP;
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    target[ext->port]->nb_transport_bw(trans, p, d);  // the NIC completes it (or sends END_RESP)
  }
}

// An error response: BEGIN_RESP without END_REQ, at once.
static void respond_now(tlm::tlm_generic_payload& trans, tlm::tlm_response_status status,
                        tlm_utils::multi_passthrough_target_socket<Noc>& target, int port) {
  trans.set_response_status(status);
  tlm::tlm_phase p = tlm::BEGIN_RESP;
  sc_core::sc_time d = sc_core::SC_ZERO_TIME;
  target[port]->nb_transport_bw(trans, p, d);
}

void Noc::begin_request(tlm::tlm_generic_payload& trans) {
  NocExtension* ext = trans.get_extension<NocExtension>();
  if (!ext) return;  // not ours: nobody to answer (the NICs always attach one)
  ext->flits = t_.flits(static_cast<int64_t>(trans.get_data_length()));
  if (ext->kind != NocExtension::Kind::kMessage) {
    memory_access(trans);
    return;
  }
  if (ext->dst < 0 || static_cast<size_t>(ext->dst) >= mailboxes_.size()) {
    respond_now(trans, tlm::TLM_ADDRESS_ERROR_RESPONSE, target, ext->port);
    return;
  }
  Mailbox& box = *mailboxes_[static_cast<size_t>(ext->dst)];
  const int64_t len = static_cast<int64_t>(trans.get_data_length());
  if (!box.fits_ever(len)) {
    respond_now(trans, tlm::TLM_BURST_ERROR_RESPONSE, target, ext->port);
    return;
  }
  const uint64_t now = current_cycle(t_);
  const uint64_t fit = box.fit_cycle(ext->src, len, now);
  if (fit <= now) {
    admit(trans, now);
    return;
  }
  waiting_.push_back({&trans, now});
  retry_at(fit);  // kNever: a later release schedules the retry
}

void Noc::retry_at(uint64_t cycle) {
  if (cycle != Mailbox::kNever) retry_.notify(delay_until(t_, cycle));
}

// Admits, in request order, every waiting message whose channel has room now.
void Noc::retry_waiting() {
  const uint64_t now = current_cycle(t_);
  uint64_t next = Mailbox::kNever;
  std::vector<Waiting> still;
  for (const Waiting& w : waiting_) {
    NocExtension* ext = w.trans->get_extension<NocExtension>();
    Mailbox& box = *mailboxes_[static_cast<size_t>(ext->dst)];
    const uint64_t fit = box.fit_cycle(ext->src, static_cast<int64_t>(w.trans->get_data_length()), now);
    if (fit <= now) {
      credit_stall_cycles_ += now - w.requested_cycle;
      admit(*w.trans, now);
    } else {
      next = std::min(next, fit);
      still.push_back(w);
    }
  }
  waiting_.swap(still);
  retry_at(next);
}

void Noc::admit(tlm::tlm_generic_payload& trans, uint64_t now) {
  NocExtension* ext = trans.get_extension<NocExtension>();
  const int64_t len = static_cast<int64_t>(trans.get_data_length());
  Mailbox& box = *mailboxes_[static_cast<size_t>(ext->dst)];
  box.reserve(ext->src, len, now);
  ext->accept_cycle = now;
  ext->done_cycle = route(ext->src, ext->dst, now, ext->flits, ext->layer, &ext->hops);
  Message m;
  m.src = ext->src;
  m.tag = ext->tag;
  m.arrival_cycle = ext->done_cycle;
  m.bytes.assign(trans.get_data_ptr(), trans.get_data_ptr() + len);
  box.put(std::move(m));
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
  end_request(trans, ext->done_cycle);
}

// END_REQ now, BEGIN_RESP at done_cycle.
void Noc::end_request(tlm::tlm_generic_payload& trans, uint64_t done_cycle) {
  NocExtension* ext = trans.get_extension<NocExtension>();
  tlm::tlm_phase p = tlm::END_REQ;
  sc_core::sc_time d = sc_core::SC_ZERO_TIME;
  target[ext->port]->nb_transport_bw(trans, p, d);
  peq_.notify(trans, tlm::BEGIN_RESP, delay_until(t_, done_cycle));
}

void Noc::memory_access(tlm::tlm_generic_payload& trans) {
  NocExtension* ext = trans.get_extension<NocExtension>();
  const uint64_t now = current_cycle(t_);
  const bool load = ext->kind == NocExtension::Kind::kLoad;
  tlm::tlm_generic_payload* mem = memory_pool_.allocate();
  mem->acquire();
  mem->set_command(trans.get_command());
  mem->set_address(trans.get_address());
  mem->set_data_length(trans.get_data_length());
  mem->set_streaming_width(trans.get_data_length());
  mem->set_byte_enable_ptr(nullptr);
  mem->set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  NocExtension* mext = mem->get_extension<NocExtension>();
  *mext = *ext;
  mext->origin = &trans;
  if (load) {
    mem->set_data_ptr(trans.get_data_ptr());  // the NIC waits for END_REQ: its buffer is stable
    memory_queue_.push_back(mem);
    pump_memory();
    return;
  }
  // Store: values now (causal order), timing when the packet gets there.
  mem->set_data_ptr(nullptr);
  tlm::tlm_generic_payload& dbg = debug_payload_;
  dbg.set_command(tlm::TLM_WRITE_COMMAND);
  dbg.set_address(trans.get_address());
  dbg.set_data_ptr(trans.get_data_ptr());
  dbg.set_data_length(trans.get_data_length());
  dbg.set_streaming_width(trans.get_data_length());
  dbg.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  memory_socket->transport_dbg(dbg);
  if (dbg.get_response_status() != tlm::TLM_OK_RESPONSE) {
    mem->release();
    respond_now(trans, dbg.get_response_status(), target, ext->port);
    return;
  }
  const uint64_t arrival = route(ext->src, t_.memory_node, now, ext->flits, ext->layer, &ext->hops);
  ext->accept_cycle = now;
  ext->done_cycle = arrival;  // updated to the write's completion when memory accepts it
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
  tlm::tlm_phase p = tlm::END_REQ;
  sc_core::sc_time d = sc_core::SC_ZERO_TIME;
  target[ext->port]->nb_transport_bw(trans, p, d);
  mext->start_cycle = arrival;  // when it reaches the memory (its queue wait counts from then)
  peq_.notify(*mem, tlm::BEGIN_REQ, delay_until(t_, arrival));
}

void Noc::pump_memory() {
  while (!memory_pending_ && !memory_queue_.empty()) {
    tlm::tlm_generic_payload* mem = memory_queue_.front();
    memory_queue_.pop_front();
    tlm::tlm_phase phase = tlm::BEGIN_REQ;
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    memory_pending_ = mem;
    const tlm::tlm_sync_enum st = memory_socket->nb_transport_fw(*mem, phase, d);
    if (st == tlm::TLM_COMPLETED) {  // refused at once (address or command error)
      memory_pending_ = nullptr;
      NocExtension* mext = mem->get_extension<NocExtension>();
      tlm::tlm_generic_payload& origin = *mext->origin;
      respond_now(origin, mem->get_response_status(), target, origin.get_extension<NocExtension>()->port);
      mem->release();
    } else if (st == tlm::TLM_UPDATED && phase == tlm::END_REQ) {
      memory_accepted(*mem);
    }
  }
}

tlm::tlm_sync_enum Noc::memory_bw(tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                                  sc_core::sc_time& delay) {
  (void)delay;
  if (phase == tlm::END_REQ) {
    memory_accepted(trans);
    pump_memory();
    return tlm::TLM_ACCEPTED;
  }
  if (phase == tlm::BEGIN_RESP) trans.release();  // data ready / written: nothing waits on it
  return tlm::TLM_COMPLETED;
}

// Memory took the request; done_cycle holds its data-ready (load) or written (store) cycle.
void Noc::memory_accepted(tlm::tlm_generic_payload& mem) {
  if (memory_pending_ == &mem) memory_pending_ = nullptr;
  NocExtension* mext = mem.get_extension<NocExtension>();
  tlm::tlm_generic_payload& trans = *mext->origin;
  NocExtension* ext = trans.get_extension<NocExtension>();
  const uint64_t now = current_cycle(t_);
  memory_wait_cycles_ += now - std::min(now, mext->start_cycle);
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
  if (ext->kind == NocExtension::Kind::kLoad) {
    ext->accept_cycle = now;
    ext->done_cycle = route(t_.memory_node, ext->src, mext->done_cycle, ext->flits, ext->layer, &ext->hops);
    end_request(trans, ext->done_cycle);
  } else {
    ext->done_cycle = mext->done_cycle;
    last_done_ = std::max(last_done_, ext->done_cycle);
    peq_.notify(trans, tlm::BEGIN_RESP, delay_until(t_, ext->done_cycle));
  }
}

std::string Noc::credit_wait(int src) const {
  for (const Waiting& w : waiting_) {
    const NocExtension* ext = w.trans->get_extension<NocExtension>();
    if (ext->src != src) continue;
    const Mailbox& box = *mailboxes_[static_cast<size_t>(ext->dst)];
    return "core " + std::to_string(ext->dst) + "'s receive channel from core " + std::to_string(src) +
           " holds " + std::to_string(box.used(src)) + " of " + std::to_string(box.channel_bytes()) +
           " bytes";
  }
  return "";
}

}  // namespace cimsim
