// The mesh network-on-chip: XY routing, per-link first-come-first-served reservations,
// head latency and serialization, delivery of messages to the destination core's mailbox,
// and the path to global memory (docs/timing.md, "NoC").
//
// Contract: cores bind their NIC initiator sockets to `target` (socket id = core index, in
// binding order); `memory_socket` is bound to GlobalMemory. b_transport is loosely timed: it
// reserves every link on the path analytically (links keep a next-free cycle; packets
// reserve in call order), annotates the delay to done_cycle and returns at once. A message
// is copied out of the payload into the destination Mailbox immediately (its arrival cycle
// travels with it) and the mailbox's event is notified.
#pragma once

#include <cstdint>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/simple_initiator_socket.h>

#include "models/sc/mailbox.h"
#include "models/sc/timing_params.h"
#include "traces/observer.h"

namespace cimsim {

class Noc : public sc_core::sc_module {
 public:
  tlm_utils::multi_passthrough_target_socket<Noc> target;
  tlm_utils::simple_initiator_socket<Noc> memory_socket;

  Noc(sc_core::sc_module_name name, const TimingParams& timing, std::vector<Mailbox*> mailboxes,
      Observer* observer);

  // Reserves the XY path src -> dst for a packet of `flits` injected at `inject_cycle`;
  // returns the cycle its tail reaches dst's NIC. Links include each router's ejection port.
  uint64_t route(int src, int dst, uint64_t inject_cycle, uint64_t flits, uint16_t layer,
                 uint64_t* hops);
  static int hop_count(int src, int dst, int mesh_cols);

  uint64_t flit_hops() const { return flit_hops_; }
  uint64_t last_done_cycle() const { return last_done_; }

 private:
  void b_transport(int id, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);

  enum Dir { kEast = 0, kWest = 1, kNorth = 2, kSouth = 3, kLocal = 4 };
  const TimingParams& t_;
  std::vector<Mailbox*> mailboxes_;
  Observer* observer_;
  std::vector<uint64_t> link_free_;  // [node * 5 + dir]: next cycle the link can take a head
  uint64_t flit_hops_ = 0;
  uint64_t last_done_ = 0;
};

}  // namespace cimsim
