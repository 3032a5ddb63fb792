// Global memory: a TLM-2.0 target behind the NoC node memory.attach_core (docs/timing.md,
// "Global memory").
//
// Contract
//  - Approximately timed (nb_transport_fw, base protocol phases, one request at a time per
//    the request exclusion rule): BEGIN_REQ is handled at its annotated time. The controller
//    holds at most memory.queue_depth requests (accepted, not yet done); a request that
//    finds it full is accepted (END_REQ on the backward path) when the earliest held request
//    is done. Accepting reserves the port first-come-first-served: busy
//    X = ceil(len / bytes_per_cycle) cycles from p = max(accept, port free); done = p + latency
//    + X is written to the NocExtension's done_cycle, and BEGIN_RESP follows at done.
//  - Values: a read copies the bytes into the payload at acceptance. A write's bytes are
//    applied functionally by transport_dbg when the NoC injects the store (so values follow
//    causal order however long the request waits); the timed write carries no side effect.
//  - Accesses outside [0, capacity) get TLM_ADDRESS_ERROR_RESPONSE (nb_transport_fw returns
//    TLM_COMPLETED at once) and change nothing; transport_dbg returns 0 for them.
//  - Storage is allocated in 64 KiB pages on first write (unwritten bytes read as zero), so a
//    1 GiB capacity costs nothing until used. get_direct_mem_ptr grants DMI to the page
//    holding the address; write()/read() are the host-side (platform) access and throw
//    InputError outside the capacity.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <queue>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/peq_with_cb_and_phase.h>
#include <tlm_utils/simple_target_socket.h>

#include "models/sc/timing_params.h"
#include "traces/observer.h"

namespace cimsim {

class GlobalMemory : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<GlobalMemory> socket;

  SC_HAS_PROCESS(GlobalMemory);
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
  tlm::tlm_sync_enum nb_transport_fw(tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay);
  unsigned transport_dbg(tlm::tlm_generic_payload& trans);
  void on_peq(tlm::tlm_generic_payload& trans, const tlm::tlm_phase& phase);
  bool queue_full(uint64_t now);
  void accept(tlm::tlm_generic_payload& trans, uint64_t now);
  void retry();  // SC_METHOD on retry_: accepts the waiting request once an entry frees
  bool get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi);

  int64_t capacity_;
  const TimingParams& t_;
  Observer* observer_;
  std::map<uint64_t, std::unique_ptr<uint8_t[]>> pages_;  // sparse: any capacity costs nothing
  tlm_utils::peq_with_cb_and_phase<GlobalMemory> peq_;
  sc_core::sc_event retry_;
  tlm::tlm_generic_payload* waiting_ = nullptr;  // the request that found the queue full
  std::priority_queue<uint64_t, std::vector<uint64_t>, std::greater<uint64_t>> held_;  // done cycles
  uint64_t port_free_ = 0;
  uint64_t bytes_moved_ = 0;
  uint64_t busy_cycles_ = 0;
};

}  // namespace cimsim
