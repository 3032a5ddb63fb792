// A core's local buffer (ISAAC: eDRAM): a TLM-2.0 target with DMI over its whole range.
//
// Contract: the core's units use the DMI pointer (no transaction per access) and check
// ranges themselves; b_transport is for other initiators (debug, platform) and answers
// TLM_ADDRESS_ERROR_RESPONSE outside [0, capacity). Timing is the core's scoreboard's job
// (docs/timing.md), so no latency is annotated here.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

namespace cimsim {

class LocalBuffer : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<LocalBuffer> socket;

  LocalBuffer(sc_core::sc_module_name name, int64_t capacity_bytes);
  int64_t capacity() const { return static_cast<int64_t>(size_); }
  uint8_t* data() { return mem_.get(); }

 private:
  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  bool get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi);
  // calloc'd, not a zero-filled vector: fresh zero pages are only touched when a core uses
  // them (168 x 64 KB on ISAAC, most of it idle on small networks).
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t[], Free> mem_;
  size_t size_ = 0;
};

}  // namespace cimsim
