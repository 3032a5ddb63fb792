// Global memory: a TLM-2.0 target behind the NoC node memory.attach_core.
//
// Contract: b_transport reads/writes the payload's bytes at its address, reserves the
// memory port first-come-first-served (busy ceil(len / bytes_per_cycle) cycles from
// max(request, port free)) and reports done = port start + latency + transfer in the
// NocExtension. Accesses outside [0, capacity) get TLM_ADDRESS_ERROR_RESPONSE and change
// nothing. Storage is allocated in 64 KiB pages on first write (unwritten bytes read as
// zero), so a 1 GiB capacity costs nothing until used. get_direct_mem_ptr grants DMI to the
// page holding the address; write()/read() are the host-side (platform) access and throw
// InputError outside the capacity.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "models/sc/timing_params.h"
#include "traces/observer.h"

namespace cimsim {

class GlobalMemory : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<GlobalMemory> socket;

  GlobalMemory(sc_core::sc_module_name name, int64_t capacity_bytes, const TimingParams& timing,
               Observer* observer);

  void write(uint64_t addr, const uint8_t* data, size_t len);
  void read(uint64_t addr, uint8_t* data, size_t len) const;
  int64_t capacity() const { return capacity_; }

  uint64_t bytes_moved() const { return bytes_moved_; }
  uint64_t busy_cycles() const { return busy_cycles_; }

 private:
  static constexpr uint64_t kPageBytes = 64 * 1024;
  bool in_range(uint64_t addr, uint64_t len) const;
  uint8_t* page(uint64_t index);  // allocates
  void copy_in(uint64_t addr, const uint8_t* data, size_t len);
  void copy_out(uint64_t addr, uint8_t* data, size_t len) const;
  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  bool get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi);

  int64_t capacity_;
  const TimingParams& t_;
  Observer* observer_;
  std::map<uint64_t, std::unique_ptr<uint8_t[]>> pages_;  // sparse: any capacity costs nothing
  uint64_t port_free_ = 0;
  uint64_t bytes_moved_ = 0;
  uint64_t busy_cycles_ = 0;
};

}  // namespace cimsim
