#include "models/sc/global_memory.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "models/sc/noc_protocol.h"
#include "models/sc/sim_time.h"
#include "platform/spec/arch.h"

namespace cimsim {

GlobalMemory::GlobalMemory(sc_core::sc_module_name name, int64_t capacity_bytes,
                           const TimingParams& timing, Observer* observer)
    : sc_core::sc_module(name), socket("socket"), capacity_(capacity_bytes), t_(timing),
      observer_(observer), peq_(this, &GlobalMemory::on_peq) {
  socket.register_nb_transport_fw(this, &GlobalMemory::nb_transport_fw);
  socket.register_transport_dbg(this, &GlobalMemory::transport_dbg);
  socket.register_get_direct_mem_ptr(this, &GlobalMemory::get_direct_mem_ptr);
  SC_METHOD(retry);
  sensitive << retry_;
  dont_initialize();
}

bool GlobalMemory::in_range(uint64_t addr, uint64_t len) const {
  return addr <= static_cast<uint64_t>(capacity_) && len <= static_cast<uint64_t>(capacity_) - addr;
}

uint8_t* GlobalMemory::page(uint64_t index) {
  auto& p = pages_[index];
  if (!p) {
    p.reset(new uint8_t[kPageBytes]);
    std::memset(p.get(), 0, kPageBytes);
  }
  return p.get();
}

void GlobalMemory::copy_in(uint64_t addr, const uint8_t* data, size_t len) {
  while (len > 0) {
    uint64_t off = addr % kPageBytes;
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, kPageBytes - off));
    std::memcpy(page(addr / kPageBytes) + off, data, n);
    addr += n;
    data += n;
    len -= n;
  }
}

void GlobalMemory::copy_out(uint64_t addr, uint8_t* data, size_t len) const {
  while (len > 0) {
    uint64_t off = addr % kPageBytes;
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, kPageBytes - off));
    auto it = pages_.find(addr / kPageBytes);
    if (it != pages_.end()) {
      std::memcpy(data, it->second.get() + off, n);
    } else {
      std::memset(data, 0, n);
    }
    addr += n;
    data += n;
    len -= n;
  }
}

void GlobalMemory::write(uint64_t addr, const uint8_t* data, size_t len) {
  if (!in_range(addr, len))
    throw InputError("global memory: write of " + std::to_string(len) + " bytes at " +
                     std::to_string(addr) + " exceeds capacity " + std::to_string(capacity_));
  copy_in(addr, data, len);
}

void GlobalMemory::read(uint64_t addr, uint8_t* data, size_t len) const {
  if (!in_range(addr, len))
    throw InputError("global memory: read of " + std::to_string(len) + " bytes at " +
                     std::to_string(addr) + " exceeds capacity " + std::to_string(capacity_));
  copy_out(addr, data, len);
}

tlm::tlm_sync_enum GlobalMemory::nb_transport_fw(tlm::tlm_generic_payload& trans,
                                                  tlm::tlm_phase& phase, sc_core::sc_time& delay) {
  if (phase != tlm::BEGIN_REQ) return tlm::TLM_COMPLETED;  // END_RESP
  if (!in_range(trans.get_address(), trans.get_data_length())) {
    trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return tlm::TLM_COMPLETED;
  }
  if (!trans.is_read() && !trans.is_write()) {
    trans.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
    return tlm::TLM_COMPLETED;
  }
  peq_.notify(trans, phase, delay);
  return tlm::TLM_ACCEPTED;
}

unsigned GlobalMemory::transport_dbg(tlm::tlm_generic_payload& trans) {
  const uint64_t addr = trans.get_address();
  const size_t len = trans.get_data_length();
  if (!in_range(addr, len)) {
    trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return 0;
  }
  if (trans.is_write()) {
    copy_in(addr, trans.get_data_ptr(), len);
  } else if (trans.is_read()) {
    copy_out(addr, trans.get_data_ptr(), len);
  }
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
  return static_cast<unsigned>(len);
}

bool GlobalMemory::queue_full(uint64_t now) {
  while (!held_.empty() && held_.top() <= now) held_.pop();
  return held_.size() >= static_cast<size_t>(std::max(1, t_.memory_queue_depth));
}

void GlobalMemory::on_peq(tlm::tlm_generic_payload& trans, const tlm::tlm_phase& phase) {
  if (phase == tlm::BEGIN_RESP) {
    tlm::tlm_phase p = tlm::BEGIN_RESP;
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    socket->nb_transport_bw(trans, p, d);
    return;
  }
  const uint64_t now = current_cycle(t_);
  if (!queue_full(now)) {
    accept(trans, now);
    tlm::tlm_phase p = tlm::END_REQ;
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    socket->nb_transport_bw(trans, p, d);
    return;
  }
  waiting_ = &trans;  // the initiator sends no other request before END_REQ
  retry_.notify(delay_until(t_, held_.top()));
}

void GlobalMemory::retry() {
  if (!waiting_) return;
  const uint64_t now = current_cycle(t_);
  if (queue_full(now)) {
    retry_.notify(delay_until(t_, held_.top()));
    return;
  }
  tlm::tlm_generic_payload& trans = *waiting_;
  waiting_ = nullptr;
  accept(trans, now);
  tlm::tlm_phase p = tlm::END_REQ;
  sc_core::sc_time d = sc_core::SC_ZERO_TIME;
  socket->nb_transport_bw(trans, p, d);
}

void GlobalMemory::accept(tlm::tlm_generic_payload& trans, uint64_t now) {
  const size_t len = trans.get_data_length();
  if (trans.is_read()) copy_out(trans.get_address(), trans.get_data_ptr(), len);
  NocExtension* ext = trans.get_extension<NocExtension>();
  const uint64_t start = std::max(now, port_free_);
  const uint64_t xfer = t_.memory_transfer_cycles(static_cast<int64_t>(len));
  port_free_ = start + xfer;
  busy_cycles_ += xfer;
  bytes_moved_ += len;
  const uint64_t done = start + t_.memory_latency + xfer;
  held_.push(done);
  if (ext) ext->done_cycle = done;
  if (observer_) {
    SimEvent e;
    e.core = -1;
    e.unit = Unit::kMemory;
    e.layer = ext ? ext->layer : 0;
    e.action = trans.is_write() ? "write" : "read";
    e.start_ps = t_.to_ps(start);
    e.duration_ps = t_.to_ps(done) - e.start_ps;
    observer_->on_event(e);
  }
  trans.set_dmi_allowed(true);
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
  peq_.notify(trans, tlm::BEGIN_RESP, delay_until(t_, done));
}

bool GlobalMemory::get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi) {
  const uint64_t addr = trans.get_address();
  if (!in_range(addr, 1)) return false;
  uint64_t index = addr / kPageBytes;
  uint64_t first = index * kPageBytes;
  uint64_t last = std::min<uint64_t>(first + kPageBytes, static_cast<uint64_t>(capacity_)) - 1;
  dmi.set_dmi_ptr(page(index));
  dmi.set_start_address(first);
  dmi.set_end_address(last);
  dmi.allow_read_write();
  dmi.set_read_latency(sc_core::sc_time(static_cast<double>(t_.to_ps(t_.memory_latency)), sc_core::SC_PS));
  dmi.set_write_latency(dmi.get_read_latency());
  return true;
}

}  // namespace cimsim
