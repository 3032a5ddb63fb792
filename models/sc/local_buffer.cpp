#include "models/sc/local_buffer.h"

#include <cstring>
#include <new>

namespace cimsim {

LocalBuffer::LocalBuffer(sc_core::sc_module_name name, int64_t capacity_bytes)
    : sc_core::sc_module(name), socket("socket") {
  size_ = static_cast<size_t>(capacity_bytes > 0 ? capacity_bytes : 0);
  if (size_ > 0) {
    mem_.reset(static_cast<uint8_t*>(std::calloc(size_, 1)));
    if (!mem_) throw std::bad_alloc();
  }
  socket.register_b_transport(this, &LocalBuffer::b_transport);
  socket.register_get_direct_mem_ptr(this, &LocalBuffer::get_direct_mem_ptr);
}

void LocalBuffer::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  (void)delay;
  const uint64_t addr = trans.get_address();
  const uint64_t len = trans.get_data_length();
  if (addr > size_ || len > size_ - addr) {
    trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  if (trans.is_write()) {
    std::memcpy(mem_.get() + addr, trans.get_data_ptr(), len);
  } else if (trans.is_read()) {
    std::memcpy(trans.get_data_ptr(), mem_.get() + addr, len);
  }
  trans.set_dmi_allowed(true);
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

bool LocalBuffer::get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi) {
  (void)trans;
  if (size_ == 0) return false;
  dmi.set_dmi_ptr(mem_.get());
  dmi.set_start_address(0);
  dmi.set_end_address(size_ - 1);
  dmi.allow_read_write();
  return true;
}

}  // namespace cimsim
