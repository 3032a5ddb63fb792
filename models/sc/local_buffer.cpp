#include "models/sc/local_buffer.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <new>

namespace cimsim {

LocalBuffer::LocalBuffer(sc_core::sc_module_name name, int64_t capacity_bytes)
    : sc_core::sc_module(name), socket("socket") {
  size_ = static_cast<size_t>(capacity_bytes > 0 ? capacity_bytes : 0);
  if (size_ > 0) {
    void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
      mem_ = static_cast<uint8_t*>(p);
      mapped_ = true;
    } else {
      mem_ = static_cast<uint8_t*>(std::calloc(size_, 1));
      if (!mem_) throw std::bad_alloc();
    }
  }
  socket.register_b_transport(this, &LocalBuffer::b_transport);
  socket.register_get_direct_mem_ptr(this, &LocalBuffer::get_direct_mem_ptr);
}

LocalBuffer::~LocalBuffer() {
  if (mapped_)
    munmap(mem_, size_);
  else
    std::free(mem_);
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
    std::memcpy(mem_ + addr, trans.get_data_ptr(), len);
  } else if (trans.is_read()) {
    std::memcpy(trans.get_data_ptr(), mem_ + addr, len);
  }
  trans.set_dmi_allowed(true);
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

bool LocalBuffer::get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi) {
  (void)trans;
  if (size_ == 0) return false;
  dmi.set_dmi_ptr(mem_);
  dmi.set_start_address(0);
  dmi.set_end_address(size_ - 1);
  dmi.allow_read_write();
  return true;
}

}  // namespace cimsim
