// The mesh network-on-chip: XY routing, per-link first-come-first-served reservations,
// head latency and serialization, end-to-end credit flow control into the destination's
// receive buffer, and the path to global memory (docs/timing.md, "NoC" and "Back-pressure").
//
// Contract
//  - Cores bind their NIC initiator sockets to `target` (socket id = core index, in binding
//    order) and speak the approximately-timed base protocol of noc_protocol.h to it:
//    BEGIN_REQ goes into a payload event queue and is handled at its annotated time.
//  - A message is admitted at the first cycle its destination's receive channel from the
//    sender has room (Mailbox credits); admission reserves every link on the XY path from
//    that cycle (links keep a next-free cycle; packets reserve in admission order), copies
//    the bytes into the destination Mailbox with the tail's arrival cycle, and answers
//    END_REQ; BEGIN_RESP follows at the arrival cycle. A sender whose channel is full gets
//    no END_REQ until a recv at the destination returns enough credits: its NIC stalls.
//  - Loads and stores go to GlobalMemory through `memory_socket`, approximately timed too,
//    with the NoC's own payloads, one request at a time (requests wait in arrival order
//    while memory withholds END_REQ because its queue is full). A load's request goes to
//    memory at the NIC's request cycle (it is not modelled as a packet); once memory accepts
//    it, the data packet is routed back from the data-ready cycle and the NIC gets END_REQ
//    (done_cycle = tail arrival), BEGIN_RESP at that arrival. A store is posted: its bytes
//    are written functionally (transport_dbg) and its packet routed to the memory node at
//    injection, and the NIC gets END_REQ at once; the timed write is offered to memory when
//    the tail arrives there, and the NIC's BEGIN_RESP comes when it is written.
//  - `memory_socket` is bound to GlobalMemory.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/peq_with_cb_and_phase.h>
#include <tlm_utils/simple_initiator_socket.h>

#include "models/sc/mailbox.h"
#include "models/sc/noc_protocol.h"
#include "models/sc/timing_params.h"
#include "traces/observer.h"

namespace cimsim {

class Noc : public sc_core::sc_module {
 public:
  tlm_utils::multi_passthrough_target_socket<Noc> target;
  tlm_utils::simple_initiator_socket<Noc> memory_socket;

  SC_HAS_PROCESS(Noc);
  Noc(sc_core::sc_module_name name, const TimingParams& timing, std::vector<Mailbox*> mailboxes,
      Observer* observer);

  // Reserves the XY path src -> dst for a packet of `flits` injected at `inject_cycle`;
  // returns the cycle its tail reaches dst's NIC. Links include each router's ejection port.
  uint64_t route(int src, int dst, uint64_t inject_cycle, uint64_t flits, uint16_t layer,
                 uint64_t* hops);
  static int hop_count(int src, int dst, int mesh_cols);

  uint64_t flit_hops() const { return flit_hops_; }
  uint64_t last_done_cycle() const { return last_done_; }
  // Cycles messages waited for credits between their request and their admission, summed.
  uint64_t credit_stall_cycles() const { return credit_stall_cycles_; }
  // Cycles memory requests waited between reaching the memory node and being accepted
  // (behind earlier requests, for a free queue entry), summed.
  uint64_t memory_wait_cycles() const { return memory_wait_cycles_; }
  // For a core whose send waits for credits: "core 7's receive channel from core 3 holds
  // 16384 of 16384 bytes"; empty when the core has no message waiting.
  std::string credit_wait(int src) const;

 private:
  struct Waiting {
    tlm::tlm_generic_payload* trans;
    uint64_t requested_cycle;
  };
  tlm::tlm_sync_enum nb_transport_fw(int id, tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay);
  void on_peq(tlm::tlm_generic_payload& trans, const tlm::tlm_phase& phase);
  void begin_request(tlm::tlm_generic_payload& trans);
  void admit(tlm::tlm_generic_payload& trans, uint64_t now);
  void memory_access(tlm::tlm_generic_payload& trans);
  void pump_memory();  // offers the oldest queued request to memory when none is pending
  void memory_accepted(tlm::tlm_generic_payload& mem);
  tlm::tlm_sync_enum memory_bw(tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                               sc_core::sc_time& delay);
  void end_request(tlm::tlm_generic_payload& trans, uint64_t done_cycle);
  void retry_waiting();  // SC_METHOD on retry_
  void retry_at(uint64_t cycle);

  enum Dir { kEast = 0, kWest = 1, kNorth = 2, kSouth = 3, kLocal = 4 };
  const TimingParams& t_;
  std::vector<Mailbox*> mailboxes_;
  Observer* observer_;
  tlm_utils::peq_with_cb_and_phase<Noc> peq_;
  sc_core::sc_event retry_;
  std::vector<Waiting> waiting_;     // messages without credits, in request order
  PayloadPool memory_pool_;          // the NoC's requests to global memory
  tlm::tlm_generic_payload debug_payload_;  // stores' functional writes (one at a time)
  std::deque<tlm::tlm_generic_payload*> memory_queue_;  // ready for memory, in arrival order
  tlm::tlm_generic_payload* memory_pending_ = nullptr;   // offered, END_REQ not yet received
  std::vector<uint64_t> link_free_;  // [node * 5 + dir]: next cycle the link can take a head
  uint64_t flit_hops_ = 0;
  uint64_t last_done_ = 0;
  uint64_t credit_stall_cycles_ = 0;
  uint64_t memory_wait_cycles_ = 0;
};

}  // namespace cimsim
