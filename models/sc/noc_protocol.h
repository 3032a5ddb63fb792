// What travels with a tlm_generic_payload between a core's NIC, the NoC and global memory.
//
// Contract: the payload's data pointer carries the real bytes (a send's source bytes in the
// sender's buffer, a load's destination in the loader's buffer); the extension carries the
// routing fields and the analytic times. Initiators synchronize SystemC time to the
// operation's NIC start before calling b_transport, so reservations are made in time order;
// `start_cycle` may lie a few cycles after now (a send injects after its buffer read-out).
// The target fills `done_cycle` and sets the delay annotation to done - now.
#pragma once

#include <cstdint>

#include <tlm>

namespace cimsim {

struct NocExtension : tlm::tlm_extension<NocExtension> {
  enum class Kind : uint8_t { kMessage, kLoad, kStore };
  Kind kind = Kind::kMessage;
  int src = 0;              // initiating core
  int dst = 0;              // kMessage: destination core
  int tag = 0;              // kMessage: matched by recv together with src
  uint16_t layer = 0;       // for traces
  uint64_t start_cycle = 0; // kMessage/kStore: injection; kLoad: request reaches memory port
  // out: kMessage: tail reaches the destination NIC; kLoad: tail of the data reaches the
  // loading NIC; kStore: the bytes are written in memory.
  uint64_t done_cycle = 0;
  uint64_t hops = 0;        // out: router-to-router hops of the data packet
  uint64_t flits = 0;       // out: flits of the data packet

  tlm::tlm_extension_base* clone() const override { return new NocExtension(*this); }
  void copy_from(const tlm::tlm_extension_base& other) override {
    *this = static_cast<const NocExtension&>(other);
  }
};

}  // namespace cimsim
