#include "models/sc/global_memory.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "models/sc/noc_protocol.h"
#include "platform/spec/arch.h"

namespace cimsim {

GlobalMemory::GlobalMemory(sc_core::sc_module_name name, int64_t capacity_bytes,
                           const TimingParams& timing, Observer* observer)
    : sc_core::sc_module(name), socket("socket"), capacity_(capacity_bytes), t_(timing),
      observer_(observer) {
  socket.register_b_transport(this, &GlobalMemory::b_transport);
  socket.register_get_direct_mem_ptr(this, &GlobalMemory::get_direct_mem_ptr);
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

void GlobalMemory::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  const uint64_t addr = trans.get_address();
  const size_t len = trans.get_data_length();
  if (!in_range(addr, len)) {
    trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  if (trans.is_write()) {
    copy_in(addr, trans.get_data_ptr(), len);
  } else if (trans.is_read()) {
    copy_out(addr, trans.get_data_ptr(), len);
  } else {
    trans.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
    return;
  }
  NocExtension* ext = nullptr;
  trans.get_extension(ext);
  uint64_t request = ext ? ext->start_cycle : 0;
  uint64_t start = std::max(request, port_free_);
  uint64_t xfer = t_.memory_transfer_cycles(static_cast<int64_t>(len));
  port_free_ = start + xfer;
  busy_cycles_ += xfer;
  bytes_moved_ += len;
  uint64_t done = start + t_.memory_latency + xfer;
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
  delay += sc_core::sc_time(static_cast<double>(t_.to_ps(done) - t_.to_ps(request)), sc_core::SC_PS);
  trans.set_dmi_allowed(true);
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
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
